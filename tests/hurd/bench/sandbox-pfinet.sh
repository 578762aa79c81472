#!/bin/sh
# Benchmark, run in the guest by scripts/bench: the network through
# sandbox-pfinet (an environment under the allow policy) against the
# guest's pfinet directly, to servers on a tunnel address of the guest's
# own: MIB MiB over one TCP connection, COUNT/10 connections (connect,
# 4 bytes each way), COUNT UDP requests and answers. Best of 3 of each,
# in nanoseconds; scripts/bench turns them into ratios.
set -eu
mib=${1:-32}
count=${2:-1000}
here=/tmp/nbench
mkdir -p "$here/build"
chmod 777 "$here/build"
sr=$(command -v sandbox-root)
probe=/test/bin/hurd-probe
settrans -ac /servers/socket/2 /hurd/pfinet -i tun0 -a 10.99.0.1 -m 255.255.255.0
"$probe" tcp-sink 10.99.0.1:8080 > /dev/null 2>&1 & sink=$!
"$probe" tcp-echo 10.99.0.1:8081 > /dev/null 2>&1 & echo_tcp=$!
"$probe" udp-echo 10.99.0.1:8082 > /dev/null 2>&1 & echo_udp=$!
cat > "$here/spec.json" <<JSON
{
  "version": 1,
  "build": { "host": "$here/build", "path": "/build" },
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" },
             { "host": "/test/bin", "path": "/probe" } ],
  "user": { "name": "b", "uid": 1000, "group": "b", "gid": 1000 },
  "servers": { "proc": "host", "sockets": { "local": "host", "inet6": "none" } },
  "network": { "policy": "allow", "allow": [ { "range": "10.99.0.0/24" } ] },
  "exec": { "env": { "PATH": "/bin" } }
}
JSON
touch "$here/root"
settrans -a "$here/root" "$sr" "$here/spec.json"
sleep 2
ns() { sed -n 's/^net-bench .*: \([0-9]*\) ns$/\1/p'; }
least() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
tcp_env='' tcp_direct='' con_env='' con_direct='' udp_env='' udp_direct=''
for _ in 1 2 3; do
  t=$("$sr" exec "$here/root" -- /probe/hurd-probe net-bench tcp 10.99.0.1:8080 "$mib" | ns); tcp_env=$(least "$tcp_env" "$t")
  t=$("$probe" net-bench tcp 10.99.0.1:8080 "$mib" | ns); tcp_direct=$(least "$tcp_direct" "$t")
  t=$("$sr" exec "$here/root" -- /probe/hurd-probe net-bench connect 10.99.0.1:8081 $((count / 10)) | ns); con_env=$(least "$con_env" "$t")
  t=$("$probe" net-bench connect 10.99.0.1:8081 $((count / 10)) | ns); con_direct=$(least "$con_direct" "$t")
  t=$("$sr" exec "$here/root" -- /probe/hurd-probe net-bench udp 10.99.0.1:8082 "$count" | ns); udp_env=$(least "$udp_env" "$t")
  t=$("$probe" net-bench udp 10.99.0.1:8082 "$count" | ns); udp_direct=$(least "$udp_direct" "$t")
done
settrans -fg "$here/root"
kill "$sink" "$echo_tcp" "$echo_udp" || true
settrans -fg /servers/socket/2 || true
echo "bench-sandbox-pfinet mib=$mib count=$count tcp_env=$tcp_env tcp_direct=$tcp_direct con_env=$con_env con_direct=$con_direct udp_env=$udp_env udp_direct=$udp_direct"
