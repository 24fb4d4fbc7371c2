import HarkCrypto
import HarkEventProto
import HarkLog
import HarkSync

// hark-bench sync: Kleppmann–Howard Algorithm 2 (docs/PROTOCOL.md §6.3) in-process over
// serialized frames, in the scenario of BEC §5, next to the paper's figures.

private let groupKey = [UInt8](repeating: 7, count: 32)
private let keyA = try! SigningKeyPair(seed: [UInt8](repeating: 1, count: 32))
private let keyB = try! SigningKeyPair(seed: [UInt8](repeating: 2, count: 32))

private func genesis() -> Event {
    var c = Hark_V1_Content()
    c.genesis.name = "bench"
    let body = try! BodyCipher.seal(c, groupKey: groupKey, groupID: nil, author: keyA.publicKey, seq: 1)
    return try! EventAuthor.make(kind: .genesis, groupID: nil, author: keyA, seq: 1, selfParent: nil,
                                 parents: [], wallMs: 1, body: body)
}

/// `count` messages by `key`, a chain continuing `selfParent`, the first also citing `parents`.
private func chain(_ count: Int, by key: SigningKeyPair, group: EventID, selfParent: Event?, parents: [Event],
                   bodyBytes: Int, tag: String) -> [Event] {
    var out: [Event] = []
    var prev = selfParent
    let text = String(repeating: "x", count: max(1, bodyBytes - 40))   // ≈ bodyBytes after sealing
    for i in 0..<count {
        let seq = (prev?.seq ?? 0) + 1
        var c = Hark_V1_Content()
        c.text.text = bodyBytes > 0 ? text : "\(tag)\(i)"
        let body = try! BodyCipher.seal(c, groupKey: groupKey, groupID: group, author: key.publicKey, seq: seq)
        let e = try! EventAuthor.make(kind: .message, groupID: group, author: key, seq: seq, selfParent: prev,
                                      parents: i == 0 ? parents : [], wallMs: Int64(seq), body: body)
        out.append(e)
        prev = e
    }
    return out
}

private func kB(_ bytes: Double) -> String { String(format1(bytes / 1000)) + " kB" }
private func format1(_ x: Double) -> String { String(Double(Int((x * 100).rounded())) / 100) }

func runSyncBenchmark() {
    let args = Array(CommandLine.arguments.dropFirst(2))
    let seeds = Int(args.first { $0.hasPrefix("--seeds=") }?.dropFirst(8) ?? "") ?? 20
    let bigN = Int(args.first { $0.hasPrefix("--big=") }?.dropFirst(6) ?? "") ?? 100_000
    let bodyBytes = Int(args.first { $0.hasPrefix("--body=") }?.dropFirst(7) ?? "") ?? 0
    let ns = (args.first { $0.hasPrefix("--ns=") }?.dropFirst(5)).map { $0.split(separator: ",").compactMap { Int($0) } } ?? [10, 100, 1000]
    print("""
    legend: a round trip = one request from a side (its SyncRequest, or one batch of Needs frames sent
            together) and the SyncReply(s) that end the peer's answer; both sides sync concurrently, so
            a sync's round trips = max over the two sides (1 = no Needs at all).
            overhead = serialized Frame bytes of both directions minus the events' own serialized
            SignedEvent bytes; split into sync frames (SyncRequest with heads/since/Bloom, SyncReply,
            Needs) and event framing (Events frame header, group ID, per-event tag+length).
            Noise/TCP framing (2 + 16 B per frame) is not counted.
    scenario (BEC §5): A and B share n events (A's chain) and have synced once (stored heads), then
            each writes a chain of n more; one sync. Bloom salts are fresh per filter; \(seeds) runs per n.
            bodies: \(bodyBytes == 0 ? "short (~30 B)" : "≈\(bodyBytes) B").
    """)
    let clock = ContinuousClock()
    for n in ns {
        let g = genesis()
        var a = SyncReplica(name: "A"), b = SyncReplica(name: "B")
        let shared = chain(n, by: keyA, group: g.id, selfParent: g, parents: [], bodyBytes: bodyBytes, tag: "s")
        try! a.receive([g] + shared)
        try! b.receive([g] + shared)
        _ = try! Loopback.sync(&a, &b, group: g.id)   // establishes stored heads
        let newA = chain(n, by: keyA, group: g.id, selfParent: shared.last!, parents: [], bodyBytes: bodyBytes, tag: "a")
        let newB = chain(n, by: keyB, group: g.id, selfParent: nil, parents: [shared.last!], bodyBytes: bodyBytes, tag: "b")
        try! a.receive(newA)
        try! b.receive(newB)
        for useStored in [true, false] {
            var rt = 0.0, over = 0.0, sync = 0.0, framing = 0.0, req = 0.0, events = 0.0
            var histogram: [Int: Int] = [:]
            var ok = true
            let t = clock.measure {
                for _ in 0..<seeds {
                    var x = a, y = b
                    let s = try! Loopback.sync(&x, &y, group: g.id, useStoredHeads: useStored)
                    guard case .complete? = s.outcomeA, case .complete? = s.outcomeB,
                          x.graph.count == y.graph.count, x.graph.count == 1 + 3 * n else { ok = false; continue }
                    rt += Double(s.roundTrips)
                    histogram[s.roundTrips, default: 0] += 1
                    over += Double(s.overheadBytes); sync += Double(s.syncFrameBytes)
                    framing += Double(s.eventFramingBytes); req += Double(s.requestBytes); events += Double(s.eventBytes)
                }
            }
            let k = Double(seeds)
            let label = useStored ? "" : " (no stored heads)"
            let hist = histogram.keys.sorted().map { "\($0):\(histogram[$0]!)" }.joined(separator: " ")
            print("sync.bec n=\(n)\(label)  round_trips \(format1(rt / k)) (paper 1.02) [\(hist)]  overhead \(kB(over / k)) (paper 1–3 kB)"
                  + " = sync frames \(kB(sync / k)) (requests \(kB(req / k))) + event framing \(kB(framing / k))"
                  + "  events \(kB(events / k))  \(ok ? "converged" : "DID NOT CONVERGE")  \(format1((Double(t.components.seconds) + Double(t.components.attoseconds) * 1e-18) / k))s/run")
        }
    }

    // One event of N missing.
    guard bigN >= 3 else { return }
    let g = genesis()
    let t0 = clock.now
    let all = chain(bigN - 1, by: keyA, group: g.id, selfParent: g, parents: [], bodyBytes: 0, tag: "m")
    let built = clock.now - t0
    var a = SyncReplica(name: "A"), b = SyncReplica(name: "B")
    try! a.receive([g] + all)
    try! b.receive([g] + all.dropLast())
    print("sync.missing1: built a linear \(bigN)-event graph (EventAuthor, signed) in \(built)")
    // Stored heads as after a sync when both had N−1 events.
    a.storedHeads["B"] = [all[all.count - 2].id]
    b.storedHeads["A"] = [all[all.count - 2].id]
    for useStored in [true, false] {
        var x = a, y = b
        let s = try! Loopback.sync(&x, &y, group: g.id, useStoredHeads: useStored)
        let done: Bool = { if case .complete? = s.outcomeA, case .complete? = s.outcomeB { return true }; return false }()
        print("sync.missing1 n=\(bigN)\(useStored ? "" : " (no stored heads)")  round_trips \(s.roundTrips)"
              + "  bytes \(s.frameBytes) total, \(s.overheadBytes) overhead (requests \(s.requestBytes)), events sent \(s.eventsSent)"
              + "  \(done && x.graph.count == y.graph.count ? "converged" : "DID NOT CONVERGE")")
    }
}
