// libFuzzer entry point for hark's decoders of untrusted bytes.
//
// Built with `-sanitize=fuzzer,address` (see `make fuzz`); `main` hands the command line to
// libFuzzer's driver. The first input byte picks a target (modulo `Target.allCases.count`, so
// adding a target re-deals the grown part of Fuzz/corpus; the seeds keep their byte), the rest
// is fed to it. Thrown errors are the expected outcome for garbage; a trap, crash, hang or
// sanitizer report is a finding.
//
// `HARK_FUZZ_WRITE_SEEDS=<dir> .build-fuzz/debug/hark-fuzz` writes the seed corpus (real
// encodings from fixed keys, see `Seeds`) into <dir> and exits.

// swift-format-ignore-file: NeverForceUnwrap, NeverUseForceTry
// A fuzz target traps on a broken invariant on purpose: the trap is the finding.

import CLibFuzzer
import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkNoise
import HarkSync
import HarkWire
import HarkWireProto
import NIOCore
import SwiftProtobuf

enum Target: UInt8, CaseIterable {
    /// A byte stream from the network: length-prefixed framing, then `RecordLayer.open` of each
    /// message on a fresh channel (only seeds sealed under the fixed keys decrypt).
    case stream = 0
    /// `Hark_V1_Frame(serializedBytes:)`, then every event it holds and any Bloom filter.
    case frame = 1
    /// `Event(decodingBytes:)`.
    case event = 2
    /// `HandshakePayloadCodec.verifyPayload` against the fixed Noise static key.
    case handshakePayload = 3
    /// `Hark_V1_BloomFilter` bytes, then `BloomFilter(validating:)` and lookups.
    case bloomFilter = 4
    /// An authenticated peer: length-prefixed plaintext records (flag ‖ fragment), each sealed
    /// with the fixed transport, then opened by `RecordLayer` and decoded as in `.frame`.
    case records = 5
    /// A `SignedEvent` whose header is re-authored by the fixed identity and re-signed, then
    /// `Event(decoding:)`: gets mutated headers past the signature check to the structure rules.
    case resignedEvent = 6
    /// A `Frame` whose events are all re-signed as in `.resignedEvent`, then decoded as in
    /// `.frame`: mutated parents, seqs and lamports reach `EventValidator`.
    case resignedFrame = 7
}

/// Fixed keys, so that seeds stay valid from run to run and crashes reproduce.
enum Keys {
    static func bytes(_ tag: UInt8) -> [UInt8] { (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(tag)) } }

    static let identity = try! SigningKeyPair(seed: bytes(1))
    static let peerIdentity = try! SigningKeyPair(seed: bytes(2))
    static let noiseStatic = try! AgreementKeyPair(secretKey: bytes(3))
    static let peerNoiseStatic = try! AgreementKeyPair(secretKey: bytes(4))

    /// The two ends of one Noise XX handshake between the fixed keys (fixed ephemerals too).
    /// Value types: each input works on copies, so every input starts at nonce 0.
    static let transports: (sender: NoiseTransport, receiver: NoiseTransport) = {
        var i = NoiseHandshake(role: .initiator, prologue: Array("hark-fuzz".utf8), staticKey: noiseStatic,
                               ephemeralKey: try! AgreementKeyPair(secretKey: bytes(5)))
        var r = NoiseHandshake(role: .responder, prologue: Array("hark-fuzz".utf8), staticKey: peerNoiseStatic,
                               ephemeralKey: try! AgreementKeyPair(secretKey: bytes(6)))
        _ = try! r.readMessage(try! i.writeMessage(payload: []))
        _ = try! i.readMessage(try! r.writeMessage(payload: []))
        _ = try! r.readMessage(try! i.writeMessage(payload: []))
        return (try! i.split(), try! r.split())
    }()
}

// MARK: - Targets

/// Everything hark does with a decoded frame before it reaches the node's state. Returns how
/// many parts decoded (1 for the frame itself plus its valid events, the events that pass
/// `EventValidator` against earlier events of the frame, and valid filters).
@discardableResult
func exercise(_ frame: Hark_V1_Frame) -> Int {
    var decoded = 1
    switch frame.frame {
    case .events(let events):
        var known: [EventID: Event] = [:]   // earlier events of the frame: parents before children
        for signed in events.events {
            guard let event = try? Event(decoding: signed) else { continue }
            decoded += 1
            if event.allParents.allSatisfy({ known[$0] != nil }) {
                if (try? EventValidator.validate(event, parents: known)) != nil { decoded += 1 }
            }
            known[event.id] = event
            _ = event.serializedBytes()
            _ = event.purged()
            if event.kind == .equivocationProof { _ = try? EquivocationProof.accusation(in: event) }
        }
    case .syncRequest(let request):
        if request.hasBloom { decoded += exercise(request.bloom) }
    default:
        break
    }
    return decoded
}

@discardableResult
func exercise(_ proto: Hark_V1_BloomFilter) -> Int {
    guard let filter = try? BloomFilter(validating: proto) else { return 0 }
    let probe = EventID(hashingHeader: Array(proto.salt))
    _ = filter.mightContain(probe)
    _ = filter.expectedFalsePositiveRate(entries: 100)
    var copy = filter
    copy.insert(probe)
    precondition(copy.mightContain(probe), "a Bloom filter lost an inserted ID")
    precondition((try? BloomFilter(validating: filter.proto)) == filter, "a Bloom filter does not round-trip")
    return 1
}

/// `signed` with its header signed by whichever fixed identity it names, or by `Keys.identity`
/// (made its author) if it names another; nil if the header does not parse. Re-serialising the
/// header keeps the seeds' bytes and IDs, so parent references in frames still hold.
func resign(_ signed: Hark_V1_SignedEvent) -> Hark_V1_SignedEvent? {
    guard var header = try? Hark_V1_EventHeader(serializedBytes: signed.header) else { return nil }
    let key = header.author == Data(Keys.peerIdentity.publicKey.bytes) ? Keys.peerIdentity : Keys.identity
    header.author = Data(key.publicKey.bytes)
    guard let headerBytes: [UInt8] = try? header.serializedBytes() else { return nil }
    return EventAuthor.sign(headerBytes: headerBytes, body: signed.body.isEmpty ? nil : Array(signed.body), key: key)
}

/// Splits `bytes` as the TCP decoder would: `nextMessage` until it wants more data or throws.
func messages(in bytes: ArraySlice<UInt8>) -> [[UInt8]] {
    var buffer = ByteBuffer(bytes: bytes)
    var out: [[UInt8]] = []
    while let unit = try? StreamUnitDecoder.nextUnit(from: &buffer) {
        // Attachments are sealed end to end under a file key, not Noise records: not for the record layer.
        guard case let .message(message) = unit else { continue }
        precondition(message.readableBytes >= 1, "framing produced an empty message")
        out.append(Array(message.readableBytesView))
    }
    return out
}

/// Feeds `input` to `target`. Returns how many things decoded successfully (the seed writer
/// checks that every seed reaches its decoder; the fuzzer ignores it).
@discardableResult
func run(_ target: Target, _ input: ArraySlice<UInt8>) -> Int {
    var decoded = 0
    switch target {
    case .stream:
        var layer = RecordLayer(transport: Keys.transports.receiver)
        for message in messages(in: input) {
            do { if let frame = try layer.open(message) { decoded += exercise(frame) } } catch { break }   // broken channel
        }
    case .frame:
        if let frame = try? Hark_V1_Frame(serializedBytes: input) { decoded += exercise(frame) }
    case .event:
        if let event = try? Event(decodingBytes: Array(input)) {
            precondition((try? Event(decodingBytes: event.serializedBytes())) == event, "an event does not round-trip")
            decoded += 1
            if event.kind == .equivocationProof, (try? EquivocationProof.accusation(in: event)) != nil { decoded += 1 }
        }
    case .handshakePayload:
        if (try? HandshakePayloadCodec.verifyPayload(Array(input), remoteStaticKey: Keys.noiseStatic.publicKey,
                                                     handshakeHash: Keys.transports.receiver.handshakeHash)) != nil {
            decoded += 1
        }
    case .bloomFilter:
        if let proto = try? Hark_V1_BloomFilter(serializedBytes: input) { decoded += exercise(proto) }
    case .resignedEvent:
        if let signed = try? Hark_V1_SignedEvent(serializedBytes: input), let resigned = resign(signed),
           let event = try? Event(decoding: resigned) {
            _ = event.purged()
            decoded += 1
            if event.kind == .equivocationProof, (try? EquivocationProof.accusation(in: event)) != nil { decoded += 1 }
        }
    case .resignedFrame:
        guard var frame = try? Hark_V1_Frame(serializedBytes: input) else { break }
        if case .events(var events) = frame.frame {
            events.events = events.events.compactMap(resign)
            frame.events = events
        }
        decoded += exercise(frame)
    case .records:
        var sender = Keys.transports.sender
        var layer = RecordLayer(transport: Keys.transports.receiver)
        for plaintext in messages(in: input) {
            guard let sealed = try? sender.encrypt(plaintext) else { break }
            do { if let frame = try layer.open(sealed) { decoded += exercise(frame) } } catch { break }
        }
    }
    return decoded
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = bytes.first else { return 0 }
    let target = Target(rawValue: first % UInt8(Target.allCases.count))!
    run(target, Array(bytes)[1...])
    return 0
}

@main
struct HarkFuzz {
    /// libFuzzer's command line, unless `HARK_FUZZ_WRITE_SEEDS` is set.
    static func main() {
        if let dir = ProcessInfo.processInfo.environment["HARK_FUZZ_WRITE_SEEDS"] {
            do { try Seeds.write(to: URL(fileURLWithPath: dir)) } catch {
                FileHandle.standardError.write(Data("hark-fuzz: cannot write seeds: \(error)\n".utf8))
                exit(1)
            }
            exit(0)
        }
        _ = Keys.transports   // run the handshake before the first input is timed
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            guard let data else { return 0 }
            return fuzz(data, size)
        })
    }
}
