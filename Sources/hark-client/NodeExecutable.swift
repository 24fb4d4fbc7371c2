#if canImport(Glibc)
import Glibc
#endif

/// Runs `hark-node`, the executable with the node and the full command tree, in place of this
/// process. It is looked for next to this executable (symbolic links resolved: `make install`
/// puts both in $(PREFIX)/bin, `swift build` both in .build/<configuration>).
enum NodeExecutable {
    static let name = "hark-node"

    /// The path of `hark-node` beside this executable.
    static var path: String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return name }
        let me = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = me.lastIndex(of: "/") else { return name }
        return String(me[...slash]) + name
    }

    /// execv(2) of `hark-node` with this process's own argument vector, byte for byte
    /// (`CommandLine.arguments` would have replaced bytes that are not UTF-8 with U+FFFD, and
    /// hark-node refuses those itself). Returns only on failure: then prints why and exits 69
    /// (EX_UNAVAILABLE).
    static func exec() -> Never {
        let target = path
        execv(target, CommandLine.unsafeArgv)
        let why = String(cString: strerror(errno))
        let bytes = Array("hark: cannot run \(target): \(why) (hark-node is installed next to hark)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(69)
    }
}
