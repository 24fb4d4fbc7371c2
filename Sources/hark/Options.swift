import ArgumentParser
import HarkControl
import HarkNode

/// Options every subcommand takes.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The node's home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).", valueName: "dir"))
    var home: String?

    var nodeHome: NodeHome { NodeHome.resolve(explicit: home) }
}

/// Connects to the daemon of `home`, mapping failures to exit codes.
func connect(_ options: HomeOptions) throws -> ControlClient {
    let home = options.nodeHome
    if !home.isInitialized {
        throw fail(HomeError.notInitialized(path: home.path).description, Exit.config)
    }
    do { return try ControlClient(socketPath: options.nodeHome.socketPath) } catch let e as ControlClient.ClientError {
        switch e {
        case .daemonNotRunning:
            throw fail("no hark daemon is running for \(options.nodeHome.path); start one with `hark daemon`", Exit.unavailable)
        default:
            throw fail(e.description, Exit.unavailable)
        }
    }
}

/// Runs a control call, mapping daemon errors to exit codes.
func call<P: Codable & Sendable, R: Codable & Sendable>(_ client: ControlClient, _ method: String, _ params: P, as: R.Type) throws -> R {
    do { return try client.call(method, params, as: R.self) } catch let e as ControlClient.ClientError { throw exitCode(for: e) }
}

/// Runs a control call whose result is not needed, mapping daemon errors to exit codes.
func call<P: Codable & Sendable>(_ client: ControlClient, _ method: String, _ params: P) throws {
    do { try client.call(method, params) } catch let e as ControlClient.ClientError { throw exitCode(for: e) }
}

/// Maps an error while reading a stream (watch, log --follow, fetch): a daemon that stopped
/// answering exits 69 as one that closed the stream does; other failures exit 74.
func streamError(_ error: any Error, _ what: String) -> ExitCode {
    if let e = error as? ControlClient.ClientError, case .notAnswering = e { return fail(e.description, Exit.unavailable) }
    return fail("\(what) broke: \(error)", Exit.ioError)
}

/// Prints what went wrong on the control socket and gives the exit code for it.
private func exitCode(for e: ControlClient.ClientError) -> ExitCode {
    switch e {
    case let .remote(body): return fail(body.message, Exit.code(for: body.code))
    case .daemonNotRunning, .notAnswering: return fail(e.description, Exit.unavailable)
    default: return fail(e.description, Exit.ioError)
    }
}
