import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Logging

extension Node {
    // MARK: lookups

    /// Finds a group by exact name, full hex ID, or unique hex ID prefix (≥ 8 digits).
    func resolveGroup(_ ref: String) throws(ControlErrorBody) -> Store.GroupRecord {
        if ref.hasPrefix("@"), ref.count > 1 { return try resolveDirect(ref) }
        let all: [Store.GroupRecord]
        do { all = try store.allGroups() } catch { throw ControlErrorBody(code: .storage, message: "\(error)") }
        let byName = all.filter { $0.name == ref }
        if byName.count == 1 { return byName[0] }
        if byName.count > 1 {
            throw ControlErrorBody(code: .ambiguous, message: "\(byName.count) groups are named \"\(ref)\"; use the ID: "
                                   + byName.map { String($0.id.hex.prefix(12)) }.joined(separator: ", "))
        }
        let lower = ref.lowercased()
        if lower.count >= 8, lower.allSatisfy(\.isHexDigit) {
            let byID = all.filter { $0.id.hex.hasPrefix(lower) }
            if byID.count == 1 { return byID[0] }
            if byID.count > 1 { throw ControlErrorBody(code: .ambiguous, message: "ID prefix \(ref) matches \(byID.count) groups") }
        }
        throw ControlErrorBody(code: .notFound, message: "no group named \"\(ref)\" (see `hark group list`)")
    }

    func groupView(_ g: Store.GroupRecord) -> GroupView {
        // From the read model: counters and first GENESIS/JOIN per author, no history loaded.
        let joined = (try? store.joinedAuthors(group: g.id)) ?? []
        var members = joined.map { PeerID($0).description }
        let counts = (try? store.historyCounts(group: g.id)) ?? Store.HistoryCounts(events: 0, messages: 0)
        var view = GroupView(id: g.id.hex, name: g.name, events: counts.events, members: members, createdMs: g.createdMs)
        view.unread = try? store.unreadCount(group: g.id, reader: identity.signing.publicKey)
        view.mentions = try? store.unreadMentionCount(group: g.id, member: identity.signing.publicKey)
        let index = membershipIndex(for: g.id)
        if index.hasRoles, let m = currentMembership(of: g.id) {
            if !m.isMember(identity.signing.publicKey) { view.state = "removed" }
            // Current members, in the order they first appeared, then any added but not yet seen.
            members = members.filter { id in m.roles.keys.contains { PeerID($0).description == id } }
            for key in m.roles.keys where !members.contains(PeerID(key).description) { members.append(PeerID(key).description) }
            view.members = members
            view.roles = Dictionary(uniqueKeysWithValues: m.roles.map { (PeerID($0.key).description, $0.value.name) })
            switch index.conversation {
            case .channel: view.kind = "channel"
            case .direct:
                view.kind = "direct"
                // Shown as @PEER on both sides (the stored name is only a unique label).
                if let other = m.roles.keys.first(where: { $0 != identity.signing.publicKey }) {
                    view.name = "@" + displayName(of: other)
                }
            default: view.kind = "group"
            }
            view.history = index.history == .shared ? "shared" : "joined"
        }
        return view
    }

    /// The display name to show for an author: from JOIN/genesis content, channels, or the peer table.
    func displayName(of author: SigningPublicKey) -> String {
        if author == identity.signing.publicKey { return identity.displayName }
        if let info = peerTable.info[PeerID(author)] { return info.displayName }
        if let name = trustBook.authorNames[author] { return name }
        return "unknown"
    }

    func messageView(_ e: Event, group: Store.GroupRecord) -> MessageView? {
        guard let content = readableContent(e, record: group) else { return nil }
        let kind: String
        let text: String
        switch content.content {
        case let .text(t)?: kind = "message"; text = t.text
        case let .join(j)?:
            kind = "join"; text = ""
            if trustBook.authorNames[e.author] == nil { trustBook.authorNames[e.author] = j.displayName }
        default: return nil
        }
        let author = PeerID(e.author)
        var v = MessageView(id: e.id.hex, group: group.id.hex, author: author.description, authorName: displayName(of: e.author),
                            authorFingerprint: author.shortFingerprint, seq: e.seq, lamport: e.lamport, wallMs: e.wallMs,
                            kind: kind, text: text)
        applyTrust(&v, author: e.author)
        if case let .text(t)? = content.content {
            let mentions = TextFields.mentions(t)
            v.mentions = mentions.map { PeerID($0).description }
            v.mentionsMe = mentions.contains(identity.signing.publicKey)
            // Only a reply needs the read model (its quote); plain messages stay O(1) here.
            if let replyTo = TextFields.replyTo(t) {
                historyReader(group: group.id).addConversationFields(&v, replyTo: replyTo, mentions: mentions, group: group.id)
            }
        }
        return v
    }

    // MARK: authoring

    /// Writes a new event by this node in `group`, after its latest event and all current heads.
    /// `content` nil: an event without a body (a READ marker).
    func author(kind: Hark_V1_EventKind, content: Hark_V1_Content?, group: Store.GroupRecord) throws -> Event {
        let latest = try store.latest(author: identity.signing.publicKey, group: group.id)
        let seq = (latest?.seq ?? 0) + 1
        let headIDs = try store.heads(group: group.id).filter { $0 != latest?.id }
        let parents = try store.events(headIDs)
        let sealedWithSenderKey = usesSenderKeys(kind, group: group.id)
        // Stored with the event in one transaction: the advanced chain and the plaintext.
        var writes = Store.DeliveryWrites()
        let body = try content.map { c -> [UInt8] in
            if sealedWithSenderKey {
                let (body, chain) = try senderKeyBody(c, group: group.id, seq: seq)
                writes.outChain = (group.id, chain)
                return body
            }
            return try BodyCipher.seal(c, groupKey: group.key, groupID: group.id, author: identity.signing.publicKey, seq: seq)
        }
        let event = try EventAuthor.make(kind: kind, groupID: group.id, author: identity.signing, seq: seq,
                                         selfParent: latest, parents: parents, wallMs: clock.wallMs(), body: body)
        var parentMap: [EventID: Event] = [:]
        for p in parents { parentMap[p.id] = p }
        if let latest { parentMap[latest.id] = latest }
        do {
            // Its parents are every head: validated from the store when the graph is not loaded.
            do { try validateOwn(event, parents: parentMap, group: group.id, key: group.key) } catch let error as EventError {
                switch error {
                case .notAMember: throw ControlErrorBody(code: .invalidArgument, message: "this node is not a member of \(group.name) (removed, or not added yet)")
                case let .notAuthorized(why): throw ControlErrorBody(code: .invalidArgument, message: "not allowed in \(group.name): \(why)")
                default: throw error
                }
            }
        }
        if sealedWithSenderKey, let content, let bytes: [UInt8] = try? content.serializedBytes() {
            writes.plaintexts[event.id] = bytes
        }
        try persist(event, with: writes)
        eventDelivered(event, group: group.id, except: nil)
        try afterDelivery(group: group.id, record: group, delivered: [event])
        return event
    }

    // MARK: control operations

    /// `history`: "shared" or "joined" (PROTOCOL.md §5.8); nil: shared, except joined for direct conversations.
    public func createGroup(name: String, kind: String? = nil, history: String? = nil) throws(ControlErrorBody) -> GroupView {
        try typedErrors("group.create") {
            try Self.validateGroupName(name)
            let conversation: Hark_V1_ConversationKind
            switch kind ?? "group" {
            case "group": conversation = .group
            case "channel": conversation = .channel
            case "direct": conversation = .direct
            default: throw ControlErrorBody(code: .invalidArgument, message: "group kind must be group or channel, not \(kind ?? "")")
            }
            let visibility: Hark_V1_HistoryVisibility
            switch history ?? (conversation == .direct ? "joined" : "shared") {
            case "shared": visibility = .shared
            case "joined": visibility = .joined
            default: throw ControlErrorBody(code: .invalidArgument, message: "history must be shared or joined, not \(history ?? "")")
            }
            if let existing = try store.groups(named: name).first {
                throw ControlErrorBody(code: .alreadyExists,
                                       message: "a group named \"\(name)\" exists already (\(existing.id.hex.prefix(12))); pick another name")
            }
            let key = SecureRandom.bytes(XChaChaPoly.keyByteCount)
            var genesisContent = Hark_V1_Content()
            var g = Hark_V1_Genesis()
            g.name = name
            g.creatorDisplayName = identity.displayName
            g.rules = 2
            g.conversation = conversation
            g.history = visibility
            genesisContent.genesis = g
            let body = try BodyCipher.seal(genesisContent, groupKey: key, groupID: nil, author: identity.signing.publicKey, seq: 1)
            let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: identity.signing, seq: 1,
                                               selfParent: nil, parents: [], wallMs: clock.wallMs(), body: body)
            let now = clock.wallMs()
            let record = Store.GroupRecord(id: genesis.id, name: name, key: key, createdMs: genesis.wallMs, joinedMs: now)
            try store.saveGroup(record)
            try persist(genesis)
            try publishPrekeyIfNeeded(group: record)
            logger.info("group created", metadata: ["group.id": "\(genesis.id)", "group.name": "\(name)"])
            announceGroup(record)
            return groupView(record)
        }
    }

    static func validateGroupName(_ name: String) throws(ControlErrorBody) {
        let n = name.utf8.count
        guard n >= 1, n <= ControlLimits.maxGroupNameByteCount else {
            throw ControlErrorBody(code: .invalidArgument, message: "group name must be 1 to \(ControlLimits.maxGroupNameByteCount) bytes, got \(n)")
        }
        for s in name.unicodeScalars where s.properties.generalCategory == .control || s.properties.generalCategory == .format {
            throw ControlErrorBody(code: .invalidArgument, message: "group name contains a control or format character")
        }
    }

    public func join(token: String) throws(ControlErrorBody) -> GroupView {
        try typedErrors("group.join") {
            let invite: Hark_V1_Invite
            do { invite = try InviteToken.decode(token) } catch {
                throw ControlErrorBody(code: .invalidToken, message: "\(error)")
            }
            let genesis: Event
            do { genesis = try Event(decoding: invite.genesis) } catch {
                throw ControlErrorBody(code: .invalidToken, message: InviteError.genesisInvalid("\(error)").description)
            }
            guard genesis.kind == .genesis, genesis.groupID == nil else {
                throw ControlErrorBody(code: .invalidToken, message: InviteError.genesisInvalid("not a genesis event").description)
            }
            let key = [UInt8](invite.groupKey)
            let content: Hark_V1_Content
            do {
                guard let body = genesis.body else { throw CryptoError.authenticationFailed }
                content = try BodyCipher.open(body, groupKey: key, groupID: nil, author: genesis.author, seq: 1)
            } catch {
                throw ControlErrorBody(code: .invalidToken, message: InviteError.genesisInvalid("the group key does not open the genesis").description)
            }
            guard case let .genesis(g)? = content.content else {
                throw ControlErrorBody(code: .invalidToken, message: InviteError.genesisInvalid("genesis body is not a Genesis").description)
            }
            if let existing = try store.group(id: genesis.id) {
                // Held, but removed (or left): a new invite is redeemed like a first one.
                if let m = currentMembership(of: existing.id), !m.isMember(identity.signing.publicKey), invite.version == 2,
                   case let .genesis(g)? = content.content {
                    return try startRedeeming(invite, genesis: genesis, name: g.name)
                }
                throw ControlErrorBody(code: .alreadyExists, message: "already a member of \(existing.name) (\(existing.id.hex.prefix(12)))")
            }
            guard (g.rules >= 2) == (invite.version == 2) else {
                throw ControlErrorBody(code: .invalidToken, message: InviteError.malformed("token version \(invite.version) does not fit the group").description)
            }
            trustBook.authorNames[genesis.author] = g.creatorDisplayName
            if g.rules >= 2 {
                if let p = inviteState.pendingJoins[genesis.id], p.state == "pending" {
                    return GroupView(id: genesis.id.hex, name: p.name, events: 0, members: [], createdMs: genesis.wallMs, state: "pending")
                }
                return try startRedeeming(invite, genesis: genesis, name: g.name)
            }
            let now = clock.wallMs()
            let record = Store.GroupRecord(id: genesis.id, name: g.name, key: key, createdMs: genesis.wallMs, joinedMs: now)
            try store.saveGroup(record)
            try persist(genesis)
            trustBook.authorNames[genesis.author] = g.creatorDisplayName
            var joinContent = Hark_V1_Content()
            var j = Hark_V1_Join()
            j.displayName = identity.displayName
            joinContent.join = j
            _ = try author(kind: .join, content: joinContent, group: record)
            logger.info("group joined", metadata: ["group.id": "\(genesis.id)", "group.name": "\(g.name)"])
            announceGroup(record)
            return groupView(record)
        }
    }

    public func sendMessage(group ref: String, text: String, replyTo: String? = nil, resolveMentions: Bool = true) throws(ControlErrorBody) -> MessageView {
        try typedErrors("send") {
            let g = ref.hasPrefix("@") && ref.count > 1 ? try openDirect(ref) : try resolveGroup(ref)
            let n = text.utf8.count
            guard n >= 1 else { throw ControlErrorBody(code: .invalidArgument, message: "message text is empty") }
            guard n <= ControlLimits.maxTextByteCount else {
                throw ControlErrorBody(code: .invalidArgument, message: "message text is \(n) bytes; the limit is \(ControlLimits.maxTextByteCount)")
            }
            var content = Hark_V1_Content()
            var t = Hark_V1_Text()
            t.text = text
            if let replyTo { t.replyTo = Data(try resolveReplyTarget(replyTo, in: g).bytes) }
            if resolveMentions { t.mentions = mentionedKeys(in: text, group: g.id).map { Data($0.bytes) } }
            content.text = t
            try prepareSenderChain(group: g)
            let e = try author(kind: .message, content: content, group: g)
            rememberOwnMessage(e.id, group: g.id)
            guard let view = messageView(e, group: g) else {
                throw ControlErrorBody(code: .internal, message: "cannot read back the message just written")
            }
            return view
        }
    }

    /// A page of the group's visible messages in total order (docs/HISTORY.md): the last `limit`
    /// (nil: all), or those just before or just after a message. O(page + log n).
    public func log(group ref: String, limit: Int?, before: String? = nil, after: String? = nil, files: Bool = false) throws(ControlErrorBody) -> [MessageView] {
        try typedErrors("log") {
            let g = try resolveGroup(ref)
            if before != nil, after != nil {
                throw ControlErrorBody(code: .invalidArgument, message: "give before or after, not both")
            }
            let anchor: HistoryReader.Anchor
            if let before { anchor = .before(try resolveAnchor(before, in: g)) } else if let after {
                anchor = .after(try resolveAnchor(after, in: g))
            } else {
                anchor = .latest
            }
            let page = try historyReader(group: g.id).page(group: g.id, members: historyMembers(g.id), anchor: anchor, limit: limit)
            return files ? try withFileOffers(page, group: g, anchor: anchor, limit: limit) : page
        }
    }

    /// Authors who forked their log in any group held here.
    /// Authors known to have forked their log: forks in the loaded graphs, and authors accused
    /// by a valid EQUIVOCATION_PROOF stored in any group (this node writes one for every fork it
    /// sees, so a restart does not need the whole graph to remember them).
    func equivocators() -> Set<SigningPublicKey> {
        var out = Set(logState.graphs.values.flatMap { $0.forks.map(\.author) })
        for g in (try? store.allGroups()) ?? [] {
            for e in (try? store.rareKindEvents(group: g.id)) ?? [] where e.kind == .equivocationProof {
                if let accusation = try? EquivocationProof.accusation(in: e) { out.insert(accusation.author) }
            }
        }
        return out
    }

    func follow(group ref: String) throws -> (Int, AsyncStream<MessageView>) {
        let g = try resolveGroup(ref)
        let (stream, continuation) = AsyncStream.makeStream(of: MessageView.self, bufferingPolicy: .bufferingNewest(10_000))
        let id = subscriberState.nextFollowerID
        subscriberState.nextFollowerID += 1
        subscriberState.followers[id] = (g.id, continuation)
        return (id, stream)
    }

    func unfollow(_ id: Int) {
        subscriberState.followers.removeValue(forKey: id)?.continuation.finish()
    }
}
