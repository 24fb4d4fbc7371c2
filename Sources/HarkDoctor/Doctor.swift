import HarkControl
import HarkDiscovery
import HarkNode

/// `hark doctor`: explains why peers are not seen, each finding with its fix.
///
/// Read-only. The only packets it causes stay on this host or go to peers the daemon already
/// knows: D-Bus calls to avahi-daemon (no publish, no browse, so no mDNS), TCP connects to the
/// daemon's own port on this host's addresses (routed through lo), and one TCP connect (≤ 2 s,
/// at most 32) to the last address of each known peer without an open channel.
///
/// Each check is its own type with a pure decision (`judge`) or a decision with its probe passed
/// in (`run`); this type gathers the facts and runs them in order. Blocks for up to about 15 s
/// (3 s avahi, 3 s per firewall tool, 1.5 s port, 2 s peers, 3 s per control call). Never throws:
/// every failure is a finding.
public struct Doctor: Sendable {
    public let home: NodeHome
    /// The `--home` given on the command line, nil for the default home.
    public let explicitHome: String?

    /// Memberwise.
    public init(home: NodeHome, explicitHome: String?) {
        self.home = home
        self.explicitHome = explicitHome
    }

    /// `--home DIR` to repeat in suggested commands, when the home was not the default.
    var homeFlag: String { explicitHome == nil ? "" : " --home \(shellQuote(home.path))" }

    /// Runs every check: home, daemon, avahi, discovery, interfaces, firewall, port,
    /// link-local, peers.
    public func run() -> DoctorReport {
        var checks: [DoctorCheck] = []
        let (homeCheck, initialized) = HomeCheck.run(home: home, homeFlag: homeFlag)
        checks.append(homeCheck)
        let (daemonCheck, status, peers) = DaemonCheck.run(home: home, homeFlag: homeFlag, initialized: initialized)
        checks.append(daemonCheck)
        let probe = AvahiProbe.probe(timeoutMs: 3000)
        checks.append(AvahiCheck.judge(probe, discoveryState: status?.discovery.state))
        checks.append(DiscoveryCheck.judge(status, avahiOK: probe.state == .running))
        let interfaces = LocalInterface.all()
        checks.append(InterfacesCheck.judge(interfaces, avahiConfig: AvahiConfig.load()))
        // Without a daemon, the port it will listen on next (the remembered one, else the default).
        let tcpPort = status?.tcpPort ?? home.rememberedPort ?? NodeConfiguration.defaultPort
        checks.append(FirewallCheck.judge(Firewall.inspect(), tcpPort: tcpPort, homeFlag: homeFlag))
        checks.append(PortCheck.run(status?.tcpPort, interfaces: interfaces))
        checks.append(LinkLocalCheck.judge(status: status, peers: peers, interfaces: interfaces))
        checks.append(PeersCheck.run(status: status, peers: peers))
        return DoctorReport(checks: checks)
    }
}
