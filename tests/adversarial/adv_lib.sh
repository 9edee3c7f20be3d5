# Shared helpers for the adversarial suite (tests/adversarial/a_*.sh): each
# script is one attack, written as the attacker would run it, that must be
# refused or detected. Source after ../integration/lib.sh.
#
# setuid_install: build nsgate and install it setuid-root into $T/prefix,
# configured for $T/etc (policy) and $T/var (store, keys), as a package
# would be; sets B to the installed binary. Skips (exit 0) in a sanitizer
# build: sanitizers and setuid do not mix (the normal build runs it).
# as_user: run a command as the real unprivileged test user (nsgate-test).
ADV_USER=nsgate-test

adv_need_user() {
    id "$ADV_USER" >/dev/null 2>&1 || useradd --system --user-group --no-create-home "$ADV_USER"
    ADV_UID=$(id -u "$ADV_USER")
    ADV_GID=$(id -g "$ADV_USER")
}

as_user() { setpriv --reuid="$ADV_USER" --regid="$ADV_USER" --init-groups "$@"; }

# The build's nsgate where the test user can run it: the build tree may sit
# in a directory only root can enter (a fresh clone in /root or in a
# directory made by mktemp -d).
user_nsgate() {
    [ -x "$T/nsgate-user" ] || install -m 755 "$NSGATE" "$T/nsgate-user" || exit 1
    echo "$T/nsgate-user"
}

setuid_install() {
    if [ "${NSGATE_SANITIZE:-OFF}" = "ON" ]; then
        echo "SKIP: sanitizers and setuid do not mix; this test runs in the normal build"
        exit 0
    fi
    adv_need_user
    cmake -S "$NSGATE_SRC" -B "$T/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DNSGATE_SYSCONFDIR="$T/etc" -DNSGATE_STATEDIR="$T/var" -DNSGATE_INSTALL_SETUID=ON \
        -DCMAKE_INSTALL_PREFIX="$T/prefix" -DNSGATE_TESTS=OFF \
        -DNSGATE_WEB_PLAYER_DIR="$NSGATE_BUILD/web/node_modules/asciinema-player" >/dev/null || exit 1
    cmake --build "$T/build" --target nsgate -j "$(nproc)" >/dev/null || exit 1
    cmake --install "$T/build" >/dev/null || exit 1
    B="$T/prefix/bin/nsgate"
    # lib.sh made the sealing keys in $T/var/keys, the installed binary's
    # default key directory: make them only when they are not there.
    [ -e "$T/var/keys/state" ] || "$B" keygen >/dev/null 2>&1 || { echo "keygen failed"; exit 1; }
    [ -u "$B" ] || { echo "not installed setuid"; exit 1; }
    # a directory the user may write (its own files, injectors, results)
    mkdir -p "$T/u" && chown "$ADV_USER" "$T/u" && chmod 755 "$T/u"
}
