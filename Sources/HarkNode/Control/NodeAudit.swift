import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore

extension Hark_V1_EventKind {
    /// The lowercase name used in JSON (`message`, `edit`, `equivocation_proof`, …).
    var jsonName: String {
        switch self {
        case .genesis: return "genesis"
        case .message: return "message"
        case .join: return "join"
        case .edit: return "edit"
        case .delete: return "delete"
        case .reaction: return "reaction"
        case .equivocationProof: return "equivocation_proof"
        case .read: return "read"
        case .member: return "member"
        case .prekey: return "prekey"
        case .senderKey: return "sender_key"
        case .historyKey: return "history_key"
        case .fileOffer: return "file_offer"
        case .unspecified, .UNRECOGNIZED: return "unknown"
        }
    }
}

extension Node {
    /// Every event ID of the group in total order (`hark log --ids`): read from the store's
    /// order index a page at a time (`Store.nextSyncPage` over every event), without loading
    /// the group's graph, which would then stay loaded and take every later delivery. From the
    /// graph only when it is loaded already or an author forked (the store has no frontier).
    func eventIDs(group ref: String) throws -> [String] {
        let g = try resolveGroup(ref)
        if logState.graphs[g.id] == nil, let frontier = try store.syncFrontier(group: g.id, knownBy: []) {
            var scan = try store.syncScan(frontier)
            var out: [String] = []
            while !scan.finished {
                out += try store.nextSyncPage(&scan, maxEvents: 8192, withSigned: false) { _ in true }.map(\.id.hex)
            }
            return out
        }
        return try graph(for: g.id).allInOrder.map(\.hex)
    }

    /// The group's events with their parents, in total order (`hark log --graph`): from the
    /// loaded graph, or from one built for this answer and dropped after it (it is not kept, so
    /// deliveries keep validating from the store).
    func graphRows(group ref: String) throws -> [GraphRow] {
        let g = try resolveGroup(ref)
        var graph = logState.graphs[g.id] ?? CausalGraph()
        if logState.graphs[g.id] == nil {
            for e in try store.events(group: g.id, limit: nil, afterLamport: nil) { try graph.insert(e) }   // parents first
        }
        return graph.allInOrder.compactMap { id in
            guard let e = graph.entry(id) else { return nil }
            return GraphRow(id: id.hex, lamport: e.lamport, author: PeerID(e.author).description,
                            authorName: displayName(of: e.author), kind: e.kind.jsonName, parents: e.parents.map(\.hex))
        }
    }

    /// The group's signed events, in total order, as stored (`hark export`).
    func exportEvents(group ref: String) throws -> [ExportedEvent] {
        let g = try resolveGroup(ref)
        return try store.events(group: g.id, limit: nil, afterLamport: nil).map { e in
            ExportedEvent(id: e.id.hex, group: g.id.hex, lamport: e.lamport, kind: e.kind.jsonName, signed: Data(e.serializedBytes()),
                          hasBody: e.body != nil)
        }
    }

    /// Verifies and stores signed events (`hark import`), in any order, for groups this node
    /// holds. Nothing invalid is stored; events already held are skipped. Each group's events go
    /// through its `EventIntake` in total order, `importChunk` at a time, so only events whose
    /// parents are absent stay waiting.
    func importEvents(_ blobs: [Data]) throws -> ImportResult {
        var result = ImportResult(imported: 0, alreadyHeld: 0, rejected: 0, reasons: [], missingParents: 0)
        func reject(_ why: String) {
            result.rejected += 1
            if result.reasons.count < 100 { result.reasons.append(why) }
        }
        var byGroup: [EventID: [Event]] = [:]
        for blob in blobs {
            let e: Event
            do { e = try Event(decodingBytes: [UInt8](blob)) } catch { reject("undecodable event: \(error)"); continue }
            let group = e.effectiveGroupID
            guard try store.group(id: group) != nil else { reject("event \(e.id.shortHex) is for a group this node is not a member of"); continue }
            if try store.contains(e.id) { result.alreadyHeld += 1; continue }
            if try store.isRejected(e.id) || logState.isRejected(e.id, group: group) {
                reject("event \(e.id.shortHex) was rejected before")
                continue
            }
            byGroup[group, default: []].append(e)
        }
        for (group, events) in byGroup {
            let before = try store.eventCount(group: group)
            let ordered = events.inTotalOrder()
            for start in stride(from: 0, to: ordered.count, by: Self.importChunk) {
                let chunk = ordered[start..<min(ordered.count, start + Self.importChunk)]
                var intake = logState.intakes.removeValue(forKey: group) ?? EventIntake(group: group, maxWaiting: SyncLimits.maxPendingPerGroup)
                do { try intake.admit(chunk) } catch {
                    logState.intakes[group] = intake
                    reject("\(ordered.count - start) events not imported: \(error)")
                    break
                }
                logState.intakes[group] = intake
                do { try deliverPending(group: group, from: nil) } catch { reject("\(error)") }
            }
            result.imported += try store.eventCount(group: group) - before
            result.missingParents += events.filter { logState.isWaiting($0.id, group: group) }.count
        }
        return result
    }

    /// Events of one group handed to its intake at a time by `importEvents`.
    static let importChunk = 4_096

    /// Re-checks every stored event of one group, or of all groups (`hark verify`).
    func verify(group ref: String?) throws -> [VerifyReport] {
        let groups = try ref.map { [try resolveGroup($0)] } ?? store.allGroups()
        var reports: [VerifyReport] = []
        for g in groups {
            var problems: [String] = []
            var graph = CausalGraph()
            var count = 0
            let events: [Event]
            do { events = try store.events(group: g.id, limit: nil, afterLamport: nil) } catch {
                problems.append("stored events do not decode: \(error)")
                reports.append(VerifyReport(group: g.id.hex, name: g.name, events: 0, problems: problems, forks: []))
                continue
            }
            var byID: [EventID: Event] = [:]
            for e in events { byID[e.id] = e }
            for e in events {
                count += 1
                // Store reads re-decode every event (ID = hash of the header bytes, structure, body
                // hash) but skip the signature, checked here.
                if !e.hasValidSignature { problems.append("event \(e.id.shortHex): signature does not verify") }
                var parents: [EventID: Event] = [:]
                for p in e.allParents { if let pe = byID[p] { parents[p] = pe } }
                do {
                    let context = KeyedGroupContext(graph: graph, groupKey: g.key, membershipIndex: membershipIndex(for: g.id))
                    try withMemberContents(group: g.id) { () throws(EventError) in try EventValidator.validate(e, parents: parents, context: context) }
                } catch {
                    problems.append("event \(e.id.shortHex): \(error)")
                }
                if e.allParents.allSatisfy({ graph.contains($0) }) {
                    _ = try? graph.insert(e)
                } else {
                    problems.append("event \(e.id.shortHex): parents missing from the store")
                }
            }
            let storedHeads = Set(try store.heads(group: g.id))
            if storedHeads != Set(graph.heads) {
                problems.append("stored heads (\(storedHeads.count)) differ from the heads of the graph (\(graph.heads.count))")
            }
            let forks = graph.forks.map { f in
                ForkView(author: PeerID(f.author).description, authorName: displayName(of: f.author), seq: f.seq,
                         events: [f.first.hex, f.second.hex])
            }
            reports.append(VerifyReport(group: g.id.hex, name: g.name, events: count, problems: problems, forks: forks))
        }
        return reports
    }
}
