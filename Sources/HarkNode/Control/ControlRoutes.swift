// The control socket's routing table: one route per method name, built from the typed
// descriptors of HarkControl (`ControlMethods`), so the request's params and the response's
// result are coded with the types the client uses. Immutable once built; thread-safe.

import HarkControl
import NIOCore

/// How the node serves one control method. Each handler gets the request's envelope and its
/// whole line (JSON, no newline) and decodes the params itself (`ControlRouteTable.params`: a
/// bad one is a `bad_request` ControlErrorBody).
enum ControlRoute: Sendable {
    /// On the node's actor: returns the response line. Throws a `ControlErrorBody` or any
    /// other error; `Node.dispatch` turns it into the error line.
    typealias ActorHandler = @Sendable (isolated Node, RequestHead, [UInt8]) throws -> [UInt8]
    /// Off the actor: returns the response line; throws as `ActorHandler`.
    typealias DetachedHandler = @Sendable (Node, RequestHead, [UInt8]) async throws -> [UInt8]
    /// Writes the response and then event lines until the client closes; the connection serves
    /// nothing after it. Throws when a write fails.
    typealias StreamHandler = @Sendable (Node, RequestHead, [UInt8], any Channel, NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void

    /// Answered on the actor (`Node.dispatch`).
    case actor(ActorHandler)
    /// Read-only: answered off the actor by a reader with its own store connection, which runs
    /// the same handler (ReadService.swift); `LocalReader` runs it without a daemon.
    case read(ActorHandler)
    /// Answered off the actor (hashing files).
    case detached(DetachedHandler)
    /// A stream (`log.follow`, `watch`, `fetch`).
    case stream(StreamHandler)
}

/// Builds the routing table, one typed registration per `ControlMethod`. Not thread-safe while
/// it is built (a value type, filled once).
struct ControlRouteTable {
    private(set) var routes: [String: ControlRoute] = [:]

    /// Serves `method` on the node's actor: its params decoded as `P`, `body`'s result encoded as `R`.
    mutating func actor<P, R>(_ method: ControlMethod<P, R>, _ body: @escaping @Sendable (isolated Node, P) throws -> R) {
        add(method.name, .actor(Self.typed(body)))
    }

    /// Serves the read-only `method` off the actor, on a reader node (ReadService.swift).
    mutating func read<P, R>(_ method: ControlMethod<P, R>, _ body: @escaping @Sendable (isolated Node, P) throws -> R) {
        add(method.name, .read(Self.typed(body)))
    }

    /// Serves `method` off the actor.
    mutating func detached<P, R>(_ method: ControlMethod<P, R>, _ body: @escaping @Sendable (Node, P) async throws -> R) {
        add(method.name, .detached { node, head, line in
            let p = try Self.params(P.self, node, line)
            return try ControlCoding.encodeLine(Response(id: head.id, result: try await body(node, p)))
        })
    }

    /// Serves the streaming `method`: params that do not decode as `P` are answered with a
    /// `bad_request` error line; otherwise `body` writes the response (an `R`) and the events.
    mutating func stream<P, R>(
        _ method: ControlMethod<P, R>,
        _ body: @escaping @Sendable (Node, RequestHead, P, any Channel, NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void
    ) {
        add(method.name, .stream { node, head, line, channel, outbound in
            let p: P
            do throws(ControlErrorBody) { p = try Self.params(P.self, node, line) } catch {
                try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(ErrorResponse(id: head.id, error: error))))
                return
            }
            try await body(node, head, p, channel, outbound)
        })
    }

    /// The request's params as `P`. A method without params (`NoParams`) reads none, so a
    /// request may leave `params` out or send anything there, as it always could.
    /// - Throws: `ControlErrorBody` (`bad_request`) when they do not decode.
    static func params<P: Codable & Sendable>(_ type: P.Type, _ node: Node, _ line: [UInt8]) throws(ControlErrorBody) -> P {
        if let none = NoParams() as? P { return none }
        return try node.params(P.self, line)
    }

    private mutating func add(_ name: String, _ route: ControlRoute) {
        precondition(routes[name] == nil, "control method \(name) registered twice")
        routes[name] = route
    }

    private static func typed<P: Codable & Sendable, R: Codable & Sendable>(_ body: @escaping @Sendable (isolated Node, P) throws -> R) -> ControlRoute.ActorHandler {
        { node, head, line in
            let p = try Self.params(P.self, node, line)
            return try ControlCoding.encodeLine(Response(id: head.id, result: try body(node, p)))
        }
    }
}
