import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog

/// Cost of adding a member to a shared-history group (PROTOCOL.md §5.8), in memory: real
/// libsodium crypto, no network, no store, one thread. A replica holds a group of N members
/// (genesis with `history = SHARED`, N − 1 ADDs, N PREKEYs) and M past messages written round-robin,
/// each sender rotating its chain every 100 messages as `Node.prepareSenderChain` does; the owner
/// keeps the earliest key of every chain (as every member of a shared-history group does). Then
/// the owner adds one member: the ADD, and the HISTORY_KEY events sealing every kept chain to the
/// newcomer's prekey (`HistoryShare.seal`, 512 chains per event). Every event reaches the replica
/// as bytes and is decoded (Ed25519 check), validated and inserted. Prints the bytes written and
/// the time from the ADD to the last HISTORY_KEY validated, beside a plain ADD (joined history);
/// then the newcomer's side: opening the shares and decrypting all M past messages. Checks that
/// the newcomer reads every past message (exit 1 otherwise).
func runHistoryShareBenchmark() {
    let n = intArgument("--members", default: 50)
    let m = intArgument("--messages", default: 10_000)
    guard n >= 2, m >= 1 else { print("history-share: --members must be at least 2 and --messages at least 1"); exit(2) }
    do {
        try historyShare(members: n, messages: m)
    } catch {
        print("history-share FAILED: \(error)")
        exit(1)
    }
}

private struct ShareMember {
    let signing = SigningKeyPair.generate()
    let prekey = AgreementKeyPair.generate()
    var latest: Event?
    var epoch: UInt32 = 0
    var chain: SenderChain?
    var sent = 0
}

private func historyShare(members n: Int, messages total: Int) throws {
    let clock = ContinuousClock()
    let key = BodyCipher.newGroupKey()
    let replica = ValidatingReplica(key: key, history: .shared)
    var people = (0...n).map { _ in ShareMember() }   // people[n] is the newcomer
    var group: EventID!
    var kept: [HistoryShare.Chain] = []   // the owner's earliest key of each chain

    func write(_ kind: Hark_V1_EventKind, by i: Int, body: (UInt64) throws -> [UInt8]) throws -> (Event, Int) {
        let latest = people[i].latest
        let seq = (latest?.seq ?? 0) + 1
        let parents = replica.graph.heads.filter { $0 != latest?.id }.compactMap { replica.byID[$0] }
        let e = try EventAuthor.make(kind: kind, groupID: group, author: people[i].signing, seq: seq, selfParent: latest,
                                     parents: parents, wallMs: Int64(1_000 + replica.graph.count), body: try body(seq))
        let bytes = e.serializedBytes()
        let received = try replica.receive(bytes)
        people[i].latest = received
        return (received, bytes.count)
    }
    func sealed(_ c: Hark_V1_Content, by i: Int) -> (UInt64) throws -> [UInt8] {
        { seq in try BodyCipher.seal(c, groupKey: key, groupID: group, author: people[i].signing.publicKey, seq: seq) }
    }
    /// A new chain, as `Node.prepareSenderChain`, sealed to the N members (the owner keeps ck_0).
    func rotate(_ i: Int) throws {
        let ck0 = SecureRandom.bytes(32)
        var sk = Hark_V1_SenderKey()
        sk.epoch = people[i].epoch + 1
        for p in people.prefix(n) {
            var box = Hark_V1_SealedChainKey()
            box.recipient = Data(p.signing.publicKey.bytes)
            box.prekey = Data(p.prekey.publicKey)
            box.sealed = Data(try SealedBox.seal(ck0, to: p.prekey.publicKey))
            sk.boxes.append(box)
        }
        var c = Hark_V1_Content()
        c.senderKey = sk
        _ = try write(.senderKey, by: i, body: sealed(c, by: i))
        people[i].epoch = sk.epoch
        people[i].chain = SenderChain(chainKey: ck0)
        people[i].sent = 0
        kept.append(HistoryShare.Chain(author: people[i].signing.publicKey, epoch: sk.epoch, index: 0, chainKey: ck0))
    }
    func add(_ target: Int, prekey: Bool) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.member.action = .add
        c.member.target = Data(people[target].signing.publicKey.bytes)
        c.member.role = .member
        if prekey { c.member.prekey = Data(people[target].prekey.publicKey) }
        return c
    }

    // 1. The group and its past.
    let setupStart = clock.now
    var gc = Hark_V1_Content()
    gc.genesis.name = "history"
    gc.genesis.rules = 2
    gc.genesis.conversation = .group
    gc.genesis.history = .shared
    let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: people[0].signing, seq: 1, selfParent: nil, parents: [],
                                       wallMs: 1_000, body: try BodyCipher.seal(gc, groupKey: key, groupID: nil,
                                                                               author: people[0].signing.publicKey, seq: 1))
    people[0].latest = try replica.receive(genesis.serializedBytes())
    group = genesis.id
    for i in 1..<n { _ = try write(.member, by: 0, body: sealed(add(i, prekey: true), by: 0)) }
    var past: [(Event, String)] = []   // in the order written (parents first)
    for k in 0..<total {
        let i = k % n
        if people[i].chain == nil || people[i].sent >= 100 { try rotate(i) }
        let text = "past message \(k) from member \(i)"
        let (e, _) = try write(.message, by: i) { seq in
            var c = Hark_V1_Content()
            c.text.text = text
            guard var chain = people[i].chain else { throw ShareBenchFailure("member \(i) has no chain") }
            let next = chain.nextMessageKey()
            people[i].chain = chain
            var mk = next.key
            defer { secureZero(&mk) }
            return try SenderKeyBody.seal(c, messageKey: mk, group: group, author: people[i].signing.publicKey, seq: seq,
                                          epoch: people[i].epoch, index: next.index)
        }
        people[i].sent += 1
        past.append((e, text))
    }
    let setup = clock.now - setupStart
    let pastEvents = replica.graph.count

    // 2. Baseline: the same ADD without a share (what a joined-history group writes).
    var plainAdd = add(n, prekey: true)
    plainAdd.member.displayName = "newcomer"
    guard let ownerLatest = people[0].latest else { throw ShareBenchFailure("the owner wrote nothing") }
    let baselineStart = clock.now
    let plainAddEvent = try EventAuthor.make(kind: .member, groupID: group, author: people[0].signing, seq: ownerLatest.seq + 1,
                                             selfParent: ownerLatest,
                                             parents: replica.graph.heads.filter { $0 != ownerLatest.id }.compactMap { replica.byID[$0] },
                                             wallMs: 9_999_999, body: try sealed(plainAdd, by: 0)(ownerLatest.seq + 1))
    let plainAddBytes = plainAddEvent.serializedBytes().count
    let baseline = clock.now - baselineStart

    // 3. The measured part: the owner adds the newcomer and shares the kept chains.
    let addStart = clock.now
    let (_, addBytes) = try write(.member, by: 0, body: sealed(plainAdd, by: 0))
    let sealStart = clock.now
    let shares = try HistoryShare.seal(kept, recipient: people[n].signing.publicKey, prekey: people[n].prekey.publicKey)
    let sealTime = clock.now - sealStart
    var shareEvents: [Event] = []
    var shareBytes = 0
    for hk in shares {
        var c = Hark_V1_Content()
        c.historyKey = hk
        let (e, bytes) = try write(.historyKey, by: 0, body: sealed(c, by: 0))
        shareEvents.append(e)
        shareBytes += bytes
    }
    let addTime = clock.now - addStart

    // 4. The newcomer: opens its shares and decrypts every past message.
    let readStart = clock.now
    var chains: [SigningPublicKey: [UInt32: SenderChain]] = [:]
    for e in shareEvents {
        guard case let .historyKey(hk)? = try BodyCipher.open(e, groupKey: key).content else { throw ShareBenchFailure("a HISTORY_KEY does not open") }
        for c in try HistoryShare.open(hk, keyPair: people[n].prekey) {
            chains[c.author, default: [:]][c.epoch] = SenderChain(chainKey: c.chainKey, nextIndex: c.index)
        }
    }
    let openTime = clock.now - readStart
    var read = 0
    for (e, text) in past {
        guard let body = e.body, let (epoch, index) = SenderKeyBody.position(body),
              var mk = chains[e.author]?[epoch]?.messageKey(at: index) else { continue }
        defer { secureZero(&mk) }
        if (try? SenderKeyBody.open(body, messageKey: mk, group: group, author: e.author, seq: e.seq))?.text.text == text { read += 1 }
    }
    let readTime = clock.now - readStart

    func ms(_ d: Duration) -> String { formatFixed2(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15) }
    print("history-share    \(n) members, \(total) past messages, \(kept.count) sender chains (\(pastEvents) events, built in \(ms(setup)) ms)")
    print("history-share    add with shared history: \(addBytes + shareBytes) B written (ADD \(addBytes) B + \(shares.count) HISTORY_KEY event\(shares.count == 1 ? "" : "s") \(shareBytes) B), "
          + "\(ms(addTime)) ms from the ADD to the last share validated (sealing \(ms(sealTime)) ms)")
    print("history-share    the same ADD in a joined-history group: \(plainAddBytes) B, \(ms(baseline)) ms to author")
    print("history-share    newcomer: opens the shares in \(ms(openTime)) ms, reads \(read) of \(total) past messages in \(ms(readTime)) ms")
    guard read == total else { throw ShareBenchFailure("the newcomer read \(read) of \(total) past messages") }
}

private struct ShareBenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
