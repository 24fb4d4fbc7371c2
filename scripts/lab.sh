#!/usr/bin/env bash
# lab.sh - a throw-away LAN of network namespaces for hark's multi-host tests
# (mDNS/DNS-SD through real avahi-daemons, TCP/UDP between hosts). Debian 12, root.
#
#   lab.sh deps                   apt-get the tools (no daemon is ever started in the root ns)
#   lab.sh up N                   (re)create hosts h1..hN (1..60) on one bridge
#   lab.sh up-solo                (re)create one host h0 with only lo (avahi on lo)
#   lab.sh exec HOST CMD...       run CMD on HOST (its netns, its D-Bus, its avahi socket);
#                                 fine to background: `lab.sh exec h1 hark daemon &`
#   lab.sh spawn HOST NAME CMD... start CMD on HOST as a daemon: setsid + timeout LAB_TTL,
#                                 log $LAB_RUN/HOST/NAME.log, pid $LAB_RUN/HOST/NAME.pid
#   lab.sh stop-avahi HOST        stop HOST's avahi-daemon (D-Bus stays up)
#   lab.sh start-avahi HOST       start it again and wait until it is ready
#   lab.sh freeze-avahi HOST      SIGSTOP HOST's avahi-daemon: it keeps its D-Bus name but
#                                 answers nothing (a daemon too loaded to answer); `thaw-avahi`
#                                 sends SIGCONT
#   lab.sh partition HOST         pull HOST's cable at the switch; `heal HOST` plugs it back
#   lab.sh block HOST             the switch stops forwarding HOST's port (bridge port state
#                                 disabled) while both ends keep their link up: a path cut
#                                 further away; `unblock HOST` forwards again
#   lab.sh status                 what exists and runs
#   lab.sh down                   kill every process in the lab's namespaces, delete them
#                                 and the run dir (idempotent)
#   lab.sh guard-start            tcpdump on eth0 (root ns) for lab signatures;
#   lab.sh guard-check            fails if any lab packet left the machine
#
# Topology: netns $LAB_NAME-sw holds bridge br0 (L2 only, IPv6 off, no snooping); host hI
# is netns $LAB_NAME-hI with lo + lan0 ($LAB_NET.I/24, fe80:: link-local, no default
# route). Each veth is born inside the switch ns with its peer inside the host ns, so no
# interface ever exists in the root namespace, and eth0 is never touched.
# Per host: a private dbus-daemon (type system, socket $LAB_RUN/hI/dbus.sock, no service
# dir) and avahi-daemon (allow-interfaces=lan0, or lo for h0). avahi's compiled-in
# /run/avahi-daemon is covered by a bind mount of $LAB_RUN/hI/avahi inside the private
# mount namespace that `ip netns exec` gives every command; /etc/avahi/services by an
# empty dir.
#
# `up N` raises the kernel's neighbour-table limits (net.ipv{4,6}.neigh.default.gc_thresh2/3,
# shared by every namespace) when a full mesh of N hosts needs more than they allow; it never
# lowers them.
#
# Env knobs: LAB_NAME (default harklab; namespace/run-dir prefix), LAB_NET (first three
# octets, default 10.98.0), LAB_TTL (seconds after which every lab process stops by
# itself, default 3600), LAB_RUN (default /run/$LAB_NAME), LAB_GUARD_IF (default eth0).
set -euo pipefail

LAB=${LAB_NAME:-harklab}
NET=${LAB_NET:-10.98.0}
TTL=${LAB_TTL:-3600}
RUN=${LAB_RUN:-/run/$LAB}
GUARD_IF=${LAB_GUARD_IF:-eth0}
SW=$LAB-sw
SELF=$(readlink -f "$0")
MARK=.hark-lab                         # marks a run dir as a lab's
ROOT_MARK=/run/.hark-lab-made-run-avahi

[[ $LAB =~ ^[a-z][a-z0-9]{1,10}$ ]] || { echo "lab: LAB_NAME must be [a-z][a-z0-9]{1,10}" >&2; exit 2; }
[[ $NET =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || { echo "lab: LAB_NET must be A.B.C" >&2; exit 2; }
# lab MACs: 02:<B>:<C>:00:00:<i> (locally administered, derived from LAB_NET)
MAC_PREFIX=$(printf '02:%02x:%02x:00:00' "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
MAC_MATCH=$(printf '0x02%02x%02x00' "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
[[ $TTL =~ ^[0-9]+$ ]] || { echo "lab: LAB_TTL must be seconds" >&2; exit 2; }

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }
ns_of() { echo "$LAB-$1"; }
valid_host() { [[ ${1:-} =~ ^h[0-9]+$ ]] && [ -d "$RUN/$1" ] || die "no such lab host: ${1:-} (run: up N)"; }
lab_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$LAB-(sw|h[0-9]+)$" || true; }
# alive PID: exists and is not a zombie
alive() { [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }
elapsed() { awk "BEGIN{printf \"%.2f\", $EPOCHREALTIME - $1}"; }

# wait_for SECONDS CMD... : poll CMD every 0.1 s; bounded.
wait_for() {
  local n=$(( $1 * 10 )); shift
  while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}

# ------------------------------------------------------------------------ deps
cmd_deps() {
  need_root
  # No systemd here: a postinst's invoke-rc.d would start avahi-daemon in the root
  # namespace, on eth0. policy-rc.d exit 101 forbids that for the install.
  DEPS_POLICY_MADE=
  if [ ! -x /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; DEPS_POLICY_MADE=1
  fi
  trap '[ -z "${DEPS_POLICY_MADE:-}" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    avahi-daemon avahi-utils dbus iproute2 iptables tcpdump iputils-ping
  # belt and braces: an avahi-daemon in the root ns would speak on eth0; stop it
  local p
  p=$(cat /run/avahi-daemon/pid 2>/dev/null || true)
  if alive "$p" && [ "$(cat "/proc/$p/comm")" = avahi-daemon ] \
     && [ "$(readlink "/proc/$p/ns/net")" = "$(readlink /proc/self/ns/net)" ]; then
    log "stopping root-namespace avahi-daemon $p started by the install"; kill "$p"
  fi
}

# ------------------------------------------------------------- inside a host
# `ip netns exec NS lab.sh _inns HOST CMD...`: already in HOST's netns and in the
# private mount namespace ip-netns(8) made for this command.
cmd__inns() {
  local h=$1; shift
  local d=$RUN/$h
  mount --bind "$d/avahi" /run/avahi-daemon
  mount --bind "$d/empty" /etc/avahi/services
  export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$d/dbus.sock"
  export LAB_HOST=$h LAB_SH=$SELF LAB_ADDR LAB_IFACE
  LAB_ADDR=$(cat "$d/addr"); LAB_IFACE=$(cat "$d/iface")
  exec "$@"
}

cmd_exec() {
  need_root
  [ $# -ge 2 ] || die "usage: exec HOST CMD..."
  local h=$1; shift; valid_host "$h"
  exec ip netns exec "$(ns_of "$h")" "$SELF" _inns "$h" "$@"
}

# spawn HOST NAME CMD... : daemon on HOST in its own session; stdin /dev/null; output to
# NAME.log; NAME.pid = PID of the `timeout $TTL` wrapper (TERM to it stops CMD too).
cmd_spawn() {
  need_root
  [ $# -ge 3 ] || die "usage: spawn HOST NAME CMD..."
  local h=$1 name=$2; shift 2; valid_host "$h"
  [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "spawn: bad NAME $name"
  local d=$RUN/$h
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$d/$name.pid" \
    ip netns exec "$(ns_of "$h")" "$SELF" _inns "$h" timeout "$TTL" "$@" </dev/null >"$d/$name.log" 2>&1 &
  wait_for 5 test -s "$d/$name.pid" || die "spawn: $name did not start"
}

# --------------------------------------------------------------------- up
# prepare_host HOST IFACE ADDR : run dir and configs
prepare_host() {
  local h=$1 ifc=$2 addr=$3 d=$RUN/$1
  mkdir -p "$d/avahi" "$d/empty"
  echo "$addr" >"$d/addr"; echo "$ifc" >"$d/iface"
  cat >"$d/dbus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- private system bus of lab host $h; no servicedir: nothing is ever activated -->
  <type>system</type>
  <listen>unix:path=$d/dbus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
XML
  cat >"$d/avahi-daemon.conf" <<CONF
# avahi-daemon of lab host $h: only the lab interface, nothing else published
[server]
host-name=$h
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=$ifc
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-resolv-conf-dns-servers=no
[reflector]
enable-reflector=no
[rlimits]
CONF
}

start_dbus() {
  local h=$1 d=$RUN/$1
  rm -f "$d/dbus.sock"
  cmd_spawn "$h" dbus dbus-daemon --config-file="$d/dbus.conf" --nofork --nopidfile --nosyslog
}
wait_dbus() {
  local d=$RUN/$1
  wait_for 10 test -S "$d/dbus.sock" || { cat "$d/dbus.log" >&2; die "$1: dbus-daemon did not start"; }
}
start_avahi() {
  local h=$1 d=$RUN/$1
  rm -f "$d/avahi/pid"                 # stale after a kill -9: avahi would refuse to start
  cmd_spawn "$h" avahi avahi-daemon -f "$d/avahi-daemon.conf" --no-drop-root --no-chroot --no-rlimits --no-proc-title
}
wait_avahi() {
  local d=$RUN/$1
  # "Server startup complete": host name probed and registered, ready for clients
  wait_for 20 grep -qs 'Server startup complete' "$d/avahi.log" \
    || { cat "$d/avahi.log" >&2; die "$1: avahi-daemon did not come up"; }
}

start_daemons() {
  local h
  for h in "$@"; do start_dbus "$h"; done
  for h in "$@"; do wait_dbus "$h"; start_avahi "$h"; done
  for h in "$@"; do wait_avahi "$h"; done
}

check_tools() {
  local t
  for t in ip avahi-daemon dbus-daemon avahi-browse timeout setsid; do
    command -v "$t" >/dev/null || die "$t missing: run '$SELF deps' first"
  done
}

# raise_neigh_limits N: the kernel's ARP and NDP tables are shared by every namespace, and their
# default hard limit (gc_thresh3 = 1024 entries each) is below a full mesh of 50 hosts (50 × 49
# entries per family, plus the switch). Past it the kernel drops new neighbours ("neighbor table
# overflow!" in dmesg), and connects and mDNS answers between hosts time out for minutes.
raise_neigh_limits() {
  local n=$1 f want2 want3
  want3=$(( 4 * n * n )); want2=$(( 2 * n * n ))
  for f in ipv4 ipv6; do
    [ "$(sysctl -n "net.$f.neigh.default.gc_thresh3")" -ge "$want3" ] && continue
    [ "$(sysctl -n "net.$f.neigh.default.gc_thresh2")" -ge "$want2" ] || sysctl -qw "net.$f.neigh.default.gc_thresh2=$want2"
    sysctl -qw "net.$f.neigh.default.gc_thresh3=$want3"
    log "raised net.$f.neigh.default.gc_thresh3 to $want3 for a mesh of $n hosts"
  done
}

begin_run() {
  mkdir -p "$RUN"; touch "$RUN/$MARK"
  # mount point for the per-host bind mounts; only made if absent, removed by the last down
  if [ ! -e /run/avahi-daemon ]; then mkdir /run/avahi-daemon; touch "$ROOT_MARK"; fi
}

cmd_up() {
  need_root; check_tools
  local n=${1:-2}
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 60 ] || die "usage: up N (1..60)"
  cmd_down quiet
  local t0=$EPOCHREALTIME
  raise_neigh_limits "$n"
  begin_run
  ip netns add "$SW"
  ip netns exec "$SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$SW" link set lo up
  ip -n "$SW" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$SW" link set br0 up
  local i h ns hosts=()
  for i in $(seq 1 "$n"); do
    h=h$i; ns=$(ns_of "$h"); hosts+=("$h")
    prepare_host "$h" lan0 "$NET.$i"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # the peer is born inside the host ns: no interface ever appears in the root ns
    ip -n "$SW" link add "$h" type veth peer name lan0 netns "$ns"
    ip -n "$SW" link set "$h" master br0 up
    ip -n "$ns" link set lan0 address "$(printf '%s:%02x' "$MAC_PREFIX" "$i")"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.lan0.accept_dad=0
    ip -n "$ns" link set lan0 multicast on up
    ip -n "$ns" addr add "$NET.$i/24" dev lan0
  done
  start_daemons "${hosts[@]}"
  echo "${hosts[*]}" >"$RUN/hosts"
  log "up: $n hosts ($LAB, $NET.0/24) in $(elapsed "$t0") s"
}

# One host, loopback only: avahi >= 0.8 uses lo (IPv4 results only). The multicast
# route on lo silences avahi's "sendmsg() to ff02::fb failed" noise.
cmd_up_solo() {
  need_root; check_tools
  cmd_down quiet
  local t0=$EPOCHREALTIME ns; ns=$(ns_of h0)
  begin_run
  prepare_host h0 lo 127.0.0.1
  ip netns add "$ns"
  ip -n "$ns" link set lo multicast on up
  ip -n "$ns" -6 route add multicast ff00::/8 dev lo table local
  start_daemons h0
  echo h0 >"$RUN/hosts"
  log "up-solo: h0 (lo only, $LAB) in $(elapsed "$t0") s"
}

# --------------------------------------------------------- avahi restarts
# avahi PIDs of HOST = processes named avahi-daemon inside HOST's namespace
avahi_pids() {
  local p
  for p in $(ip netns pids "$(ns_of "$1")" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = avahi-daemon ] && echo "$p"
  done
  return 0
}
cmd_stop_avahi() {
  need_root; valid_host "${1:-}"
  local h=$1 pids
  pids=$(avahi_pids "$h")
  [ -n "$pids" ] || { log "stop-avahi $h: not running"; return 0; }
  # shellcheck disable=SC2086
  kill_pid_list $pids
  wait_for 5 test -z "$(avahi_pids "$h")" || die "stop-avahi $h: still running"
  log "stop-avahi $h: stopped"
}
cmd_start_avahi() {
  need_root; valid_host "${1:-}"
  local h=$1
  [ -z "$(avahi_pids "$h")" ] || { log "start-avahi $h: already running"; return 0; }
  start_avahi "$h"; wait_avahi "$h"
  log "start-avahi $h: ready"
}
cmd_signal_avahi() {           # cmd_signal_avahi SIG HOST
  need_root; valid_host "${2:-}"
  local pids; pids=$(avahi_pids "$2")
  [ -n "$pids" ] || die "$1 avahi on $2: not running"
  # shellcheck disable=SC2086
  kill "-$1" $pids
  log "avahi on $2: SIG$1"
}

# ------------------------------------------------------------ partition
cmd_partition() { need_root; valid_host "${1:-}"; [ "$1" != h0 ] || die "h0 has no cable"; ip -n "$SW" link set "$1" down; }
cmd_heal()      { need_root; valid_host "${1:-}"; [ "$1" != h0 ] || die "h0 has no cable"; ip -n "$SW" link set "$1" up; }
cmd_block()     { need_root; valid_host "${1:-}"; [ "$1" != h0 ] || die "h0 has no cable"; ip netns exec "$SW" bridge link set dev "$1" state 0; }
cmd_unblock()   { need_root; valid_host "${1:-}"; [ "$1" != h0 ] || die "h0 has no cable"; ip netns exec "$SW" bridge link set dev "$1" state 3; }

# ------------------------------------------------------------------ down
kill_pid_list() {           # TERM, up to 3 s, then KILL; only the PIDs given
  local p left n=30
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  while [ $n -gt 0 ]; do
    left=(); for p in "$@"; do if alive "$p"; then left+=("$p"); fi; done
    [ ${#left[@]} -eq 0 ] && return 0
    sleep 0.1; n=$((n - 1))
  done
  for p in "${left[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}

# any lab (this script's or research lanlab.sh's) still has a run dir in /run
other_labs_up() {
  local f
  for f in /run/*/"$MARK" /run/*/.lanlab; do [ -e "$f" ] && return 0; done
  return 1
}

cmd_down() {
  need_root
  local quiet=${1:-} ns pids
  for ns in $(lab_namespaces); do
    # only processes this script started can be inside the lab's namespaces
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill_pid_list $pids
    ip netns del "$ns" 2>/dev/null || true
  done
  # the spawn wrappers (setsid bash → ip netns exec) are in the root ns until they exec;
  # by now they have exec'd into the killed processes
  rm -rf "$RUN"
  # the last lab down removes /run/avahi-daemon if a lab made it (checks lanlab's too)
  if [ -f "$ROOT_MARK" ] && ! other_labs_up; then
    rmdir /run/avahi-daemon 2>/dev/null || true
    rm -f "$ROOT_MARK"
  fi
  [ -n "$quiet" ] || log "down: done ($LAB)"
}

cmd_status() {
  local h d p
  echo "namespaces: $(lab_namespaces | sort | tr '\n' ' ')"
  [ -f "$RUN/hosts" ] || { echo "lab $LAB is down"; return 0; }
  for h in $(cat "$RUN/hosts"); do
    d=$RUN/$h
    printf '%-3s %-10s %s' "$h" "$(cat "$d/addr")" "$(cat "$d/iface")"
    for p in "$d"/*.pid; do
      [ -f "$p" ] || continue
      if alive "$(cat "$p")"; then printf ' %s=%s' "$(basename "$p" .pid)" "$(cat "$p")"
      else printf ' %s=DEAD' "$(basename "$p" .pid)"; fi
    done
    printf ' avahi-daemon=%s\n' "$(avahi_pids "$h" | tr '\n' ' ')"
  done
}

# ----------------------------------------------------------------- guard
# Proof that nothing of the lab leaves the machine: capture on the root ns uplink (no
# promiscuous mode) any mDNS, the lab subnet and the lab MACs; guard-check fails on any.
GUARD=/var/tmp/$LAB-guard
GUARD_FILTER="udp port 5353 or net $NET.0/24 or ether[0:4] = $MAC_MATCH or ether[6:4] = $MAC_MATCH"
cmd_guard_start() {
  need_root; command -v tcpdump >/dev/null || die "tcpdump missing: run '$SELF deps'"
  ip link show "$GUARD_IF" >/dev/null 2>&1 || die "guard: no interface $GUARD_IF"
  mkdir -p "$GUARD"
  if [ -f "$GUARD/pid" ] && alive "$(cat "$GUARD/pid")"; then die "guard already running"; fi
  rm -f "$GUARD/cap.pcap"
  setsid bash -c 'echo $$ >"$0"; exec timeout "$1" tcpdump -p -n -i "$2" -s 128 -w "$3" "$4"' \
    "$GUARD/pid" "$TTL" "$GUARD_IF" "$GUARD/cap.pcap" "$GUARD_FILTER" </dev/null >"$GUARD/log" 2>&1 &
  wait_for 5 grep -qs listening "$GUARD/log" || { cat "$GUARD/log" >&2; die "guard: tcpdump did not start"; }
  log "guard: capturing lab signatures on $GUARD_IF ($GUARD_FILTER)"
}
cmd_guard_check() {
  need_root; [ -f "$GUARD/pid" ] || die "guard not started"
  local p n; p=$(cat "$GUARD/pid")
  if alive "$p" && [ "$(cat "/proc/$p/comm")" = timeout ]; then
    kill "$p"; wait_for 5 eval '! alive '"$p" || true
  fi
  n=$(tcpdump -r "$GUARD/cap.pcap" -n 2>/dev/null | wc -l)
  grep -E 'packets (captured|received)' "$GUARD/log" >&2 || true
  if [ "$n" -gt 0 ]; then
    tcpdump -r "$GUARD/cap.pcap" -n 2>/dev/null | head -20 >&2
    die "guard: $n lab packet(s) seen on $GUARD_IF (pcap kept in $GUARD)"
  fi
  rm -rf "$GUARD"
  log "guard: 0 lab packets on $GUARD_IF"
}

main() {
  local c=${1:-}; shift || true
  case $c in
    deps) cmd_deps ;;
    up) cmd_up "$@" ;;
    up-solo) cmd_up_solo ;;
    exec) cmd_exec "$@" ;;
    _inns) cmd__inns "$@" ;;
    spawn) cmd_spawn "$@" ;;
    stop-avahi) cmd_stop_avahi "$@" ;;
    start-avahi) cmd_start_avahi "$@" ;;
    freeze-avahi) cmd_signal_avahi STOP "$@" ;;
    thaw-avahi) cmd_signal_avahi CONT "$@" ;;
    partition) cmd_partition "$@" ;;
    heal) cmd_heal "$@" ;;
    block) cmd_block "$@" ;;
    unblock) cmd_unblock "$@" ;;
    status) cmd_status ;;
    down) cmd_down ;;
    guard-start) cmd_guard_start ;;
    guard-check) cmd_guard_check ;;
    *) sed -n '2,30p' "$SELF" | sed 's/^# \{0,1\}//'
       [ -z "$c" ] || [ "$c" = help ] || exit 2 ;;
  esac
}
main "$@"
