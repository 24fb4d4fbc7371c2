import ArgumentParser
import HarkCrypto
import HarkNode

#if canImport(Glibc)
import Glibc
#endif

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create this node's long-term identity.",
        discussion: """
            Makes the home directory (mode 0700) with a new Ed25519 identity key and a separate \
            X25519 Noise static key (files mode 0600). Never overwrites an existing identity (exit 73).

            With --passphrase the key files are sealed under a passphrase (Argon2id, libsodium \
            crypto_pwhash, then crypto_secretbox): asked twice on the terminal, or read from the \
            first line of --passphrase-file. Without a terminal and without a file: exit 64. \
            `hark daemon` then asks for it once at start (or reads --passphrase-file); other \
            commands never need it.
            """ + "\n\n" + ExitDoc.text([64: "a bad display name, or a passphrase to ask for and no terminal", 73: "the home has an identity already", 74: "the home cannot be written"], daemon: false)
    )

    @OptionGroup var options: HomeOptions
    @Option(name: .long, help: "Display name shown to peers (1 to 64 bytes; not an identity).")
    var name: String
    @Flag(name: .long, help: "Encrypt the key files with a passphrase.") var passphrase = false
    @Option(name: .long, help: ArgumentHelp("Read the passphrase from the first line of this file (implies --passphrase).", valueName: "file"),
            completion: .file())
    var passphraseFile: String?

    func run() throws {
        // Swift decodes argv leniently (invalid UTF-8 becomes U+FFFD); a name is refused instead.
        if name.contains("\u{FFFD}"), Self.rawArgumentsHaveInvalidUTF8() {
            throw fail("--name is not valid UTF-8 (check the terminal's or the script's encoding)", Exit.usage)
        }
        let home = options.nodeHome
        if home.isInitialized { throw fail(HomeError.alreadyInitialized(path: home.path).description, Exit.cantCreate) }
        var secret: [UInt8]?
        if passphrase || passphraseFile != nil {
            secret = try Passphrase.obtain(file: passphraseFile, prompt: "New passphrase for \(home.path): ", confirm: true)
        }
        // swift-format-ignore: NeverForceUnwrap
        // Zeroes the stored array in place (an unwrapped copy would leave the secret behind).
        defer { if secret != nil { secureZero(&secret!) } }
        do {
            let identity = try home.initialize(displayName: name, passphrase: secret)
            printOut("created identity in \(home.path)\(secret != nil ? " (keys encrypted with the passphrase)" : "")")
            printOut("peer id:     \(identity.peerID)")
            printOut("fingerprint: \(identity.peerID.fingerprint)")
        } catch {
            throw fail(error.description, Exit.code(for: error))
        }
    }
}

extension InitCommand {
    /// True when some command-line argument, as the bytes the process received, is not UTF-8.
    static func rawArgumentsHaveInvalidUTF8() -> Bool {
        for i in 0..<Int(CommandLine.argc) {
            guard let p = CommandLine.unsafeArgv[i] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))
            if String(validating: bytes, as: UTF8.self) == nil { return true }
        }
        return false
    }
}

struct IdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "Print this node's peer ID and fingerprint.",
        discussion: "The peer ID is \"hk\" and the base32 of the Ed25519 public key (docs/PROTOCOL.md §1)." + "\n\n" + ExitDoc.text([77: "a key file is readable by others", 78: "the home has no identity (run hark init)"], daemon: false)
    )

    @OptionGroup var options: HomeOptions
    @Flag(name: .long, help: "Print one JSON object.") var json = false

    struct IdView: Codable { var peerId: String; var fingerprint: String; var displayName: String }

    func run() throws {
        do {
            // Public only: never needs the passphrase of an encrypted home.
            let (id, name) = try options.nodeHome.publicIdentity()
            if json {
                try printJSON(IdView(peerId: id.description, fingerprint: id.fingerprint, displayName: name))
            } else {
                printOut(id.description)
                printOut("fingerprint: \(id.fingerprint)")
            }
        } catch let error as HomeError {
            throw fail(error.description, Exit.code(for: error))
        }
    }
}
