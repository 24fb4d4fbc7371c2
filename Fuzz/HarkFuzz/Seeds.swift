// The seed corpus: real encodings made with the fixed keys of `Keys`, each prefixed with the
// byte that selects its target. Deterministic (fixed keys, fixed clock, fixed salt), so
// regenerating it (`make fuzz-seeds`) gives the same files.

import Foundation
import HarkCrypto
import HarkLog
import HarkNoise
import HarkSync
import HarkWire
import HarkWireProto
import SwiftProtobuf

enum Seeds {
    static func all() throws -> [(name: String, target: Target, bytes: [UInt8])] {
        let wall: Int64 = 1_780_000_000_000
        let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: Keys.identity, seq: 1,
                                           selfParent: nil, parents: [], wallMs: wall, body: Array("genesis".utf8))
        let message = try EventAuthor.make(kind: .message, groupID: genesis.id, author: Keys.identity, seq: 2,
                                           selfParent: genesis, parents: [], wallMs: wall + 1,
                                           body: Array("hello, LAN".utf8))
        let join = try EventAuthor.make(kind: .join, groupID: genesis.id, author: Keys.peerIdentity, seq: 1,
                                        selfParent: nil, parents: [message], wallMs: wall + 2, body: nil)
        // A fork of the identity's seq 2, and the peer's proof of it (cleartext body).
        let fork = try EventAuthor.make(kind: .message, groupID: genesis.id, author: Keys.identity, seq: 2,
                                        selfParent: genesis, parents: [], wallMs: wall + 3, body: Array("fork".utf8))
        let proof = try EventAuthor.make(kind: .equivocationProof, groupID: genesis.id, author: Keys.peerIdentity,
                                         seq: 2, selfParent: join, parents: [fork], wallMs: wall + 4,
                                         body: try encode(EquivocationProof.make(message, fork)))

        var events = Hark_V1_Events()
        events.groupID = Data(genesis.id.bytes)
        events.events = [genesis.signedEvent, message.signedEvent, join.signedEvent]
        var eventsFrame = Hark_V1_Frame()
        eventsFrame.events = events

        let bloom = BloomFilter([genesis.id, message.id, join.id], salt: Array(repeating: 0x5a, count: BloomFilter.saltByteCount))
        var request = Hark_V1_SyncRequest()
        request.groupID = Data(genesis.id.bytes)
        request.heads = [Data(join.id.bytes)]
        request.since = [Data(genesis.id.bytes)]
        request.bloom = bloom.proto
        var syncFrame = Hark_V1_Frame()
        syncFrame.syncRequest = request

        var headsFrame = Hark_V1_Frame()
        headsFrame.heads.groupID = Data(genesis.id.bytes)
        headsFrame.heads.heads = [Data(join.id.bytes)]
        var pingFrame = Hark_V1_Frame()
        pingFrame.ping.nonce = 42

        let hello = LocalHello(identity: Keys.identity, noiseStatic: Keys.noiseStatic, displayName: "alice",
                               instanceToken: Array(repeating: 7, count: 8), listenPort: 4242)
        let payload = try HandshakePayloadCodec.makePayload(hello)

        let eventsBytes = try encode(eventsFrame)
        let syncBytes = try encode(syncFrame)

        // What an honest sender puts on the wire for these frames on a fresh channel.
        var sender = RecordLayer(transport: Keys.transports.sender)
        var stream: [UInt8] = []
        for frame in [eventsFrame, syncFrame, pingFrame] {
            for record in try sender.seal(frame) { stream += try framedMessage(record) }
        }

        return [
            ("event-genesis", .event, genesis.serializedBytes()),
            ("event-message", .event, message.serializedBytes()),
            ("event-join", .event, join.serializedBytes()),
            ("event-message-purged", .event, message.purged().serializedBytes()),
            ("event-equivocation-proof", .event, proof.serializedBytes()),
            ("resigned-genesis", .resignedEvent, genesis.serializedBytes()),
            ("resigned-message", .resignedEvent, message.serializedBytes()),
            ("resigned-join", .resignedEvent, join.serializedBytes()),
            ("resigned-equivocation-proof", .resignedEvent, proof.serializedBytes()),
            ("frame-events", .frame, eventsBytes),
            ("resigned-frame-events", .resignedFrame, eventsBytes),
            ("frame-sync-request", .frame, syncBytes),
            ("frame-heads", .frame, try encode(headsFrame)),
            ("frame-ping", .frame, try encode(pingFrame)),
            ("handshake-payload", .handshakePayload, payload),
            ("bloom-filter", .bloomFilter, try encode(bloom.proto)),
            ("stream-sealed-frames", .stream, stream),
            ("records-events", .records, try framedMessage([0] + eventsBytes)),
            ("records-sync-ping", .records,
             try framedMessage([0] + syncBytes) + framedMessage([0] + encode(pingFrame))),
        ]
    }

    static func encode(_ message: some SwiftProtobuf.Message) throws -> [UInt8] { try message.serializedBytes() }

    static func write(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for seed in try all() {
            let decoded = run(seed.target, ArraySlice(seed.bytes))
            guard decoded > 0 else { throw SeedError(description: "seed \(seed.name) decodes to nothing") }
            print("seed-\(seed.name): \(seed.bytes.count + 1) bytes, \(decoded) decoded")
            try Data([seed.target.rawValue] + seed.bytes).write(to: dir.appendingPathComponent("seed-" + seed.name))
        }
    }
}

struct SeedError: Error, CustomStringConvertible { let description: String }
