#!/bin/sh
# sandbox-proc: with "proc": "private" the builder is PID 1 of a PID
# namespace of its own: it sees only the build's processes, gets ESRCH
# for every host process, fork/exec/wait/kill work inside, and settrans
# -fg or a SIGKILL of sandbox-root leaves no process of the build.
# shellcheck disable=SC2016 # the $ in the inner scripts are the builder's
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
mkdir -p host/build
chmod 777 host/build
cat > spec.json <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build", "path": "/tmp/guix-build-p.drv-0" },
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" },
             { "host": "/test/bin", "path": "/probe" } ],
  "user": { "name": "guixbuilder02", "uid": 30002, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "private", "sockets": { "local": "host", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "PATH": "/bin", "HOME": "/homeless-shelter" } }
}
JSON
sr=$(command -v sandbox-root)
# The PIDs of the processes whose user is $1 (procfs's status files).
uid_pids() {
  for f in /proc/[0-9]*/status; do
    grep -q "^Uid:[[:space:]]*$1[[:space:]]" "$f" 2> /dev/null && { p=${f#/proc/}; echo "${p%/status}"; }
  done
  return 0
}
root=$here/root
touch "$root"
settrans -a "$root" /bin/env RUST_LOG=info "$sr" "$here/spec.json" 2> translator.log || fail "settrans failed"

# A host process with a secret in its environment, and its PID.
SECRET=hunter2 sleep 600 &
secret=$!

timeout 150 "$sr" exec "$root" -- /bin/sh -c '
  echo "pid=$$"
  echo "ppid=$PPID"
  echo "child=$(sh -c "echo \$PPID")"
  sh -c "exit 3"; echo "status=$?"
  sh -c "kill -TERM \$\$"; echo "signalled=$?"
  sleep 100 & bg=$!
  kill "$bg"; wait "$bg"; echo "killed=$?"
  echo "pipe=$(echo a b c | tr " " "\n" | wc -l)"
  echo "ps=$(ps -e 2> /dev/null | sed -n "2,\$ s/^ *\([0-9]*\).*/\1/p" | sort -n | tr "\n" " ")"
  # What the kernel says of a task and its threads (ps -Q shows a field
  # it could not fill as "-").
  echo "ps-task=$(ps -e -H -Q -o pid,nth,vsize 2>&1 | sed -n "s/^ *1  *\([^ ]*\)  *\([^ ]*\) *\$/\1 \2/p")"
  if kill -0 '"$secret"' 2> /dev/null; then echo "host-kill=yes"; else echo "host-kill=no"; fi
  /probe/hurd-probe proc-peek '"$secret"' | sed "s/^/peek-/"
  # A program started in a task the exec server would make itself, with
  # the host default ports: outside the namespace and the chroot.
  /probe/hurd-probe exec-outside /bin/true
  sh -c "printf \"exec-pid=%s \" \$\$; exec /probe/hurd-probe known-pids"
  echo "builder-ids=$(/probe/hurd-probe known-pids)"
  # A group of its own: its group is its PID, in the namespace.
  /probe/hurd-probe new-pgrp /probe/hurd-probe known-pids | sed "s/^/job-/"
  # Waits for a process group, and for the group of the waiter.
  /probe/hurd-probe group-wait
  # A child spends CPU time: its wait and proc_getchildren_rusage say so.
  /probe/hurd-probe child-usage
  # An orphan: the first process adopts it.
  sh -c "(sh -c \"sleep 2; exec /probe/hurd-probe known-pids\" &); exit 0" | sed "s/^/orphan-/" &
  sleep 4
  # A process group signalled as one.
  /probe/hurd-probe new-pgrp /bin/sh -c "sleep 100 & sleep 100" & pg=$!
  sleep 2
  kill -TERM -$pg; wait $pg; echo "pgrp-kill=$?"
  # kill at once after &: the child may not have told its message port
  # yet (or be execing), and the proc server waits for it.
  n=0 failed=0
  while [ $n -lt 30 ]; do
    sleep 100 & p=$!
    kill "$p" 2> /dev/null || { failed=$((failed + 1)); sleep 1; kill "$p"; }
    wait "$p"
    n=$((n + 1))
  done
  echo "kill-at-once-failed=$failed"
  /probe/hurd-probe msgport-wait
' > out 2> err || fail "exec failed: $(cat out err; echo "the translator said:"; cat translator.log)"
cat out
grep -qx "pid=1" out || fail "the builder is not PID 1"
grep -Eq "^child-usage: status 0, wait [1-9][0-9]*, children [1-9][0-9]*$" out ||
  fail "a wait or proc_getchildren_rusage tells no CPU time of a child that spent some: $(grep ^child-usage out)"
grep -Eq "^ps-task=[1-9][0-9]* [0-9]" out || fail "ps shows no thread count or size of the builder: $(grep ^ps-task= out; cat err)"
grep -qx "ppid=0" out || fail "the builder's parent is not 0"
grep -qx "child=1" out || fail "a child does not see the builder as its parent"
grep -qx "status=3" out || fail "an exit status did not come back through wait"
grep -qx "signalled=143" out || fail "a death by signal did not come back through wait"
grep -qx "killed=143" out || fail "kill between build processes did not work"
grep -qx "kill-at-once-failed=0" out || fail "kill right after & failed: $(grep kill-at-once out)"
# (A question for the message port of a process that has none yet waits
# for it, as the proc server does, instead of failing at once.)
waited=$(sed -n 's/^msgport-wait: ok after \([0-9]*\) ms (set: ok)$/\1/p' out)
case $waited in
  '' | *[!0-9]*) fail "proc_getmsgport did not wait for the port: $(grep msgport-wait out)" ;;
esac
[ "$waited" -ge 1500 ] || fail "proc_getmsgport answered after $waited ms, before the port was there"
grep -qx "pipe=3" out || fail "a pipeline did not work inside"
grep -q "^ps=[0-9]" out || fail "ps inside listed nothing: $(cat err)"
grep "^ps=" out | grep -q " $secret " && fail "ps inside lists a host process"
grep -qx "host-kill=no" out || fail "a host process could be signalled from inside"
grep -qx "exec-outside: EINVAL" out || fail "a program could be started outside: $(grep exec-outside out)"
# Asked directly, the proc server knows nothing of a host process.
for rpc in getprocenv getprocargs pid2task getmsgport getprocinfo getpgrp getsid; do
  grep -qx "peek-$rpc: ESRCH" out || fail "proc_$rpc of a host process did not answer ESRCH: $(grep "peek-$rpc" out)"
done
# Every PID the build's processes know is the namespace's.
set -- $(sed -n 's/^exec-pid=\([0-9]*\) pid \([0-9]*\) ppid \([0-9]*\) pgrp \([0-9-]*\) sid \([0-9-]*\)$/\1 \2 \3/p' out)
[ $# = 3 ] && [ "$1" = "$2" ] || fail "the PID changed across exec: $(grep exec-pid out)"
set -- $(sed -n 's/^job-pid \([0-9]*\) ppid \([0-9]*\) pgrp \([0-9]*\) sid \([0-9]*\)$/\1 \3/p' out)
[ $# = 2 ] && [ "$1" = "$2" ] && [ "$1" -lt 100 ] || fail "a job's process group is not its PID in the namespace: $(grep job- out)"
grep -q "^orphan-pid [0-9]* ppid 1 " out || fail "an orphan's parent is not the first process: $(grep orphan- out)"
# The builder leads a session and process group of its own: 1.
grep -q "^builder-ids=pid [0-9]* ppid 1 pgrp 1 sid 1$" out || fail "the builder's group or session is not 1: $(grep builder-ids out)"
grep -qx "wait(-pgrp): grouped 3" out || fail "a wait for a process group got another child: $(grep "^wait(" out)"
grep -qx "wait(0): other 4" out || fail "a wait for the waiter's own group got another child: $(grep "^wait(" out)"
grep -qx "pgrp-kill=143" out || fail "kill of a process group did not reach it: $(grep pgrp-kill out)"
# Every PID ps shows inside is small: the namespace's own.
for p in $(sed -n 's/^ps=//p' out); do
  [ "$p" -lt 100 ] || fail "ps inside shows PID $p, not one of the namespace's"
done

# A second exec into the same environment joins its namespace: a PID of
# its own, its parent outside (0).
"$sr" exec "$root" -- /bin/sh -c 'echo "second=$$ $PPID"' > out2 2>&1 || fail "a second exec failed: $(cat out2)"
set -- $(sed -n 's/^second=//p' out2)
[ $# = 2 ] && [ "$1" != 1 ] && [ "$1" -lt 100 ] && [ "$2" = 0 ] || fail "a second exec's ids are wrong: $(cat out2)"

# A shell waiting for a long command takes a signal from another process
# (not one of its children, whose end would answer the wait): its wait
# answers EINTR and the shell waits again. (The C library gives up a call
# that a signal interrupted and that has not ended a minute later, with
# EIEIO: a shell takes that for the command's status 255.)
out=$(timeout 150 "$sr" exec "$root" -- /bin/sh -c '
  cd /tmp/guix-build-p.drv-0
  sh -c "trap \"echo caught >&2\" USR1; echo \$\$ > waiter; sleep 66; echo after=\$?" &
  sleep 3
  kill -USR1 "$(cat waiter)"
  wait' 2> trap.err) || fail "the shell whose wait took a signal failed: $out $(cat trap.err)"
[ "$out" = "after=0" ] || fail "a wait that took a signal ended as '$out' ($(cat trap.err))"
grep -q caught trap.err || fail "the signal did not reach the waiting shell: $(cat trap.err)"

# More processes waiting at once than sandbox-root has server threads
# (256): waits hold none, so the children can still end (which asks the
# proc server) and lookups are still answered. Each of 260 subshells
# waits for a child of its own that reads a pipe, which stays open until
# all are there and the writer is killed (forks only: no exec). Twice:
# alone, and with a busy loop beside it in the guest. When all 520 end,
# their deaths are told on a thread of their own: before, they took the
# pool's threads, which filled, so that the shells' interrupt_operation
# (a signal while waiting) was not answered within the second the C
# library gives it, and a shell's wait failed with EIEIO (status 255).
for round in alone busy; do
  busy=
  if [ "$round" = busy ]; then sh -c 'while :; do :; done' & busy=$!; fi
  started=$(date +%s)
  set +e
  out=$(timeout 400 "$sr" exec "$root" -- /bin/sh -c '
    cd /tmp/guix-build-p.drv-0
    sh -c "echo \$\$ > writer-'"$round"'; exec sleep 300" | {
      exec 3<&0
      i=0 pids=
      while [ $i -lt 260 ]; do ( (read x <&3); exit 7 ) & pids="$pids $!"; i=$((i + 1)); done
      ls / > /dev/null && echo "lookup=ok"
      kill "$(cat writer-'"$round"')"; echo "step: kill ended $?" >&2
      n=0
      for p in $pids; do
        if wait "$p"; then s=0; else s=$?; fi
        if [ $s = 7 ]; then n=$((n + 1)); else echo "pid $p: status $s" >&2; fi
      done
      echo "waited=$n"
    }' 2> many.err)
  status=$?
  set -e
  [ -z "$busy" ] || kill "$busy"
  [ "$status" = 0 ] ||
    fail "260 processes waiting at once ($round): exit status $status after $(($(date +%s) - started)) s: '$out' $(tail -n 5 many.err; echo "the translator said:"; tail -n 30 translator.log)"
  [ "$out" = "$(printf 'lookup=ok\nwaited=260')" ] ||
    fail "260 processes waiting at once ($round): '$out' $(tail -n 5 many.err; echo "the translator said:"; tail -n 20 translator.log)"
  ! grep "server threads are busy" translator.log ||
    fail "260 processes waiting at once ($round): the server's threads filled up"
done

# More questions for message ports not there yet (as `kill` right after
# a fork asks) than there are server threads: each is answered when its
# port comes (and ESRCH when its process ends instead), none before, and
# none holds a thread meanwhile. (Before, each held one: the pool
# filled, and the requests that set the ports waited behind the
# questions waiting for them: the step hung.)
for how in set end; do
  set +e
  out=$(timeout 300 "$sr" exec "$root" -- /probe/hurd-probe msgport-wait 300 $how 2> msgport.err)
  status=$?
  set -e
  [ "$status" = 0 ] ||
    fail "300 questions for message ports ($how): exit status $status: '$out' $(cat msgport.err; echo "the translator said:"; tail -n 20 translator.log)"
  if [ $how = set ]; then want="300 ok"; else want="300 ESRCH"; fi
  [ "$out" = "msgport-wait 300 $how: $want; 0 answered before (given: ok)" ] ||
    fail "300 questions for message ports ($how): '$out'"
  ! grep "server threads are busy" translator.log ||
    fail "300 questions for message ports ($how): the server's threads filled up"
done

# With every build process gone, nothing holds the environment: a plain
# goaway leaves.
settrans -g "$root" || fail "settrans -g failed with no build process left"
kill "$secret" 2> /dev/null || true

# A builder that forks continuously, ended by settrans -fg, then by a
# SIGKILL of sandbox-root: no process of the build user is left.
for how in goaway kill; do
  # (Started through sh, which tells its PID and becomes sandbox-root.)
  settrans -a "$root" /bin/sh -c "echo \$\$ > $here/translator.pid; exec $sr $here/spec.json" ||
    fail "settrans failed ($how)"
  "$sr" exec "$root" -- /bin/sh -c 'while :; do (sleep 1000 &) ; sleep 0.2; done' > /dev/null 2>&1 &
  builder=$!
  sleep 5
  [ -n "$(uid_pids 30002)" ] || fail "no build process ran ($how)"
  if [ $how = goaway ]; then
    settrans -fg "$root" || fail "settrans -fg failed"
  else
    kill -KILL "$(cat translator.pid)" || fail "sandbox-root's process could not be killed"
  fi
  tries=0
  while [ -n "$(uid_pids 30002)" ]; do
    tries=$((tries + 1))
    [ "$tries" -le 30 ] || fail "$(uid_pids 30002 | wc -w) processes of the build outlived $how: $(uid_pids 30002)"
    sleep 1
  done
  wait "$builder" 2> /dev/null || true
  settrans -fg "$root" 2> /dev/null || true
done
echo "pass"
