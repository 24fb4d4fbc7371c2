import ArgumentParser
import Foundation
import HarkControl
import HarkDiscovery
import HarkNode
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `hark doctor`: explains why peers are not seen, each finding with its fix.
///
/// Read-only. The only packets it causes stay on this host or go to peers the daemon already
/// knows: D-Bus calls to avahi-daemon (no publish, no browse, so no mDNS), TCP connects to the
/// daemon's own port on this host's addresses (routed through lo), and one TCP connect (≤ 2 s,
/// at most 32) to the last address of each known peer without an open channel.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Explain why peers are not seen, and how to fix it.",
        discussion: """
            Runs these checks and prints each as ok, warn, fail or skip with a one-line finding \
            and the fix: home (identity present, home 0700, keys 0600); daemon (the control \
            socket answers status); avahi (avahi-daemon reachable over D-Bus); discovery (the \
            daemon's own discovery state); interfaces (up, not loopback, multicast, with an \
            address; warns about those avahi skips); firewall (nft or iptables rules that drop \
            the daemon's TCP port or UDP 5353, when readable); port (the daemon's TCP port \
            answers on this host's addresses); link-local (fe80:: peer addresses without a \
            %scope); peers (known peers without a channel: one TCP connect of at most 2 s to \
            each, at most 32; it fails when no peer has a channel and one is unreachable).

            Sends no mDNS and connects only to this host and to peers the daemon already knows. \
            With --json it prints one JSON object: {"ok", "failed", "warnings", "checks": \
            [{"name", "status", "finding", "fix", "details"}]}.
            """ + "\n\n" + ExitDoc.text([0: "no check failed (warnings allowed)", 69: "a check failed"], daemon: false)
    )

    @OptionGroup var options: HomeOptions
    @Flag(name: .long, help: "Print one JSON object (the report).") var json = false

    func run() throws {
        let report = Doctor(home: options.nodeHome, explicitHome: options.home).run()
        if json {
            try printJSON(report)
        } else {
            for c in report.checks { printText(c) }
            if report.failed == 0 && report.warnings == 0 {
                printOut("all checks passed")
            } else {
                printOut("\(report.failed) failed, \(report.warnings) warning\(report.warnings == 1 ? "" : "s")")
            }
        }
        if report.failed > 0 { throw Exit.unavailable }
    }

    private func printText(_ c: DoctorCheck) {
        let tag = c.status.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
        let name = c.name.padding(toLength: 11, withPad: " ", startingAt: 0)
        printOut("\(tag) \(name) \(terminalSafe(c.finding))")
        for d in c.details { printOut("                  - \(terminalSafe(d))") }
        if let fix = c.fix { printOut("                  fix: \(terminalSafe(fix))") }
    }
}

/// One check's outcome, as printed and as in `--json`.
struct DoctorCheck: Codable, Sendable {
    enum Status: String, Codable, Sendable { case ok, warn, fail, skip }
    var name: String
    var status: Status
    var finding: String
    var fix: String?
    var details: [String] = []
}

/// `hark doctor --json`.
struct DoctorReport: Codable, Sendable {
    var ok: Bool
    var failed: Int
    var warnings: Int
    var checks: [DoctorCheck]
}

// MARK: - the checks

struct Doctor {
    let home: NodeHome
    let explicitHome: String?

    /// `--home DIR` to repeat in suggested commands, when the home was not the default.
    private var homeFlag: String { explicitHome == nil ? "" : " --home \(shellQuote(home.path))" }

    static let mdnsPort = 5353
    static let maxPeersTried = 32

    func run() -> DoctorReport {
        var checks: [DoctorCheck] = []
        let (homeCheck, initialized) = checkHome()
        checks.append(homeCheck)
        let (daemonCheck, status, peers) = checkDaemon(initialized: initialized)
        checks.append(daemonCheck)
        let probe = AvahiProbe.probe(timeoutMs: 3000)
        var avahi = checkAvahi(probe)
        if avahi.status == .fail, status?.discovery.state == "disabled" {
            // The daemon was told not to use Avahi (--no-discovery): its absence breaks nothing.
            avahi.status = .warn
            avahi.finding += " (the daemon runs with --no-discovery, so it does not need it)"
        }
        checks.append(avahi)
        checks.append(checkDiscovery(status, avahiOK: probe.state == .running))
        let interfaces = LocalInterface.all()
        checks.append(checkInterfaces(interfaces, avahiConfig: AvahiConfig.load()))
        // Without a daemon, the port it will listen on next (the remembered one, else the default).
        checks.append(checkFirewall(tcpPort: status?.tcpPort ?? home.rememberedPort ?? NodeConfiguration.defaultPort))
        checks.append(checkPort(status?.tcpPort, interfaces: interfaces))
        checks.append(checkLinkLocal(status: status, peers: peers, interfaces: interfaces))
        checks.append(checkPeers(status: status, peers: peers))
        let failed = checks.filter { $0.status == .fail }.count
        let warnings = checks.filter { $0.status == .warn }.count
        return DoctorReport(ok: failed == 0, failed: failed, warnings: warnings, checks: checks)
    }

    // MARK: home

    func checkHome() -> (DoctorCheck, Bool) {
        var st = stat()
        guard stat(home.path, &st) == 0 else {
            return (DoctorCheck(name: "home", status: .fail, finding: "no hark home at \(home.path)",
                                fix: "create an identity: hark init --name NAME\(homeFlag)"), false)
        }
        do { try home.requireInitialized() } catch {
            if case .notAccessible = error {
                return (DoctorCheck(name: "home", status: .fail, finding: error.description,
                                    fix: "run hark as the user who owns \(shellQuote(home.path)), or give your own --home"), false)
            }
            return (DoctorCheck(name: "home", status: .fail, finding: "no hark identity in \(home.path)",
                                fix: "create one: hark init --name NAME\(homeFlag)"), false)
        }
        let identity: NodeIdentity
        do { identity = try home.load() } catch {
            let fix: String
            switch error {
            case let .insecurePermissions(path, _): fix = "chmod 600 \(shellQuote(path))"
            case .corrupt: fix = "restore the home from a backup, or move it away and run hark init (a new identity)"
            case .notInitialized: fix = "hark init --name NAME\(homeFlag)"
            default: fix = "check the files in \(home.path) (owner, modes, disk)"
            }
            return (DoctorCheck(name: "home", status: .fail, finding: error.description, fix: fix), true)
        }
        let who = "identity \(identity.peerID.fingerprint) (\(identity.displayName)) in \(home.path)"
        let mode = st.st_mode & 0o777
        if mode & 0o077 != 0 {
            return (DoctorCheck(name: "home", status: .warn,
                                finding: "\(who), but the home is mode \(String(mode, radix: 8)): others can see its files",
                                fix: "chmod 700 \(shellQuote(home.path))"), true)
        }
        if st.st_uid != geteuid() {
            return (DoctorCheck(name: "home", status: .warn,
                                finding: "\(who), owned by uid \(st.st_uid), not by you (uid \(geteuid()))",
                                fix: "run hark as the home's owner, or chown -R \(geteuid()) \(shellQuote(home.path))"), true)
        }
        return (DoctorCheck(name: "home", status: .ok, finding: "\(who); home 0700, keys 0600"), true)
    }

    // MARK: daemon

    func checkDaemon(initialized: Bool) -> (DoctorCheck, StatusResult?, [PeerView]?) {
        guard initialized else {
            return (DoctorCheck(name: "daemon", status: .skip, finding: "no identity, so no daemon can run (see home)"), nil, nil)
        }
        let startFix = "start it: hark daemon\(homeFlag) & (or systemctl --user start hark)"
        let client: ControlClient
        do { client = try ControlClient(socketPath: home.socketPath) } catch {
            if let e = error as? ControlClient.ClientError, case .permissionDenied = e {
                return (DoctorCheck(name: "daemon", status: .fail, finding: e.description,
                                    fix: "run hark as the user who owns \(shellQuote(home.path))"), nil, nil)
            }
            let why: String
            if case let .daemonNotRunning(_, reason) = error as? ControlClient.ClientError { why = reason } else { why = "\(error)" }
            return (DoctorCheck(name: "daemon", status: .fail,
                                finding: "no hark daemon answers on \(home.socketPath) (\(why))", fix: startFix), nil, nil)
        }
        client.setTimeout(ms: 3000)
        let status: StatusResult
        do { status = try client.call("status", NoParams(), as: StatusResult.self) } catch {
            return (DoctorCheck(name: "daemon", status: .fail,
                                finding: "the daemon's control socket does not answer status: \(error)",
                                fix: "restart the daemon: stop it (kill its PID) and run hark daemon\(homeFlag)"), nil, nil)
        }
        let peers = try? client.call("peers", NoParams(), as: [PeerView].self)
        let finding = "daemon pid \(status.pid) (hark \(status.version)) on TCP port \(status.tcpPort), "
            + "\(status.connectedPeers) peer\(status.connectedPeers == 1 ? "" : "s") connected"
        return (DoctorCheck(name: "daemon", status: .ok, finding: finding), status, peers)
    }

    // MARK: avahi

    func checkAvahi(_ r: AvahiProbe.Result) -> DoctorCheck {
        let noAvahi = "; until then, name peers yourself: hark daemon --peer HOST:PORT"
        switch r.state {
        case .running:
            let v = r.version.map { " (\($0))" } ?? ""
            let h = r.hostName.map { " as \($0)" } ?? ""
            return DoctorCheck(name: "avahi", status: .ok, finding: "avahi-daemon\(v) answers on D-Bus\(h)")
        case .registering:
            return DoctorCheck(name: "avahi", status: .warn, finding: "avahi-daemon is still registering its host name",
                               fix: "wait a few seconds; if it stays so, see journalctl -u avahi-daemon")
        case .collision:
            return DoctorCheck(name: "avahi", status: .warn, finding: "avahi-daemon's host name collides with another host's on the LAN",
                               fix: "give this host a unique name (sudo hostnamectl set-hostname NAME) and sudo systemctl restart avahi-daemon")
        case .notRunning:
            return DoctorCheck(name: "avahi", status: .fail,
                               finding: "avahi-daemon is not running (the D-Bus system bus at \(r.busAddress) answers, avahi is not on it)",
                               fix: "sudo systemctl start avahi-daemon (Debian: sudo apt-get install avahi-daemon)\(noAvahi)")
        case .noBus:
            return DoctorCheck(name: "avahi", status: .fail,
                               finding: "avahi-daemon is unreachable: no D-Bus system bus at \(r.busAddress) (\(r.error ?? "?"))",
                               fix: "sudo systemctl start dbus avahi-daemon; in a container, mount the host's "
                                   + "/run/dbus/system_bus_socket or set DBUS_SYSTEM_BUS_ADDRESS\(noAvahi)")
        case .failed:
            return DoctorCheck(name: "avahi", status: .fail, finding: "cannot talk to avahi-daemon: \(r.error ?? "?")",
                               fix: "sudo systemctl restart avahi-daemon; see journalctl -u avahi-daemon\(noAvahi)")
        case .timedOut:
            return DoctorCheck(name: "avahi", status: .fail, finding: "D-Bus or avahi-daemon did not answer within 3 s",
                               fix: "sudo systemctl restart dbus avahi-daemon\(noAvahi)")
        }
    }

    func checkDiscovery(_ status: StatusResult?, avahiOK: Bool) -> DoctorCheck {
        guard let s = status else {
            return DoctorCheck(name: "discovery", status: .skip, finding: "no daemon to ask")
        }
        let d = s.discovery
        switch d.state {
        case "active":
            let n = d.instanceName.map { " as \"\($0)\"" } ?? ""
            return DoctorCheck(name: "discovery", status: .ok, finding: "the daemon publishes _hark._tcp\(n) and browses for peers")
        case "disabled":
            return DoctorCheck(name: "discovery", status: .warn,
                               finding: "the daemon runs with --no-discovery: it only finds the peers given with --peer",
                               fix: "restart it without --no-discovery, or give each peer with --peer HOST:PORT")
        case "unavailable":
            let fix = avahiOK
                ? "avahi-daemon answers here but not to the daemon: run the daemon with the same DBUS_SYSTEM_BUS_ADDRESS "
                    + "(it retries every 2 s by itself), or restart it"
                : "fix avahi-daemon (see avahi); the daemon reconnects by itself"
            return DoctorCheck(name: "discovery", status: .fail,
                               finding: "the daemon cannot use avahi: \(d.reason ?? "no reason given")", fix: fix)
        default:
            return DoctorCheck(name: "discovery", status: .warn, finding: "discovery is \(d.state)",
                               fix: "run hark doctor again in a few seconds")
        }
    }

    // MARK: interfaces

    func checkInterfaces(_ all: [LocalInterface], avahiConfig: AvahiConfig) -> DoctorCheck {
        var usable: [String] = []
        var details: [String] = []
        var skipped: [String] = []
        for i in all where !i.isLoopback {
            let addrs = i.addressTexts.joined(separator: ", ")
            if !i.isUp { details.append("\(i.name): down"); continue }
            if i.addresses.isEmpty { details.append("\(i.name): up, no address"); continue }
            if !i.isMulticast {
                skipped.append("\(i.name) (\(addrs)): no MULTICAST flag, avahi skips it; fix: sudo ip link set dev \(i.name) multicast on")
            } else if i.isPointToPoint && !avahiConfig.allowPointToPoint {
                skipped.append("\(i.name) (\(addrs)): point-to-point, avahi skips it (allow-point-to-point=yes in \(AvahiConfig.path) to use it)")
            } else if let why = avahiConfig.excludes(i.name) {
                skipped.append("\(i.name) (\(addrs)): \(why) in \(AvahiConfig.path), so avahi skips it")
            } else {
                usable.append(i.name)
                details.append("\(i.name): up, multicast, \(addrs)")
            }
        }
        details += skipped.map { "skipped: \($0)" }
        if usable.isEmpty {
            let lo = all.contains { $0.isLoopback && $0.isUp } ? " (only loopback: nodes on this host can still find each other)" : ""
            return DoctorCheck(name: "interfaces", status: .fail,
                               finding: "no interface can carry mDNS to other hosts: none is up, not loopback, multicast and addressed\(lo)",
                               fix: "bring up a LAN interface with an address (sudo ip link set dev IFACE up multicast on), "
                                   + "or connect directly: hark daemon --peer HOST:PORT",
                               details: details)
        }
        if !skipped.isEmpty {
            return DoctorCheck(name: "interfaces", status: .warn,
                               finding: "mDNS can use \(usable.joined(separator: ", ")); avahi skips \(skipped.count) other addressed interface\(skipped.count == 1 ? "" : "s")",
                               fix: "if peers are on a skipped interface, apply the fix given for it",
                               details: details)
        }
        return DoctorCheck(name: "interfaces", status: .ok, finding: "mDNS can use \(usable.joined(separator: ", "))", details: details)
    }

    // MARK: firewall

    func checkFirewall(tcpPort: Int?) -> DoctorCheck {
        var targets: [(proto: String, port: Int, what: String)] = [("udp", Self.mdnsPort, "UDP 5353 (mDNS)")]
        if let p = tcpPort { targets.insert(("tcp", p, "TCP \(p) (the daemon's)"), at: 0) }
        let scope = targets.map(\.what).joined(separator: " and ") + (tcpPort == nil ? "; no daemon, so its TCP port is unknown" : "")
        let inspection = Firewall.inspect()
        var details = inspection.notes
        if inspection.chains.isEmpty {
            if inspection.denied {
                return DoctorCheck(name: "firewall", status: .skip,
                                   finding: "cannot inspect the firewall (not root); looked for drops of \(scope)",
                                   fix: "run sudo hark doctor\(homeFlag), or look yourself: sudo nft list ruleset",
                                   details: details)
            }
            if !inspection.readAny {
                return DoctorCheck(name: "firewall", status: .skip,
                                   finding: details.isEmpty ? "no nft or iptables to inspect" : "cannot read the firewall rules",
                                   details: details)
            }
        }
        var blocked: [String] = [], blockedWhat: [String] = []
        var policyOnly: [String] = []
        var fixes: [String] = []
        for t in targets {
            // a drop policy is fine when some chain (ufw's, say, jumped to) accepts the port
            let acceptedSomewhere = inspection.chains.contains {
                if case .accepted = $0.verdict(proto: t.proto, port: t.port) { return true } else { return false }
            }
            for chain in inspection.chains {
                switch chain.verdict(proto: t.proto, port: t.port) {
                case .dropped(let rule):
                    blocked.append("\(t.what) is dropped by \(chain.source) chain \(chain.name): \(rule)")
                    blockedWhat.append(t.what)
                    fixes.append(Firewall.acceptCommand(chain: chain, proto: t.proto, port: t.port))
                case .policyDrop where !acceptedSomewhere:
                    policyOnly.append("\(chain.source) chain \(chain.name) has policy drop and no rule accepts \(t.what)")
                    fixes.append(Firewall.acceptCommand(chain: chain, proto: t.proto, port: t.port))
                case .accepted, .noMatch, .policyDrop:
                    break
                }
            }
        }
        details = blocked + policyOnly + details
        let fix = fixes.isEmpty ? nil : "allow them: " + fixes.uniqued().joined(separator: "; ")
        if !blocked.isEmpty {
            return DoctorCheck(name: "firewall", status: .fail,
                               finding: "the firewall drops " + blockedWhat.uniqued().joined(separator: " and "), fix: fix, details: details)
        }
        if !policyOnly.isEmpty {
            return DoctorCheck(name: "firewall", status: .warn,
                               finding: "an input chain drops by default and no rule accepts \(scope)", fix: fix, details: details)
        }
        let what = inspection.sources.joined(separator: ", ")
        return DoctorCheck(name: "firewall", status: .ok,
                           finding: "no rule drops \(scope) (\(what): \(inspection.chains.count) chain\(inspection.chains.count == 1 ? "" : "s"))",
                           details: details)
    }

    // MARK: port (live self-check)

    func checkPort(_ tcpPort: Int?, interfaces: [LocalInterface]) -> DoctorCheck {
        guard let port = tcpPort else {
            return DoctorCheck(name: "port", status: .skip, finding: "no daemon, so no TCP port to try")
        }
        var targets: [TCPTarget] = []
        for i in interfaces where i.isUp && !i.isLoopback {
            for a in i.addresses { targets.append(TCPTarget(ip: a.ip, isIPv6: a.isIPv6, scopeID: a.scopeID, scopeName: i.name, port: port)) }
        }
        targets = Array(targets.prefix(16))
        guard !targets.isEmpty else {
            return DoctorCheck(name: "port", status: .skip, finding: "this host has no non-loopback address to try TCP \(port) on")
        }
        let outcomes = TCPProbe.run(targets, timeoutMs: 1500)
        var open: [String] = [], refused: [String] = [], dropped: [String] = [], other: [String] = []
        for (t, o) in zip(targets, outcomes) {
            switch o {
            case .connected: open.append(t.label)
            case .refused: refused.append(t.label)
            case .timedOut: dropped.append(t.label)
            case .failed(let why): other.append("\(t.label): \(why)")
            }
        }
        var details: [String] = []
        if !open.isEmpty { details.append("accepts on \(open.joined(separator: ", "))") }
        if !refused.isEmpty { details.append("refused on \(refused.joined(separator: ", "))") }
        if !dropped.isEmpty { details.append("no answer within 1.5 s on \(dropped.joined(separator: ", "))") }
        details += other
        if !dropped.isEmpty {
            return DoctorCheck(name: "port", status: .fail,
                               finding: "TCP \(port) does not answer on \(dropped.joined(separator: ", ")): a firewall drops it",
                               fix: "allow TCP port \(port) in the firewall (the firewall check names the rule), e.g. "
                                   + "sudo iptables -I INPUT -p tcp --dport \(port) -j ACCEPT",
                               details: details)
        }
        if !refused.isEmpty || !other.isEmpty {
            return DoctorCheck(name: "port", status: .warn,
                               finding: "TCP \(port) is refused on \(refused.joined(separator: ", "))\(other.isEmpty ? "" : " (and errors)"): "
                                   + "the daemon listens on another address, or a firewall rejects it",
                               fix: "listen on all addresses (hark daemon without --listen, or --listen ::), and check REJECT rules for TCP \(port)",
                               details: details)
        }
        return DoctorCheck(name: "port", status: .ok, finding: "TCP \(port) accepts connections on \(open.count) local address\(open.count == 1 ? "" : "es")",
                           details: details)
    }

    // MARK: link-local

    func checkLinkLocal(status: StatusResult?, peers: [PeerView]?, interfaces: [LocalInterface]) -> DoctorCheck {
        guard status != nil else {
            return DoctorCheck(name: "link-local", status: .skip, finding: "no daemon, so no peer addresses to check")
        }
        let linkLocalIfaces = interfaces.filter { i in i.isUp && !i.isLoopback && i.addresses.contains { $0.isIPv6 && $0.isLinkLocal } }.map(\.name)
        let scope = linkLocalIfaces.count == 1 ? linkLocalIfaces[0] : "IFACE"
        var bad: [String] = [], fixes: [String] = []
        var checked = 0
        var staticBad = false
        for spec in status?.staticPeers ?? [] {
            checked += 1
            guard let hp = HostPort(spec), hp.isUnscopedLinkLocal else { continue }
            bad.append("--peer \(spec) is link-local without a scope: the daemon cannot dial it")
            fixes.append("--peer '[\(hp.host)%\(scope)]:\(hp.port.map(String.init) ?? "PORT")'")
            staticBad = true
        }
        for p in peers ?? [] {
            guard let a = p.address else { continue }
            checked += 1
            guard let hp = HostPort(a), hp.isUnscopedLinkLocal else { continue }
            // inbound channels' addresses are shown without their scope and are never dialled
            if p.source == "inbound" || p.direction == "inbound" { continue }
            bad.append("peer \(p.displayName) (\(p.fingerprint)) has the link-local address \(a) without a scope")
            fixes.append("[\(hp.host)%\(scope)]:\(hp.port.map(String.init) ?? "PORT")")
        }
        if bad.isEmpty {
            return DoctorCheck(name: "link-local", status: .ok,
                               finding: "no fe80:: address without a %scope among \(checked) peer address\(checked == 1 ? "" : "es")")
        }
        let ifaces = scope == "IFACE" && !linkLocalIfaces.isEmpty ? " (IFACE: one of \(linkLocalIfaces.joined(separator: ", ")))" : ""
        return DoctorCheck(name: "link-local", status: staticBad ? .fail : .warn,
                           finding: "\(bad.count) IPv6 link-local address\(bad.count == 1 ? "" : "es") without a scope: fe80:: is ambiguous without the interface",
                           fix: "give the address a scope, e.g. \(fixes.joined(separator: ", "))\(ifaces)", details: bad)
    }

    // MARK: peers

    func checkPeers(status: StatusResult?, peers: [PeerView]?) -> DoctorCheck {
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
        let outcomes = TCPProbe.run(targets, timeoutMs: 2000)
        var byTarget: [Int: TCPOutcome] = [:]
        for (i, o) in outcomes.enumerated() { byTarget[i] = o }
        var details: [String] = []
        var unreachable = 0, openNoChannel = 0, untested = 0
        var k = 0
        for t in tries {
            guard t.target != nil else { untested += 1; details.append("\(t.label): not tried: \(t.note ?? "")"); continue }
            let o = byTarget[k]!
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

// MARK: - addresses

/// `host:port`, `[v6]:port`, `[v6%scope]:port` or a bare host, split.
struct HostPort {
    var host: String
    var port: Int?

    init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            port = rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            port = Int(text[text.index(after: colon)...])
        } else {
            host = text
            port = nil
        }
        if host.isEmpty { return nil }
    }

    /// fe80::/10 without a `%scope`.
    var isUnscopedLinkLocal: Bool { !host.contains("%") && HostPort.isLinkLocalV6(host) }

    static func isLinkLocalV6(_ host: String) -> Bool {
        var a = in6_addr()
        let bare = String(host.prefix { $0 != "%" })
        guard inet_pton(AF_INET6, bare, &a) == 1 else { return false }
        return withUnsafeBytes(of: &a) { $0[0] == 0xFE && ($0[1] & 0xC0) == 0x80 }
    }
}

/// One address to try a TCP connect to: an IP literal (no name resolution, ever).
struct TCPTarget {
    var ip: String
    var isIPv6: Bool
    var scopeID: UInt32
    var scopeName: String?
    var port: Int

    init(ip: String, isIPv6: Bool, scopeID: UInt32, scopeName: String?, port: Int) {
        self.ip = ip; self.isIPv6 = isIPv6; self.scopeID = scopeID; self.scopeName = scopeName; self.port = port
    }

    /// From `10.0.0.2`, `fe80::1%eth0` or `fe80::1%2`; nil for names.
    init?(host: String, port: Int) {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { self.init(ip: host, isIPv6: false, scopeID: 0, scopeName: nil, port: port); return }
        let parts = host.split(separator: "%", maxSplits: 1).map(String.init)
        var v6 = in6_addr()
        guard let ip = parts.first, inet_pton(AF_INET6, ip, &v6) == 1 else { return nil }
        var scope: UInt32 = 0
        var name: String?
        if parts.count == 2 {
            if let n = UInt32(parts[1]) { scope = n } else { scope = if_nametoindex(parts[1]); name = parts[1] }
        }
        self.init(ip: ip, isIPv6: true, scopeID: scope, scopeName: name, port: port)
    }

    var isLinkLocal: Bool { isIPv6 && HostPort.isLinkLocalV6(ip) }

    var label: String {
        guard isIPv6 else { return "\(ip):\(port)" }
        let s = isLinkLocal ? "%" + (scopeName ?? String(scopeID)) : ""
        return "[\(ip)\(s)]:\(port)"
    }
}

enum TCPOutcome { case connected, refused, timedOut, failed(String) }

/// Non-blocking TCP connects to many targets at once, one shared deadline; each socket is
/// closed right after its connect completes (nothing is sent).
enum TCPProbe {
    static func run(_ targets: [TCPTarget], timeoutMs: Int) -> [TCPOutcome] {
        var outcomes = [TCPOutcome?](repeating: nil, count: targets.count)
        var fds = [Int32](repeating: -1, count: targets.count)
        defer { for fd in fds where fd >= 0 { close(fd) } }
        for (i, t) in targets.enumerated() {
            let fd = socket(t.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { outcomes[i] = .failed("socket: \(errnoText())"); continue }
            fds[i] = fd
            var rc: Int32
            if t.isIPv6 {
                var sa = sockaddr_in6()
                sa.sin6_family = sa_family_t(AF_INET6)
                sa.sin6_port = in_port_t(UInt16(clamping: t.port).bigEndian)
                sa.sin6_scope_id = t.scopeID
                _ = inet_pton(AF_INET6, t.ip, &sa.sin6_addr)
                rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            } else {
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = in_port_t(UInt16(clamping: t.port).bigEndian)
                _ = inet_pton(AF_INET, t.ip, &sa.sin_addr)
                rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            if rc == 0 { outcomes[i] = .connected } else if errno != EINPROGRESS { outcomes[i] = outcome(errno: errno) }
        }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMs) * 1_000_000
        while true {
            let pending = outcomes.indices.filter { outcomes[$0] == nil }
            if pending.isEmpty { break }
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { break }
            var pfds = pending.map { pollfd(fd: fds[$0], events: Int16(POLLOUT), revents: 0) }
            let n = poll(&pfds, nfds_t(pfds.count), Int32(max(1, (deadline - now) / 1_000_000)))
            if n < 0 && errno != EINTR { break }
            for (j, i) in pending.enumerated() where pfds[j].revents != 0 {
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len)
                outcomes[i] = err == 0 ? .connected : outcome(errno: err)
            }
        }
        return outcomes.map { $0 ?? .timedOut }
    }

    private static func outcome(errno e: Int32) -> TCPOutcome {
        e == ECONNREFUSED ? .refused : (e == ETIMEDOUT ? .timedOut : .failed(String(cString: strerror(e))))
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

/// An interface from getifaddrs, with its flags and IP addresses.
struct LocalInterface {
    struct Address { var ip: String; var isIPv6: Bool; var scopeID: UInt32; var isLinkLocal: Bool }
    var name: String
    var flags: UInt32
    var addresses: [Address] = []

    var isUp: Bool { flags & UInt32(IFF_UP) != 0 }
    var isLoopback: Bool { flags & UInt32(IFF_LOOPBACK) != 0 }
    var isMulticast: Bool { flags & UInt32(IFF_MULTICAST) != 0 }
    var isPointToPoint: Bool { flags & UInt32(IFF_POINTOPOINT) != 0 }
    var addressTexts: [String] { addresses.map { $0.isLinkLocal ? "\($0.ip)%\(name)" : $0.ip } }

    /// Every interface, in the kernel's order. Reads only.
    static func all() -> [LocalInterface] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var order: [String] = []
        var byName: [String: LocalInterface] = [:]
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let ifa = p {
            defer { p = ifa.pointee.ifa_next }
            let name = String(cString: ifa.pointee.ifa_name)
            if byName[name] == nil { order.append(name); byName[name] = LocalInterface(name: name, flags: ifa.pointee.ifa_flags) }
            byName[name]!.flags |= ifa.pointee.ifa_flags
            guard let sa = ifa.pointee.ifa_addr else { continue }
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                var sin = UnsafeRawPointer(sa).load(as: sockaddr_in.self)
                inet_ntop(AF_INET, &sin.sin_addr, &buf, socklen_t(buf.count))
                byName[name]!.addresses.append(Address(ip: cText(buf), isIPv6: false, scopeID: 0, isLinkLocal: false))
            case AF_INET6:
                var sin6 = UnsafeRawPointer(sa).load(as: sockaddr_in6.self)
                inet_ntop(AF_INET6, &sin6.sin6_addr, &buf, socklen_t(buf.count))
                let ip = cText(buf)
                let ll = HostPort.isLinkLocalV6(ip)
                byName[name]!.addresses.append(Address(ip: ip, isIPv6: true, scopeID: ll ? sin6.sin6_scope_id : 0, isLinkLocal: ll))
            default:
                break
            }
        }
        return order.compactMap { byName[$0] }
    }
}

/// The parts of avahi-daemon.conf that decide which interfaces avahi uses.
struct AvahiConfig {
    static let path = "/etc/avahi/avahi-daemon.conf"
    var allow: [String]?
    var deny: [String] = []
    var allowPointToPoint = false

    static func load(path: String = AvahiConfig.path) -> AvahiConfig {
        var c = AvahiConfig()
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return c }
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") { section = line.lowercased(); continue }
            guard section == "[server]", let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let list = line[line.index(after: eq)...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            switch key {
            case "allow-interfaces": c.allow = list
            case "deny-interfaces": c.deny = list
            case "allow-point-to-point": c.allowPointToPoint = list.first?.lowercased() == "yes"
            default: break
            }
        }
        return c
    }

    /// Why avahi would not use `name`, or nil.
    func excludes(_ name: String) -> String? {
        if deny.contains(name) { return "deny-interfaces names it" }
        if let allow, !allow.isEmpty, !allow.contains(name) { return "allow-interfaces (\(allow.joined(separator: ","))) leaves it out" }
        return nil
    }
}

// MARK: - firewall rules (read-only)

/// One chain's rules, reduced to what decides the fate of a new inbound TCP/UDP packet to a port.
struct FirewallChain {
    enum Verdict: Equatable { case accept, drop }
    struct Rule {
        var text: String
        /// nil: any protocol.
        var protocols: Set<String>?
        /// nil: any port.
        var ports: [ClosedRange<Int>]?
        var portsNegated = false
        /// `-i lo` / `iifname "lo"`: only this host's own traffic.
        var loopbackOnly = false
        /// Conditions not understood (addresses, conntrack state, sets…): the rule is not general.
        var otherConditions = false
        var verdict: Verdict?

        func applies(proto: String, port: Int) -> Bool {
            if otherConditions || loopbackOnly || verdict == nil { return false }
            if let protocols, !protocols.contains(proto) { return false }
            if let ports { return ports.contains { $0.contains(port) } != portsNegated }
            return true
        }
    }
    enum Outcome { case accepted, dropped(String), policyDrop, noMatch }

    /// e.g. `nft table inet filter`, `iptables`, `ip6tables`.
    var source: String
    var name: String
    /// A base chain on the input (or prerouting/ingress) path; others are not inspected.
    var isInputHook: Bool
    var policyDrop: Bool
    var family: String
    var table: String
    var isNft: Bool
    var rules: [Rule] = []

    /// The first general rule for (proto, port) decides; else the policy of an input chain.
    /// In a chain reached only by jumps (whose conditions are not followed), only rules that
    /// name the port count: a bare `-j DROP` there is usually behind other tests.
    func verdict(proto: String, port: Int) -> Outcome {
        for r in rules where r.applies(proto: proto, port: port) && (isInputHook || r.ports != nil) {
            return r.verdict == .drop ? .dropped(r.text) : .accepted
        }
        return isInputHook && policyDrop ? .policyDrop : .noMatch
    }
}

enum Firewall {
    struct Inspection {
        var chains: [FirewallChain] = []
        var sources: [String] = []
        var notes: [String] = []
        var denied = false
        var readAny = false
    }

    static func inspect() -> Inspection {
        var out = Inspection()
        var nftDone = false
        if let nft = Tool.find("nft") {
            let r = Tool.run(nft, ["list", "ruleset"], timeoutMs: 3000)
            if r.status == 0 {
                out.chains += parseNft(r.stdout)
                out.sources.append("nft ruleset")
                out.readAny = true
                nftDone = true
            } else if r.stderr.contains("Operation not permitted") || r.stderr.contains("ermission denied") || geteuid() != 0 {
                out.denied = true
            } else {
                out.notes.append("nft list ruleset failed: \(r.stderr.split(separator: "\n").first ?? "exit \(r.status.map(String.init) ?? "timeout")")")
            }
        }
        // iptables-nft rules are in the nft ruleset already; read iptables only when nft is
        // absent or iptables uses the legacy backend.
        for tool in ["iptables", "ip6tables"] {
            guard let path = Tool.find(tool) else { continue }
            if nftDone {
                let v = Tool.run(path, ["-V"], timeoutMs: 3000)
                if !v.stdout.contains("legacy") { continue }
            }
            let r = Tool.run(path, ["-S"], timeoutMs: 3000)
            if r.status == 0 {
                out.chains += parseIptables(r.stdout, source: tool)
                out.sources.append("\(tool) -S")
                out.readAny = true
            } else if r.stderr.contains("ermission denied") || r.stderr.contains("not permitted") || geteuid() != 0 {
                out.denied = true
            } else {
                out.notes.append("\(tool) -S failed: \(r.stderr.split(separator: "\n").first ?? "exit \(r.status.map(String.init) ?? "timeout")")")
            }
        }
        return out
    }

    static func acceptCommand(chain: FirewallChain, proto: String, port: Int) -> String {
        // iptables-nft keeps its rules in nft tables `ip filter` / `ip6 filter`, chains in capitals
        if chain.isNft, chain.table == "filter", chain.name == chain.name.uppercased(), chain.family == "ip" || chain.family == "ip6" {
            return "sudo \(chain.family == "ip6" ? "ip6tables" : "iptables") -I \(chain.name) -p \(proto) --dport \(port) -j ACCEPT"
        }
        if chain.isNft {
            return "sudo nft insert rule \(chain.family) \(chain.table) \(chain.name) \(proto) dport \(port) accept"
        }
        return "sudo \(chain.source) -I \(chain.name) -p \(proto) --dport \(port) -j ACCEPT"
    }

    // MARK: nft

    static let serviceNames = ["mdns": 5353]

    static func parsePorts(_ text: String) -> [ClosedRange<Int>]? {
        var out: [ClosedRange<Int>] = []
        for item in text.split(separator: ",") {
            let s = item.trimmingCharacters(in: .whitespaces)
            if let n = Int(s) ?? serviceNames[s] { out.append(n...n); continue }
            let ends = s.split(separator: s.contains(":") ? ":" : "-").map { Int($0) }
            guard ends.count == 2, let a = ends[0], let b = ends[1], a <= b else { return nil }
            out.append(a...b)
        }
        return out.isEmpty ? nil : out
    }

    /// Splits on whitespace, keeping `"quoted strings"` and `{ … }` sets as one token each.
    static func tokens(_ line: String) -> [String] {
        var out: [String] = [], cur = ""
        var quote = false, brace = 0
        for ch in line {
            if quote { cur.append(ch); if ch == "\"" { quote = false }; continue }
            if ch == "\"" { quote = true; cur.append(ch); continue }
            if ch == "{" { brace += 1; cur.append(ch); continue }
            if ch == "}" && brace > 0 { brace -= 1; cur.append(ch); continue }
            if ch.isWhitespace && brace == 0 { if !cur.isEmpty { out.append(cur); cur = "" }; continue }
            cur.append(ch)
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static func parseNft(_ text: String) -> [FirewallChain] {
        var chains: [FirewallChain] = []
        var family = "", table = ""
        var current: FirewallChain?
        var skipDepth = 0   // inside a set/map/other block
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if skipDepth > 0 {
                skipDepth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
                continue
            }
            let t = tokens(line)
            if t.first == "table", t.count >= 3 { family = t[1]; table = t[2]; continue }
            if t.first == "chain", t.count >= 2 {
                current = FirewallChain(source: "nft table \(family) \(table)", name: t[1], isInputHook: false,
                                        policyDrop: false, family: family, table: table, isNft: true)
                continue
            }
            if line == "}" {
                if let c = current { chains.append(c); current = nil }
                continue
            }
            guard current != nil else {
                if line.hasSuffix("{") { skipDepth = 1 }   // set, map, flowtable, ct helper…
                continue
            }
            if t.first == "type" {
                if let i = t.firstIndex(of: "hook"), i + 1 < t.count {
                    let hook = t[i + 1].trimmingCharacters(in: CharacterSet(charactersIn: ";"))
                    current!.isInputHook = ["input", "prerouting", "ingress"].contains(hook) && family != "bridge" && family != "arp"
                }
                if let i = t.firstIndex(of: "policy"), i + 1 < t.count {
                    current!.policyDrop = t[i + 1].hasPrefix("drop")
                }
                continue
            }
            if t.first == "policy" { current!.policyDrop = t.count > 1 && t[1].hasPrefix("drop"); continue }
            if let rule = parseNftRule(t, text: line) { current!.rules.append(rule) }
        }
        return chains.filter { $0.isInputHook || !$0.rules.isEmpty }
            .filter { c in !(c.family == "bridge" || c.family == "arp") }
    }

    static func parseNftRule(_ t: [String], text: String) -> FirewallChain.Rule? {
        var r = FirewallChain.Rule(text: text)
        var i = 0
        while i < t.count {
            let w = t[i]
            switch w {
            case "accept": r.verdict = .accept; i += 1
            case "drop": r.verdict = .drop; i += 1
            case "reject": r.verdict = .drop; i = t.count   // "reject with …"
            case "counter":
                i += 1
                while i + 1 < t.count, t[i] == "packets" || t[i] == "bytes" { i += 2 }
            case "log", "comment":
                i += 1
                while i < t.count, ["prefix", "level", "flags", "group"].contains(t[i]) || t[i].hasPrefix("\"") { i += 1 }
                if w == "comment", i < t.count, t[i].hasPrefix("\"") { i += 1 }
            case "meta" where i + 2 < t.count && t[i + 1] == "l4proto", "ip" where i + 2 < t.count && t[i + 1] == "protocol",
                 "ip6" where i + 2 < t.count && t[i + 1] == "nexthdr":
                let p = t[i + 2]
                if p == "tcp" || p == "udp" {
                    r.protocols = (r.protocols ?? [p]).intersection([p])
                } else { r.otherConditions = true }
                i += 3
            case "iifname", "iif":
                if i + 1 < t.count {
                    let v = t[i + 1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if v == "lo" { r.loopbackOnly = true }
                }
                i += 2
            case "tcp", "udp", "th":
                guard i + 2 < t.count, t[i + 1] == "dport" else { r.otherConditions = true; i += 1; continue }
                let protos: Set<String> = w == "th" ? ["tcp", "udp"] : [w]
                r.protocols = r.protocols.map { $0.intersection(protos) } ?? protos
                var v = t[i + 2]
                i += 3
                if v == "!=" , i < t.count { r.portsNegated = true; v = t[i]; i += 1 }
                if v.hasPrefix("@") { r.otherConditions = true; continue }   // a named set
                let inner = v.trimmingCharacters(in: CharacterSet(charactersIn: "{} "))
                if let ports = parsePorts(inner) { r.ports = ports } else { r.otherConditions = true }
            case "continue", "return", "jump", "goto", "queue":
                return nil
            default:
                r.otherConditions = true
                i += 1
            }
        }
        return r
    }

    // MARK: iptables -S

    static func parseIptables(_ text: String, source: String) -> [FirewallChain] {
        var chains: [String: FirewallChain] = [:]
        var order: [String] = []
        func chain(_ name: String) -> String {
            if chains[name] == nil {
                order.append(name)
                chains[name] = FirewallChain(source: source, name: name, isInputHook: name == "INPUT", policyDrop: false,
                                             family: "", table: "filter", isNft: false)
            }
            return name
        }
        for raw in text.split(separator: "\n") {
            let t = tokens(String(raw)).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            guard t.count >= 2 else { continue }
            switch t[0] {
            case "-P":
                let c = chain(t[1])
                chains[c]!.policyDrop = t.count > 2 && t[2] == "DROP"
            case "-N":
                _ = chain(t[1])
            case "-A":
                let c = chain(t[1])
                if ["OUTPUT", "FORWARD", "POSTROUTING"].contains(c) { continue }
                var r = FirewallChain.Rule(text: String(raw))
                var i = 2
                var negate = false
                while i < t.count {
                    let w = t[i]
                    let v = i + 1 < t.count ? t[i + 1] : ""
                    switch w {
                    case "!": negate = true; i += 1; continue
                    case "-p", "--protocol":
                        if negate { r.otherConditions = true } else { r.protocols = [v.lowercased()] }
                        i += 2
                    case "--dport", "--destination-port", "--dports", "--destination-ports":
                        if let p = parsePorts(v) { r.ports = p; r.portsNegated = negate } else { r.otherConditions = true }
                        i += 2
                    case "-i", "--in-interface":
                        if v == "lo" && !negate { r.loopbackOnly = true }
                        i += 2
                    case "-m", "--match":
                        if !["tcp", "udp", "multiport", "comment"].contains(v) { r.otherConditions = true }
                        i += 2
                    case "--comment":
                        i += 2
                    case "-j", "--jump":
                        switch v {
                        case "ACCEPT": r.verdict = .accept
                        case "DROP", "REJECT": r.verdict = .drop
                        default: r.verdict = nil
                        }
                        i = t.count
                    case "-c": i += 3
                    default:
                        r.otherConditions = true
                        i += 1
                    }
                    negate = false
                }
                if r.verdict != nil { chains[c]!.rules.append(r) }
            default:
                continue
            }
        }
        return order.compactMap { chains[$0] }.filter { $0.isInputHook || !$0.rules.isEmpty }
    }
}

/// Runs read-only system tools with a deadline.
enum Tool {
    struct Result { var status: Int32?; var stdout: String; var stderr: String }

    static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let p = dir + "/" + name
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Runs `path args` with LC_ALL=C and stdin from /dev/null; kills it (by its PID) after
    /// `timeoutMs`. posix_spawn and poll, not Foundation's Process, whose exit detection could
    /// miss a child that ended quickly.
    static func run(_ path: String, _ args: [String], timeoutMs: Int) -> Result {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { return Result(status: nil, stdout: "", stderr: "pipe: \(errnoText())") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return Result(status: nil, stdout: "", stderr: "pipe: \(errnoText())")
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)   // dup2 clears close-on-exec
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard rc == 0 else { return Result(status: nil, stdout: "", stderr: "\(path): \(String(cString: strerror(rc)))") }

        var out: [UInt8] = [], err: [UInt8] = []
        var open: [Int32] = [outPipe[0], errPipe[0]]
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMs) * 1_000_000
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { timedOut = true; break }
            var pfds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let n = poll(&pfds, nfds_t(pfds.count), Int32(max(1, (deadline - now) / 1_000_000)))
            if n < 0 { if errno == EINTR { continue }; break }
            for pfd in pfds where pfd.revents != 0 {
                let got = chunk.withUnsafeMutableBytes { read(pfd.fd, $0.baseAddress, $0.count) }
                if got > 0 {
                    if pfd.fd == outPipe[0] { out += chunk[0..<got] } else { err += chunk[0..<got] }
                    if out.count + err.count > 16 << 20 { timedOut = true; break }   // more than any ruleset
                } else if got == 0 || (errno != EINTR && errno != EAGAIN) {
                    open.removeAll { $0 == pfd.fd }
                }
            }
            if timedOut { break }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return Result(status: timedOut || !exited ? nil : (status >> 8) & 0xff,
                      stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }
}

/// A NUL-terminated C buffer as a String.
private func cText(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `'text'` for a shell, when it needs quoting.
func shellQuote(_ s: String) -> String {
    if s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+:@%".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] { var seen = Set<Element>(); return filter { seen.insert($0).inserted } }
}
