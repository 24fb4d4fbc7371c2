import ArgumentParser
import HarkControl
import HarkNode

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

/// Runs a control call, mapping daemon errors to exit codes.
func call<P: Codable & Sendable, R: Codable & Sendable>(_ client: ControlClient, _ method: String, _ params: P, as: R.Type) throws -> R {
    do { return try client.call(method, params, as: R.self) } catch let e as ControlClient.ClientError { throw exitCode(for: e) }
}

/// Runs a control call whose result is not needed, mapping daemon errors to exit codes.
func call<P: Codable & Sendable>(_ client: ControlClient, _ method: String, _ params: P) throws {
    do { try client.call(method, params) } catch let e as ControlClient.ClientError { throw exitCode(for: e) }
}

/// Prints what went wrong on the control socket and gives the exit code for it.
private func exitCode(for e: ControlClient.ClientError) -> ExitCode {
    switch e {
    case let .remote(body): return fail(body.message, Exit.code(for: body.code))
    case .daemonNotRunning: return fail(e.description, Exit.unavailable)
    case .permissionDenied: return fail(e.description, Exit.noPermission)
    default: return fail(e.description, Exit.ioError)
    }
}
