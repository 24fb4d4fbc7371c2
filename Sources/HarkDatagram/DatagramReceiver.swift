import Foundation
import HarkCrypto
import HarkWireProto
import SwiftProtobuf

/// The receiving half of one peer's datagram flow (PROTOCOL.md §7.2–7.3): the peer's current
/// send key and, for 30 s after it was replaced, the previous one, each with its own RFC 6479
/// replay window (``ReplayWindow``).
///
/// ``open(_:nowMs:)`` checks in this order: size and header shape; key_id; a read-only look at
/// the replay window (so obvious replays cost no decryption); ChaCha20-Poly1305; only then does
/// it record the counter, unpad and decode. A packet that fails authentication leaves the
/// window exactly as it was. An authenticated packet whose plaintext is malformed still
/// consumes its counter (the peer did send it).
///
/// Pure: no I/O, no clock (times are milliseconds from any monotonic clock, passed in).
/// Value type, `Sendable`; use from one task at a time.
public struct DatagramReceiver: Sendable {
    struct Slot: Sendable {
        var keyID: UInt32
        var key: [UInt8]
        var window = ReplayWindow()
    }

    private var current: Slot?
    private var previous: Slot?
    /// When `previous` stopped being current.
    private var previousRetiredMs: Int64 = 0
    /// The peer's announced UDP port (0 = none), from the latest announcement.
    public private(set) var udpPort: UInt16 = 0

    public init() {}

    /// The key_id of the peer's current key, if one was installed.
    public var currentKeyID: UInt32? { current?.keyID }

    /// The key_id of the previous key if it is still accepted at `nowMs`.
    public func previousKeyID(nowMs: Int64) -> UInt32? {
        previousValid(nowMs: nowMs) ? previous?.keyID : nil
    }

    private func previousValid(nowMs: Int64) -> Bool {
        previous != nil && elapsedMs(from: previousRetiredMs, to: nowMs) < DatagramLimits.previousKeyGraceMs
    }

    /// Installs a key the peer announced over the Noise channel (`Frame.datagram_key`). A new
    /// key_id becomes current and the old current key becomes the previous one (accepted for
    /// 30 s more). Re-announcing the current key (same key_id, same key, e.g. on a new channel)
    /// only updates the port and keeps its replay window.
    /// - Throws: `.malformed` for a key that is not 32 bytes, a port over 65535, or a key_id
    ///   equal to the current or previous one with a different key.
    public mutating func install(_ announcement: Hark_V1_DatagramKey, nowMs: Int64) throws(DatagramError) {
        try DatagramRules.validate(announcement)
        let key = [UInt8](announcement.key)
        if let c = current, c.keyID == announcement.keyID {
            guard constantTimeEqual(c.key, key) else { throw .malformed("key_id \(announcement.keyID) reused with another key") }
            udpPort = UInt16(announcement.udpPort)
            return
        }
        if let p = previous, p.keyID == announcement.keyID, previousValid(nowMs: nowMs) {
            throw .malformed("key_id \(announcement.keyID) of the previous key announced again")
        }
        dropPrevious()
        previous = current
        previousRetiredMs = nowMs
        current = Slot(keyID: announcement.keyID, key: key)
        udpPort = UInt16(announcement.udpPort)
    }

    private mutating func dropPrevious() {
        if var p = previous { secureZero(&p.key) }
        previous = nil
    }

    /// Opens one packet.
    /// - Throws: `.tooShort`, `.tooLarge`, `.malformed` (shape), `.unknownKey`, `.tooOld`,
    ///   `.replayed`, `.authenticationFailed`, then `.malformed` (padding, decoding, field rules).
    public mutating func open(_ packet: [UInt8], nowMs: Int64) throws(DatagramError) -> Hark_V1_Datagram {
        let header = try DatagramHeader(parsing: packet)
        if previous != nil, !previousValid(nowMs: nowMs) { dropPrevious() }
        let useCurrent: Bool
        let slot: Slot
        if let c = current, c.keyID == header.keyID {
            useCurrent = true
            slot = c
        } else if let p = previous, p.keyID == header.keyID {
            useCurrent = false
            slot = p
        } else {
            throw .unknownKey
        }
        let key = slot.key
        let verdict = slot.window.check(header.counter)
        switch verdict {
        case .fresh: break
        case .replayed: throw .replayed
        case .tooOld: throw .tooOld
        }
        let ad = Array(packet[0..<DatagramLimits.headerByteCount])
        let padded: [UInt8]
        do {
            padded = try ChaChaPoly.open(Array(packet[DatagramLimits.headerByteCount...]), key: key,
                                         nonce: ChaChaPoly.nonce(counter: header.counter), associatedData: ad)
        } catch {
            throw .authenticationFailed
        }
        // Authenticated: only now may the window move.
        if useCurrent { current?.window.record(header.counter) } else { previous?.window.record(header.counter) }
        let plain: [UInt8]
        do { plain = try Padding.unpad(padded, blockSize: DatagramLimits.paddingBlockByteCount) }
        catch { throw .malformed("bad padding") }
        let datagram: Hark_V1_Datagram
        do { datagram = try Hark_V1_Datagram(serializedBytes: plain) } catch { throw .malformed("does not decode: \(error)") }
        try DatagramRules.validate(datagram)
        return datagram
    }

    /// The replay window of a key, for tests.
    func window(keyID: UInt32) -> ReplayWindow? {
        if let c = current, c.keyID == keyID { return c.window }
        if let p = previous, p.keyID == keyID { return p.window }
        return nil
    }
}
