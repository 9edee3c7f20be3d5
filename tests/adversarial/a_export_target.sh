#!/bin/bash
# Attack: root runs "nsgate export -o PATH" where someone planted PATH: a
# symbolic link to a file root owns, a FIFO nobody reads (the export would
# hang), a device (a disk: the export would be written onto it), or a hard
# link to a file root owns (--force would truncate that file). Each is
# refused with a message that says what PATH is, at once, and nothing is
# written or truncated; a plain new file and --force on one's own regular
# file still work, as root and as an ordinary user.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/adv_lib.sh"
adv_need_user

start_target --uts -- sleep 600
"$NSGATE" enter -q --no-pty -t "$TPID" -u -- /bin/echo exported-text >/dev/null 2>&1
S=$("$NSGATE" sessions --json | head -1 | jq -r .id)
KEY="$T/root.key"
ex() { timeout 20 "$NSGATE" export --key "$KEY" "$@" "$S" </dev/null; }

mkdir -m 1777 "$T/tmp" # a directory anyone may plant names in, like /tmp
echo precious >"$T/victim"
chmod 600 "$T/victim"

refused() { # DESCRIPTION, WHAT the message must say, then export arguments
    local d=$1 what=$2
    shift 2
    ex "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    eq "$d: refused (74, not a hang)" 74 "$rc"
    check "$d: ... saying '$what'" grep -qF "$what" "$T/err"
    check "$d: ... nothing on standard output" test ! -s "$T/out"
}

# A symbolic link to a file root owns, with and without --force.
ln -s "$T/victim" "$T/tmp/link"
refused "symlink" "it is a symbolic link" -o "$T/tmp/link"
refused "symlink, --force" "it is a symbolic link" --force -o "$T/tmp/link"
eq "symlink: the file it points to is unchanged" precious "$(cat "$T/victim")"
# A dangling symlink: nothing is created where it points.
ln -s "$T/created-through-link" "$T/tmp/dangling"
refused "dangling symlink" "it is a symbolic link" -o "$T/tmp/dangling"
check "dangling symlink: nothing created at its target" test ! -e "$T/created-through-link"

# A FIFO nobody reads: refused at once, with and without --force.
mkfifo "$T/tmp/fifo"
refused "FIFO" "it is a FIFO" -o "$T/tmp/fifo"
refused "FIFO, --force" "it is a FIFO" --force -o "$T/tmp/fifo"
# A FIFO someone reads: still refused, the reader gets nothing.
(timeout 5 cat "$T/tmp/fifo" >"$T/fifo.got" 2>/dev/null) &
reader=$!
sleep 0.2
refused "FIFO with a reader, --force" "it is a FIFO" --force -o "$T/tmp/fifo"
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
check "FIFO with a reader: nothing written to it" test ! -s "$T/fifo.got"

# Devices: /dev/null, a node planted in the shared directory, a disk.
refused "/dev/null" "it is a character device" -o /dev/null
refused "/dev/null, --force" "it is a character device" --force -o /dev/null
mknod "$T/tmp/null" c 1 3
refused "a planted device node, --force" "it is a character device" --force -o "$T/tmp/null"
head -c 1048576 /dev/zero >"$T/disk.img"
printf 'DISK-MARKER' | dd of="$T/disk.img" conv=notrunc status=none
LOOP=$(losetup -f --show "$T/disk.img" 2>/dev/null)
if [ -n "$LOOP" ]; then
    ln -s "$LOOP" "$T/tmp/disk-link"
    refused "a disk, --force" "it is a block device" --force -o "$LOOP"
    refused "a link to a disk" "it is a symbolic link" -o "$T/tmp/disk-link"
    losetup -d "$LOOP"
    eq "the disk is unchanged" "DISK-MARKER" "$(head -c 11 "$T/disk.img")"
    eq "... all of it" "$(printf 'DISK-MARKER'; head -c $((1048576 - 11)) /dev/zero | tr '\0' z)" \
        "$(tr '\0' z <"$T/disk.img")"
else
    echo "# no loop device: the disk case is skipped"
fi

# A hard link planted to a file root owns: --force would truncate it.
ln "$T/victim" "$T/tmp/hardlink" 2>/dev/null || cp "$T/victim" "$T/tmp/hardlink"
if [ "$(stat -c %h "$T/victim")" = 2 ]; then
    refused "hard link to a root file, --force" "with other hard links" --force -o "$T/tmp/hardlink"
    eq "hard link: the linked file is unchanged" precious "$(cat "$T/victim")"
fi
# A regular file someone else owns.
echo theirs >"$T/tmp/theirs"
chown "$ADV_USER" "$T/tmp/theirs"
refused "another user's file, --force" "owned by someone else" --force -o "$T/tmp/theirs"
eq "... unchanged" theirs "$(cat "$T/tmp/theirs")"
# An existing regular file without --force.
refused "existing file" "it exists (--force replaces" -o "$T/tmp/theirs"

# What still works: a new file, and --force on root's own file.
ex -o "$T/new.cast" 2>/dev/null
eq "a new file: exported" 0 "$?"
check "... holding the session" grep -q exported-text "$T/new.cast"
eq "... mode 0600 (umask 077), root's" "600 0" "$(stat -c '%a %u' "$T/new.cast")"
ex -f jsonl --force -o "$T/new.cast" 2>/dev/null
eq "--force on root's own regular file: replaced" 0 "$?"
check "... with the new content" grep -q '"kind":"x"' "$T/new.cast"

# An ordinary user keeps the same checks, with its own rights.
mkdir -p "$T/u" && chown "$ADV_USER" "$T/u"
cp "$NSGATE_DB" "$T/u/s.db" && chown "$ADV_USER" "$T/u/s.db"
UNG=$(user_nsgate)
uex() { as_user timeout 20 "$UNG" export --db "$T/u/s.db" --key "$KEY" "$@" "$S" </dev/null; }
uex -o "$T/u/mine.cast" 2>/dev/null
eq "user: a new file: exported" 0 "$?"
as_user ln -s "$T/u/mine.cast" "$T/u/link"
uex --force -o "$T/u/link" 2>"$T/err"
eq "user: a symlink, --force: refused" 74 "$?"
check "... saying so" grep -qF "it is a symbolic link" "$T/err"
as_user mkfifo "$T/u/fifo"
uex -o "$T/u/fifo" 2>"$T/err"
eq "user: a FIFO: refused" 74 "$?"
uex --force -o "$T/victim" 2>"$T/err"
eq "user: root's file, --force: refused" 74 "$?"
eq "... unchanged" precious "$(cat "$T/victim")"
finish
