#!/bin/sh
# Ways out of the environment, tried as a builder would: translators it
# sets, outputs it turns into links, host server ports kept without
# reauthenticating, changes through ports below a read-only input, hard
# links out of it, requests that block the translator or overflow, what
# `exec` leaks into the builder, and the randomness it gets. Each attack
# must fail, and the host must be as it was.
# shellcheck disable=SC2016 # the $ in the inner scripts are the builder's
set -eu
fail() { echo "FAIL: $*"; exit 1; }
# Each attack is tried whatever became of the others: a broken defence is
# reported, and the test goes on to the next.
failed=0
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
here=$PWD
sr=$(command -v sandbox-root)
probe=$(command -v hurd-probe)
mkdir -p host/build host/input/sub store/zzz-other
chmod 777 host/build store
# A store item that is neither an input nor an output.
echo other > store/zzz-other/file
# An input the host would let anyone change.
echo input > host/input/file
chmod 777 host/input host/input/sub
chmod 666 host/input/file
# A set-user-ID root program in an input: inside, it may not run as root.
cp "$(command -v hurd-probe)" host/input/suid-probe
chmod 4755 host/input/suid-probe
# A file of the host's that no build may read or change.
echo secret > secret
chmod 600 secret

spec() { # spec FILE OUTPUT...: a spec with these outputs
  file=$1; shift
  outputs=$(for o in "$@"; do printf '"%s",' "$here/store/$o"; done)
  cat > "$file" <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build", "path": "/tmp/guix-build-x.drv-0" },
  "store": "$here/store",
  "outputs": [ ${outputs%,} ],
  "paths": [
    { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" }, { "host": "/hurd", "path": "/hurd" },
    { "host": "$(dirname "$probe")", "path": "/probe" },
    { "host": "$here/host/input", "path": "/gnu/store/abc-input" }
  ],
  "user": { "name": "guixbuilder01", "uid": 30001, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "host", "sockets": { "local": "host", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "out": "$here/store/abc-out", "doc": "$here/store/abc-doc", "lib": "$here/store/abc-lib",
                     "secret": "$here/secret", "PATH": "/bin:/probe" } }
}
JSON
}
spec spec.json abc-out abc-doc abc-lib
root=$here/root
touch "$root"
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed"

# 1. Translators the build sets on host nodes: no passive record ever
# (the host would start it as the node's owner with the host's root, and
# keep it), not /hurd/fifo's either (the host would start it as the build
# user with the host's root); links still work. An active translator the
# build starts itself runs inside, as the build user, with the
# environment as its root, and is kept by sandbox-root, never set on the
# host's node (the host would hand it a port above it with no identity).
"$sr" exec "$root" -- /bin/sh -c '
  touch node && mkdir "$out" && touch "$out/node"
  for n in node "$out/node"; do
    if settrans -p "$n" /hurd/firmlink / 2> /dev/null; then echo "passive=set $n"; fi
  done
  ln -s ../node link && [ -h link ] && echo "symlink=made"
  if mkfifo fifo 2> /dev/null; then echo "fifo=made"; fi
  touch t t2
  settrans -a t /hurd/firmlink /etc && echo "active=$(grep -c guixbuilder01 t/passwd)"
  settrans -g t && [ ! -e t/passwd ] && echo "active=gone"
  settrans -a t2 /hurd/firmlink /etc
' > out1 2> err1 || bad "exec (translators) failed: $(cat err1)"
cat out1
grep -q "passive=set" out1 && bad "the build set a passive translator: $(grep passive= out1)"
grep -qx "active=1" out1 || bad "an active translator started inside does not see the environment: $(cat out1 err1)"
grep -qx "active=gone" out1 || bad "the build could not remove its own active translator: $(cat err1)"
[ -e host/build/t2/passwd ] && bad "an active translator the build set is on the host's node"
grep -qx "fifo=made" out1 && bad "the build made a FIFO the host serves"
grep -qx "symlink=made" out1 || bad "the build cannot make a symbolic link: $(cat err1)"

# 2. Outputs the build turns into links (a file, then the record the C
# library makes a link with), or climbs out of with `..`: followed as the
# build user, inside, never as root on the host, and never into the rest
# of the store.
"$sr" exec "$root" -- /bin/sh -c '
  # (Made with O_EXCL: an output made as a file is opened once.)
  (set -C && echo made > "$doc") && settrans -p "$doc" /hurd/symlink "$secret" && [ -h "$doc" ] && echo "absolute=link"
  echo pwned > "$doc" 2> /dev/null || :
  echo made > "$lib" && settrans -p "$lib" /hurd/symlink ../secret && [ -h "$lib" ] && echo "relative=link"
  echo pwned > "$lib" 2> /dev/null || :
  cat "$doc" "$lib" 2> /dev/null || :
  echo "up=$(ls "$out/.." | tr "\n" " ")"
  if cat "$out/../zzz-other/file" 2> /dev/null; then echo "other=read"; fi
  if echo x > "$out/../zzz-new" 2> /dev/null; then echo "store=written"; fi
' > out2 2> err2 || bad "exec (outputs) failed: $(cat err2)"
cat out2
[ "$(cat secret)" = secret ] || bad "a host file was changed through an output link: $(cat secret)"
grep -qx "absolute=link" out2 && grep -qx "relative=link" out2 || bad "the build could not make its outputs links: $(cat err2)"
grep -q "^secret\|^other\|=written" out2 && bad "an output reached the host: $(cat out2)"
grep -q "zzz-other" out2 && bad "the store's other items are listed from an output: $(grep up= out2)"
[ ! -e store/zzz-new ] || bad "the build made a store item beside its outputs"

# 3. Host server ports carry the client's identity only, reauthenticated
# or not: their file system's control port is not the build's.
"$sr" exec "$root" -- /probe/hurd-probe control servers/socket/1 > out3 2> err3 ||
  bad "hurd-probe control failed: $(cat err3)"
cat out3
grep -qx "control: EPERM" out3 || bad "a host server's control port through its port: $(cat out3)"

# A reauthenticated port carries the client's identity from its first
# request on (it was served with none until the auth server answered, and
# one still running then kept it so: a build user's own file became
# read-only to it), nor more than it.
"$sr" exec "$root" -- /bin/sh -c '
  echo mine > reauthed; chmod 644 reauthed
  # (Beside a busy loop and another client, which widen the window.)
  sh -c "while :; do :; done" & busy=$!
  sh -c "while :; do ls / > /dev/null; done" & lister=$!
  /probe/hurd-probe reauth-race reauthed 500
  kill $busy $lister
' > out3b 2> err3b || bad "hurd-probe reauth-race failed: $(cat err3b)"
cat out3b
grep -qx "first=[0-9]* lacked=0 failed=0 of 500" out3b ||
  bad "reauthenticated ports answered with less than the client's identity: $(cat out3b)"
grep -q "^first=[0-9]*[2367] " out3b || bad "the build user may not write its own file: $(cat out3b)"
echo "reauth-race: $(cat out3b)"

# 4. Below a read-only input, no port changes anything (the file is
# writable by anyone on the host), and no hard link leads out of it.
"$sr" exec "$root" -- /bin/sh -c '
  /probe/hurd-probe change /gnu/store/abc-input/file
  if ln /gnu/store/abc-input/file hardlink 2> lnerr; then echo "hardlink=made"; else echo "hardlink=$(cat lnerr)"; fi
  /gnu/store/abc-input/suid-probe ids
' > out4 2> err4 || bad "exec (read-only) failed: $(cat err4)"
cat out4
for what in reopen-write chmod write; do
  grep -q "^$what: E" out4 || bad "$what of a read-only input's file: $(grep "^$what" out4)"
done
grep -q "hardlink=.*cross-device" out4 || bad "a hard link out of a read-only input: $(grep hardlink out4)"
[ ! -e host/build/hardlink ] || bad "a hard link to an input's file is in the build directory"
[ "$(cat host/input/file)" = input ] || bad "the read-only input's file changed: $(cat host/input/file)"
grep -q "^euids=30001 " out4 || bad "a set-user-ID program did not run as the build user: $(grep euids out4) $(cat err4)"

# 5. Requests that block (reauthentications never finished) keep neither
# other clients nor the goaway from being answered.
"$sr" exec "$root" -- /bin/sh -c '
  /probe/hurd-probe stall / 12 > stalled &
  staller=$!
  sleep 3
  echo "staller=$(cat stalled)"
  if timeout 30 ls /gnu/store > /dev/null; then echo "responsive=yes"; else echo "responsive=no"; fi
  kill $staller
' > out5 2> err5 || bad "exec (stall) failed: $(cat err5)"
cat out5
grep -qx "staller=stalled 12" out5 || bad "the staller did not start: $(cat out5 err5)"
grep -qx "responsive=yes" out5 || bad "blocked requests stopped the environment from answering"

# 6. Numbers that overflow are answered, not fatal; so is a message far
# larger than any request (8 MiB inline, more than a server thread's
# stack).
case $(uname -m) in i?86*) max=4294967295 ;; *) max=18446744073709551615 ;; esac
"$sr" exec "$root" -- /bin/sh -c "
  /probe/hurd-probe read-at /etc/passwd 9223372036854775807 $max
  /probe/hurd-probe read-at /etc/passwd 3 $max
  /probe/hurd-probe huge-message /etc/passwd 8
  echo alive=\$(grep -c guixbuilder01 /etc/passwd)
" > out6 2> err6 || bad "exec (overflow) failed: $(cat err6)"
cat out6
grep -qx "read: 0 bytes" out6 || bad "a read at the largest offset: $(cat out6 err6)"
grep -qx "huge-message: sent: ok; the port afterwards: ok" out6 ||
  bad "an 8 MiB message: $(grep huge-message out6; cat err6)"
grep -qx "alive=1" out6 || bad "the environment did not survive an overflowing read or a huge message: $(cat out6 err6)"

# 7. exec gives the builder exactly the spec's ids, whatever ids its
# caller has, and no descriptor but 0 to 2.
"$probe" with-ids 1234 4321 "$sr" exec "$root" -- /probe/hurd-probe ids > out7 2> err7 ||
  bad "exec (ids) failed: $(cat err7)"
"$sr" exec "$root" -- /bin/sh -c 'if cat <&3 > /dev/null 2>&1; then echo "fd3=open"; else echo "fd3=closed"; fi' \
  3< /etc/passwd >> out7 2>> err7 || bad "exec (descriptors) failed: $(cat err7)"
cat out7
grep -qx "euids=30001 auids=30001,30001 egids=30000 agids=30000,30000" out7 ||
  bad "the builder's ids are not exactly the spec's: $(head -n 1 out7)"
grep -qx "fd3=closed" out7 || bad "a descriptor of exec's caller reached the builder"

# 8. The randomness is the host's own source, given with the builder's
# identity (the host's node, not one of ours).
if [ -e /dev/urandom ]; then
  "$sr" exec "$root" -- /bin/sh -c 'ls -iL /dev/urandom; od -An -N8 -tx1 /dev/urandom' > out8 2> err8 ||
    bad "exec (random) failed: $(cat err8)"
  cat out8
  inode() { sed 's/^ *//; s/ .*//'; }
  [ "$(head -n 1 out8 | inode)" = "$(ls -iL /dev/urandom | inode)" ] ||
    bad "/dev/urandom inside is not the host's: $(cat out8) against $(ls -iL /dev/urandom)"
  [ "$(sed -n 2p out8 | tr -d ' ')" != "" ] || bad "/dev/urandom gave nothing inside: $(cat err8)"
else
  echo "note: the host has no /dev/urandom (a Hurd built without libgcrypt): inside, it answers ENOENT"
fi

# The stalled reauthentications still hold server threads: the forced
# goaway is answered all the same.
timeout 60 settrans -fg "$root" || bad "settrans -fg did not end the environment (status $?)"

# After the build: no record on the host, nothing reached the store.
for n in host/build/node store/abc-out/node; do
  [ -z "$(showtrans "$n" 2> /dev/null)" ] || bad "a translator record survives on $n: $(showtrans "$n")"
done

# exec trusts only a node of its caller's: a node someone else owns may
# carry anything.
spec other.json abc-other
other=$here/other
touch "$other"
chown 30001 "$other"
settrans -a "$other" "$sr" "$here/other.json" || fail "settrans (other) failed"
if "$sr" exec "$other" -- /bin/true 2> err9; then bad "exec trusted a node the build user owns"; fi
grep -q "not trusted" err9 || bad "exec's refusal does not say why: $(cat err9)"
settrans -fg "$other"

# An output already on the host is refused when serving starts, by name.
mkdir store/abc-stale
spec stale.json abc-stale
stale=$here/stale
touch "$stale"
if settrans -a "$stale" "$sr" "$here/stale.json" 2> err10; then bad "an output already on the host was accepted"; fi
grep -q "abc-stale already exists" err10 || bad "the refusal does not name the output: $(cat err10)"
[ -z "$(showtrans "$stale" 2> /dev/null)" ] || bad "a refused spec left a translator"
[ "$failed" = 0 ] || fail "$failed of the attacks above got through"
echo ok
