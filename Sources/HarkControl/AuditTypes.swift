#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One event in `log.graph`: enough to draw the causal graph.
public struct GraphRow: Codable, Sendable, Equatable {
    public var id: String
    public var lamport: UInt64
    public var author: String
    public var authorName: String
    public var kind: String
    /// Parent IDs (self-parent first).
    public var parents: [String]
    public init(id: String, lamport: UInt64, author: String, authorName: String, kind: String, parents: [String]) {
        self.id = id; self.lamport = lamport; self.author = author; self.authorName = authorName
        self.kind = kind; self.parents = parents
    }
}

/// One line of `hark export --jsonl`: a signed event exactly as stored. `signed` is the
/// serialized `SignedEvent` (docs/PROTOCOL.md §4.1), base64; the other keys are for people.
public struct ExportedEvent: Codable, Sendable, Equatable {
    public var id: String
    public var group: String
    public var lamport: UInt64
    public var kind: String
    public var signed: Data
    /// False when the body was purged (its message was deleted); the header still verifies.
    public var hasBody: Bool
    public init(id: String, group: String, lamport: UInt64, kind: String, signed: Data, hasBody: Bool) {
        self.id = id; self.group = group; self.lamport = lamport; self.kind = kind; self.signed = signed; self.hasBody = hasBody
    }
}

/// `import` parameters: signed events (serialized `SignedEvent`, base64 in JSON), any order.
public struct ImportParams: Codable, Sendable {
    public var events: [Data]
    public init(events: [Data]) { self.events = events }
}

/// `import` result.
public struct ImportResult: Codable, Sendable, Equatable {
    /// Events newly stored.
    public var imported: Int
    /// Events already held.
    public var alreadyHeld: Int
    /// Events refused, with why (at most 100 reasons are listed).
    public var rejected: Int
    public var reasons: [String]
    /// Events whose parents are missing (neither held nor in the import).
    public var missingParents: Int
    public init(imported: Int, alreadyHeld: Int, rejected: Int, reasons: [String], missingParents: Int) {
        self.imported = imported; self.alreadyHeld = alreadyHeld; self.rejected = rejected
        self.reasons = reasons; self.missingParents = missingParents
    }
}

/// `verify` parameters: one group, or all when nil.
public struct VerifyParams: Codable, Sendable {
    public var group: String?
    public init(group: String?) { self.group = group }
}

/// `verify` result, per group.
public struct VerifyReport: Codable, Sendable, Equatable {
    public var group: String
    public var name: String
    /// Events re-checked (signature, ID hash, structure, parents, Lamport, kind rules).
    public var events: Int
    /// Problems found; empty means the stored history verifies.
    public var problems: [String]
    /// Equivocations: an author with two events of one sequence number.
    public var forks: [ForkView]
    public init(group: String, name: String, events: Int, problems: [String], forks: [ForkView]) {
        self.group = group; self.name = name; self.events = events; self.problems = problems; self.forks = forks
    }
}

public struct ForkView: Codable, Sendable, Equatable {
    public var author: String
    public var authorName: String
    public var seq: UInt64
    public var events: [String]
    public init(author: String, authorName: String, seq: UInt64, events: [String]) {
        self.author = author; self.authorName = authorName; self.seq = seq; self.events = events
    }
}
