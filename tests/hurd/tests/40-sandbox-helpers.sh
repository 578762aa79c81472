#!/bin/sh
# The servers an environment has of its own: with "local": "private",
# sandbox-root starts a pflocal for /servers/socket/1 (pipes go through
# it); with "inet" and "inet6": "filtered" and the loopback policy, a
# pfinet with no interface but loopback for /servers/socket/2 and /26; and
# a watcher. settrans -g ends them all; so does kill -9 of sandbox-root
# alone.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
mkdir -p host/build
chmod 777 host/build
cat > spec.json <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build", "path": "/tmp/guix-build-x.drv-0" },
  "paths": [
    { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" }, { "host": "/test/bin", "path": "/probe" }
  ],
  "user": { "name": "guixbuilder01", "uid": 30001, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "host", "sockets": { "local": "private", "inet": "filtered", "inet6": "filtered" } },
  "network": { "policy": "loopback" }
}
JSON
root=$here/root
touch "$root"
sr=$(command -v sandbox-root)
# shellcheck disable=SC1091 # the payload's copy of tests/hurd/lib.sh
. /test/lib.sh
before=$(processes /hurd/pflocal)
pfinets=$(processes /hurd/pfinet)

settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed"
[ "$(processes /hurd/pflocal)" = $((before + 1)) ] || fail "no pflocal of the environment's own runs"
[ "$(processes /hurd/pfinet)" = $((pfinets + 1)) ] || fail "no pfinet of the environment's own runs"
[ "$(processes sandbox-root "$here/spec.json")" = 2 ] || fail "sandbox-root and its watcher are not both running"

# Pipes inside go through it: its socket server is not the host's.
"$sr" exec "$root" -- /bin/sh -c 'echo through | cat' > out 2> err || fail "exec failed: $(cat err)"
[ "$(cat out)" = through ] || fail "a pipe inside carried '$(cat out)'"
inside=$("$sr" exec "$root" -- /bin/sh -c 'ls -id /servers/socket/1') || fail "no /servers/socket/1 inside"
outside=$(ls -id /servers/socket/1)
[ "${inside%% *}" != "${outside%% *}" ] || fail "/servers/socket/1 inside is the host's ($inside, $outside)"

# TCP over loopback works inside; nothing else is reachable.
"$sr" exec "$root" -- /probe/hurd-probe net 7777 192.0.2.1:80 > netout 2> err || fail "hurd-probe net failed: $(cat err)"
echo "inside: $(tr '\n' ' ' < netout)"
grep -qx 'loopback: ok' netout || fail "TCP over loopback inside: $(cat netout)"
grep -q '^remote: Network is unreachable' netout || fail "a connection out of the environment: $(cat netout)"
"$sr" exec "$root" -- /probe/hurd-probe net 7778 '[2001:db8::1]:80' > netout 2> err || fail "hurd-probe net (IPv6) failed: $(cat err)"
echo "inside, IPv6: $(tr '\n' ' ' < netout)"
grep -qx 'loopback: ok' netout || fail "TCP over IPv6 loopback inside: $(cat netout)"
grep -q '^remote: Network is unreachable' netout || fail "an IPv6 connection out of the environment: $(cat netout)"

settrans -g "$root" || fail "settrans -g failed"
sleep 1
[ "$(processes sandbox-root "$here/spec.json")" = 0 ] || fail "sandbox-root or its watcher runs after settrans -g"
[ "$(processes /hurd/pflocal)" = "$before" ] || fail "the environment's pflocal runs after settrans -g"
[ "$(processes /hurd/pfinet)" = "$pfinets" ] || fail "the environment's pfinet runs after settrans -g"

# kill -9 of sandbox-root alone: the watcher ends the pflocal, and itself.
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed the second time"
[ "$(processes /hurd/pflocal)" = $((before + 1)) ] || fail "no pflocal the second time"
main=
for pid in $(pids sandbox-root "$here/spec.json"); do
  # The watcher is sandbox-root's child: the main process is the other.
  ppid=$(cut -d' ' -f4 "/proc/$pid/stat")
  case " $(pids sandbox-root "$here/spec.json" | tr '\n' ' ') " in
    *" $ppid "*) ;;
    *) main=$pid ;;
  esac
done
[ -n "$main" ] || fail "cannot tell sandbox-root from its watcher"
kill -9 "$main"
sleep 2
[ "$(processes sandbox-root "$here/spec.json")" = 0 ] || fail "a process of ours is left after kill -9 of sandbox-root"
[ "$(processes /hurd/pflocal)" = "$before" ] || fail "the environment's pflocal outlived sandbox-root's kill -9"
[ "$(processes /hurd/pfinet)" = "$pfinets" ] || fail "the environment's pfinet outlived sandbox-root's kill -9"
{ [ -f "$root" ] && [ ! -s "$root" ]; } || fail "the node is not a plain empty file again: $(ls -ld "$root" 2>&1)"
echo ok
