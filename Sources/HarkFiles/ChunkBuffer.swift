/// One chunk's bytes in page-aligned memory (4096 B), so a receiver can hand it to an
/// O_DIRECT write without copying it first. Fixed length; freed on deinit.
///
/// Not thread-safe while being filled: one owner at a time (the fetch fills it, then passes it
/// on); `@unchecked Sendable` for that hand-over.
public final class ChunkBuffer: @unchecked Sendable {
    /// Alignment of the memory, bytes (what O_DIRECT needs on Linux for common devices).
    public static let alignment = 4096
    /// Bytes in the chunk.
    public let count: Int
    private let memory: UnsafeMutableRawBufferPointer

    /// Uninitialised memory for `count` bytes (≥ 0); every byte must be written before it is read.
    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        memory = .allocate(byteCount: max(count, 1), alignment: Self.alignment)
    }

    deinit { memory.deallocate() }

    /// The `count` bytes, for writing.
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: memory[0..<count]) }

    /// `bytes` from `offset`, `length` bytes long.
    public func region(_ offset: Int, _ length: Int) -> UnsafeMutableRawBufferPointer {
        precondition(offset >= 0 && length >= 0 && offset + length <= count)
        return UnsafeMutableRawBufferPointer(rebasing: memory[offset..<offset + length])
    }
}

/// A chunk whose hash has been computed over exactly these bytes: the only thing
/// `StagedFile.write(chunk:hashed:)` accepts, which then checks the hash against the manifest.
/// Immutable after creation; thread-safe to pass on.
public struct HashedChunk: Sendable {
    public let buffer: ChunkBuffer
    /// `MerkleTree.chunkHash` of `buffer.bytes` (32 B).
    public let hash: [UInt8]

    /// Hashes `buffer` with `algorithm` (`MerkleTree.chunkHash`; SHA-256 ~0.7 ms per MiB here,
    /// BLAKE2b-256 ~1.2 ms). Do not write to `buffer` afterwards.
    public init(hashing buffer: ChunkBuffer, _ algorithm: FileHashAlgorithm) {
        self.buffer = buffer
        hash = MerkleTree.chunkHash(UnsafeRawBufferPointer(buffer.bytes), algorithm)
    }

    /// A chunk hashed while it was filled: `hash` must be `MerkleTree.chunkHasher(_:)`'s digest, under the entry's algorithm,
    /// of exactly `buffer.bytes`, in order (the caller's promise; the manifest check in
    /// `StagedFile` still decides).
    public init(_ buffer: ChunkBuffer, hash: [UInt8]) {
        precondition(hash.count == MerkleTree.hashBytes)
        self.buffer = buffer
        self.hash = hash
    }
}
