import HarkCrypto
import HarkEventProto
import HarkLog

/// One in-memory replica of a group with roles, for the membership benchmarks: receives
/// serialized events and delivers them through an `EventIntake`, as the node does: decoded,
/// judged by every rule (membership rules, `history` as the genesis says) and inserted; MEMBER
/// contents are recorded as they are accepted. Not thread-safe.
final class ValidatingReplica {
    private(set) var graph = CausalGraph()
    private(set) var byID: [EventID: Event] = [:]
    let key: [UInt8]
    let index: MembershipIndex
    private var intake: EventIntake?

    /// - Parameter key: the 32 B group key.
    init(key: [UInt8], history: Hark_V1_HistoryVisibility) {
        self.key = key
        self.index = MembershipIndex(rules: 2, conversation: .group, history: history)
    }

    /// The group's membership after every event received.
    /// - Throws: `BenchFailure` if a MEMBER event's content was not recorded (cannot happen:
    ///   each is recorded as it is accepted).
    func membership() throws -> Membership {
        guard case let .membership(m) = index.current(in: graph) else { throw BenchFailure("a MEMBER event's content was not recorded") }
        return m
    }

    /// - Throws: what decoding throws, the intake's refusal, or the `EventError` of the rule the
    ///   event breaks; `BenchFailure` if it waits for a parent.
    @discardableResult
    func receive(_ bytes: [UInt8]) throws -> Event {
        let e = try Event(decodingBytes: bytes)
        var intake = self.intake ?? EventIntake(group: e.effectiveGroupID)
        defer { self.intake = intake }
        try intake.admit(try intake.screen([e]))
        var history = GraphIntakeHistory(graph: graph, groupKey: key, membershipIndex: index)
        graph = CausalGraph()   // one reference: the pass inserts in place
        let pass = intake.deliver(into: &history)
        graph = history.graph
        if let refused = pass.rejections.first { throw refused.error }
        guard pass.accepted.contains(where: { $0.id == e.id }) else { throw BenchFailure("event \(e.id) waits for a parent") }
        for a in pass.accepted { byID[a.id] = a }
        return e
    }
}
