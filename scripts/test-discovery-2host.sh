#!/usr/bin/env bash
# test-discovery-2host.sh - two-host discovery check on a namespaced LAN.
#
# h1 publishes `hark-h1` with avahi-publish (a third-party publisher); on h2 the test
# LiveAvahiTests/seesPeerOnOtherHost browses for it (IPv4 + IPv6 link-local, scope id =
# interface index) and publishes the same name (collision → one side becomes "#2").
# Needs root, `scripts/lab.sh deps`, a prior `swift build --build-tests`.
# Env: LAB_NAME (default harklab2h), LAB_NET (default 10.98.0), LAB_TTL.
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB_NAME=${LAB_NAME:-harklab2h} LAB_TTL=${LAB_TTL:-900}
L=scripts/lab.sh
bin=$(swift build --show-bin-path)/harkPackageTests.xctest
[ -x "$bin" ] || { echo "no $bin: run 'swift build --build-tests' first" >&2; exit 1; }
trap '$L down' EXIT
$L up 2
$L spawn h1 pub avahi-publish -s hark-h1 _hark._tcp 7777 v=1 tok=0011223344556677 name=alice
run=${LAB_RUN:-/run/$LAB_NAME}
for _ in $(seq 50); do grep -qs Established "$run/h1/pub.log" && break; sleep 0.1; done   # ≤ 5 s
grep -qs Established "$run/h1/pub.log" || { cat "$run/h1/pub.log" >&2; exit 1; }
timeout 120 $L exec h2 env HARK_TEST_AVAHI=1 HARK_TEST_PEER=hark-h1 "$bin" --testing-library swift-testing \
  --filter seesPeerOnOtherHost
