#!/bin/sh
# sandbox-root serving an environment: the tree is exactly the spec's,
# inputs are read-only (below their directories too) and the build
# directory writable, devices behave, `..` never leaves, settrans -g ends
# it, -fg ends it while clients hold ports, and kill -9 leaves nothing.
# shellcheck disable=SC2012 # listings of names the test chose
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
mkdir -p host/store/aaa-hello/bin host/build
echo hello > host/store/aaa-hello/bin/hello
echo "127.0.0.1 given" > host/hosts
echo "nameserver 192.0.2.53" > host/resolv.conf
cat > spec.json <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build", "path": "/tmp/guix-build-hello.drv-0" },
  "inputs": [],
  "paths": [
    { "host": "$here/host/store/aaa-hello", "path": "/gnu/store/aaa-hello" },
    { "host": "$here/host/hosts", "path": "/etc/hosts" },
    { "host": "$here/host/resolv.conf", "path": "/etc/resolv.conf", "writable": true }
  ],
  "user": { "name": "guixbuilder01", "uid": 30001, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "host", "sockets": { "local": "host", "inet": "none", "inet6": "none" } }
}
JSON
root=$here/root
touch "$root"
sr=$(command -v sandbox-root)
# shellcheck disable=SC1091 # the payload's copy of tests/hurd/lib.sh
. /test/lib.sh

# A bad spec, and one asking for what is not served yet: settrans fails,
# the problem is named, and nothing is left running.
echo '{"version": 1, "bogus": true}' > bad.json
if settrans -a "$root" "$sr" "$here/bad.json" 2> err; then fail "settrans took a bad spec"; fi
grep -q 'bogus' err || fail "the error does not name the bad field: $(cat err)"
sed 's/"proc": "host"/"proc": "host", "procfs": true/' spec.json > procfs.json
if settrans -a "$root" "$sr" "$here/procfs.json" 2> err; then fail "settrans took a spec asking for a /proc of its own"; fi
grep -q 'servers.procfs' err || fail "the error does not name servers.procfs: $(cat err)"
[ "$(processes sandbox-root "$here")" = 0 ] || fail "a refused spec left a process"
{ [ -f "$root" ] && [ ! -s "$root" ]; } || fail "a refused spec changed the node: $(ls -ld "$root" 2>&1)"

settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed"

# Exactly the spec's tree.
[ "$(ls "$root" | tr '\n' ' ')" = "dev etc gnu servers tmp " ] || fail "root lists: $(ls "$root" | tr '\n' ' ')"
[ "$(ls "$root/dev" | tr '\n' ' ')" = "fd full null random stderr stdin stdout urandom zero " ] || fail "/dev lists: $(ls "$root/dev" | tr '\n' ' ')"
[ "$(ls "$root/gnu/store")" = aaa-hello ] || fail "/gnu/store lists: $(ls "$root/gnu/store")"
grep -q '^guixbuilder01:x:30001:30000:' "$root/etc/passwd" || fail "passwd: $(cat "$root/etc/passwd")"
[ "$(cat "$root/etc/hostname")" = localhost ] || fail "hostname: $(cat "$root/etc/hostname")"

# Inputs: readable, not writable, whatever the host's permissions.
[ "$(cat "$root/gnu/store/aaa-hello/bin/hello")" = hello ] || fail "the input reads wrong"
if (echo x > "$root/gnu/store/aaa-hello/new") 2> err; then fail "a write into an input succeeded"; fi
grep -qi "read-only file system" err || fail "the write into an input failed, but not with EROFS: $(cat err)"
[ ! -e host/store/aaa-hello/new ] || fail "the host store changed"
# Below an input's directories too, for root (whom the host lets do
# anything), and from a directory opened inside, which a client goes on
# from by itself.
erofs() {
  what=$1
  shift
  if "$@" 2> err; then fail "$what succeeded"; fi
  grep -qi "read-only file system" err || fail "$what failed, but not with EROFS: $(cat err)"
}
store=$root/gnu/store/aaa-hello
erofs "mkdir below an input" mkdir "$store/bin/newdir"
erofs "rm below an input" rm -f "$store/bin/hello"
erofs "a rename below an input" mv "$store/bin/hello" "$store/bin/moved"
erofs "a symlink below an input" ln -s hello "$store/bin/link"
erofs "a new file from inside an input's directory" sh -c "cd '$store/bin' && echo x > ./new"
erofs "truncating from inside an input's directory" sh -c "cd '$store/bin' && : > hello"
[ "$(ls host/store/aaa-hello/bin)" = hello ] || fail "the host store changed: $(ls host/store/aaa-hello/bin)"
[ "$(cat host/store/aaa-hello/bin/hello)" = hello ] || fail "the input's file changed"
[ "$(cd "$store/bin" && cat hello)" = hello ] || fail "an input's file does not read from inside its directory"
[ "$(cd "$store/bin" && ls ../..)" = aaa-hello ] || fail ".. from inside an input lists '$(cd "$store/bin" && ls ../..)'"

# Single files from the host: read-only, or writable as the spec says.
[ "$(cat "$root/etc/hosts")" = "127.0.0.1 given" ] || fail "/etc/hosts reads '$(cat "$root/etc/hosts")'"
erofs "a write to a read-only host file" sh -c "echo x >> '$root/etc/hosts'"
echo "nameserver 192.0.2.54" >> "$root/etc/resolv.conf" || fail "a writable host file refused a write"
[ "$(tail -1 host/resolv.conf)" = "nameserver 192.0.2.54" ] || fail "the write to a writable host file is not on the host"

# The build directory: writable, and the file is on the host.
echo built > "$root/tmp/guix-build-hello.drv-0/out"
[ "$(cat host/build/out)" = built ] || fail "the build directory's file is not on the host"

# `..` from anywhere stays inside: the root's passwd, not the host's.
grep -q guixbuilder01 "$root/gnu/store/aaa-hello/bin/../../../../../etc/passwd" || fail ".. left the environment"
grep -q guixbuilder01 "$root/../$(basename "$root")/etc/passwd" || fail "the environment is not reachable by its name"

# Devices.
[ "$(head -c 4 "$root/dev/zero" | od -An -tx1 | tr -d ' ')" = 00000000 ] || fail "/dev/zero"
# (The environment's /dev/urandom is the host's own source: a system
# built without libgcrypt has no /hurd/random, and then neither has one.)
if [ -e /dev/urandom ]; then
  [ "$(head -c 16 "$root/dev/urandom" | wc -c)" = 16 ] || fail "/dev/urandom"
else
  echo "note: the guest has no /dev/urandom: the environment's is not read"
fi
[ -z "$(cat "$root/dev/null")" ] || fail "/dev/null reads something"
echo x > "$root/dev/null" || fail "/dev/null refuses a write"
# (dd, not the shell's echo, which reports any failed write as "I/O error")
if dd if="$root/dev/zero" of="$root/dev/full" bs=1 count=1 2> err; then fail "/dev/full took a write"; fi
grep -qi "no space" err || fail "/dev/full failed, but not with ENOSPC: $(cat err)"
[ "$(readlink "$root/dev/stdin")" = fd/0 ] || fail "stdin links to '$(readlink "$root/dev/stdin")'"

# Not in the spec: not there.
[ ! -e "$root/usr" ] || fail "/usr exists"
[ ! -e "$root/servers/socket/2" ] || fail "inet is there though the spec says none"

# fsysopts shows how it was started: the spec, by its absolute name.
case $(fsysopts "$root") in
  *sandbox-root" $here/spec.json") ;;
  *) fail "fsysopts printed '$(fsysopts "$root")'" ;;
esac

[ "$(processes sandbox-root "$here/spec.json")" = 1 ] || fail "sandbox-root is not running before the goaway"
settrans -g "$root" || fail "settrans -g failed"
sleep 1
[ "$(processes sandbox-root "$here/spec.json")" = 0 ] || fail "sandbox-root still runs after settrans -g"
{ [ -f "$root" ] && [ ! -s "$root" ]; } || fail "the node is not a plain empty file after settrans -g: $(ls -ld "$root" 2>&1)"

# While a client holds a port into the environment, settrans -g is
# refused, and settrans -fg ends it anyway.
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed the second time"
(cd "$root/etc" && exec sleep 600) &
holder=$!
sleep 1
if settrans -g "$root" 2> err; then fail "settrans -g succeeded while a client held a port inside"; fi
grep -qi "busy" err || fail "settrans -g failed, but not with EBUSY: $(cat err)"
settrans -fg "$root" || fail "settrans -fg failed"
sleep 1
[ "$(processes sandbox-root "$here/spec.json")" = 0 ] || fail "sandbox-root still runs after settrans -fg"
kill "$holder"

# The root a lookup from the host gets is kept for the client's identity
# and handed out again: a client holding it holds the environment, and
# once none does, the roots kept hold nothing.
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed for the kept roots"
ls "$root" > /dev/null || fail "the environment's root could not be listed"
ls "$root/etc" > /dev/null || fail "the environment's /etc could not be listed"
(exec 3< "$root" && exec sleep 600) &
holder=$!
sleep 1
if settrans -g "$root" 2> err; then fail "settrans -g succeeded while a client held the environment's root"; fi
grep -qi "busy" err || fail "settrans -g failed, but not with EBUSY, while a client held the root: $(cat err)"
kill "$holder"
wait "$holder" 2> /dev/null || true
sleep 1
settrans -g "$root" 2> err || fail "settrans -g failed with no client left (the roots kept held it): $(cat err)"

# A client that sends the root it holds (kept, and handed to every client
# of its identity) a no-senders notice, as the kernel would, ends nothing.
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed for the forged notice"
out=$(hurd-probe forge-no-senders "$root" 2>&1)
[ "$out" = "forge-no-senders: the port afterwards: ok" ] || fail "a forged no-senders notice ended the root: $out"
ls "$root/etc" > /dev/null || fail "the environment no longer answers after a forged no-senders notice"
settrans -g "$root" || fail "settrans -g failed after a forged no-senders notice"

# A client that has just let its ports go holds nothing, though their
# no-senders notices may still be queued when a goaway comes (as when a
# build's last process ends and the daemon at once asks for a goaway).
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed for the goaway after close"
out=$(hurd-probe goaway-after-close "$root" 300 etc 2>&1)
[ "$out" = "goaway-after-close: ok" ] || fail "a goaway right after a client let its ports go: $out"
sleep 1
[ "$(processes sandbox-root "$here/spec.json")" = 0 ] || fail "sandbox-root is still there after its goaway"

# Killed outright: nothing is left, and the node is what it was.
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed the third time"
pid=$(pids sandbox-root "$here/spec.json")
[ -n "$pid" ] || fail "no sandbox-root to kill"
kill -9 "$pid"
sleep 1
[ "$(processes sandbox-root "$here/spec.json")" = 0 ] || fail "a process is left after kill -9"
{ [ -f "$root" ] && [ ! -s "$root" ]; } || fail "the node is not a plain empty file again: $(ls -ld "$root" 2>&1)"
# (fsysopts on a plain file shows its own file system's options.)
case $(fsysopts "$root" 2>&1) in
  *sandbox-root*) fail "sandbox-root still answers on the node after kill -9" ;;
esac
echo "ok"
