import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Logging

/// Sender keys in groups with roles (PROTOCOL.md §5.4): MESSAGE and EDIT bodies are sealed with
/// per-message keys from each author's chain; chains are sent sealed to members' prekeys in
/// SENDER_KEY events; a sender starts a new chain before its next message once the membership
/// or a prekey changed, after 100 messages, or after 7 days.
extension Node {
    static let rotateAfterMessages = 100
    static let rotateAfterMs: Int64 = 7 * 86_400_000

    /// Whether `kind`'s bodies in `group` use sender keys (MESSAGE and EDIT in groups with roles).
    func usesSenderKeys(_ kind: Hark_V1_EventKind, group: EventID) -> Bool {
        (kind == .message || kind == .edit) && membershipIndex(for: group).hasRoles
    }

    /// Each member's latest prekey in the group (by its PREKEY events' order).
    func prekeys(group: EventID, key: [UInt8]) -> [SigningPublicKey: [UInt8]] {
        if let cached = logState.prekeyViews[group] { return cached }
        // MEMBER and PREKEY events: from the graph when loaded, else from the store's index.
        let keyEvents: [CausalGraph.Entry]
        if let graph = logState.graphs[group] {
            keyEvents = graph.unorderedEntries.filter { $0.kind == .member || $0.kind == .prekey }
        } else {
            guard let tip = try? tipHistory(group: group) else { return [:] }
            keyEvents = tip.keyEvents.map { e in
                CausalGraph.Entry(id: e.id, parents: e.allParents, lamport: e.lamport, author: e.author, seq: e.seq, kind: e.kind)
            }
        }
        var best: [SigningPublicKey: (EventOrder, [UInt8])] = [:]
        // A prekey the invitee gave when it redeemed its invite, copied into the ADD: chains
        // reach a new member before its own PREKEY event arrives.
        for e in keyEvents where e.kind == .member {
            guard let m = memberContent(e.id, group: group), m.action == .add, m.prekey.count == 32,
                  let target = try? SigningPublicKey(bytes: [UInt8](m.target)) else { continue }
            let order = EventOrder(lamport: e.lamport, id: e.id)
            if let b = best[target], b.0 > order { continue }
            best[target] = (order, [UInt8](m.prekey))
        }
        for e in keyEvents where e.kind == .prekey {
            let order = EventOrder(lamport: e.lamport, id: e.id)
            if let b = best[e.author], b.0 > order { continue }
            guard let pk = logState.prekeyCache[e.id] ?? readPrekey(e.id, key: key) else { continue }
            logState.prekeyCache[e.id] = pk
            best[e.author] = (order, pk)
        }
        let view = best.mapValues(\.1)
        logState.prekeyViews[group] = view
        return view
    }

    private func readPrekey(_ id: EventID, key: [UInt8]) -> [UInt8]? {
        guard let e = try? store.event(id), let c = try? BodyCipher.open(e, groupKey: key), case let .prekey(p)? = c.content,
              p.key.count == 32 else { return nil }
        return [UInt8](p.key)
    }

    /// Publishes this device's prekey in the group if it is a member and has not yet.
    func publishPrekeyIfNeeded(group record: Store.GroupRecord) throws {
        guard let m = currentMembership(of: record.id), m.isMember(identity.signing.publicKey) else { return }
        if prekeys(group: record.id, key: record.key)[identity.signing.publicKey] == prekey.publicKey { return }
        var c = Hark_V1_Content()
        var p = Hark_V1_Prekey()
        p.key = Data(prekey.publicKey)
        c.prekey = p
        _ = try author(kind: .prekey, content: c, group: record)
    }

    /// The membership view a chain is made for: BLAKE2b over the sorted member keys; and each
    /// member's prekey, where one is known.
    func chainView(group: EventID, key: [UInt8]) -> (hash: [UInt8], members: [SigningPublicKey], prekeys: [SigningPublicKey: [UInt8]]) {
        let members = (currentMembership(of: group)?.members ?? []).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        return (BLAKE2b.hash(members.flatMap(\.bytes), personal: "hark.view.v1"), members, prekeys(group: group, key: key))
    }

    /// Before writing a MESSAGE or EDIT: starts a new chain (and writes its SENDER_KEY event) when
    /// there is none, the membership changed, or it is old or used up; else seals the current
    /// chain's start to members whose prekey arrived since (`extendSenderChain`).
    func prepareSenderChain(group record: Store.GroupRecord) throws {
        guard membershipIndex(for: record.id).hasRoles else { return }
        try publishPrekeyIfNeeded(group: record)
        let view = chainView(group: record.id, key: record.key)
        let now = clock.wallMs()
        let current = try store.outChain(group: record.id)
        if let c = current, c.view == view.hash, c.sent < Self.rotateAfterMessages, now - c.createdMs < Self.rotateAfterMs {
            try extendSenderChain(group: record)
            return
        }
        let epoch = (current?.epoch ?? 0) + 1
        var ck0 = SecureRandom.bytes(32)
        defer { secureZero(&ck0) }
        let recipients = view.members.compactMap { m in view.prekeys[m].map { (m, $0) } }
        let pending = view.members.filter { view.prekeys[$0] == nil }
        keepHistoryChain(author: identity.signing.publicKey, epoch: epoch, index: 0, chainKey: ck0, group: record.id)
        try writeSenderKey(epoch: epoch, chainStart: ck0, to: recipients, group: record)
        try store.saveOutChain(Store.OutChain(epoch: epoch, chain: SenderChain(chainKey: ck0), createdMs: now, view: view.hash, sent: 0,
                                              startKey: pending.isEmpty ? nil : ck0, pending: pending), group: record.id)
        logger.debug("new sender chain", metadata: ["group.id": "\(record.id)", "epoch": "\(epoch)",
                                                    "recipients": "\(recipients.count)", "pending": "\(pending.count)"])
    }

    /// Members of the current chain's view that had no prekey when it started get its start key
    /// as soon as their prekey is known (a SENDER_KEY event with the same epoch), so a new member
    /// reads everything sent since it was added. The start key is then forgotten.
    func extendSenderChain(group record: Store.GroupRecord) throws {
        guard var c = try store.outChain(group: record.id), let start = c.startKey, !c.pending.isEmpty else { return }
        let pks = prekeys(group: record.id, key: record.key)
        let ready = c.pending.compactMap { m in pks[m].map { (m, $0) } }
        guard !ready.isEmpty else { return }
        try writeSenderKey(epoch: c.epoch, chainStart: start, to: ready, group: record)
        c.pending.removeAll { m in ready.contains { $0.0 == m } }
        if c.pending.isEmpty {
            var old = start
            secureZero(&old)
            c.startKey = nil
        }
        try store.saveOutChain(c, group: record.id)
    }

    private func writeSenderKey(epoch: UInt32, chainStart: [UInt8], to recipients: [(SigningPublicKey, [UInt8])],
                                group record: Store.GroupRecord) throws {
        var sk = Hark_V1_SenderKey()
        sk.epoch = epoch
        for (member, pk) in recipients.prefix(1024) {
            var box = Hark_V1_SealedChainKey()
            box.recipient = Data(member.bytes)
            box.prekey = Data(pk)
            box.sealed = Data(try SealedBox.seal(chainStart, to: pk))
            sk.boxes.append(box)
        }
        var c = Hark_V1_Content()
        c.senderKey = sk
        _ = try author(kind: .senderKey, content: c, group: record)
    }

    /// The body of this node's next MESSAGE or EDIT, sealed with the next key of its chain, and
    /// the chain without that key: the caller stores it in the transaction that stores the
    /// event (`Store.DeliveryWrites.outChain`), so the used key is gone from the stored chain
    /// once the event is stored, and a failed write leaves both unchanged.
    func senderKeyBody(_ content: Hark_V1_Content, group: EventID, seq: UInt64) throws -> (body: [UInt8], chain: Store.OutChain) {
        guard var out = try store.outChain(group: group) else {
            throw ControlErrorBody(code: .internal, message: "no sender chain for the group")
        }
        var (index, mk) = out.chain.nextMessageKey()
        defer { secureZero(&mk) }
        out.sent += 1
        let body = try SenderKeyBody.seal(content, messageKey: mk, group: group, author: identity.signing.publicKey, seq: seq,
                                          epoch: out.epoch, index: index)
        return (body, out)
    }

    /// After events were stored: open SENDER_KEY boxes sealed to us, and decrypt MESSAGE/EDIT
    /// bodies with the authors' chains, keeping the plaintext (the message keys are then gone).
    /// `opened`: bodies already opened and stored with their events (`storeDelivered`).
    func receiveSenderKeyEvents(_ events: [Event], record: Store.GroupRecord, opened: Set<EventID> = []) {
        guard membershipIndex(for: record.id).hasRoles else { return }
        let me = identity.signing.publicKey
        if events.contains(where: { $0.kind == .prekey || $0.kind == .member }) {
            do { try extendSenderChain(group: record) } catch {
                logger.error("cannot seal the sender chain to a new member", metadata: ["group.id": "\(record.id)", "error": "\(error)"])
            }
        }
        for e in events.sorted(by: EventOrder.precedes) where e.author != me {
            switch e.kind {
            case .senderKey:
                guard let c = try? BodyCipher.open(e, groupKey: record.key), case let .senderKey(sk)? = c.content,
                      let box = sk.boxes.first(where: { [UInt8]($0.recipient) == me.bytes && [UInt8]($0.prekey) == prekey.publicKey }),
                      var ck0 = try? SealedBox.open([UInt8](box.sealed), keyPair: prekey), ck0.count == 32 else { continue }
                defer { secureZero(&ck0) }
                keepHistoryChain(author: e.author, epoch: sk.epoch, index: 0, chainKey: ck0, group: record.id)
                if (try? store.inChain(group: record.id, author: e.author, epoch: sk.epoch)) ?? nil == nil {
                    try? store.saveInChain(SenderChain(chainKey: ck0), group: record.id, author: e.author, epoch: sk.epoch)
                    // Messages of this chain that arrived before its key (a member added before its
                    // prekey was known gets the key afterwards): open them now.
                    decryptWaiting(author: e.author, epoch: sk.epoch, record: record)
                }
            case .historyKey:
                receiveHistoryKey(e, record: record)
            case .message, .edit:
                if !opened.contains(e.id) { decrypt([e], record: record) }
            default:
                continue
            }
        }
    }

    /// Opens the stored MESSAGE/EDIT events of `author`'s chain `epoch` that have no plaintext yet.
    /// Walks the author's events newest first (`Store.newestEvents`, pages of 256) and stops at
    /// the first body sealed on an earlier epoch: an author starts its chains in increasing
    /// epochs as its seq grows (PROTOCOL.md §5.4), so the walk costs the events of this chain and
    /// the later ones (about 100 a chain), not the author's history. An author that reused an
    /// older epoch only keeps its own late messages unread here.
    func decryptWaiting(author: SigningPublicKey, epoch: UInt32, record: Store.GroupRecord) {
        var waiting: [Event] = []
        var before: UInt64?
        walk: while true {
            guard let page = try? store.newestEvents(group: record.id, author: author, kinds: [.message, .edit], beforeSeq: before,
                                                     limit: 256), let last = page.last else { break }
            for (e, kept) in page {
                guard let b = e.body, let position = SenderKeyBody.position(b) else { continue }
                if position.epoch < epoch { break walk }
                if position.epoch == epoch, !kept { waiting.append(e) }
            }
            before = last.event.seq
        }
        if !waiting.isEmpty { decrypt(waiting.reversed(), record: record) }
    }

    /// Decrypts sender-key bodies of stored events with the stored chains, keeping the plaintexts
    /// and the advanced chains in one transaction (`SenderKeyOpening`).
    func decrypt(_ events: [Event], record: Store.GroupRecord) {
        var writes = Store.DeliveryWrites()
        let opening = SenderKeyOpening(events, group: record.id, store: store, into: &writes)
        for id in opening.unopened {
            logger.debug("cannot decrypt a message (no chain key for it here)", metadata: ["event.id": "\(id)"])
        }
        do { try store.save(writes) } catch {
            logger.error("cannot keep decrypted messages", metadata: ["group.id": "\(record.id)", "error": "\(error)"])
        }
    }

    /// The content of a stored event: the kept plaintext for sender-key bodies, else decrypted
    /// with the group key. nil when it cannot be read here.
    func readableContent(_ e: Event, record: Store.GroupRecord) -> Hark_V1_Content? {
        if usesSenderKeys(e.kind, group: record.id) {
            guard let bytes = (try? store.plaintext(e.id)) ?? nil else { return nil }
            return try? Hark_V1_Content(serializedBytes: bytes)
        }
        guard e.body != nil, e.kind != .equivocationProof else { return nil }
        return try? BodyCipher.open(e, groupKey: record.key)
    }
}
