#!/usr/bin/env bash
# hark's main job, for real: two hosts on a private LAN (network namespaces on one bridge, each
# with its own D-Bus and avahi-daemon bound only to the lab interface) find each other through
# Avahi and chat over a Noise channel. Tears everything down at the end. Run as root.
set -euo pipefail
export LAB_NAME=${LAB_NAME:-harkdemo} LAB_NET=${LAB_NET:-10.96.0}
source "$(dirname "$0")/../tests/lab/lib.sh"
trap lab_cleanup EXIT

if [ -t 1 ]; then B=$'\033[1;34m' D=$'\033[2m' R=$'\033[0m'; else B= D= R=; fi
step() { printf '\n%s[%s]%s %s\n' "$B" "$1" "$R" "$2"; }
show() { printf '  %s$ %s%s\n' "$D" "$*" "$R"; }

step 1 "Start a private two-host LAN: hosts h1 and h2, each with its own avahi-daemon (allow-interfaces=lan0)"
lab_setup 2
"$LAB" guard-start >/dev/null 2>&1 || true

step 2 "Create an identity on each host"
show "h1: hark init --name alice"; hark_on h1 init --name alice | sed 's/^/  /'
show "h2: hark init --name bob";   hark_on h2 init --name bob | sed 's/^/  /'

step 3 "Start a node on each host; they publish _hark._tcp and browse for each other"
show "h1: hark daemon &"; start_daemon h1
show "h2: hark daemon &"; start_daemon h2
if ! wait_until 20 has_peer h1; then echo "  the nodes did not find each other" >&2; cat_log h1; cat_log h2; exit 1; fi
show "h1: avahi-browse -rpt _hark._tcp   (what h1's avahi-daemon sees: instance; address; port; TXT)"
browse() { "$LAB" exec h1 avahi-browse -rpt _hark._tcp 2>/dev/null | grep '^=' | grep IPv4 | cut -d';' -f4,8,9,10 | sort -u; }
seen=""
for _ in 1 2 3 4 5; do seen=$(browse); [ "$(printf '%s\n' "$seen" | grep -c .)" -ge 2 ] && break; done
printf '%s\n' "$seen" | perl -pe 's/\\(\d{3})/chr($1)/ge; s/^/  /'
show "h1: hark peers"; hark_on h1 peers | sed 's/^/  /'

step 4 "alice creates a group and prints an invite token"
show "h1: hark group create ops"; hark_on h1 group create ops | sed 's/^/  /'
token=$(hark_on h1 group invite ops)
show "h1: hark group invite ops"; echo "  ${token:0:60}…  (${#token} characters)"

step 5 "bob joins with the token"
show "h2: hark group join <token>"; hark_on h2 group join "$token" | sed 's/^/  /'

step 6 "alice sends a message from a script"
show "h1: echo 'backup done on h1' | hark send ops"; echo "backup done on h1" | hark_on h1 send ops

step 7 "It arrives on bob's host"
if wait_until 15 log_has h2 ops "backup done on h1"; then
  show "h2: hark log ops"; hark_on h2 log ops | sed 's/^/  /'
else
  echo "  the message did not arrive" >&2; cat_log h2; exit 1
fi

step 8 "bob answers; alice sees it"
show "h2: hark send ops 'thanks, alice'"; hark_on h2 send ops "thanks, alice"
wait_until 15 log_has h1 ops "thanks, alice" || { echo "  the reply did not arrive" >&2; exit 1; }
show "h1: hark log ops"; hark_on h1 log ops | sed 's/^/  /'

step 9 "Tear down: stop the nodes, check nothing left through eth0, remove the namespaces"
show "h1, h2: kill -TERM <hark daemon>"; stop_daemon h1; stop_daemon h2
"$LAB" guard-check 2>&1 | tail -1 | sed 's/^/  /' || true
show "lab down"; "$LAB" down 2>&1 | sed 's/^/  /'
echo
echo "demo finished: two nodes found each other through Avahi and chatted over Noise."
