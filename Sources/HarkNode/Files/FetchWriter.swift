// The disk side of one fetch (`FetchWriter`): owns its target folder and staged part files, and
// verifies and writes chunks. An actor on a low-priority event-loop thread of its own.

import HarkFiles
import NIOCore

/// Owns the target folder and the staged files of one fetch; verifies and writes chunks.
/// An actor so that hashing and writing run beside the network (never on a channel reader), on
/// a low-priority thread of its own (`FileTransfers.writeLoop`).
actor FetchWriter {
    /// Runs on `FileTransfers.writeLoop` (low priority, off the cooperative pool).
    nonisolated var unownedExecutor: UnownedSerialExecutor { FileTransfers.writeLoop.executor.asUnownedSerialExecutor() }

    let manifest: Manifest
    private let target: FetchTarget
    private var staged: [StagedFile]
    private(set) var resumed = 0
    private(set) var zero = 0

    enum WriteResult: Sendable { case written, corrupt(String), failed(FileError) }

    /// Opens `directory`, refuses existing destinations (unless `force`), stages every entry
    /// (resuming from persisted bitmaps) and marks chunks that are all-zero in the manifest.
    init(directory: String, manifest: Manifest, force: Bool) throws(FileError) {
        self.manifest = manifest
        let t = try FetchTarget(directory: directory, manifest: manifest, options: .init(force: force))
        if !force {
            for i in manifest.entries.indices where try t.destinationExists(entry: i) {
                t.removeStagingIfEmpty()
                throw .alreadyExists(manifest.entries[i].displayName)
            }
        }
        var files: [StagedFile] = []
        var resumed = 0, zero = 0
        for i in manifest.entries.indices {
            let s = try t.stage(entry: i)
            resumed += s.stats.chunksResumed
            for c in 0..<s.entry.chunkCount where !s.have.contains(c) { try s.markIfZero(chunk: c) }
            zero += s.stats.chunksZero
            files.append(s)
        }
        target = t
        staged = files
        self.resumed = resumed
        self.zero = zero
    }

    /// Verified chunks, manifest-wide.
    func held() -> ChunkBitmap {
        var b = ChunkBitmap(count: manifest.chunkCount)
        for (e, s) in staged.enumerated() {
            for c in 0..<s.entry.chunkCount where s.have.contains(c) { b.insert(manifest.layout.global(entry: e, chunk: c)) }
        }
        return b
    }

    func write(global: Int, hashed: HashedChunk) -> WriteResult {
        let (e, c) = manifest.layout.locate(global)
        do {
            try staged[e].write(chunk: c, hashed: hashed)
            return .written
        } catch {
            switch error {
            case .chunkHashMismatch, .wrongChunkLength: return .corrupt("\(error)")
            default: return .failed(error)
            }
        }
    }

    /// A verified chunk read back from its part file, to serve it to another fetcher; nil when
    /// it is not verified yet, or the file was committed (then it is served from its place).
    func readVerified(global: Int) -> [UInt8]? {
        let (e, c) = manifest.layout.locate(global)
        return try? staged[e].readVerified(chunk: c)
    }

    /// Persists every bitmap (an interrupted fetch resumes from here).
    func flush() {
        for s in staged where !s.isCommitted { try? s.flush() }
    }

    struct Committed: Sendable {
        var paths: [String]
        var bytesHashed: UInt64
        var bytesReadBack: UInt64
    }

    /// Deletes the part files and bitmaps of every file not committed, and the staging folder
    /// when it is left empty (an abandoned fetch).
    func discardAll() {
        for s in staged where !s.isCommitted { s.discard() }
        target.removeStagingIfEmpty()
    }

    /// Renames every complete file into place.
    func commitAll() throws(FileError) -> Committed {
        var out = Committed(paths: [], bytesHashed: 0, bytesReadBack: 0)
        for s in staged {
            if !s.isCommitted { _ = try s.commit() }
            out.paths.append(s.entry.relativePath)
            out.bytesHashed += s.stats.bytesHashed
            out.bytesReadBack += s.stats.bytesReadForVerification
        }
        target.removeStagingIfEmpty()
        return out
    }
}
