#!/bin/sh
# Benchmark, run in the guest by scripts/bench: lookup+stat latency
# through firmlink-rs and through the C /hurd/firmlink, against the same
# target looked up directly, and each translator's resident memory, all
# from one run. The guest has no awk: it prints the numbers, and
# scripts/bench turns them into ratios.
set -eu
count=${1:-2000}
here=/tmp/bench
mkdir -p "$here/target"
echo data > "$here/target/file"
touch "$here/link-c" "$here/link-rs"
settrans -a "$here/link-c" /hurd/firmlink "$here/target"
settrans -a "$here/link-rs" "$(command -v firmlink-rs)" "$here/target"

# Warm up, then measure each three times and keep the best.
best() {
  b=
  for _ in 1 2 3; do
    t=$(hurd-probe bench-lookup "$1" "$count")
    if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
  done
  echo "$b"
}
for p in "$here/target/file" "$here/link-c/file" "$here/link-rs/file"; do hurd-probe bench-lookup "$p" 50 > /dev/null; done
direct=$(best "$here/target/file")
c=$(best "$here/link-c/file")
rs=$(best "$here/link-rs/file")

# Resident pages of the process whose command line mentions $1 and $2.
rss() {
  for f in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' < "$f" | grep -q -- "$1.*$2"; then
      d=${f%/cmdline}
      read -r _ resident _ < "$d/statm"
      echo $((resident * 4))
      return
    fi
  done
  echo 0
}
rss_c=$(rss /hurd/firmlink "$here/target")
rss_rs=$(rss firmlink-rs "$here/target")

settrans -g "$here/link-c"
settrans -g "$here/link-rs"

echo "bench-firmlink count=$count direct_ns=$direct c_ns=$c rust_ns=$rs c_kib=$rss_c rust_kib=$rss_rs"
