#!/bin/sh
# Outputs: store items the build makes. They are not there until the
# builder makes them (a directory with mkdir, a file with open), they are
# made on the host at their own path as the build user, they can be
# removed again, and nothing else can be made beside them.
# shellcheck disable=SC2016 # the $ in the inner script are the builder's
# shellcheck disable=SC2012 # listings of names the test chose
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
mkdir -p host/build store
# A store the build users may write in, as guix-daemon's is.
chmod 777 host/build store
cat > spec.json <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build", "path": "/tmp/guix-build-x.drv-0" },
  "store": "$here/store",
  "outputs": [ "$here/store/abc-out", "$here/store/abc-doc", "$here/store/abc-tmp" ],
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" } ],
  "user": { "name": "guixbuilder01", "uid": 30001, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "host", "sockets": { "local": "private", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "out": "$here/store/abc-out", "doc": "$here/store/abc-doc", "tmp": "$here/store/abc-tmp" } }
}
JSON
root=$here/root
touch "$root"
sr=$(command -v sandbox-root)
settrans -a "$root" "$sr" "$here/spec.json" || fail "settrans failed"

"$sr" exec "$root" -- /bin/sh -c '
  store=${out%/*}
  echo "before=$(ls "$store" | tr "\n" " ")"
  mkdir "$out" && echo hi > "$out/file" && echo data > "$doc" && echo "made"
  if mkdir "$store/other" 2> /dev/null; then echo "other=made"; fi
  if echo x > "$store/stray" 2> /dev/null; then echo "stray=made"; fi
  mkdir "$tmp" && rmdir "$tmp" && echo "tmp=removed"
  echo "after=$(ls "$store" | tr "\n" " ")"
  echo "read=$(cat "$out/file") $(cat "$doc")"
' > out 2> err || fail "exec failed: $(cat err)"
cat out
grep -qx "before=" out || fail "the outputs are listed before the build made them"
grep -qx "made" out || fail "the builder could not make its outputs: $(cat err)"
grep -q "=made" out && fail "the builder made something beside its outputs"
grep -qx "tmp=removed" out || fail "the builder could not remove an output it made"
grep -qx "after=abc-doc abc-out " out || fail "the outputs are not listed once made"
grep -qx "read=hi data" out || fail "the outputs do not read back inside"

# On the host, at their own path, made by the build user.
[ "$(cat store/abc-out/file)" = hi ] || fail "the output directory is not on the host"
[ "$(cat store/abc-doc)" = data ] || fail "the output file is not on the host"
[ "$(stat -c %u store/abc-out store/abc-doc | tr '\n' ' ')" = "30001 30001 " ] || fail "the outputs are not the build user's: $(ls -ln store)"
[ "$(ls store | tr '\n' ' ')" = "abc-doc abc-out " ] || fail "the host store holds: $(ls store)"

settrans -g "$root" || fail "settrans -g failed"
echo ok
