import ArgumentParser
import HarkNode

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create this node's long-term identity.",
        discussion: """
            Makes the home directory (mode 0700) with a new Ed25519 identity key and a separate \
            X25519 Noise static key (files mode 0600). Never overwrites an existing identity (exit 73).
            """
    )

    @OptionGroup var options: HomeOptions
    @Option(name: .long, help: "Display name shown to peers (1 to 64 bytes; not an identity).")
    var name: String

    func run() throws {
        let home = options.nodeHome
        do {
            let identity = try home.initialize(displayName: name)
            printOut("created identity in \(home.path)")
            printOut("peer id:     \(identity.peerID)")
            printOut("fingerprint: \(identity.peerID.fingerprint)")
        } catch {
            throw fail(error.description, Exit.code(for: error))
        }
    }
}

struct IdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "Print this node's peer ID and fingerprint.",
        discussion: "The peer ID is \"hk\" and the base32 of the Ed25519 public key (docs/PROTOCOL.md §1)."
    )

    @OptionGroup var options: HomeOptions
    @Flag(name: .long, help: "Print one JSON object.") var json = false

    struct IdView: Codable { var peerId: String; var fingerprint: String; var displayName: String }

    func run() throws {
        do {
            let identity = try options.nodeHome.load()
            if json {
                try printJSON(IdView(peerId: identity.peerID.description, fingerprint: identity.peerID.fingerprint,
                                     displayName: identity.displayName))
            } else {
                printOut(identity.peerID.description)
                printOut("fingerprint: \(identity.peerID.fingerprint)")
            }
        } catch let error as HomeError {
            throw fail(error.description, Exit.code(for: error))
        }
    }
}
