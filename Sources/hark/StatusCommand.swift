import ArgumentParser
import HarkControl

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the running node's state.",
        discussion: ExitDoc.text())

    @OptionGroup var options: HomeOptions
    @Flag(name: .long, help: "Print one JSON object.") var json = false

    func run() throws {
        let client = try connect(options)
        let s = try call(client, ControlMethods.status, NoParams())
        if json { try printJSON(s); return }
        printOut("peer id:     \(s.peerId)")
        printOut("fingerprint: \(s.fingerprint)")
        printOut("name:        \(terminalSafe(s.displayName))")
        printOut("tcp port:    \(s.tcpPort)")
        printOut("udp port:    \(s.udpPort == 0 ? "none (no datagrams)" : String(s.udpPort))")
        printOut("presence:    \(s.presence)")
        var d = "discovery:   \(s.discovery.state)"
        if let n = s.discovery.instanceName { d += " as \"\(terminalSafe(n))\"" }
        if let r = s.discovery.reason { d += " (\(r))" }
        printOut(d)
        printOut("peers:       \(s.connectedPeers) connected")
        printOut("groups:      \(s.groups)")
        printOut("home:        \(s.home)")
    }
}

struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "peers", abstract: "List peers seen by the running node (as last stored when no daemon runs).",
        discussion: ExitDoc.text(reading: true))

    @OptionGroup var options: HomeOptions
    @Flag(name: .long, help: "Print one JSON object per line.") var json = false

    func run() throws {
        let client = try connectReading(options)
        let peers = try call(client, ControlMethods.peers, NoParams())
        if json { for p in peers { try printJSON(p) }; return }
        if peers.isEmpty { printOut("no peers seen yet"); return }
        for p in peers {
            var warn = p.equivocated ? "  FORKED: signed two events with one sequence number" : ""
            if let w = p.warning { warn += "  WARNING: \(terminalSafe(w))" }
            let text = p.statusText.map { "  \"\(terminalSafe($0))\"" } ?? ""
            let seen = p.connected ? "" : "  last seen \(formatTime(ms: p.lastSeenMs))"
            let state = (p.blocked ? "blocked" : p.presence).padding(toLength: 7, withPad: " ", startingAt: 0)
            printOut("\(state)  \(peerLabel(p))\(p.verified ? " ✔ verified" : "")  \(p.address ?? "-")  via \(p.source ?? "?")\(text)\(seen)\(warn)")
        }
    }
}
