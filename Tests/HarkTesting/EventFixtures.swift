import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog

/// Deterministic keys, event builders and small hand-built graphs shared by the test targets
/// (HarkLog, HarkSync, HarkStore, HarkNode). Events are built only through `EventAuthor.make`
/// and `BodyCipher.seal`, so their signatures and bodies are real.
public enum Fixture {
    public static let alice = try! SigningKeyPair(seed: [UInt8](repeating: 1, count: 32))
    public static let bob = try! SigningKeyPair(seed: [UInt8](repeating: 2, count: 32))
    public static let carol = try! SigningKeyPair(seed: [UInt8](repeating: 3, count: 32))
    public static let authors = [alice, bob, carol]
    /// Six deterministic keys (seeds 1 … 6): the first three are alice, bob and carol.
    public static let keys = (1...6).map { try! SigningKeyPair(seed: [UInt8](repeating: UInt8($0), count: 32)) }
    public static let groupKey = [UInt8](repeating: 7, count: 32)

    public static func text(_ s: String) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.text.text = s
        return c
    }

    /// A MESSAGE content with `reply_to` and `mentions` as given (raw bytes: may be malformed).
    public static func text(_ s: String, replyTo: Data, mentions: [Data]) -> Hark_V1_Content {
        var c = text(s)
        c.text.replyTo = replyTo
        c.text.mentions = mentions
        return c
    }

    public static func genesis(by key: SigningKeyPair = alice, name: String = "lab") throws -> Event {
        var c = Hark_V1_Content()
        c.genesis.name = name
        let body = try BodyCipher.seal(c, groupKey: groupKey, groupID: nil, author: key.publicKey, seq: 1)
        return try EventAuthor.make(kind: .genesis, groupID: nil, author: key, seq: 1, selfParent: nil,
                                    parents: [], wallMs: 1_000, body: body)
    }

    /// A message by `key` following `selfParent` (or its first, seq 1) with other `parents`.
    public static func message(_ text: String, by key: SigningKeyPair, group: EventID, selfParent: Event?,
                        parents: [Event], wallMs: Int64 = 2_000) throws -> Event {
        let seq = (selfParent?.seq ?? 0) + 1
        let body = try BodyCipher.seal(Fixture.text(text), groupKey: groupKey, groupID: group,
                                       author: key.publicKey, seq: seq)
        return try EventAuthor.make(kind: .message, groupID: group, author: key, seq: seq,
                                    selfParent: selfParent, parents: parents, wallMs: wallMs, body: body)
    }

    /// genesis (alice 1) ← bob 1 ← alice 2 (self-parent genesis, parent bob 1).
    public struct Small {
        public let genesis: Event, bob1: Event, alice2: Event
        public var all: [EventID: Event] { [genesis.id: genesis, bob1.id: bob1, alice2.id: alice2] }
    }

    public static func small() throws -> Small {
        let g = try genesis()
        let b1 = try message("hi", by: bob, group: g.id, selfParent: nil, parents: [g])
        let a2 = try message("hello", by: alice, group: g.id, selfParent: g, parents: [b1])
        return Small(genesis: g, bob1: b1, alice2: a2)
    }

    /// Signs `header` (after `modify`) with `key` and decodes it: the signature is valid, so
    /// any error comes from the structural rules.
    public static func resigned(_ event: Event, key: SigningKeyPair, body: [UInt8]?? = .none,
                         _ modify: (inout Hark_V1_EventHeader) -> Void) throws(EventError) -> Event {
        var header = event.header
        modify(&header)
        let bytes: [UInt8] = try! header.serializedBytes()
        let b: [UInt8]? = body ?? event.body
        return try Event(decoding: EventAuthor.sign(headerBytes: bytes, body: b, key: key))
    }

    public static func edit(_ target: Event, _ text: String) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.edit.target = Data(target.id.bytes)
        c.edit.text = text
        return c
    }

    public static func delete(_ target: Event) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.delete.target = Data(target.id.bytes)
        return c
    }

    public static func reaction(_ target: Event, _ emoji: String, removes: [Event] = []) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.reaction.target = Data(target.id.bytes)
        c.reaction.emoji = emoji
        c.reaction.removes = removes.map { Data($0.id.bytes) }
        return c
    }

    public static func join(_ name: String) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.join.displayName = name
        return c
    }

    /// An event of any kind with `content` sealed under `key` (default: the fixture group key).
    public static func event(_ kind: Hark_V1_EventKind, _ content: Hark_V1_Content, by author: SigningKeyPair, group: EventID,
                      selfParent: Event?, parents: [Event], wallMs: Int64 = 2_000,
                      groupKey key: [UInt8] = groupKey) throws -> Event {
        let seq = (selfParent?.seq ?? 0) + 1
        let body = try BodyCipher.seal(content, groupKey: key, groupID: group, author: author.publicKey, seq: seq)
        return try EventAuthor.make(kind: kind, groupID: group, author: author, seq: seq,
                                    selfParent: selfParent, parents: parents, wallMs: wallMs, body: body)
    }

    public static func randomID() -> Data { Data(SecureRandom.bytes(32)) }
}

/// A random but reproducible-from-choices DAG in one group, built only through
/// `EventAuthor.make`. Each choice adds one event: its author is `choice % 3`, and it names
/// up to 3 other existing events (picked from the choice) besides its self-parent.
public struct RandomGraph {
    public var events: [Event] = []          // creation order (parents before children)
    public var byID: [EventID: Event] = [:]
    public var latest: [Int: Event] = [:]    // author index → latest event
    public let genesis: Event
    public var authorOf: [EventID: Int] = [:]

    public init(choices: [Int]) throws {
        genesis = try Fixture.genesis()
        add(genesis, author: 0)
        for (step, c) in choices.enumerated() {
            let a = c % 3
            var parents: [Event] = []
            let k = (c / 3) % 4
            for j in 0..<k {
                let index = (c &* 7919 &+ j &* 104_729 &+ step) % events.count
                parents.append(events[index])
            }
            if latest[a] == nil && parents.isEmpty { parents = [genesis] }
            let e = try Fixture.message("m\(step)", by: Fixture.authors[a], group: genesis.id,
                                        selfParent: latest[a], parents: parents, wallMs: Int64(step))
            add(e, author: a)
        }
    }

    private mutating func add(_ e: Event, author: Int) {
        events.append(e)
        byID[e.id] = e
        latest[author] = e
        authorOf[e.id] = author
    }

    /// All transitive ancestors of `id`.
    public func ancestors(of id: EventID) -> Set<EventID> {
        var seen: Set<EventID> = []
        var stack = byID[id]!.allParents
        while let p = stack.popLast() {
            if seen.insert(p).inserted { stack += byID[p]!.allParents }
        }
        return seen
    }
}
