import HarkProto
import Synchronization

/// Frames this process sealed, per frame type: how many and their bytes on the stream (Noise
/// records with their 2-byte length prefixes; TCP/IP headers not included). Logged when a node
/// stops, so a lab run can tell what its bytes on the wire were spent on. Thread-safe.
final class FrameTraffic: Sendable {
    static let shared = FrameTraffic()
    private let counts = Mutex<[String: (frames: Int, bytes: Int)]>([:])

    func record(_ frame: Hark_V1_Frame, bytes: Int) {
        let name = frame.frame.map { "\($0)".split(separator: "(").first.map(String.init) ?? "?" } ?? "empty"
        counts.withLock { c in
            var e = c[name] ?? (0, 0)
            e.frames += 1
            e.bytes += bytes
            c[name] = e
        }
    }

    /// "type frames/bytes" for every type sent, largest first.
    var summary: String {
        counts.withLock { c in
            c.sorted { $0.value.bytes > $1.value.bytes }.map { "\($0.key) \($0.value.frames)/\($0.value.bytes)" }.joined(separator: ", ")
        }
    }
}
