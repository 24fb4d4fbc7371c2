@testable import HarkNode
import Testing

@Suite("Admission of unauthenticated connections: per-source and total caps, deadlines")
struct HandshakeAdmissionTests {
    func ticket(_ d: HandshakeAdmission.Decision) -> HandshakeAdmission.Ticket? {
        if case let .admit(t, _) = d { return t }
        return nil
    }

    @Test("one source gets maxPendingPerSource slots; the next is refused, others still admitted")
    func perSource() {
        var a = HandshakeAdmission(limits: .init(maxPending: 10, maxPendingPerSource: 3, handshakeTimeoutMs: 1000))
        let first = (0..<3).compactMap { _ in ticket(a.admit(source: "10.0.0.9", nowMs: 0)) }
        #expect(first.count == 3)
        #expect(a.admit(source: "10.0.0.9", nowMs: 1) == .refuse(source: "10.0.0.9", limit: 3))
        #expect(ticket(a.admit(source: "10.0.0.2", nowMs: 1)) != nil)
        a.release(first[0])
        a.release(first[0])   // twice is harmless
        #expect(a.pendingCount(source: "10.0.0.9") == 2)
        #expect(ticket(a.admit(source: "10.0.0.9", nowMs: 2)) != nil)
        #expect(a.pendingCount == 4)
    }

    @Test("when all slots are taken the oldest pending connection is evicted, not the newcomer")
    func evictsOldest() {
        var a = HandshakeAdmission(limits: .init(maxPending: 4, maxPendingPerSource: 4, handshakeTimeoutMs: 1000))
        let flood = (0..<4).compactMap { i in ticket(a.admit(source: "s\(i)", nowMs: Int64(i))) }
        let d = a.admit(source: "real", nowMs: 10)
        guard case let .admit(t, evicting) = d else { Issue.record("refused: \(d)"); return }
        #expect(evicting == flood[0])
        #expect(t.deadlineMs == 1010)
        #expect(a.pendingCount == 4)
        #expect(a.pendingCount(source: "s0") == 0)
        // A flood that keeps coming evicts its own older members before the newcomer.
        for i in 0..<3 { _ = a.admit(source: "f\(i)", nowMs: 11) }
        #expect(a.pendingCount(source: "real") == 1)
    }

    @Test("a ticket past its deadline no longer counts")
    func deadlines() {
        var a = HandshakeAdmission(limits: .init(maxPending: 2, maxPendingPerSource: 1, handshakeTimeoutMs: 500))
        #expect(ticket(a.admit(source: "x", nowMs: 0)) != nil)
        #expect(a.admit(source: "x", nowMs: 499) == .refuse(source: "x", limit: 1))
        let late = a.admit(source: "x", nowMs: 500)
        guard case let .admit(t, evicting) = late else { Issue.record("refused: \(late)"); return }
        #expect(evicting == nil)
        #expect(t.deadlineMs == 1000)
        #expect(a.pendingCount == 1)
    }

    @Test("limits are clamped to sane values")
    func clamped() {
        let l = HandshakeAdmission.Limits(maxPending: 0, maxPendingPerSource: 99, handshakeTimeoutMs: -5)
        #expect(l.maxPending == 1 && l.maxPendingPerSource == 1 && l.handshakeTimeoutMs == 1)
    }
}
