import HarkCrypto
@testable import HarkFiles
import Testing

@Suite struct MerkleTests {
    func hashes(_ n: Int) -> [[UInt8]] { (0..<n).map { MerkleTree.chunkHash([UInt8(truncatingIfNeeded: $0)]) } }

    @Test func chunkHashIsPersonalisedBLAKE2b() {
        // hashlib.blake2b(b"abc", digest_size=32, person=b"hark.chunk.v1")
        #expect(hex(MerkleTree.chunkHash(Array("abc".utf8))) == "e96dd5369d635c36964db5cf045c9fb2ba5f70b056f80dbb987950ee40eb1dc2")
    }

    @Test func treeRootsMatchAnIndependentRFC6962Implementation() {
        // merkle_ref.py (next to this file): recursive RFC 6962 MTH with hark's domains, in Python.
        let vectors: [(Int, String)] = [
            (1, "19786f98d5c6815a14f06130848676c0d0a270be630fc252bdbb17e39deeb7cd"),
            (2, "1287832564a7cb47afef4c45dade05659e5f2ee082d4635b19ab4d16d909e68a"),
            (3, "4dc9acb732f8ab0cb5f9b6b492a79a9962e566bd967141aba06d059d08a60be1"),
            (5, "79ff6be462a10aa4fa6ecc88fb7c0a07a71f6c82f0e3e19a0358d1ddbd37edaa"),
            (7, "911859120f70e821c6591de4086072b7d58e921bebb9e3b85cd41dc65141a6f0"),
        ]
        for (n, expected) in vectors { #expect(hex(MerkleTree.treeRoot(hashes(n))) == expected, "n = \(n)") }
        #expect(MerkleTree.treeRoot([]) == [UInt8](repeating: 0, count: 32))
    }

    @Test func fileRootBindsSizeAndChunkSize() {
        #expect(hex(MerkleTree.fileRoot(size: 0, chunkSize: 65536, treeRoot: MerkleTree.emptyTreeRoot))
                == "b71d91e92b9b4dc13a4e6b17b48f8847f647bc6d35af78baf78e5805dd51cd81")
        let tree = MerkleTree.treeRoot(hashes(3))
        #expect(hex(MerkleTree.fileRoot(size: 3 * 65536 - 10, chunkSize: 65536, treeRoot: tree))
                == "733b0053ed533657a029ef1fb9f1c7d0f07735a68948d1b53f9e512841c5fe47")
        #expect(MerkleTree.fileRoot(size: 3 * 65536 - 11, chunkSize: 65536, treeRoot: tree)
                != MerkleTree.fileRoot(size: 3 * 65536 - 10, chunkSize: 65536, treeRoot: tree))
        #expect(MerkleTree.fileRoot(size: 0, chunkSize: 131072, treeRoot: MerkleTree.emptyTreeRoot)
                != MerkleTree.fileRoot(size: 0, chunkSize: 65536, treeRoot: MerkleTree.emptyTreeRoot))
    }

    @Test func leafAndNodeAreDomainSeparated() {
        let h = MerkleTree.chunkHash([1])
        // A single leaf is never equal to the chunk hash itself, nor a node of the same bytes.
        #expect(MerkleTree.treeRoot([h]) != h)
        #expect(MerkleTree.leaf(h) != BLAKE2b.hash([0] + h, personal: "hark.node.v1"))
    }

    @Test func inclusionProofsVerifyForEveryIndexAndFailWhenTampered() {
        for n in 1...17 {
            let hs = hashes(n)
            let root = MerkleTree.treeRoot(hs)
            for i in 0..<n {
                let proof = MerkleTree.inclusionProof(index: i, chunkHashes: hs)
                #expect(MerkleTree.verifyInclusion(chunkHash: hs[i], index: i, count: n, proof: proof, treeRoot: root), "n \(n) i \(i)")
                #expect(!MerkleTree.verifyInclusion(chunkHash: MerkleTree.chunkHash([0xFF, 0xFF]), index: i, count: n, proof: proof, treeRoot: root))
                if n > 1 {
                    #expect(!MerkleTree.verifyInclusion(chunkHash: hs[i], index: (i + 1) % n, count: n, proof: proof, treeRoot: root),
                            "a proof must not verify at another index (n \(n) i \(i))")
                    var bad = proof
                    bad[0][0] ^= 1
                    #expect(!MerkleTree.verifyInclusion(chunkHash: hs[i], index: i, count: n, proof: bad, treeRoot: root))
                    #expect(!MerkleTree.verifyInclusion(chunkHash: hs[i], index: i, count: n, proof: proof + [hs[0]], treeRoot: root))
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
