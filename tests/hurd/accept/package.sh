#!/bin/sh
# The acceptance test, run in the guest by `scripts/hurd-vm accept`: a
# GNU package from its release source (the only directory in /test/src),
# built with ./configure && make && make check && make install
# DESTDIR=$out once outside any sandbox and once through `sandbox-root
# run`, both as the build user and with the same paths, then compared:
# each phase's exit status, make check's summary, and every installed
# file's contents. Prints "accept ..." lines (times in nanoseconds) that
# scripts/hurd-vm turns into a verdict and ratios. With "quick" (CI's
# shorter run) the package is the small one in /test/accept/mini, built
# and compared the same way. (The guest has no find: trees are walked
# with globs.)
set -eu
# (cmp and diff are the toolchain's.)
PATH=/opt/tools/bin:$PATH
quick=${1:-}
fail() { echo "accept-fail $*"; exit 1; }
src=
if [ -n "$quick" ]; then
  src=/test/accept/mini
else
  for d in /test/src/*/; do [ -f "$d/configure" ] && src=${d%/} && break; done
fi
[ -n "$src" ] || fail "no package source in /test/src"
name=$(basename "$src")
here=/tmp/accept
build=/tmp/guix-build-$name.drv-0
prefix=/gnu/store/00000000000000000000000000000000-$name
out_outside=/gnu/store/outside-$name
out_inside=/gnu/store/inside-$name
uid=30001 gid=30000
mkdir -p "$here/in-build" "$here/input" /gnu/store
chmod 1777 /gnu/store
chown "$uid:$gid" "$here/in-build"
cp -a "$src" "$here/input/src"
# The builder, the same both ways.
cat > "$here/input/builder.sh" <<'SH'
set -eu
cd "$NIX_BUILD_TOP"
cp -a /input/src ./src
cd src
phase() {
  what=$1; shift
  s=$(date +%s%N)
  if "$@" > "../$what.log" 2>&1; then st=0; else st=$?; fi
  e=$(date +%s%N)
  echo "accept-phase $WHERE $what $st $((e - s))"
  if [ "$st" != 0 ]; then tail -n 20 "../$what.log" >&2; exit "$st"; fi
}
phase configure ./configure --prefix="$PREFIX"
phase make make
phase check make check
# The test harness's summary (automake prints it; so does the small one).
sed -n 's/^# \(TOTAL\|PASS\|SKIP\|XFAIL\|FAIL\|XPASS\|ERROR\): *\([0-9]*\)$/accept-check '"$WHERE"' \1 \2/p' ../check.log
# And each test's result, to tell which one differs.
sed -n 's/^\(PASS\|SKIP\|XFAIL\|FAIL\|XPASS\|ERROR\): \(.*\)$/accept-test '"$WHERE"' \1 \2/p' ../check.log
phase install make install DESTDIR="$out"
SH
env_common="PATH=/opt/tools/bin:/bin PREFIX=$prefix HOME=/homeless-shelter LC_ALL=C"

# The toolchain read once before either build, so that the first one does
# not pay alone for loading it.
cc -O2 -c /test/accept/mini/greet.c -o /tmp/accept-warm.o && rm -f /tmp/accept-warm.o

# Outside: the guest's own root, the same build path, as the build user.
mkdir -p "$build"
chown "$uid:$gid" "$build"
ln -s "$here/input" /input
probe=$(command -v hurd-probe)
s=$(date +%s%N)
set +e
env -i $env_common WHERE=outside NIX_BUILD_TOP="$build" TMPDIR="$build" out="$out_outside" \
  "$probe" as "$uid" "$gid" /bin/sh /input/builder.sh
status_outside=$?
set -e
e=$(date +%s%N)
rm /input
echo "accept-total outside $status_outside $((e - s))"
rm -rf "$build"

# Inside: an environment shaped like guix-hello.json: the toolchain and
# the source read-only, the build directory, the output, a private
# pflocal, the PID namespace.
cat > "$here/spec.json" <<JSON
{
  "version": 1,
  "build": { "host": "$here/in-build", "path": "$build" },
  "paths": [
    { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" },
    { "host": "/opt/tools", "path": "/opt/tools" },
    { "host": "/usr/include", "path": "/usr/include" }, { "host": "/usr/lib", "path": "/usr/lib" },
    { "host": "$here/input", "path": "/input" }
  ],
  "outputs": ["$out_inside"],
  "user": { "name": "guixbuilder01", "uid": $uid, "group": "guixbuild", "gid": $gid },
  "servers": { "proc": "private", "sockets": { "local": "private", "inet": "none", "inet6": "none" } },
  "exec": { "cwd": "$build", "env": { "PATH": "/opt/tools/bin:/bin", "PREFIX": "$prefix",
    "HOME": "/homeless-shelter", "LC_ALL": "C", "WHERE": "inside", "NIX_BUILD_TOP": "$build",
    "TMPDIR": "$build", "out": "$out_inside" } }
}
JSON
s=$(date +%s%N)
set +e
sandbox-root run "$here/spec.json" -- /bin/sh /input/builder.sh
status_inside=$?
set -e
e=$(date +%s%N)
echo "accept-total inside $status_inside $((e - s))"

# The installed trees, file by file: a link's target, a file's digest.
walk() {
  for f in "$1"/* "$1"/.[!.]*; do
    if [ -L "$f" ]; then
      echo "${f#"$2"/} -> $(readlink "$f")"
    elif [ -d "$f" ]; then
      walk "$f" "$2"
    elif [ -f "$f" ]; then
      echo "${f#"$2"/} $(sha256sum < "$f" | cut -d' ' -f1)"
    fi
  done
}
tree() { walk "$1" "$1" | sort; }
[ -d "$out_outside" ] || fail "nothing installed outside"
[ -d "$out_inside" ] || fail "nothing installed inside"
tree "$out_outside" > "$here/tree.outside"
tree "$out_inside" > "$here/tree.inside"
files=$(wc -l < "$here/tree.outside" | tr -d ' ')
if cmp -s "$here/tree.outside" "$here/tree.inside"; then
  echo "accept-tree same $files"
else
  echo "accept-tree differ $files"
  diff "$here/tree.outside" "$here/tree.inside" | head -n 20 | sed 's/^/accept-diff /'
fi
owner=$(stat -c %u:%g "$out_inside")
echo "accept-output-owner $owner"
left=$(for f in /proc/[0-9]*/status; do sed -n "s/^Uid:[[:space:]]*$uid[[:space:]].*/x/p" "$f" 2> /dev/null; done | wc -l | tr -d ' ')
echo "accept-left $left"
