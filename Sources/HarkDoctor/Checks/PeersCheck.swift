import HarkControl
import HarkDiscovery


/// The `peers` check: every known peer without a channel is reachable on TCP.
enum PeersCheck {
    /// At most this many peers are tried.
    static let maxPeersTried = 32

    /// The check for the daemon's `status` and `peers` (nil: no daemon): one connect through
    /// `probe` to each known peer without a channel (and each `--peer` never connected), at
    /// most ``maxPeersTried``, 2000 ms for all. Blocks that long at most.
    static func run(status: StatusResult?, peers: [PeerView]?, probe: TCPProber = TCPProbe.run) -> DoctorCheck {
        guard let status else {
            return DoctorCheck(name: "peers", status: .skip, finding: "no daemon, so no known peers")
        }
        let all = peers ?? []
        let connected = all.filter(\.connected)
        var tries: [(label: String, target: TCPTarget?, note: String?)] = []
        for p in all.filter({ !$0.connected }).sorted(by: { $0.lastSeenMs > $1.lastSeenMs }) {
            let who = "\(p.displayName) (\(p.fingerprint))"
            guard let a = p.address, let hp = HostPort(a) else { tries.append((who, nil, "no address known")); continue }
            let inbound = p.source == "inbound" || p.direction == "inbound"
            guard let port = p.listenPort ?? (inbound ? nil : hp.port) else {
                tries.append((who, nil, "only its inbound address \(a) is known, not its port")); continue
            }
            if hp.isUnscopedLinkLocal { tries.append((who, nil, "its address \(a) is link-local without a scope (see link-local)")); continue }
            guard let t = TCPTarget(host: hp.host, port: port) else {
                tries.append((who, nil, "\(a) is not an IP address (doctor resolves no names)")); continue
            }
            tries.append(("\(who) at \(t.label)", t, nil))
        }
        // --peer addresses that never opened a channel are not in `peers` yet
        let knownAddresses = Set(all.compactMap(\.address))
        for spec in status.staticPeers ?? [] where !knownAddresses.contains(spec) {
            guard let hp = HostPort(spec), let port = hp.port else { continue }
            if hp.isUnscopedLinkLocal { tries.append(("--peer \(spec)", nil, "link-local without a scope (see link-local)")); continue }
            guard let t = TCPTarget(host: hp.host, port: port) else {
                tries.append(("--peer \(spec)", nil, "a host name (doctor resolves no names)")); continue
            }
            tries.append(("--peer \(t.label)", t, nil))
        }
        if tries.isEmpty {
            return DoctorCheck(name: "peers", status: .ok,
                               finding: all.isEmpty ? "no peers known yet (none found through avahi, none given with --peer)"
                                   : "all \(all.count) known peer\(all.count == 1 ? " is" : "s are") connected")
        }
        let extra = max(0, tries.count - Self.maxPeersTried)
        tries = Array(tries.prefix(Self.maxPeersTried))
        let targets = tries.compactMap(\.target)
        let outcomes = probe(targets, 2000)
        var details: [String] = []
        var unreachable = 0, openNoChannel = 0, untested = 0
        var k = 0
        for t in tries {
            guard t.target != nil else { untested += 1; details.append("\(t.label): not tried: \(t.note ?? "")"); continue }
            // a probe answers each target in order; a short answer leaves the rest untried
            let o = k < outcomes.count ? outcomes[k] : .failed("not tried")
            k += 1
            switch o {
            case .connected:
                openNoChannel += 1
                details.append("\(t.label): reachable (TCP port open) but no channel: the handshake fails or the daemon waits to redial")
            case .refused:
                unreachable += 1
                details.append("\(t.label): unreachable: connection refused, no hark daemon listens there")
            case .timedOut:
                unreachable += 1
                details.append("\(t.label): unreachable: no answer within 2 s (host down, a firewall drops the port, or no route)")
            case .failed(let why):
                unreachable += 1
                details.append("\(t.label): unreachable: \(why)")
            }
        }
        if extra > 0 { details.append("\(extra) more not tried (at most \(Self.maxPeersTried))") }
        let total = tries.count + extra
        if unreachable > 0 {
            return DoctorCheck(name: "peers", status: connected.isEmpty ? .fail : .warn,
                               finding: "\(unreachable) of \(total) known peer\(total == 1 ? "" : "s") without a channel \(unreachable == 1 ? "is" : "are") unreachable"
                                   + " (\(connected.count) connected)",
                               fix: "on each unreachable peer: check its daemon runs (hark status), its firewall allows its TCP port, "
                                   + "and the route from here (ip route get ADDRESS)",
                               details: details)
        }
        if openNoChannel > 0 {
            return DoctorCheck(name: "peers", status: .warn,
                               finding: "\(openNoChannel) known peer\(openNoChannel == 1 ? " answers" : "s answer") on TCP but has no channel",
                               fix: "wait up to 10 s for the redial; if it stays, see both daemons' logs (hark daemon --log-level debug)",
                               details: details)
        }
        return DoctorCheck(name: "peers", status: .warn,
                           finding: "\(untested) known peer\(untested == 1 ? "" : "s") without a channel could not be tried",
                           fix: "see the details", details: details)
    }
}
