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
            """
    )

    @OptionGroup var options: HomeOptions
    @Option(name: .long, help: "TCP port for peer connections (0 picks a free one).") var port: Int = 0
    @Option(name: .long, help: "Address to listen on.") var listen: String = "::"
    @Option(name: .customLong("peer"), help: ArgumentHelp("A peer to connect to, HOST:PORT or [V6]:PORT (repeatable).", valueName: "host:port"))
    var peers: [String] = []
    @Flag(name: .long, help: "Do not use avahi-daemon (publish nothing, browse nothing).") var noDiscovery = false
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(name: .long, help: ArgumentHelp("For keys encrypted with `init --passphrase`: read the passphrase from the first line of this file (else it is asked for on the terminal; exit 77 without either, or when it is wrong).", valueName: "file"))
    var passphraseFile: String?
    @Option(name: .long, help: ArgumentHelp("Fetch file offers by others of at most this many bytes by themselves (0: never).", valueName: "bytes"))
    var autoFetchMax: UInt64 = 0
    @Option(name: .long, help: ArgumentHelp("Where auto-fetched files go (default: files/ in the home).", valueName: "dir"))
    var autoFetchDir: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        var v4 = in_addr(), v6 = in6_addr()
        guard inet_pton(AF_INET, listen, &v4) == 1 || inet_pton(AF_INET6, listen, &v6) == 1 else {
            throw ValidationError("--listen \(listen) is not an IPv4 or IPv6 address")
        }
        for p in peers where Node.parseHostPort(p) == nil {
            throw ValidationError("--peer \(p): expected HOST:PORT or [V6]:PORT with a port of 1 to 65535")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
    }

    func run() async throws {
        #if os(Linux)
        // A file transfer allocates and frees buffers of a chunk (1 MiB and more) at a high rate.
        // glibc's defaults serve those with mmap/munmap or give freed heap back at once, so every
        // chunk's buffers fault in fresh zeroed pages (a large share of the CPU of a transfer).
        // Keep them in the heap and keep up to 128 MiB of freed heap for reuse.
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 32 << 20)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 128 << 20)
        #endif
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "hark")
        var config = NodeConfiguration()
        config.listenHost = listen
        config.listenPort = port
        config.staticPeers = peers
        config.discoveryEnabled = !noDiscovery
        config.autoFetchMaxBytes = autoFetchMax
        config.autoFetchDirectory = autoFetchDir.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        let node: Node
        // Unlocked once, here: a wrong passphrase fails before the store is opened.
        var secret = try passphraseIfSealed(options.nodeHome, file: passphraseFile)
        defer { if secret != nil { secureZero(&secret!) } }
        do {
            node = try Node(home: options.nodeHome, configuration: config, logger: logger, passphrase: secret)
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
            source.setEventHandler { task.cancel() }
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

#if os(Linux)
/// glibc's mallopt(3) (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
