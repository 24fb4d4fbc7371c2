import ArgumentParser
import Dispatch
import HarkControl
import HarkNode
import Logging

/// Options every subcommand takes.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The node's home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).", valueName: "dir"),
            completion: .directory)
    var home: String?

    var nodeHome: NodeHome { NodeHome.resolve(explicit: home) }
}

/// Connects to the daemon of `home`, mapping failures to exit codes.
func connect(_ options: HomeOptions) throws -> ControlClient {
    let home = options.nodeHome
    do { try home.requireInitialized() } catch { throw fail(error.description, Exit.code(for: error)) }
    do { return try ControlClient(socketPath: options.nodeHome.socketPath) } catch let e as ControlClient.ClientError {
        switch e {
        case .daemonNotRunning:
            throw fail("no hark daemon is running for \(options.nodeHome.path); start one with `hark daemon`", Exit.unavailable)
        case .permissionDenied:
            throw fail(e.description, Exit.noPermission)
        default:
            throw fail(e.description, Exit.unavailable)
        }
    }
}

/// For commands that only read: the daemon when one runs, else the home's store opened
/// read-only in this process (`LocalReader`), which answers the same methods with the same JSON.
/// Exits 69 when a home with encrypted keys has no daemon (its keys cannot be opened without
/// asking), 66 when there is no store yet, 69 when the store's schema is older than this binary's
/// (the daemon upgrades it), 78 when it is newer, 74 when SQLite cannot read it.
func connectReading(_ options: HomeOptions) throws -> ControlClient {
    let home = options.nodeHome
    do { try home.requireInitialized() } catch { throw fail(error.description, Exit.code(for: error)) }
    do { return try ControlClient(socketPath: home.socketPath) } catch ControlClient.ClientError.daemonNotRunning {
        // fall through: read the store directly
    } catch let e as ControlClient.ClientError {
        if case .permissionDenied = e { throw fail(e.description, Exit.noPermission) }
        throw fail(e.description, Exit.unavailable)
    }
    var logger = Logger(label: "hark")
    logger.logLevel = .error
    let reader: LocalReader
    do { reader = try LocalReader(home: home, logger: logger) } catch let e as HomeError {
        if case .locked = e {
            throw fail("no hark daemon is running for \(home.path), and its keys are encrypted: start `hark daemon`", Exit.unavailable)
        }
        throw fail(e.description, Exit.code(for: e))
    } catch let e as LocalReadError {
        switch e {
        case .noStore: throw fail(e.description, Exit.noInput)
        case .schemaOlder: throw fail(e.description, Exit.unavailable)
        case .schemaNewer: throw fail(e.description, Exit.config)
        case .unreadable: throw fail(e.description, Exit.ioError)
        }
    }
    return ControlClient(answering: { request in
        let line = request.last == 0x0A ? Array(request.dropLast()) : request
        return runBlocking { await reader.answer(line) }
    })
}

/// Runs `body` on the concurrency pool and blocks this (non-pool) thread until it returns.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = BlockingResult<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        box.value = await body()
        done.signal()
    }
    done.wait()
    // swift-format-ignore: NeverForceUnwrap
    // The task set it before signalling.
    return box.value!
}

/// The value a `runBlocking` task hands back: written once before the semaphore is signalled,
/// read after the wait.
private final class BlockingResult<T>: @unchecked Sendable { var value: T? }

/// Runs a control call, mapping daemon errors to exit codes.
func call<P, R>(_ client: ControlClient, _ method: ControlMethod<P, R>, _ params: P) throws -> R {
    do { return try client.call(method, params) } catch let e as ControlClient.ClientError { throw controlExitCode(for: e) }
}

/// Maps an error while reading a stream (watch, log --follow, fetch): a daemon that stopped
/// answering exits 69 as one that closed the stream does; other failures exit 74.
func streamError(_ error: any Error, _ what: String) -> ExitCode {
    if let e = error as? ControlClient.ClientError, case .notAnswering = e { return fail(e.description, Exit.unavailable) }
    return fail("\(what) broke: \(error)", Exit.ioError)
}

/// Prints what went wrong on the control socket and gives the exit code for it.
func controlExitCode(for e: ControlClient.ClientError) -> ExitCode {
    fail(e.message, ExitCode(e.exitStatus))
}
