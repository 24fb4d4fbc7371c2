import Foundation
import HarkEventProto
import HarkWireProto
import Testing

/// Known-answer vectors for the protobuf encoding of the event schema and the wire frames
/// (docs/PROTOCOL.md, "Encoding" of events and "Transport" of the channel). Each message has
/// fixed field values; its serialized bytes must equal the hex below, captured from the encoder
/// and checked against `protoc --encode` of the same values. A change of a field number, a wire
/// type, a message's package or a oneof member fails here, because peers and stored events
/// would no longer read the same bytes.
///
/// Hex is written in tokens separated by spaces: plain hex, or `XX*N` for N copies of byte XX.
@Suite("Wire bytes: known-answer protobuf encodings")
struct WireBytesTests {
    /// Expands the token notation above into bytes. Traps on a malformed token (a test bug).
    private static func bytes(_ tokens: String) -> [UInt8] {
        var out: [UInt8] = []
        for token in tokens.split(separator: " ") {
            if let star = token.firstIndex(of: "*") {
                let byte = UInt8(token[..<star], radix: 16)
                let count = Int(token[token.index(after: star)...])
                guard let byte, let count else { preconditionFailure("bad token \(token)") }
                out += [UInt8](repeating: byte, count: count)
            } else {
                precondition(token.count % 2 == 0, "odd hex token \(token)")
                var index = token.startIndex
                while index < token.endIndex {
                    let next = token.index(index, offsetBy: 2)
                    guard let byte = UInt8(token[index..<next], radix: 16) else { preconditionFailure("bad hex \(token)") }
                    out.append(byte)
                    index = next
                }
            }
        }
        return out
    }

    private static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// `n` copies of `byte`.
    private static func fill(_ byte: UInt8, _ n: Int) -> Data { Data(repeating: byte, count: n) }

    // MARK: - Events

    static let headerHex = "08011220 11*32 1a20 22*32 20072a20 33*32 3220 44*32 3220 55*32 "
        + "38094080d095ffbc3148026220 66*32 68ac02"
    static let signedEventHex = "0ade01" + headerHex + " 1240 77*64 1a28 88*40"

    static func header() -> Hark_V1_EventHeader {
        var h = Hark_V1_EventHeader()
        h.format = 1
        h.groupID = fill(0x11, 32)
        h.author = fill(0x22, 32)
        h.seq = 7
        h.selfParent = fill(0x33, 32)
        h.parents = [fill(0x44, 32), fill(0x55, 32)]
        h.lamport = 9
        h.wallMs = 1_700_000_000_000
        h.kind = .message
        h.bodyHash = fill(0x66, 32)
        h.bodyLen = 300
        return h
    }

    static func signedEvent() throws -> Hark_V1_SignedEvent {
        var e = Hark_V1_SignedEvent()
        e.header = try header().serializedData()
        e.sig = fill(0x77, 64)
        e.body = fill(0x88, 40)
        return e
    }

    @Test("EventHeader and SignedEvent")
    func events() throws {
        #expect(Self.hex(try Self.header().serializedBytes()) == Self.hex(Self.bytes(Self.headerHex)))
        #expect(Self.hex(try Self.signedEvent().serializedBytes()) == Self.hex(Self.bytes(Self.signedEventHex)))
        // And the other way: the fixed bytes decode to the same message.
        let decoded = try Hark_V1_SignedEvent(serializedBytes: Self.bytes(Self.signedEventHex))
        #expect(decoded == (try Self.signedEvent()))
        #expect(try Hark_V1_EventHeader(serializedBytes: [UInt8](decoded.header)) == Self.header())
    }

    @Test("Content: text, genesis (field 900) and history key (field 900)")
    func content() throws {
        var text = Hark_V1_Text()
        text.text = "héllo"
        text.replyTo = Self.fill(0x99, 32)
        text.mentions = [Self.fill(0x22, 32)]
        var c1 = Hark_V1_Content()
        c1.text = text
        #expect(Self.hex(try c1.serializedBytes()) == Self.hex(Self.bytes("0a4c0a0668c3a96c6c6f1220 99*32 1a20 22*32")))

        var genesis = Hark_V1_Genesis()
        genesis.name = "team"
        genesis.creatorDisplayName = "ada"
        genesis.rules = 2
        genesis.conversation = .channel
        genesis.history = .shared
        var c2 = Hark_V1_Content()
        c2.genesis = genesis
        #expect(Self.hex(try c2.serializedBytes()) == "12120a047465616d120361646118022001a03801")

        var history = Hark_V1_HistoryKey()
        history.recipient = Self.fill(0x22, 32)
        history.prekey = Self.fill(0xAA, 32)
        history.sealed = Self.fill(0xBB, 8)
        var c3 = Hark_V1_Content()
        c3.historyKey = history
        #expect(Self.hex(try c3.serializedBytes()) == Self.hex(Self.bytes("a2384e0a20 22*32 1220 aa*32 1a08 bb*8")))
    }

    @Test("Invite token carrying a genesis event, and a FileManifest")
    func inviteAndManifest() throws {
        var invite = Hark_V1_Invite()
        invite.version = 2
        invite.groupKey = Self.fill(0x0F, 32)
        invite.genesis = try Self.signedEvent()
        invite.inviter = Self.fill(0x22, 32)
        invite.hints = ["10.0.0.2:41000"]
        invite.inviteID = Self.fill(0x10, 16)
        invite.expiresMs = 1_700_000_600_000
        invite.uses = 3
        invite.forKey = Self.fill(0x23, 32)
        invite.inviterSig = Self.fill(0x24, 64)
        let inviteHex = "08021220 0f*32 1acd02" + Self.signedEventHex + " 2220 22*32 2a0e31302e302e302e323a3431303030"
            + " 3210 10*16 38c09fbaffbc3140034a20 23*32 5240 24*64"
        #expect(Self.hex(try invite.serializedBytes()) == Self.hex(Self.bytes(inviteHex)))

        var entry = Hark_V1_FileEntry()
        entry.path = ["docs", "a.txt"]
        entry.size = 70_000
        entry.mode = 0o644
        entry.chunkSize = 65_536
        entry.chunkHashes = Self.fill(0x5A, 64)
        entry.root = Self.fill(0x6B, 32)
        var manifest = Hark_V1_FileManifest()
        manifest.format = 1
        manifest.entries = [entry]
        manifest.hashAlgorithm = .sha256
        let manifestHex = "0801127c0a04646f63730a05612e74787410f0a20418a403208080042a40 5a*64 3220 6b*32 1801"
        #expect(Self.hex(try manifest.serializedBytes()) == Self.hex(Self.bytes(manifestHex)))
    }

    // MARK: - Wire

    @Test("Frame: events, join answer (field 925), pair (field 30), chunk data")
    func frames() throws {
        var events = Hark_V1_Events()
        events.groupID = Self.fill(0x11, 32)
        events.events = [try Self.signedEvent()]
        events.push = true
        var f1 = Hark_V1_Frame()
        f1.events = events
        let eventsHex = "22f4020a20 11*32 12cd02" + Self.signedEventHex + " 1801"
        #expect(Self.hex(try f1.serializedBytes()) == Self.hex(Self.bytes(eventsHex)))
        #expect(try Hark_V1_Frame(serializedBytes: Self.bytes(eventsHex)) == f1)

        var answer = Hark_V1_JoinAnswer()
        answer.groupName = "team"
        answer.reason = "busy"
        answer.retryAfterMs = 1500
        answer.noGroup = true
        var f2 = Hark_V1_Frame()
        f2.joinAnswer = answer
        #expect(Self.hex(try f2.serializedBytes()) == "ea39110a047465616d22046275737928dc0b3001")

        var pair = Hark_V1_Pair()
        pair.confirmed = true
        var f3 = Hark_V1_Frame()
        f3.pair = pair
        #expect(Self.hex(try f3.serializedBytes()) == "f201022001")

        var chunk = Hark_V1_ChunkData()
        chunk.manifestID = Self.fill(0xCC, 32)
        chunk.chunk = 3
        chunk.offset = 262_144
        chunk.cipher = .aes256Gcm
        chunk.nonce = Self.fill(0xDD, 16)
        chunk.sealedLength = 262_160
        var f4 = Hark_V1_Frame()
        f4.chunkData = chunk
        #expect(Self.hex(try f4.serializedBytes()) == Self.hex(Self.bytes("7a400a20 cc*32 10031880801028023210 dd*16 38908010")))
    }

    @Test("HandshakePayload and Datagram")
    func handshakeAndDatagram() throws {
        var payload = Hark_V1_HandshakePayload()
        payload.identityKey = Self.fill(0x22, 32)
        payload.identitySig = Self.fill(0xEE, 64)
        payload.displayName = "ada"
        payload.instanceToken = Self.fill(0x01, 8)
        payload.listenPort = 41_000
        payload.features = 1
        #expect(Self.hex(try payload.serializedBytes()) == Self.hex(Self.bytes("0a20 22*32 1240 ee*64 1a036164612208 01*8 28a8c0023001")))

        var presence = Hark_V1_Presence()
        presence.state = .away
        presence.statusText = "lunch"
        presence.seq = 12
        var datagram = Hark_V1_Datagram()
        datagram.presence = presence
        #expect(Self.hex(try datagram.serializedBytes()) == "0a0b080212056c756e6368180c")
    }
}
