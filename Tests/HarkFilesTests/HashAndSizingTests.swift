import HarkCrypto
@testable import HarkFiles
import Testing

@Suite struct MerkleTests {
    func hashes(_ n: Int, _ a: FileHashAlgorithm) -> [[UInt8]] { (0..<n).map { MerkleTree.chunkHash([UInt8(truncatingIfNeeded: $0)], a) } }

    /// merkle_ref.py (next to this file): recursive RFC 6962 MTH with hark's domains, in Python
    /// (hashlib), for each algorithm: chunk hash of "abc"; tree roots for n = 1, 2, 3, 5, 7 over
    /// chunks that are the single byte i; file root of (0, 65536, zeros); file root of
    /// (3 × 65536 − 10, 65536, tree of 3).
    struct Vectors: Sendable, CustomStringConvertible {
        let algorithm: FileHashAlgorithm
        let abc: String
        let trees: [(Int, String)]
        let emptyFile: String
        let fileOf3: String
        var description: String { "\(algorithm)" }
    }

    static let vectors = [
        Vectors(algorithm: .sha256,
                abc: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                trees: [(1, "d9de27625445003d8a9739a851e3ff8d41c0683630b4d63a88327a6aaa37c409"),
                        (2, "604d540f09268b91672ab011394d5266ccd7d4484d0d109411a55848126a1b2c"),
                        (3, "d1f13800048f5909d4043fc0c152f6643280cba608b672715e56ce159a20629f"),
                        (5, "6b313b611b40676b9e1dfd70c4503f2379f88f0f1c2740fb7e1cacc32c113465"),
                        (7, "bee2275db16667589a4515f63e0d053a2fa602c1d9f9703e98920a5bdad59baf")],
                emptyFile: "c4d391d92d6d81687576220879531ef1056ad61526298dcf185a8804734c11d4",
                fileOf3: "b9bd0fb2f2f86cc815ab002323fa558853ba3b30c969ac60faa18a094ae8dc91"),
        Vectors(algorithm: .blake2b256,
                abc: "e96dd5369d635c36964db5cf045c9fb2ba5f70b056f80dbb987950ee40eb1dc2",
                trees: [(1, "19786f98d5c6815a14f06130848676c0d0a270be630fc252bdbb17e39deeb7cd"),
                        (2, "1287832564a7cb47afef4c45dade05659e5f2ee082d4635b19ab4d16d909e68a"),
                        (3, "4dc9acb732f8ab0cb5f9b6b492a79a9962e566bd967141aba06d059d08a60be1"),
                        (5, "79ff6be462a10aa4fa6ecc88fb7c0a07a71f6c82f0e3e19a0358d1ddbd37edaa"),
                        (7, "911859120f70e821c6591de4086072b7d58e921bebb9e3b85cd41dc65141a6f0")],
                emptyFile: "b71d91e92b9b4dc13a4e6b17b48f8847f647bc6d35af78baf78e5805dd51cd81",
                fileOf3: "733b0053ed533657a029ef1fb9f1c7d0f07735a68948d1b53f9e512841c5fe47"),
    ]

    @Test("chunk hash: plain SHA-256, or BLAKE2b-256 personalised \"hark.chunk.v1\"", arguments: vectors)
    func chunkHash(v: Vectors) {
        #expect(hex(MerkleTree.chunkHash(Array("abc".utf8), v.algorithm)) == v.abc)
        // The streaming hasher and the in-memory hash agree with it, however the input is cut.
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = MerkleTree.chunkHash(data, v.algorithm)
        for cut in [0, 1, 63, 64, 65, 4999, 5000] {
            let h = MerkleTree.chunkHasher(v.algorithm)
            data.withUnsafeBytes { raw in
                h.update(UnsafeRawBufferPointer(rebasing: raw[0..<cut]))
                h.update(UnsafeRawBufferPointer(rebasing: raw[cut...]))
            }
            #expect(h.finalize() == whole, "cut at \(cut)")
        }
    }

    @Test("tree roots match an independent RFC 6962 implementation", arguments: vectors)
    func treeRoots(v: Vectors) {
        for (n, expected) in v.trees { #expect(hex(MerkleTree.treeRoot(hashes(n, v.algorithm), v.algorithm)) == expected, "n = \(n)") }
        #expect(MerkleTree.treeRoot([], v.algorithm) == [UInt8](repeating: 0, count: 32))
    }

    @Test("the file root binds the size and the chunk size", arguments: vectors)
    func fileRoot(v: Vectors) {
        let a = v.algorithm
        #expect(hex(MerkleTree.fileRoot(size: 0, chunkSize: 65536, treeRoot: MerkleTree.emptyTreeRoot, a)) == v.emptyFile)
        let tree = MerkleTree.treeRoot(hashes(3, a), a)
        #expect(hex(MerkleTree.fileRoot(size: 3 * 65536 - 10, chunkSize: 65536, treeRoot: tree, a)) == v.fileOf3)
        #expect(MerkleTree.fileRoot(size: 3 * 65536 - 11, chunkSize: 65536, treeRoot: tree, a)
                != MerkleTree.fileRoot(size: 3 * 65536 - 10, chunkSize: 65536, treeRoot: tree, a))
        #expect(MerkleTree.fileRoot(size: 0, chunkSize: 131072, treeRoot: MerkleTree.emptyTreeRoot, a)
                != MerkleTree.fileRoot(size: 0, chunkSize: 65536, treeRoot: MerkleTree.emptyTreeRoot, a))
    }

    @Test func leafAndNodeAreDomainSeparated() {
        for a in FileHashAlgorithm.allCases {
            let h = MerkleTree.chunkHash([1], a)
            // A single leaf is never equal to the chunk hash itself, nor a node of the same bytes.
            #expect(MerkleTree.treeRoot([h], a) != h)
        }
        let h = MerkleTree.chunkHash([1], .blake2b256)
        #expect(MerkleTree.leaf(h, .blake2b256) != BLAKE2b.hash([0] + h, personal: "hark.node.v1"))
        // The two algorithms never agree.
        #expect(MerkleTree.chunkHash([1], .sha256) != h)
    }

    @Test("inclusion proofs verify for every index and fail when tampered", arguments: FileHashAlgorithm.allCases)
    func inclusionProofs(a: FileHashAlgorithm) {
        for n in 1...17 {
            let hs = hashes(n, a)
            let root = MerkleTree.treeRoot(hs, a)
            for i in 0..<n {
                let proof = MerkleTree.inclusionProof(index: i, chunkHashes: hs, a)
                #expect(MerkleTree.verifyInclusion(chunkHash: hs[i], index: i, count: n, proof: proof, treeRoot: root, a), "n \(n) i \(i)")
                #expect(!MerkleTree.verifyInclusion(chunkHash: MerkleTree.chunkHash([0xFF, 0xFF], a), index: i, count: n, proof: proof, treeRoot: root, a))
                if n > 1 {
                    #expect(!MerkleTree.verifyInclusion(chunkHash: hs[i], index: (i + 1) % n, count: n, proof: proof, treeRoot: root, a),
                            "a proof must not verify at another index (n \(n) i \(i))")
                    var bad = proof
                    bad[0][0] ^= 1
                    #expect(!MerkleTree.verifyInclusion(chunkHash: hs[i], index: i, count: n, proof: bad, treeRoot: root, a))
                    #expect(!MerkleTree.verifyInclusion(chunkHash: hs[i], index: i, count: n, proof: proof + [hs[0]], treeRoot: root, a))
                }
            }
        }
    }
}

@Suite struct ChunkSizingTests {
    @Test func picksSmallestPowerOfTwoBelowTwoThousandChunks() {
        let KiB: UInt64 = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB
        #expect(ChunkSizing.chunkSize(forFileSize: 0) == 1 << 16)
        #expect(ChunkSizing.chunkSize(forFileSize: 1) == 1 << 16)
        // 1999 chunks of 64 KiB fit; 2000 do not.
        #expect(ChunkSizing.chunkSize(forFileSize: 1999 * 64 * KiB) == 1 << 16)
        #expect(ChunkSizing.chunkSize(forFileSize: 1999 * 64 * KiB + 1) == 1 << 17)
        #expect(ChunkSizing.chunkSize(forFileSize: 5 * GiB) == 4 << 20)        // 1280 chunks
        #expect(ChunkSizing.chunkSize(forFileSize: 1 << 50) == 1 << 26)        // capped at 64 MiB
        for size: UInt64 in [0, 1, 65535, 65536, 65537, 100 * MiB, 250 * MiB, 3 * GiB, 100 * GiB, 1 << 40] {
            let cs = ChunkSizing.chunkSize(forFileSize: size)
            #expect(ChunkSizing.isValid(cs))
            let n = ChunkSizing.chunkCount(fileSize: size, chunkSize: cs)
            #expect(n < 2000 || cs == FileLimits.maxChunkSize, "size \(size)")
            if cs > FileLimits.minChunkSize {
                #expect(ChunkSizing.chunkCount(fileSize: size, chunkSize: cs / 2) >= 2000, "not the smallest for \(size)")
            }
        }
    }

    @Test func validityAndLengths() {
        #expect(!ChunkSizing.isValid(1 << 15) && !ChunkSizing.isValid(1 << 27) && !ChunkSizing.isValid(65536 + 1) && !ChunkSizing.isValid(0))
        #expect(ChunkSizing.chunkCount(fileSize: 0, chunkSize: 65536) == 0)
        #expect(ChunkSizing.chunkCount(fileSize: 65537, chunkSize: 65536) == 2)
        #expect(ChunkSizing.chunkLength(index: 1, fileSize: 65537, chunkSize: 65536) == 1)
        #expect(ChunkSizing.chunkLength(index: 0, fileSize: 65537, chunkSize: 65536) == 65536)
    }
}

@Suite struct ChunkBitmapTests {
    @Test func bitsEncodeLeastSignificantFirst() {
        var b = ChunkBitmap(count: 10)
        #expect(b.insert(0) && b.insert(9) && !b.insert(9))
        #expect(b.bytes == [0x01, 0x02])
        #expect(ChunkBitmap(count: 10, bytes: [0x01, 0x02]) == b)
        #expect(ChunkBitmap(count: 10, bytes: [0x01, 0x04]) == nil, "an unused bit is set")
        #expect(ChunkBitmap(count: 10, bytes: [0x01]) == nil)
        #expect(b.setCount == 2 && !b.isFull && b.contains(9) && !b.contains(8) && !b.contains(10))
    }

    @Test func firstMissingSkipsFullWords() {
        var b = ChunkBitmap(count: 200)
        for i in 0..<130 { b.insert(i) }
        #expect(b.firstMissing() == 130)
        b.insert(131)
        #expect(b.firstMissing(from: 131) == 132)
        for i in 130..<200 { b.insert(i) }
        #expect(b.firstMissing() == nil && b.isFull)
        #expect(ChunkBitmap.full(count: 64).firstMissing() == nil)
        #expect(ChunkBitmap(count: 0).isFull)
    }
}
