import ArgumentParser
import Foundation
import HarkControl
import HarkCrypto
import HarkNode
#if canImport(Glibc)
import Glibc
#endif

/// `bob (3f2a) ✔` for a verified author, `⚠ bob (3f2a)` for one whose key claimed a name first
/// seen with another key (docs/SECURITY.md); the name is always made terminal-safe.
func authorLabel(_ m: MessageView) -> String {
    "\(m.authorNameConflict ? "⚠ " : "")\(terminalSafe(m.authorName)) (\(m.authorFingerprint))\(m.authorVerified ? " ✔" : "")"
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Show the safety number of a peer's identity key and yours, to compare out of band.",
        discussion: """
            PEER is a peer ID (hk…), a fingerprint prefix (4 or more hex digits) or a display name; \
            a name or prefix that matches several keys exits 64 and lists them. Both sides see the \
            same 60 digits (docs/PROTOCOL.md §1.1): read them to each other in person or over a \
            channel you trust, then mark the peer verified with `hark pair PEER`. (To re-check the \
            stored history, use `hark audit`.)
            """ + "\n\n" + ExitDoc.text([67: "no known peer matches"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Peer ID, fingerprint prefix or display name.", completion: LiveCompletion.peers) var peer: String
    @Flag(name: .long, help: "Print one JSON object.") var json = false

    func run() throws {
        let v = try call(try connect(options), ControlMethods.safetyNumber, PeerRefParams(peer: peer))
        if json { try printJSON(v); return }
        printOut("\(terminalSafe(v.displayName)) (\(shortFingerprint(v.fingerprint)))\(v.verified ? "  ✔ verified" : "  not verified")")
        printOut("peer id: \(v.peerId)")
        printOut("fingerprint: \(v.fingerprint)")
        if let w = v.warning { printOut("WARNING: \(terminalSafe(w))") }
        printOut("safety number:")
        let groups = SafetyNumber.groups(v.safetyNumber)
        var i = 0
        while i < groups.count { printOut("  " + groups[i..<min(i + 4, groups.count)].joined(separator: " ")); i += 4 }
    }
}

struct PairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Verify a connected peer by comparing a short code on both screens.",
        discussion: """
            Run `hark pair PEER` on one machine and `hark pair --accept` (or `hark pair PEER` \
            naming the first) on the other, while their nodes are connected. Both print the same \
            6-digit code, derived from the Noise handshake of their channel and two committed \
            nonces (docs/PROTOCOL.md §3.3); each user confirms that both screens show it, and \
            each node then marks the other's identity key verified (shown in `peers`, `log`, \
            `chat`). A different code means someone sits between you: answer no. When the \
            channel closes before a code is shown (two nodes that dialled each other at once \
            keep one channel), both sides start again on the channel that remains.

            On a terminal it asks "Do both screens show …? [y/N]". Scripts pass --yes (after \
            comparing by other means) or --code with the code read from the other screen. \
            Without a terminal and without either: exit 64. Exit 65 when the codes differ (or \
            --code does not match), 67 for an unknown peer or no open channel, 75 when the \
            other side does not answer within --timeout.
            """ + "\n\n" + ExitDoc.text([
                64: "no terminal to ask on and neither --yes nor --code, or several pairings wait",
                65: "the codes differ, --code does not match, or the pairing failed",
                67: "no known peer matches, or no open channel to it",
                75: "the other side did not answer within --timeout",
            ])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Peer ID, fingerprint prefix or display name (omit with --accept).", completion: LiveCompletion.peers) var peer: String?
    @Flag(name: .long, help: "Answer a pairing the other side started.") var accept = false
    @Flag(name: .long, help: "Confirm without asking (you compared the codes another way).") var yes = false
    @Option(name: .long, help: ArgumentHelp("Confirm only if the code is this one (digits, spaces ignored).", valueName: "digits"))
    var code: String?
    @Option(name: .long, help: ArgumentHelp("How long to wait for the other side: 30s, 2m (default 60s).", valueName: "duration"))
    var timeout: String = "60s"
    @Flag(name: .long, help: "Print the final state as one JSON object.") var json = false

    func validate() throws {
        guard Duration.parse(timeout) != nil else { throw ValidationError("--timeout \(timeout) is not a duration like 30s or 2m") }
        if peer == nil && !accept { throw ValidationError("name the PEER to pair with, or use --accept") }
    }

    func run() throws {
        let interactive = !yes && code == nil
        if interactive && isatty(0) != 1 {
            throw fail("no terminal to ask on: pass --yes or --code CODE after comparing the codes", Exit.usage)
        }
        let client = try connect(options)
        let deadline = Date().addingTimeInterval(Double(Duration.parse(timeout) ?? 60_000) / 1000)
        var view: PairView
        if let peer {
            view = try call(client, ControlMethods.pairStart, PeerRefParams(peer: peer))
        } else {
            view = try waitForIncoming(client, deadline: deadline)
        }
        let ref = view.peerId
        if view.code == nil { printError("hark: waiting for \(terminalSafe(view.displayName)) (\(shortFingerprint(view.fingerprint))) to answer…") }
        while view.code == nil && view.state != "failed" {
            guard Date() < deadline else {
                _ = try? client.call(ControlMethods.pairReject, PeerRefParams(peer: ref))
                throw fail("\(terminalSafe(view.displayName)) did not answer within \(timeout) (run `hark pair --accept` there)", Exit.tempFail)
            }
            usleep(100_000)
            do {
                view = try client.call(ControlMethods.pairStatus, PeerRefParams(peer: ref))
            } catch ControlClient.ClientError.remote(let e) where e.code == .notFound {
                // The channel the pairing was bound to closed before a code was derived (two
                // simultaneous dials settle on one channel, or the link was replaced). A code is
                // bound to one channel's handshake hash, so start again on the channel now open.
                if peer != nil {
                    view = try call(client, ControlMethods.pairStart, PeerRefParams(peer: ref))
                } else {
                    view = try waitForIncoming(client, deadline: deadline, from: ref)
                }
            }
        }
        if view.state == "failed" { throw fail("pairing failed: \(view.reason ?? "unknown reason")", Exit.dataError) }
        let shown = view.code ?? ""
        printOut("pairing with \(terminalSafe(view.displayName)) (\(shortFingerprint(view.fingerprint)))")
        if let w = view.warning { printOut("WARNING: \(terminalSafe(w))") }
        printOut("code: \(shown)")
        var confirmed = yes
        if let code {
            confirmed = code.filter(\.isNumber) == shown.filter(\.isNumber)
            if !confirmed { printError("hark: the code given (\(code)) is not the code shown (\(shown))") }
        } else if interactive {
            let q = Array("Do both screens show \(shown)? [y/N] ".utf8)
            _ = q.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            let answer = readLine() ?? ""
            confirmed = ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
        }
        guard confirmed else {
            _ = try? client.call(ControlMethods.pairReject, PeerRefParams(peer: ref))
            throw fail("not verified: the codes were not confirmed; the other side is told", Exit.dataError)
        }
        view = try call(client, ControlMethods.pairConfirm, PairConfirmParams(peer: ref, code: shown))
        // Give the other side a moment to confirm too, so both states can be reported.
        let settle = min(deadline, Date().addingTimeInterval(10))
        while !view.peerConfirmed && view.state != "failed" && Date() < settle {
            usleep(100_000)
            guard let v = try? client.call(ControlMethods.pairStatus, PeerRefParams(peer: ref)) else { break }
            view = v
        }
        if json { try printJSON(view); return }
        printOut("\(terminalSafe(view.displayName)) (\(shortFingerprint(view.fingerprint))) is verified on this node"
                 + (view.peerConfirmed ? "; they confirmed too" : view.state == "failed" ? "; but they refused: \(view.reason ?? "")" : "; they have not confirmed yet"))
    }

    /// Waits for a pairing the other side started; exactly one may be pending (or, with `from`,
    /// the one from that peer ID).
    func waitForIncoming(_ client: ControlClient, deadline: Date, from: String? = nil) throws -> PairView {
        var said = false
        while true {
            let pending = try call(client, ControlMethods.pairList, NoParams())
                .filter { $0.role == "responder" && ($0.state == "compare" || $0.state == "waiting") && (from == nil || $0.peerId == from) }
            if pending.count > 1 {
                let list = pending.map { "\(terminalSafe($0.displayName)) (\(shortFingerprint($0.fingerprint)))" }.joined(separator: ", ")
                throw fail("several pairings wait: \(list); name one: hark pair PEER", Exit.usage)
            }
            if let p = pending.first { return p }
            guard Date() < deadline else { throw fail("no pairing request arrived (run `hark pair PEER` on the other machine)", Exit.tempFail) }
            if !said { printError("hark: waiting for a pairing request…"); said = true }
            usleep(100_000)
        }
    }
}

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Back up or restore this node's identity.",
        discussion: ExitDoc.text(daemon: false),
        subcommands: [KeyExportCommand.self, KeyImportCommand.self]
    )
}

let oneDeviceWarning = """
    WARNING: run one identity on one device at a time. If this backup is restored on a second \
    machine while the first still runs, both sign events with the same sequence numbers: the log \
    forks, every member detects it, writes a proof, and flags this identity (docs/PROTOCOL.md §4.6).
    """

struct KeyExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an encrypted backup of the identity key, the Noise key and the profile.",
        discussion: """
            The backup is sealed under a passphrase (Argon2id + secretbox; docs/SECURITY.md), \
            asked twice on the terminal or read from --passphrase-file. For a home whose keys are \
            encrypted, that passphrase must be the home's (it unlocks the keys, then seals the \
            backup). Written with mode 0600; an existing file is never overwritten (exit 73). \
            Does not need a daemon.
            """ + "\n\n" + ExitDoc.text([64: "no terminal to ask for the passphrase, and no --passphrase-file", 73: "the file exists (never overwritten)", 74: "the file cannot be written", 77: "a wrong passphrase, or a key file readable by others", 78: "the home has no identity (run hark init)"], daemon: false)
    )
    @OptionGroup var options: HomeOptions
    @Option(name: .long, help: ArgumentHelp("Where to write (default: ./hark-identity-FINGERPRINT.backup).", valueName: "file"),
            completion: .file())
    var out: String?
    @Option(name: .long, help: ArgumentHelp("Read the passphrase from the first line of this file.", valueName: "file"),
            completion: .file())
    var passphraseFile: String?

    func run() throws {
        let home = options.nodeHome
        var secret = try Passphrase.obtain(file: passphraseFile, prompt: "Passphrase for the backup: ", confirm: !home.isEncrypted)
        defer { secureZero(&secret) }
        let identity: NodeIdentity
        do { identity = try home.load(passphrase: secret) } catch { throw fail(error.description, Exit.code(for: error)) }
        let path = out ?? "hark-identity-\(identity.peerID.shortFingerprint).backup"
        let sealed: [UInt8]
        do { sealed = try KeyBackup.seal(identity, passphrase: secret) } catch { throw fail(error.description, Exit.code(for: error)) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let e = errno
            throw fail("cannot create \(path): \(String(cString: strerror(e)))\(e == EEXIST ? " (not overwritten)" : "")",
                       e == EEXIST ? Exit.cantCreate : Exit.ioError)
        }
        defer { close(fd) }
        let n = sealed.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == sealed.count, fsync(fd) == 0 else { throw fail("cannot write \(path)", Exit.ioError) }
        printOut("wrote an encrypted backup of \(identity.peerID.fingerprint) to \(path)")
        printError(oneDeviceWarning)
    }
}

struct KeyImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Restore an identity from `hark key export` into an empty home.",
        discussion: """
            Refuses a home that already has an identity (exit 73). A wrong passphrase exits 77 and \
            writes nothing. With --passphrase the restored key files stay encrypted under the \
            backup's passphrase (as after `init --passphrase`); without it they are written in \
            the clear (mode 0600).
            """ + "\n\n" + ExitDoc.text([64: "no terminal to ask for the passphrase, and no --passphrase-file", 65: "not a hark backup, or a damaged one", 73: "the home has an identity already", 74: "the backup cannot be read", 77: "a wrong passphrase"], daemon: false)
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "The backup file.", completion: .file(extensions: ["backup"])) var file: String
    @Option(name: .long, help: ArgumentHelp("Read the passphrase from the first line of this file.", valueName: "file"),
            completion: .file())
    var passphraseFile: String?
    @Flag(name: .long, help: "Keep the restored key files encrypted with the backup's passphrase.") var passphrase = false

    func run() throws {
        let home = options.nodeHome
        if home.isInitialized { throw fail(HomeError.alreadyInitialized(path: home.path).description, Exit.cantCreate) }
        guard let data = FileManager.default.contents(atPath: file), data.count < 1 << 20 else {
            throw fail("cannot read \(file)", Exit.ioError)
        }
        var secret = try Passphrase.obtain(file: passphraseFile, prompt: "Passphrase of the backup: ", confirm: false)
        defer { secureZero(&secret) }
        do {
            let restored = try KeyBackup.open(Array(data), passphrase: secret, path: file)
            let identity = try home.install(signing: restored.signing, noise: restored.noiseStatic, displayName: restored.displayName,
                                            passphrase: passphrase ? secret : nil)
            printOut("restored \(identity.peerID) (\(identity.peerID.fingerprint)) into \(home.path)")
            printError(oneDeviceWarning)
        } catch {
            throw fail(error.description, Exit.code(for: error))
        }
    }
}
