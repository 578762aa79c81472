# shellcheck shell=sh
# Sourced by the guest's tests and benchmarks (as /test/lib.sh).

# pids A [B]: the process ids whose command lines mention A (then B, if
# given), one a line. Command lines are read with the shell, so that no
# process of ours has the patterns on its own. /proc always lists at least
# the caller: a listing without any process is procfs failing under load,
# retried, and an error if it persists (never "none").
pids() {
  tries=0
  while :; do
    found='' seen=0
    for f in /proc/[0-9]*/cmdline; do
      [ -e "$f" ] || continue
      seen=$((seen + 1))
      c=$(tr '\0' ' ' 2> /dev/null < "$f") || continue
      case $c in
        *"$1"*"${2-}"*)
          p=${f#/proc/}
          found="$found ${p%/cmdline}"
          echo "  running: $c" >&2
          ;;
      esac
    done
    if [ "$seen" -gt 0 ]; then
      for p in $found; do echo "$p"; done
      return 0
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 10 ]; then
      echo "pids: /proc lists no process" >&2
      return 1
    fi
    sleep 1
  done
}

# processes A [B]: how many processes `pids A [B]` finds.
processes() {
  list=$(pids "$@") || return 1
  if [ -z "$list" ]; then echo 0; else echo "$list" | wc -l | tr -d ' '; fi
}

# owned_by UID: how many live processes (zombies left out) UID owns, as
# procfs tells them (each one's status: its State and Uid lines). Like
# pids, a listing without any process is procfs failing, retried.
owned_by() {
  want=$1 tries=0
  while :; do
    n=0 seen=0
    for f in /proc/[0-9]*/status; do
      [ -e "$f" ] || continue
      seen=$((seen + 1))
      uid='' state=''
      { while IFS= read -r line; do
          case $line in
            State:*) state=$line ;;
            Uid:*)
              rest=${line#Uid:}
              rest=${rest#"${rest%%[!	 ]*}"}
              uid=${rest%%[	 ]*}
              ;;
          esac
        done < "$f"; } 2> /dev/null || continue
      case $state in *zombie*) continue ;; esac
      if [ "$uid" = "$want" ]; then
        n=$((n + 1))
        p=${f#/proc/}
        echo "  uid $want: $(tr '\0' ' ' 2> /dev/null < "/proc/${p%/status}/cmdline")" >&2
      fi
    done
    if [ "$seen" -gt 0 ]; then
      echo "$n"
      return 0
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 10 ]; then
      echo "owned_by: /proc lists no process" >&2
      return 1
    fi
    sleep 1
  done
}
