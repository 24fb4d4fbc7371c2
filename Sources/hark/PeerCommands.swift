import ArgumentParser
import Foundation
import HarkControl

/// The one short form of a fingerprint shown in text: its first group (`e23a`). JSON fields named
/// `fingerprint` always carry the full form (`e23a-d72c-00ac-f8aa-39ff`); `hark verify` and
/// `hark peers --json` show it.
func shortFingerprint(_ fingerprint: String) -> String {
    String(fingerprint.split(separator: "-").first ?? Substring(fingerprint))
}

/// `bob (e23a)`, with the alias first when the user gave one: `rob = bob (e23a)`.
func peerLabel(_ p: PeerView) -> String {
    let alias = p.alias.map { "\(terminalSafe($0)) = " } ?? ""
    return "\(p.warning != nil ? "⚠ " : "")\(alias)\(terminalSafe(p.displayName)) (\(shortFingerprint(p.fingerprint)))"
}

struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Name, block or forget a peer's key on this node.",
        discussion: """
            KEY is a peer ID (hk…), a fingerprint prefix (4 or more hex digits) or a name, as in \
            `hark verify`. These decisions stay on this node and are never sent to peers \
            (docs/SECURITY.md, "Names"). All of them need the running daemon.
            """ + "\n\n" + ExitDoc.text(daemon: false),
        subcommands: [PeerAliasCommand.self, PeerForgetCommand.self, PeerBlockCommand.self, PeerUnblockCommand.self]
    )
}

/// Prints the peer's row after a change, as text or one JSON object.
private func report(_ v: PeerView, _ what: String, json: Bool) throws {
    if json { try printJSON(v); return }
    printOut("\(peerLabel(v)) \(what)")
}

struct PeerAliasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias",
        abstract: "Give a peer's key a local name that always reaches that key.",
        discussion: """
            The alias wins over display names: `hark send @NAME`, `verify NAME` and \
            `group invite --for NAME` reach this key even when other keys announce the same \
            display name. One alias names one key (given to another key, it moves). An empty \
            NAME clears the alias.

            Examples:
              hark peer alias e23a-d72c rob
              hark send @rob "hi"
            """ + "\n\n" + ExitDoc.text([65: "a bad alias (control characters, @, looks like a fingerprint, over 64 bytes)", 67: "no known peer matches KEY"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Peer ID, fingerprint prefix or name.", completion: LiveCompletion.peers) var key: String
    @Argument(help: "The local name (empty: clear it).") var name: String
    @Flag(name: .long, help: "Print the peer as one JSON object.") var json = false

    func run() throws {
        let v = try call(try connect(options), ControlMethods.peerAlias, PeerAliasParams(peer: key, alias: name))
        try report(v, name.isEmpty ? "has no alias" : "is now called \(terminalSafe(name)) on this node", json: json)
    }
}

struct PeerForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget a peer's key, its names, warnings, verification and alias (like ssh-keygen -R).",
        discussion: """
            An open channel to it is closed. Events it signed stay in the group logs. If the key \
            comes back, it is a first sighting again; if it claims a name bound to another key, \
            it is flagged again.
            """ + "\n\n" + ExitDoc.text([65: "KEY is this node's own", 67: "no known peer matches KEY"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Peer ID, fingerprint prefix or name.", completion: LiveCompletion.peers) var key: String
    @Flag(name: .long, help: "Print the forgotten peer as one JSON object.") var json = false

    func run() throws {
        let v = try call(try connect(options), ControlMethods.peerForget, PeerRefParams(peer: key))
        try report(v, "forgotten", json: json)
    }
}

struct PeerBlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Block a peer's key: no channel to or from it, its events are not relayed to watch or chat.",
        discussion: """
            Open channels to the key are closed at once, and none is opened or accepted until \
            `hark peer unblock`. It is shown as blocked in `hark peers`, and skipped when a name \
            matches several keys. Events it signed that reach this node through other members \
            are stored (group logs stay whole) but not shown live.
            """ + "\n\n" + ExitDoc.text([65: "KEY is this node's own", 67: "no known peer matches KEY"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Peer ID, fingerprint prefix or name.", completion: LiveCompletion.peers) var key: String
    @Flag(name: .long, help: "Print the peer as one JSON object.") var json = false

    func run() throws {
        let v = try call(try connect(options), ControlMethods.peerBlock, PeerRefParams(peer: key))
        try report(v, "is blocked", json: json)
    }
}

struct PeerUnblockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unblock",
        abstract: "Allow channels with a blocked peer's key again.",
        discussion: ExitDoc.text([67: "no known peer matches KEY"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Peer ID, fingerprint prefix or name.", completion: LiveCompletion.peers) var key: String
    @Flag(name: .long, help: "Print the peer as one JSON object.") var json = false

    func run() throws {
        let v = try call(try connect(options), ControlMethods.peerUnblock, PeerRefParams(peer: key))
        try report(v, "is no longer blocked", json: json)
    }
}
