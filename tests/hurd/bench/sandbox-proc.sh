#!/bin/sh
# Benchmark, run in the guest by scripts/bench: the same builder inside
# an environment with a private proc (sandbox-proc's PID namespace) and
# with the host's proc: COUNT fork+exec+wait of /bin/true, a shell
# pipeline COUNT/10 times, ps COUNT/100 times. Each environment runs the
# set 3 times, alternating; the best of each is printed (nanoseconds),
# and scripts/bench turns them into ratios.
set -eu
count=${1:-1000}
here=/tmp/pbench
mkdir -p "$here/build"
chmod 777 "$here/build"
sr=$(command -v sandbox-root)
for proc in private host; do
  cat > "$here/$proc.json" <<JSON
{
  "version": 1,
  "build": { "host": "$here/build", "path": "/build" },
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" } ],
  "user": { "name": "b", "uid": 1000, "group": "b", "gid": 1000 },
  "servers": { "proc": "$proc", "sockets": { "local": "host", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "PATH": "/bin" } }
}
JSON
  touch "$here/$proc"
  settrans -a "$here/$proc" "$sr" "$here/$proc.json"
done
# The builder times each part itself, in nanoseconds.
builder='
now() { date +%s%N; }
n=$1
t0=$(now); i=0; while [ $i -lt $n ]; do /bin/true; i=$((i + 1)); done
t1=$(now); i=0; while [ $i -lt $((n / 10)) ]; do echo a b c | tr " " "\n" | sort > /dev/null; i=$((i + 1)); done
t2=$(now); i=0; while [ $i -lt $((n / 100)) ]; do ps -e > /dev/null 2>&1; i=$((i + 1)); done
t3=$(now)
echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2))"'
least() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
fe_private='' pipe_private='' ps_private='' fe_host='' pipe_host='' ps_host=''
for _ in 1 2 3; do
  for proc in private host; do
    set -- $("$sr" exec "$here/$proc" -- /bin/sh -c "$builder" builder "$count")
    eval "fe_$proc=\$(least \"\$fe_$proc\" $1)"
    eval "pipe_$proc=\$(least \"\$pipe_$proc\" $2)"
    eval "ps_$proc=\$(least \"\$ps_$proc\" $3)"
  done
done
for proc in private host; do settrans -g "$here/$proc"; done
echo "bench-sandbox-proc count=$count fe_private=$fe_private fe_host=$fe_host pipe_private=$pipe_private pipe_host=$pipe_host ps_private=$ps_private ps_host=$ps_host"
