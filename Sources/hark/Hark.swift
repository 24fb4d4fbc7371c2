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
            in the node's home (--home, $HARK_HOME, or $XDG_DATA_HOME/hark). Without a daemon, log, search, \
            group list, group members, peers, files, export and audit read the store directly.

            Files:
              $HARK_HOME (default $XDG_DATA_HOME/hark, else ~/.local/share/hark): the home, mode 0700
              identity.key, noise.key, prekey.key: secret keys, mode 0600 (sealed with init --passphrase)
              identity.pub, profile.json: the peer ID and the display name
              hark.sqlite: the store (with -wal and -shm)
              control.sock: the daemon's control socket, or a link to it under $XDG_RUNTIME_DIR/hark
              daemon.lock: held while a node runs (a daemon, or a hark send without one), naming its pid and role
              port: the TCP port the daemon listens on next time
              files/: where auto-fetched files go; DIR/.hark-partial/: a fetch in progress, resumable
              $XDG_CONFIG_HOME/hark/config.toml (else ~/.config/hark/config.toml): daemon options

            Environment:
              HARK_HOME: the node's home (--home wins)
              XDG_DATA_HOME: the default home is $XDG_DATA_HOME/hark
              XDG_CONFIG_HOME: where the daemon's config.toml is
              XDG_RUNTIME_DIR: where the daemon puts its control socket
              NOTIFY_SOCKET, JOURNAL_STREAM: set by systemd; the daemon reports readiness and logs for the journal
              HARK_TEXT, HARK_GROUP, HARK_SENDER and the other HARK_* variables: set for watch --exec commands (see hark watch)
              HARK_TEST_READ_DELAY_MS: a test hook: the daemon makes every read (log, export, group list…) wait that many ms inside the read; leave it unset

            Examples:
              hark init --name alice && hark daemon &
              echo "backup done" | hark send ops
              hark log ops --json | jq -r .text
            """ + "\n\n" + ExitDoc.text([
                0: "success",
                64: "usage error",
                66: "standard input closed and no text given, or no store to read yet",
                65: "bad data (also a corrupt or unsafe file manifest, a stale offer)",
                67: "unknown group, message, peer or file",
                69: "no daemon, or a daemon that does not answer within 5 s (a stopped daemon; streams notice it through missing keepalives; hark doctor: a check failed)",
                70: "internal error",
                71: "the daemon cannot listen",
                73: "identity exists already, or a fetch would overwrite a file",
                74: "I/O error",
                75: "temporary: the message is stored but did not reach the --wait state in time (queued, without a daemon), another daemon runs on this home, a pairing got no answer, or no peer online can serve a file (fetch again later to resume)",
                76: "group join: another admin gave the invite's last use to another peer",
                77: "permission denied (a key file readable by others, a wrong passphrase, encrypted keys and no way to ask for the passphrase, or a home or control socket of another user)",
                78: "no identity (run hark init), or a config file that cannot be used",
            ], daemon: false),
        version: "0.1.0",
        subcommands: [
            InitCommand.self, IdCommand.self, DaemonCommand.self, StatusCommand.self, PeersCommand.self, PeerCommand.self,
            GroupCommand.self, SendCommand.self, LogCommand.self, SearchCommand.self, EditCommand.self, DeleteCommand.self, ReactCommand.self,
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
        showAsHark()
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

    /// The small `hark` client runs this executable (`hark-node`) in its own place: name the
    /// process `hark` again (its comm, as ps, top, pidof and /proc/PID/comm show it), since it
    /// is the `hark` the user started. Best effort.
    static func showAsHark() {
        let fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = write(fd, "hark", 4)
        close(fd)
    }
}
