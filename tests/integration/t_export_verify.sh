# The review page verifies itself: nsgate export -f html embeds the session's
# evidence and the page checks it in headless Chromium (networking off)
# against the root key given in #key=HEX, with libsodium.js. Its verdict
# (#ng-browser-verdict) is compared with nsgate verify's on the same data:
# the right key (OK), no key, another key, an incomplete session, and one
# byte changed in the page's evidence and, the same byte, in a copy of the
# store (event data, a chain hash, a seal, a certificate). No request leaves
# the page and no CSP violation is reported in any of them.
. "$NSGATE_SRC/tests/integration/lib.sh"

KEY="$T/root.key"
EDIT="python3 $NSGATE_SRC/tests/integration/evidence_edit.py"
sid_of_last() { "$NSGATE" sessions --json 2>/dev/null | head -1 | jq -r .id; }
page() { # PAGE [FRAGMENT] -> what the browser saw, as JSON, in $T/page.json
    NSGATE_PAGE_HASH="${2:-}" HOME=$T timeout 90 node "$NSGATE_SRC/tests/integration/export_page.cjs" \
        "$1" "$T/shot.png" >"$T/page.json" 2>"$T/page.err" || cat "$T/page.err"
}
j() { jq -r "$1" "$T/page.json"; }
clean() { # DESCRIPTION: no request, no error, no CSP report in the last page
    eq "$1: no request left the page" 0 "$(j '.requests | length')"
    eq "$1: no script error, no CSP violation" "" \
        "$(j '.errors[]?, (.console[]? | select(test("Content Security|Refused")))')"
}
# "WORD seq=N" from verify's line, "WORD seq=N" from the page's verdict
verify_word() { "$NSGATE" verify "$@" 2>/dev/null | head -1 | sed -E 's/^([A-Z]+) [^ ]*( seq=[0-9]+)?.*/\1\2/'; }
page_word() { j .browser_verdict | sed -E 's/^([A-Z]+)( at)?( seq=[0-9]+)?.*/\1\3/'; }

start_target --pid --mount-proc --net --uts -- sleep 600
"$NSGATE" enter -q -t "$TPID" -n -r 'INC-7 <b>bold</b></script>' -- /bin/sh -c \
    'echo hello reviewer; /bin/echo second-line; printf "bad \377 end\n"; exit 3' >/dev/null 2>&1
S=$(sid_of_last)
"$NSGATE" export --key "$KEY" -f html -o "$T/s.html" "$S" 2>/dev/null
eq "export html exits 0" 0 $?
eq "the page holds the evidence and four scripts" "application/x-ndjson classic classic classic classic" \
    "$(grep -o '<script[^>]*>' "$T/s.html" | sed -E 's/<script type="([^"]*)".*/\1/; s/<script>/classic/' | tr '\n' ' ' | sed 's/ $//')"
n=$(grep -o "'sha256-[^']*'" "$T/s.html" | sort -u | wc -l)
eq "the CSP lists one hash per script" 4 "$n"
"$NSGATE" export --key "$KEY" -f jsonl "$S" >"$T/s.jsonl" 2>/dev/null
embedded=$(sed -n '/<script type="application\/x-ndjson" id="ng-evidence">/,/<\/script>/p' "$T/s.html" |
    sed '1d;$d' | jq -c . | md5sum)
eq "the embedded evidence is the jsonl export" "$(jq -c . "$T/s.jsonl" | md5sum)" "$embedded"
eq "jsonl carries the header row, the key chain, certificates and seals" "1 1 1 2" \
    "$(head -1 "$T/s.jsonl" | jq '.header | length > 10 | if . then 1 else 0 end') $(grep -c '^{"keychain"' "$T/s.jsonl") $(grep -c '^{"cert"' "$T/s.jsonl") $(grep -c '^{"seal"' "$T/s.jsonl")"

# ---- the right key, no key, another key ----------------------------------------
page "$T/s.html" "key=$(cat "$KEY")"
eq "with #key= the root key the page says OK" OK "$(page_word)"
clean "right key"
check "the player shows the verified output" sh -c "jq -r .terminal $T/page.json | grep -q 'hello reviewer'"
check "the commands are listed from the verified events" sh -c "jq -r '.commands[]' $T/page.json | grep -q '/bin/echo second-line pid'"
check "the exit is a marker" sh -c "jq -r .markers $T/page.json | grep -q 'exit 3'"
check "the verified header is shown: the command" sh -c "jq -r .verified_header $T/page.json | grep -qF \"command	/bin/sh -c 'echo hello reviewer;\""
check "... the reason, as text" sh -c "jq -r .verified_header $T/page.json | grep -qF 'reason	INC-7 <b>bold</b></script>'"
check "the exporter's own banner is still there, apart" sh -c "jq -r .verification.text $T/page.json | grep -q '^Verification: OK'"

page "$T/s.html"
check "without a key the page says that no key was given" sh -c "jq -r .browser_verdict $T/page.json | grep -q '^No key given'"
eq "... and shows no verified header" null "$(j .verified_header)"
check "... and still plays the chained events" sh -c "jq -r .terminal $T/page.json | grep -q 'hello reviewer'"
clean "no key"

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/other.key"
page "$T/s.html" "key=$(cat "$T/other.key")"
eq "with another key the page says what verify says" "$(verify_word --key "$T/other.key" "$S")" "$(page_word)"
check "... TAMPERED" sh -c "jq -r .browser_verdict $T/page.json | grep -q '^TAMPERED at seq='"
clean "other key"

# ---- one byte changed: the page and the store alike ----------------------------
for edit in "data 2" "hash 3" "seal 2" "cert 0" "seal 1"; do
    set -- $edit
    cp "$T/s.html" "$T/e.html"
    $EDIT page "$T/e.html" "$S" "$1" "$2"
    sqlite3 "$NSGATE_DB" ".backup $T/e.db"
    $EDIT db "$T/e.db" "$S" "$1" "$2"
    want=$(verify_word --db "$T/e.db" --key "$KEY" "$S")
    page "$T/e.html" "key=$(cat "$KEY")"
    eq "one byte of $1 $2 changed: the page says what verify says ($want)" "$want" "$(page_word)"
    case "$want" in TAMPERED\ seq=*) ok "... which is TAMPERED with a seq" ;; *) not_ok "... verify said $want" ;; esac
    clean "$1 $2 changed"
done

# ---- incomplete: the final seal gone ---------------------------------------------
sqlite3 "$NSGATE_DB" ".backup $T/i.db"
sqlite3 "$T/i.db" "DELETE FROM seals WHERE session = x'$(echo "$S" | tr -d -)' AND sealno = (SELECT max(sealno) FROM seals WHERE session = x'$(echo "$S" | tr -d -)')"
want=$(verify_word --db "$T/i.db" --key "$KEY" "$S")
eq "verify says INCOMPLETE without the final seal" INCOMPLETE "$want"
"$NSGATE" export --db "$T/i.db" --key "$KEY" -f html -o "$T/i.html" "$S" 2>/dev/null
eq "an incomplete session exports with exit 2" 2 $?
page "$T/i.html" "key=$(cat "$KEY")"
eq "the page says INCOMPLETE too" "$want" "$(page_word)"
clean "incomplete"

# ---- the key typed into the page ---------------------------------------------------
cat >"$T/type.cjs" <<'JS'
const path = require("path");
const { chromium } = require(path.join(process.env.NSGATE_BUILD, "web/node_modules/playwright-core"));
(async () => {
  const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  const ctx = await b.newContext({ offline: true });
  const p = await ctx.newPage();
  await p.goto("file://" + process.argv[2]);
  await p.waitForSelector(".ap-term .ap-line", { timeout: 10000 });
  await p.fill("#ng-key", process.argv[3]);
  await p.click("#ng-key-form button");
  await p.waitForTimeout(300);
  console.log(await p.textContent("#ng-browser-verdict"));
  await b.close();
})().catch((e) => { console.error(e); process.exit(1); });
JS
got=$(HOME=$T timeout 90 node "$T/type.cjs" "$T/s.html" "$(cat "$KEY")" 2>&1)
check "a key typed into the page verifies it" sh -c "echo '$got' | grep -q '^OK: '"

finish
