import Dispatch
import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkNode
import HarkStore

/// `hark-bench fill --home=PATH --group=NAME --messages=N [--batch=20000] [--mark=K]`: appends N text
/// messages by this node's identity to one group of a real hark home, writing signed events
/// straight into the store (no daemon, no control socket), for the growth benchmark
/// (scripts/bench-history.sh). With --mark=K it also prints `mark ID`, the K-th message's ID.
///
/// The store is left exactly as the node would have left it after N `hark send`s, so the daemon
/// continues from it (its next send validates and peers read it):
/// - each event follows this node's latest one (seq, self-parent) and, for the first, every other
///   head; lamport = 1 + the parents' maximum (PROTOCOL.md §4);
/// - MESSAGE bodies are sealed with the node's sender chain (PROTOCOL.md §5.4): the stored out
///   chain is advanced and saved as `senderKeyBody` does, a new chain (and its SENDER_KEY event,
///   sealed to the members' prekeys) is started under the node's own rule (no chain, another
///   membership view, 100 messages sent, or 7 days old), and each plaintext is kept as the node
///   keeps its own;
/// - a PREKEY event is written first if this device's prekey is not published in the group.
///
/// Only groups whose sole member is this node are filled (every stored event is its own, no
/// MEMBER or JOIN event): then the membership view is known without folding the history.
/// Refuses to run while a daemon holds the home's lock. Signing runs on all cores; each batch is
/// one transaction for events, one for plaintexts. Event IDs are hashes, so every transaction
/// rewrites most pages of the ID indexes: large batches (20,000 messages) write far less. Every event passes `Event`'s context-free
/// checks and `EventValidator` against its parents, as `EventAuthor.make` requires; signatures
/// are verified for a sample (one event per worker and batch) to keep the fill fast.
func runHistoryFill() {
    guard let home = stringArgument("--home"), let groupName = stringArgument("--group") else {
        FileHandle.standardError.write(Data("usage: hark-bench fill --home=PATH --group=NAME --messages=N [--batch=20000]\n".utf8))
        exit(64)
    }
    let count = intArgument("--messages", default: 1000)
    let batch = max(1, intArgument("--batch", default: 20_000))
    do {
        let started = ContinuousClock.now
        var filler = try HistoryFiller(home: NodeHome(path: home), groupName: groupName)
        let written = try filler.fill(messages: count, batch: batch, mark: intArgument("--mark", default: 0))
        try catchUpReadModel(filler.store)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("history.fill     \(count) messages (\(written) events) into \(groupName) in \(formatFixed2(seconds)) s: "
              + "\(formatRate(Double(written) / seconds)) events/s")
        if let id = filler.marked { print("mark \(id.hex)") }
    } catch {
        FileHandle.standardError.write(Data("hark-bench fill: \(error)\n".utf8))
        exit(error is FillError ? 65 : 74)
    }
}

/// Brings the store's read model up to date with events written from outside the node.
/// `Store.insert(batch:)` indexes each event in its own transaction, so this normally finds
/// nothing to do; it guards against a fill that bypassed that path.
/// - Throws: `StoreError` from the catch-up.
func catchUpReadModel(_ store: Store) throws {
    let indexed = try store.catchUpReadModel()
    if indexed > 0 { print("history.fill     read model caught up over \(indexed) events") }
}

struct FillError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func stringArgument(_ name: String) -> String? {
    CommandLine.arguments.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
}

/// The authoring state of one filling run. Use from one thread.
struct HistoryFiller {
    let store: Store
    let group: Store.GroupRecord
    let signing: SigningKeyPair
    let prekey: AgreementKeyPair
    /// This node's latest event in the group (the next self-parent).
    var latest: Event?
    /// Other heads, parents of the next event only.
    var otherHeads: [Event]
    var chain: Store.OutChain?
    var prekeyPublished: Bool
    /// The ID of the `mark`-th message written by `fill`.
    var marked: EventID?
    /// BLAKE2b over the sorted member keys (`Node.chainView`): here the one member.
    let viewHash: [UInt8]

    static let rotateAfterMessages = 100          // Node.rotateAfterMessages
    static let rotateAfterMs: Int64 = 7 * 86_400_000

    init(home: NodeHome, groupName: String) throws {
        // The daemon's lock, held until this process exits: no daemon starts during the fill.
        let lockFD = open(home.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else { throw FillError("cannot open \(home.lockPath)") }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            close(lockFD)
            throw FillError("a daemon runs on \(home.path): stop it first")
        }
        let identity = try home.load()
        guard access(home.prekeyPath, F_OK) == 0 else { throw FillError("no prekey in \(home.path): start the daemon once first") }
        let prekey = try home.loadOrCreatePrekey(for: identity)
        let store = try Store(path: home.storePath)
        let named = try store.groups(named: groupName)
        guard named.count == 1 else { throw FillError("\(named.count) groups are named \(groupName)") }
        let group = named[0]
        let me = identity.signing.publicKey

        // Check that this node is the only member, and whether its prekey is published.
        var lastPrekey: (EventOrder, [UInt8])?
        var after: UInt64? = nil
        var seen: Set<EventID> = []
        let page = 20_000
        while true {
            let events = try store.events(group: group.id, limit: page, afterLamport: after)
            for e in events where seen.insert(e.id).inserted {
                guard e.author == me else { throw FillError("\(groupName) has events by another member; fill needs a group of one") }
                if e.kind == .genesis, (try? BodyCipher.open(e, groupKey: group.key))?.genesis.rules ?? 0 < 2 {
                    throw FillError("\(groupName) has no roles (rules < 2); fill writes sender-key messages")
                }
                guard e.kind != .member, e.kind != .join else { throw FillError("\(groupName) has membership changes; fill needs a group of one") }
                if e.kind == .prekey, case let .prekey(p)? = (try? BodyCipher.open(e, groupKey: group.key))?.content {
                    let o = EventOrder(lamport: e.lamport, id: e.id)
                    if lastPrekey == nil || lastPrekey!.0 < o { lastPrekey = (o, [UInt8](p.key)) }
                }
            }
            guard events.count == page, let last = events.last else { break }
            // Events sharing the last lamport may straddle the page: read them again (deduplicated).
            after = last.lamport - 1
            seen = Set(events.filter { $0.lamport == last.lamport }.map(\.id))
        }
        let latest = try store.latest(author: me, group: group.id)
        self.store = store
        self.group = group
        self.signing = identity.signing
        self.prekey = prekey
        self.prekeyPublished = lastPrekey?.1 == prekey.publicKey
        self.latest = latest
        self.otherHeads = try store.events(try store.heads(group: group.id).filter { $0 != latest?.id })
        self.chain = try store.outChain(group: group.id)
        self.viewHash = BLAKE2b.hash(me.bytes, personal: "hark.view.v1")
    }

    /// One event to be signed: its header and body, and the plaintext to keep.
    struct Draft {
        var header: [UInt8]
        var id: EventID
        var body: [UInt8]?
        var plaintext: [UInt8]?
    }

    /// Appends `messages` MESSAGE events (and the SENDER_KEY/PREKEY events the node would write
    /// with them), `batch` messages per transaction.
    /// - Returns: how many events were written.
    /// - Parameter mark: the 1-based number of a message of this run whose ID goes to `marked`.
    mutating func fill(messages: Int, batch: Int, mark: Int = 0) throws -> Int {
        var written = 0
        var done = 0
        // Parents as (id, lamport, seq); the Event values are only needed for the checks.
        var tip: (id: EventID, lamport: UInt64, seq: UInt64)? = latest.map { ($0.id, $0.lamport, $0.seq) }
        var parentEvents: [EventID: Event] = [:]
        if let latest { parentEvents[latest.id] = latest }
        for e in otherHeads { parentEvents[e.id] = e }
        var extra = otherHeads
        while done < messages {
            let n = min(batch, messages - done)
            var drafts: [Draft] = []
            drafts.reserveCapacity(n + n / Self.rotateAfterMessages + 2)
            func add(_ kind: Hark_V1_EventKind, body: (UInt64) throws -> ([UInt8], [UInt8]?)) throws {
                let seq = (tip?.seq ?? 0) + 1
                let (b, plain) = try body(seq)
                let kept = extra.sorted { EventOrder.precedes($1, $0) }.prefix(EventLimits.maxParents)
                let lamport = ([tip?.lamport ?? 0] + kept.map(\.lamport)).max()! + 1
                var h = Hark_V1_EventHeader()
                h.format = EventLimits.format
                h.groupID = Data(group.id.bytes)
                h.author = Data(signing.publicKey.bytes)
                h.seq = seq
                if let tip { h.selfParent = Data(tip.id.bytes) }
                h.parents = kept.map(\.id).sorted().map { Data($0.bytes) }
                h.lamport = lamport
                h.wallMs = Int64((Date().timeIntervalSince1970 * 1000).rounded())
                h.kind = kind
                h.bodyHash = Data(EventAuthor.bodyHash(b))
                h.bodyLen = UInt32(b.count)
                let bytes: [UInt8] = try h.serializedBytes()
                let id = EventID(hashingHeader: bytes)
                drafts.append(Draft(header: bytes, id: id, body: b, plaintext: plain))
                tip = (id, lamport, seq)
                extra = []
            }
            if !prekeyPublished {
                var c = Hark_V1_Content()
                var p = Hark_V1_Prekey()
                p.key = Data(prekey.publicKey)
                c.prekey = p
                try add(.prekey) { seq in try (BodyCipher.seal(c, groupKey: group.key, groupID: group.id, author: signing.publicKey, seq: seq), nil) }
                prekeyPublished = true
            }
            for i in 0..<n {
                let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
                if chain == nil || chain!.view != viewHash || chain!.sent >= Self.rotateAfterMessages
                    || now - chain!.createdMs >= Self.rotateAfterMs {
                    // Node.prepareSenderChain: a new chain, sealed to every member's prekey (here ours).
                    let epoch = (chain?.epoch ?? 0) + 1
                    var ck0 = SecureRandom.bytes(32)
                    defer { secureZero(&ck0) }
                    var sk = Hark_V1_SenderKey()
                    sk.epoch = epoch
                    var box = Hark_V1_SealedChainKey()
                    box.recipient = Data(signing.publicKey.bytes)
                    box.prekey = Data(prekey.publicKey)
                    box.sealed = Data(try SealedBox.seal(ck0, to: prekey.publicKey))
                    sk.boxes.append(box)
                    var c = Hark_V1_Content()
                    c.senderKey = sk
                    try add(.senderKey) { seq in try (BodyCipher.seal(c, groupKey: group.key, groupID: group.id, author: signing.publicKey, seq: seq), nil) }
                    chain = Store.OutChain(epoch: epoch, chain: SenderChain(chainKey: ck0), createdMs: now, view: viewHash, sent: 0)
                }
                var c = Hark_V1_Content()
                var t = Hark_V1_Text()
                // "topicK" (K = n mod 100) gives search a word held by 1% of the messages.
                t.text = "history message \(done + i + 1) topic\((done + i + 1) % 100)"
                c.text = t
                // Node.senderKeyBody: the next message key; the used key is gone from the chain.
                let next = chain!.chain.nextMessageKey()
                let index = next.index
                var mk = next.key
                defer { secureZero(&mk) }
                chain!.sent += 1
                let epoch = chain!.epoch
                let plain: [UInt8] = try c.serializedBytes()
                try add(.message) { seq in
                    try (SenderKeyBody.seal(c, messageKey: mk, group: group.id, author: signing.publicKey, seq: seq, epoch: epoch, index: index),
                         plain)
                }
                if done + i + 1 == mark { marked = drafts.last?.id }
            }
            let events = try sign(drafts)
            // The checks EventAuthor.make runs: each event against its parents.
            for e in events {
                try EventValidator.validate(e, parents: parentEvents)
                parentEvents = [e.id: e]
            }
            // As the node orders it: the chain is saved before the events sealed with it.
            if let chain { try store.saveOutChain(chain, group: group.id) }
            let stored = try store.insert(batch: events, receivedMs: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
            guard stored.allSatisfy({ $0 }) else { throw FillError("an authored event was already stored") }
            try store.savePlaintexts(drafts.compactMap { d in d.plaintext.map { (id: d.id, content: $0) } })
            written += events.count
            done += n
        }
        return written
    }

    /// Signs the drafts and decodes them with every context-free check (`Event(decoding:)`; the
    /// signature is verified for one event per worker and batch), on all cores.
    func sign(_ drafts: [Draft]) throws -> [Event] {
        let n = drafts.count
        // Each slot is written by exactly one iteration, then read after all have finished.
        let out = UnsafeMutablePointer<Result<Event, EventError>?>.allocate(capacity: n)
        out.initialize(repeating: nil, count: n)
        defer { out.deinitialize(count: n); out.deallocate() }
        nonisolated(unsafe) let slots = out
        let key = signing
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let per = (n + workers - 1) / workers
        drafts.withUnsafeBufferPointer { input in
            nonisolated(unsafe) let input = input
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for i in (w * per)..<min(n, (w + 1) * per) {
                    let signed = EventAuthor.sign(headerBytes: input[i].header, body: input[i].body, key: key)
                    slots[i] = Result { () throws(EventError) -> Event in
                        // Every check but the signature, which libsodium made for these bytes just
                        // now; the first event of each worker's share is verified as a sample.
                        if i == w * per { return try Event(decoding: signed) }
                        return try Event(decodingStored: (try? signed.serializedBytes()) ?? [])
                    }
                }
            }
        }
        return try (0..<n).map { i in try out[i]!.get() }
    }
}
