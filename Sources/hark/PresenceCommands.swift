import ArgumentParser
import HarkControl

struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Mark a group's messages as read (senders see a read receipt).",
        discussion: """
            Writes a read marker (a READ event) covering every message this node holds in the \
            group, unless nothing new arrived since the last one. `hark chat` does this by itself \
            as messages are shown.
            """ + "\n\n" + ExitDoc.text([67: "no such group"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Flag(name: .long, help: "Print the result as one JSON object.") var json = false

    func run() throws {
        let r = try call(try connect(options), ControlMethods.read, ReadParams(group: group))
        if json { try printJSON(r) }
    }
}

struct PresenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence",
        abstract: "Show or set this node's presence (online or away, with a status text).",
        discussion: """
            Peers see it within one heartbeat (2 s). Presence of others is in `hark peers` and \
            `hark watch`; it is judged from the transport, so a peer that vanishes shows offline \
            within about 8 s, at once if its connection closes.
            """ + "\n\n" + ExitDoc.text([65: "a status text over 64 bytes or with control characters"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "online or away (default: show the current state).") var state: String?
    @Option(name: .long, help: ArgumentHelp("Status text, up to 64 bytes (\"\" clears it).", valueName: "text")) var status: String?
    @Flag(name: .long, help: "Print the result as one JSON object.") var json = false

    func validate() throws {
        if let state, state != "online", state != "away" { throw ValidationError("state must be online or away") }
        if let status, status.utf8.count > 64 { throw ValidationError("--status is longer than 64 bytes") }
        if state == nil, status != nil { throw ValidationError("--status needs a state (online or away)") }
    }

    func run() throws {
        let client = try connect(options)
        guard let state else {
            let s = try call(client, ControlMethods.status, NoParams())
            if json { try printJSON(s) } else { printOut(s.presence) }
            return
        }
        let view = try call(client, ControlMethods.presenceSet, PresenceSetParams(state: state, statusText: status))
        if json { try printJSON(view) }
    }
}
