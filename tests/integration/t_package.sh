# The Debian package: built with cpack from a fresh build directory,
# installed with dpkg -i, used from the installed files (a session recorded,
# verified and exported with NSGATE_* pointing into temporary directories),
# its manual page shown by man, then removed, leaving the machine as found.
. "$NSGATE_SRC/tests/integration/lib.sh"

if [ "${NSGATE_SANITIZE:-}" = ON ]; then
    echo "skip: the package is built and tested once, from the release build's test run"
    exit 0
fi
if dpkg -s nsgate >/dev/null 2>&1 || [ -e /usr/bin/nsgate ]; then
    echo "skip: nsgate is installed on this machine; not touching it"
    exit 0
fi

had_etc=0; [ -d /etc/nsgate ] && had_etc=1
had_var=0; [ -d /var/lib/nsgate ] && had_var=1
made_pub=0
pkg_cleanup() {
    [ $made_pub -eq 0 ] || rm -f /etc/nsgate/escrow.pub
    dpkg --purge nsgate >/dev/null 2>&1 || true
    [ $had_etc -eq 1 ] || rmdir /etc/nsgate 2>/dev/null || true
    [ $had_var -eq 1 ] || rmdir /var/lib/nsgate 2>/dev/null || true
    cleanup
}
trap pkg_cleanup EXIT

B="$T/pkgbuild"
player=()
# Reuse the player the build under test installed (no second npm ci).
[ -d "$NSGATE_BUILD/web/node_modules/asciinema-player" ] &&
    player=(-DNSGATE_WEB_PLAYER_DIR="$NSGATE_BUILD/web/node_modules/asciinema-player")
cmake -S "$NSGATE_SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DNSGATE_TESTS=OFF "${player[@]}" >"$T/cmake.log" 2>&1 &&
    cmake --build "$B" -j "$(nproc)" >>"$T/cmake.log" 2>&1 &&
    (cd "$B" && cpack -G DEB >>"$T/cmake.log" 2>&1)
eq "cpack -G DEB builds a package from a fresh build directory" 0 $?
DEB=$(ls "$B"/nsgate_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || { tail -30 "$T/cmake.log"; finish; exit 1; }

deps=$(dpkg-deb -f "$DEB" Depends)
for lib in libaudit1 libsodium23 libsqlite3-0 libjansson4 libseccomp2; do
    check "Depends names $lib" sh -c "echo '$deps' | grep -q '$lib'"
done
check "the packaged binary is not setuid" sh -c "dpkg-deb -c '$DEB' | grep ' ./usr/bin/nsgate\$' | grep -q '^-rwxr-xr-x'"
check "postinst does not chmod or chown the binary" sh -c "! dpkg-deb -I '$DEB' postinst | grep -Eq 'chmod|chown|statoverride --add'"

dpkg -i "$DEB" >"$T/dpkg.log" 2>&1
eq "dpkg -i installs it" 0 $?
eq "nsgate --version" "nsgate 0.1.0" "$(/usr/bin/nsgate --version)"
for f in /usr/share/man/man1/nsgate.1.gz /usr/share/man/man5/nsgate-policy.5.gz \
    /usr/share/bash-completion/completions/nsgate /usr/share/nsgate/schema/001-initial.sql \
    /usr/share/doc/nsgate/policy.example /usr/lib/systemd/system/nsgate-keygen-advance.service \
    /usr/lib/systemd/system/nsgate-keygen-advance.timer; do
    check "installed: $f" test -f "$f"
done
check "the service runs the installed binary" grep -q '^ExecStart=/usr/bin/nsgate keygen --advance' \
    /usr/lib/systemd/system/nsgate-keygen-advance.service
check "man nsgate shows the page" sh -c "MANWIDTH=80 man nsgate 2>/dev/null | grep -q 'policy-gated nsenter'"
check "man 5 nsgate-policy shows the page" sh -c "MANWIDTH=80 man 5 nsgate-policy 2>/dev/null | grep -q 'DECISION'"
# The example names an escrow public key, /etc/nsgate/escrow.pub: one made
# for this check (the secret stays in $T), removed again afterwards.
if [ -d /etc/nsgate ] && [ ! -e /etc/nsgate/escrow.pub ]; then
    /usr/bin/nsgate keygen --escrow "$T/escrow.sk" >/etc/nsgate/escrow.pub 2>/dev/null &&
        chmod 644 /etc/nsgate/escrow.pub
    made_pub=1
fi
check "policy.example parses with the installed binary" sh -c "/usr/bin/nsgate check --policy /usr/share/doc/nsgate/policy.example >/dev/null 2>&1"

# A session recorded, verified and exported by the installed binary.
export NSGATE_DB="$T/var/pkg.db" NSGATE_KEYS="$T/var/pkgkeys"
/usr/bin/nsgate keygen >"$T/pkg.key" 2>/dev/null
start_target --pid --mount-proc --net --uts -- sleep 600
got=$(/usr/bin/nsgate enter -q -t "$TPID" -n -- /bin/echo from-the-package 2>/dev/null)
eq "the installed nsgate records a session" from-the-package "$got"
S=$(/usr/bin/nsgate sessions --json 2>/dev/null | head -1 | jq -r .id)
check "the installed nsgate verifies it" sh -c "/usr/bin/nsgate verify --key $T/pkg.key $S 2>/dev/null | grep -q '^OK $S '"
/usr/bin/nsgate export --key "$T/pkg.key" -f html -o "$T/pkg.html" "$S" 2>/dev/null
eq "the installed nsgate exports a page" 0 $?
check "with the embedded player" grep -q 'AsciinemaPlayer' "$T/pkg.html"

dpkg -r nsgate >>"$T/dpkg.log" 2>&1
eq "dpkg -r removes it" 0 $?
check "the binary is gone" test ! -e /usr/bin/nsgate
check "the manual page is gone" test ! -e /usr/share/man/man1/nsgate.1.gz
finish
