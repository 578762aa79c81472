#!/bin/sh
# Benchmark, run in the guest by scripts/bench: an environment of N store
# inputs set up and torn down the earlier way (one /hurd/firmlink per
# input and per /dev node, started with settrans -a one by one) and with
# sandbox-root, the processes each leaves after teardown, lookup+stat
# through the environment against directly, reads, build-directory I/O
# and exec through it against directly: each of these in ROUNDS rounds
# (the second argument, 9 by default) of two neighbouring measurements. The
# guest has no awk: it prints the numbers, and scripts/bench turns them
# into ratios (the median of the rounds' ratios).
set -eu
n=${1:-100}
here=/tmp/sbench
mkdir -p "$here/store" "$here/build" "$here/a/gnu/store" "$here/a/dev"
i=0
while [ "$i" -lt "$n" ]; do
  d=$here/store/$(printf '%03d' "$i")-input
  mkdir -p "$d"
  echo data > "$d/file"
  i=$((i + 1))
done
# 16 MiB in the first input, doubled up from one byte (the guest has no
# /dev/zero).
big=$here/store/000-input/big
printf x > "$big"
i=0
while [ "$i" -lt 24 ]; do
  cat "$big" "$big" > "$big.2"
  mv "$big.2" "$big"
  i=$((i + 1))
done
now() { date +%s%N; }
# shellcheck disable=SC1091 # the payload's copy of tests/hurd/lib.sh
. /test/lib.sh

# The earlier approach.
t0=$(now)
for d in "$here"/store/*; do
  link=$here/a/gnu/store/$(basename "$d")
  touch "$link"
  settrans -a "$link" /hurd/firmlink "$d"
done
for x in null zero full random urandom; do
  touch "$here/a/dev/$x"
  settrans -a "$here/a/dev/$x" /hurd/firmlink /dev/null
done
t1=$(now)
procs_a=$(processes /hurd/firmlink "$here")
t1b=$(now)
for link in "$here"/a/gnu/store/* "$here"/a/dev/*; do settrans -g "$link"; done
t2=$(now)
sleep 1
left_a=$(processes /hurd/firmlink "$here")

# sandbox-root, one spec.
{
  printf '{ "version": 1, "build": { "host": "%s/build", "path": "/build" }, "paths": [' "$here"
  sep=
  for d in "$here"/store/*; do
    printf '%s { "host": "%s", "path": "/gnu/store/%s" }' "$sep" "$d" "$(basename "$d")"
    sep=,
  done
  printf '], "user": { "name": "b", "uid": 1000, "group": "b", "gid": 1000 },'
  printf ' "servers": { "proc": "host", "sockets": { "local": "host", "inet": "none", "inet6": "none" } } }\n'
} > "$here/spec.json"
root=$here/root
touch "$root"
t3=$(now)
settrans -a "$root" "$(command -v sandbox-root)" "$here/spec.json"
ls "$root/gnu/store/000-input" > /dev/null
t4=$(now)
procs_b=$(processes sandbox-root "$here")
mid=$(printf '%03d' $((n / 2)))-input
# Lookups of many paths: the file of every input, each looked up 3 times
# per measurement (the paths in turn), through the environment and
# directly; a first look through the environment, not measured, fills
# its per-input ports.
env_paths='' direct_paths=''
for d in "$here"/store/*; do
  env_paths="$env_paths $root/gnu/store/$(basename "$d")/file"
  direct_paths="$direct_paths $d/file"
done
# bench-lookup takes the first path, the rounds, then the other paths.
many() {
  first=$1
  shift
  hurd-probe bench-lookup "$first" 3 "$@"
}
# Lookups, of an input's file, of a file in the (writable) build
# directory and of every input's file: ROUNDS rounds, each
# measuring through the environment and directly back to back (which
# first alternates), so that each round gives a ratio of two neighbouring
# measurements: the guest's speed drifts under TCG, between runs and
# within one, and a ratio of neighbours cancels most of it. Each value is
# a comma-separated list, one number per round; scripts/bench takes the
# median of the rounds' ratios.
rounds=${2:-9}
echo data > "$here/build/file"
# The measurements, each a command printing nanoseconds per lookup.
time_lookup_env() { hurd-probe bench-lookup "$root/gnu/store/$mid/file" 500; }
time_lookup_direct() { hurd-probe bench-lookup "$here/store/$mid/file" 500; }
time_build_env() { hurd-probe bench-lookup "$root/build/file" 500; }
time_build_direct() { hurd-probe bench-lookup "$here/build/file" 500; }
# shellcheck disable=SC2086 # the lists are split on purpose
time_many_env() { many $env_paths; }
# shellcheck disable=SC2086
time_many_direct() { many $direct_paths; }
# two NAME ROUND: "ENV DIRECT", from time_NAME_env and time_NAME_direct
# run back to back, in the order the round's number says.
two() {
  if [ $(($2 % 2)) -eq 1 ]; then
    e=$("time_$1_env"); d=$("time_$1_direct")
  else
    d=$("time_$1_direct"); e=$("time_$1_env")
  fi
  echo "$e $d"
}
# join LIST VALUE: LIST with VALUE appended, comma-separated.
join() { echo "${1:+$1,}$2"; }
# The first lookups through the environment fill its per-input ports.
time_many_env > /dev/null
lookup_env='' lookup_direct='' build_env='' build_direct='' many_env='' many_direct=''
r=1
while [ "$r" -le "$rounds" ]; do
  # shellcheck disable=SC2046 # two numbers, split on purpose
  set -- $(two lookup "$r") $(two build "$r") $(two many "$r")
  lookup_env=$(join "$lookup_env" "$1") lookup_direct=$(join "$lookup_direct" "$2")
  build_env=$(join "$build_env" "$3") build_direct=$(join "$build_direct" "$4")
  many_env=$(join "$many_env" "$5") many_direct=$(join "$many_direct" "$6")
  r=$((r + 1))
done
# elapsed CMD...: the nanoseconds CMD takes.
elapsed() {
  s0=$(now)
  "$@"
  s1=$(now)
  echo $((s1 - s0))
}
# Reading the large file of a (read-only) input.
readall() { dd if="$1" of=/dev/null bs=1M 2> /dev/null; }
time_read_env() { elapsed readall "$root/gnu/store/000-input/big"; }
time_read_direct() { elapsed readall "$big"; }
# Build-directory I/O (every node there is a proxy of sandbox-root's):
# 200 small files made, written, read and removed; a 16 MiB file written
# and read back.
small() {
  i=0
  while [ "$i" -lt 200 ]; do echo data > "$1/small$i"; i=$((i + 1)); done
  cat "$1"/small* > /dev/null
  rm -f "$1"/small*
}
seqwrite() { dd if="$big" of="$1/big" bs=1M 2> /dev/null; }
time_small_env() { elapsed small "$root/build"; }
time_small_direct() { elapsed small "$here/build"; }
# (Written, then read back, each way in turn.)
time_write_env() { elapsed seqwrite "$root/build"; }
time_write_direct() { elapsed seqwrite "$here/build/w"; }
time_bread_env() { elapsed readall "$root/build/big"; }
time_bread_direct() { elapsed readall "$here/build/w/big"; }
mkdir -p "$here/build/w"
# Exec of a binary below a read-only input, 100 times.
cp /bin/true "$here/store/000-input/true"
execs() {
  i=0
  while [ "$i" -lt 100 ]; do "$1"; i=$((i + 1)); done
}
time_exec_env() { elapsed execs "$root/gnu/store/000-input/true"; }
time_exec_direct() { elapsed execs "$here/store/000-input/true"; }
read_env='' read_direct='' small_env='' small_direct='' write_env='' write_direct=''
bread_env='' bread_direct='' exec_env='' exec_direct=''
r=1
while [ "$r" -le "$rounds" ]; do
  # shellcheck disable=SC2046 # two numbers each, split on purpose
  set -- $(two read "$r") $(two small "$r") $(two write "$r") $(two bread "$r") $(two exec "$r")
  read_env=$(join "$read_env" "$1") read_direct=$(join "$read_direct" "$2")
  small_env=$(join "$small_env" "$3") small_direct=$(join "$small_direct" "$4")
  write_env=$(join "$write_env" "$5") write_direct=$(join "$write_direct" "$6")
  bread_env=$(join "$bread_env" "$7") bread_direct=$(join "$bread_direct" "$8")
  exec_env=$(join "$exec_env" "$9") exec_direct=$(join "$exec_direct" "${10}")
  r=$((r + 1))
done
rm -rf "$here/build/big" "$here/build/w"
t5=$(now)
settrans -g "$root"
t6=$(now)
sleep 1
left_b=$(processes sandbox-root "$here")

# Lookups as the builder makes them: from inside, chrooted into the
# environment by sandbox-root exec (no host file system and no
# fsys_getroot on the way), against the same files directly. An
# environment of its own, with what the probe needs to run.
cat > "$here/inside.json" <<JSON
{ "version": 1, "build": { "host": "$here/build", "path": "/build" },
  "paths": [ { "host": "$here/store/$mid", "path": "/gnu/store/$mid" },
             { "host": "/lib", "path": "/lib" }, { "host": "/bin", "path": "/bin" },
             { "host": "$(dirname "$(command -v hurd-probe)")", "path": "/probe" } ],
  "user": { "name": "b", "uid": 1000, "group": "b", "gid": 1000 },
  "servers": { "proc": "host", "sockets": { "local": "host", "inet": "none", "inet6": "none" } } }
JSON
inside=$here/inside
touch "$inside"
settrans -a "$inside" "$(command -v sandbox-root)" "$here/inside.json"
echo data > "$here/build/file"
chmod 777 "$here/build"
time_in_env() { sandbox-root exec "$inside" -- /probe/hurd-probe bench-lookup "/gnu/store/$mid/file" 500; }
time_in_direct() { time_lookup_direct; }
time_inb_env() { sandbox-root exec "$inside" -- /probe/hurd-probe bench-lookup /build/file 500; }
time_inb_direct() { time_build_direct; }
in_env='' in_direct='' inb_env='' inb_direct=''
r=1
while [ "$r" -le "$rounds" ]; do
  # shellcheck disable=SC2046 # two numbers, split on purpose
  set -- $(two in "$r") $(two inb "$r")
  in_env=$(join "$in_env" "$1") in_direct=$(join "$in_direct" "$2")
  inb_env=$(join "$inb_env" "$3") inb_direct=$(join "$inb_direct" "$4")
  r=$((r + 1))
done
settrans -g "$inside"

# The same environment with socket servers of its own (a pflocal and a
# loopback-only pfinet, helpers of sandbox-root).
sed 's/"local": "host", "inet": "none"/"local": "private", "inet": "filtered"/' "$here/spec.json" > "$here/own.json"
servers() { echo $(($(processes /hurd/pflocal) + $(processes /hurd/pfinet))); }
servers_before=$(servers)
t7=$(now)
settrans -a "$root" "$(command -v sandbox-root)" "$here/own.json"
ls "$root/gnu/store/000-input" > /dev/null
t8=$(now)
procs_c=$(($(processes sandbox-root "$here") + $(servers) - servers_before))
t9=$(now)
settrans -g "$root"
t10=$(now)
sleep 1
left_c=$(($(processes sandbox-root "$here") + $(servers) - servers_before))

echo "bench-sandbox-root n=$n setup_a=$((t1 - t0)) teardown_a=$((t2 - t1b)) procs_a=$procs_a left_a=$left_a setup_b=$((t4 - t3)) teardown_b=$((t6 - t5)) procs_b=$procs_b left_b=$left_b lookup_env=$lookup_env lookup_direct=$lookup_direct build_env=$build_env build_direct=$build_direct many_env=$many_env many_direct=$many_direct read_env=$read_env read_direct=$read_direct small_env=$small_env small_direct=$small_direct write_env=$write_env write_direct=$write_direct bread_env=$bread_env bread_direct=$bread_direct exec_env=$exec_env exec_direct=$exec_direct in_env=$in_env in_direct=$in_direct inb_env=$inb_env inb_direct=$inb_direct setup_c=$((t8 - t7)) teardown_c=$((t10 - t9)) procs_c=$procs_c left_c=$left_c"
