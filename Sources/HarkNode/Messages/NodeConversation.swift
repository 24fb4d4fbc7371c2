import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import HarkStore

/// Replies, mentions and search as the node offers them over the control protocol
/// (docs/CONTROL.md `send`, `search`; PROTOCOL.md §4.7.7, §4.7.8).
extension Node {
    /// The message a reply names: a unique prefix (≥ 8 hex digits) of a visible message of `g`,
    /// or a full ID (64 hex digits) of a message not held here yet (it shows once it arrives).
    /// - Throws: `ControlErrorBody` `.invalidArgument` (not hex, too short, or an event that is
    ///   not a message of `g`), `.notFound`, `.ambiguous`.
    func resolveReplyTarget(_ ref: String, in g: Store.GroupRecord) throws -> EventID {
        let lower = ref.lowercased()
        if lower.count == 64, lower.allSatisfy(\.isHexDigit), let id = try? EventID(hex: lower) {
            guard let e = try store.event(id) else { return id }
            guard e.kind == .message, e.effectiveGroupID == g.id else {
                throw ControlErrorBody(code: .invalidArgument, message: "event \(ref.prefix(12)) is not a message of \(g.name)")
            }
            return id
        }
        return try resolveMessage(ref, in: g).id
    }

    /// The names a member may be mentioned by here: its display name as last seen, the name in
    /// its first GENESIS/JOIN of the group, and the local alias this node gave it.
    func mentionNames(of key: SigningPublicKey, joinNames: [SigningPublicKey: String]) -> [String] {
        var names = [displayName(of: key)]
        if let n = joinNames[key] { names.append(n) }
        if let a = alias(of: key) { names.append(a) }
        return names.filter { !$0.isEmpty && $0 != "unknown" }
    }

    /// The current members of group `group` that `text` mentions: each member with a name
    /// (`mentionNames`) that appears after an `@`, compared case-insensitively, and followed by
    /// the end of the text or a character that is not a letter, digit, `_` or `-`. This node's
    /// own identity is included like any member. At most `EventLimits.maxMentions` keys.
    func mentionedKeys(in text: String, group: EventID) -> [SigningPublicKey] {
        guard text.contains("@") else { return [] }
        let joinNames = (try? store.authorNames(group: group)) ?? [:]
        var candidates: [(SigningPublicKey, String)] = []
        for key in historyMembers(group) {
            for n in mentionNames(of: key, joinNames: joinNames) { candidates.append((key, n)) }
        }
        var out: [SigningPublicKey] = []
        for (key, name) in candidates.sorted(by: { $0.1.count > $1.1.count }) where !out.contains(key) {
            if Self.text(text, mentions: name) { out.append(key) }
            if out.count >= EventLimits.maxMentions { break }
        }
        return out
    }

    /// Whether `text` holds `@name` (case-insensitive) followed by a boundary. Pure.
    static func text(_ text: String, mentions name: String) -> Bool {
        let needle = "@" + name
        var range = text.startIndex..<text.endIndex
        while let hit = text.range(of: needle, options: [.caseInsensitive], range: range) {
            if hit.upperBound == text.endIndex { return true }
            let next = text[hit.upperBound]
            if !(next.isLetter || next.isNumber || next == "_" || next == "-") { return true }
            range = hit.upperBound..<text.endIndex
        }
        return false
    }

    /// `search`: the newest readable messages matching the query, in total order.
    /// - Throws: `ControlErrorBody` (`.invalidArgument` for an empty query or a bad limit,
    ///   `.notFound` for an unknown group or anchor), `StoreError`.
    func search(_ p: SearchParams) throws -> [MessageView] {
        guard Store.searchExpression(p.query) != nil else {
            throw ControlErrorBody(code: .invalidArgument, message: "the search query has no words (or more than 32)")
        }
        let limit = p.limit ?? 20
        guard limit >= 0 else { throw ControlErrorBody(code: .invalidArgument, message: "limit must be 0 or more") }
        let group = try p.group.map { ref throws(ControlErrorBody) in try resolveGroup(ref) }
        var before: EventID?
        if let ref = p.before {
            let lower = ref.lowercased()
            if lower.count == 64, let id = try? EventID(hex: lower) {
                before = id
            } else {
                let groups = try group.map { [$0] } ?? store.allGroups()
                var found: [EventID] = []
                for g in groups { found += try store.messages(group: g.id, idPrefix: lower, includeDeleted: true, limit: 2).map(\.id) }
                guard lower.count >= 8, lower.allSatisfy(\.isHexDigit), found.count == 1 else {
                    throw ControlErrorBody(code: found.count > 1 ? .ambiguous : (lower.count >= 8 ? .notFound : .invalidArgument),
                                           message: found.count > 1 ? "message ID prefix \(ref) is ambiguous"
                                               : "no message \(ref) (give at least 8 hex digits of an ID from `hark search` or `hark log`)")
                }
                before = found[0]
            }
        }
        var infos: [SigningPublicKey: HistoryReader.AuthorInfo] = [identity.signing.publicKey: authorInfo(identity.signing.publicKey)]
        for g in try group.map({ [$0] }) ?? store.allGroups() {
            for (key, name) in (try? store.authorNames(group: g.id)) ?? [:] where trustBook.authorNames[key] == nil { trustBook.authorNames[key] = name }
            for key in (try? store.authors(group: g.id)) ?? [] where infos[key] == nil { infos[key] = authorInfo(key) }
        }
        let known = infos
        let reader = HistoryReader(store: store, me: identity.signing.publicKey) { known[$0] ?? HistoryReader.AuthorInfo(name: "unknown") }
        var members: [EventID: Set<SigningPublicKey>] = [:]
        return try reader.search(p.query, group: group?.id, limit: limit, before: before) { g in
            if let m = members[g] { return m }
            let m = historyMembers(g)
            members[g] = m
            return m
        }
    }
}

/// File offers among the messages of a `log` page (`LogParams.files`).
extension Node {
    /// `page` with the group's file offers that fall within it merged in total order: between
    /// the page's first and last message, and beyond either end when the page reaches that end
    /// of the history (or of its anchor). Offers do not count toward `limit`. O(log n + offers).
    /// - Throws: `StoreError`.
    func withFileOffers(_ page: [MessageView], group g: Store.GroupRecord, anchor: HistoryReader.Anchor, limit: Int?) throws -> [MessageView] {
        func order(_ m: MessageView) -> EventOrder? { (try? EventID(hex: m.id)).map { EventOrder(lamport: m.lamport, id: $0) } }
        let full = limit.map { page.count >= $0 } ?? false
        var after: EventOrder?, before: EventOrder?
        switch anchor {
        case .latest: after = full ? page.first.flatMap(order) : nil
        case let .before(o): before = o; after = full ? page.first.flatMap(order) : nil
        case let .after(o): after = o; before = full ? page.last.flatMap(order) : nil
        }
        if full, limit == 0 { return page }
        let offers = try store.fileOfferEvents(group: g.id, after: after, before: before)
        guard !offers.isEmpty else { return page }
        var lines = page
        for e in offers {
            guard let o = Self.openOffer(e, group: g) else { continue }
            let f = offerView(o)
            let author = PeerID(e.author)
            var v = MessageView(id: e.id.hex, group: g.id.hex, author: author.description, authorName: displayName(of: e.author),
                                authorFingerprint: author.shortFingerprint, seq: e.seq, lamport: e.lamport, wallMs: e.wallMs,
                                kind: "file_offer", text: f.text ?? "")
            applyTrust(&v, author: e.author)
            v.file = f
            lines.append(v)
        }
        return lines.sorted { a, b in (a.lamport, a.id) < (b.lamport, b.id) }
    }
}
