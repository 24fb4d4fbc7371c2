#!/usr/bin/env bash
# `hark doctor` on real hosts (network namespaces, each with its own D-Bus and avahi-daemon bound
# to the lab interface only): all good; a firewall rule dropping the daemon's TCP port (iptables)
# and UDP 5353 (nft); a known peer whose daemon was stopped; avahi-daemon stopped; a host with
# only loopback. Every firewall rule is made inside a lab namespace and goes away with it.
# Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-doctor} LAB_NET=${LAB_NET:-10.91.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

# doctor HOST : run `hark doctor --json` on HOST; the report in $WORK/doctor.json, exit code in $RC
doctor() { hark_on "$1" doctor --json >"$WORK/doctor.json" 2>"$WORK/doctor.err"; RC=$?; }
# check NAME : the status of one check in the last report
check() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print({c["name"]: c["status"] for c in r["checks"]}.get(sys.argv[2], "missing"))' "$WORK/doctor.json" "$1"; }
# text NAME : finding, details and fix of one check, on one line
text() { python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
c = next((c for c in r["checks"] if c["name"] == sys.argv[2]), {})
print(" | ".join([c.get("finding", "")] + c.get("details", []) + [c.get("fix") or ""]))' "$WORK/doctor.json" "$1"; }
report() { echo "--- doctor report (exit $RC)" >&2; hark_on "$1" doctor >&2 2>&1 || true; }
active() { hark_on "$1" status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["discovery"]["state"]=="active" else 1)'; }

lab_setup 2
"$LAB" guard-start >&2 || true
hark_on h1 init --name alice >/dev/null
hark_on h2 init --name bob >/dev/null
start_daemon h1
start_daemon h2
wait_until 20 has_peer h1 && wait_until 5 has_peer h2 || { not_ok "h1 and h2 did not connect"; cat_log h1; }
wait_until 10 active h1 || not_ok "discovery on h1 never became active"
PORT1=$(hark_on h1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_port"])')

say "(a) all good"
doctor h1
[ "$RC" = 0 ] && ok "doctor exits 0 when nothing fails" || { not_ok "doctor exit $RC on a healthy host"; report h1; }
python3 -m json.tool "$WORK/doctor.json" >/dev/null && ok "--json prints one valid JSON document" || not_ok "--json output is not JSON: $(head -c 300 "$WORK/doctor.json")"
for c in home daemon avahi discovery interfaces firewall port peers; do
  s=$(check "$c"); [ "$s" = ok ] && ok "$c: ok" || not_ok "$c: $s: $(text "$c")"
done
case $(text interfaces) in *lan0*) ok "interfaces names lan0";; *) not_ok "interfaces: $(text interfaces)";; esac

say "(d) a firewall drops the daemon's TCP port and UDP 5353"
"$LAB" exec h1 iptables -w -I INPUT -p tcp --dport "$PORT1" -j DROP
doctor h1
[ "$RC" = 69 ] && ok "doctor exits 69 when the firewall drops the port" || not_ok "doctor exit $RC with a DROP rule"
[ "$(check firewall)" = fail ] && ok "firewall: fail" || not_ok "firewall: $(check firewall): $(text firewall)"
case $(text firewall) in *"TCP $PORT1"*"dport $PORT1"*"iptables -I INPUT -p tcp --dport $PORT1 -j ACCEPT"*) ok "…names TCP $PORT1, the rule, and an accept rule as the fix";;
  *) not_ok "firewall text: $(text firewall)";; esac
# the same without nft (hidden in this command's private mount namespace): read through iptables -S
"$LAB" exec h1 sh -c 'mount --bind /dev/null /usr/sbin/nft && exec env HARK_HOME="$0" "$1" doctor --json' "$WORK/h1" "$HARK" >"$WORK/doctor.json" 2>/dev/null
case "$(check firewall) $(text firewall)" in fail*"iptables chain INPUT"*"--dport $PORT1 -j DROP"*) ok "without nft, the rule is found through iptables -S";;
  *) not_ok "iptables -S path: $(check firewall): $(text firewall)";; esac
doctor h1
[ "$(check port)" = fail ] && ok "port: the live connect to TCP $PORT1 on h1's own addresses times out (fail)" || not_ok "port: $(check port): $(text port)"
"$LAB" exec h1 iptables -w -D INPUT -p tcp --dport "$PORT1" -j DROP
"$LAB" exec h1 sh -c "nft add table inet doctortest && nft add chain inet doctortest in '{ type filter hook input priority 0; policy accept; }' && nft add rule inet doctortest in udp dport 5353 drop"
doctor h1
case "$(check firewall) $(text firewall)" in fail*"UDP 5353"*"udp dport 5353 drop"*) ok "an nft rule dropping UDP 5353 is reported, with the fix";;
  *) not_ok "nft udp 5353: $(check firewall): $(text firewall)";; esac
"$LAB" exec h1 nft delete table inet doctortest
# a drop policy, ufw-style: rules in chains jumped to; a bare DROP in another chain is not a finding
"$LAB" exec h1 sh -c 'iptables -w -N doctor-user && iptables -w -N doctor-deny && iptables -w -A doctor-deny -j DROP &&
  iptables -w -A INPUT -j doctor-user && iptables -w -P INPUT DROP'
doctor h1
case "$(check firewall) $(text firewall)" in warn*"policy drop"*"iptables -I INPUT -p tcp --dport $PORT1 -j ACCEPT"*) ok "an input policy of drop with no accept for the port is a warning, with the fix";;
  *) not_ok "policy drop: $(check firewall): $(text firewall)";; esac
"$LAB" exec h1 sh -c "iptables -w -A doctor-user -p tcp --dport $PORT1 -j ACCEPT && iptables -w -A doctor-user -p udp -m multiport --dports 80,5353 -j ACCEPT"
doctor h1
[ "$(check firewall)" = ok ] && ok "…and ok once a jumped-to chain accepts TCP $PORT1 and UDP 5353" || not_ok "policy drop with accepts: $(check firewall): $(text firewall)"
"$LAB" exec h1 sh -c 'iptables -w -P INPUT ACCEPT && iptables -w -F && iptables -w -X'
doctor h1
[ "$(check firewall)" = ok ] && [ "$(check port)" = ok ] && ok "with the rules gone, firewall and port are ok again" || not_ok "after removing rules: $(check firewall) $(check port)"

say "(c) a known peer becomes unreachable"
stop_daemon h2
gone() { ! has_peer h1; }
wait_until 20 gone || not_ok "h1 still has a channel after h2's daemon stopped"
doctor h1
[ "$RC" = 69 ] && ok "doctor exits 69 when the only known peer is unreachable" || not_ok "doctor exit $RC with h2 down"
[ "$(check peers)" = fail ] && ok "peers: fail" || not_ok "peers: $(check peers): $(text peers)"
# bob's last address is whichever of his addresses the last channel used (IPv4 or IPv6 link-local).
case $(text peers) in *bob*unreachable*refused*) ok "…bob at his last address is unreachable: connection refused";;
  *) not_ok "peers text: $(text peers)";; esac
start_daemon h2
wait_until 20 has_peer h1 || not_ok "h2 did not come back"
doctor h1
[ "$RC" = 0 ] && [ "$(check peers)" = ok ] && ok "with h2 back, peers is ok and doctor exits 0" || not_ok "after restart: exit $RC, peers $(check peers): $(text peers)"

say "(b) avahi-daemon stopped"
"$LAB" stop-avahi h1 >&2
unavailable() { ! active h1; }
wait_until 10 unavailable || not_ok "h1's daemon did not notice avahi-daemon stopped"
doctor h1
[ "$RC" = 69 ] && ok "doctor exits 69 without avahi-daemon" || not_ok "doctor exit $RC without avahi"
[ "$(check avahi)" = fail ] && ok "avahi: fail" || not_ok "avahi: $(check avahi): $(text avahi)"
case $(text avahi) in *"not running"*"systemctl start avahi-daemon"*) ok "…says avahi-daemon is not running and how to start it";;
  *) not_ok "avahi text: $(text avahi)";; esac
[ "$(check discovery)" = fail ] && ok "discovery: fail (the daemon's own status says unavailable)" || not_ok "discovery: $(check discovery): $(text discovery)"
hark_on h1 doctor >"$WORK/doctor.txt" 2>&1
grep -q '^fail  avahi' "$WORK/doctor.txt" && grep -q 'fix: sudo systemctl start avahi-daemon' "$WORK/doctor.txt" \
  && ok "the text report shows the avahi finding and its fix" || not_ok "text report: $(cat "$WORK/doctor.txt")"
"$LAB" start-avahi h1 >&2
wait_until 20 active h1 || not_ok "discovery did not come back"
doctor h1
[ "$(check avahi)" = ok ] && ok "avahi ok again after it restarted" || not_ok "avahi after restart: $(check avahi)"

stop_daemon h1
stop_daemon h2
if "$LAB" guard-check >&2; then ok "no lab packet left through eth0"; else not_ok "lab traffic seen on eth0"; fi

say "(e) a host with only loopback"
"$LAB" up-solo >&2
hark_on h0 init --name solo >/dev/null
doctor h0
[ "$RC" = 69 ] && ok "doctor exits 69 on a host with only lo" || not_ok "doctor exit $RC on h0"
[ "$(check interfaces)" = fail ] && ok "interfaces: fail" || not_ok "interfaces: $(check interfaces): $(text interfaces)"
case $(text interfaces) in *"only loopback"*"--peer"*) ok "…says only loopback is there, with the fix";; *) not_ok "interfaces text: $(text interfaces)";; esac
[ "$(check avahi)" = ok ] && ok "avahi on lo still answers (ok)" || not_ok "avahi on h0: $(check avahi): $(text avahi)"
[ "$(check daemon)" = fail ] && ok "daemon: fail (none started on h0)" || not_ok "daemon on h0: $(check daemon)"
summary
