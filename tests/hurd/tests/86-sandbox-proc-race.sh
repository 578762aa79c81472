#!/bin/sh
# A build that makes tasks and ends them while sandbox-proc is asked
# about them (each proc_task2proc makes the task a member): sandbox-proc
# must never ask the host's proc server about such a process (the host
# relays the question to the namespace, and when the answer is an error
# goes on with its freed record of a process that died meanwhile, and
# aborts, taking the whole system down). After thousands of rounds, the
# host's proc server is the same process and answers, and the
# environment still serves.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
mkdir -p build
chmod 777 build
cat > spec.json <<JSON
{
  "version": 1,
  "build": { "host": "$here/build", "path": "/build" },
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" },
             { "host": "$(dirname "$(command -v hurd-probe)")", "path": "/probe" } ],
  "user": { "name": "racer", "uid": 30003, "group": "racer", "gid": 30000 },
  "servers": { "proc": "private", "sockets": { "local": "host", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "PATH": "/bin" } }
}
JSON
# shellcheck disable=SC1091 # the payload's copy of tests/hurd/lib.sh
. /test/lib.sh
proc_before=$(pids /hurd/proc)
[ -n "$proc_before" ] || fail "no /hurd/proc on the host to begin with"
sr=$(command -v sandbox-root)
touch root
settrans -a root "$sr" "$here/spec.json" || fail "settrans failed"
# Two racers at once, and ps asking about whoever is there meanwhile.
"$sr" exec root -- /probe/hurd-probe task-race 1500 > race1 2>&1 &
r1=$!
"$sr" exec root -- /probe/hurd-probe task-race 1500 > race2 2>&1 &
r2=$!
"$sr" exec root -- /bin/sh -c 'i=0; while [ $i -lt 40 ]; do ps -e > /dev/null 2>&1; i=$((i + 1)); done' &
r3=$!
wait "$r1" || fail "the first racer failed: $(cat race1)"
wait "$r2" || fail "the second racer failed: $(cat race2)"
wait "$r3" || true
cat race1 race2
grep -q "^task-race: 1500 tasks" race1 || fail "the first racer did not finish: $(cat race1)"
grep -q "^task-race: 1500 tasks" race2 || fail "the second racer did not finish: $(cat race2)"
[ "$(pids /hurd/proc)" = "$proc_before" ] || fail "the host's proc server is not the one it was"
ps -e > /dev/null || fail "the host's ps fails"
"$sr" exec root -- /bin/sh -c 'echo alive' | grep -qx alive || fail "the environment no longer serves"
settrans -fg root || fail "settrans -fg failed"
echo ok
