#!/bin/bash
# Attack: a hostile target prints control sequences that act on the
# reviewer's terminal when the session is replayed: media copy (CSI 5 i,
# printer controller mode: what follows goes to the printer, not the screen),
# DECSCL and S8C1T (the terminal answers differently from then on), OSC 52
# (writes the reviewer's clipboard), DCS requests (DECRQSS, XTGETTCAP),
# reports that would type into the reviewer's shell (DA, DSR, window
# reports, DECRQM, mouse, focus and paste modes), a keyboard lock (KAM) and
# local echo (SRM). The session records them byte-exact; replay to a
# terminal (under script(1)) carries none of them; --raw and a pipe keep
# them.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"

# name | the sequence, printf %b text
SEQS='media copy on|\033[5i
media copy off|\033[4i
autoprint|\033[?5i
print screen|\033[0i
8-bit media copy|\x9b5i
UTF-8 C1 media copy|\xc2\x9b5i
DECSCL level 1|\033[61"p
DECSCL 8-bit|\033[62;0"p
S8C1T|\033 G
DECSR|\033[1+p
OSC 52 clipboard|\033]52;c;cm0gLXJmIH4K\a
OSC title|\033]0;pwned\a
DECRQSS|\033P$q"p\033\\
XTGETTCAP|\033P+q544e\033\\
DA|\033[c
DSR|\033[6n
window report|\033[21t
XTVERSION|\033[>q
DECRQM|\033[?2004$p
DECRQPSR|\033[1$w
mouse tracking|\033[?1000h
focus reports|\033[?1004h
bracketed paste off|\033[?2004l
KAM keyboard lock|\033[2h
SRM local echo|\033[12l
XTMODKEYS|\033[>4;2m
kitty keyboard|\033[>1u
ENQ|\005'

# What the target prints: each sequence between visible markers.
i=0
while IFS='|' read -r name seq; do
    i=$((i + 1))
    printf 'before-%d:%b:after-%d\n' "$i" "$seq" "$i"
done <<<"$SEQS" >"$T/hostile.out"
chmod 644 "$T/hostile.out"

start_target --uts -- sleep 600
"$NSGATE" enter -q --no-pty -t "$TPID" -u -- /bin/cat "$T/hostile.out" >"$T/live" 2>/dev/null
eq "the hostile session ran" 0 "$?"
S=$("$NSGATE" sessions --json | head -1 | jq -r .id)
KEY="$T/root.key"

# To a pipe: byte-exact (the recording holds every sequence).
"$NSGATE" replay --no-timing --key "$KEY" "$S" >"$T/pipe" 2>/dev/null
check "replay to a pipe is byte-exact" cmp -s "$T/live" "$T/pipe"
# To a terminal: filtered. --raw to a terminal: exact again.
script -qec "$NSGATE replay --no-timing --key $KEY $S" /dev/null </dev/null >"$T/tty" 2>&1
eq "replay to a terminal succeeds" 0 "$?"
script -qec "$NSGATE replay --raw --no-timing --key $KEY $S" /dev/null </dev/null >"$T/raw" 2>&1

has_bytes() { # FILE SEQ(printf %b): does FILE hold these bytes?
    local pat
    pat=$(printf '%b' "$2" | od -An -tx1 | tr -d ' \n')
    od -An -tx1 -v "$1" | tr -d ' \n' | grep -q "$pat"
}
lacks_bytes() { ! has_bytes "$@"; }
i=0
while IFS='|' read -r name seq; do
    i=$((i + 1))
    check "$name: recorded" has_bytes "$T/pipe" "$seq"
    check "$name: kept by replay --raw" has_bytes "$T/raw" "$seq"
    check "$name: not in the replay to a terminal" lacks_bytes "$T/tty" "$seq"
    check "$name: the text around it is shown" grep -qa "before-$i:" "$T/tty"
    check "$name: ... all of it" grep -qa ":after-$i" "$T/tty"
done <<<"$SEQS"
check "no raw 8-bit CSI byte reaches the terminal" sh -c "! LC_ALL=C grep -qP '\\x9b' '$T/tty'"
finish
