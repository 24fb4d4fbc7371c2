import Foundation
import HarkFiles
import HarkTesting
#if canImport(Glibc)
import Glibc
#endif

/// A fresh folder under the system temp folder, removed by `remove()` (call it in a defer).
struct TempDir {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/hark-files-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: p)
    }

    func sub(_ name: String) -> String { path + "/" + name }

    func mkdir(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: sub(name), withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = sub(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// A sparse file: `size` bytes, all holes except `data` written at `dataOffset`.
    @discardableResult
    func sparse(_ name: String, size: UInt64, data: [UInt8] = [], at dataOffset: UInt64 = 0) throws -> String {
        let p = sub(name)
        let fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw POSIXError(.EIO) }
        if !data.isEmpty {
            let n = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, data.count, off_t(dataOffset)) }
            guard n == data.count else { throw POSIXError(.EIO) }
        }
        return p
    }

    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: sub(name)))) }

    func exists(_ name: String) -> Bool {
        var s = stat()
        return lstat(sub(name), &s) == 0
    }

    /// Names in folder `name` (not recursive), sorted.
    func list(_ name: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: name.isEmpty ? path : sub(name)).sorted()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededRNG(seed: seed)
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        let w = rng.next()
        for k in 0..<8 where i + k < count { out[i + k] = UInt8(truncatingIfNeeded: w >> UInt64(8 * k)) }
        i += 8
    }
    return out
}

/// Reads chunk `c` of entry `e` straight from the offered bytes, as a peer would send it.
func chunkBytes(_ content: [UInt8], _ entry: ManifestEntry, _ c: Int) -> [UInt8] {
    let start = Int(entry.chunkOffset(c))
    return Array(content[start ..< start + entry.chunkLength(c)])
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Whether this file system reports holes through lseek(SEEK_DATA) (tmpfs, ext4, xfs, btrfs do).
func fileSystemReportsHoles(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let next = lseek(fd, 0, 3 /* SEEK_DATA */)
    return next < 0 ? errno == ENXIO : next > 0
}
