import HarkLog

extension CausalGraph {
    /// Up to `limit` ancestors of `ids` (excluding `ids` themselves and anything in `stop`), nearest
    /// first: walks parent links back in descending Lamport order, never below an event in `stop`
    /// (those, and so all their ancestors, are known to the asker). Events in `skip` are walked
    /// through but not returned; they count against `limit` too, so the cost is
    /// O(limit · parents · log) whatever the inputs.
    func nearestAncestors(of ids: [EventID], limit: Int, stop: Set<EventID>, skip: Set<EventID> = []) -> [EventID] {
        guard limit > 0 else { return [] }
        var heap = LamportHeap()
        var seen: Set<EventID> = Set(ids)
        for id in ids { for p in parents(id) where seen.insert(p).inserted { if let l = lamport(p) { heap.push(l, p) } } }
        var out: [EventID] = []
        var taken = 0
        while taken < limit, let x = heap.pop() {
            if stop.contains(x) { continue }
            taken += 1
            if !skip.contains(x) { out.append(x) }
            for p in parents(x) where seen.insert(p).inserted { if let l = lamport(p) { heap.push(l, p) } }
        }
        return out
    }
}

/// A binary max-heap of (lamport, ID).
struct LamportHeap {
    private var items: [(UInt64, EventID)] = []

    private static func above(_ a: (UInt64, EventID), _ b: (UInt64, EventID)) -> Bool {
        a.0 != b.0 ? a.0 > b.0 : a.1 > b.1
    }

    mutating func push(_ lamport: UInt64, _ id: EventID) {
        items.append((lamport, id))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard Self.above(items[i], items[p]) else { break }
            items.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> EventID? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < items.count, Self.above(items[l], items[best]) { best = l }
            if r < items.count, Self.above(items[r], items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top.1
    }
}
