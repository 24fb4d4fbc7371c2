import Foundation
import HarkEventProto
import HarkTesting
import HarkCrypto
import HarkLog
import HarkSync


/// The shared deterministic keys and group key (HarkTesting).
enum Keys {
    static let all = Fixture.keys
    static let groupKey = Fixture.groupKey
}

/// A group's events authored at several in-memory replicas (one author per replica), with real
/// signatures from `EventAuthor.make`.
struct Net {
    var replicas: [SyncReplica]
    let genesis: Event
    var group: EventID { genesis.id }
    /// Latest own event per replica (its author's self-parent).
    var latest: [Event?]
    /// Replica r writes as `Keys.all[authorOf(r)]`; sharing a key across replicas makes forks.
    let authorOf: @Sendable (Int) -> Int

    init(replicas count: Int, authorOf: @escaping @Sendable (Int) -> Int = { $0 }) throws {
        self.authorOf = authorOf
        var c = Hark_V1_Content()
        c.genesis.name = "sync"
        let key = Keys.all[0]
        let body = try BodyCipher.seal(c, groupKey: Keys.groupKey, groupID: nil, author: key.publicKey, seq: 1)
        let g = try EventAuthor.make(kind: .genesis, groupID: nil, author: key, seq: 1, selfParent: nil,
                                     parents: [], wallMs: 1, body: body)
        genesis = g
        var rs: [SyncReplica] = []
        for i in 0..<count {
            var r = SyncReplica(name: "r\(i)")
            try r.receive([g])
            rs.append(r)
        }
        replicas = rs
        latest = (0..<count).map { authorOf($0) == 0 ? g : nil }
    }

    /// Replica `r` authors one message whose other parents are up to `extra` of its events
    /// (heads preferred), chosen with `rng`.
    @discardableResult
    mutating func write(at r: Int, extra: Int = 2, using rng: inout SeededRNG) throws -> Event {
        let replica = replicas[r]
        let heads = replica.graph.heads
        let all = replica.graph.allInOrder
        var parents: [Event] = []
        for j in 0..<extra {
            let pool = j == 0 ? heads : all
            if let id = pool.randomElement(using: &rng), let e = replica.events[id] { parents.append(e) }
        }
        if latest[r] == nil, parents.isEmpty { parents = [genesis] }
        let e = try Self.message(by: Keys.all[authorOf(r) % Keys.all.count], group: group, selfParent: latest[r], parents: parents)
        try replicas[r].receive([e])
        latest[r] = e
        return e
    }

    static func message(by key: SigningKeyPair, group: EventID, selfParent: Event?, parents: [Event],
                        bodyBytes: Int = 0) throws -> Event {
        let seq = (selfParent?.seq ?? 0) + 1
        var c = Hark_V1_Content()
        c.text.text = bodyBytes > 0 ? String(repeating: "x", count: bodyBytes) : "m\(seq)"
        let body = try BodyCipher.seal(c, groupKey: Keys.groupKey, groupID: group, author: key.publicKey, seq: seq)
        return try EventAuthor.make(kind: .message, groupID: group, author: key, seq: seq,
                                    selfParent: selfParent, parents: parents, wallMs: Int64(seq), body: body)
    }

    /// Bloom salts come from `saltBase` and a counter, so a run is reproducible from its printed seed.
    var saltBase: UInt64 = 0
    var saltCounter: UInt64 = 0

    mutating func sync(_ i: Int, _ j: Int, useStoredHeads: Bool = true,
                       behaviourA: LoopbackBehaviour = .honest, behaviourB: LoopbackBehaviour = .honest) throws -> LoopbackStats {
        var a = replicas[i], b = replicas[j]
        saltCounter &+= 1
        let s = try Loopback.sync(&a, &b, group: group, useStoredHeads: useStoredHeads,
                                  behaviourA: behaviourA, behaviourB: behaviourB, saltSeed: saltBase &+ saltCounter)
        replicas[i] = a
        replicas[j] = b
        return s
    }
}

func ids(_ r: SyncReplica) -> Set<EventID> { Set(r.graph.allInOrder) }

func isComplete(_ s: ReconciliationSession.Step?) -> Bool {
    if case .complete? = s { return true }
    return false
}
