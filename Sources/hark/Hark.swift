import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `hark`: a serverless peer-to-peer messenger for local networks.
@main
struct Hark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "A serverless peer-to-peer messenger for local networks.",
        discussion: """
            Nodes find each other through Avahi (DNS-SD _hark._tcp) and talk over mutually \
            authenticated Noise channels. Group history is a signed, hash-linked event graph \
            that every member replicates.

            Start a node with `hark daemon`; the other subcommands talk to it over a Unix socket \
            in the node's home (--home, $HARK_HOME, or $XDG_DATA_HOME/hark). Without a daemon, log, \
            group list, group members, peers, files, export and audit read the store directly.

            Exit codes: 0 ok, 64 usage, 65 bad data (also a corrupt or unsafe file manifest, a stale offer), \
            66 standard input closed and no text given, or no store to read yet, \
            67 unknown group, message, peer or file, \
            69 no daemon, or a daemon that does not answer within 5 s (a stopped daemon; streams notice \
            it through missing keepalives; hark doctor: a check failed), \
            70 internal error, 71 the daemon cannot listen, 73 identity exists already, or a fetch would \
            overwrite a file, 74 I/O error, 75 temporary: \
            the message is stored but did not reach the --wait state in time (queued, without a daemon), \
            another daemon runs on this home, a pairing got no answer, or no peer online can serve a file \
            (fetch again later to resume), 76 group join: another admin gave the invite's last use to \
            another peer, 77 permission denied (a key file readable by others, a wrong \
            passphrase, encrypted keys and no way to ask for the passphrase, or a home or control \
            socket of another user), 78 no identity (run hark init).
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, IdCommand.self, DaemonCommand.self, StatusCommand.self, PeersCommand.self,
            GroupCommand.self, SendCommand.self, LogCommand.self, EditCommand.self, DeleteCommand.self, ReactCommand.self,
            ReadCommand.self, WatchCommand.self, ChatCommand.self, PresenceCommand.self,
            ShareCommand.self, FilesCommand.self, FetchCommand.self,
            AuditCommand.self, ExportCommand.self, ImportCommand.self, DoctorCommand.self,
            VerifyCommand.self, PairCommand.self, KeyCommand.self,
        ]
    )

    static func main() async {
        // Descriptor 0 closed (`hark send ops <&-`): note it before anything can reuse number 0,
        // and put /dev/null there so no later open lands on it.
        if fcntl(0, F_GETFD) < 0 && errno == EBADF {
            standardInputWasClosed = true
            let fd = open("/dev/null", O_RDONLY)
            if fd > 0 { dup2(fd, 0); close(fd) }
        }
        signal(SIGPIPE, SIG_IGN)
        if let status = FastPath.run(CommandLine.arguments) { Glibc.exit(status) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
