import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds and starts `Interop/noise_peer.py` (noiseprotocol 0.3.1) for the interop tests.
enum PythonPeer {
    /// The repository root, from this file's location (Tests/HarkNoiseTests/…).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let setupHint = "run scripts/test-setup.sh (creates .venv-test with noiseprotocol==0.3.1), or set HARK_TEST_PYTHON to a python3 that can `import noise`"

    enum Failure: Error, CustomStringConvertible {
        case missingInterpreter(String)
        case missingModule(String, stderr: String)
        case missingScript
        case peer(String)
        var description: String {
            switch self {
            case let .missingInterpreter(path): return "no Python interpreter at \(path); \(PythonPeer.setupHint)"
            case let .missingModule(path, err): return "\(path) cannot import noiseprotocol (\(err.trimmingCharacters(in: .whitespacesAndNewlines))); \(PythonPeer.setupHint)"
            case .missingScript: return "Interop/noise_peer.py not found among the test resources or next to the test sources"
            case let .peer(why): return "Python Noise peer failed: \(why)"
            }
        }
    }

    static var interpreter: String {
        if let p = ProcessInfo.processInfo.environment["HARK_TEST_PYTHON"], !p.isEmpty { return p }
        return repoRoot.appendingPathComponent(".venv-test/bin/python3").path
    }

    static var script: URL? {
        if let dir = Bundle.module.url(forResource: "Interop", withExtension: nil) {
            let url = dir.appendingPathComponent("noise_peer.py")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        let local = repoRoot.appendingPathComponent("Tests/HarkNoiseTests/Interop/noise_peer.py")
        return FileManager.default.fileExists(atPath: local.path) ? local : nil
    }

    /// Throws a `Failure` naming scripts/test-setup.sh when Python or noiseprotocol is missing.
    static func checkAvailable() throws {
        let python = interpreter
        guard FileManager.default.isExecutableFile(atPath: python) else { throw Failure.missingInterpreter(python) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import noise.connection"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure.missingModule(python, stderr: errText) }
    }

    /// A running peer: the process, its announced port, and its stdout for the final report.
    struct Running {
        let process: Process
        let port: UInt16
        let stdout: FileHandle
        let stderr: Pipe

        /// Waits for exit and returns the final JSON report.
        func finish() throws -> [String: Any] {
            let rest = String(decoding: stdout.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let lines = rest.split(separator: "\n")
            guard let last = lines.last,
                  let obj = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
                let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw Failure.peer("no report (exit \(process.terminationStatus)); stdout: \(rest) stderr: \(err)")
            }
            guard obj["ok"] as? Bool == true else { throw Failure.peer("\(obj["error"] ?? obj)") }
            return obj
        }
    }

    static func start(role: String, prologue: [UInt8]) throws -> Running {
        try checkAvailable()
        guard let script else { throw Failure.missingScript }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: interpreter)
        p.arguments = ["-W", "ignore", script.path, "peer", "--role", role,
                       "--prologue", prologue.map { String(format: "%02x", $0) }.joined()]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // First line: "PORT <n>".
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }   // EOF: the script died before listening
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard line.hasPrefix("PORT "), let port = UInt16(line.dropFirst(5)) else {
            p.waitUntilExit()
            let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failure.peer("did not announce a port (got \(line.debugDescription)); stderr: \(errText)")
        }
        return Running(process: p, port: port, stdout: out.fileHandleForReading, stderr: err)
    }
}

/// A blocking TCP client on 127.0.0.1 with 2-byte big-endian framing, for the interop tests
/// only. Every receive times out after 15 s so a broken peer fails the test instead of hanging it.
final class LoopbackFramedSocket {
    private let fd: Int32

    init(port: UInt16) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw PythonPeer.Failure.peer("socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw PythonPeer.Failure.peer("connect to 127.0.0.1:\(port) failed: errno \(errno)") }
    }

    deinit { close(fd) }

    func sendFrame(_ bytes: [UInt8]) throws {
        precondition(bytes.count <= 65535)
        let data = [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
        let total = data.count
        var offset = 0
        while offset < total {
            let n = data.withUnsafeBytes { send(fd, $0.baseAddress! + offset, total - offset, 0) }
            guard n > 0 else { throw PythonPeer.Failure.peer("send failed: errno \(errno)") }
            offset += n
        }
    }

    func receiveFrame() throws -> [UInt8] {
        let header = try receiveExactly(2)
        return try receiveExactly(Int(header[0]) << 8 | Int(header[1]))
    }

    private func receiveExactly(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + offset, count - offset, 0) }
            guard n > 0 else { throw PythonPeer.Failure.peer("receive failed after \(offset) of \(count) bytes (errno \(errno))") }
            offset += n
        }
        return out
    }
}
