import HarkCrypto
import HarkWireProto
import SwiftProtobuf

/// The byte layout of one datagram (PROTOCOL.md §7.1):
/// `type (1) ‖ key_id (4, LE) ‖ counter (8, LE) ‖ ChaCha20-Poly1305-IETF(padded plaintext) ‖ tag (16)`,
/// nonce = 4 zero bytes ‖ LE64(counter), associated data = the 13 header bytes.
public struct DatagramHeader: Sendable, Equatable {
    public var keyID: UInt32
    public var counter: UInt64

    public init(keyID: UInt32, counter: UInt64) {
        self.keyID = keyID
        self.counter = counter
    }

    /// The 13 header bytes (also the associated data).
    public var bytes: [UInt8] {
        var out = [DatagramLimits.packetType]
        out.reserveCapacity(DatagramLimits.headerByteCount)
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: keyID >> (8 * UInt32(i)))) }
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: counter >> (8 * UInt64(i)))) }
        return out
    }

    /// Parses the header of a packet and checks its size and shape, without any key.
    /// - Throws: `.tooShort`, `.tooLarge`, `.malformed` (unknown type byte, ciphertext not a whole
    ///   number of 16-byte blocks, counter ≥ 2^64 − 2^13).
    public init(parsing packet: [UInt8]) throws(DatagramError) {
        guard packet.count >= DatagramLimits.minDatagramByteCount else { throw .tooShort }
        guard packet.count <= DatagramLimits.maxDatagramByteCount else { throw .tooLarge }
        guard packet[0] == DatagramLimits.packetType else {
            throw .malformed("unknown packet type 0x\(String(packet[0], radix: 16))")
        }
        let body = packet.count - DatagramLimits.headerByteCount - DatagramLimits.tagByteCount
        guard body % DatagramLimits.paddingBlockByteCount == 0 else {
            throw .malformed("ciphertext of \(body) bytes is not a multiple of \(DatagramLimits.paddingBlockByteCount)")
        }
        var id: UInt32 = 0
        for i in 0..<4 { id |= UInt32(packet[1 + i]) << (8 * UInt32(i)) }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(packet[5 + i]) << (8 * UInt64(i)) }
        guard n < DatagramLimits.counterLimit else { throw .malformed("counter \(n) at or above 2^64 - 2^13") }
        keyID = id
        counter = n
    }

    /// The key_id of a packet, for finding its receiver before opening it; nil if the packet is
    /// too short to have one.
    public static func keyID(of packet: [UInt8]) -> UInt32? {
        guard packet.count >= DatagramLimits.headerByteCount else { return nil }
        var id: UInt32 = 0
        for i in 0..<4 { id |= UInt32(packet[1 + i]) << (8 * UInt32(i)) }
        return id
    }
}

/// The field rules of `Datagram` (PROTOCOL.md §7.1), the same for sending and receiving.
enum DatagramRules {
    static func validate(_ d: Hark_V1_Datagram) throws(DatagramError) {
        switch d.datagram {
        case let .presence(p)?:
            switch p.state {
            case .online, .away: break
            default: throw .malformed("presence state \(p.state.rawValue)")
            }
            guard p.statusText.utf8.count <= DatagramLimits.maxStatusTextByteCount else {
                throw .malformed("status_text of \(p.statusText.utf8.count) bytes (limit \(DatagramLimits.maxStatusTextByteCount))")
            }
        case let .typing(t)?:
            guard t.groupID.count == DatagramLimits.idByteCount else { throw .malformed("typing group_id of \(t.groupID.count) bytes") }
        case let .headHint(h)?:
            guard h.groupID.count == DatagramLimits.idByteCount else { throw .malformed("head hint group_id of \(h.groupID.count) bytes") }
            guard h.head.count == DatagramLimits.idByteCount else { throw .malformed("head hint head of \(h.head.count) bytes") }
            guard h.lamport >= 1 else { throw .malformed("head hint lamport 0") }
        case nil:
            throw .malformed("empty or unknown datagram kind")
        }
    }

    /// Validates a `DatagramKey` announcement.
    static func validate(_ k: Hark_V1_DatagramKey) throws(DatagramError) {
        guard k.key.count == ChaChaPoly.keyByteCount else { throw .malformed("datagram key of \(k.key.count) bytes") }
        guard k.udpPort <= 65535 else { throw .malformed("udp_port \(k.udpPort)") }
    }
}
