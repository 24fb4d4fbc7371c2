import HarkFiles
import HarkTesting
import Testing

@Suite struct FetchSchedulerTests {
    typealias Scheduler = FetchScheduler<String>
    /// `n` chunks of 64 KiB in one file, the last one 100 bytes.
    func layout(_ n: Int) -> ChunkLayout { ChunkLayout(files: [(size: UInt64(n - 1) * 65536 + 100, chunkSize: 65536)]) }
    func config(inFlight: Int = 2, timeout: Int64 = 1000, maxTimeouts: Int = 3, wait: Int64 = 5000) -> Scheduler.Configuration {
        .init(maxInFlightPerPeer: inFlight, requestTimeoutMs: timeout, maxConsecutiveTimeouts: maxTimeouts,
              backoffBaseMs: 100, backoffMaxMs: 800, waitForSourcesMs: wait)
    }

    @Test func twoCompleteSourcesBothGetRequests() {
        var s = Scheduler(layout: layout(10), configuration: config(inFlight: 2))
        s.addPeer("A", holding: .all)
        s.addPeer("B", holding: .all)
        let first = s.poll(nowMs: 0)
        #expect(first.count == 4)
        #expect(Set(first.map(\.chunk)) == [0, 1, 2, 3], "lowest chunks first, no chunk twice")
        #expect(first.filter { $0.peer == "A" }.count == 2 && first.filter { $0.peer == "B" }.count == 2)
        do { let polled = s.poll(nowMs: 1); #expect(polled.isEmpty, "both peers are at their in-flight limit") }
        for r in first { let ok = s.delivered(r.peer, chunk: r.chunk); #expect(ok) }
        var t: Int64 = 2
        var steps = 0
        while s.status != .complete && steps < 100 {
            for r in s.poll(nowMs: t) { s.delivered(r.peer, chunk: r.chunk) }
            t += 1; steps += 1
        }
        #expect(s.status == .complete)
        #expect(s.bytesDelivered(by: "A") > 0 && s.bytesDelivered(by: "B") > 0)
        #expect(s.bytesDelivered(by: "A") + s.bytesDelivered(by: "B") == 9 * 65536 + 100)
        let expected = Scheduler.Progress(chunksDone: 10, chunksTotal: 10, bytesDone: 9 * 65536 + 100,
                                          bytesTotal: 9 * 65536 + 100, inFlight: 0, activePeers: 2)
        #expect(s.progress == expected)
        do { let polled = s.poll(nowMs: t); #expect(polled.isEmpty && s.nextDeadlineMs() == nil) }
    }

    @Test("a rate limit paces requests (one-chunk burst, then rate × time) and never counts as stuck")
    func rateLimit() {
        var c = config(inFlight: 8, wait: 0)
        c.maxBytesPerSecond = 131_072   // two 64 KiB chunks per second
        var s = Scheduler(layout: layout(10), configuration: c)
        s.addPeer("A", holding: .all)
        let first = s.poll(nowMs: 1000)
        #expect(first.map(\.chunk) == [0], "the burst is one chunk")
        s.delivered("A", chunk: 0)
        #expect(s.poll(nowMs: 1000).isEmpty)
        #expect(s.status == .running, "held back by the limit: not waiting for sources, not failed (wait is 0)")
        #expect(s.nextDeadlineMs() == 1500, "the next chunk is affordable after 65536 / 131072 s")
        #expect(s.poll(nowMs: 1499).isEmpty)
        #expect(s.poll(nowMs: 1500).map(\.chunk) == [1])
        // Over a long stretch the bytes asked for stay within rate × time + one chunk.
        var t: Int64 = 1500
        var asked = 2
        var steps = 0
        while s.status != .complete && steps < 10_000 {
            for r in s.poll(nowMs: t) { asked += 1; s.delivered(r.peer, chunk: r.chunk) }
            #expect(Int64(asked - 1) * 65536 <= 131_072 * (t - 1000) / 1000 + 65536)
            t += 10; steps += 1
        }
        #expect(s.status == .complete)
        #expect(t >= 1000 + 4000, "9 chunks after the burst at 2 per second take ≥ 4 s (done at \(t))")
    }

    @Test("requests start at startChunk and wrap around to 0; a partial holder is asked only for what it holds")
    func startChunkWraps() {
        var c = config(inFlight: 5)
        c.startChunk = 7
        var s = Scheduler(layout: layout(10), configuration: c)
        s.addPeer("A", holding: .all)
        #expect(s.poll(nowMs: 0).map(\.chunk) == [7, 8, 9, 0, 1])
        var half = ChunkBitmap(count: 10)
        for i in 2..<5 { half.insert(i) }
        s.addPeer("B", holding: .some(half))
        #expect(Set(s.poll(nowMs: 1).filter { $0.peer == "B" }.map(\.chunk)) == [2, 3, 4])
    }

    @Test func corruptPeerIsDroppedAndTheChunkComesFromAnother() {
        var s = Scheduler(layout: layout(6), configuration: config(inFlight: 1))
        s.addPeer("liar", holding: .all)
        s.addPeer("honest", holding: .all)
        let first = s.poll(nowMs: 0)
        #expect(first == [Scheduler.Request(peer: "liar", chunk: 0), Scheduler.Request(peer: "honest", chunk: 1)])
        s.corrupt("liar", chunk: 0)
        #expect(s.dropReason("liar") == .corrupt(chunk: 0))
        let accepted = s.addPeer("liar", holding: .all); #expect(accepted == false, "a corrupt peer cannot come back")
        s.delivered("honest", chunk: 1)
        var asked: [Scheduler.Request] = []
        var t: Int64 = 1
        while s.status != .complete && t < 100 {
            let rs = s.poll(nowMs: t)
            asked += rs
            for r in rs { s.delivered(r.peer, chunk: r.chunk) }
            t += 1
        }
        #expect(s.status == .complete)
        #expect(asked.first == Scheduler.Request(peer: "honest", chunk: 0), "the corrupt chunk is asked again, from the other peer")
        #expect(asked.allSatisfy { $0.peer == "honest" })
    }

    @Test func timedOutRequestIsReassignedAndSlowPeerBacksOffThenIsDropped() {
        var s = Scheduler(layout: layout(8), configuration: config(inFlight: 1, timeout: 1000, maxTimeouts: 2))
        s.addPeer("slow", holding: .all)
        s.addPeer("fast", holding: .all)
        do { let polled = s.poll(nowMs: 0); #expect(polled.map(\.description) == ["slow#0", "fast#1"]) }
        #expect(s.nextDeadlineMs() == 1000)
        s.delivered("fast", chunk: 1)
        do { let polled = s.poll(nowMs: 10); #expect(polled.map(\.description) == ["fast#2"]) }
        s.delivered("fast", chunk: 2)
        // Chunk 0 times out at the slow peer: it goes to the fast one; slow backs off 100 ms.
        do { let polled = s.poll(nowMs: 1000); #expect(polled.map(\.description) == ["fast#0"]) }
        #expect(s.inFlight(at: "slow") == [])
        do { let polled = s.poll(nowMs: 1050); #expect(polled.isEmpty, "slow is backing off, fast is busy") }
        #expect(s.nextDeadlineMs() == 1100)
        do { let polled = s.poll(nowMs: 1100); #expect(polled.map(\.description) == ["slow#3"]) }
        // A late reply to the timed-out request is still good data.
        let late = s.delivered("slow", chunk: 0); #expect(late)
        #expect(s.inFlight(at: "fast") == [], "the duplicate request is forgotten")
        // Two consecutive timeouts drop the slow peer (the late reply reset its count).
        s.delivered("fast", chunk: 0)   // duplicate: ignored
        #expect(s.progress.chunksDone == 3)
        _ = s.poll(nowMs: 1101)          // fast gets chunk 4
        #expect(s.inFlight(at: "fast") == [4])
        s.delivered("fast", chunk: 4)
        let r = s.poll(nowMs: 2100)      // slow#3 timed out (1st); fast takes 3
        #expect(r.map(\.description) == ["fast#3"])
        #expect(s.dropReason("slow") == nil)
        s.delivered("fast", chunk: 3)
        _ = s.poll(nowMs: 2300)          // slow's 100 ms backoff is over: each gets one of 5, 6
        #expect(s.inFlight(at: "slow").count == 1 && s.inFlight(at: "fast").count == 1)
        #expect(Set(s.inFlight(at: "slow") + s.inFlight(at: "fast")) == [5, 6])
        _ = s.poll(nowMs: 3300)          // second consecutive timeout
        #expect(s.dropReason("slow") == .unresponsive)
        #expect(s.inFlight(at: "slow") == [])
        // The dropped peer can come back when it reconnects.
        let accepted = s.addPeer("slow", holding: .all); #expect(accepted)
        #expect(s.dropReason("slow") == nil)
    }

    @Test func allSourcesGoneEndsInATerminalStateWithoutBusyRetry() {
        var s = Scheduler(layout: layout(4), configuration: config(inFlight: 2, wait: 5000))
        s.addPeer("A", holding: .all)
        do { let polled = s.poll(nowMs: 0); #expect(polled.count == 2) }
        s.delivered("A", chunk: 0)
        s.sourceChanged("A")
        #expect(s.dropReason("A") == .sourceChanged)
        let accepted = s.addPeer("A", holding: .all); #expect(accepted == false, "its file changed; asking again would not help")
        do { let polled = s.poll(nowMs: 10); #expect(polled.isEmpty) }
        #expect(s.status == .failed(.sourceChanged(missing: 3)), "no other holder: fails at once, without waiting for sources")
        #expect(s.nextDeadlineMs() == nil)
        // Terminal: a new peer does not restart it.
        s.addPeer("B", holding: .all)
        do { let polled = s.poll(nowMs: 6000); #expect(polled.isEmpty && s.status == .failed(.sourceChanged(missing: 3))) }
    }

    @Test func waitingResumesWhenAPeerAppearsAndFailsAtOnceWithZeroWait() {
        var s = Scheduler(layout: layout(3), configuration: config(wait: 1000))
        do { let polled = s.poll(nowMs: 0); #expect(polled.isEmpty && s.status == .waiting(untilMs: 1000)) }
        s.addPeer("late", holding: .all)
        #expect(s.status == .running)
        do { let polled = s.poll(nowMs: 500); #expect(polled.map(\.description) == ["late#0", "late#1"]) }

        var z = Scheduler(layout: layout(3), configuration: config(wait: 0))
        z.addPeer("A", holding: .all)
        _ = z.poll(nowMs: 0)
        z.removePeer("A")
        do { let polled = z.poll(nowMs: 1); #expect(polled.isEmpty) }
        #expect(z.status == .failed(.noSources(missing: 3)))
    }

    @Test func partialHoldersAreAskedOnlyForWhatTheyHoldAndAMissingChunkFails() {
        var evens = ChunkBitmap(count: 7), odds = ChunkBitmap(count: 7)
        for i in 0..<7 where i != 5 { if i % 2 == 0 { evens.insert(i) } else { odds.insert(i) } }   // nobody has 5
        var s = Scheduler(layout: layout(7), configuration: config(inFlight: 4, wait: 0))
        s.addPeer("E", holding: .some(evens))
        s.addPeer("O", holding: .some(odds))
        var asked: [Scheduler.Request] = []
        var t: Int64 = 0
        while t < 50, case .running = s.status {
            let rs = s.poll(nowMs: t)
            asked += rs
            for r in rs { s.delivered(r.peer, chunk: r.chunk) }
            t += 1
        }
        #expect(asked.allSatisfy { ($0.peer == "E") == ($0.chunk % 2 == 0) })
        #expect(Set(asked.map(\.chunk)) == [0, 1, 2, 3, 4, 6])
        #expect(s.status == .failed(.noSources(missing: 1)))
        #expect(!s.verified.contains(5))
    }

    @Test func peerHasMakesAChunkAvailable() {
        var s = Scheduler(layout: layout(2), configuration: config(wait: 10_000))
        s.addPeer("P", holding: .some(ChunkBitmap(count: 2)))
        do { let polled = s.poll(nowMs: 0); #expect(polled.isEmpty && s.status == .waiting(untilMs: 10_000)) }
        s.peerHas("P", chunk: 1)
        do { let polled = s.poll(nowMs: 1); #expect(polled.map(\.description) == ["P#1"]) }
    }

    @Test func resumedChunksAreNotFetched() {
        var have = ChunkBitmap(count: 5)
        have.insert(0); have.insert(1); have.insert(3)
        var s = Scheduler(layout: layout(5), alreadyHave: have, configuration: config(inFlight: 8))
        #expect(s.progress.bytesDone == 3 * 65536)
        s.addPeer("A", holding: .all)
        do { let polled = s.poll(nowMs: 0); #expect(polled.map(\.chunk) == [2, 4]) }
        #expect(Scheduler(layout: layout(2), alreadyHave: .full(count: 2)).status == .complete)
    }

    /// Many seeded runs with an honest, a lying and a lossy peer: every run completes, the liar is
    /// dropped after its first lie, no peer ever has more than the limit in flight.
    @Test func randomisedSwarmCompletesDespiteLiarsAndLoss() {
        for seed in UInt64(1)...30 {
            var rng = SeededRNG(seed: seed)
            let n = 40
            var s = Scheduler(layout: layout(n), configuration: config(inFlight: 3, timeout: 200, maxTimeouts: 100))
            for p in ["honest", "liar", "lossy"] { s.addPeer(p, holding: .all) }
            var pending: [(due: Int64, request: Scheduler.Request)] = []
            var liedAt: Int64?
            var t: Int64 = 0
            while s.status != .complete && t < 100_000 {
                for r in s.poll(nowMs: t) {
                    if let lied = liedAt { #expect(r.peer != "liar", "seed \(seed): liar asked at \(t) after lying at \(lied)") }
                    pending.append((t + Int64.random(in: 1...30, using: &rng), r))
                }
                for p in ["honest", "liar", "lossy"] { #expect(s.inFlight(at: p).count <= 3) }
                let due = pending.filter { $0.due <= t }
                pending.removeAll { $0.due <= t }
                for (_, r) in due {
                    switch r.peer {
                    case "liar" where Int.random(in: 0..<4, using: &rng) == 0:
                        if liedAt == nil { liedAt = t }
                        s.corrupt(r.peer, chunk: r.chunk)
                    case "lossy" where Int.random(in: 0..<3, using: &rng) == 0:
                        break   // never answers
                    default:
                        s.delivered(r.peer, chunk: r.chunk)
                    }
                }
                t += 5
            }
            #expect(s.status == .complete, "seed \(seed)")
            #expect(s.verified.isFull)
            if liedAt != nil {
                var droppedAsCorrupt = false
                if case .corrupt? = s.dropReason("liar") { droppedAsCorrupt = true }
                #expect(droppedAsCorrupt, "seed \(seed)")
            }
        }
    }
}
