#!/bin/bash
# Every look at a session is logged (audit.md "Reviews"), with a private
# audit daemon and the setuid-installed binary: replay, export and watch send one
# TRUSTED_APP op=nsgate-review record each, with act, uuid and the viewer's
# uid, auid and name; a member of the policy's reviewers group reads the
# root-only store through the setuid binary (mediated mode) and is logged
# the same; the attacks: a user outside reviewers tries the same, and a
# reviewers key in a policy file others may write is used; both refused,
# with nothing read. Under review_audit = required with the audit
# trail gone, replay and export of the host's store exit 75, verify still
# works.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"
. "$(dirname "$0")/../integration/auditd_lib.sh"

auditd_require_free
setuid_install
RGROUP=nsgate-revtest
if ! getent group "$RGROUP" >/dev/null; then
    groupadd --system "$RGROUP" || { echo "groupadd failed"; exit 1; }
    trap 'auditd_stop; groupdel '"$RGROUP"' 2>/dev/null; cleanup' EXIT
fi
RGID=$(getent group "$RGROUP" | cut -d: -f3)
REVIEWER=(setpriv --reuid="$ADV_USER" --regid="$ADV_USER" --groups="$RGID")
as_reviewer() { "${REVIEWER[@]}" "$@"; }
policy() { # REVIEW_AUDIT
    cat >"$T/etc/policy.ini" <<POLICY
[defaults]
audit = best-effort
review_audit = $1
reviewers = group:$RGROUP

[allow root-anything]
users = root
targets = *
namespaces = all
host_access = yes
POLICY
    chmod 644 "$T/etc/policy.ini"
}
policy best-effort
start_target --net -- sleep 600
"$B" enter -q -t "$TPID" -n -- /bin/sh -c 'echo reviewed-output' >/dev/null 2>&1
S=$("$B" sessions --json 2>/dev/null | head -1 | jq -r .id)
check "a session was recorded" test -n "$S"
eq "the store is root's alone" 700 "$(stat -c %a "$T/var")"
KEY="$T/root.key"

auditd_start
reviews() { grep -a "^type=TRUSTED_APP " "$AUDIT_LOG" | grep -a "op=nsgate-review" | tr '\035' '|'; }

# ---- root ------------------------------------------------------------------------
"$B" replay --no-timing --key "$KEY" "$S" >"$T/r0" 2>"$T/e0"
eq "root: replay exits 0" 0 $?
check "root: one review record" audit_wait_for 1 "op=nsgate-review"
line=$(reviews | tail -1)
check "root: act=replay, the session's uuid, viewer uid 0" \
    grep -q "op=nsgate-review act=replay uuid=$S acct=\"root\" viewer_uid=0 viewer_auid=" <<<"$line"

# ---- a reviewer, through the setuid binary (mediated) --------------------------------
as_auid 4242 "${REVIEWER[@]}" "$B" replay --no-timing --key "$KEY" "$S" >"$T/r1" 2>"$T/e1"
eq "reviewer: replay of the root-only store exits 0" 0 $?
check "reviewer: it shows the session" grep -q reviewed-output "$T/r1"
check "reviewer: two review records now" audit_wait_for 2 "op=nsgate-review"
line=$(reviews | tail -1)
check "reviewer: act=replay, uuid, its uid and auid" \
    grep -q "act=replay uuid=$S acct=\"$ADV_USER\" viewer_uid=$ADV_UID viewer_auid=4242 " <<<"$line"
check "reviewer: the kernel's auid too" grep -q " auid=4242 " <<<"$line"
as_reviewer "$B" export -f jsonl --key "$KEY" "$S" >"$T/x1" 2>"$T/e1"
eq "reviewer: export exits 0" 0 $?
check "reviewer: three review records" audit_wait_for 3 "op=nsgate-review"
check "reviewer: act=export" grep -q "act=export uuid=$S acct=\"$ADV_USER\" viewer_uid=$ADV_UID " <<<"$(reviews | tail -1)"
as_reviewer "$B" export -f html -o "$T/u/p.html" --key "$KEY" "$S" 2>/dev/null
check "reviewer: the page is written with the reviewer's rights" \
    test "$(stat -c %U "$T/u/p.html" 2>/dev/null)" = "$ADV_USER"
as_reviewer "$B" replay --no-timing --key "$KEY" --db "$T/var/sessions.db.copy" "$S" >/dev/null 2>&1
cp "$T/var/sessions.db" "$T/var/sessions.db.copy"
as_reviewer "$B" replay --no-timing --key "$KEY" --db "$T/var/sessions.db.copy" "$S" >"$T/r2" 2>&1
check "reviewer: --db elsewhere is opened with the reviewer's own rights (refused here)" \
    sh -c "! grep -q reviewed-output '$T/r2'"
rm -f "$T/var/sessions.db.copy"

# ---- watch of a session that is over: a look too ------------------------------------
timeout 30 "$B" watch --key "$KEY" "$S" </dev/null >"$T/w0" 2>"$T/ew0"
eq "root: watch of a finished session exits 0" 0 $?
check "root: watch shows it" grep -q reviewed-output "$T/w0"
check "root: five review records" audit_wait_for 5 "op=nsgate-review"
check "root: act=watch" grep -q "act=watch uuid=$S acct=\"root\" viewer_uid=0 " <<<"$(reviews | tail -1)"

as_reviewer "$B" sessions --json >"$T/l1" 2>/dev/null
eq "reviewer: sessions lists the root-only store" "$S" "$(jq -r .id "$T/l1" | head -1)"
n=$(reviews | wc -l)
as_reviewer "$B" sessions --grep reviewed >"$T/l2" 2>"$T/e2"
eq "reviewer: sessions --grep (a search of the contents) is refused" 77 $?
check "... nothing listed" test ! -s "$T/l2"
sleep 0.3
eq "a listing sends no review record" "$n" "$(reviews | wc -l)"

# ---- the attack: a user outside reviewers ----------------------------------------
n=$(reviews | wc -l)
as_user "$B" replay --no-timing --key "$KEY" "$S" >"$T/r3" 2>"$T/e3"
st=$?
check "outsider: replay refused (exit $st)" test "$st" -ne 0
check "outsider: nothing of the session shown" sh -c "! grep -q reviewed-output '$T/r3'"
check "outsider: permission denied" grep -q "permission denied" "$T/e3"
as_user "$B" export -f jsonl --key "$KEY" "$S" >"$T/x3" 2>/dev/null
check "outsider: export refused, nothing written" test ! -s "$T/x3"
as_user "$B" sessions >"$T/l3" 2>/dev/null
check "outsider: sessions refused, nothing listed" sh -c "! grep -q '${S:0:8}' '$T/l3'"
sleep 0.3
eq "outsider: no review record (nothing was looked at)" "$n" "$(reviews | wc -l)"

# ---- the attack: reviewers named in a policy file that others may write ----------
chmod 664 "$T/etc/policy.ini"
as_reviewer "$B" replay --no-timing --key "$KEY" "$S" >"$T/r6" 2>"$T/e6"
st=$?
check "unsafe policy: its reviewers get nothing (exit $st)" test "$st" -ne 0
check "... nothing shown" sh -c "! grep -q reviewed-output '$T/r6'"
check "... and it says the policy is unsafe" grep -q "writable by group or other" "$T/e6"
chmod 644 "$T/etc/policy.ini"

# ---- sessions --views: from a rotated, gzip-compressed log --------------------------
n=$(wc -l <"$AUDIT_LOG")
head -n $((n / 2)) "$AUDIT_LOG" | gzip -c >"$T/audit.log.2.gz"
tail -n +$((n / 2 + 1)) "$AUDIT_LOG" >"$T/audit.log.1"
"$B" sessions --views "$S" --audit-log "$T/audit.log.1" --audit-log "$T/audit.log.2.gz" >"$T/views" 2>"$T/views.err"
eq "--views exits 0" 0 $?
eq "--views lists every look, oldest first" "replay root 0|replay $ADV_USER $ADV_UID|export $ADV_USER $ADV_UID|export $ADV_USER $ADV_UID|watch root 0" \
    "$(tail -n +2 "$T/views" | awk '{ printf "%s%s %s %s", (NR > 1 ? "|" : ""), $2, $3, $4 }')"
"$B" sessions --views "${S:0:8}" --audit-log "$T/audit.log.2.gz" --audit-log "$T/audit.log.1" --json >"$T/views.json" 2>/dev/null
eq "--views --json, by prefix, files in any order" "5 $S 4242" \
    "$(jq -s 'length' "$T/views.json") $(jq -r .session "$T/views.json" | sort -u) $(jq -r 'select(.act == "replay" and .uid != 0) | .auid' "$T/views.json")"
"$B" sessions --views "$S" >/dev/null 2>&1
eq "--views without --audit-log is a usage error" 64 $?

# ---- review_audit = required, the trail gone -------------------------------------
policy required
auditd_stop
"$B" replay --no-timing --key "$KEY" "$S" >"$T/r4" 2>"$T/e4"
eq "required, no audit daemon: root's replay of the host's store exits 75" 75 $?
check "... nothing shown" sh -c "! grep -q reviewed-output '$T/r4'"
check "... and it says why" grep -q "review_audit = required" "$T/e4"
"$B" replay --no-timing --key "$KEY" --db "$T/var/./sessions.db" "$S" >"$T/r4" 2>/dev/null
eq "required: another name of the host's store is the host's store (75)" 75 $?
as_reviewer "$B" export -f jsonl --key "$KEY" "$S" >"$T/x4" 2>/dev/null
eq "required, no audit daemon: a reviewer's export exits 75" 75 $?
check "... nothing written" test ! -s "$T/x4"
"$B" verify --key "$KEY" "$S" >"$T/v4" 2>/dev/null
eq "required, no audit daemon: verify still works" 0 $?
policy best-effort
"$B" replay --no-timing --key "$KEY" "$S" >"$T/r5" 2>"$T/e5"
eq "best-effort, no audit daemon: replay works" 0 $?
check "... with a warning" grep -q "not logged to the audit trail" "$T/e5"

finish
