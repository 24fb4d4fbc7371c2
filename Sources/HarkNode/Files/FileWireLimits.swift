// The fixed sizes, counts and timeouts of file transfer on the wire. Constants only; thread-safe.

/// Wire limits of file transfer (PROTOCOL.md §9.5).
enum FileWireLimits {
    /// Largest slice of a chunk in one ChunkData frame.
    static let chunkSliceBytes = 256 * 1024
    /// Largest manifest slice asked for / sent in one ManifestData frame.
    static let manifestSliceBytes = 512 * 1024
    /// Chunk requests a server queues per channel; more are refused as BUSY.
    static let maxQueuedRequestsPerSession = 32
    /// A server adds the next chunk to a channel's bulk queue only below this many queued bytes.
    static let bulkQueueBytes = 4 << 20
    /// Names in a FileOffer, and bytes per name.
    static let maxOfferNames = 16
    static let maxOfferNameBytes = 255
    /// Manifest download: how long one peer may take.
    static let manifestTimeoutMs: Int64 = 10_000
}
