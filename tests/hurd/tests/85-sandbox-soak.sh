#!/bin/sh
# A short soak (the full one is `scripts/bench soak`): 12 rounds of 4
# environments with PID namespaces at once, then one round of 16, each
# builder leaving children behind, some ignoring SIGTERM: after every
# teardown no build process is left, and no sandbox-root.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
out=$(sh /test/bench/soak-proc.sh 12 4) || fail "$out"
echo "$out"
case $out in *sandbox_root_left=0*) ;; *) fail "a sandbox-root outlived the soak" ;; esac
out=$(sh /test/bench/soak-proc.sh 1 16) || fail "$out"
echo "$out"
case $out in *sandbox_root_left=0*) ;; *) fail "a sandbox-root outlived the 16-wide round" ;; esac
