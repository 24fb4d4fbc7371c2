import Foundation
import HarkCrypto
import HarkWireProto
import SwiftProtobuf

/// The sending half of one peer's datagram flow (PROTOCOL.md §7.2): a random 32-byte key with a
/// random key_id, announced to the peer over the Noise channel as `Frame.datagram_key`, and a
/// counter that starts at 0 for every key and is never reused.
///
/// The key is replaced (new key, new key_id ≠ the old one, counter back to 0) after
/// 10 min or 2^20 packets: ``seal(_:nowMs:)`` does so itself before sealing, and
/// ``rotateIfDue(nowMs:)`` lets a timer do it ahead of time. After any rotation the caller must
/// announce the new key (``takeAnnouncement(udpPort:)`` returns it once); packets sent before
/// the peer has it are simply dropped there as `.unknownKey`.
///
/// Pure: no I/O, no clock (times are milliseconds from any monotonic clock, passed in).
/// Value type, `Sendable`; use from one task at a time.
public struct DatagramSender: Sendable {
    public private(set) var keyID: UInt32
    private var key: [UInt8]
    /// The counter of the next packet under the current key.
    public private(set) var nextCounter: UInt64
    private var keyCreatedMs: Int64
    private var announcementPending = true
    /// Rotation policy (internal so tests can reach the counter limit).
    let rotateAfterMs: Int64
    let rotateAfterPackets: UInt64

    /// A sender with a fresh random key and key_id, created at `nowMs`.
    public init(nowMs: Int64) {
        self.init(key: SecureRandom.bytes(ChaChaPoly.keyByteCount), keyID: UInt32(truncatingIfNeeded: SecureRandom.uint64()),
                  nowMs: nowMs)
    }

    /// A sender with the given key (32 bytes) and key_id, for known-answer tests and interop.
    /// Never give two senders the same key.
    public init(key: [UInt8], keyID: UInt32, nowMs: Int64) {
        self.init(key: key, keyID: keyID, nowMs: nowMs, startCounter: 0,
                  rotateAfterMs: DatagramLimits.rotateAfterMs, rotateAfterPackets: DatagramLimits.rotateAfterPackets)
    }

    init(key: [UInt8], keyID: UInt32, nowMs: Int64, startCounter: UInt64, rotateAfterMs: Int64, rotateAfterPackets: UInt64) {
        precondition(key.count == ChaChaPoly.keyByteCount, "datagram key must be 32 bytes")
        self.key = key
        self.keyID = keyID
        self.nextCounter = startCounter
        self.keyCreatedMs = nowMs
        self.rotateAfterMs = rotateAfterMs
        self.rotateAfterPackets = rotateAfterPackets
    }

    /// The announcement of the current key, to send in a `Frame.datagram_key` (e.g. on every new
    /// Noise channel to the peer).
    public func announcement(udpPort: UInt16) -> Hark_V1_DatagramKey {
        var k = Hark_V1_DatagramKey()
        k.keyID = keyID
        k.key = Data(key)
        k.udpPort = UInt32(udpPort)
        return k
    }

    /// The announcement of the current key if it was not taken since the key was made (true for
    /// a new sender and after every rotation); nil otherwise.
    public mutating func takeAnnouncement(udpPort: UInt16) -> Hark_V1_DatagramKey? {
        guard announcementPending else { return nil }
        announcementPending = false
        return announcement(udpPort: udpPort)
    }

    /// Whether the current key has reached 10 min or 2^20 packets.
    public func rotationDue(nowMs: Int64) -> Bool {
        nextCounter >= rotateAfterPackets || elapsedMs(from: keyCreatedMs, to: nowMs) >= rotateAfterMs
    }

    /// Rotates if due. Returns whether it did.
    @discardableResult
    public mutating func rotateIfDue(nowMs: Int64) -> Bool {
        guard rotationDue(nowMs: nowMs) else { return false }
        rotate(nowMs: nowMs)
        return true
    }

    /// Replaces the key now (also on demand, e.g. when the channel to the peer is re-established):
    /// fresh random key, fresh random key_id different from the old one, counter 0.
    public mutating func rotate(nowMs: Int64) {
        var newID = UInt32(truncatingIfNeeded: SecureRandom.uint64())
        while newID == keyID { newID = UInt32(truncatingIfNeeded: SecureRandom.uint64()) }
        secureZero(&key)
        key = SecureRandom.bytes(ChaChaPoly.keyByteCount)
        keyID = newID
        nextCounter = 0
        keyCreatedMs = nowMs
        announcementPending = true
    }

    /// Seals one datagram under the current key (rotating first if due) and consumes one counter.
    /// - Returns: the packet, 45…1197 bytes.
    /// - Throws: `.tooLarge` if it would exceed 1200 bytes (checked first); `.malformed` if the
    ///   datagram breaks a field rule of §7.1 (the peer would drop it); `.counterExhausted` at
    ///   2^64 − 2^13 (unreachable while rotation is on). Nothing is consumed when it throws.
    public mutating func seal(_ datagram: Hark_V1_Datagram, nowMs: Int64) throws(DatagramError) -> [UInt8] {
        let plain: [UInt8]
        do { plain = try datagram.serializedBytes() } catch { throw .malformed("does not encode: \(error)") }
        let padded = Padding.pad(plain, blockSize: DatagramLimits.paddingBlockByteCount)
        guard padded.count <= DatagramLimits.maxPaddedPlaintextByteCount else { throw .tooLarge }
        try DatagramRules.validate(datagram)
        rotateIfDue(nowMs: nowMs)
        guard nextCounter < DatagramLimits.counterLimit else { throw .counterExhausted }
        let header = DatagramHeader(keyID: keyID, counter: nextCounter).bytes
        let sealed: [UInt8]
        do {
            sealed = try ChaChaPoly.seal(padded, key: key, nonce: ChaChaPoly.nonce(counter: nextCounter), associatedData: header)
        } catch {
            preconditionFailure("ChaCha20-Poly1305 refused a 32-byte key and 12-byte nonce: \(error)")
        }
        nextCounter += 1
        return header + sealed
    }
}
