import Foundation
import HarkCrypto
@testable import HarkFiles
import HarkEventProto
import SwiftProtobuf
import Testing

@Suite struct ManifestTests {
    func entry(_ path: [String], size: UInt64, chunkSize: Int = 65536, mode: UInt32 = 0o644, seed: UInt64 = 1,
               algorithm: FileHashAlgorithm = .sha256) throws -> ManifestEntry {
        let n = Int(ChunkSizing.chunkCount(fileSize: size, chunkSize: chunkSize))
        let hashes = (0..<n).flatMap { MerkleTree.chunkHash(randomBytes(8, seed: seed &+ UInt64($0)), algorithm) }
        return try ManifestEntry(path: path, size: size, mode: mode, chunkSize: chunkSize, chunkHashes: hashes, hashAlgorithm: algorithm)
    }

    /// A protobuf manifest with one entry whose fields `edit` may spoil, encoded.
    func encoded(_ edit: (inout Hark_V1_FileManifest) -> Void) throws -> [UInt8] {
        let good = try Manifest(entries: [entry(["a", "b.txt"], size: 200_000)])
        var m = try Hark_V1_FileManifest(serializedBytes: good.encoded)
        edit(&m)
        return try m.serializedBytes()
    }

    func decodeError(_ bytes: [UInt8]) -> FileError? {
        do { _ = try Manifest(decoding: bytes); return nil } catch { return error }
    }

    @Test func roundTripKeepsBytesAndID() throws {
        let m = try Manifest(entries: [
            entry(["docs", "a.txt"], size: 200_000),
            entry(["empty"], size: 0),
            entry(["docs", "sub", "b.bin"], size: 65536, mode: 0o755, seed: 9),
        ])
        let decoded = try Manifest(decoding: m.encoded)
        #expect(decoded == m)
        #expect(decoded.id == ManifestID(hashing: m.encoded))
        #expect(decoded.id.bytes == BLAKE2b.hash(m.encoded, personal: "hark.manifest.v1"))
        #expect(decoded.entries.map(\.chunkCount) == [4, 0, 1])
        #expect(decoded.chunkCount == 5 && decoded.totalBytes == 265_536)
        #expect(decoded.hashAlgorithm == .sha256)
        #expect(decoded.entries[1].root == MerkleTree.fileRoot(size: 0, chunkSize: 65536, treeRoot: MerkleTree.emptyTreeRoot, .sha256))
        // Layout: global chunk numbering skips the empty file.
        #expect(decoded.layout.locate(3) == (0, 3) && decoded.layout.locate(4) == (2, 0))
        #expect(decoded.layout.global(entry: 2, chunk: 0) == 4)
        #expect(decoded.layout.length(of: 3) == 200_000 - 3 * 65536)
        #expect(decoded.chunkHash(global: 4) == decoded.entries[2].chunkHash(0))
        #expect(try ManifestID(hex: decoded.id.hex) == decoded.id)
    }

    @Test("a SHA-256 manifest encodes byte for byte as an independent encoder does (merkle_ref.py)")
    func sha256ManifestKnownAnswer() throws {
        let content = Array("abc".utf8)
        let h = MerkleTree.chunkHash(content, .sha256)
        let m = try Manifest(entries: [ManifestEntry(path: ["abc"], size: 3, mode: 0o644, chunkSize: 65536, chunkHashes: h, hashAlgorithm: .sha256)])
        #expect(hex(m.encoded) == "080112520a03616263100318a403208080042a20ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
                + "32201f5770d380ed33ee3ff907a87c3eeb1b68637dd3234a62a6bd60efb30fa6253a1801")
        #expect(m.id.hex == "18b6cb41c8f3675e08398bdacb40d493381702e6c17badf919de0799765020ec")
    }

    @Test("a manifest without the hash-algorithm field is BLAKE2b-256, encodes as before the field, and its roots are checked as such")
    func manifestWithoutAlgorithmIsBLAKE2b() throws {
        let old = try Manifest(entries: [entry(["a"], size: 200_000, algorithm: .blake2b256)])
        let proto = try Hark_V1_FileManifest(serializedBytes: old.encoded)
        // No field 3 on the wire: the bytes (and so the ID) of a manifest written before the field.
        var legacy = Hark_V1_FileManifest()
        legacy.format = proto.format
        legacy.entries = proto.entries
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        #expect(try legacy.serializedBytes(options: options) == old.encoded)
        #expect(try Manifest(decoding: old.encoded).hashAlgorithm == .blake2b256)
        // The same entry labelled SHA-256 fails its root check; an unknown algorithm is refused.
        var relabelled = proto
        relabelled.hashAlgorithm = .sha256
        #expect(decodeError(try relabelled.serializedBytes()) == .rootMismatch(entry: 0))
        var unknown = proto
        unknown.hashAlgorithm = .UNRECOGNIZED(7)
        #expect(decodeError(try unknown.serializedBytes()) == .malformed("unknown hash algorithm 7"))
        // Entries of two algorithms do not make one manifest.
        #expect(throws: FileError.self) {
            try Manifest(entries: [entry(["a"], size: 10, algorithm: .sha256), entry(["b"], size: 10, algorithm: .blake2b256)])
        }
    }

    @Test func everyFieldIsValidated() throws {
        #expect(decodeError(try encoded { $0.format = 2 }) == .unsupportedFormat(2))
        #expect(decodeError(try encoded { $0.entries = [] }) == .emptyManifest)
        #expect(decodeError(try encoded { $0.entries[0].chunkSize = 65536 * 3 }) == .invalidChunkSize(entry: 0, chunkSize: 196608))
        #expect(decodeError(try encoded { $0.entries[0].chunkSize = 1 << 15 }) == .invalidChunkSize(entry: 0, chunkSize: 1 << 15))
        #expect(decodeError(try encoded { $0.entries[0].chunkSize = 1 << 27 }) == .invalidChunkSize(entry: 0, chunkSize: 1 << 27))
        #expect(decodeError(try encoded { $0.entries[0].mode = 0o4755 }) == .invalidMode(entry: 0, mode: 0o4755))
        #expect(decodeError(try encoded { $0.entries[0].size = (1 << 50) + 1 }) == .fileTooLarge(entry: 0, size: (1 << 50) + 1))
        #expect(decodeError(try encoded { $0.entries[0].size = 300_000 }) == .chunkHashesLength(entry: 0, expected: 160, actual: 128))
        #expect(decodeError(try encoded { $0.entries[0].chunkHashes.removeLast() }) == .chunkHashesLength(entry: 0, expected: 128, actual: 127))
        // Same chunk count, different size: the root commits to the size.
        #expect(decodeError(try encoded { $0.entries[0].size = 199_999 }) == .rootMismatch(entry: 0))
        #expect(decodeError(try encoded { $0.entries[0].chunkHashes[5] ^= 1 }) == .rootMismatch(entry: 0))
        #expect(decodeError(try encoded { $0.entries[0].root = Data($0.entries[0].root.dropLast()) }) == .rootMismatch(entry: 0))
        #expect(decodeError(try encoded { $0.entries[0].path = ["..", "x"] }) == .unsafeName(name: "..", problem: .dotDot))
        #expect(decodeError(try encoded { $0.entries[0].path = ["/etc/x"] }) == .unsafeName(name: "/etc/x", problem: .slash))
        #expect(decodeError(try encoded { $0.entries[0].path = [] }) == .unsafeName(name: "", problem: .empty))
        #expect(decodeError(try encoded { $0.entries.append($0.entries[0]) }) == .duplicatePath("a/b.txt"))
        #expect(decodeError(try encoded { var e = $0.entries[0]; e.path = ["a"]; $0.entries.append(e) }) == .pathConflict("a"))
        #expect(decodeError(try encoded { var e = $0.entries[0]; e.path = ["a", "b.txt", "c"]; $0.entries.append(e) }) == .pathConflict("a/b.txt"))
        #expect(decodeError([0xFF, 0xFF, 0xFF]) != nil)
        var withUnknown = try encoded { _ in }
        withUnknown += [0xF8, 0x01, 0x01]   // field 31, varint 1
        #expect(decodeError(withUnknown) == .malformed("unknown fields"))
        #expect(decodeError([UInt8](repeating: 0, count: FileLimits.maxManifestBytes + 1)) == .manifestTooLarge(FileLimits.maxManifestBytes + 1))
    }

    @Test func entryAndChunkLimits() throws {
        var tooMany = Hark_V1_FileManifest()
        tooMany.format = 1
        let one = Hark_V1_FileEntry.with { $0.path = ["x"]; $0.chunkSize = 65536; $0.root = Data(repeating: 0, count: 32) }
        tooMany.entries = Array(repeating: one, count: FileLimits.maxEntries + 1)
        #expect(decodeError(try tooMany.serializedBytes()) == .tooManyEntries(FileLimits.maxEntries + 1))
        // Claimed chunks are counted before any hashing: 2^20 + 1 hashes of 32 bytes.
        var huge = Hark_V1_FileManifest()
        huge.format = 1
        huge.entries = [Hark_V1_FileEntry.with {
            $0.path = ["big"]; $0.chunkSize = 1 << 26; $0.size = UInt64((1 << 20) + 1) << 26
            $0.chunkHashes = Data(count: ((1 << 20) + 1) * 32)
        }]
        #expect(decodeError(try huge.serializedBytes()) == .tooManyChunks((1 << 20) + 1))
    }
}

extension ManifestID {
    init(hex: String) throws {
        var bytes: [UInt8] = []
        var it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { bytes.append(UInt8(String([a, b]), radix: 16)!) }
        try self.init(bytes: bytes)
    }
}
