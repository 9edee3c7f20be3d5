#!/bin/bash
# nsgate benchmarks against its peers, measured in one run, alternating
# (round-robin, the order rotated every round), quoted as ratios of medians.
# See docs/benchmarks.md for the figures, the targets and the latest results.
#
#   sudo tests/bench/run.sh [--quick] [--runs N] [--mb MB] [--big-mb MB]
#                           [--conc-mb MB] [--echo N] [--only LIST]
#                           [--out FILE] [--strict]
#
#   --only   comma-separated subset of: tty,pipe,startup,verify,memory,echo,concurrency,
#            commands,cmdsearch,storage
#   --quick  small sizes (10 MB files, 64 MB memory session, 2 runs) to debug
#   --strict exit 1 when a figure misses its target (ctest's bench.b_all)
#
# Root; a real target made with unshare; the recorders' own terminal is an
# outer `script -q -c '…' /dev/null` (the operator's terminal). Installs the
# Debian packages of the peers when missing (sudo, tlog, asciinema,
# hyperfine). Removes everything it creates: the target (by PID), its
# temporary directory, the sudoers drop-in, /run/utmp if it made it.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NSGATE=${NSGATE:-$ROOT/build/rel/nsgate}
RUNS=5 MB=100 BIG_MB=1024 CONC_MB=10 CONC_N=16 ECHO_N=400 ONLY=all OUT="" STRICT=0
EXECS=2000 SEARCH_SESSIONS=10000 SEARCH_CMDS=100
ARGS="$*" CORPUS=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) RUNS=2 MB=10 BIG_MB=64 CONC_MB=2 ECHO_N=100 EXECS=200 SEARCH_SESSIONS=1000 ;;
    --corpus) CORPUS=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --mb) MB=$2; shift ;;
    --big-mb) BIG_MB=$2; shift ;;
    --conc-mb) CONC_MB=$2; shift ;;
    --echo) ECHO_N=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --out) OUT=$2; shift ;;
    --strict) STRICT=1 ;;
    *) echo "usage: see the head of $0" >&2; exit 64 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 77; }
[ -x "$NSGATE" ] || { echo "run.sh: no nsgate at $NSGATE (build first, or set NSGATE)" >&2; exit 1; }
want() { [ "$ONLY" = all ] || case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
log() { echo "[bench $(date +%T)] $*" >&2; }

# ---- peers (Debian packages), installed only when missing -------------------
missing=""
command -v sudo >/dev/null || missing="$missing sudo"
command -v tlog-rec >/dev/null || missing="$missing tlog"
command -v asciinema >/dev/null || missing="$missing asciinema"
command -v hyperfine >/dev/null || missing="$missing hyperfine"
for t in script nsenter b2sum jq cc; do command -v $t >/dev/null || { echo "run.sh: $t is required" >&2; exit 1; }; done
if [ -n "$missing" ]; then
    log "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null; } ||
        { echo "run.sh: could not install$missing" >&2; exit 1; }
fi

# ---- workspace, target, policy, keys ----------------------------------------
T=$(mktemp -d /tmp/nsgate-bench.XXXXXX)
chmod 755 "$T"
TARGETS="" SUDOERS="" MADE_UTMP=""
cleanup() {
    for p in $TARGETS; do kill -KILL "$p" 2>/dev/null; done
    for p in $TARGETS; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
    [ -n "$SUDOERS" ] && rm -f "$SUDOERS"
    [ -n "$MADE_UTMP" ] && rm -f /run/utmp
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -m 755 "$T/etc"
cat >"$T/etc/policy.ini" <<'POLICY'
[defaults]
audit = best-effort

[allow root-bench]
users = root
targets = *
namespaces = all
host_access = yes
POLICY
chmod 644 "$T/etc/policy.ini"
mkdir -m 700 "$T/var"
"$NSGATE" keygen --keys "$T/var/keys" >"$T/root.key" 2>/dev/null || { echo "run.sh: keygen failed" >&2; exit 1; }

unshare --fork --pid --mount-proc --net --uts --ipc sh -c 'exec sleep 3600' </dev/null >/dev/null 2>&1 &
UP=$!
disown "$UP" 2>/dev/null
TARGETS="$UP"
TP=""
for _ in $(seq 1 200); do
    TP=$(awk '{print $1}' /proc/$UP/task/$UP/children 2>/dev/null)
    [ -n "$TP" ] && [ "$(cat /proc/$TP/comm 2>/dev/null)" = sleep ] && break
    sleep 0.02
done
[ -n "$TP" ] || { echo "run.sh: target did not start" >&2; exit 1; }
TARGETS="$TP $UP"

# nsgate enter with database DB (a path under $T/var), net namespace only.
ng() { local db=$1; shift; "$NSGATE" enter -q --policy "$T/etc/policy.ini" --db "$db" --keys "$T/var/keys" -t "$TP" -n "$@"; }
rmdb() { rm -rf "$1" "$1"-wal "$1"-shm "$1"-journal "$1"-live; }
export -f ng rmdb
export NSGATE T TP
export TERM=xterm

cc -O2 -o "$T/echolat" "$ROOT/tests/bench/echolat.c" || exit 1
cc -O2 -static -o "$T/t2p" "$ROOT/tests/bench/t2p.c" || exit 1

# ---- measuring ----------------------------------------------------------------
# timed NAME CMD: run CMD (a bash string) once, append its wall time (s) to
# $T/t.NAME; a failed run is recorded in $T/failed.
timed() {
    local name=$1 cmd=$2 s e
    s=$EPOCHREALTIME
    bash -c "$cmd" </dev/null >/dev/null 2>>"$T/stderr.$name" || echo "$name" >>"$T/failed"
    e=$EPOCHREALTIME
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.6f\n", e - s }' >>"$T/t.$name"
}
median() { sort -g "$1" | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pct() { sort -g "$1" | awk -v p="$2" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print a[i] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# alternate ROUNDS NAME1 CMD1 NAME2 CMD2 ...: ROUNDS rounds, each running every
# contender once, the starting contender rotated each round; AFTER (if set)
# runs after every single measurement (not timed: deletes logs).
alternate() {
    local rounds=$1; shift
    local names=() cmds=() n r i k
    while [ $# -gt 0 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
    n=${#names[@]}
    for r in $(seq 0 $((rounds - 1))); do
        for i in $(seq 0 $((n - 1))); do
            k=$(((i + r) % n))
            timed "${names[$k]}" "${cmds[$k]}"
            [ -n "${AFTER:-}" ] && bash -c "$AFTER" >/dev/null 2>&1
        done
        log "  round $((r + 1))/$rounds done"
    done
}
fmt_s() { awk -v a="$1" 'BEGIN { if (a < 0.1) printf "%.1f ms", a * 1000; else printf "%.3f s", a }'; }

ROWS="$T/rows.md"
MISSES=0
row() { # FIGURE WORKLOAD NSGATE PEER PEERVALUE RATIO TARGET MET
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@" >>"$ROWS"
    [ "$8" = yes ] || MISSES=$((MISSES + 1))
}
failed() { [ -f "$T/failed" ] && grep -qx "$1" "$T/failed"; }

mkfile() { # NAME MB: base64 text of MB megabytes
    [ -f "$T/$1" ] || head -c $(($2 * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 >"$T/$1"
}

# ---- terminal-mode throughput --------------------------------------------------
if want tty; then
    log "terminal mode: cat of ${MB} MB under an outer script, $RUNS rounds"
    mkfile text "$MB"
    if [ ! -e /run/utmp ]; then # tlog-rec refuses to start when utempter cannot add a record
        touch /run/utmp && chgrp utmp /run/utmp 2>/dev/null; chmod 664 /run/utmp; MADE_UTMP=1
    fi
    SUDOERS=/etc/sudoers.d/zz-nsgate-bench-$$
    printf 'Defaults log_output\nDefaults iolog_dir=%s/sudo-io\nDefaults iolog_file=%%{seq}\n' "$T" >"$SUDOERS.tmp"
    chmod 440 "$SUDOERS.tmp"
    visudo -cqf "$SUDOERS.tmp" && mv "$SUDOERS.tmp" "$SUDOERS" || { rm -f "$SUDOERS.tmp"; SUDOERS=""; echo "run.sh: sudoers drop-in rejected" >&2; exit 1; }
    F=$T/text
    export F
    AFTER='[ -e $T/var/tty.db ] && du -sbc $T/var/tty.db $T/var/tty.db-wal $T/var/tty.db-shm 2>/dev/null | tail -1 | sed "s/total/nsgate/" >>$T/sizes.tty; du -sb $T/script.log $T/sudo-io $T/tlog.log $T/rec.cast >>$T/sizes.tty 2>/dev/null; rmdb $T/var/tty.db; rm -rf $T/script.log $T/sudo-io $T/tlog.log $T/rec.cast' \
        alternate "$RUNS" \
        tty.nsgate "script -q -c \"\$NSGATE enter -q --policy \$T/etc/policy.ini --db \$T/var/tty.db --keys \$T/var/keys -t \$TP -n --pty -- /bin/cat \$F\" /dev/null" \
        tty.script "script -q -c \"script -q -c 'cat \$F' \$T/script.log\" /dev/null" \
        tty.sudo "script -q -c \"sudo /bin/cat \$F\" /dev/null" \
        tty.tlog "script -q -c \"tlog-rec --writer=file -o \$T/tlog.log /bin/cat \$F\" /dev/null" \
        tty.asciinema "script -q -c \"asciinema rec -q --overwrite -c 'cat \$F' \$T/rec.cast\" /dev/null"
    rm -f "$SUDOERS"; SUDOERS=""
    [ -n "$MADE_UTMP" ] && { rm -f /run/utmp; MADE_UTMP=""; }
    a=$(median "$T/t.tty.nsgate")
    for p in script sudo tlog asciinema; do
        b=$(median "$T/t.tty.$p")
        r=$(ratio "$a" "$b")
        case $p in
        script) tgt="≤ 1.15 ×"; met=$(le "$r" 1.15 && echo yes || echo no) ;;
        *) tgt="(context)"; met=yes ;;
        esac
        failed tty.nsgate && met="no (nsgate run failed)"
        failed tty.$p && met="$met (peer run failed)"
        label=$p
        case $p in script) label='`script -q -c cat LOG`' ;; sudo) label='`sudo` iolog' ;; tlog) label='`tlog-rec --writer=file`' ;; asciinema) label='`asciinema rec`' ;; esac
        row "terminal throughput" "cat ${MB} MB base64, outer script" "$(fmt_s "$a")" "$label" "$(fmt_s "$b")" "$r" "$tgt" "$met"
    done
fi

# ---- pipe-mode throughput --------------------------------------------------------
if want pipe; then
    log "pipe mode: cat of ${MB} MB --no-pty vs b2sum, $RUNS rounds"
    mkfile text "$MB"
    F=$T/text
    export F
    AFTER='rmdb $T/var/pipe.db' alternate "$RUNS" \
        pipe.nsgate 'ng $T/var/pipe.db --no-pty -- /bin/cat $F' \
        pipe.b2sum 'b2sum $F'
    a=$(median "$T/t.pipe.nsgate") b=$(median "$T/t.pipe.b2sum") r=$(ratio "$a" "$b")
    met=$(le "$r" 2.5 && echo yes || echo no); failed pipe.nsgate && met="no (run failed)"
    row "pipe throughput" "cat ${MB} MB, --no-pty, >/dev/null" "$(fmt_s "$a")" '`b2sum FILE`' "$(fmt_s "$b")" "$r" "≤ 2.5 ×" "$met"
fi

# ---- start-up ----------------------------------------------------------------------
if want startup; then
    log "start-up: enter … /bin/true vs nsenter, hyperfine, 3 rounds"
    for r in 1 2 3; do
        A="$NSGATE enter -q --policy $T/etc/policy.ini --db $T/var/start.db --keys $T/var/keys -t $TP -n --no-pty -- /bin/true"
        B="nsenter -t $TP -n /bin/true"
        if [ $((r % 2)) = 1 ]; then set -- "$A" "$B"; else set -- "$B" "$A"; fi
        hyperfine -N --warmup 3 --runs $((RUNS * 6)) --export-json "$T/hf.$r.json" "$@" >/dev/null 2>>"$T/stderr.startup" ||
            echo startup.nsgate >>"$T/failed"
        jq -r --arg a "$A" '.results[] | select(.command == $a) | .times[]' "$T/hf.$r.json" >>"$T/t.start.nsgate"
        jq -r --arg b "$B" '.results[] | select(.command == $b) | .times[]' "$T/hf.$r.json" >>"$T/t.start.nsenter"
    done
    a=$(median "$T/t.start.nsgate") b=$(median "$T/t.start.nsenter") r=$(ratio "$a" "$b")
    met=$(le "$r" 3 && echo yes || echo no); failed startup.nsgate && met="no (run failed)"
    row "start-up" "enter -t PID -n --no-pty -- /bin/true (policy, record, seal), whole run" "$(fmt_s "$a")" '`nsenter -t PID -n /bin/true`' "$(fmt_s "$b")" "$r" "≤ 3 ×" "$met"
    # Time to program: from just before fork until a static program's first
    # instruction (it prints its clock), alternating, 3 rounds.
    log "start-up: time to program, 3 rounds × $((RUNS * 6)) runs each"
    t2p_one() {
        case $1 in
        nsgate) "$T/t2p" $((RUNS * 6)) "$T/t2p.nsgate" -- "$NSGATE" enter -q --policy "$T/etc/policy.ini" \
            --db "$T/var/start.db" --keys "$T/var/keys" -t "$TP" -n --no-pty -- "$T/t2p" --stamp ;;
        nsenter) "$T/t2p" $((RUNS * 6)) "$T/t2p.nsenter" -- nsenter -t "$TP" -n "$T/t2p" --stamp ;;
        esac 2>>"$T/stderr.startup" || echo startup.t2p >>"$T/failed"
    }
    for r in 1 2 3; do
        if [ $((r % 2)) = 1 ]; then t2p_one nsgate; t2p_one nsenter; else t2p_one nsenter; t2p_one nsgate; fi
    done
    awk '{ print $1 }' "$T/t2p.nsgate" >"$T/t2p.a"; awk '{ print $1 }' "$T/t2p.nsenter" >"$T/t2p.b"
    awk '{ print $2 }' "$T/t2p.nsgate" >"$T/t2p.c"
    a=$(median "$T/t2p.a") b=$(median "$T/t2p.b") c=$(median "$T/t2p.c")
    row "time to program" "the same, until the program's first instruction (whole run of these: $(fmt_s "$c"))" "$(fmt_s "$a")" 'nsenter, the same' "$(fmt_s "$b")" "$(ratio "$a" "$b")" "reported" "yes"
fi

# ---- verify --------------------------------------------------------------------------
if want verify; then
    log "verify: a ${MB} MB session vs b2sum of ${MB} MB, $RUNS rounds"
    mkfile text "$MB"
    F=$T/text
    export F
    rmdb "$T/var/verify.db"
    ng "$T/var/verify.db" --no-pty -- /bin/cat "$F" >/dev/null 2>>"$T/stderr.verify"
    SID=$("$NSGATE" sessions --db "$T/var/verify.db" --json 2>/dev/null | head -1 | jq -r .id)
    export SID
    "$NSGATE" verify --db "$T/var/verify.db" --key "$T/root.key" "$SID" 2>/dev/null | grep -q "^OK $SID" ||
        echo verify.nsgate >>"$T/failed"
    AFTER="" alternate $((RUNS * 2)) \
        verify.nsgate '"$NSGATE" verify --db $T/var/verify.db --key $T/root.key $SID' \
        verify.b2sum 'b2sum $F'
    a=$(median "$T/t.verify.nsgate") b=$(median "$T/t.verify.b2sum") r=$(ratio "$a" "$b")
    met=$(le "$r" 1.2 && echo yes || echo no); failed verify.nsgate && met="no (verify not OK)"
    row "verify" "verify one session of ${MB} MB output" "$(fmt_s "$a")" '`b2sum` of the same bytes' "$(fmt_s "$b")" "$r" "≤ 1.2 ×" "$met"
    rmdb "$T/var/verify.db"
fi

# ---- memory --------------------------------------------------------------------------
if want memory; then
    log "memory: peak RSS, ${BIG_MB} MB session vs 1 MB session, 2 rounds"
    rss() { # NAME BYTES
        /usr/bin/time -v -o "$T/time.$1" bash -c 'ng $T/var/mem.db --no-pty -- /usr/bin/head -c '"$2"' /dev/zero' \
            >/dev/null 2>>"$T/stderr.memory" || echo "memory.$1" >>"$T/failed"
        awk -F': ' '/Maximum resident set size/ { print $2 }' "$T/time.$1" >>"$T/rss.$1"
        rmdb "$T/var/mem.db"
    }
    for r in 1 2; do rss small $((1024 * 1024)); rss big $((BIG_MB * 1024 * 1024)); done
    # /usr/bin/time reports the largest process of the tree (the recorder).
    a=$(sort -n "$T/rss.big" | tail -1) b=$(sort -n "$T/rss.small" | tail -1)
    amib=$(awk -v k="$a" 'BEGIN { printf "%.1f", k / 1024 }') bmib=$(awk -v k="$b" 'BEGIN { printf "%.1f", k / 1024 }')
    d=$(awk -v a="$a" -v b="$b" 'BEGIN { d = (a - b) / 1024; printf "%+.2f", d }')
    met=$(awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a <= 16384 && b <= 16384 && d <= 1024) }' && echo yes || echo no)
    { failed memory.big || failed memory.small; } && met="no (run failed)"
    row "memory" "peak RSS, ${BIG_MB} MB session (--no-pty)" "$amib MiB" "the same, 1 MB session" "$bmib MiB" "Δ $d MiB" "≤ 16 MiB, Δ ≤ 1 MiB" "$met"
fi

# ---- keystroke echo ----------------------------------------------------------------------
if want echo; then
    log "keystroke echo: $ECHO_N bytes × 3 rounds per contender"
    for r in 1 2 3; do
        for c in nsgate script direct; do
            case $c in
            nsgate) cmd=("$NSGATE" enter -q --policy "$T/etc/policy.ini" --db "$T/var/echo.db" --keys "$T/var/keys" -t "$TP" -n --pty -- /bin/cat) ;;
            script) cmd=(script -q -c /bin/cat "$T/echo.script.log") ;;
            direct) cmd=(/bin/cat) ;;
            esac
            "$T/echolat" "$ECHO_N" "$T/lat.$c.$r" -- "${cmd[@]}" 2>>"$T/stderr.echo" || echo "echo.$c" >>"$T/failed"
            cat "$T/lat.$c.$r" >>"$T/lat.$c"
        done
        rmdb "$T/var/echo.db"
    done
    p99n=$(pct "$T/lat.nsgate" 99) p99s=$(pct "$T/lat.script" 99) p99d=$(pct "$T/lat.direct" 99)
    p50n=$(pct "$T/lat.nsgate" 50) p50s=$(pct "$T/lat.script" 50) p50d=$(pct "$T/lat.direct" 50)
    d=$(awk -v a="$p99n" -v b="$p99s" 'BEGIN { printf "%+.3f ms", (a - b) / 1000 }')
    met=$(awk -v a="$p99n" -v b="$p99s" 'BEGIN { exit !(a - b <= 1000) }' && echo yes || echo no)
    failed echo.nsgate && met="no (run failed)"
    us() { awk -v a="$1" 'BEGIN { printf "%.3f ms", a / 1000 }'; }
    row "keystroke echo" "1 byte round trip, cat in canonical mode (p50 / p99; no recorder: $(us "$p50d") / $(us "$p99d"))" \
        "$(us "$p50n") / $(us "$p99n")" '`script -q -c cat LOG`' "$(us "$p50s") / $(us "$p99s")" "p99 $d" "p99 ≤ +1 ms" "$met"
fi

# ---- concurrency ----------------------------------------------------------------------------
if want concurrency; then
    log "concurrency: $CONC_N sessions × ${CONC_MB} MB into one database vs one alone, 3 rounds"
    mkfile conc "$CONC_MB"
    F=$T/conc
    export F CONC_N
    : >"$T/conc.verify"
    many='for i in $(seq 1 $CONC_N); do ng $T/var/conc.db --no-pty -- /bin/cat $F >/dev/null & done; rc=0; for j in $(jobs -p); do wait $j || rc=1; done; exit $rc'
    for r in 1 2 3; do
        if [ $r = 2 ]; then order="many one"; else order="one many"; fi
        for o in $order; do
            rmdb "$T/var/conc.db"
            if [ $o = one ]; then
                timed conc.one 'ng $T/var/conc.db --no-pty -- /bin/cat $F'
            else
                timed conc.many "$many"
                "$NSGATE" verify --db "$T/var/conc.db" --key "$T/root.key" >"$T/v" 2>/dev/null || echo conc.verify >>"$T/failed"
                echo "$(grep -c '^OK ' "$T/v") $("$NSGATE" sessions --db "$T/var/conc.db" --json 2>/dev/null | wc -l)" >>"$T/conc.verify"
            fi
        done
    done
    rmdb "$T/var/conc.db"
    a=$(median "$T/t.conc.many") b=$(median "$T/t.conc.one") r=$(ratio "$a" "$b")
    okall=$(awk -v n="$CONC_N" '$1 != n || $2 != n { bad = 1 } END { print bad ? "no" : "yes" }' "$T/conc.verify")
    met=$(le "$r" 12 && echo yes || echo no)
    { [ "$okall" = yes ] && ! failed conc.many && ! failed conc.verify; } || met="no (sessions OK per round: $(awk '{ printf "%s/%s ", $1, $2 }' "$T/conc.verify"))"
    row "concurrency" "$CONC_N sessions × cat ${CONC_MB} MB into one database; all verify OK: $okall" "$(fmt_s "$a")" "one session alone" "$(fmt_s "$b")" "$r" "≤ 12 ×, all OK" "$met"
fi

# ---- command recording ----------------------------------------------------------------------------
if want commands; then
    log "command recording: $EXECS /bin/true execs, record_commands yes / no / sudo log_subcmds, $RUNS rounds"
    sed 's/^audit = best-effort$/audit = best-effort\nrecord_commands = no/' "$T/etc/policy.ini" >"$T/etc/nocmd.ini"
    chmod 644 "$T/etc/nocmd.ini"
    # sudo's own command recording (intercept mode, ptrace on Linux), to a file.
    SUDOERS=/etc/sudoers.d/zz-nsgate-bench-$$
    printf 'Defaults log_subcmds\nDefaults logfile=%s/sudo-cmd.log\nDefaults !syslog\n' "$T" >"$SUDOERS.tmp"
    chmod 440 "$SUDOERS.tmp"
    visudo -cqf "$SUDOERS.tmp" && mv "$SUDOERS.tmp" "$SUDOERS" || { rm -f "$SUDOERS.tmp"; SUDOERS=""; echo "run.sh: sudoers drop-in rejected" >&2; exit 1; }
    LOOP="i=0; while [ \$i -lt $EXECS ]; do /bin/true; i=\$((i + 1)); done"
    export LOOP
    # After each run: how many execs each recorder logged (checked below).
    AFTER='[ -e $T/var/cmd.db ] && sqlite3 $T/var/cmd.db "select count(*) from events where kind = '"'"'c'"'"'" >>$T/cmd.count; [ -e $T/sudo-cmd.log ] && grep -c COMMAND=/bin/true $T/sudo-cmd.log >>$T/cmd.sudocount; rmdb $T/var/cmd.db; rm -f $T/sudo-cmd.log' \
        alternate "$RUNS" \
        cmd.yes 'ng $T/var/cmd.db --no-pty -- /bin/sh -c "$LOOP"' \
        cmd.no '"$NSGATE" enter -q --policy $T/etc/nocmd.ini --db $T/var/cmd.db --keys $T/var/keys -t $TP -n --no-pty -- /bin/sh -c "$LOOP"' \
        cmd.sudo 'sudo /bin/sh -c "$LOOP"' \
        cmd.bare '/bin/sh -c "$LOOP"'
    rm -f "$SUDOERS"; SUDOERS=""
    a=$(median "$T/t.cmd.yes") b=$(median "$T/t.cmd.no") c=$(median "$T/t.cmd.sudo") d=$(median "$T/t.cmd.bare")
    # every recorded run holds the loop's execs plus the shell itself
    okn=$(awk -v n="$((EXECS + 1))" '$1 != n && $1 != 0 { bad = 1 } END { print bad ? "no" : "yes" }' "$T/cmd.count")
    oks=$(awk -v n="$EXECS" '$1 != n { bad = 1 } END { print bad ? "no" : "yes" }' "$T/cmd.sudocount")
    r=$(ratio "$a" "$b")
    met=$(le "$r" 1.5 && echo yes || echo no)
    { [ "$okn" = yes ] && ! failed cmd.yes; } || met="no (not every exec recorded: $(sort -u "$T/cmd.count" | tr '\n' ' '))"
    row "command recording" "$EXECS × /bin/true in one session, record_commands yes vs no (no recorder at all: $(fmt_s "$d"))" "$(fmt_s "$a")" "the same, record_commands = no" "$(fmt_s "$b")" "$r" "≤ 1.5 ×" "$met"
    r=$(ratio "$a" "$c")
    met=$(le "$r" 1 && echo yes || echo no)
    [ "$oks" = yes ] || met="$met (sudo did not log every exec: $(sort -u "$T/cmd.sudocount" | tr '\n' ' '))"
    failed cmd.sudo && met="$met (peer run failed)"
    row "command recording" "the same loop" "$(fmt_s "$a")" '`sudo` with `log_subcmds` (intercept, ptrace)' "$(fmt_s "$c")" "$r" "< 1 × (faster)" "$met"
fi

# ---- command search ------------------------------------------------------------------------------
if want cmdsearch; then
    GEN=${NSGATE_BUILD:-$ROOT/build/rel}/tests/gen_cmd_store
    [ -x "$GEN" ] || { echo "run.sh: no $GEN (build the tests)" >&2; exit 1; }
    log "command search: generating $SEARCH_SESSIONS sessions × $SEARCH_CMDS command events"
    rmdb "$T/var/search.db"
    s0=$EPOCHREALTIME
    "$GEN" "$T/var/search.db" "$SEARCH_SESSIONS" "$SEARCH_CMDS" 2>>"$T/stderr.cmdsearch" || echo cmdsearch.gen >>"$T/failed"
    gen_s=$(awk -v s="$s0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.0f", e - s }')
    ncmd=$(sqlite3 "$T/var/search.db" "select count(*) from events where kind = 'c'")
    size=$(du -sbc "$T/var/search.db"* | tail -1 | awk '{ printf "%.0f MB", $1 / 1e6 }')
    log "  generated in ${gen_s} s: $ncmd command events, $size; searching, $((RUNS * 4)) runs each"
    want_n=$((SEARCH_SESSIONS / 1000))
    got_n=$("$NSGATE" sessions --db "$T/var/search.db" --command '*etc/shadow*' --json 2>/dev/null | wc -l)
    AFTER="" alternate $((RUNS * 4)) \
        search.rare '"$NSGATE" sessions --db $T/var/search.db --command "*etc/shadow*" --json' \
        search.prefix '"$NSGATE" sessions --db $T/var/search.db --command "systemctl status *" --json' \
        search.list '"$NSGATE" sessions --db $T/var/search.db --user nobody --json'
    a=$(median "$T/t.search.rare") b=$(median "$T/t.search.prefix") c=$(median "$T/t.search.list")
    met=$(awk -v a="$a" 'BEGIN { exit !(a <= 0.1) }' && echo yes || echo no)
    [ "$got_n" = "$want_n" ] || met="no (found $got_n sessions, want $want_n)"
    row "command search" "sessions --command '*etc/shadow*' over $SEARCH_SESSIONS sessions, $ncmd command events ($size; $got_n found)" "$(fmt_s "$a")" "the target" "100 ms" "-" "≤ 100 ms" "$met"
    row "command search" "sessions --command 'systemctl status *' (the same store; matches most sessions)" "$(fmt_s "$b")" "listing nothing (--user nobody)" "$(fmt_s "$c")" "$(ratio "$b" "$c")" "(context)" "yes"
    rmdb "$T/var/search.db"
fi

# ---- storage ----------------------------------------------------------------------------------------
# Bytes on disk per byte recorded, terminal mode: the realistic corpus (text
# real programs print here, tests/bench/mkcorpus.sh) and, from the terminal
# throughput run above, base64 noise. nsgate's store counts every file it
# has (database, WAL, shared-memory index); sudo's iolog its directory.
size_row() { # LABEL FILE-OF-SIZES BYTES
    local n s
    n=$(awk '$2 ~ /nsgate$/ { v = $1 } END { print v + 0 }' "$2")
    s=$(awk '$2 ~ /sudo-io$/ { v = $1 } END { print v + 0 }' "$2")
    [ "$n" -gt 0 ] && [ "$s" -gt 0 ] || { row "storage" "$1" "-" "sudo iolog" "-" "-" "≤ 0.35, < sudo" "no (no sizes)"; return; }
    local rn rs met
    rn=$(awk -v a="$n" -v b="$3" 'BEGIN { printf "%.3f", a / b }')
    rs=$(awk -v a="$s" -v b="$3" 'BEGIN { printf "%.3f", a / b }')
    met=$(awk -v a="$n" -v b="$s" -v r="$rn" -v lim="$4" 'BEGIN { exit !(a < b && r <= lim) }' && echo yes || echo no)
    row "storage" "$1, bytes on disk per byte recorded" "$rn ($(awk -v a="$n" 'BEGIN { printf "%.1f MB", a / 1e6 }'))" "sudo iolog" "$rs ($(awk -v a="$s" 'BEGIN { printf "%.1f MB", a / 1e6 }'))" "$(ratio "$n" "$s")" "$5" "$met"
}
if want storage; then
    if [ -n "$CORPUS" ]; then
        cp "$CORPUS" "$T/corpus"
    else
        log "storage: generating the realistic corpus (${MB} MB)"
        bash "$ROOT/tests/bench/mkcorpus.sh" "$T/corpus" "$MB" || { echo "run.sh: mkcorpus failed" >&2; exit 1; }
    fi
    if [ ! -e /run/utmp ]; then touch /run/utmp && chgrp utmp /run/utmp 2>/dev/null; chmod 664 /run/utmp; MADE_UTMP=1; fi
    SUDOERS=/etc/sudoers.d/zz-nsgate-bench-$$
    printf 'Defaults log_output\nDefaults iolog_dir=%s/sudo-io\nDefaults iolog_file=%%{seq}\n' "$T" >"$SUDOERS.tmp"
    chmod 440 "$SUDOERS.tmp"
    visudo -cqf "$SUDOERS.tmp" && mv "$SUDOERS.tmp" "$SUDOERS" || { rm -f "$SUDOERS.tmp"; SUDOERS=""; echo "run.sh: sudoers drop-in rejected" >&2; exit 1; }
    F=$T/corpus
    export F
    log "storage: the corpus in terminal mode, nsgate and sudo, 2 rounds"
    AFTER='[ -e $T/var/st.db ] && du -sbc $T/var/st.db $T/var/st.db-wal $T/var/st.db-shm 2>/dev/null | tail -1 | sed "s/total/nsgate/" >>$T/sizes.corpus; du -sb $T/sudo-io >>$T/sizes.corpus 2>/dev/null; rmdb $T/var/st.db; rm -rf $T/sudo-io' \
        alternate 2 \
        st.nsgate "script -q -c \"\$NSGATE enter -q --policy \$T/etc/policy.ini --db \$T/var/st.db --keys \$T/var/keys -t \$TP -n --pty -- /bin/cat \$F\" /dev/null" \
        st.sudo "script -q -c \"sudo /bin/cat \$F\" /dev/null"
    rm -f "$SUDOERS"; SUDOERS=""
    [ -n "$MADE_UTMP" ] && { rm -f /run/utmp; MADE_UTMP=""; }
    size_row "realistic corpus (${MB} MB: ls -lR, find -ls, dmesg, ps, top, logs, compiler diagnostics)" "$T/sizes.corpus" "$(stat -c %s "$T/corpus")" 0.35 "≤ 0.35, < sudo"
    [ -s "$T/sizes.tty" ] && size_row "base64 noise (${MB} MB of random bytes, the terminal run above)" "$T/sizes.tty" "$(stat -c %s "$T/text")" 1 "< sudo"
fi

# ---- report -------------------------------------------------------------------------------------
{
    echo "## nsgate benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)."
    echo "nsgate $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) ($NSGATE); command: \`tests/bench/run.sh $ARGS\`; $RUNS rounds, alternating, medians."
    echo "Peers: $(script --version 2>&1 | head -1); $(sudo -V | head -1); tlog-rec $(tlog-rec --version 2>&1 | head -1 | awk '{ print $NF }'); $(asciinema --version); $(hyperfine --version)."
    echo
    echo "| figure | workload | nsgate | peer | peer | ratio | target | met |"
    echo "|---|---|---|---|---|---|---|---|"
    cat "$ROWS" 2>/dev/null
    if [ -s "$T/sizes.tty" ]; then
        echo
        echo "What each recorder stored for the terminal-mode run (bytes, last run): $(awk '{ n = $2; sub(".*/", "", n); v[n] = $1 } END { for (k in v) printf "%s %s; ", k, v[k] }' "$T/sizes.tty")"
    fi
    if [ -s "$T/failed" ]; then echo; echo "Failed runs: $(sort "$T/failed" | uniq -c | awk '{ printf "%s×%s ", $2, $1 }')"; fi
} >"$T/report.md"
for f in "$T"/stderr.*; do
    [ -s "$f" ] || continue
    grep -v 'audit trail is unavailable\|could not be written to the audit trail\|no --audit-log' "$f" | sort | uniq -c | head -5 | sed "s|^|[$(basename "$f")] |" >&2
done
cat "$T/report.md"
[ -n "$OUT" ] && cp "$T/report.md" "$OUT"
[ "$STRICT" = 1 ] && [ "$MISSES" -gt 0 ] && exit 1
exit 0
