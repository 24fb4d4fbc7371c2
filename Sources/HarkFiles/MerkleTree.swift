import HarkCrypto

/// The hashes of the file format (PROTOCOL.md §8.3), under the manifest's `FileHashAlgorithm`.
/// SHA-256 (what new manifests use):
///
///     chunk hash  = SHA-256(chunk bytes)
///     leaf        = SHA-256(0x00 ‖ chunk hash)
///     node        = SHA-256(0x01 ‖ left ‖ right)
///     file root   = SHA-256(0x02 ‖ LE64 size ‖ LE32 chunk size ‖ tree root)
///
/// BLAKE2b-256 (manifests without a hash algorithm), with its own personalisation per use:
///
///     chunk hash  = BLAKE2b-256(person "hark.chunk.v1", chunk bytes)
///     leaf        = BLAKE2b-256(person "hark.leaf.v1",  0x00 ‖ chunk hash)
///     node        = BLAKE2b-256(person "hark.node.v1",  0x01 ‖ left ‖ right)
///     tree root   = the single node left after pairing level by level; an odd last node of a
///                   level is promoted unchanged to the next level (this is exactly RFC 6962's
///                   split at the largest power of two below n); 32 zero bytes for 0 chunks
///     file root   = BLAKE2b-256(person "hark.file.v1",  0x02 ‖ LE64 size ‖ LE32 chunk size ‖ tree root)
///
/// The file root is what a manifest entry carries, so it commits to the size and the chunking
/// as well as the content; a 0-byte file has the file root of (0, its chunk size, zeros).
/// Pure functions; thread-safe. Hashes are 32-byte arrays.
public enum MerkleTree {
    /// Size of every hash here: 32 bytes.
    public static let hashBytes = FileLimits.hashBytes
    /// Tree root of zero chunks: 32 zero bytes.
    public static let emptyTreeRoot = [UInt8](repeating: 0, count: hashBytes)

    /// The per-chunk hash a manifest lists: SHA-256(`chunk`), or BLAKE2b-256(person
    /// "hark.chunk.v1", `chunk`).
    public static func chunkHash(_ chunk: [UInt8], _ algorithm: FileHashAlgorithm) -> [UInt8] {
        chunk.withUnsafeBytes { chunkHash($0, algorithm) }
    }

    /// `chunkHash` of a chunk in memory.
    public static func chunkHash(_ chunk: UnsafeRawBufferPointer, _ algorithm: FileHashAlgorithm) -> [UInt8] {
        switch algorithm {
        case .blake2b256: return BLAKE2b.hash(chunk, personal: FileDomain.chunkPersonal)
        case .sha256: return SHA256.hash(chunk)
        }
    }

    /// A streaming `chunkHash`, for a chunk read in pieces.
    public static func chunkHasher(_ algorithm: FileHashAlgorithm) -> ChunkHasher {
        ChunkHasher(algorithm)
    }

    /// H(0x00 ‖ `chunkHash`) (BLAKE2b: person "hark.leaf.v1").
    public static func leaf(_ chunkHash: [UInt8], _ algorithm: FileHashAlgorithm) -> [UInt8] {
        precondition(chunkHash.count == hashBytes)
        return hash([FileDomain.leafPrefix] + chunkHash, FileDomain.leafPersonal, algorithm)
    }

    /// H(0x01 ‖ `left` ‖ `right`) (BLAKE2b: person "hark.node.v1").
    public static func node(_ left: [UInt8], _ right: [UInt8], _ algorithm: FileHashAlgorithm) -> [UInt8] {
        precondition(left.count == hashBytes && right.count == hashBytes)
        var input = [UInt8]()
        input.reserveCapacity(1 + 2 * hashBytes)
        input.append(FileDomain.nodePrefix)
        input += left
        input += right
        return hash(input, FileDomain.nodePersonal, algorithm)
    }

    /// The tree root over `chunkHashes` (each 32 bytes), in order.
    public static func treeRoot(_ chunkHashes: [[UInt8]], _ algorithm: FileHashAlgorithm) -> [UInt8] {
        guard !chunkHashes.isEmpty else { return emptyTreeRoot }
        var level = chunkHashes.map { leaf($0, algorithm) }
        while level.count > 1 { level = nextLevel(level, algorithm) }   // halves every step
        return level[0]
    }

    /// The tree root over a flat buffer of n × 32 bytes of chunk hashes.
    public static func treeRoot(flatHashes: [UInt8], _ algorithm: FileHashAlgorithm) -> [UInt8] {
        precondition(flatHashes.count % hashBytes == 0)
        return treeRoot(split(flatHashes), algorithm)
    }

    /// H(0x02 ‖ LE64 `size` ‖ LE32 `chunkSize` ‖ `treeRoot`) (BLAKE2b: person "hark.file.v1").
    public static func fileRoot(size: UInt64, chunkSize: Int, treeRoot: [UInt8], _ algorithm: FileHashAlgorithm) -> [UInt8] {
        precondition(treeRoot.count == hashBytes && chunkSize > 0 && chunkSize <= Int(UInt32.max))
        var input: [UInt8] = [FileDomain.filePrefix]
        input += littleEndian(size, bytes: 8)
        input += littleEndian(UInt64(chunkSize), bytes: 4)
        input += treeRoot
        return hash(input, FileDomain.filePersonal, algorithm)
    }

    /// The file root of a file of `size` bytes cut into `chunkSize` chunks whose hashes are
    /// `flatHashes` (n × 32 bytes).
    public static func fileRoot(size: UInt64, chunkSize: Int, flatHashes: [UInt8], _ algorithm: FileHashAlgorithm) -> [UInt8] {
        fileRoot(size: size, chunkSize: chunkSize, treeRoot: treeRoot(flatHashes: flatHashes, algorithm), algorithm)
    }

    /// One tree hash: SHA-256(`input`), or BLAKE2b-256 personalised with `personal`.
    static func hash(_ input: [UInt8], _ personal: String, _ algorithm: FileHashAlgorithm) -> [UInt8] {
        switch algorithm {
        case .blake2b256: return BLAKE2b.hash(input, personal: personal)
        case .sha256: return SHA256.hash(input)
        }
    }

    /// The audit path of chunk `index` among `chunkHashes` (RFC 6962 §2.1.1): the sibling
    /// hashes from the leaf up, skipping levels where the node is promoted. About log2(n) × 32
    /// bytes; O(n) hashing to build.
    public static func inclusionProof(index: Int, chunkHashes: [[UInt8]], _ algorithm: FileHashAlgorithm) -> [[UInt8]] {
        precondition(index >= 0 && index < chunkHashes.count)
        var level = chunkHashes.map { leaf($0, algorithm) }
        var i = index
        var proof: [[UInt8]] = []
        while level.count > 1 {
            let sibling = i ^ 1
            if sibling < level.count { proof.append(level[sibling]) }
            level = nextLevel(level, algorithm)
            i /= 2
        }
        return proof
    }

    /// True when `proof` proves that `chunkHash` is chunk `index` of `count` chunks under
    /// `treeRoot`.
    public static func verifyInclusion(chunkHash: [UInt8], index: Int, count: Int, proof: [[UInt8]], treeRoot: [UInt8],
                                       _ algorithm: FileHashAlgorithm) -> Bool {
        guard index >= 0, index < count, chunkHash.count == hashBytes,
              proof.allSatisfy({ $0.count == hashBytes }) else { return false }
        var node = leaf(chunkHash, algorithm)
        var i = index
        var width = count
        var used = 0
        while width > 1 {   // halves every step
            if i & 1 == 1 {
                guard used < proof.count else { return false }
                node = MerkleTree.node(proof[used], node, algorithm); used += 1
            } else if i + 1 < width {
                guard used < proof.count else { return false }
                node = MerkleTree.node(node, proof[used], algorithm); used += 1
            }   // else: the last node of an odd level is promoted
            i /= 2
            width = (width + 1) / 2
        }
        return used == proof.count && node == treeRoot
    }

    static func nextLevel(_ level: [[UInt8]], _ algorithm: FileHashAlgorithm) -> [[UInt8]] {
        var next: [[UInt8]] = []
        next.reserveCapacity((level.count + 1) / 2)
        var i = 0
        while i + 1 < level.count {
            next.append(node(level[i], level[i + 1], algorithm))
            i += 2
        }
        if i < level.count { next.append(level[i]) }   // odd node promoted
        return next
    }

    static func split(_ flat: [UInt8]) -> [[UInt8]] {
        stride(from: 0, to: flat.count, by: hashBytes).map { Array(flat[$0 ..< $0 + hashBytes]) }
    }
}

func littleEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
    (0..<bytes).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
}
