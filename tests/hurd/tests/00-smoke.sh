#!/bin/sh
# Smoke test: a Rust program of the workspace runs on the Hurd and asks it
# questions through the safe layer (hurd-sys's bindings, owned ports).
set -eu
fail() { echo "FAIL: $*"; exit 1; }

# The passive translator of a node, read with file_get_translator, is
# what settrans recorded and what showtrans prints.
node=$PWD/node
: > "$node"
settrans "$node" /hurd/null --smoke-arg
want=$(showtrans "$node")
[ "$want" = "/hurd/null --smoke-arg" ] || fail "showtrans printed '$want'"
got=$(hurd-probe translator "$node")
[ "$got" = "$want" ] || fail "hurd-probe read '$got', showtrans '$want'"

# A node without one reads as empty, and a missing node is an error that
# names the path.
: > "$PWD/plain"
got=$(hurd-probe translator "$PWD/plain")
[ -z "$got" ] || fail "a plain file has translator '$got'"
if hurd-probe translator /nonexistent/x 2> err; then fail "a missing node was found"; fi
grep -q "/nonexistent/x" err || fail "the error does not name the path: $(cat err)"

# The proc server's PIDs for a child of this shell are the ones the shell
# knows: its own PID as the parent, $! as the child's.
hurd-probe pids > pids.out &
child=$!
wait "$child"
read -r _ pid _ ppid _ orphaned < pids.out
[ "$pid" = "$child" ] || fail "proc says pid $pid, the shell started $child"
[ "$ppid" = "$$" ] || fail "proc says ppid $ppid, the shell is $$"
echo "ok: translator '$want'; pid $pid ppid $ppid orphaned $orphaned"
