import HarkNoise
import HarkWireProto
import NIOCore
import SwiftProtobuf

/// hark's transport records over a ``NoiseTransport``: frames of up to 1 MiB cut into Noise
/// messages.
///
/// Each Noise transport plaintext is `flag (1 byte) ‖ fragment`. Flag bit 0 = "more fragments
/// follow"; the other bits must be 0. Non-final fragments are exactly 65518 bytes
/// (``WireLimits/maxFragmentByteCount``), the final one 0…65518 bytes. The reassembled bytes,
/// at most 1 MiB, are one serialized `Hark_V1_Frame`.
///
/// A pure state machine (no I/O). After any error the record layer, like the channel, is broken:
/// close the connection. Value type; `Sendable`; use from one task at a time.
public struct RecordLayer: Sendable {
    private static let moreFlag: UInt8 = 0x01

    private var transport: NoiseTransport
    private var pending: [UInt8] = []

    public init(transport: NoiseTransport) {
        self.transport = transport
    }

    /// The Noise handshake hash of the channel (32 bytes), for channel binding.
    public var handshakeHash: [UInt8] { transport.handshakeHash }

    /// Encrypts `frame` into one or more Noise transport messages (each ≤ 65535 bytes), in order.
    /// The caller length-prefixes each one (``framedMessage(_:)``).
    /// - Throws: `.frameTooLarge` for a frame over 1 MiB serialized; `.frameEncodeFailed`;
    ///   `.noise(.nonceExhausted)`.
    public mutating func seal(_ frame: Hark_V1_Frame) throws(WireError) -> [[UInt8]] {
        let bytes: [UInt8]
        do { bytes = try frame.serializedBytes() } catch { throw .frameEncodeFailed("\(error)") }
        guard bytes.count <= WireLimits.maxFrameByteCount else {
            throw .frameTooLarge(byteCount: bytes.count, limit: WireLimits.maxFrameByteCount)
        }
        var messages: [[UInt8]] = []
        var start = 0
        repeat {
            let end = min(start + WireLimits.maxFragmentByteCount, bytes.count)
            let more = end < bytes.count
            let plaintext = [more ? Self.moreFlag : 0] + bytes[start..<end]
            do { messages.append(try transport.encrypt(plaintext)) } catch { throw .noise(error) }
            start = end
        } while start < bytes.count
        return messages
    }

    /// `seal`, written straight to `out` as the stream carries it: each Noise message with its
    /// 2-byte length prefix (``framedMessage(_:)``), encrypted in place in `out`. The frame's
    /// bytes are copied once (into `out`), instead of into a plaintext, a ciphertext and the
    /// framed message in turn.
    /// - Throws: as `seal`. After an error `out` holds garbage.
    public mutating func seal(_ frame: Hark_V1_Frame, into out: inout ByteBuffer) throws(WireError) {
        let bytes: [UInt8]
        do { bytes = try frame.serializedBytes() } catch { throw .frameEncodeFailed("\(error)") }
        guard bytes.count <= WireLimits.maxFrameByteCount else {
            throw .frameTooLarge(byteCount: bytes.count, limit: WireLimits.maxFrameByteCount)
        }
        let fragments = max(1, (bytes.count + WireLimits.maxFragmentByteCount - 1) / WireLimits.maxFragmentByteCount)
        out.reserveCapacity(minimumWritableBytes: bytes.count + fragments * (WireLimits.lengthPrefixByteCount + 1 + 16))
        var start = 0
        repeat {
            let end = min(start + WireLimits.maxFragmentByteCount, bytes.count)
            let more = end < bytes.count
            let messageCount = 1 + (end - start) + 16
            out.writeInteger(UInt16(messageCount), endianness: .big)
            let at = out.writerIndex
            out.writeInteger(more ? Self.moreFlag : 0)
            _ = bytes.withUnsafeBytes { out.writeBytes(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            out.writeRepeatingByte(0, count: 16)
            let from = at - out.readerIndex
            let result: Result<Void, NoiseError> = out.withUnsafeMutableReadableBytes { raw in
                let region = UnsafeMutableRawBufferPointer(rebasing: raw[from..<(from + messageCount)])
                do throws(NoiseError) { try transport.encrypt(inPlace: region) } catch { return .failure(error) }
                return .success(())
            }
            if case let .failure(error) = result { throw .noise(error) }
            start = end
        } while start < bytes.count
    }

    /// `open` of a message in a receive buffer, without copying it out first.
    public mutating func open(_ noiseMessage: ByteBuffer) throws(WireError) -> Hark_V1_Frame? {
        let result: Result<[UInt8], NoiseError> = noiseMessage.withUnsafeReadableBytes { raw in
            do throws(NoiseError) { return .success(try transport.decrypt(raw)) } catch { return .failure(error) }
        }
        switch result {
        case let .success(plaintext): return try take(plaintext)
        case let .failure(error): throw .noise(error)
        }
    }

    /// Decrypts one Noise transport message.
    /// - Returns: the frame once its last fragment arrived; nil while fragments accumulate.
    /// - Throws: `.noise(.decryptFailed)` and other Noise errors; `.emptyRecord`;
    ///   `.unknownFlagBits`; `.shortFragment`; `.frameTooLarge` when the reassembly would pass
    ///   1 MiB; `.frameDecodeFailed`.
    public mutating func open(_ noiseMessage: [UInt8]) throws(WireError) -> Hark_V1_Frame? {
        let plaintext: [UInt8]
        do { plaintext = try transport.decrypt(noiseMessage) } catch { throw .noise(error) }
        return try take(plaintext)
    }

    /// One decrypted record: checks its flag and fragment, reassembles.
    private mutating func take(_ plaintext: [UInt8]) throws(WireError) -> Hark_V1_Frame? {
        guard let flag = plaintext.first else { throw .emptyRecord }
        guard flag & ~Self.moreFlag == 0 else { throw .unknownFlagBits(flag) }
        let fragmentCount = plaintext.count - 1
        let more = flag & Self.moreFlag != 0
        if more, fragmentCount != WireLimits.maxFragmentByteCount {
            throw .shortFragment(byteCount: fragmentCount, expected: WireLimits.maxFragmentByteCount)
        }
        guard pending.count + fragmentCount <= WireLimits.maxFrameByteCount else {
            throw .frameTooLarge(byteCount: pending.count + fragmentCount, limit: WireLimits.maxFrameByteCount)
        }
        pending += plaintext.dropFirst()
        if more { return nil }
        defer { pending = [] }
        do { return try Hark_V1_Frame(serializedBytes: pending) }
        catch { throw .frameDecodeFailed("\(error)") }
    }
}
