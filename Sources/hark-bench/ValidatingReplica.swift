import HarkCrypto
import HarkEventProto
import HarkLog

/// One in-memory replica of a group with roles, for the membership benchmarks: receives
/// serialized events, decodes, validates them (membership rules, `history` as the genesis says)
/// and inserts them; MEMBER contents are recorded as they arrive, as the node does when storing
/// one. Not thread-safe.
final class ValidatingReplica {
    var graph = CausalGraph()
    var byID: [EventID: Event] = [:]
    let key: [UInt8]
    let index: MembershipIndex

    /// - Parameter key: the 32 B group key.
    init(key: [UInt8], history: Hark_V1_HistoryVisibility) {
        self.key = key
        self.index = MembershipIndex(rules: 2, conversation: .group, history: history) { _ in nil }
    }

    /// - Throws: what decoding, `EventValidator.validate` or the insert throws.
    @discardableResult
    func receive(_ bytes: [UInt8]) throws -> Event {
        let e = try Event(decodingBytes: bytes)
        var parents: [EventID: Event] = [:]
        for p in e.allParents { parents[p] = byID[p] }
        try EventValidator.validate(e, parents: parents, context: KeyedGroupContext(graph: graph, groupKey: key, membershipIndex: index))
        try graph.insert(e)
        byID[e.id] = e
        if e.kind == .member, case let .member(m)? = try BodyCipher.open(e, groupKey: key).content { index.record(e.id, member: m) }
        return e
    }
}
