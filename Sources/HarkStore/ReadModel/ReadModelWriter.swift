import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog

/// Keeps the read model (`ReadModelSchema`, docs/HISTORY.md) equal to the fold of
/// `GroupState` over the stored events and plaintexts. Runs inside the caller's write
/// transaction: one writer per transaction (or per catch-up chunk); not thread-safe.
///
/// Per event it costs a few indexed lookups: the parents' vectors, a fork check, and for an
/// EDIT, DELETE or REACTION a recomputation of its target message from that message's rows
/// (`recompute`), never a walk over history (except the ancestor walk for edits by an author
/// with two events at one seq).
final class ReadModelWriter {
    let db: Database
    private var groups: [EventID: GroupInfo] = [:]
    /// Vectors of recently indexed events (a catch-up reads parents from here, not SQLite).
    private var vectorCache: [EventID: (VersionVector, Int64)] = [:]
    static let vectorCacheLimit = 50_000
    /// Whether `rm_op` holds any row (nil: not read yet in this transaction). While it holds
    /// none, a new MESSAGE needs no look-up for ops that arrived before it.
    private var opsStored: Bool?
    /// The highest rowid of `rm_search_doc` as far as this writer knows (nil: not read yet): a
    /// message whose lamport's slots all lie above it takes the first slot without a look-up.
    var searchTop: Int64?
    /// Groups in which this writer flagged an equivocating author or purged a body: what
    /// `StoreHistory` loads of them changed (`Store.historyGeneration`).
    private(set) var historyChanged: Set<EventID> = []

    /// The store's cache of reported heads (nil: each writer reads `peer_holds` itself).
    let reportedHeads: ReportedHeadsCache?

    init(db: Database, reportedHeads: ReportedHeadsCache? = nil) {
        self.db = db
        self.reportedHeads = reportedHeads
    }

    /// Takes over `other`'s caches (its rows are flushed, so they are current).
    func adoptCache(from other: ReadModelWriter) {
        vectorCache = other.vectorCache
        groups = other.groups
    }

    /// One author of one group, as in `rm_author`.
    struct AuthorRow {
        var key: SigningPublicKey
        var ix: Int
        var maxLamport: Int64 = 0
        var maxSeq: Int64 = 0
        var messages: Int64 = 0
        var member: EventOrder?
        var vvAll = VersionVector()
        var vvRead = VersionVector()
        var equivocated = false
        /// The display name in its first GENESIS or JOIN (total order).
        var name: String?
    }

    final class GroupInfo {
        let id: EventID
        var key: [UInt8]?
        var rules: Int64 = -1
        var events: Int64 = 0
        var messages: Int64 = 0
        var authors: [SigningPublicKey: AuthorRow] = [:]
        var dirty: Set<SigningPublicKey> = []
        var nextIx = 0
        /// head event ID → peers that reported it (`peer_holds`), loaded on first use.
        var reported: [EventID: [SigningPublicKey]]?
        init(id: EventID) { self.id = id }
    }

    // MARK: groups and authors

    func group(_ id: EventID) throws -> GroupInfo {
        if let g = groups[id] { return g }
        let g = GroupInfo(id: id)
        g.key = try Data.fetchOne(db.cachedStatement(sql: "SELECT group_key FROM grp WHERE id = ?"), arguments: [id.data]).map { [UInt8]($0) }
        if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT rules, events, messages FROM rm_group WHERE group_id = ?"),
                                      arguments: [id.data]) {
            g.rules = row["rules"]
            g.events = row["events"]
            g.messages = row["messages"]
        }
        g.nextIx = (try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(ix) FROM rm_author WHERE group_id = ?"), arguments: [id.data]) ?? -1) + 1
        groups[id] = g
        return g
    }

    /// Genesis rules (0 open, 2 roles), read from the genesis once its key and event are here.
    private func rules(_ g: GroupInfo) throws -> Int64 {
        if g.rules >= 0 { return g.rules }
        guard let key = g.key,
              let row = try Row.fetchOne(db, sql: "SELECT id, signed FROM event WHERE id = ?", arguments: [g.id.data]) else { return -1 }
        let genesis = try row.event()
        if let c = try? BodyCipher.open(genesis, groupKey: key), case let .genesis(gen)? = c.content {
            g.rules = Int64(gen.rules)
        } else {
            g.rules = 0
        }
        return g.rules
    }

    func author(_ key: SigningPublicKey, in g: GroupInfo) throws -> AuthorRow {
        if let a = g.authors[key] { return a }
        var a: AuthorRow
        if let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT ix, max_lamport, max_seq, messages, member_lamport, member_id, vv_all, vv_read, equivocated, name
            FROM rm_author WHERE group_id = ? AND author = ?
            """), arguments: [g.id.data, Data(key.bytes)]) {
            a = AuthorRow(key: key, ix: row["ix"])
            a.maxLamport = row["max_lamport"]
            a.maxSeq = row["max_seq"]
            a.messages = row["messages"]
            if let l: Int64 = row["member_lamport"], let raw: Data = row["member_id"], let id = try? EventID(bytes: [UInt8](raw)) {
                a.member = EventOrder(lamport: UInt64(l), id: id)
            }
            a.vvAll = VersionVector(decoding: [UInt8](row["vv_all"] as Data))
            a.vvRead = VersionVector(decoding: [UInt8](row["vv_read"] as Data))
            a.equivocated = (row["equivocated"] as Int64) != 0
            a.name = row["name"]
        } else {
            a = AuthorRow(key: key, ix: g.nextIx)
            g.nextIx += 1
            g.dirty.insert(key)
        }
        g.authors[key] = a
        return a
    }

    private func update(_ a: AuthorRow, in g: GroupInfo) {
        g.authors[a.key] = a
        g.dirty.insert(a.key)
    }

    /// Writes the changed group and author rows. Call once before the transaction commits.
    func flush() throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO rm_author (group_id, author, ix, max_lamport, max_seq, messages, member_lamport, member_id,
                                   vv_all, vv_read, equivocated, name)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (group_id, author) DO UPDATE SET max_lamport = excluded.max_lamport, max_seq = excluded.max_seq,
                messages = excluded.messages, member_lamport = excluded.member_lamport, member_id = excluded.member_id,
                vv_all = excluded.vv_all, vv_read = excluded.vv_read, equivocated = excluded.equivocated, name = excluded.name
            """)
        for g in groups.values {
            try db.cachedStatement(sql: """
                INSERT INTO rm_group (group_id, rules, events, messages) VALUES (?, ?, ?, ?)
                ON CONFLICT (group_id) DO UPDATE SET rules = excluded.rules, events = excluded.events, messages = excluded.messages
                """).execute(arguments: [g.id.data, g.rules, g.events, g.messages])
            for key in g.dirty {
                guard let a = g.authors[key] else { continue }
                try upsert.execute(arguments: [g.id.data, Data(key.bytes), a.ix, a.maxLamport, a.maxSeq, a.messages,
                                               a.member.map { Int64($0.lamport) }, a.member?.id.data,
                                               Data(a.vvAll.encoded), Data(a.vvRead.encoded), a.equivocated ? 1 : 0, a.name])
            }
            g.dirty = []
        }
    }

    // MARK: events

    /// The vector and wall clock of an indexed event. - Throws: `StoreError.corrupt` if it is not indexed.
    private func indexed(_ id: EventID) throws -> (VersionVector, Int64) {
        if let hit = vectorCache[id] { return hit }
        let stmt = try db.cachedStatement(sql: "SELECT vv, wall_max FROM event WHERE id = ?")
        guard let row = try Row.fetchOne(stmt, arguments: [id.data]), let vv: Data = row["vv"],
              let wallMax: Int64 = row["wall_max"] else {
            throw StoreError.corrupt("event \(id) is not in the read model before its child")
        }
        return (VersionVector(decoding: [UInt8](vv)), wallMax)
    }

    /// The clock-skew rule of PROTOCOL.md §4.7.4 (as `GroupState` folds it): an event is
    /// implausible when its `wall_ms` is below `ancestorWall` (`A(e)`) or more than
    /// `GroupState.futureToleranceMs` after `receivedMs`; `wallMax` is `M(e)`, the greatest
    /// plausible `wall_ms` of the event and its ancestors, stored as `event.wall_max`.
    /// All values in ms since the Unix epoch. Pure.
    static func plausibility(wallMs: Int64, ancestorWall: Int64?, receivedMs: Int64) -> (implausible: Bool, wallMax: Int64) {
        let implausible = (ancestorWall.map { wallMs < $0 } ?? false) || wallMs > receivedMs &+ GroupState.futureToleranceMs
        let floor = ancestorWall ?? Int64.min
        return (implausible, implausible ? floor : max(wallMs, floor))
    }

    /// The version vector `event` gets: the pointwise max of its parents' (all indexed), with
    /// its own author's entry set to its seq. Also returns `A(e)` of PROTOCOL.md §4.7.4: the
    /// greatest plausible `wall_ms` among the event's ancestors (ms; nil for a genesis).
    func vector(for event: Event) throws -> (VersionVector, Int64?) {
        let g = try group(event.effectiveGroupID)
        var vv = VersionVector()
        var parentWall: Int64?
        for p in event.allParents {
            let (pv, wall) = try indexed(p)
            vv.formMax(pv)
            parentWall = max(parentWall ?? wall, wall)
        }
        let a = try author(event.author, in: g)
        vv[a.ix] = max(vv[a.ix], event.seq)
        return (vv, parentWall)
    }

    /// Indexes a stored event whose `event.vv` is `vv` (from `vector(for:)`).
    /// - Parameters:
    ///   - plaintext: its kept plaintext (`plaintext` table), if any.
    ///   - receivedMs: when it was stored here, ms since the Unix epoch.
    func index(_ event: Event, vv: VersionVector, parentWall: Int64?, receivedMs: Int64, plaintext: [UInt8]?) throws {
        let g = try group(event.effectiveGroupID)
        let time = Self.plausibility(wallMs: event.wallMs, ancestorWall: parentWall, receivedMs: receivedMs)
        if vectorCache.count >= Self.vectorCacheLimit { vectorCache.removeAll(keepingCapacity: true) }
        vectorCache[event.id] = (vv, time.wallMax)
        var a = try author(event.author, in: g)
        let lamport = Int64(event.lamport), seq = Int64(event.seq)
        // A second event at one seq (equivocation) is possible only at or below the author's
        // highest indexed seq: whichever of the two is indexed second looks the first up.
        let seqSeenBefore = seq <= a.maxSeq
        a.maxLamport = max(a.maxLamport, lamport)
        a.maxSeq = max(a.maxSeq, seq)
        a.vvAll.formMax(vv)
        if event.kind == .read { a.vvRead.formMax(vv) }
        if event.kind == .genesis || event.kind == .join, a.member.map({ event.order < $0 }) ?? true {
            a.member = event.order
            switch try content(event, g: g, plaintext: nil)?.content {
            case let .join(j)?: a.name = j.displayName
            case let .genesis(gen)?: a.name = gen.creatorDisplayName
            default: break
            }
        }
        if !a.equivocated, seqSeenBefore, try Int.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM event WHERE group_id = ? AND author = ? AND seq = ? AND id <> ? LIMIT 1
            """), arguments: [g.id.data, Data(event.author.bytes), seq, event.id.data]) != nil {
            a.equivocated = true
            historyChanged.insert(g.id)
        }
        g.events += 1
        update(a, in: g)

        if g.reported == nil { try loadReported(g) }
        if let peers = g.reported?[event.id] {
            for peer in peers { try raiseHolds(peer: peer, group: g.id, to: vv) }
        }

        switch event.kind {
        case .equivocationProof:
            if let accusation = try? EquivocationProof.accusation(in: event) {
                var accused = try author(accusation.author, in: g)
                accused.equivocated = true
                update(accused, in: g)
                historyChanged.insert(g.id)
            }
        case .message:
            let content = try self.content(event, g: g, plaintext: plaintext)
            var text: String?
            var fields = TextFieldsRow()
            if case let .text(t)? = content?.content { text = t.text; fields = TextFieldsRow(t) }
            var author = try self.author(event.author, in: g)
            author.messages += 1
            update(author, in: g)
            g.messages += 1
            let implausible = time.implausible
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO rm_message (id, group_id, author, author_ix, seq, lamport, wall_ms, received_ms, ordinal,
                    text, original_text, last_edit, deleted, readable, implausible, reactions, reply_to, mentions)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, ?, ?, x'', ?, ?)
                """).execute(arguments: [event.id.data, g.id.data, Data(event.author.bytes), author.ix, seq, lamport, event.wallMs,
                                 receivedMs, author.messages, text, text, content != nil ? 1 : 0, implausible ? 1 : 0,
                                 fields.replyTo, fields.mentionsBlob])
            // A new message has no mention rows and no search entry yet.
            if !fields.mentions.isEmpty { try setMentions(event.id, group: g.id, authorIx: author.ix, seq: seq, fields.mentions) }
            try syncSearch(event.id, group: g.id, lamport: lamport, text: text, isNew: true)
            // Ops (EDIT, DELETE, REACTION) can only have arrived first if any op is stored.
            guard try anyOpsStored() else { break }
            // The row as inserted is already right unless an op on it arrived first (non-causal targets).
            if try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM rm_op WHERE target = ? LIMIT 1"), arguments: [event.id.data]) != nil {
                try recompute(event.id)
            }
            // REACTIONs aimed at this message may remove tags on other messages.
            for raw in try Data.fetchAll(db.cachedStatement(sql: """
                SELECT DISTINCT o.target FROM rm_remove r JOIN rm_op o ON o.id = r.tag WHERE r.remover_target = ?
                """), arguments: [event.id.data]) {
                if let t = try? EventID(bytes: [UInt8](raw)) { try recompute(t) }
            }
        case .edit, .delete, .reaction:
            if let content = try self.content(event, g: g, plaintext: plaintext) { try apply(event, content: content) }
        default:
            break
        }
    }

    /// The content the fold sees (`GroupState.Input.content`): the kept plaintext for MESSAGE and
    /// EDIT in groups with roles (sender keys), else the body opened with the group key.
    private func content(_ event: Event, g: GroupInfo, plaintext: [UInt8]?) throws -> Hark_V1_Content? {
        if event.kind == .message || event.kind == .edit, try rules(g) >= 2 {
            let bytes = try plaintext ?? Data.fetchOne(db.cachedStatement(sql: "SELECT content FROM plaintext WHERE event_id = ?"),
                                                       arguments: [event.id.data]).map { [UInt8]($0) }
            return bytes.flatMap { try? Hark_V1_Content(serializedBytes: $0) }
        }
        guard event.body != nil, let key = g.key else { return nil }
        return try? BodyCipher.open(event, groupKey: key)
    }

    /// A plaintext was kept for an indexed event (sender keys): the fold now sees its content.
    func plaintextSaved(_ event: Event, content bytes: [UInt8]) throws {
        let g = try group(event.effectiveGroupID)
        guard event.kind == .message || event.kind == .edit, try rules(g) >= 2,
              let content = try? Hark_V1_Content(serializedBytes: bytes) else { return }
        switch event.kind {
        case .message:
            var text: String?
            var fields = TextFieldsRow()
            if case let .text(t)? = content.content { text = t.text; fields = TextFieldsRow(t) }
            try db.execute(sql: """
                UPDATE rm_message SET original_text = ?, readable = 1, reply_to = ?, mentions = ? WHERE id = ? AND deleted = 0
                """, arguments: [text, fields.replyTo, fields.mentionsBlob, event.id.data])
            if let row = try Row.fetchOne(db, sql: "SELECT author_ix, seq, deleted FROM rm_message WHERE id = ?", arguments: [event.id.data]) {
                if (row["deleted"] as Int64) == 0 {
                    try setMentions(event.id, group: g.id, authorIx: row["author_ix"], seq: row["seq"], fields.mentions)
                } else {
                    // Deleted before its body could be opened here: the plaintext is purged as the body was.
                    try db.execute(sql: "DELETE FROM plaintext WHERE event_id = ?", arguments: [event.id.data])
                }
            }
            try recompute(event.id)
        default:
            try apply(event, content: content)
        }
    }

    /// Whether `rm_op` holds a row: read once per writer (one B-tree descent), then kept by `apply`.
    private func anyOpsStored() throws -> Bool {
        if let known = opsStored { return known }
        let stored = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM rm_op)")) ?? true
        opsStored = stored
        return stored
    }

    /// Records an EDIT, DELETE or REACTION whose content is known, and recomputes what it touches.
    private func apply(_ event: Event, content: Hark_V1_Content) throws {
        let g = try group(event.effectiveGroupID)
        opsStored = true   // set before the insert: a failed statement leaves the answer conservative
        let insertOp = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO rm_op (id, group_id, target, kind, author, lamport, ancestor, text, emoji)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let lamport = Int64(event.lamport)
        switch content.content {
        case let .edit(edit)? where event.kind == .edit:
            guard let target = try? EventID(bytes: [UInt8](edit.target)) else { return }
            let ancestor = try isAncestor(target, of: event)
            try insertOp.execute(arguments: [event.id.data, g.id.data, target.data, event.kind.rawValue, Data(event.author.bytes),
                                             lamport, ancestor ? 1 : 0, edit.text, nil])
            try recompute(target)
        case let .delete(delete)? where event.kind == .delete:
            guard let target = try? EventID(bytes: [UInt8](delete.target)) else { return }
            try insertOp.execute(arguments: [event.id.data, g.id.data, target.data, event.kind.rawValue, Data(event.author.bytes),
                                             lamport, 0, nil, nil])
            try recompute(target)
        case let .reaction(r)? where event.kind == .reaction:
            guard let target = try? EventID(bytes: [UInt8](r.target)) else { return }
            if !r.emoji.isEmpty, r.emoji.utf8.count <= EventLimits.maxEmojiBytes {
                try insertOp.execute(arguments: [event.id.data, g.id.data, target.data, event.kind.rawValue, Data(event.author.bytes),
                                                 lamport, 0, nil, r.emoji])
                try recompute(target)
            }
            for raw in r.removes {
                guard let tag = try? EventID(bytes: [UInt8](raw)) else { continue }
                try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO rm_remove (tag, remover, remover_author, remover_lamport, remover_target)
                    VALUES (?, ?, ?, ?, ?)
                    """).execute(arguments: [tag.data, event.id.data, Data(event.author.bytes), lamport, target.data])
                if let t = try Data.fetchOne(db.cachedStatement(sql: "SELECT target FROM rm_op WHERE id = ?"), arguments: [tag.data]),
                   let id = try? EventID(bytes: [UInt8](t)) {
                    try recompute(id)
                }
            }
        default:
            break
        }
    }

    /// Whether `target` is a strict ancestor of `event` (`GroupState.isAncestor`). When `target`
    /// has `event`'s author, is the only stored event with its (author, seq), and has a lower seq,
    /// it is on `event`'s self-parent chain (validation makes that chain complete); otherwise the
    /// parent links are walked, only through events with a lamport above the target's.
    private func isAncestor(_ target: EventID, of event: Event) throws -> Bool {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT group_id, author, seq, lamport FROM event WHERE id = ?"),
                                         arguments: [target.data]) else { return false }
        let author: Data = row["author"], seq: Int64 = row["seq"], floor: Int64 = row["lamport"]
        if author == Data(event.author.bytes), seq < Int64(event.seq) {
            let same = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM event WHERE group_id = ? AND author = ? AND seq = ?"),
                                        arguments: [row["group_id"] as Data, author, seq]) ?? 0
            if same == 1 { return true }
        }
        var seen: Set<EventID> = []
        var stack = event.allParents
        let parents = try db.cachedStatement(sql: """
            SELECT p.parent_id, e.lamport FROM event_parent p JOIN event e ON e.id = p.parent_id WHERE p.event_id = ?
            """)
        let lamportOf = try db.cachedStatement(sql: "SELECT lamport FROM event WHERE id = ?")
        while let x = stack.popLast() {
            if x == target { return true }
            guard seen.insert(x).inserted, let l = try Int64.fetchOne(lamportOf, arguments: [x.data]), l > floor else { continue }
            for p in try Row.fetchAll(parents, arguments: [x.data]) {
                if let id = try? EventID(bytes: [UInt8](p["parent_id"] as Data)) { stack.append(id) }
            }
        }
        return false
    }

    /// Recomputes one message's derived fields from its rows, as `GroupState` folds them: the
    /// latest valid edit by total order, deleted, and the live reactions (OR-set). A deleted
    /// message's body, its edits' bodies and their plaintexts are purged here.
    func recompute(_ id: EventID) throws {
        guard let m = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT author, lamport, original_text, deleted, group_id FROM rm_message WHERE id = ?
            """), arguments: [id.data]) else { return }
        let author: Data = m["author"], lamport: Int64 = m["lamport"], groupID: Data = m["group_id"]
        let deleted = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM rm_op WHERE target = ? AND kind = ? AND author = ? AND (lamport > ? OR (lamport = ? AND id > ?)) LIMIT 1
            """), arguments: [id.data, Hark_V1_EventKind.delete.rawValue, author, lamport, lamport, id.data]) != nil
        if deleted {
            let edits = try Data.fetchAll(db, sql: """
                SELECT id FROM rm_op WHERE target = ? AND kind = ? AND author = ? AND ancestor = 1 AND text IS NOT NULL
                """, arguments: [id.data, Hark_V1_EventKind.edit.rawValue, author])
            if (m["deleted"] as Int64) == 0 { try purge(id) }
            for raw in edits {
                try db.execute(sql: "UPDATE rm_op SET text = NULL WHERE id = ?", arguments: [raw])
                if let e = try? EventID(bytes: [UInt8](raw)) { try purge(e) }
            }
            try db.execute(sql: """
                UPDATE rm_message SET deleted = 1, text = NULL, original_text = NULL, last_edit = NULL, reactions = x'',
                    reply_to = NULL, mentions = NULL WHERE id = ?
                """, arguments: [id.data])
            try db.execute(sql: "DELETE FROM rm_mention WHERE message = ?", arguments: [id.data])
            try removeFromSearch(id)
            return
        }
        let edit = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT id, text FROM rm_op WHERE target = ? AND kind = ? AND author = ? AND ancestor = 1 AND text IS NOT NULL
            ORDER BY lamport DESC, id DESC LIMIT 1
            """), arguments: [id.data, Hark_V1_EventKind.edit.rawValue, author])
        var live: Set<GroupState.Reaction> = []
        let reactions = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT o.author, o.emoji FROM rm_op o
            WHERE o.target = ?1 AND o.kind = ?2 AND (o.lamport > ?3 OR (o.lamport = ?3 AND o.id > ?4))
              AND NOT EXISTS (
                SELECT 1 FROM rm_remove r JOIN rm_message t ON t.id = r.remover_target
                WHERE r.tag = o.id AND r.remover_author = o.author
                  AND (r.remover_lamport > o.lamport OR (r.remover_lamport = o.lamport AND r.remover > o.id))
                  AND (t.lamport < r.remover_lamport OR (t.lamport = r.remover_lamport AND t.id < r.remover)))
            """), arguments: [id.data, Hark_V1_EventKind.reaction.rawValue, lamport, id.data])
        for r in reactions {
            guard let key = try? SigningPublicKey(bytes: [UInt8](r["author"] as Data)), let emoji: String = r["emoji"] else { continue }
            live.insert(GroupState.Reaction(reactor: key, emoji: emoji))
        }
        let original: String? = m["original_text"]
        let editID: Data? = edit?["id"]
        let text: String? = edit.map { $0["text"] as String? } ?? original
        try db.cachedStatement(sql: "UPDATE rm_message SET text = ?, last_edit = ?, reactions = ? WHERE id = ?")
            .execute(arguments: [text, editID, ReactionCoding.encode(live.sorted()), id.data])
        if let g = try? EventID(bytes: [UInt8](groupID)) { try syncSearch(id, group: g, lamport: lamport, text: text) }
    }

    /// An event's content is no longer held (its body was purged or its plaintext dropped by the
    /// caller): the fold no longer sees it, so neither does the read model.
    func contentGone(_ id: EventID) throws {
        if try Int.fetchOne(db, sql: "SELECT 1 FROM rm_message WHERE id = ?", arguments: [id.data]) != nil {
            try db.execute(sql: """
                UPDATE rm_message SET original_text = NULL, readable = 0, reply_to = NULL, mentions = NULL WHERE id = ?
                """, arguments: [id.data])
            try db.execute(sql: "DELETE FROM rm_mention WHERE message = ?", arguments: [id.data])
            try recompute(id)
            return
        }
        var touched: [Data] = try Data.fetchAll(db, sql: "SELECT target FROM rm_op WHERE id = ?", arguments: [id.data])
        touched += try Data.fetchAll(db, sql: """
            SELECT o.target FROM rm_remove r JOIN rm_op o ON o.id = r.tag WHERE r.remover = ?
            """, arguments: [id.data])
        try db.execute(sql: "DELETE FROM rm_op WHERE id = ?", arguments: [id.data])
        try db.execute(sql: "DELETE FROM rm_remove WHERE remover = ?", arguments: [id.data])
        for raw in touched { if let t = try? EventID(bytes: [UInt8](raw)) { try recompute(t) } }
    }

    /// Drops an event's body and kept plaintext (`Store.purgeBody`), inside this transaction.
    private func purge(_ id: EventID) throws {
        try db.execute(sql: "DELETE FROM plaintext WHERE event_id = ?", arguments: [id.data])
        guard let row = try Row.fetchOne(db, sql: "SELECT id, signed FROM event WHERE id = ?", arguments: [id.data]) else { return }
        let e = try row.event()
        guard e.body != nil else { return }
        var signed = e.signedEvent
        signed.body = Data()
        try db.execute(sql: "UPDATE event SET signed = ? WHERE id = ?", arguments: [try signed.serializedData(), id.data])
        historyChanged.insert(e.effectiveGroupID)
    }

    // MARK: reported heads

    private func loadReported(_ g: GroupInfo) throws {
        if let cached = reportedHeads?.reported(group: g.id) {
            g.reported = cached
            return
        }
        var map: [EventID: [SigningPublicKey]] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT peer_key, heads FROM peer_holds WHERE group_id = ?"),
                                    arguments: [g.id.data]) {
            guard let peer = try? row.signingKey("peer_key", "peer_holds"), let heads = try? row.eventIDs("heads", "peer_holds") else { continue }
            for h in heads { map[h, default: []].append(peer) }
        }
        g.reported = map
        reportedHeads?.put(map, group: g.id)
    }

    /// A peer's heads in `group` were replaced (`peer_holds.heads`): what this writer and the
    /// store's cache know of them is read again on next use.
    func reportedHeadsChanged(group: EventID) {
        groups[group]?.reported = nil
        reportedHeads?.drop(group: group)
    }

    /// An event `peer` reported holding in `group` was just indexed with vector `vv`: its
    /// `peer_holds.vv` becomes the max of what it was and `vv`. One row read, at most one write.
    func raiseHolds(peer: SigningPublicKey, group: EventID, to vv: VersionVector) throws {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT vv FROM peer_holds WHERE peer_key = ? AND group_id = ?"),
                                         arguments: [Data(peer.bytes), group.data]) else { return }
        let old = (row["vv"] as Data?).map { VersionVector(decoding: [UInt8]($0)) }
        var held = old ?? VersionVector()
        held.formMax(vv)
        guard held != old else { return }
        try db.cachedStatement(sql: "UPDATE peer_holds SET vv = ? WHERE peer_key = ? AND group_id = ?")
            .execute(arguments: [Data(held.encoded), Data(peer.bytes), group.data])
    }

    /// Replaces what `peer` reported holding in `group` (`heads`, sorted, at most
    /// `Store.maxReportedHeads`) and sets its `peer_holds.vv` to the max of the vectors of those
    /// heads held here (one not indexed yet adds nothing now; `index` raises the vector when it
    /// is, through `reported`). The vectors read are kept in this writer: peers' heads overlap,
    /// so a batch of reports reads each once.
    func replaceHolds(peer: SigningPublicKey, group: EventID, heads: [EventID], atMs: Int64) throws {
        var vv = VersionVector()
        let vectorOf = try db.cachedStatement(sql: "SELECT vv, wall_max FROM event WHERE id = ?")
        for h in heads {
            if let hit = vectorCache[h] { vv.formMax(hit.0); continue }
            if let r = try Row.fetchOne(vectorOf, arguments: [h.data]), let raw: Data = r["vv"], let wallMax: Int64 = r["wall_max"] {
                let v = VersionVector(decoding: [UInt8](raw))
                vv.formMax(v)
                if vectorCache.count >= Self.vectorCacheLimit { vectorCache.removeAll(keepingCapacity: true) }
                vectorCache[h] = (v, wallMax)
            }
        }
        try db.cachedStatement(sql: """
            INSERT INTO peer_holds (peer_key, group_id, heads, updated_ms, vv) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (peer_key, group_id) DO UPDATE SET heads = excluded.heads, updated_ms = excluded.updated_ms, vv = excluded.vv
            """).execute(arguments: [Data(peer.bytes), group.data, EventID.blob(heads), atMs, Data(vv.encoded)])
    }
}

/// The stored form of a message's live reactions (`rm_message.reactions`): per reaction, the
/// emoji's UTF-8 length (1 byte, ≤ 32), its bytes, then the reactor's 32-byte key; sorted.
enum ReactionCoding {
    static func encode(_ reactions: [GroupState.Reaction]) -> Data {
        var out: [UInt8] = []
        for r in reactions {
            let e = Array(r.emoji.utf8)
            out.append(UInt8(min(e.count, 255)))
            out.append(contentsOf: e.prefix(255))
            out.append(contentsOf: r.reactor.bytes)
        }
        return Data(out)
    }

    static func decode(_ data: [UInt8]) -> [GroupState.Reaction] {
        var out: [GroupState.Reaction] = []
        var i = 0
        while i < data.count {
            let n = Int(data[i])
            guard i + 1 + n + 32 <= data.count, let emoji = String(validating: data[(i + 1)..<(i + 1 + n)], as: UTF8.self),
                  let key = try? SigningPublicKey(bytes: Array(data[(i + 1 + n)..<(i + 1 + n + 32)])) else { break }
            out.append(GroupState.Reaction(reactor: key, emoji: emoji))
            i += 1 + n + 32
        }
        return out
    }
}
