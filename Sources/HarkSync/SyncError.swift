/// A peer broke the reconciliation protocol (the node drops the channel or the session).
public enum SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A frame names another group than this session's.
    case wrongGroup
    /// An ID field is not 32 bytes.
    case badID(field: String, byteCount: Int)
    /// A list is longer than its limit.
    case tooMany(field: String, count: Int, limit: Int)
    /// The peer's Bloom filter does not validate.
    case badBloomFilter(String)
    /// A SyncRequest without a Bloom filter.
    case missingBloomFilter
    /// A SyncReply that answers nothing we sent.
    case unexpectedReply

    public var description: String {
        switch self {
        case .wrongGroup: "frame for another group"
        case let .badID(field, n): "\(field) ID of \(n) bytes"
        case let .tooMany(field, n, limit): "\(n) \(field) (limit \(limit))"
        case let .badBloomFilter(why): "bad Bloom filter: \(why)"
        case .missingBloomFilter: "SyncRequest without a Bloom filter"
        case .unexpectedReply: "SyncReply that answers no request"
        }
    }
}

/// Bounds on the work one peer can cause per frame and per session (docs/PROTOCOL.md §6.3.6).
public enum ReconciliationLimits {
    /// Heads in a SyncRequest or SyncReply; `since` IDs in a SyncRequest. Longer lists are a
    /// protocol error; our own lists are truncated to this (which only makes the peer send more).
    public static let maxHeads = 1024
    /// IDs in one Needs frame.
    public static let maxNeedsIDs = 1024
    /// IDs asked for in one round (in Needs frames of ≤ `maxNeedsIDs`); peer-head gaps first.
    public static let maxNeedsIDsPerRound = 4096
    /// Largest `max_ancestors` honoured (larger values are clamped, not refused).
    public static let maxAncestorsPerID = 1024
    /// Events returned for one Needs frame, needed IDs plus ancestors.
    public static let maxEventsPerNeedsAnswer = 8192
    /// `max_ancestors` in our first Needs; doubled each further round up to `maxAncestorsPerID`.
    public static let initialMaxAncestors: UInt32 = 32
    /// Needs rounds after which a session gives up (`Step.failed`).
    public static let maxNeedsRounds = 32
}
