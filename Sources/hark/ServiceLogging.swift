import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// How `hark daemon` writes its log lines to stderr (`--log-format`).
///
/// - `text`: `2026-12-06T18:10:24+0000 info hark: key=value … message` (for a terminal or a file).
/// - `journal`: `<6>info hark: key=value … message`: a sd-daemon(3) priority prefix and no
///   timestamp of its own, since journald stamps each line. Chosen by `auto` when stderr is the
///   stream named by `$JOURNAL_STREAM` (systemd.exec(5)).
/// - `json`: one JSON object a line: `{"time":"…","level":"info","label":"hark","message":"…",
///   "metadata":{…}}` (RFC 3339 time in UTC, milliseconds).
enum LogFormat: String, CaseIterable, Sendable {
    case auto, text, journal, json

    /// `auto` resolved for the current stderr and environment.
    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) -> LogFormat {
        guard self == .auto else { return self }
        return Self.stderrIsJournal(environment["JOURNAL_STREAM"]) ? .journal : .text
    }

    /// Whether `JOURNAL_STREAM` ("DEVICE:INODE", decimal) names the file behind fd 2.
    static func stderrIsJournal(_ value: String?) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }
}

/// A swift-log handler writing one line per record to stderr in a `LogFormat` (not `auto`).
/// Lines are written with one write(2) each, so concurrent records do not interleave.
/// Thread-safe (value type; the write is atomic for lines under PIPE_BUF and otherwise in order).
struct ServiceLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The sd-daemon(3) priority of a level: emerg 0 … debug 7.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let line: String
        switch format {
        case .json:
            var obj: [String: Any] = ["time": Self.rfc3339(Date()), "level": "\(event.level)", "label": label,
                                      "message": "\(event.message)"]
            if !all.isEmpty { obj["metadata"] = all.mapValues { "\($0)" } }
            guard let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
            line = String(decoding: data, as: UTF8.self) + "\n"
        case .journal:
            line = "<\(Self.priority(event.level))>\(event.level) \(label): \(Self.flat(all))\(event.message)\n"
        case .text, .auto:
            line = "\(Self.timestamp(Date())) \(event.level) \(label): \(Self.flat(all))\(event.message)\n"
        }
        var bytes = Array(line.utf8)
        // One record is one line: a newline inside the message becomes a visible escape.
        if format != .json, bytes.dropLast().contains(10) {
            bytes = Array(line.dropLast().replacingOccurrences(of: "\n", with: "\\n").utf8) + [10]
        }
        bytes.withUnsafeBytes { buf in
            guard let base = buf.baseAddress else { return }
            var off = 0
            while off < buf.count {
                let n = write(2, base + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }

    static func flat(_ m: Logger.Metadata) -> String {
        m.isEmpty ? "" : m.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " "
    }

    static func timestamp(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        return f.string(from: d)
    }

    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }
}

/// sd_notify(3) without libsystemd: one datagram to the AF_UNIX socket named by
/// `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace). Without the variable it
/// does nothing. Best effort: errors are ignored, as sd_notify's caller would.
enum ServiceManager {
    /// Sends `state` (e.g. `READY=1\nSTATUS=…`). - Returns: whether a datagram was sent.
    @discardableResult
    static func notify(_ state: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let path = environment["NOTIFY_SOCKET"], path.hasPrefix("/") || path.hasPrefix("@"),
              path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }   // abstract namespace
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
        }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let payload = Array(state.utf8)
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, len) }
            }
        }
        return sent == payload.count
    }
}
