import Foundation
import HarkControl
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Request/reply round trips through ``ControlClient`` and how it maps what comes back to
/// ``ControlClient/ClientError``: answered in process, and over a real Unix socket.
@Suite struct ControlClientTests {
    /// An in-process daemon: answers `echo` with its params, `fail` with an error, anything else
    /// with lines given per method.
    private func client(extra: [String: [String]] = [:], seen: LockedList? = nil) -> ControlClient {
        ControlClient { request in
            guard let head = try? ControlCoding.decode(RequestHead.self, from: Array(request.dropLast())) else { return [] }
            seen?.append("\(head.id) \(head.method)")
            switch head.method {
            case "echo":
                let params = (try? ControlCoding.decode(RequestParams<[String: Int]>.self, from: Array(request.dropLast())).params) ?? [:]
                return (try? ControlCoding.encodeLine(Response(id: head.id, result: params))) ?? []
            case "fail":
                return (try? ControlCoding.encodeLine(ErrorResponse(id: head.id, error: ControlErrorBody(code: .ambiguous, message: "two groups named x")))) ?? []
            default:
                return Array((extra[head.method] ?? []).map { $0.replacingOccurrences(of: "ID", with: String(head.id)) + "\n" }.joined().utf8)
            }
        }
    }

    @Test func callsRoundTripWithIncreasingIDs() throws {
        let seen = LockedList()
        let c = client(seen: seen)
        let echo = ControlMethod<[String: Int], [String: Int]>(name: "echo")
        #expect(try c.call(echo, ["n": 1]) == ["n": 1])
        #expect(try c.call(echo, ["n": 2]) == ["n": 2])
        try c.callIgnoringResult(ControlMethod<NoParams, NoParams>(name: "echo"), NoParams())
        #expect(seen.items == ["1 echo", "2 echo", "3 echo"])
    }

    @Test func anErrorAnswerIsRemoteWithItsBody() {
        do {
            _ = try client().call(ControlMethod<NoParams, NoParams>(name: "fail"), NoParams())
            Issue.record("no error")
        } catch let ControlClient.ClientError.remote(body) {
            #expect(body == ControlErrorBody(code: .ambiguous, message: "two groups named x"))
            #expect(body.code.exitStatus == 64)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func keepalivesEventsAndOtherIDsAreSkipped() throws {
        let c = client(extra: ["slow": [
            #"{"event":"keepalive"}"#, #"{"event":"message","data":{}}"#, #"{"id":99,"result":{"n":0}}"#, #"{"id":ID,"result":{"n":5}}"#,
        ]])
        #expect(try c.call(ControlMethod<NoParams, [String: Int]>(name: "slow"), NoParams()) == ["n": 5])
    }

    @Test func aClosedConnectionIsItsOwnError() {
        do { _ = try client(extra: ["closed": []]).call(ControlMethod<NoParams, [String: Int]>(name: "closed"), NoParams()); Issue.record("no error") } catch {
            guard case ControlClient.ClientError.connectionClosed = error else { Issue.record("unexpected \(error)"); return }
            #expect((error as? ControlClient.ClientError)?.isConnectionLost == true)
        }
    }

    @Test func protocolErrors() {
        func why(_ method: String, _ lines: [String]) -> String? {
            do { _ = try client(extra: [method: lines]).call(ControlMethod<NoParams, [String: Int]>(name: method), NoParams()); return nil } catch {
                guard case let ControlClient.ClientError.protocolError(why) = error else { return "unexpected \(error)" }
                return why
            }
        }
        #expect(why("garbage", ["not json"]) == "unreadable response line")
        #expect(why("wrong", [#"{"id":ID,"result":"text"}"#])?.hasPrefix("response does not match Dictionary<String, Int>") == true)
    }

    // MARK: a real socket

    private func socketPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
    }

    @Test func noDaemonAndTooLongPath() {
        let path = socketPath()
        #expect {
            _ = try ControlClient(socketPath: path, timeoutMs: 500)
        } throws: { error in
            guard case let ControlClient.ClientError.daemonNotRunning(p, reason) = error else { return false }
            return p == path && reason == String(cString: strerror(ENOENT))
        }
        #expect {
            _ = try ControlClient(socketPath: "/tmp/" + String(repeating: "x", count: 200), timeoutMs: 500)
        } throws: { error in
            if case ControlClient.ClientError.pathTooLong = error { return true } else { return false }
        }
    }

    @Test func roundTripOverAUnixSocket() throws {
        let server = try UnixListener(path: socketPath())
        defer { server.close() }
        // the server answers one request with a keepalive, then the result
        let thread = Thread {
            guard let (fd, line) = server.acceptAndReadLine() else { return }
            defer { Glibc.close(fd) }
            guard let head = try? ControlCoding.decode(RequestHead.self, from: line),
                  let answer = try? ControlCoding.encodeLine(Response(id: head.id, result: ["method": head.method])) else { return }
            server.write(fd, Array("{\"event\":\"keepalive\"}\n".utf8) + answer)
        }
        thread.start()
        let c = try ControlClient(socketPath: server.path, timeoutMs: 5000)
        #expect(try c.call(ControlMethod<NoParams, [String: String]>(name: ControlMethods.status.name), NoParams()) == ["method": "status"])
    }

    @Test func aDaemonThatNeverAnswersIsBounded() throws {
        let server = try UnixListener(path: socketPath())
        defer { server.close() }
        // the kernel completes the connect from the listen queue; nobody ever reads or writes
        let c = try ControlClient(socketPath: server.path, timeoutMs: 5000)
        c.setTimeout(ms: 200)
        #expect {
            _ = try c.call(ControlMethods.status, NoParams())
        } throws: { error in
            guard case let ControlClient.ClientError.notAnswering(p, ms) = error else { return false }
            return p == server.path && ms == 200
        }
    }
}

/// A list appended to from the answering closure.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return list }
}

/// A listening Unix stream socket in the temporary directory; removed by ``close()``.
final class UnixListener: @unchecked Sendable {
    let path: String
    private let fd: Int32

    struct Failure: Error { var what: String }

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(what: "socket") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw Failure(what: "path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 4) == 0 else { Glibc.close(fd); throw Failure(what: "bind/listen: \(String(cString: strerror(errno)))") }
    }

    /// Accepts one connection (waiting at most 10 s) and reads its first line (at most 10 s).
    func acceptAndReadLine() -> (Int32, [UInt8])? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 10_000) == 1 else { return nil }
        let conn = accept(fd, nil, nil)
        guard conn >= 0 else { return nil }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 1 << 20, read(conn, &byte, 1) == 1 {
            if byte == 0x0A { return (conn, line) }
            line.append(byte)
        }
        Glibc.close(conn)
        return nil
    }

    func write(_ conn: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}
