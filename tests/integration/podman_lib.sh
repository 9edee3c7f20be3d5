# Real podman containers for the tests (guides/testing.md): Debian's podman
# with runc and the cgroupfs manager, an image built offline from
# busybox-static (no registry is reachable or needed). Source after lib.sh.
# Every container a test starts is removed at exit, by the name it was
# given (ng-<pid of the test>-N), never anything else.
PODMAN_IMAGE=localhost/nsgate-test:busybox
PODMAN_NAMES=""
PODMAN_N=0

podman_skip() {
    echo "########################################################"
    echo "SKIP: $* -- podman tests NOT run"
    echo "########################################################"
    exit 0
}

# The image: a root filesystem of busybox-static's binary and its applets,
# imported with podman import. Rebuilt only when missing.
podman_image() {
    command -v podman >/dev/null && command -v runc >/dev/null || podman_skip "podman or runc missing"
    [ -x /bin/busybox ] && file -L /bin/busybox | grep -q "statically linked" ||
        podman_skip "busybox-static missing"
    podman image exists "$PODMAN_IMAGE" 2>/dev/null && return 0
    local r="$T/podman-rootfs" a
    mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/etc" "$r/tmp" "$r/root"
    cp /bin/busybox "$r/bin/busybox"
    for a in $(/bin/busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"$r/etc/group"
    tar -C "$r" -c . | podman import --change 'CMD ["/bin/sh"]' - "$PODMAN_IMAGE" >/dev/null ||
        podman_skip "podman import failed"
    rm -rf "$r"
}

# podman_run [PODMAN-RUN-OPTIONS...] -- COMMAND...: start a detached
# container (named ng-<pid of the test>-N, or $PODMAN_NAME); sets CNAME, CID
# (full ID) and CPID (its first process on the host). This host's runc cannot raise resource limits above the caller's
# hard limits (no CAP_SYS_RESOURCE in the bounding set here), so the
# container's nofile and nproc limits are given explicitly.
podman_run() {
    local opts=()
    while [ "$1" != "--" ]; do opts+=("$1"); shift; done
    shift
    PODMAN_N=$((PODMAN_N + 1))
    CNAME="${PODMAN_NAME:-ng-$$-$PODMAN_N}" # PODMAN_NAME: a name of the test's choosing
    PODMAN_NAMES="$PODMAN_NAMES $CNAME"
    podman run -d --name "$CNAME" --runtime runc --cgroup-manager cgroupfs \
        --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
        "${opts[@]}" "$PODMAN_IMAGE" "$@" >/dev/null || return 1
    CID=$(podman inspect -f '{{.Id}}' "$CNAME")
    CPID=$(podman inspect -f '{{.State.Pid}}' "$CNAME")
    [ -n "$CPID" ] && [ "$CPID" != 0 ]
}

podman_cleanup() {
    local n
    for n in $PODMAN_NAMES; do podman rm -f -t 0 "$n" >/dev/null 2>&1 || true; done
}
trap 'podman_cleanup; cleanup' EXIT
