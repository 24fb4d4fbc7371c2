/// The fixed numbers of hark's UDP datagrams (PROTOCOL.md §7). Sizes in bytes, times in
/// milliseconds.
public enum DatagramLimits {
    /// The packet type byte of a v1 datagram: `0x01`. Any other value is refused.
    public static let packetType: UInt8 = 0x01
    /// Header: type (1) ‖ key_id (4, LE) ‖ counter (8, LE) = 13 bytes; also the AEAD associated data.
    public static let headerByteCount = 13
    /// ChaCha20-Poly1305 tag: 16 bytes.
    public static let tagByteCount = 16
    /// The plaintext is padded (ISO/IEC 7816-4, `sodium_pad`) to a multiple of 16 bytes.
    public static let paddingBlockByteCount = 16
    /// Largest whole datagram (header ‖ ciphertext ‖ tag): 1200 bytes, so it is never fragmented
    /// (the QUIC floor, RFC 9000 §14). Because of the padding, the largest datagram actually
    /// produced is 13 + 1168 + 16 = 1197 bytes.
    public static let maxDatagramByteCount = 1200
    /// Smallest valid datagram: header ‖ one padding block ‖ tag = 13 + 16 + 16 = 45 bytes.
    public static let minDatagramByteCount = headerByteCount + paddingBlockByteCount + tagByteCount
    /// Largest padded plaintext that fits: the largest multiple of 16 ≤ 1200 − 13 − 16, i.e. 1168 bytes.
    public static let maxPaddedPlaintextByteCount =
        (maxDatagramByteCount - headerByteCount - tagByteCount) / paddingBlockByteCount * paddingBlockByteCount
    /// Largest `Presence.status_text`: 64 bytes of UTF-8.
    public static let maxStatusTextByteCount = 64
    /// Size of a group ID and of an event ID: 32 bytes.
    public static let idByteCount = 32
    /// A send key is replaced after this long: 10 min = 600 000 ms.
    public static let rotateAfterMs: Int64 = 600_000
    /// … or after this many packets under one key: 2^20 = 1 048 576.
    public static let rotateAfterPackets: UInt64 = 1 << 20
    /// Counters at or above 2^64 − 2^13 are never sent and never accepted (WireGuard's
    /// `RejectAfterMessages` bound); unreachable in practice because keys rotate after 2^20 packets.
    public static let counterLimit: UInt64 = UInt64.max - (1 << 13) + 1
    /// After a rotation the receiver still accepts the previous key for 30 s = 30 000 ms.
    public static let previousKeyGraceMs: Int64 = 30_000
    /// The replay window: counters up to 8128 below the highest accepted one are still accepted
    /// once (RFC 6479 ring of 128 × 64-bit blocks, as wireguard-go's `replay.go`).
    public static let replayWindowSize: UInt64 = ReplayWindow.windowSize
}

/// `to − from` in milliseconds, saturating instead of trapping on extreme inputs.
@inline(__always)
func elapsedMs(from: Int64, to: Int64) -> Int64 {
    let (d, overflow) = to.subtractingReportingOverflow(from)
    return overflow ? (to > from ? .max : .min) : d
}
