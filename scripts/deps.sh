#!/usr/bin/env bash
# Installs the Debian packages hark needs: libraries to build and link (libsodium, avahi-client,
# SQLite, ncursesw for the chat), and every command the tests, demo and benchmarks call (tmux for
# the chat suite; scripts/check-test-commands.sh lists them and fails `make test` early when one is
# missing).
# No package may start a daemon in the root namespace (mDNS must never reach eth0), so a
# policy-rc.d that denies service starts is in place while apt runs. Idempotent.
set -euo pipefail
PKGS="libsodium-dev libavahi-client-dev libsqlite3-dev libncurses-dev pkg-config avahi-daemon avahi-utils dbus iproute2 iptables nftables tcpdump iputils-ping python3 python3-venv python3-pip python3-cryptography procps mount mawk hyperfine faketime openssh-server openssh-client socat passwd systemd tmux syncthing"
missing=()
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "deps: missing packages (${missing[*]}); run as root: sudo $0" >&2; exit 77; fi
made_policy=
if [ ! -x /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
fi
trap '[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]}" >&2
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# If a package started avahi-daemon in the root namespace anyway, stop it (it would speak on eth0).
if [ -r /run/avahi-daemon/pid ]; then
  p=$(cat /run/avahi-daemon/pid 2>/dev/null || true)
  if [ -n "$p" ] && [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ] \
     && [ "$(cat /proc/$p/comm 2>/dev/null)" = avahi-daemon ]; then
    echo "deps: stopping root-namespace avahi-daemon $p started by the package" >&2; kill "$p"
  fi
fi
