import HarkControl
import HarkNode


/// The `daemon` check: the control socket (docs/CONTROL.md) answers `status`.
enum DaemonCheck {
    /// The check, with the daemon's `status` and `peers` when it answered. Blocks up to
    /// 3000 ms per call on the control socket.
    static func run(home: NodeHome, homeFlag: String, initialized: Bool) -> (DoctorCheck, StatusResult?, [PeerView]?) {
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
        do { status = try client.call(ControlMethods.status, NoParams()) } catch {
            return (DoctorCheck(name: "daemon", status: .fail,
                                finding: "the daemon's control socket does not answer status: \(error)",
                                fix: "restart the daemon: stop it (kill its PID) and run hark daemon\(homeFlag)"), nil, nil)
        }
        let peers = try? client.call(ControlMethods.peers, NoParams())
        let finding = "daemon pid \(status.pid) (hark \(status.version)) on TCP port \(status.tcpPort), "
            + "\(status.connectedPeers) peer\(status.connectedPeers == 1 ? "" : "s") connected"
        return (DoctorCheck(name: "daemon", status: .ok, finding: finding), status, peers)
    }
}
