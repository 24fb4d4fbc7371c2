import ArgumentParser
import Dispatch
import HarkCrypto
import Foundation
import HarkNode
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the node in the foreground.",
        discussion: """
            Publishes _hark._tcp through avahi-daemon, connects to the peers it finds and to every \
            --peer, replicates group history, and serves the control socket the other subcommands \
            use. Logs go to stderr. SIGINT or SIGTERM stops it cleanly (exit 0). Without \
            avahi-daemon it says so once and keeps working with --peer.

            Port: without --port (or `port` in the config file) it listens on the port it used \
            last time (remembered in the home's `port` file), else on 7411, else on any free port; \
            UDP datagrams use the same number when free. An explicit port is used or the daemon \
            exits 71.

            Control socket: under $XDG_RUNTIME_DIR/hark/ when that is set (control.sock in the \
            home is then a link to it), else control.sock in the home.

            One node per home: a daemon started while a `hark send` without a daemon runs its \
            short-lived node asks that node to hand the home over, waits for it (at most 15 s), \
            and takes over; the send goes on through the daemon. A home held by another daemon \
            exits 75, and the message names what holds it, with its process ID.

            Config file: daemon options may be set in $XDG_CONFIG_HOME/hark/config.toml (else \
            ~/.config/hark/config.toml; or --config FILE), one key per option: port, listen, \
            peers (an array), discovery, auto_fetch_max, auto_fetch_dir, log_level, log_format, \
            passphrase_file. Flags win over the file. A file that cannot be used exits 78.

            systemd: with $NOTIFY_SOCKET set it sends READY=1 once both sockets are bound \
            (Type=notify), and with stderr connected to the journal ($JOURNAL_STREAM) it writes \
            lines with <N> priority prefixes and no timestamp of its own (--log-format auto). \
            Example units: examples/hark.service (user) and examples/hark@.service (system).

            Examples:
              hark daemon &
              hark daemon --port 7411 --peer 10.0.0.5:7411 --no-discovery
              hark daemon --passphrase-file "$CREDENTIALS_DIRECTORY/passphrase"
            """ + "\n\n" + ExitDoc.text([
                0: "stopped by SIGINT or SIGTERM",
                65: "a key file is damaged",
                70: "an internal error",
                71: "a port or the control socket cannot be bound",
                74: "the store cannot be opened",
                75: "another daemon runs on this home, or a hark send's node did not hand the home over within 15 s",
                77: "a key file readable by others, a wrong passphrase, or encrypted keys and no way to ask for the passphrase",
                78: "no identity (run hark init), or a config file that cannot be used",
            ], daemon: false)
    )

    @OptionGroup var options: HomeOptions
    @Option(name: .long, help: "TCP port for peer connections (default: the last one used, else 7411, else any; 0 picks a free one).")
    var port: Int?
    @Option(name: .long, help: "Address to listen on (default ::).") var listen: String?
    @Option(name: .customLong("peer"), help: ArgumentHelp("A peer to connect to, HOST:PORT or [V6]:PORT (repeatable).", valueName: "host:port"))
    var peers: [String] = []
    @Flag(name: .long, help: "Do not use avahi-daemon (publish nothing, browse nothing).") var noDiscovery = false
    @Option(name: .long, help: "Log level (default info).") var logLevel: LogLevelName?
    @Option(name: .long, help: "Log line format (default auto: journal when stderr is the journal, else text).")
    var logFormat: LogFormat?
    @Option(name: .long, help: ArgumentHelp("Daemon options file (default: $XDG_CONFIG_HOME/hark/config.toml).", valueName: "file"),
            completion: .file(extensions: ["toml"]))
    var config: String?
    @Option(name: .long, help: ArgumentHelp("For keys encrypted with `init --passphrase`: read the passphrase from the first line of this file (else it is asked for on the terminal; exit 77 without either, or when it is wrong).", valueName: "file"),
            completion: .file())
    var passphraseFile: String?
    @Option(name: .long, help: ArgumentHelp("Fetch file offers by others of at most this many bytes by themselves (0: never).", valueName: "bytes"))
    var autoFetchMax: UInt64?
    @Option(name: .long, help: ArgumentHelp("Where auto-fetched files go (default: files/ in the home).", valueName: "dir"),
            completion: .directory)
    var autoFetchDir: String?

    /// How long, ms, a starting daemon waits for the short-lived node of a `hark send` to hand
    /// the home over.
    static let lockWaitMs: Int64 = 15_000

    func validate() throws {
        if let port { guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") } }
        if let listen { try Self.checkListen(listen, "--listen") }
        for p in peers where Node.parseHostPort(p) == nil {
            throw ValidationError("--peer \(p): expected HOST:PORT or [V6]:PORT with a port of 1 to 65535")
        }
    }

    static func checkListen(_ listen: String, _ what: String) throws {
        var v4 = in_addr(), v6 = in6_addr()
        guard inet_pton(AF_INET, listen, &v4) == 1 || inet_pton(AF_INET6, listen, &v6) == 1 else {
            throw ValidationError("\(what) \(listen) is not an IPv4 or IPv6 address")
        }
    }

    /// The config file merged under the flags. Exits 78 for an unusable file.
    func effectiveConfig() throws -> DaemonConfig {
        var file: DaemonConfig
        let path = config ?? DaemonConfig.defaultPath()
        do { file = try DaemonConfig.load(path: path, required: config != nil) } catch {
            throw fail("config file \(error.description)", Exit.config)
        }
        func invalid(_ why: String) -> ExitCode { fail("config file \(path): \(why)", Exit.config) }
        if let l = file.listen { do { try Self.checkListen(l, "listen") } catch { throw invalid("\(error)") } }
        for p in file.peers ?? [] where Node.parseHostPort(p) == nil {
            throw invalid("peers: \(p): expected HOST:PORT or [V6]:PORT with a port of 1 to 65535")
        }
        if let l = file.logLevel, Logger.Level(rawValue: l) == nil { throw invalid("log_level \(l) is not a level") }
        if let port { file.port = port }
        if let listen { file.listen = listen }
        if !peers.isEmpty { file.peers = peers }
        if noDiscovery { file.discovery = false }
        if let logLevel { file.logLevel = logLevel.rawValue }
        if let logFormat { file.logFormat = logFormat.rawValue }
        if let passphraseFile { file.passphraseFile = passphraseFile }
        if let autoFetchMax { file.autoFetchMax = autoFetchMax }
        if let autoFetchDir {
            file.autoFetchDir = autoFetchDir.hasPrefix("/") ? autoFetchDir : FileManager.default.currentDirectoryPath + "/" + autoFetchDir
        }
        return file
    }

    func run() async throws {
        AllocatorPolicy.applyForNode()   // before the node's threads allocate
        let settings = try effectiveConfig()
        let level = settings.logLevel.flatMap(Logger.Level.init(rawValue:)) ?? .info
        let format = (settings.logFormat.flatMap(LogFormat.init(rawValue:)) ?? .auto).resolved()
        LoggingSystem.bootstrap { label in ServiceLogHandler(label: label, format: format, logLevel: level) }
        let logger = Logger(label: "hark")
        let home = options.nodeHome
        var config = NodeConfiguration()
        config.listenHost = settings.listen ?? "::"
        config.listenPort = settings.port ?? 0
        if settings.port == nil {
            config.preferredPorts = [home.rememberedPort, NodeConfiguration.defaultPort].compactMap { $0 }
            config.rememberPort = true
        }
        config.staticPeers = settings.peers ?? []
        config.discoveryEnabled = settings.discovery ?? true
        config.autoFetchMaxBytes = settings.autoFetchMax ?? 0
        config.autoFetchDirectory = settings.autoFetchDir
        config.controlSocketPath = home.daemonSocketPath()
        // A `hark send` without a daemon may hold the home: it is asked to hand it over.
        config.lockWaitMs = Self.lockWaitMs
        config.onReady = { port in
            ServiceManager.notify("READY=1\nSTATUS=listening on TCP port \(port)\nMAINPID=\(getpid())")
        }
        let node: Node
        // Unlocked once, here: a wrong passphrase fails before the store is opened.
        var secret = try passphraseIfSealed(home, file: settings.passphraseFile)
        defer { if secret != nil { secureZero(&secret!) } }
        do {
            node = try Node(home: home, configuration: config, logger: logger, passphrase: secret)
            if secret != nil { secureZero(&secret!) }
        } catch let error as HomeError {
            throw fail(error.description, Exit.code(for: error))
        } catch {
            throw fail("cannot open the store: \(error)", Exit.ioError)
        }
        let task = Task { try await node.run() }
        let signals = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                ServiceManager.notify("STOPPING=1")
                task.cancel()
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        do {
            try await task.value
        } catch let error as NodeError {
            switch error {
            case .alreadyRunning: throw fail(error.description, Exit.tempFail)
            case .bindFailed: throw fail(error.description, Exit.osError)
            }
        } catch is CancellationError {
        } catch {
            throw fail("\(error)", Exit.software)
        }
    }
}

/// A swift-log level named on the command line (an enum, so completions offer the names).
enum LogLevelName: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error
}

extension LogFormat: ExpressibleByArgument {}
