#!/usr/bin/env bash
# test-discovery-live.sh - run HarkDiscoveryTests against a real avahi-daemon.
#
# Brings up lab host h0 (its own netns with only lo; its own dbus-daemon + avahi-daemon
# with allow-interfaces=lo, so nothing can reach eth0), runs the already-built tests in
# it with HARK_TEST_AVAHI=1 (live tests then fail, not skip, when the daemon is not
# reachable), and always takes the lab down again.
#
# Needs: root, `scripts/lab.sh deps` once, and a prior `swift build --build-tests`.
# The test binary is run directly (what `swift test --skip-build` runs): SwiftPM itself
# stalls in "Planning build" inside a namespace that has no network.
# Env: LAB_NAME (default harklablive), LAB_NET, LAB_TTL as for lab.sh; extra args go to
# the swift-testing runner (default: --filter HarkDiscoveryTests).
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB_NAME=${LAB_NAME:-harklablive} LAB_TTL=${LAB_TTL:-900}
L=scripts/lab.sh
bin=$(swift build --show-bin-path)/harkPackageTests.xctest
[ -x "$bin" ] || { echo "no $bin: run 'swift build --build-tests' first" >&2; exit 1; }
trap '$L down' EXIT
$L up-solo
filter=(--filter HarkDiscoveryTests)
[ $# -eq 0 ] || filter=("$@")
timeout "$LAB_TTL" $L exec h0 env HARK_TEST_AVAHI=1 "$bin" --testing-library swift-testing "${filter[@]}"
