#!/bin/bash
# Physical-port mode end to end without hardware: a "box" (a DUT namespace doing nftables masquerade
# between two veth pairs) and a harness namespace holding the other veth ends, both built here with
# plain `ip` commands. natcert runs INSIDE the harness namespace (`ip netns exec`), so its "host
# interfaces" are the veth ends and no traffic touches the real host's interfaces. The profile's reset
# command (`ip netns exec <dut> conntrack -F`) runs on natcert's host, as kind "ports" commands do.
# Checks: verdicts and a parseable report, the down interface brought up (note), an unknown interface
# and a box that does not answer ARP as one-line errors (exit 2). Everything is removed, also on failure.
#
# Usage: ports_mode.sh NATCERT WORKDIR   (root; exit 77 = skipped when unprivileged, unless CI is set)
set -u
natcert="$1"
work="$2"
if [ "$(id -u)" != 0 ]; then
  if [ -n "${CI:-}" ]; then
    echo "cli.ports_mode: CI must run this test as root" >&2
    exit 1
  fi
  echo "cli.ports_mode: needs root: skipped"
  exit 77
fi

tag="ncports$$"
dut="${tag}-dut"
harness="${tag}-h"
cleanup() {
  ip netns del "$dut" 2>/dev/null
  ip netns del "$harness" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "cli.ports_mode: FAILED: $*" >&2
  exit 1
}

rm -rf "$work"
mkdir -p "$work"
set -e
ip netns add "$dut"
ip netns add "$harness"
for ns in "$dut" "$harness"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$harness" link add lan0 type veth peer name in0 netns "$dut"
ip -n "$harness" link add wan0 type veth peer name out0 netns "$dut"
ip -n "$harness" link set lan0 up  # wan0 stays down: natcert brings it up and says so
ip netns exec "$dut" sysctl -qw net.ipv4.ip_forward=1
ip -n "$dut" address add 10.0.0.1/24 dev in0
ip -n "$dut" address add 203.0.113.1/24 dev out0
ip -n "$dut" link set in0 up
ip -n "$dut" link set out0 up
ip -n "$dut" route add default via 203.0.113.254
ip netns exec "$dut" nft -f - <<NFT
table ip natcert {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "out0" masquerade
  }
}
NFT

cat > "$work/box.toml" <<TOML
name = "ci-ports-masquerade"
description = "CI: nftables masquerade in namespace $dut, reached through veth ends as physical ports"
kind = "ports"

[ports]
inside_interface = "enp1s0"   # replaced by --inside-if / --outside-if
outside_interface = "enp2s0"

[inside]
dut_address = "10.0.0.1"
prefix = 24
hosts = ["10.0.0.10", "10.0.0.11"]

[outside]
dut_addresses = ["203.0.113.1"]
prefix = 24
gateway = "203.0.113.254"
hosts = ["198.51.100.10", "198.51.100.11"]
third_party = "192.0.2.50"

[[commands.reset]]
argv = ["ip", "netns", "exec", "$dut", "conntrack", "-F"]
timeout = 5

[[commands.diagnostics]]
argv = ["ip", "netns", "exec", "$dut", "conntrack", "-L"]
timeout = 5
may_fail = true
TOML
set +e

tests='rfc4787.req1.*,rfc4787.req3.*,rfc4787.req8.*'
ip netns exec "$harness" "$natcert" run --dut "$work/box.toml" --inside-if lan0 --outside-if wan0 \
  --test "$tests" --jobs 2 --out "$work/report" 2> "$work/stderr"
rc=$?
cat "$work/stderr"
[ "$rc" = 0 ] || fail "natcert run exited with $rc (expected 0)"
grep -q "wan0 was down: natcert brought it up" "$work/stderr" || fail "no note about bringing wan0 up"
grep -q "rfc4787.req1.mapping.udp PASS" "$work/stderr" || fail "rfc4787.req1.mapping.udp did not PASS"
[ -s "$work/report/report.json" ] || fail "no report.json"
if command -v python3 > /dev/null; then
  python3 - "$work/report/report.json" <<'PY' || fail "report.json is not what was expected"
import json, sys
report = json.load(open(sys.argv[1]))
verdicts = {t["id"]: t["verdict"] for t in report["tests"]}
print("verdicts:", verdicts)
assert verdicts["rfc4787.req1.mapping.udp"] == "PASS", verdicts
assert all(v in ("PASS", "WARN", "INFO", "SKIP") for v in verdicts.values()), verdicts
PY
fi

# An interface that does not exist: one line, exit 2.
ip netns exec "$harness" "$natcert" run --dut "$work/box.toml" --inside-if nosuch0 --outside-if wan0 \
  --test "$tests" --out "$work/report-bad" 2> "$work/stderr"
rc=$?
cat "$work/stderr"
[ "$rc" = 2 ] || fail "unknown interface: exit $rc (expected 2)"
[ "$(wc -l < "$work/stderr")" = 1 ] || fail "unknown interface: more than one line on stderr"
grep -q 'no network interface "nosuch0"' "$work/stderr" || fail "unknown interface not named"

# A box that does not answer ARP on its WAN port: one line, exit 2, within the bounded retries.
ip -n "$dut" address flush dev out0
ip netns exec "$harness" "$natcert" run --dut "$work/box.toml" --inside-if lan0 --outside-if wan0 \
  --test "$tests" --out "$work/report-silent" 2> "$work/stderr"
rc=$?
cat "$work/stderr"
[ "$rc" = 2 ] || fail "silent box: exit $rc (expected 2)"
grep -q "no ARP reply from 203.0.113.1 on wan0: is the DUT cabled and configured?" "$work/stderr" ||
  fail "silent box: not the ARP error"
echo "cli.ports_mode: ok"
exit 0
