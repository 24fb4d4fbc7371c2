import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import PropertyBased
import Testing

/// Properties over random DAGs of three authors, built only with `EventAuthor.make`.
@Suite struct GraphPropertyTests {
    static let choices = Gen.int(in: 0...10_000).array(of: 1...30)

    @Test func randomGraphsDecodeAndValidate() async {
        await propertyCheck(count: 60, input: Self.choices) { choices in
            let graph = try RandomGraph(choices: choices)
            #expect(graph.events.count == choices.count + 1)
            var delivered: [EventID: Event] = [:]
            for e in graph.events {   // creation order is a causal delivery order
                let wire = try Event(decodingBytes: e.serializedBytes())
                #expect(wire == e)
                try EventValidator.validate(wire, parents: delivered)
                #expect(wire.effectiveGroupID == graph.genesis.id)
                delivered[wire.id] = wire
            }
            // Per-author chains are gap-free: seqs are 1…n.
            for a in 0..<3 {
                let seqs = graph.events.filter { graph.authorOf[$0.id] == a }.map(\.seq)
                #expect(seqs == (0..<seqs.count).map { UInt64($0 + 1) })
            }
        }
    }

    @Test func totalOrderIsALinearExtensionOfCausality() async {
        await propertyCheck(count: 60, input: Self.choices) { choices in
            let graph = try RandomGraph(choices: choices)
            let ordered = graph.events.shuffled().sorted(by: EventOrder.precedes)
            #expect(ordered == graph.events.reversed().sorted(by: EventOrder.precedes))   // input order irrelevant
            let position = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1.id, $0) })
            for e in ordered {
                for ancestor in graph.ancestors(of: e.id) {
                    #expect(position[ancestor]! < position[e.id]!)
                }
            }
            // Strict: no two distinct events tie.
            for (a, b) in zip(ordered, ordered.dropFirst()) { #expect(EventOrder.precedes(a, b)) }
            #expect(ordered.first == graph.genesis)
        }
    }

    static let mutationCount = 19

    @Test func mutatedEventsAreRejected() async {
        await propertyCheck(count: 150, input: Self.choices, Gen.int(in: 0...(Self.mutationCount - 1)), Gen.int(in: 0...1_000)) { choices, mutation, pick in
            let graph = try RandomGraph(choices: choices)
            let target = graph.events[1 + pick % (graph.events.count - 1)]   // not the genesis
            let key = Fixture.authors[graph.authorOf[target.id]!]
            let outcome = Self.mutate(target, mutation, key: key, graph: graph)
            switch outcome {
            case let .rejected(check):
                do throws(EventError) {
                    let e = try Event(decoding: check.signed)
                    try EventValidator.validate(e, parents: graph.byID)
                    Issue.record("mutation \(mutation) was accepted")
                } catch {
                    #expect(check.accepts(error), "mutation \(mutation): unexpected \(error)")
                }
            case let .valid(signed):
                let e = try Event(decoding: signed)
                try EventValidator.validate(e, parents: graph.byID)
            }
        }
    }

    struct Check {
        let signed: Hark_V1_SignedEvent
        let accepts: (EventError) -> Bool
    }

    enum Outcome {
        case rejected(Check)
        case valid(Hark_V1_SignedEvent)   // the mutation happens to produce a legitimate event
    }

    static func resign(_ e: Event, key: SigningKeyPair, body: [UInt8]?? = .none, _ modify: (inout Hark_V1_EventHeader) -> Void) -> Hark_V1_SignedEvent {
        var h = e.header
        modify(&h)
        return EventAuthor.sign(headerBytes: try! h.serializedBytes(), body: body ?? e.body, key: key)
    }

    static func mutate(_ e: Event, _ m: Int, key: SigningKeyPair, graph: RandomGraph) -> Outcome {
        func rejected(_ signed: Hark_V1_SignedEvent, _ accepts: @escaping (EventError) -> Bool) -> Outcome {
            .rejected(Check(signed: signed, accepts: accepts))
        }
        func exactly(_ expected: EventError, _ modify: (inout Hark_V1_EventHeader) -> Void) -> Outcome {
            rejected(resign(e, key: key, modify)) { $0 == expected }
        }
        let sorted = { (ds: [Data]) in ds.sorted { $0.lexicographicallyPrecedes($1) } }
        switch m {
        case 0: return exactly(.unsupportedFormat(2)) { $0.format = 2 }
        case 1: return exactly(.wrongLamport(expected: e.lamport, actual: e.lamport + 1)) { $0.lamport += 1 }
        case 2:
            let expected: EventError = e.lamport == 2 ? .lamportTooSmall(1) : .wrongLamport(expected: e.lamport, actual: e.lamport - 1)
            return exactly(expected) { $0.lamport -= 1 }
        case 3:
            if let sp = e.selfParent {
                return exactly(.selfParentSeqMismatch(expected: e.seq, actual: graph.byID[sp]!.seq)) { $0.seq += 1 }
            }
            return exactly(.missingSelfParent(seq: 2)) { $0.seq = 2 }
        case 4: return exactly(.seqZero) { $0.seq = 0 }
        case 5:
            if e.selfParent != nil { return exactly(.missingSelfParent(seq: e.seq)) { $0.selfParent = Data() } }
            return exactly(.unexpectedSelfParent) { $0.selfParent = Fixture.randomID() }
        case 6:
            if let first = e.parents.first {
                return exactly(.duplicateParent(first)) { $0.parents.insert($0.parents[0], at: 0) }
            }
            return exactly(.selfParentInParents) { $0.parents = [$0.selfParent] }
        case 7:
            if e.parents.count >= 2 { return exactly(.parentsNotSorted) { $0.parents.reverse() } }
            return exactly(.unknownKind(0)) { $0.kind = .unspecified }
        case 8: return exactly(.unknownKind(77)) { $0.kind = .UNRECOGNIZED(77) }
        case 9: return exactly(.genesisMismatch(kind: 1, hasGroupID: true)) { $0.kind = .genesis }
        case 10: return exactly(.genesisMismatch(kind: 2, hasGroupID: false)) { $0.groupID = Data() }
        case 11:
            let signed = resign(e, key: key) { $0.groupID = Fixture.randomID() }
            return rejected(signed) { if case .foreignParent = $0 { return true } else { return false } }
        case 12: return rejected(EventAuthor.sign(headerBytes: e.headerBytes, body: e.body, key: Fixture.authors.first { $0.publicKey != key.publicKey }!)) { $0 == .badSignature }
        case 13:
            let other = Fixture.authors.first { $0.publicKey != key.publicKey }!
            let signed = resign(e, key: other) { $0.author = Data(other.publicKey.bytes) }
            // A first event by someone else with the same parents is legitimate.
            if e.selfParent == nil { return .valid(signed) }
            return rejected(signed) { $0 == .selfParentAuthorMismatch }
        case 14: return exactly(.bodyHashMismatch) { $0.bodyHash[$0.bodyHash.startIndex] ^= 1 }
        case 15: return exactly(.bodyLengthMismatch(declared: e.header.bodyLen + 1, actual: e.body!.count)) { $0.bodyLen += 1 }
        case 16: return .valid(resign(e, key: key, body: .some(nil)) { _ in })   // purged: still valid
        case 17:
            let many = (0..<17).map { _ in Fixture.randomID() }
            return exactly(.tooManyParents(17)) { $0.parents = sorted(many) }
        default:
            let unknown = Fixture.randomID()
            let signed = resign(e, key: key) { $0.parents = sorted($0.parents + [unknown]) }
            return rejected(signed) { $0 == .missingParents([try! EventID(bytes: [UInt8](unknown))]) }
        }
    }
}
