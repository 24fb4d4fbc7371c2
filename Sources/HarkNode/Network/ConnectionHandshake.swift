import HarkNoise
import HarkWire
import NIOCore

extension Node {
    /// The Noise XX handshake on a new connection (PROTOCOL.md §3.1): sends and reads handshake
    /// messages (each ≤ 1120 B, length-prefixed) until `HandshakeDriver` completes, then returns
    /// the authenticated peer and the channel's record layer. Bounded by the caller's deadline,
    /// which closes the channel and so ends the pending read.
    /// - Throws: `ConnectionError.closedDuringHandshake`, `.attachmentDuringHandshake`; the
    ///   driver's `HandshakeError`/`WireError` for a message that fails; channel write errors.
    nonisolated func handshake(role: NoiseRole, reading iterator: inout PeerInbound.AsyncIterator,
                               writing outbound: PeerOutbound) async throws -> (PeerHello, RecordBox) {
        let local = LocalHello(identity: identity.signing, noiseStatic: identity.noiseStatic,
                               displayName: identity.displayName, instanceToken: instanceToken,
                               listenPort: UInt16(clamping: await listenPort),
                               features: (configuration.epidemicBroadcast ? ProtocolFeatures.epidemicBroadcast : 0)
                                   | ProtocolFeatures.joinByCode)
        var driver = HandshakeDriver(role: role, local: local)
        if let first = try driver.start() {
            try await outbound.write(ByteBuffer(bytes: try framedMessage(first)))
        }
        while true {
            guard let unit = try await iterator.next() else { throw ConnectionError.closedDuringHandshake }
            guard case var .message(buffer) = unit else { throw ConnectionError.attachmentDuringHandshake }
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            switch try driver.receive(bytes) {
            case let .send(message):
                try await outbound.write(ByteBuffer(bytes: try framedMessage(message)))
            case let .sendAndComplete(message, hello):
                try await outbound.write(ByteBuffer(bytes: try framedMessage(message)))
                return (hello, RecordBox(RecordLayer(transport: try driver.transport())))
            case let .complete(hello):
                return (hello, RecordBox(RecordLayer(transport: try driver.transport())))
            }
        }
    }
}

/// Why a connection ended before its handshake completed.
enum ConnectionError: Error, CustomStringConvertible {
    case closedDuringHandshake
    case attachmentDuringHandshake
    var description: String {
        switch self {
        case .closedDuringHandshake: return "connection closed (or handshake timed out) before the handshake completed"
        case .attachmentDuringHandshake: return "an attachment arrived during the handshake (only Noise messages may)"
        }
    }
}
