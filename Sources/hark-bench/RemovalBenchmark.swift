import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog

/// Cost of removing one member of an N-member group with roles, in memory: real
/// libsodium crypto, no network, no store, one thread. A replica holds the group (genesis with
/// rules 2, N − 1 ADDs, N PREKEYs, an epoch-1 chain per member sealed to all N); every member
/// writes one MESSAGE (the baseline); the owner REMOVEs one member; each of the N − 1 remaining
/// members then rotates as `Node.prepareSenderChain` does — a SENDER_KEY with one
/// crypto_box_seal box per remaining member with a prekey, itself included — and writes one
/// MESSAGE on its new chain. Every event reaches the replica as bytes and is decoded (Ed25519
/// check), validated with the membership rules and inserted. Prints bytes written and the time
/// from the REMOVE to the last rotated message validated, beside N − 1 plain messages measured in
/// the same run; then checks the removed member opens none of the new boxes and a remaining member
/// reads every post-removal message (exit 1 otherwise).
func runRemovalBenchmark() {
    let n = intArgument("--members", default: 50)
    guard n >= 3 else { print("removal: --members must be at least 3"); exit(2) }
    do {
        try removal(members: n)
    } catch {
        print("removal FAILED: \(error)")
        exit(1)
    }
}

private struct RemovalMember {
    let signing = SigningKeyPair.generate()
    let prekey = AgreementKeyPair.generate()
    var latest: Event?
    var epoch: UInt32 = 0
    var chain: SenderChain?
}

/// Durations of one written event: authoring (body sealed, signed, self-checked) and the replica's part.
private struct Written {
    let event: Event
    let bytes: Int
    let author: Duration
    let replica: Duration
}

private func removal(members n: Int) throws {
    let clock = ContinuousClock()
    let key = BodyCipher.newGroupKey()
    let replica = ValidatingReplica(key: key, history: .joined)
    var people = (0..<n).map { _ in RemovalMember() }
    var prekeys: [SigningPublicKey: [UInt8]] = [:]
    var group: EventID!

    /// `people[i]` writes `kind` on the replica's heads; `body` gets the seq.
    func write(_ kind: Hark_V1_EventKind, by i: Int, body: (UInt64) throws -> [UInt8]) throws -> Written {
        let t0 = clock.now
        let latest = people[i].latest
        let seq = (latest?.seq ?? 0) + 1
        let parents = replica.graph.heads.filter { $0 != latest?.id }.compactMap { replica.byID[$0] }
        let e = try EventAuthor.make(kind: kind, groupID: group, author: people[i].signing, seq: seq, selfParent: latest,
                                     parents: parents, wallMs: Int64(1_000 + replica.graph.count), body: try body(seq))
        let bytes = e.serializedBytes()
        let t1 = clock.now
        let received = try replica.receive(bytes)
        let t2 = clock.now
        people[i].latest = received
        return Written(event: received, bytes: bytes.count, author: t1 - t0, replica: t2 - t1)
    }
    func sealed(_ c: Hark_V1_Content, by i: Int) -> (UInt64) throws -> [UInt8] {
        { seq in try BodyCipher.seal(c, groupKey: key, groupID: group, author: people[i].signing.publicKey, seq: seq) }
    }
    /// As `Node.prepareSenderChain`: a new chain sealed to every current member with a prekey (the
    /// sender included), recipients sorted by key. Returns the event and the time spent sealing.
    func rotate(_ i: Int) throws -> (Written, seal: Duration) {
        let t0 = clock.now
        let current = try replica.membership()
        let recipients = current.members.compactMap { m in prekeys[m].map { (m, $0) } }
            .sorted { $0.0.bytes.lexicographicallyPrecedes($1.0.bytes) }
        var ck0 = SecureRandom.bytes(32)
        defer { secureZero(&ck0) }
        var sk = Hark_V1_SenderKey()
        sk.epoch = people[i].epoch + 1
        for (member, pk) in recipients.prefix(1024) {
            var box = Hark_V1_SealedChainKey()
            box.recipient = Data(member.bytes)
            box.prekey = Data(pk)
            box.sealed = Data(try SealedBox.seal(ck0, to: pk))
            sk.boxes.append(box)
        }
        let seal = clock.now - t0
        var c = Hark_V1_Content()
        c.senderKey = sk
        let w = try write(.senderKey, by: i, body: sealed(c, by: i))
        people[i].epoch = sk.epoch
        people[i].chain = SenderChain(chainKey: ck0)
        return (Written(event: w.event, bytes: w.bytes, author: w.author + seal, replica: w.replica), seal)
    }
    /// A MESSAGE sealed with the next key of the sender's chain.
    func message(_ i: Int, _ text: String) throws -> Written {
        try write(.message, by: i) { seq in
            var c = Hark_V1_Content()
            c.text.text = text
            let next = people[i].chain!.nextMessageKey()
            var mk = next.key
            defer { secureZero(&mk) }
            return try SenderKeyBody.seal(c, messageKey: mk, group: group, author: people[i].signing.publicKey, seq: seq,
                                          epoch: people[i].epoch, index: next.index)
        }
    }
    func member(_ action: Hark_V1_MemberAction, _ target: Int) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.member.action = action
        c.member.target = Data(people[target].signing.publicKey.bytes)
        c.member.role = .member
        return c
    }

    // 1. The group: genesis (rules 2), N − 1 ADDs, N PREKEYs, an epoch-1 chain for everyone.
    let setupStart = clock.now
    var gc = Hark_V1_Content()
    gc.genesis.name = "removal"
    gc.genesis.rules = 2
    gc.genesis.conversation = .group
    let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: people[0].signing, seq: 1, selfParent: nil, parents: [],
                                       wallMs: 1_000, body: try BodyCipher.seal(gc, groupKey: key, groupID: nil,
                                                                               author: people[0].signing.publicKey, seq: 1))
    people[0].latest = try replica.receive(genesis.serializedBytes())
    group = genesis.id
    for i in 1..<n { _ = try write(.member, by: 0, body: sealed(member(.add, i), by: 0)) }
    for i in 0..<n {
        var c = Hark_V1_Content()
        c.prekey.key = Data(people[i].prekey.publicKey)
        _ = try write(.prekey, by: i, body: sealed(c, by: i))
        prekeys[people[i].signing.publicKey] = people[i].prekey.publicKey
    }
    guard try replica.membership().members.count == n else { throw BenchFailure("the group does not hold \(n) members") }
    var firstChains: [Int: Event] = [:]
    for i in 0..<n { firstChains[i] = try rotate(i).0.event }
    let setup = clock.now - setupStart
    let setupEvents = replica.graph.count

    // 2. Baseline: everyone writes one MESSAGE on its current chain.
    var baseline: [Written] = []
    for i in 0..<n { baseline.append(try message(i, "message from member \(i)")) }

    // 3. The removal: the owner removes the last member; the others rotate and write once.
    let removed = n - 1
    let remaining = Array(0..<removed)
    let removalStart = clock.now
    let remove = try write(.member, by: 0, body: sealed(member(.remove, removed), by: 0))
    var rotations: [(Written, seal: Duration)] = []
    var after: [Written] = []
    for i in remaining {
        rotations.append(try rotate(i))
        after.append(try message(i, "message from member \(i)"))
    }
    let removalWall = clock.now - removalStart
    guard !(try replica.membership()).isMember(people[removed].signing.publicKey) else {
        throw BenchFailure("the removed member is still a member")
    }

    // 4. Checks. The removed member could open its box of an epoch-1 chain (so its key is the one
    // boxes are sealed to), and opens none of the new ones.
    var checks: [String] = []
    let removedKey = people[removed].signing.publicKey
    func boxes(_ e: Event) throws -> Hark_V1_SenderKey {
        guard case let .senderKey(sk)? = try BodyCipher.open(replica.byID[e.id]!, groupKey: key).content else {
            throw BenchFailure("a SENDER_KEY event does not hold a SenderKey")
        }
        return sk
    }
    let oldBox = try boxes(firstChains[0]!).boxes.first { [UInt8]($0.recipient) == removedKey.bytes }
    if oldBox == nil || (try? SealedBox.open([UInt8](oldBox!.sealed), keyPair: people[removed].prekey)) == nil {
        checks.append("the removed member cannot open its box of an epoch-1 chain (the check below would prove nothing)")
    }
    var newBoxes = 0, addressedToRemoved = 0, openedByRemoved = 0, wrongCount = 0
    for (w, _) in rotations {
        let sk = try boxes(w.event)
        if sk.boxes.count != remaining.count { wrongCount += 1 }
        for box in sk.boxes {
            newBoxes += 1
            if [UInt8](box.recipient) == removedKey.bytes { addressedToRemoved += 1 }
            if (try? SealedBox.open([UInt8](box.sealed), keyPair: people[removed].prekey)) != nil { openedByRemoved += 1 }
        }
    }
    if wrongCount > 0 { checks.append("\(wrongCount) new SENDER_KEY events do not hold \(remaining.count) boxes") }
    if addressedToRemoved > 0 || openedByRemoved > 0 {
        checks.append("the removed member has \(addressedToRemoved) new boxes and opened \(openedByRemoved)")
    }
    // A remaining member (not the owner) opens its box of every other sender's new chain and
    // decrypts that sender's post-removal message, as `Node.receiveSenderKeyEvents` does.
    let reader = 1
    let me = people[reader]
    var read = 0
    let readStart = clock.now
    for (k, i) in remaining.enumerated() where i != reader {
        let sk = try boxes(rotations[k].0.event)
        guard let box = sk.boxes.first(where: { [UInt8]($0.recipient) == me.signing.publicKey.bytes && [UInt8]($0.prekey) == me.prekey.publicKey }),
              let ck0 = try? SealedBox.open([UInt8](box.sealed), keyPair: me.prekey), ck0.count == 32 else { continue }
        var chain = SenderChain(chainKey: ck0)
        let e = replica.byID[after[k].event.id]!
        guard let body = e.body, let (epoch, index) = SenderKeyBody.position(body), epoch == sk.epoch,
              var mk = chain.messageKey(at: index),
              let content = try? SenderKeyBody.open(body, messageKey: mk, group: group, author: e.author, seq: e.seq) else { continue }
        secureZero(&mk)
        if content.text.text == "message from member \(i)" { read += 1 }
    }
    let readTime = clock.now - readStart
    if read != remaining.count - 1 { checks.append("member \(reader) read \(read) of \(remaining.count - 1) post-removal messages") }

    // Report.
    let senders = remaining.count
    let plain = baseline.prefix(senders)   // the same senders' plain messages, before the removal
    let plainTime = plain.reduce(Duration.zero) { $0 + $1.author + $1.replica }
    let rotateSum = zip(rotations, after).reduce(Duration.zero) { $0 + $1.0.0.author + $1.0.0.replica + $1.1.author + $1.1.replica }
    let keyBytes = rotations.reduce(0) { $0 + $1.0.bytes }
    let removalBytes = remove.bytes + keyBytes
    let sealSum = rotations.reduce(Duration.zero) { $0 + $1.seal }
    let skAuthor = rotations.reduce(Duration.zero) { $0 + $1.0.author } - sealSum
    let skReplica = rotations.reduce(Duration.zero) { $0 + $1.0.replica }
    let msgAuthor = after.reduce(Duration.zero) { $0 + $1.author }
    let msgReplica = after.reduce(Duration.zero) { $0 + $1.replica }
    let d = Double(senders)
    print("removal.\(n): in memory, one thread, real libsodium; CPU and bytes only (no network, no store). Group: genesis, "
          + "\(n - 1) ADDs, \(n) PREKEYs, \(n) epoch-1 chains = \(setupEvents) events, set up in \(ms(setup)) ms")
    print("removal.\(n)   bytes \(kB(Double(removalBytes))) (REMOVE \(remove.bytes) B + \(senders) SENDER_KEY of \(senders) boxes, "
          + "\(kB(Double(keyBytes) / d)) each)   rotate \(senders) senders \(ms(removalWall)) ms (\(ms(rotateSum / senders)) ms each)   "
          + "vs \(senders) plain messages \(ms(plainTime)) ms   ratio \(String(format: "%.1f", seconds(removalWall) / seconds(plainTime)))")
    let plainAuthor = plain.reduce(Duration.zero) { $0 + $1.author }, plainReplica = plain.reduce(Duration.zero) { $0 + $1.replica }
    print("removal.detail  REMOVE \(ms(remove.author + remove.replica)) ms; per sender: seal \(senders) boxes \(ms(sealSum / senders)) ms, "
          + "SENDER_KEY author \(ms(skAuthor / senders)) ms + replica \(ms(skReplica / senders)) ms, "
          + "new-chain MESSAGE author \(ms(msgAuthor / senders)) ms + replica \(ms(msgReplica / senders)) ms "
          + "\(after.reduce(0) { $0 + $1.bytes } / senders) B; plain MESSAGE author \(ms(plainAuthor / senders)) ms + replica "
          + "\(ms(plainReplica / senders)) ms \(plain.reduce(0) { $0 + $1.bytes } / senders) B")
    print("removal.check   removed member: \(addressedToRemoved) of \(newBoxes) new boxes addressed to it, \(openedByRemoved) opened with its prekey; "
          + "member \(reader) opened its box of \(read) of \(senders - 1) other senders' new chains and read their post-removal messages "
          + "in \(ms(readTime)) ms")
    if !checks.isEmpty {
        for c in checks { print("removal FAILED: \(c)") }
        exit(1)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

private func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
private func ms(_ d: Duration) -> String { String(format: "%.2f", seconds(d) * 1e3) }
private func kB(_ bytes: Double) -> String { String(format: "%.1f kB", bytes / 1000) }
