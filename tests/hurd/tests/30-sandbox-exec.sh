#!/bin/sh
# sandbox-root exec: a builder started inside the environment sees it as
# its root, starts in the build directory as the build user with the
# spec's environment, writes only where the spec lets it, cannot climb
# out, and its exit status comes back.
# shellcheck disable=SC2016 # the $ in the inner scripts are the builder's
# shellcheck disable=SC2012 # listings of names the test chose
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
mkdir -p host/build host/input/sub
chmod 777 host/build
# An input the host would let anyone change.
echo input > host/input/file
chmod 777 host/input host/input/sub
chmod 666 host/input/file
cat > spec.json <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build", "path": "/tmp/guix-build-x.drv-0" },
  "paths": [
    { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" },
    { "host": "$here/host/input", "path": "/gnu/store/abc-input" }
  ],
  "user": { "name": "guixbuilder01", "uid": 30001, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "host", "sockets": { "local": "host", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "HOME": "/homeless-shelter", "out": "/gnu/store/abc-x" } }
}
JSON
root=$here/root
touch "$root"
settrans -a "$root" "$(command -v sandbox-root)" "$here/spec.json" || fail "settrans failed"
sr=$(command -v sandbox-root)

LEAK=outside "$sr" exec "$root" -- /bin/sh -c '
  echo "pwd=$(pwd)"
  echo "getcwd=$(/bin/pwd -P)"
  echo "ids=$(id -u):$(id -g)"
  echo "env=$HOME,$out,${LEAK-unset}"
  echo "root=$(ls / | tr "\n" " ")"
  echo "up=$(cd /../../..; ls | tr "\n" " ")"
  echo "built" > result
  if echo x > /bin/new 2> /dev/null; then echo "bin=writable"; else echo "bin=read-only"; fi
  cd /gnu/store/abc-input/sub
  for change in "echo x > ../file" "echo x > new" "mkdir dir" "mv ../file ../moved" "rm ../file"; do
    errors=/tmp/guix-build-x.drv-0/errors
    if sh -c "$change" 2> $errors; then echo "changed: $change"
    elif ! grep -qi "read-only file system" $errors; then echo "changed: $change: $(cat $errors)"; fi
  done
  echo "input=$(cat ../file)"
  echo "input-getcwd=$(/bin/pwd -P)"
  cd /tmp/guix-build-x.drv-0
  echo "pipe=$(echo through | cat)"
  ln -s /etc/passwd abs
  ln -s ../../../../../../etc/passwd rel
  echo "abs=$(grep -c guixbuilder01 abs)"
  echo "rel=$(grep -c guixbuilder01 rel)"
  echo "store-up=$(cd /lib/..; ls | tr "\n" " ")"
  # access(2), as configure asks it: nodes served by sandbox-root, the
  # build directory, and an input the host would let anyone write.
  a=
  for t in "-x /" "-r /etc/passwd" "-w /dev/null" "-r /dev/null" "-w /tmp/guix-build-x.drv-0" "-x /bin/sh" "-r /gnu/store/abc-input/file"; do
    if test $t; then a="$a+"; else a="$a-"; fi
  done
  for t in "-w /etc/passwd" "-w /" "-w /gnu/store/abc-input/file" "-w /bin" "-x /etc/passwd"; do
    if test $t; then a="$a+"; else a="$a-"; fi
  done
  echo "access=$a"
  # uname(2) reads /etc/hostname whole, then asks io_readable.
  echo "uname=$(uname -srm)"
' > out 2> err || fail "exec failed: $(cat err)"
cat out
grep -qx "pwd=/tmp/guix-build-x.drv-0" out || fail "the builder did not start in the build directory"
# getcwd climbs `..` comparing identities across the environment's own
# directories, the host's build directory and a proxied input.
grep -qx "getcwd=/tmp/guix-build-x.drv-0" out || fail "getcwd in the build directory is wrong"
grep -qx "input-getcwd=/gnu/store/abc-input/sub" out || fail "getcwd below an input is wrong"
grep -qx "ids=30001:30000" out || fail "the builder did not run as the build user"
grep -qx "env=/homeless-shelter,/gnu/store/abc-x,unset" out || fail "the environment is not the spec's alone"
grep -qx "root=bin dev etc gnu lib servers tmp " out || fail "the builder's root is not the environment"
grep -qx "up=bin dev etc gnu lib servers tmp " out || fail ".. climbed out of the builder's root"
grep -qx "bin=read-only" out || fail "a read-only path took a write"
grep "^changed:" out && fail "a change below a read-only input was not refused with EROFS"
grep -qx "input=input" out || fail "the input does not read from inside it"
[ "$(ls host/input | tr '\n' ' ')" = "file sub " ] || fail "the host input changed: $(ls host/input)"
[ "$(cat host/input/file)" = input ] || fail "the host input's file changed"
grep -qx "pipe=through" out || fail "pipes do not work inside"
# Links, absolute or climbing, resolve inside: to the environment's own
# passwd (the host's has no build user).
grep -qx "abs=1" out || fail "an absolute symlink reached the host"
grep -qx "rel=1" out || fail "a relative symlink climbed out"
grep -qx "store-up=bin dev etc gnu lib servers tmp " out || fail ".. from a firmlinked directory left the environment"
grep -q guixbuilder01 /etc/passwd && fail "the host's passwd has the build user: the check above proves nothing"
[ "$(cat host/build/result)" = built ] || fail "the build directory's file is not on the host"
# Allowed: search /, read passwd, write and read /dev/null, write the build
# directory, run sh, read the input; refused: writing passwd, / or /bin,
# running passwd. Below a read-only entry access(2) says what the host's
# permissions say (the input's file is writable there), as a read-only
# file system of the Hurd's own answers it; the write itself is EROFS
# (above), and rm does not stop to ask about a "write-protected" file.
grep -qx "uname=$(uname -srm)" out || fail "uname inside says $(grep '^uname=' out), outside $(uname -srm): $(cat err)"
grep -qx "access=+++++++--+--" out || fail "access(2) inside answers wrongly: $(grep '^access=' out) (want +++++++--+--)"

# The exit status comes back.
set +e
LEAK=outside "$sr" exec "$root" -- /bin/sh -c 'exit 7'
status=$?
set -e
[ "$status" = 7 ] || fail "exec returned $status, not the builder's 7"

# A node no sandbox-root serves is named in the error.
touch plain
if "$sr" exec "$here/plain" -- /bin/true 2> err; then fail "exec into a plain file succeeded"; fi
grep -q "$here/plain" err || fail "the error does not name the node: $(cat err)"

settrans -g "$root"

# A build process still running holds the environment: settrans -g is
# refused, and settrans -fg ends the process too.
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed the second time"
"$sr" exec "$root" -- /bin/sleep 600 &
builder=$!
sleep 2
if settrans -g "$root" 2> err; then fail "settrans -g succeeded while a build process ran"; fi
grep -qi busy err || fail "settrans -g failed, but not with EBUSY: $(cat err)"
settrans -fg "$root" || fail "settrans -fg failed"
tries=0
while kill -0 "$builder" 2> /dev/null; do
  tries=$((tries + 1))
  [ "$tries" -le 20 ] || fail "the build's process survived settrans -fg"
  sleep 1
done
set +e
wait "$builder"
status=$?
set -e
[ "$status" = 137 ] || fail "exec of the ended builder returned $status, not 128 + SIGKILL"

# settrans --chroot runs a command chrooted into an environment of its
# own (not as the build user: that is exec's), which ends with it.
cp spec.json chroot.json
touch "$here/root2"
settrans --chroot /bin/sh -c 'ls / | tr "\n" " "; echo; cd /..; ls | tr "\n" " "' -- \
  "$here/root2" "$sr" "$here/chroot.json" > chrooted 2> err || fail "settrans --chroot failed: $(cat err)"
[ "$(sed -n 1p chrooted)" = "bin dev etc gnu lib servers tmp " ] || fail "settrans --chroot saw: $(cat chrooted)"
[ "$(sed -n 2p chrooted)" = "bin dev etc gnu lib servers tmp " ] || fail ".. left the settrans --chroot root"
sleep 1
# shellcheck disable=SC1091 # the payload's copy of tests/hurd/lib.sh
. /test/lib.sh
[ "$(processes sandbox-root "$here/chroot.json")" = 0 ] || fail "the environment of settrans --chroot outlived it"
echo ok
