#!/usr/bin/env bash
# Records the firewall listings that `hark doctor` reads (nft list ruleset, iptables -S,
# ip6tables -S), and nft's own JSON of each ruleset, into Tests/HarkDoctorTests/Fixtures: the
# inputs of the rule readers' unit tests. Each scenario builds its rules in a network namespace
# of its own ($LAB_NAME-fw-SCENARIO, only lo), records, and deletes the namespace; no rule is
# ever made in the root namespace. Root. Run it again after an nftables or iptables upgrade and
# commit the changes the tests then explain.
# Usage: LAB_NAME=tag scripts/record-doctor-fixtures.sh
# Exit: 0 recorded; 77 not root; 71 a namespace or a rule could not be made.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "record-doctor-fixtures: needs root (network namespaces)" >&2; exit 77; }
LAB_NAME=${LAB_NAME:-fixtures}
OUT=$(cd "$(dirname "$0")/.." && pwd)/Tests/HarkDoctorTests/Fixtures
mkdir -p "$OUT"
NS=""
cleanup() { [ -z "$NS" ] || ip netns delete "$NS" 2>/dev/null || true; }
trap cleanup EXIT

# scenario NAME: a fresh namespace for NAME's rules
scenario() {
  cleanup
  NS="$LAB_NAME-fw-$1"
  ip netns delete "$NS" 2>/dev/null || true
  ip netns add "$NS" || exit 71
  ip -n "$NS" link set lo up
}
in_ns() { ip netns exec "$NS" "$@"; }
# record NAME: every listing of the current namespace, as NAME.*
record() {
  in_ns nft list ruleset >"$OUT/$1.nft.txt"
  in_ns nft -j list ruleset | python3 -m json.tool >"$OUT/$1.nft.json"
  in_ns iptables -w -S >"$OUT/$1.iptables-S.txt"
  in_ns ip6tables -w -S >"$OUT/$1.ip6tables-S.txt"
}

# A hand-written nft firewall: inet table, input policy drop, a named set, service names,
# port sets and ranges, a jump to a chain of its own, and a netdev/bridge table to ignore.
scenario nft-policy
in_ns nft -f - <<'RULES'
table inet filter {
  set blocked { type ipv4_addr; elements = { 192.0.2.7 } }
  chain allow-lan {
    tcp dport 7411 accept
    udp dport mdns accept
  }
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    iifname "lo" accept
    ip saddr @blocked drop
    tcp dport { 22, 8000-8010 } counter accept comment "ssh and web"
    ip saddr 10.0.0.0/8 jump allow-lan
    meta l4proto udp udp dport != 5353 drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
  }
}
table bridge br {
  chain in {
    type filter hook input priority 0; policy drop;
  }
}
RULES
record nft-policy

# What the doctor lab does: iptables (nft backend) drops the daemon's TCP port, an nft table
# drops mDNS, ip6tables rejects mDNS.
scenario drops
in_ns iptables -w -I INPUT -p tcp --dport 7411 -j DROP
in_ns ip6tables -w -A INPUT -p udp --dport 5353 -j REJECT --reject-with icmp6-port-unreachable
in_ns sh -c "nft add table inet doctortest && nft add chain inet doctortest in '{ type filter hook input priority 0; policy accept; }' && nft add rule inet doctortest in udp dport 5353 drop"
record drops

# ufw-style: INPUT drops by policy and jumps to user chains, one of which ends in a bare DROP;
# the port and mDNS are accepted in a chain jumped to (multiport).
scenario ufw
in_ns sh -c 'iptables -w -N doctor-user && iptables -w -N doctor-deny && iptables -w -A doctor-deny -j DROP &&
  iptables -w -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT && iptables -w -A INPUT -i lo -j ACCEPT &&
  iptables -w -A INPUT -j doctor-user && iptables -w -A INPUT -j doctor-deny && iptables -w -P INPUT DROP &&
  iptables -w -A doctor-user -p tcp --dport 7411 -j ACCEPT &&
  iptables -w -A doctor-user -p udp -m multiport --dports 80,5353 -j ACCEPT &&
  iptables -w -A doctor-user -p tcp -m multiport --dports 6000:6010 -m comment --comment "x11 range" -j ACCEPT'
record ufw

# Nothing at all: a fresh namespace.
scenario empty
record empty
echo "recorded into $OUT: $(ls "$OUT" | wc -l) files"
