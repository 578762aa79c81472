# shellcheck shell=sh
# Sourced by the guest's tests and benchmarks (as /test/lib.sh).

# processes A [B]: how many processes have a command line mentioning A
# (then B, if given). Command lines are read with the shell, so that no
# process of ours has the patterns on its own. /proc always lists at least
# the caller: a listing without any process is procfs failing under load,
# retried, and an error if it persists (never a count of 0).
processes() {
  tries=0
  while :; do
    n=0 seen=0
    for f in /proc/[0-9]*/cmdline; do
      [ -e "$f" ] || continue
      seen=$((seen + 1))
      c=$(tr '\0' ' ' 2> /dev/null < "$f") || continue
      case $c in *"$1"*"${2-}"*) n=$((n + 1)); echo "  running: $c" >&2 ;; esac
    done
    if [ "$seen" -gt 0 ]; then
      echo "$n"
      return 0
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 10 ]; then
      echo "processes: /proc lists no process" >&2
      return 1
    fi
    sleep 1
  done
}
