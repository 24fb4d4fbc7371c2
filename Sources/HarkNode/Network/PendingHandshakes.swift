import NIOCore
import Synchronization

/// The node's unauthenticated inbound connections: ``HandshakeAdmission`` under a lock, with
/// the channel of each ticket so an evicted one can be closed. Thread-safe (`Mutex`); called
/// from the event loops accepting connections and from the connection tasks.
final class PendingHandshakes: Sendable {
    private struct State {
        var admission: HandshakeAdmission
        var channels: [UInt64: any Channel] = [:]
    }
    private let state: Mutex<State>

    init(limits: HandshakeAdmission.Limits) {
        state = Mutex(State(admission: HandshakeAdmission(limits: limits)))
    }

    /// Admits `channel` from `source` (see ``Node/admissionSource(_:)``), evicting and closing the
    /// oldest pending channel when all slots are taken.
    /// - Returns: the ticket, or nil when the source already has its limit of pending connections
    ///   (the caller closes the channel without reading from it).
    func admit(_ channel: any Channel, source: String, nowMs: Int64) -> HandshakeAdmission.Ticket? {
        let (ticket, evicted): (HandshakeAdmission.Ticket?, (any Channel)?) = state.withLock { s in
            switch s.admission.admit(source: source, nowMs: nowMs) {
            case .refuse: return (nil, nil)
            case let .admit(ticket, evicting):
                s.channels[ticket.id] = channel
                let old = evicting.flatMap { s.channels.removeValue(forKey: $0.id) }
                return (ticket, old)
            }
        }
        evicted?.close(promise: nil)
        return ticket
    }

    /// The channel of `ticket` finished its handshake or closed. Idempotent.
    func release(_ ticket: HandshakeAdmission.Ticket) {
        state.withLock { s in
            s.admission.release(ticket)
            s.channels.removeValue(forKey: ticket.id)
        }
    }

    /// Pending connections now.
    var count: Int { state.withLock { $0.admission.pendingCount } }
}
