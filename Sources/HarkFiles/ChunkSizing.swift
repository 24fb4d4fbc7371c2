/// Chooses the chunk size of a file (PROTOCOL.md §8.2), after Syncthing's block-size rule.
/// Pure functions; thread-safe.
public enum ChunkSizing {
    /// The smallest power of two in [`FileLimits.minChunkSize`, `FileLimits.maxChunkSize`]
    /// (64 KiB … 64 MiB) that splits `fileSize` bytes into fewer than
    /// `FileLimits.targetChunkCount` (2000) chunks; 64 MiB when even that gives more. 64 KiB for
    /// an empty file.
    public static func chunkSize(forFileSize fileSize: UInt64) -> Int {
        var size = FileLimits.minChunkSize
        // At most 11 doublings (2^16 → 2^26).
        while size < FileLimits.maxChunkSize && chunkCount(fileSize: fileSize, chunkSize: size) >= UInt64(FileLimits.targetChunkCount) {
            size <<= 1
        }
        return size
    }

    /// ceil(`fileSize` / `chunkSize`): 0 for an empty file. `chunkSize` must be positive.
    public static func chunkCount(fileSize: UInt64, chunkSize: Int) -> UInt64 {
        precondition(chunkSize > 0)
        let c = UInt64(chunkSize)
        return fileSize / c + (fileSize % c == 0 ? 0 : 1)
    }

    /// True when `chunkSize` is a power of two in [64 KiB, 64 MiB]: the sizes a manifest may use.
    public static func isValid(_ chunkSize: Int) -> Bool {
        chunkSize >= FileLimits.minChunkSize && chunkSize <= FileLimits.maxChunkSize && chunkSize & (chunkSize - 1) == 0
    }

    /// Length in bytes of chunk `index` of a file: `chunkSize` except for a shorter last chunk.
    /// `index` must be below `chunkCount`.
    public static func chunkLength(index: Int, fileSize: UInt64, chunkSize: Int) -> Int {
        let start = UInt64(index) * UInt64(chunkSize)
        precondition(start < fileSize, "chunk index out of range")
        return Int(min(UInt64(chunkSize), fileSize - start))
    }
}
