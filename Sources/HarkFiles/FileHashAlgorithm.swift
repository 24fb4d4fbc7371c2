import HarkCrypto

/// The hash of a manifest's chunk hashes, Merkle trees and file roots (PROTOCOL.md §8.3),
/// named by `FileManifest.hash_algorithm`. Raw values are the wire values. Value type; thread-safe.
public enum FileHashAlgorithm: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// BLAKE2b-256 with a personalisation per use ("hark.chunk.v1", …). Wire value 0, so a
    /// manifest without the field (every manifest written before it existed) keeps this meaning,
    /// and its encoding, and so its ID, stays the same.
    case blake2b256 = 0
    /// SHA-256, with the RFC 6962 type bytes as the only domain separation. What new manifests
    /// use: SHA-NI makes it about 1.5× BLAKE2b here.
    case sha256 = 1

    /// What `ManifestBuilder` writes.
    public static let current: FileHashAlgorithm = .sha256

    public var description: String {
        switch self {
        case .blake2b256: return "BLAKE2b-256"
        case .sha256: return "SHA-256"
        }
    }
}

/// A streaming chunk hash (`MerkleTree.chunkHash`) for a chunk read or opened in pieces.
/// One owner at a time (not thread-safe); `finalize` once.
public final class ChunkHasher {
    private let blake: BLAKE2b.Hasher?
    private let sha: SHA256.Hasher?

    public init(_ algorithm: FileHashAlgorithm) {
        switch algorithm {
        case .blake2b256: blake = BLAKE2b.Hasher(personal: FileDomain.chunkPersonal); sha = nil
        case .sha256: sha = SHA256.Hasher(); blake = nil
        }
    }

    public func update(_ data: UnsafeRawBufferPointer) {
        if let sha { sha.update(data) } else { blake?.update(data) }
    }

    /// The 32-byte chunk hash.
    public func finalize() -> [UInt8] { sha?.finalize() ?? blake?.finalize() ?? [] }  // one of the two is always set (init)
}
