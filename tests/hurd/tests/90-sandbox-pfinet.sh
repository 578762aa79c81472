#!/bin/sh
# sandbox-pfinet: under the allow policy a build reaches the listed
# destinations and nothing else (the host's loopback services included),
# binds only on its own loopback, gets no raw socket; under the host
# policy it reaches the network but not the host's own addresses nor its
# loopback services. The guest's pfinet gets two tunnel interfaces
# (nothing is behind them: no packet leaves the guest) with an IPv4 and
# an IPv6 address each, and echo servers listen on them and on loopback.
# shellcheck disable=SC2016 # the $ in the inner scripts are the builder's
set -eu
fail() { echo "FAIL: $*"; exit 1; }
here=$PWD
sr=$(command -v sandbox-root)
probe=/test/bin/hurd-probe

settrans -ac /servers/socket/2 /hurd/pfinet \
  -i tun0 -a 10.99.0.1 -m 255.255.255.0 -A fd99::1/64 \
  -i tun1 -a 10.98.0.1 -m 255.255.255.0 -A fd98::1/64 \
  -6 /servers/socket/26 || fail "the guest's pfinet did not start"
# (pfinet takes -6 only after its interfaces.)
servers=''
cleanup() {
  for p in $servers; do kill "$p" 2> /dev/null || true; done
  settrans -fg /servers/socket/2 2> /dev/null || true
  settrans -fg /servers/socket/26 2> /dev/null || true
}
trap cleanup EXIT
serve() {
  "$probe" "$@" > "serve-$#-$(echo "$*" | tr -c 'a-z0-9' _)" 2>&1 &
  servers="$servers $!"
}
for at in 10.99.0.1:8080 10.99.0.1:9090 10.98.0.1:8080 127.0.0.1:7070 '[fd99::1]:8080' '[fd99::1]:9090' '[::1]:7070'; do
  serve tcp-echo "$at"
done
for at in 10.99.0.1:5353 10.98.0.1:5353 127.0.0.1:5354; do
  serve udp-echo "$at"
done
sleep 3
# Outside, every one of them answers.
for at in 10.99.0.1:8080 10.99.0.1:9090 10.98.0.1:8080 127.0.0.1:7070 '[fd99::1]:8080' '[fd99::1]:9090' '[::1]:7070'; do
  out=$("$probe" tcp-ask "$at")
  [ "$out" = "tcp-ask $at: ok" ] || fail "outside, the server on $at does not answer: $out"
done
for at in 10.99.0.1:5353 10.98.0.1:5353 127.0.0.1:5354; do
  out=$("$probe" udp-ask "$at")
  [ "$out" = "udp-ask $at: ok" ] || fail "outside, the server on $at does not answer: $out"
done

mkdir -p host/build
chmod 777 host/build
spec() {
  cat > "spec-$1.json" <<JSON
{
  "version": 1,
  "build": { "host": "$here/host/build", "path": "/build" },
  "paths": [ { "host": "/bin", "path": "/bin" }, { "host": "/lib", "path": "/lib" },
             { "host": "/test/bin", "path": "/probe" } ],
  "user": { "name": "guixbuilder03", "uid": 30003, "group": "guixbuild", "gid": 30000 },
  "servers": { "proc": "host", "sockets": { "local": "host" } },
  "network": $2,
  "exec": { "env": { "PATH": "/bin" } }
}
JSON
}
spec allow '{ "policy": "allow", "allow": [ { "range": "10.99.0.0/24", "ports": [8080, 5353] },
                                            { "range": "fd99::/64", "ports": [8080] } ] }'
spec host '{ "policy": "host" }'

# ask NAME QUESTION...: asks inside the environment of spec NAME.
ask() {
  name=$1
  shift
  "$sr" exec "$here/root-$name" -- /probe/hurd-probe "$@" 2>&1
}
expect() {
  want=$1
  shift
  got=$(ask "$@") || true
  [ "$got" = "$want" ] || fail "$* inside: '$got', not '$want' (the translator said: $(tail -n 5 "translator-$1.log"))"
}

touch root-allow
settrans -a root-allow /bin/env RUST_LOG=info "$sr" "$here/spec-allow.json" 2> translator-allow.log ||
  fail "settrans failed for the allow policy: $(cat translator-allow.log)"
expect "tcp-ask 10.99.0.1:8080: ok" allow tcp-ask 10.99.0.1:8080
expect "tcp-ask 10.99.0.1:9090: ConnectionRefused" allow tcp-ask 10.99.0.1:9090
expect "tcp-ask 10.98.0.1:8080: ConnectionRefused" allow tcp-ask 10.98.0.1:8080
# The host's loopback service is not the build's: its own loopback has
# nothing on that port.
expect "tcp-ask 127.0.0.1:7070: ConnectionRefused" allow tcp-ask 127.0.0.1:7070
expect "udp-ask 10.99.0.1:5353: ok" allow udp-ask 10.99.0.1:5353
expect "udp-ask 10.98.0.1:5353: NetworkUnreachable" allow udp-ask 10.98.0.1:5353
expect "udp-ask 127.0.0.1:5354: TimedOut" allow udp-ask 127.0.0.1:5354
expect "tcp-ask [fd99::1]:8080: ok" allow tcp-ask '[fd99::1]:8080'
expect "tcp-ask [fd99::1]:9090: ConnectionRefused" allow tcp-ask '[fd99::1]:9090'
expect "tcp-ask [::1]:7070: ConnectionRefused" allow tcp-ask '[::1]:7070'
expect "raw-socket 2: EPERM" allow raw-socket 2
expect "raw-socket 26: EPERM" allow raw-socket 26
case $(ask allow bind-any 4 0) in
  "bind-any: 127.0.0.1:"[1-9]*) ;;
  *) fail "a bind to 0.0.0.0 inside did not bind the build's loopback: $(ask allow bind-any 4 0)" ;;
esac
# Its own loopback works: a server and a client of the build's.
out=$(ask allow net 7100 10.99.0.1:8080)
[ "$out" = "$(printf 'loopback: ok\nremote: ok')" ] || fail "loopback inside, then the allowed server: $out"
grep -q "network: connect refused: 10.99.0.1 port 9090 is not loopback and no rule allows it" translator-allow.log ||
  fail "a refused connection is not in the translator's log: $(tail -n 5 translator-allow.log)"
settrans -fg root-allow || fail "settrans -fg failed for the allow policy"

touch root-host
settrans -a root-host /bin/env RUST_LOG=info "$sr" "$here/spec-host.json" 2> translator-host.log ||
  fail "settrans failed for the host policy: $(cat translator-host.log)"
# The host's own addresses are refused, its loopback is not the build's;
# elsewhere (the tunnel's far side, where nothing answers) a datagram
# goes out and a connection is tried.
expect "tcp-ask 10.99.0.1:9090: ConnectionRefused" host tcp-ask 10.99.0.1:9090
expect "tcp-ask [fd98::1]:8080: ConnectionRefused" host tcp-ask '[fd98::1]:8080'
expect "tcp-ask 127.0.0.1:7070: ConnectionRefused" host tcp-ask 127.0.0.1:7070
expect "udp-ask 10.99.0.2:5353: TimedOut" host udp-ask 10.99.0.2:5353
expect "tcp-ask 10.99.0.2:8080: TimedOut" host tcp-ask 10.99.0.2:8080
expect "raw-socket 2: EPERM" host raw-socket 2
grep -q "network: connect refused: 10.99.0.1 is one of the host's own addresses" translator-host.log ||
  fail "a refused host address is not in the translator's log: $(tail -n 5 translator-host.log)"
settrans -fg root-host || fail "settrans -fg failed for the host policy"
echo "ok"
