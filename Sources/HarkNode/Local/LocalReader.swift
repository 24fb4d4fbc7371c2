import HarkControl
import HarkStore
import Logging

/// Reads a home without a daemon: answers the control protocol's read-only methods from the
/// store opened read-only (`Store(readOnlyPath:)`), beside a daemon that may be writing it
/// (SQLite WAL). The answers are built by the node's own handlers, on a node that is never run
/// (`Node(readingHome:)`): the same JSON types and the same views as through the control socket
/// (docs/CONTROL.md), with no peer connected and peers as last stored.
///
/// Methods: `group.list`, `peers`, `files`, `export`, `audit` (and `verify`), `log`, `search`. Anything
/// that writes needs the daemon or the short-lived node.
/// Thread-safety: `Sendable`; requests run on the node's actor, one at a time.
public final class LocalReader: Sendable {
    /// The methods answered here.
    /// (`status` answers too, for the identity fields: no port is bound and no peer connected.)
    public static let methods: Set<String> = [
        ControlMethods.groupList.name, ControlMethods.peers.name, ControlMethods.files.name, ControlMethods.export.name,
        ControlMethods.audit.name, ControlMethods.verify.name, ControlMethods.log.name, ControlMethods.search.name,
        ControlMethods.status.name,
    ]

    let node: Node

    /// Opens the home's store read-only and loads its identity (nothing is written).
    /// - Throws: `HomeError` (`.notInitialized`; `.locked` for encrypted keys without
    ///   `passphrase`); `LocalReadError` for a store that cannot be read this way.
    public init(home: NodeHome, logger: Logger, passphrase: [UInt8]? = nil) throws {
        do { node = try Node(readingHome: home, logger: logger, passphrase: passphrase) } catch let e as StoreError {
            switch e {
            case let .noStore(path): throw LocalReadError.noStore(path: path)
            case let .schemaMismatch(path, newer): throw newer ? LocalReadError.schemaNewer(path: path) : LocalReadError.schemaOlder(path: path)
            default: throw LocalReadError.unreadable(e.description)
            }
        }
    }

    /// Answers one request line (a control request, without its newline) with the response line
    /// the daemon would send, newline included.
    public func answer(_ line: [UInt8]) async -> [UInt8] {
        let head: RequestHead
        do { head = try ControlCoding.decode(RequestHead.self, from: line) } catch {
            return (try? ControlCoding.encodeLine(ErrorResponse(
                id: nil, error: ControlErrorBody(code: .badRequest, message: "request is not a JSON object with id and method")))) ?? []
        }
        guard Self.methods.contains(head.method) else {
            return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: ControlErrorBody(
                code: .unknownMethod, message: "\(head.method) needs a running daemon (start one with `hark daemon`)")))) ?? []
        }
        return await node.answerLocally(head: head, line: line)
    }
}

/// Why a home's store cannot be read without a daemon.
public enum LocalReadError: Error, CustomStringConvertible, Sendable {
    /// The home has no store yet (no daemon ever ran). The CLI exits 66 (EX_NOINPUT).
    case noStore(path: String)
    /// The store predates this binary's schema: a writable open (the daemon) must upgrade it
    /// first. The CLI exits 69 (EX_UNAVAILABLE).
    case schemaOlder(path: String)
    /// A newer hark wrote the store. The CLI exits 78 (EX_CONFIG).
    case schemaNewer(path: String)
    /// SQLite could not open or read it. The CLI exits 74 (EX_IOERR).
    case unreadable(String)

    public var description: String {
        switch self {
        case let .noStore(path): return "no hark daemon is running, and there is no store at \(path) yet; start one with `hark daemon`"
        case let .schemaOlder(path):
            return "no hark daemon is running, and the store \(path) has an older schema that must be upgraded first: start `hark daemon` once"
        case let .schemaNewer(path): return "the store \(path) was written by a newer hark; use that version"
        case let .unreadable(why): return "cannot read the store without a daemon: \(why)"
        }
    }
}
