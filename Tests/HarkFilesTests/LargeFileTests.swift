import Foundation
import HarkFiles
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A sparse 5 GiB file. Slow (it hashes 10 GiB of zeros: once serving, once
/// receiving), so it runs only with HARK_BIG_FILES=1.
@Suite struct LargeFileTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["HARK_BIG_FILES"] != nil))
    func fiveGiBSparseFileRoundTripsWithBoundedMemory() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let size: UInt64 = 5 << 30
        let markers: [(UInt64, [UInt8])] = [(0, randomBytes(100, seed: 1)), (3 << 30, randomBytes(5000, seed: 2)),
                                            (size - 77, randomBytes(77, seed: 3))]
        try tmp.sparse("big.img", size: size)
        let fd = open(tmp.sub("big.img"), O_WRONLY)
        for (offset, bytes) in markers { _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, bytes.count, off_t(offset)) } }
        close(fd)

        let start = Date()
        let built = try ManifestBuilder.build(paths: [tmp.sub("big.img")])
        let buildSeconds = Date().timeIntervalSince(start)
        let e = built.manifest.entries[0]
        #expect(e.chunkSize == 4 << 20 && e.chunkCount == 1280)
        if fileSystemReportsHoles(tmp.sub("big.img")) { #expect(built.stats.bytesRead <= 3 * UInt64(e.chunkSize)) }

        try tmp.mkdir("dst")
        let target = try FetchTarget(directory: tmp.sub("dst"), manifest: try Manifest(decoding: built.manifest.encoded))
        let staged = try target.stage(entry: 0)
        let source = ChunkSource(built)
        for c in 0..<e.chunkCount { try staged.write(chunk: c, data: try source.read(entry: 0, chunk: c)) }
        try staged.commit()
        print("5 GiB sparse: build \(buildSeconds) s, total \(Date().timeIntervalSince(start)) s, \(built.stats)")

        var st = stat()
        #expect(stat(tmp.sub("dst/big.img"), &st) == 0 && UInt64(st.st_size) == size)
        #expect(Int(st.st_blocks) * 512 < 64 << 20, "the received file is not sparse")
        let rfd = open(tmp.sub("dst/big.img"), O_RDONLY)
        defer { close(rfd) }
        for (offset, bytes) in markers {
            var back = [UInt8](repeating: 0, count: bytes.count)
            _ = back.withUnsafeMutableBytes { pread(rfd, $0.baseAddress, bytes.count, off_t(offset)) }
            #expect(back == bytes, "at \(offset)")
        }
    }
}
