#!/bin/sh
# firmlink-rs beside the C /hurd/firmlink, on the same targets: what a
# client sees through each must be the same, and firmlink-rs must also
# leave when told to and hand out read-only targets.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
mkdir -p a/target/sub
echo hello > a/target/file
echo marker > marker

# settrans takes a translator by its file name, not from PATH.
rs=$(command -v firmlink-rs)

# shellcheck disable=SC1091 # the payload's copy of tests/hurd/lib.sh
. /test/lib.sh

for impl in /hurd/firmlink "$rs"; do
  name=$(basename "$impl")
  link=$here/link-$name
  touch "$link"
  settrans -a "$link" "$impl" "$here/a/target"

  # The same listing and contents through the link.
  ls -l "$link/" > "ls-$name"
  [ "$(cat "$link/file")" = hello ] || fail "$name: file reads '$(cat "$link/file")'"
  # `..` from inside the target leads back to the link's parent, not the
  # target's: marker is beside the link only.
  ls -d "$link/sub/../../marker" > /dev/null 2> err || fail "$name: .. from inside does not lead to the link's parent: $(cat err)"
  [ ! -e "$link/sub/../../target" ] || fail "$name: .. from inside leads to the target's parent"

  # A target that does not exist reads as a symlink to it.
  dangling=$here/dangling-$name
  touch "$dangling"
  settrans -a "$dangling" "$impl" "$here/missing-$name"
  [ "$(readlink "$dangling")" = "$here/missing-$name" ] || fail "$name: readlink gives '$(readlink "$dangling")'"
  [ -L "$dangling" ] || fail "$name: test -L does not see a link: $(ls -l "$dangling")"
  settrans -g "$dangling"
done

[ "$(cat ls-firmlink)" = "$(cat ls-firmlink-rs)" ] || fail "the listings differ: $(cat ls-firmlink) vs $(cat ls-firmlink-rs)"
[ -s ls-firmlink ] || fail "the listing is empty"

# The translator's own options, from its control port (fsysopts on the
# node resolves through a firmlink, C or Rust, and reaches the target's
# file system instead), and changing them.
opts=$(hurd-probe options "$here/link-firmlink-rs")
case $opts in
  *firmlink-rs" $here/a/target") ;;
  *) fail "the options read '$opts'" ;;
esac
opts=$(hurd-probe options "$here/link-firmlink-rs" --readonly)
case $opts in
  *firmlink-rs" --readonly $here/a/target") ;;
  *) fail "--readonly did not take: '$opts'" ;;
esac
# Opening the directory target itself for writing is now refused.
if (: > "$here/link-firmlink-rs") 2> err; then fail "opening a read-only directory link for writing succeeded"; fi
grep -qi "read-only file system" err || fail "opening the link for writing failed, but not with EROFS: $(cat err)"

# settrans -g ends the translator: no process is left.
[ "$(processes firmlink "$here/a/target")" = 2 ] || fail "the two translators are not both running before the goaway"
settrans -g "$here/link-firmlink-rs"
settrans -g "$here/link-firmlink"
sleep 1
left=$(processes firmlink "$here/a/target")
[ "$left" = 0 ] || fail "$left translator processes left after settrans -g"

# Read-only: a write through the link fails with EROFS, a read works.
touch ro
settrans -a ro "$rs" --readonly "$here/a/target/file"
[ "$(cat ro)" = hello ] || fail "read-only link reads '$(cat ro)'"
if (echo more >> ro) 2> err; then fail "a write through a read-only link succeeded"; fi
grep -qi "read-only file system" err || fail "the write failed, but not with EROFS: $(cat err)"
[ "$(cat a/target/file)" = hello ] || fail "the target changed"
settrans -g ro

# Read-only on a directory: nothing below it changes either, for root,
# and `..` still leads back to where the link sits.
touch rodir
settrans -a rodir "$rs" --readonly "$here/a/target"
[ "$(ls rodir)" = "$(ls a/target)" ] || fail "the read-only directory lists '$(ls rodir)'"
[ "$(cat rodir/file)" = hello ] || fail "a file below the read-only directory reads '$(cat rodir/file)'"
[ -e rodir/sub/../../marker ] || fail ".. from below the read-only directory does not lead to the link's parent"
erofs() {
  what=$1
  shift
  if "$@" 2> err; then fail "$what succeeded"; fi
  grep -qi "read-only file system" err || fail "$what failed, but not with EROFS: $(cat err)"
}
erofs "mkdir below a read-only link" mkdir rodir/sub/new
erofs "a write below a read-only link" sh -c 'echo x >> rodir/file'
erofs "a new file from inside a read-only link" sh -c 'cd rodir/sub && echo x > new'
erofs "rm below a read-only link" rm rodir/file
[ "$(ls a/target/sub)" = "" ] || fail "the target's sub changed: $(ls a/target/sub)"
[ "$(cat a/target/file)" = hello ] || fail "the target's file changed"
settrans -g rodir || fail "settrans -g of the read-only directory link failed"
echo "ok: listings equal, .. returns to the link's parent, dangling links read as links, goaway leaves nothing, read-only refuses writes, below a directory too"
