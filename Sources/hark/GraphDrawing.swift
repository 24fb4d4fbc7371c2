import HarkControl

/// Draws a causal graph as text, newest event first, one event per line: `*` marks the event's
/// lane, `|` the other lanes still open (events whose descendants were drawn and whose own line
/// is further down). Merges show as the parents listed after `<-`.
enum GraphDrawing {
    static func lines(_ rows: [GraphRow]) -> [String] {
        var lanes: [String?] = []
        var out: [String] = []
        for row in rows.reversed() {
            var cols = lanes.indices.filter { lanes[$0] == row.id }
            if cols.isEmpty {
                if let free = lanes.firstIndex(where: { $0 == nil }) { lanes[free] = row.id; cols = [free] } else {
                    lanes.append(row.id); cols = [lanes.count - 1]
                }
            }
            let col = cols[0]
            var prefix = ""
            for i in lanes.indices {
                if i == col { prefix += "* " } else if cols.contains(i) { prefix += "' " } else { prefix += lanes[i] == nil ? "  " : "| " }
            }
            for c in cols.dropFirst() { lanes[c] = nil }
            lanes[col] = row.parents.first
            for p in row.parents.dropFirst() where !lanes.contains(p) {
                if let free = lanes.firstIndex(where: { $0 == nil }) { lanes[free] = p } else { lanes.append(p) }
            }
            if let first = row.parents.first, lanes.indices.filter({ lanes[$0] == first }).count > 1 {
                // the first parent is already in another lane: end this one
                lanes[col] = nil
            }
            while let last = lanes.last, last == nil { lanes.removeLast() }
            let parents = row.parents.map { String($0.prefix(8)) }.joined(separator: ",")
            out.append("\(prefix)\(row.id.prefix(8)) L\(row.lamport) \(terminalSafe(row.authorName)) \(row.kind)"
                       + (row.parents.count > 1 ? " <- \(parents)" : ""))
        }
        return out
    }
}
