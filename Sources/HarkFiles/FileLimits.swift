/// Size and shape limits of a file manifest (PROTOCOL.md §8). `Manifest(decoding:)` checks all
/// of them; a peer that sends anything outside them is misbehaving.
public enum FileLimits {
    /// The only `FileManifest.format` this code understands.
    public static let format: UInt32 = 1
    /// Smallest chunk size: 65 536 bytes (64 KiB).
    public static let minChunkSize = 1 << 16
    /// Largest chunk size: 67 108 864 bytes (64 MiB). Also the largest buffer a fetch or a
    /// builder holds for one chunk.
    public static let maxChunkSize = 1 << 26
    /// `ChunkSizing` picks the smallest chunk size giving fewer than this many chunks, when the
    /// chunk-size range allows (files above 125 GiB get more chunks of 64 MiB).
    public static let targetChunkCount = 2000
    /// Largest size of one file: 2^50 bytes (1 PiB). In practice `maxTotalChunks` binds first.
    public static let maxFileSize: UInt64 = 1 << 50
    /// Most entries (files) in one manifest: 100 000.
    public static let maxEntries = 100_000
    /// Most chunks over all entries of one manifest: 2^20 (32 MiB of hashes; at 64 MiB chunks
    /// that describes 64 TiB).
    public static let maxTotalChunks = 1 << 20
    /// Largest encoded manifest: 64 MiB.
    public static let maxManifestBytes = 64 << 20
    /// Largest path component: 255 bytes of UTF-8 (NAME_MAX on Linux).
    public static let maxComponentBytes = 255
    /// Largest path, components joined by "/": 4096 bytes of UTF-8 (PATH_MAX on Linux).
    public static let maxPathBytes = 4096
    /// Most components in one path (also the builder's recursion limit): 128.
    public static let maxComponents = 128
    /// Size of a chunk hash, a Merkle node, a file root and a manifest ID: 32 bytes.
    public static let hashBytes = 32
}

/// Domain separation of every hash in the file format. Changing any of them changes every
/// root and every manifest ID (PROTOCOL.md §8.3).
enum FileDomain {
    /// BLAKE2b personalisation of a chunk hash: H(chunk bytes).
    static let chunkPersonal = "hark.chunk.v1"
    /// BLAKE2b personalisation of a Merkle leaf: H(0x00 ‖ chunk hash).
    static let leafPersonal = "hark.leaf.v1"
    /// BLAKE2b personalisation of a Merkle inner node: H(0x01 ‖ left ‖ right).
    static let nodePersonal = "hark.node.v1"
    /// BLAKE2b personalisation of a file root: H(0x02 ‖ LE64 size ‖ LE32 chunk size ‖ tree root).
    static let filePersonal = "hark.file.v1"
    /// BLAKE2b personalisation of a manifest ID: H(encoded manifest bytes as received).
    static let manifestPersonal = "hark.manifest.v1"
    static let leafPrefix: UInt8 = 0x00
    static let nodePrefix: UInt8 = 0x01
    static let filePrefix: UInt8 = 0x02
    /// Name of the staging folder FetchTarget keeps inside a target folder; refused as a name.
    static let stagingFolder = ".hark-partial"
}
