#!/bin/sh
# Runs inside the guest, from the payload mounted on /test (see
# scripts/hurd-vm). Either one command (/test/command exists) or every
# test under /test/tests, each with a time limit, reporting one
# "@@hurd-vm test NAME RESULT SECONDS" line per test; a failed test's
# output follows its line, indented. Output reaches the console a line at
# a time, through the shell's builtins (large writes can stall it).
show() { while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; done < "$1"; }
PATH=/test/bin:/bin:/sbin:/hurd
export PATH
limit=$(cat /test/test-timeout 2>/dev/null || echo 300)

if [ -r /test/command ]; then
  sh /test/command > /tmp/command.out 2>&1
  status=$?
  show /tmp/command.out
  echo "@@hurd-vm status $status"
  exit 0
fi

for t in /test/tests/*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  echo "@@hurd-vm start $name"
  start=$(date +%s)
  mkdir -p "/tmp/work-$name"
  (cd "/tmp/work-$name" && timeout -s KILL "$limit" sh "$t") > "/tmp/$name.out" 2>&1
  status=$?
  took=$(( $(date +%s) - start ))
  case $status in
    0) result=pass ;;
    137) result=timeout ;;
    *) result=fail ;;
  esac
  echo "@@hurd-vm test $name $result $took"
  if [ "$result" != pass ]; then
    sed 's/^/    /' "/tmp/$name.out" > "/tmp/$name.indented"
    show "/tmp/$name.indented"
    echo "    (exit status $status)"
    # What a failed test left running (a translator whose arguments are
    # in its directory) must not count against the tests after it.
    left=0
    for f in /proc/[0-9]*/cmdline; do
      case $(tr '\0' ' ' 2> /dev/null < "$f") in
        *"/tmp/work-$name/"*) p=${f#/proc/}; kill -9 "${p%/cmdline}" 2> /dev/null && left=$((left + 1)) ;;
      esac
    done
    [ "$left" = 0 ] || echo "    (ended $left processes it left running)"
  fi
done
