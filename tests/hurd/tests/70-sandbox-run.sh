#!/bin/sh
# sandbox-root run: the daemon's per-build sequence as one command. CMD's
# status, standard input, output and error pass through; a bad spec
# starts nothing and leaves nothing; whatever the builder leaves running
# (children that outlive it, a loop that keeps forking) is ended, and
# nothing of the environment is left when run returns (no translator, no
# process of the build user, no node); SIGTERM to run ends the build the
# same way; --keep-failed hands a failed build's directory to the
# invoking user without changing anything through a link or a translator
# on a node of it.
# shellcheck disable=SC2016 # the $ in the inner scripts are the builder's
# shellcheck disable=SC2012 # listings of names the test chose
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
sr=$(command -v sandbox-root)
# shellcheck disable=SC1091 # the payload's copy of tests/hurd/lib.sh
. /test/lib.sh

# spec NAME BUILD: a spec of the build directory BUILD (on the host), in
# NAME.json.
spec() {
  mkdir -p "$2"
  chmod 777 "$2"
  cat > "$1.json" <<JSON
{
  "version": 1,
  "build": { "host": "$2", "path": "/tmp/guix-build-x.drv-0" },
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" } ],
  "user": { "name": "guixbuilder01", "uid": 30001, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "host", "sockets": { "local": "private", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "PATH": "/bin" } }
}
JSON
}
spec spec "$here/host/build"
# Fresh nodes are made in $TMPDIR: one of the test's own, to see that
# nothing is left in it.
mkdir tmp
TMPDIR=$here/tmp
export TMPDIR
pflocals=$(processes /hurd/pflocal)

# nothing_left WHAT: no process of the build user, no sandbox-root of the
# test's specs, no pflocal of an environment's own, nothing in $TMPDIR.
nothing_left() {
  [ "$(owned_by 30001)" = 0 ] || fail "$1: processes of the build user are left"
  [ "$(processes sandbox-root "$here/")" = 0 ] || fail "$1: a sandbox-root of the test is left running"
  [ "$(processes /hurd/pflocal)" = "$pflocals" ] || fail "$1: the environment's pflocal is left running"
  [ -z "$(ls -A tmp)" ] || fail "$1: left in \$TMPDIR: $(ls -A tmp)"
}
[ "$(owned_by 30001)" = 0 ] || fail "processes of the build user run before the test"

# CMD's status passes through: 0, 3, and 128 + N for a CMD killed by
# signal N.
for cmd in 'exit 0:0' 'exit 3:3' 'kill -KILL $$:137' 'kill -TERM $$:143'; do
  set +e
  "$sr" run spec.json -- /bin/sh -c "${cmd%:*}" 2> err
  status=$?
  set -e
  [ "$status" = "${cmd##*:}" ] || fail "run of '${cmd%:*}' exited with $status, not ${cmd##*:}: $(cat err)"
  [ ! -s err ] || fail "run of '${cmd%:*}' said: $(cat err)"
  nothing_left "run of '${cmd%:*}'"
done
echo "statuses: ok"

# --log-level (or RUST_LOG): run, the translator (started through env:
# settrans gives it an empty environment) and exec log at that level.
for how in --log-level=debug RUST_LOG=debug; do
  case $how in
    --*) "$sr" run "$how" spec.json -- /bin/true 2> err || fail "run $how failed: $(cat err)" ;;
    *) env "$how" "$sr" run spec.json -- /bin/true 2> err || fail "$how run failed: $(cat err)" ;;
  esac
  grep -q "DEBUG sandbox_root::run" err || fail "$how: run did not log: $(cat err)"
  grep -q "spec.json: [0-9]* entries" err || fail "$how: the translator did not log: $(cat err)"
  grep -q "DEBUG sandbox_root::exec\]" err || fail "$how: exec did not log: $(cat err)"
  nothing_left "run $how"
done
echo "log level: ok"

# Standard input, output and error pass through, as the build user, in
# the build directory, with the spec's environment.
echo hello > input
LEAK=outside "$sr" run spec.json -- /bin/sh -c '
  read line; echo "read=$line"; echo "ids=$(id -u):$(id -g) pwd=$(pwd) leak=${LEAK-unset}"
  echo to-stderr >&2; echo "pipe=$(echo through | cat)"' < input > out 2> err || fail "run failed: $(cat err)"
cat out
grep -qx "read=hello" out || fail "standard input did not pass through"
grep -qx "ids=30001:30000 pwd=/tmp/guix-build-x.drv-0 leak=unset" out || fail "CMD did not run as exec runs it"
grep -qx "pipe=through" out || fail "pipes do not work inside"
[ "$(cat err)" = to-stderr ] || fail "standard error did not pass through: $(cat err)"
nothing_left "run with input and output"

# A bad spec: the problem named where it is, exit 65, nothing started, no
# node made (neither a fresh one nor --node), nothing left.
cat > bad.json <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build" },
  "inputs": [ "gnu/store/relative" ],
  "user": { "name": "guixbuilder01", "uid": 0, "group": "guixbuild", "gid": 30000 }
}
JSON
for node in '' "--node=$here/given"; do
  set +e
  # shellcheck disable=SC2086 # no option, or one
  "$sr" run $node bad.json -- /bin/sh -c 'echo ran > ran' 2> err
  status=$?
  set -e
  [ "$status" = 65 ] || fail "run of a bad spec exited with $status: $(cat err)"
  grep -q "bad.json: \$.inputs\[0\]" err || fail "the error does not name \$.inputs[0]: $(cat err)"
  grep -q "bad.json: \$.user.uid" err || fail "the error does not name \$.user.uid: $(cat err)"
  [ ! -e given ] || fail "a bad spec made the node given"
  [ ! -e host/build/ran ] || fail "a bad spec ran CMD"
  [ "$(processes sandbox-root "$here/bad.json")" = 0 ] || fail "a bad spec left a process"
  nothing_left "run of a bad spec"
done
echo "bad spec: ok"

# --node: a path that does not exist yet is made and removed; an empty
# file is used and stays, a plain empty file again (run did not make it);
# anything else (a file with data, or with another name) is refused,
# named, untouched.
"$sr" run --node "$here/given" spec.json -- /bin/true || fail "run --node of a new path failed"
[ ! -e given ] || fail "the node run made is left"
touch given
chmod 600 given
"$sr" run --node "$here/given" spec.json -- /bin/true 2> err || fail "run --node of an empty file failed: $(cat err)"
[ -f given ] && [ ! -L given ] || fail "the node given, which existed, was removed"
[ ! -s given ] || fail "the node given is not empty after the run"
[ -z "$(showtrans given)" ] || fail "a passive translator is left on the node given: $(showtrans given)"
[ "$(stat -c %u given)" = 0 ] || fail "the node given changed owner"
ln given given2
if "$sr" run --node "$here/given" spec.json -- /bin/true 2> err; then fail "run took a node with two names"; fi
grep -q "given: it has 2 names (hard links)" err || fail "the error does not say the node has two names: $(cat err)"
rm given2
echo data > given
if "$sr" run --node "$here/given" spec.json -- /bin/true 2> err; then fail "run took a node that is not empty"; fi
grep -q "given: it is not empty" err || fail "the error does not say what is wrong with the node: $(cat err)"
[ "$(cat given)" = data ] || fail "a refused node was changed"
rm given
nothing_left "run --node"
echo "--node: ok"

# Children that outlive the builder, and a loop that keeps forking while
# the environment ends: none is left when run returns.
"$sr" run spec.json -- /bin/sh -c '(sleep 1000 &) ; exit 0' 2> err || fail "run of a forking builder failed: $(cat err)"
nothing_left "a builder whose child outlives it"
"$sr" run spec.json -- /bin/sh -c '
  i=0
  while [ $i -lt 2000 ]; do /bin/sh -c "/bin/sleep 1000 &"; i=$((i + 1)); done > /dev/null 2>&1 &
  /bin/sleep 3; exit 0' 2> err || fail "run of a builder that keeps forking failed: $(cat err)"
cat err
nothing_left "a builder that keeps forking"
echo "forks: ok"

# SIGTERM to run while CMD runs: the build ends the same way, run exits
# with 143.
"$sr" run spec.json -- /bin/sh -c '/bin/sleep 1000 & /bin/sleep 1000' 2> err &
run=$!
tries=0
while [ "$(owned_by 30001 2> /dev/null)" -lt 2 ]; do
  tries=$((tries + 1))
  [ "$tries" -le 60 ] || fail "the builder did not start: $(cat err)"
  sleep 1
done
kill -TERM "$run"
set +e
wait "$run"
status=$?
set -e
[ "$status" = 143 ] || fail "run exited with $status after SIGTERM, not 143: $(cat err)"
nothing_left "SIGTERM to run"
echo "SIGTERM: ok"

# --keep-failed: a failed build's directory goes to the invoking user
# (SUDO_UID under sudo): the directory, what the build made in it and the
# build's own link; never a file with another name (a hard link to a
# root-owned file outside, made there before the build as a build could
# where no chroot stops it), nor what a link names, nor a node with a
# translator on it (a passive record that the host's file system starts,
# or an active translator set from outside: each answers a lookup of the
# node with /etc/shadow), nor what is below such a directory.
echo secret > /tmp/run-outside
echo target > /tmp/run-link-target
chown 0:0 /tmp/run-outside /tmp/run-link-target
chmod 600 /tmp/run-outside /tmp/run-link-target
shadow=$(stat -c %u:%g:%a /etc/shadow)
etc=$(stat -c %u:%g:%a /etc)
spec keep "$here/host/keep"
ln /tmp/run-outside host/keep/hard
touch host/keep/firm host/keep/active
mkdir host/keep/firmdir
echo inner > host/keep/firmdir/inner
chown -R 30001:30000 host/keep/firm host/keep/active host/keep/firmdir
settrans -p host/keep/firm /hurd/firmlink /etc/shadow
settrans -p host/keep/firmdir /hurd/firmlink /etc
settrans -a host/keep/active /hurd/firmlink /etc/shadow
# (That such a record is /etc/shadow to a lookup, on a node of root's of
# its own: the build user's would be started as the build user.)
touch /tmp/run-firm
settrans -p /tmp/run-firm /hurd/firmlink /etc/shadow
[ "$(stat -c %u:%g:%a /tmp/run-firm)" = "$shadow" ] || fail "a passive firmlink is not /etc/shadow to a lookup: $(stat -c %u:%g:%a /tmp/run-firm)"
settrans -fg /tmp/run-firm
rm /tmp/run-firm
set +e
# (The build sets a passive /hurd/symlink record, which sandbox-root
# lets through: the host's file system makes it a symbolic link.)
SUDO_UID=4242 SUDO_GID=4343 "$sr" run --keep-failed keep.json -- /bin/sh -c '
  mkdir dir && echo x > dir/file && echo y > setuid && chmod 4755 setuid
  ln -s /tmp/run-link-target soft && echo z > twice && ln twice twice2
  touch linked && { settrans -p linked /hurd/symlink /etc/shadow || echo "inside: settrans -p linked: refused"; }
  exit 5' 2> err
status=$?
set -e
cat err
[ "$status" = 5 ] || fail "run --keep-failed exited with $status, not CMD's 5"
grep -q "build directory is kept: $here/host/keep (now uid 4242, gid 4343)" err || fail "run did not say where the build directory is"
grep -q "host/keep/hard: left as it is" err || fail "run did not say the hard link was left"
for f in . dir dir/file setuid soft; do
  [ "$(stat -c %u:%g "host/keep/$f")" = 4242:4343 ] || fail "host/keep/$f is $(stat -c %u:%g "host/keep/$f"), not the invoking user's"
done
[ "$(stat -c %a host/keep/setuid)" = 755 ] || fail "the set-user-ID bit of the build's file is kept: $(stat -c %a host/keep/setuid)"
[ "$(stat -c %u:%g:%a /tmp/run-outside)" = 0:0:600 ] || fail "the file outside was changed through the hard link: $(stat -c %u:%g:%a /tmp/run-outside)"
[ "$(cat /tmp/run-outside)" = secret ] || fail "the file outside was changed"
[ "$(stat -c %u:%g:%a /tmp/run-link-target)" = 0:0:600 ] || fail "the symbolic link was followed: $(stat -c %u:%g:%a /tmp/run-link-target)"
[ "$(stat -c %u host/keep/twice)" = 30001 ] || fail "a file with two names was changed"
[ "$(stat -c %u:%g:%a /etc/shadow)" = "$shadow" ] || fail "/etc/shadow was changed through a translator: $(stat -c %u:%g:%a /etc/shadow), not $shadow"
[ "$(stat -c %u:%g:%a /etc)" = "$etc" ] || fail "/etc was changed through a translator: $(stat -c %u:%g:%a /etc), not $etc"
for f in firm firmdir; do
  grep -q "host/keep/$f: left as it is: a passive translator record is set on it" err || fail "run did not say host/keep/$f was left"
done
grep -q "host/keep/active: left as it is: an active translator is set on it" err || fail "run did not say host/keep/active was left"
if grep -q "inside: settrans -p linked: refused" err; then
  echo "(the build may not set a /hurd/symlink record: not tried)"
else
  [ -L host/keep/linked ] || fail "the build's /hurd/symlink record did not make a symbolic link: $(ls -l host/keep/linked)"
  [ "$(stat -c %u:%g host/keep/linked)" = 4242:4343 ] || fail "the build's symbolic link is not the invoking user's: $(stat -c %u:%g host/keep/linked)"
fi
# The nodes with a translator are as they were below it: the build
# user's.
[ "$(showtrans host/keep/firm)" = "/hurd/firmlink /etc/shadow" ] || fail "the passive record of host/keep/firm changed: $(showtrans host/keep/firm)"
settrans -fg host/keep/active
settrans host/keep/firm
settrans host/keep/firmdir
for f in firm active firmdir firmdir/inner; do
  [ "$(stat -c %u:%g "host/keep/$f")" = 30001:30000 ] || fail "host/keep/$f, which had a translator, was changed: $(stat -c %u:%g "host/keep/$f")"
done
# Without --keep-failed, a failed build's directory is left to the daemon
# as it is.
spec plain "$here/host/plain"
if "$sr" run plain.json -- /bin/sh -c 'echo x > made; exit 1' 2> err; then fail "a failing CMD made run succeed"; fi
[ "$(stat -c %u host/plain/made)" = 30001 ] || fail "without --keep-failed the build directory was handed over"
! grep -q "kept" err || fail "without --keep-failed run said: $(cat err)"
nothing_left "run --keep-failed"
rm -f /tmp/run-outside /tmp/run-link-target
echo "--keep-failed: ok"
echo ok
