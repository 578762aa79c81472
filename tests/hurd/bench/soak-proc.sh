#!/bin/sh
# Soak, run in the guest by scripts/bench soak (in full) and by the VM
# test 85-sandbox-soak (shorter): CYCLES rounds of WIDTH environments at
# once, each with a PID namespace and a builder that forks children, some
# of which ignore SIGTERM, then exits while they go on; every round ends
# with settrans -fg on each. After each round no process of any build
# user may be left (the script fails at once otherwise). It prints the
# host proc server's and root file system's resident memory (KiB) and
# port count after round 10 (or the first, when fewer) and after the
# last, and the sandbox-root processes left.
set -eu
cycles=${1:-200}
width=${2:-16}
here=/tmp/soak
mkdir -p "$here"
sr=$(command -v sandbox-root)
fail() { echo "FAIL: $*"; exit 1; }
# The PIDs of the processes of users 31001..31000+width.
build_pids() {
  for f in /proc/[0-9]*/status; do
    u=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "$f" 2> /dev/null) || continue
    [ -n "$u" ] && [ "$u" -gt 31000 ] && [ "$u" -le $((31000 + width)) ] && { p=${f#/proc/}; echo "${p%/status}"; }
  done
  return 0
}
# The first process whose command line starts with $1.
pid_of() {
  for f in /proc/[0-9]*/cmdline; do
    case $(tr '\0' ' ' 2> /dev/null < "$f") in "$1"*) p=${f#/proc/}; echo "${p%/cmdline}"; return 0 ;; esac
  done
}
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2> /dev/null; }
ports() { portinfo -a "$1" 2> /dev/null | wc -l | tr -d ' '; }
proc_pid=$(pid_of /hurd/proc)
fs_pid=$(pid_of /hurd/ext2fs)
j=1
while [ "$j" -le "$width" ]; do
  mkdir -p "$here/b$j"
  chmod 777 "$here/b$j"
  cat > "$here/s$j.json" <<JSON
{
  "version": 1,
  "build": { "host": "$here/b$j", "path": "/build" },
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" } ],
  "user": { "name": "soak$j", "uid": $((31000 + j)), "group": "soak", "gid": 31000 },
  "servers": { "proc": "private", "sockets": { "local": "host", "inet": "none", "inet6": "none" } },
  "exec": { "env": { "PATH": "/bin" } }
}
JSON
  touch "$here/n$j"
  j=$((j + 1))
done
builder='trap "" TERM; for k in 1 2; do sleep 1000 & done; (trap "" TERM; sleep 1000) & sh -c "sleep 1000" & exit 0'
at10=''
c=1
while [ "$c" -le "$cycles" ]; do
  j=1
  while [ "$j" -le "$width" ]; do
    settrans -a "$here/n$j" "$sr" "$here/s$j.json" || fail "round $c: settrans $j failed"
    j=$((j + 1))
  done
  j=1
  while [ "$j" -le "$width" ]; do
    "$sr" exec "$here/n$j" -- /bin/sh -c "$builder" > /dev/null 2>&1 &
    j=$((j + 1))
  done
  wait
  j=1
  while [ "$j" -le "$width" ]; do
    settrans -fg "$here/n$j" || fail "round $c: settrans -fg $j failed"
    j=$((j + 1))
  done
  tries=0
  while [ -n "$(build_pids)" ]; do
    tries=$((tries + 1))
    [ "$tries" -le 10 ] || fail "round $c: $(build_pids | wc -l | tr -d ' ') build processes outlived teardown"
    sleep 1
  done
  if [ "$c" -eq 10 ] || { [ "$c" -eq 1 ] && [ "$cycles" -lt 10 ]; }; then
    at10="proc_rss_10=$(rss "$proc_pid") proc_ports_10=$(ports "$proc_pid") fs_rss_10=$(rss "$fs_pid") fs_ports_10=$(ports "$fs_pid")"
  fi
  c=$((c + 1))
done
# A translator answers its goaway and then exits: give the last round's a
# few seconds to be gone.
# (Only this soak's own: their specs are in $here.)
count_sandbox_roots() {
  n=0
  for f in /proc/[0-9]*/cmdline; do
    case $(tr '\0' ' ' 2> /dev/null < "$f") in *sandbox-root*"$here/s"*) n=$((n + 1)) ;; esac
  done
  echo "$n"
}
tries=0
left=$(count_sandbox_roots)
while [ "$left" -gt 0 ] && [ "$tries" -lt 5 ]; do
  sleep 1
  tries=$((tries + 1))
  left=$(count_sandbox_roots)
done
echo "soak-proc cycles=$cycles width=$width $at10 proc_rss_end=$(rss "$proc_pid") proc_ports_end=$(ports "$proc_pid") fs_rss_end=$(rss "$fs_pid") fs_ports_end=$(ports "$fs_pid") sandbox_root_left=$left"
