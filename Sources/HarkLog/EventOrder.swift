/// The deterministic total order of a group's events (PROTOCOL.md §4.5): by lamport ascending,
/// then ID bytes ascending. Every validated parent has a smaller lamport than its child, so the
/// order is a linear extension of causality; it uses no wall clock. As a value it is an event's
/// sort key. Value type; thread-safe.
///
/// `Event` is deliberately not `Comparable`: its `==` compares content (ID, signature, body),
/// which this order does not; sort with `EventOrder.precedes` or by `event.order`.
public struct EventOrder: Hashable, Comparable, Sendable {
    /// The event's Lamport clock (primary key).
    public let lamport: UInt64
    /// The event's ID (tie-break, bytewise).
    public let id: EventID

    public init(lamport: UInt64, id: EventID) {
        self.lamport = lamport
        self.id = id
    }

    /// The sort key of `event`.
    public init(_ event: Event) { self.init(lamport: event.lamport, id: event.id) }

    public static func < (a: EventOrder, b: EventOrder) -> Bool {
        a.lamport != b.lamport ? a.lamport < b.lamport : a.id < b.id
    }

    /// True if `a` comes strictly before `b` in the total order.
    public static func precedes(_ a: Event, _ b: Event) -> Bool { EventOrder(a) < EventOrder(b) }
}

extension Event {
    /// This event's position key in the total order.
    public var order: EventOrder { EventOrder(self) }
}

extension Sequence<Event> {
    /// These events in total order. Sorts (key, index) pairs rather than the events: moving an
    /// `Event` (a dozen references) while sorting costs more than the comparisons. Already
    /// ordered input is returned after one linear check. O(n log n), O(n) extra memory.
    public func inTotalOrder() -> [Event] {
        let events = Array(self)
        var ordered = true
        for i in events.indices.dropFirst() where EventOrder(events[i]) < EventOrder(events[i - 1]) {
            ordered = false
            break
        }
        if ordered { return events }
        return events.indices.map { (EventOrder(events[$0]), $0) }.sorted { $0.0 < $1.0 }.map { events[$0.1] }
    }
}
