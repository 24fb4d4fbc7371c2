import Foundation
@testable import HarkFiles
import HarkEventProto
import HarkTesting
import SwiftProtobuf
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FetchTests {
    /// Feeds every chunk of every entry, read by `source`, into `target` in an order shuffled by `seed`, then commits.
    func fetchAll(_ manifest: Manifest, from source: ChunkSource, into target: FetchTarget, seed: UInt64) throws {
        var staged = try manifest.entries.indices.map { try target.stage(entry: $0) }
        var order = Array(0..<manifest.chunkCount)
        var rng = SeededRNG(seed: seed)
        order.shuffle(using: &rng)
        for g in order {
            let (e, c) = manifest.layout.locate(g)
            #expect(try staged[e].write(chunk: c, data: try source.read(entry: e, chunk: c)))
        }
        for s in staged { try s.commit() }
        staged.removeAll()
        #expect(target.removeStagingIfEmpty())
    }

    @Test func nestedFolderEmptyAndSparseFilesReassembleByteIdentically() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let a = randomBytes(300_000, seed: 1)
        let b = randomBytes(65536, seed: 2)              // exactly one chunk
        try tmp.write("src/tree/a.bin", a)
        try tmp.write("src/tree/deep/er/b.bin", b)
        try tmp.write("src/tree/deep/empty", [])
        let sparseSize: UInt64 = 64 << 20
        let marker = randomBytes(1000, seed: 3)
        try tmp.sparse("src/sparse.img", size: sparseSize, data: marker, at: 40 << 20)
        chmod(tmp.sub("src/tree/a.bin"), 0o751)

        let built = try ManifestBuilder.build(paths: [tmp.sub("src/tree"), tmp.sub("src/sparse.img")])
        let m = built.manifest
        #expect(m.entries.map(\.relativePath) == ["tree/a.bin", "tree/deep/empty", "tree/deep/er/b.bin", "sparse.img"])
        #expect(m.entries.map(\.size) == [300_000, 0, 65536, sparseSize])
        #expect(m.entries[0].mode == 0o751)
        #expect(m.entries[1].chunkCount == 0)
        #expect(m.entries[3].chunkSize == 65536 && m.entries[3].chunkCount == 1024)
        if fileSystemReportsHoles(tmp.sub("src/sparse.img")) {
            #expect(built.stats.bytesRead < 1 << 20, "holes of the sparse file were read: \(built.stats)")
            #expect(built.stats.bytesInHoles > 60 << 20)
        }
        // The manifest travels as bytes and is decoded on the other side.
        let received = try Manifest(decoding: m.encoded)
        #expect(received.id == m.id)

        try tmp.mkdir("dst")
        let target = try FetchTarget(directory: tmp.sub("dst"), manifest: received)
        try fetchAll(received, from: ChunkSource(built), into: target, seed: 42)

        #expect(try tmp.read("dst/tree/a.bin") == a)
        #expect(try tmp.read("dst/tree/deep/er/b.bin") == b)
        #expect(try tmp.read("dst/tree/deep/empty") == [])
        let img = try tmp.read("dst/sparse.img")
        #expect(img.count == Int(sparseSize))
        #expect(Array(img[(40 << 20) ..< (40 << 20) + 1000]) == marker)
        #expect(img[0] == 0 && img[Int(sparseSize) - 1] == 0)
        #expect(try tmp.list("dst") == ["sparse.img", "tree"], "staging folder left behind")
        var st = stat()
        stat(tmp.sub("dst/tree/a.bin"), &st)
        #expect(st.st_mode & 0o777 == 0o751 & 0o755 | 0o400)
        // The received sparse file stays sparse: zero chunks are not written.
        stat(tmp.sub("dst/sparse.img"), &st)
        if fileSystemReportsHoles(tmp.sub("dst/sparse.img")) { #expect(Int(st.st_blocks) * 512 < 8 << 20) }
    }

    @Test func resumeAfterAnInterruptionDoesNotRereadOrRehashVerifiedChunks() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(20 * 65536 + 123, seed: 7)
        try tmp.write("big.bin", content)
        let built = try ManifestBuilder.build(paths: [tmp.sub("big.bin")])
        let m = built.manifest
        let e = m.entries[0]
        #expect(e.chunkCount == 21)
        try tmp.mkdir("dst")
        let options = FetchTarget.Options(flushEveryChunks: 4)
        do {
            let target = try FetchTarget(directory: tmp.sub("dst"), manifest: m, options: options)
            let staged = try target.stage(entry: 0)
            for c in 0..<10 { try staged.write(chunk: c, data: chunkBytes(content, e, c)) }
            #expect(staged.stats.flushes == 2 && staged.stats.chunksHashed == 10)
            try staged.flush()   // an interrupted fetch persists its bitmap
        }
        #expect(!tmp.exists("dst/big.bin"))
        let target = try FetchTarget(directory: tmp.sub("dst"), manifest: m, options: options)
        let staged = try target.stage(entry: 0)
        #expect(staged.stats.chunksResumed == 10 && !staged.stats.resumeRehashed)
        #expect((0..<10).allSatisfy(staged.have.contains) && !staged.have.contains(10))
        #expect(staged.stats.chunksHashed == 0 && staged.stats.bytesReadForVerification == 0)
        // A chunk already verified is ignored without hashing.
        #expect(try !staged.write(chunk: 3, data: chunkBytes(content, e, 3)))
        for c in 10..<21 { try staged.write(chunk: c, data: chunkBytes(content, e, c)) }
        #expect(staged.stats.chunksHashed == 11, "only the missing chunks are hashed")
        try staged.commit()
        #expect(staged.stats.bytesReadForVerification == 0, "commit verified the root without reading chunks back")
        #expect(try tmp.read("dst/big.bin") == content)
        #expect(target.removeStagingIfEmpty())
    }

    @Test func resumeAfterACrashTrustsTheBitmapWhenOnlyThisProcessWroteThePartFile() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(20 * 65536 + 123, seed: 7)
        try tmp.write("big.bin", content)
        let m = try ManifestBuilder.build(paths: [tmp.sub("big.bin")]).manifest
        let e = m.entries[0]
        try tmp.mkdir("dst")
        let options = FetchTarget.Options(flushEveryChunks: 4)
        do {
            let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m, options: options).stage(entry: 0)
            for c in 0..<10 { try staged.write(chunk: c, data: chunkBytes(content, e, c)) }
            // The process "crashes": chunks 8 and 9 are written after the last bitmap persist;
            // the identity recorded after each write still matches the part file.
        }
        let target = try FetchTarget(directory: tmp.sub("dst"), manifest: m, options: options)
        let staged = try target.stage(entry: 0)
        #expect(!staged.stats.resumeRehashed)
        #expect(staged.stats.chunksResumed == 8 && staged.stats.bytesReadForVerification == 0,
                "the durable bits are trusted; chunks 8 and 9 are fetched again")
        for c in 0..<21 where !staged.have.contains(c) { try staged.write(chunk: c, data: chunkBytes(content, e, c)) }
        try staged.commit()
        #expect(try tmp.read("dst/big.bin") == content)
    }

    /// The reproduction of a trusted bitmap: fetch interrupted, part file damaged in place, resumed.
    @Test func resumeAfterThePartFileWasDamagedRefetchesTheDamagedChunk() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(8 * 65536, seed: 9)
        try tmp.write("f", content)
        let m = try ManifestBuilder.build(paths: [tmp.sub("f")]).manifest
        let e = m.entries[0]
        try tmp.mkdir("dst")
        do {
            let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m).stage(entry: 0)
            for c in 0..<5 { try staged.write(chunk: c, data: chunkBytes(content, e, c)) }
            try staged.flush()
        }
        let part = tmp.sub("dst/.hark-partial/\(m.id.hex)/0.part")
        let fd = open(part, O_WRONLY)
        #expect(fd >= 0)
        _ = pwrite(fd, [0xAA, 0xBB, 0xCC, 0xDD], 4, 1000)
        // Make the change visible to the identity check even within one clock tick: an mtime
        // of its own (as `touch -d` or a slow writer would leave).
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        _ = futimens(fd, &times)
        close(fd)
        let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m).stage(entry: 0)
        #expect(staged.stats.resumeRehashed && staged.stats.chunksDamaged == 1)
        if fileSystemReportsHoles(part) {
            #expect(staged.stats.bytesReadForVerification == 5 * 65536, "the 3 chunks never written are holes: not read")
        }
        #expect(!staged.have.contains(0) && (1..<5).allSatisfy(staged.have.contains))
        #expect(try staged.readVerified(chunk: 0) == nil)
        for c in [0, 5, 6, 7] { try staged.write(chunk: c, data: chunkBytes(content, e, c)) }
        try staged.commit()
        #expect(try tmp.read("dst/f") == content)
    }

    @Test func aChunkDamagedWhileTheFetchRunsIsNeitherServedNorCommitted() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(4 * 65536, seed: 10)
        try tmp.write("f", content)
        let m = try ManifestBuilder.build(paths: [tmp.sub("f")]).manifest
        let e = m.entries[0]
        try tmp.mkdir("dst")
        let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m).stage(entry: 0)
        for c in 0..<4 { try staged.write(chunk: c, data: chunkBytes(content, e, c)) }
        let part = tmp.sub("dst/.hark-partial/\(m.id.hex)/0.part")
        let fd = open(part, O_WRONLY)
        _ = pwrite(fd, [0xAA], 1, 2 * 65536 + 5)
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        _ = futimens(fd, &times)
        close(fd)
        #expect(try staged.readVerified(chunk: 1) == chunkBytes(content, e, 1))
        // Without rehashOnCommit: the changed identity makes the commit read everything back.
        #expect(throws: FileError.chunkHashMismatch(entry: 0, chunk: 2)) { try staged.commit() }
        #expect(!tmp.exists("dst/f"))
        #expect(try staged.readVerified(chunk: 2) == nil, "a dropped chunk is not served")
        try staged.write(chunk: 2, data: chunkBytes(content, e, 2))
        try staged.commit()
        #expect(try tmp.read("dst/f") == content)
    }

    @Test func zeroChunksAreMarkedFromTheManifestWithoutDataAndTheRestIsFetched() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        // 8 chunks of 64 KiB: chunk 5 holds data, the others are a hole.
        let data = randomBytes(1000, seed: 11)
        let path = try tmp.sparse("disk.img", size: 8 * 65536, data: data, at: 5 * 65536 + 17)
        let m = try ManifestBuilder.build(paths: [path]).manifest
        let e = m.entries[0]
        try tmp.mkdir("dst")
        let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m).stage(entry: 0)
        let marked = try (0..<e.chunkCount).filter { try staged.markIfZero(chunk: $0) }
        #expect(marked == [0, 1, 2, 3, 4, 6, 7])
        #expect(staged.stats.chunksZero == 7 && staged.stats.chunksWritten == 0 && staged.stats.chunksHashed == 0)
        #expect(!staged.isComplete)
        let content = try tmp.read("disk.img")
        try staged.write(chunk: 5, data: chunkBytes(content, e, 5))
        try staged.commit()
        #expect(try tmp.read("dst/disk.img") == content)
    }

    @Test func rehashOnCommitReadsBackAndCatchesADamagedPartFile() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(3 * 65536, seed: 8)
        try tmp.write("f", content)
        let m = try ManifestBuilder.build(paths: [tmp.sub("f")]).manifest
        try tmp.mkdir("dst")
        let target = try FetchTarget(directory: tmp.sub("dst"), manifest: m, options: .init(rehashOnCommit: true))
        let staged = try target.stage(entry: 0)
        for c in 0..<3 { try staged.write(chunk: c, data: chunkBytes(content, m.entries[0], c)) }
        // Someone damages chunk 1 on disk behind our back.
        let part = tmp.sub("dst/.hark-partial/\(m.id.hex)/0.part")
        let fd = open(part, O_WRONLY)
        #expect(fd >= 0)
        _ = pwrite(fd, [0xAA], 1, 65536 + 7)
        close(fd)
        #expect(throws: FileError.chunkHashMismatch(entry: 0, chunk: 1)) { try staged.commit() }
        #expect(staged.stats.bytesReadForVerification == 2 * 65536)
        #expect(!staged.have.contains(1) && staged.have.contains(0) && staged.have.contains(2))
        #expect(!tmp.exists("dst/f"))
        try staged.write(chunk: 1, data: chunkBytes(content, m.entries[0], 1))
        try staged.commit()
        #expect(try tmp.read("dst/f") == content)
    }

    @Test func corruptChunkIsRejectedAndNothingIsWritten() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(2 * 65536 + 5, seed: 9)
        try tmp.write("f", content)
        let m = try ManifestBuilder.build(paths: [tmp.sub("f")]).manifest
        let e = m.entries[0]
        try tmp.mkdir("dst")
        let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m).stage(entry: 0)
        var bad = chunkBytes(content, e, 1)
        bad[100] ^= 0x01
        #expect(throws: FileError.chunkHashMismatch(entry: 0, chunk: 1)) { try staged.write(chunk: 1, data: bad) }
        #expect(throws: FileError.wrongChunkLength(entry: 0, chunk: 2, expected: 5, actual: 6)) {
            try staged.write(chunk: 2, data: [1, 2, 3, 4, 5, 6])
        }
        #expect(throws: FileError.chunkOutOfRange(entry: 0, chunk: 3)) { try staged.write(chunk: 3, data: []) }
        // Chunk 1 of another position does not pass as chunk 0.
        #expect(throws: FileError.chunkHashMismatch(entry: 0, chunk: 0)) { try staged.write(chunk: 0, data: chunkBytes(content, e, 1)) }
        #expect(staged.have.setCount == 0 && staged.stats.chunksWritten == 0)
        #expect(throws: FileError.incomplete(entry: 0, missing: 3)) { try staged.commit() }
        #expect(!tmp.exists("dst/f"))
    }

    /// A manifest with one entry at `path`, bypassing validation (as a malicious peer would craft it).
    func craftedManifest(path: [String]) throws -> [UInt8] {
        let content: [UInt8] = [1, 2, 3]
        let h = MerkleTree.chunkHash(content, .sha256)
        var m = Hark_V1_FileManifest()
        m.format = 1
        m.hashAlgorithm = .sha256
        m.entries = [Hark_V1_FileEntry.with {
            $0.path = path; $0.size = 3; $0.mode = 0o644; $0.chunkSize = 65536
            $0.chunkHashes = Data(h)
            $0.root = Data(MerkleTree.fileRoot(size: 3, chunkSize: 65536, flatHashes: h, .sha256))
        }]
        return try m.serializedBytes()
    }

    @Test func maliciousNamesNeverReachTheFileSystem() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try tmp.mkdir("outside")
        try tmp.mkdir("dst/inner")
        let names: [[String]] = [["..", "..", "x"], ["/etc/x"], ["a", "..", "..", "b"], ["a\u{0}b"], ["\u{202E}txt.exe"],
                                 [""], ["."], [], ["..", "outside", "x"], ["a\\..\\..\\x"], [".hark-partial", "x"]]
        for path in names {
            #expect(throws: FileError.self, "\(path) was accepted") { try Manifest(decoding: craftedManifest(path: path)) }
        }
        // A well-formed name is accepted by the same crafting, so the refusals above are about names.
        let ok = try Manifest(decoding: craftedManifest(path: ["inner", "x"]))
        #expect(ok.entries[0].relativePath == "inner/x")
        #expect(try tmp.list("outside").isEmpty)
        #expect(try tmp.list("dst") == ["inner"])
    }

    @Test func symlinkPlantedInTargetIsNeverFollowed() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try tmp.mkdir("outside")
        try tmp.mkdir("dst")
        #expect(symlink(tmp.sub("outside"), tmp.sub("dst/evil")) == 0)
        #expect(symlink(tmp.sub("outside/file"), tmp.sub("dst/file")) == 0)
        let content: [UInt8] = [1, 2, 3]
        let viaFolder = try Manifest(decoding: craftedManifest(path: ["evil", "x"]))
        let target = try FetchTarget(directory: tmp.sub("dst"), manifest: viaFolder)
        #expect(throws: FileError.unsafeTarget("evil/x")) { try target.stage(entry: 0) }
        // Even if the link appears after staging began, commit refuses to go through it.
        try? FileManager.default.removeItem(atPath: tmp.sub("dst/evil"))
        let staged = try target.stage(entry: 0)
        try staged.write(chunk: 0, data: content)
        #expect(symlink(tmp.sub("outside"), tmp.sub("dst/evil")) == 0)
        #expect(throws: FileError.unsafeTarget("evil/x")) { try staged.commit() }

        // A symlink as the file name itself: not replaced without force; replaced (not followed) with it.
        let direct = try Manifest(decoding: craftedManifest(path: ["file"]))
        #expect(throws: FileError.alreadyExists("file")) { try FetchTarget(directory: tmp.sub("dst"), manifest: direct).stage(entry: 0) }
        let forced = try FetchTarget(directory: tmp.sub("dst"), manifest: direct, options: .init(force: true)).stage(entry: 0)
        try forced.write(chunk: 0, data: content)
        try forced.commit()
        #expect(try tmp.read("dst/file") == content)
        var st = stat()
        #expect(lstat(tmp.sub("dst/file"), &st) == 0 && st.st_mode & S_IFMT == S_IFREG)
        #expect(try tmp.list("outside").isEmpty, "something was written outside the target")
    }

    @Test func symlinkedStagingFolderIsRefused() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try tmp.mkdir("outside")
        try tmp.mkdir("dst")
        #expect(symlink(tmp.sub("outside"), tmp.sub("dst/.hark-partial")) == 0)
        let m = try Manifest(decoding: craftedManifest(path: ["x"]))
        #expect(throws: FileError.unsafeTarget(tmp.sub("dst/.hark-partial"))) { try FetchTarget(directory: tmp.sub("dst"), manifest: m) }
        #expect(try tmp.list("outside").isEmpty)
    }

    @Test func existingFileIsNotOverwrittenWithoutForce() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try tmp.write("dst/x", [9, 9])
        let content: [UInt8] = [1, 2, 3]
        let m = try Manifest(decoding: craftedManifest(path: ["x"]))
        #expect(throws: FileError.alreadyExists("x")) { try FetchTarget(directory: tmp.sub("dst"), manifest: m).stage(entry: 0) }
        #expect(try tmp.read("dst/x") == [9, 9])

        // The file appears while the fetch runs: commit still refuses (rename without replace).
        try FileManager.default.removeItem(atPath: tmp.sub("dst/x"))
        let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m).stage(entry: 0)
        try staged.write(chunk: 0, data: content)
        try tmp.write("dst/x", [7])
        #expect(throws: FileError.alreadyExists("x")) { try staged.commit() }
        #expect(try tmp.read("dst/x") == [7])

        let forced = try FetchTarget(directory: tmp.sub("dst"), manifest: m, options: .init(force: true)).stage(entry: 0)
        #expect(forced.stats.chunksResumed == 1, "the completed part file is resumed, not fetched again")
        try forced.commit()
        #expect(try tmp.read("dst/x") == content)
    }

    @Test func sourceChangedAfterOfferIsDetected() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(3 * 65536, seed: 11)
        let path = try tmp.write("f", content)
        let built = try ManifestBuilder.build(paths: [path])
        let source = ChunkSource(built)
        #expect(try source.read(entry: 0, chunk: 1) == chunkBytes(content, built.manifest.entries[0], 1))
        #expect(try source.read(global: 2) == chunkBytes(content, built.manifest.entries[0], 2))

        // Same size, content changed in chunk 1, mtime put back: the re-hash catches it.
        var st = stat()
        stat(path, &st)
        let fd = open(path, O_WRONLY)
        _ = pwrite(fd, [0x55], 1, 65536 + 3)
        var times = [st.st_atim, st.st_mtim]
        futimens(fd, &times)
        close(fd)
        // Same size and mtime, but the write moved the ctime: every chunk is re-hashed, the
        // changed one is refused, an unchanged one is still served.
        #expect(throws: FileError.sourceChanged(path)) { try source.read(entry: 0, chunk: 1) }
        #expect(try source.read(entry: 0, chunk: 0) == chunkBytes(content, built.manifest.entries[0], 0))
        // A source recorded without an identity (older stores) is re-hashed instead: the changed
        // chunk is refused, an unchanged one is still served.
        let legacy = ChunkSource(manifest: built.manifest, files: built.sources.map {
            SourceFile(path: $0.path, size: $0.size, mtimeSeconds: $0.mtimeSeconds, mtimeNanoseconds: $0.mtimeNanoseconds)
        })
        #expect(built.sources[0].identity != nil)
        #expect(throws: FileError.sourceChanged(path)) { try legacy.read(entry: 0, chunk: 1) }
        #expect(try legacy.read(entry: 0, chunk: 0) == chunkBytes(content, built.manifest.entries[0], 0),
                "an unchanged chunk is still served")
        var regions = [UInt8](repeating: 0, count: 65536)
        let check = try regions.withUnsafeMutableBytes { raw in
            try legacy.read(global: 0, into: [UnsafeMutableRawBufferPointer(rebasing: raw[0..<1000]),
                                             UnsafeMutableRawBufferPointer(rebasing: raw[1000...])])
        }
        #expect(check == .rehashed && regions == chunkBytes(content, built.manifest.entries[0], 0), "read in pieces, hashed across them")

        // Size changed: refused for every chunk.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd(); try h.write(contentsOf: Data([1])); try h.close()
        #expect(throws: FileError.sourceChanged(path)) { try source.read(entry: 0, chunk: 0) }
        // Gone: also "changed".
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: FileError.sourceChanged(path)) { try source.read(entry: 0, chunk: 0) }
        #expect(throws: FileError.chunkOutOfRange(entry: 0, chunk: 3)) { try source.read(entry: 0, chunk: 3) }
    }

    @Test("an unchanged source is served on its identity alone, read in pieces into caller memory")
    func identityCheckedRead() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(2 * 65536 + 5, seed: 12)
        let path = try tmp.write("f", content)
        let built = try ManifestBuilder.build(paths: [path])
        let source = ChunkSource(built)
        var out = [UInt8](repeating: 0, count: 65536)
        let check = try out.withUnsafeMutableBytes { raw in
            try source.read(global: 1, into: [UnsafeMutableRawBufferPointer(rebasing: raw[0..<7]),
                                             UnsafeMutableRawBufferPointer(rebasing: raw[7...])])
        }
        #expect(check == .identity)
        #expect(out == chunkBytes(content, built.manifest.entries[0], 1))
        // chmod changes only the ctime: the chunk is re-hashed, still matches, and is served.
        #expect(chmod(path, 0o600) == 0)
        let after = try out.withUnsafeMutableBytes { raw in try source.read(global: 1, into: [raw]) }
        #expect(after == .rehashed)
        #expect(out == chunkBytes(content, built.manifest.entries[0], 1))
    }

    @Test("StagedFile writes a HashedChunk only when its hash is the manifest's")
    func hashedChunkWrite() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let content = randomBytes(3 * 65536, seed: 13)
        let built = try ManifestBuilder.build(paths: [try tmp.write("src/f", content)])
        let m = built.manifest
        try tmp.mkdir("dst")
        let staged = try FetchTarget(directory: tmp.sub("dst"), manifest: m, options: .init()).stage(entry: 0)
        func hashed(_ bytes: [UInt8]) -> HashedChunk {
            let b = ChunkBuffer(count: bytes.count)
            bytes.withUnsafeBytes { b.bytes.copyMemory(from: $0) }
            return HashedChunk(hashing: b, m.hashAlgorithm)
        }
        var wrong = chunkBytes(content, m.entries[0], 1)
        wrong[9] ^= 1
        #expect(throws: FileError.chunkHashMismatch(entry: 0, chunk: 1)) { try staged.write(chunk: 1, hashed: hashed(wrong)) }
        #expect(!staged.have.contains(1))
        for c in 0..<3 { #expect(try staged.write(chunk: c, hashed: hashed(chunkBytes(content, m.entries[0], c)))) }
        #expect(try !staged.write(chunk: 0, hashed: hashed(chunkBytes(content, m.entries[0], 0))), "a held chunk is not written again")
        try staged.commit()
        #expect(try tmp.read("dst/f") == content)
    }

    @Test func builderRefusesArgumentSymlinksAndSkipsNestedOnes() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try tmp.write("secret", [1])
        try tmp.write("dir/real", [2])
        #expect(symlink(tmp.sub("secret"), tmp.sub("dir/link")) == 0)
        #expect(symlink(tmp.sub("secret"), tmp.sub("toplink")) == 0)
        #expect(mkfifo(tmp.sub("dir/fifo"), 0o600) == 0)
        try tmp.write("dir/bad\u{1B}name", [3])
        #expect(throws: FileError.symlinkRefused(tmp.sub("toplink"))) { try ManifestBuilder.build(paths: [tmp.sub("toplink")]) }
        let built = try ManifestBuilder.build(paths: [tmp.sub("dir")])
        #expect(built.manifest.entries.map(\.relativePath) == ["dir/real"])
        #expect(Set(built.skipped.map { ($0.path as NSString).lastPathComponent }) == ["link", "fifo", "bad\u{1B}name"])
        #expect(throws: FileError.duplicatePath("real")) {
            try tmp.write("other/real", [4])
            _ = try ManifestBuilder.build(paths: [tmp.sub("dir/real"), tmp.sub("other/real")])
        }
    }
}
