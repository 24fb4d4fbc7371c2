#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking client of the control socket, for short-lived CLI processes.
///
/// Plain POSIX calls keep `hark send` start-up small (no event loop to spin up). Every wait is
/// bounded (CONTROL.md "Timeouts and keepalive"): the connect by `timeoutMs`, and every read by
/// `timeoutMs` without a line. A daemon writes a `keepalive` event line every 1000 ms while a
/// request is in progress or a stream is open, so only a daemon that stopped answering (stopped
/// with SIGSTOP, hung, or swapped out) runs into the bound: `ClientError.notAnswering`.
/// Keepalive lines are consumed here and never returned.
/// Not thread-safe: one client per thread.
public final class ControlClient {
    /// Why talking to the daemon failed.
    public enum ClientError: Error, CustomStringConvertible {
        /// No daemon listens on the socket (absent file, ECONNREFUSED, ENOENT). The CLI exits 69.
        case daemonNotRunning(path: String, reason: String)
        /// The socket exists but this user may not connect to it (EACCES/EPERM: the socket or
        /// its home belongs to another user). The CLI exits 77.
        case permissionDenied(path: String, reason: String)
        /// The socket path does not fit `sockaddr_un` (108 bytes with the NUL).
        case pathTooLong(path: String)
        /// The daemon sent something that is not a control line.
        case protocolError(String)
        /// The daemon closed the connection before answering (it stopped, or handed its home
        /// over). A request it had read is answered before it closes, so the request was not
        /// run and may be sent again.
        case connectionClosed
        /// The daemon answered with an error.
        case remote(ControlErrorBody)
        /// A read or write on the socket failed.
        case io(String)
        /// The socket exists but nothing came back within `ms` milliseconds: no connection was
        /// accepted, or no line (answer, event or keepalive) arrived. The CLI exits 69.
        case notAnswering(path: String, ms: Int)

        /// True when the connection is gone (closed, reset, broken pipe): the node at the other
        /// end stopped. A new connection may find another node serving the home.
        public var isConnectionLost: Bool {
            switch self {
            case .connectionClosed, .io: return true
            default: return false
            }
        }

        public var description: String {
            switch self {
            case let .daemonNotRunning(path, reason): return "no hark daemon is running (\(path): \(reason)); start one with `hark daemon`"
            case let .permissionDenied(path, reason):
                return "the control socket \(path) is not accessible to this user (\(reason)); run hark as the user who owns the home"
            case let .pathTooLong(path): return "control socket path is too long for a Unix socket: \(path)"
            case let .protocolError(why): return "daemon protocol error: \(why)"
            case .connectionClosed: return "the daemon closed the connection before answering"
            case let .remote(body): return body.message
            case let .io(why): return "control socket: \(why)"
            case let .notAnswering(path, ms):
                return "the hark daemon did not answer within \(ms) ms (\(path)); it may be stopped (SIGSTOP) or hung: check it with `hark status`, or restart it"
            }
        }
    }

    /// Default bound, in milliseconds, on the connect and on each wait for a line: five missed
    /// keepalives.
    public static let defaultTimeoutMs = 5000
    /// Interval, in milliseconds, at which a daemon writes `keepalive` event lines while it
    /// works on a request or a stream is open.
    public static let keepaliveIntervalMs = 1000

    private let fd: Int32
    /// For a client answered in process (`init(answering:)`): request line in, response lines out.
    private let local: ((_ request: [UInt8]) -> [UInt8])?
    private let path: String
    private var buffer: [UInt8] = []
    private var nextID = 1
    /// The current bound on a wait for a line, in milliseconds.
    public private(set) var timeoutMs: Int

    /// Connects to the daemon's socket at `path`, waiting at most `timeoutMs` milliseconds for
    /// the daemon to accept (a stopped daemon's full listen queue makes connect wait).
    /// - Throws: `ClientError.daemonNotRunning`, `.permissionDenied`, `.pathTooLong`, `.notAnswering`.
    public init(socketPath path: String, timeoutMs: Int = ControlClient.defaultTimeoutMs) throws {
        self.path = path
        self.timeoutMs = timeoutMs
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard pathBytes.count < capacity else { throw ClientError.pathTooLong(path: path) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        #endif
        guard fd >= 0 else { throw ClientError.io("socket: \(String(cString: strerror(errno)))") }
        // Non-blocking: a Unix socket whose listen queue is full answers EAGAIN; retry every
        // 10 ms until the bound (at most timeoutMs / 10 + 1 tries).
        var tries = max(1, timeoutMs / 10 + 1)
        while true {
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc == 0 { break }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EINPROGRESS {
                tries -= 1
                if tries > 0 { usleep(10_000); continue }
                close(fd)
                throw ClientError.notAnswering(path: path, ms: timeoutMs)
            }
            close(fd)
            if e == EACCES || e == EPERM { throw ClientError.permissionDenied(path: path, reason: String(cString: strerror(e))) }
            throw ClientError.daemonNotRunning(path: path, reason: String(cString: strerror(e)))
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.fd = fd
        self.local = nil
        setTimeout(ms: timeoutMs)
    }

    /// A client whose requests are answered in this process by `answer` (a request line with
    /// its newline in, the response line(s) out), e.g. reads from the store without a daemon.
    /// Streaming calls end at once (nothing more to read); `fileDescriptor` is -1.
    public init(answering answer: @escaping (_ request: [UInt8]) -> [UInt8]) {
        self.fd = -1
        self.path = ""
        self.timeoutMs = ControlClient.defaultTimeoutMs
        self.local = answer
    }

    /// True for a client made with `init(answering:)`.
    public var isLocal: Bool { local != nil }

    deinit { if fd >= 0 { close(fd) } }

    /// Makes every later read and write on the socket fail (`ClientError.notAnswering`) after
    /// `ms` milliseconds without progress (no line, keepalives included), instead of waiting for
    /// a hung daemon forever.
    public func setTimeout(ms: Int) {
        timeoutMs = ms
        var tv = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Calls `method` with `params` and waits for its response (ControlMethods lists them).
    /// - Throws: `ClientError.remote` when the daemon reports an error; `.protocolError` when the
    ///   result does not decode as `R`; other `ClientError`s on I/O failure.
    public func call<P, R>(_ method: ControlMethod<P, R>, _ params: P) throws -> R {
        let line = try exchange(method.name, params)
        do { return try ControlCoding.decode(Response<R>.self, from: line).result } catch {
            throw ClientError.protocolError("response does not match \(R.self): \(error)")
        }
    }

    /// Calls `method` and waits for its successful response, without decoding the result
    /// (the `hark send` fast path prints nothing, so it skips building the result's decoder).
    /// - Throws: as `call(_:_:)`, but never for a result that does not decode.
    public func callIgnoringResult<P, R>(_ method: ControlMethod<P, R>, _ params: P) throws {
        _ = try exchange(method.name, params)
    }

    /// Writes the request and returns the response line that answers it (not an error).
    private func exchange<P: Codable & Sendable>(_ method: String, _ params: P) throws -> [UInt8] {
        let id = nextID
        nextID += 1
        try writeAll(try ControlCoding.encodeLine(Request(id: id, method: method, params: params)))
        while true {
            guard let line = try readLine() else { throw ClientError.connectionClosed }
            let head: ResponseHead
            do { head = try ControlCoding.decode(ResponseHead.self, from: line) } catch {
                throw ClientError.protocolError("unreadable response line")
            }
            if head.event != nil { continue }
            guard head.id == id else { continue }
            if let error = head.error { throw ClientError.remote(error) }
            return line
        }
    }

    /// Reads the next streamed event (after a streaming call). Returns nil when the daemon closes.
    public func nextEvent<D: Codable & Sendable>(as: D.Type) throws -> EventLine<D>? {
        while let line = try readLine() {
            guard let head = try? ControlCoding.decode(ResponseHead.self, from: line), let e = head.event, e != Self.keepaliveEvent else { continue }
            return try ControlCoding.decode(EventLine<D>.self, from: line)
        }
        return nil
    }

    /// Reads the next streamed event line of any kind: its `event` key and the raw line (decode
    /// its data with `ControlCoding.decode(EventLine<T>.self, from:)`). Returns nil when the daemon closes.
    public func nextRawEvent() throws -> (event: String, line: [UInt8])? {
        while let line = try readLine() {
            guard let head = try? ControlCoding.decode(ResponseHead.self, from: line), let e = head.event, e != Self.keepaliveEvent else { continue }
            return (e, line)
        }
        return nil
    }

    /// Reads the next `watch` event line. Returns nil when the daemon closes.
    /// - Throws: `ClientError.io`, `DecodingError` for a line that is not a watch event.
    public func nextWatchEvent() throws -> WatchEvent? {
        while let line = try readLine() {
            guard let head = try? ControlCoding.decode(ResponseHead.self, from: line), let e = head.event, e != Self.keepaliveEvent else { continue }
            return try WatchEvent(line: line)
        }
        return nil
    }

    /// The event name of the daemon's keepalive lines (`{"event":"keepalive"}`).
    public static let keepaliveEvent = "keepalive"

    /// The socket, for `poll(2)` beside other descriptors (e.g. a terminal). Read it only through
    /// `readAvailable()`.
    public var fileDescriptor: Int32 { fd }

    /// Monotonic milliseconds of the last byte received (or of the connect): a caller that
    /// polls the socket itself ends when this is older than `timeoutMs`.
    public private(set) var lastReceivedMs: Int64 = ControlClient.monotonicMs()

    /// CLOCK_MONOTONIC in milliseconds.
    public static func monotonicMs() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1000 + Int64(t.tv_nsec) / 1_000_000
    }

    /// One `read(2)` (call it when `poll` says the socket is readable), then every complete
    /// event line now buffered, decoded (keepalives dropped). Returns nil once the daemon
    /// closed the socket.
    public func readAvailable() throws -> [WatchEvent]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var n: Int
        repeat { n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } } while n < 0 && errno == EINTR
        if n < 0 { throw ClientError.io("read: \(String(cString: strerror(errno)))") }
        if n == 0 { return nil }
        lastReceivedMs = Self.monotonicMs()
        buffer.append(contentsOf: chunk[0..<n])
        var out: [WatchEvent] = []
        while let nl = buffer.firstIndex(of: 0x0A) {
            let line = Array(buffer[..<nl])
            buffer.removeSubrange(...nl)
            if let head = try? ControlCoding.decode(ResponseHead.self, from: line), let e = head.event, e != Self.keepaliveEvent {
                out.append(try WatchEvent(line: line))
            }
        }
        return out
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        if let local {
            buffer.append(contentsOf: local(bytes))
            return
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.notAnswering(path: path, ms: timeoutMs) }
                throw ClientError.io("write: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    private func readLine() throws -> [UInt8]? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                return line
            }
            if local != nil { return nil }
            if buffer.count > ControlLimits.maxLineByteCount * 64 { throw ClientError.protocolError("response line too long") }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.notAnswering(path: path, ms: timeoutMs) }
                throw ClientError.io("read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return nil }
            lastReceivedMs = Self.monotonicMs()
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
