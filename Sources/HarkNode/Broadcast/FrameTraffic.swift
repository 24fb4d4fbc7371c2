import HarkWireProto
import Synchronization

/// Frames this process sealed, per frame type: how many and their bytes on the stream (Noise
/// records with their 2-byte length prefixes; TCP/IP headers not included). Logged when a node
/// stops, so a lab run can tell what its bytes on the wire were spent on. Thread-safe.
final class FrameTraffic: Sendable {
    static let shared = FrameTraffic()
    private let counts = Mutex<[String: (frames: Int, bytes: Int)]>([:])

    /// Counts one sealed frame: a constant name per type and one lock, nothing that describes the
    /// frame's content (the writer calls this for every frame).
    func record(_ frame: Hark_V1_Frame, bytes: Int) {
        let name = Self.name(frame.frame)
        counts.withLock { c in
            var e = c[name] ?? (0, 0)
            e.frames += 1
            e.bytes += bytes
            c[name] = e
        }
    }

    /// The field name of the frame's type (types added later count as "other").
    static func name(_ frame: Hark_V1_Frame.OneOf_Frame?) -> String {
        switch frame {
        case nil: "empty"
        case .groupOffer: "groupOffer"
        case .heads: "heads"
        case .needs: "needs"
        case .events: "events"
        case .close: "close"
        case .ping: "ping"
        case .syncRequest: "syncRequest"
        case .syncReply: "syncReply"
        case .datagramKey: "datagramKey"
        case .fileQuery: "fileQuery"
        case .have: "have"
        case .getManifest: "getManifest"
        case .manifestData: "manifestData"
        case .chunkRequest: "chunkRequest"
        case .chunkData: "chunkData"
        case .chunkRefused: "chunkRefused"
        case .ihave: "ihave"
        case .graft: "graft"
        case .prune: "prune"
        case .redeemInvite: "redeemInvite"
        case .redeemAnswer: "redeemAnswer"
        case .inviteOffer: "inviteOffer"
        case .pair: "pair"
        default: "other"
        }
    }

    /// "type frames/bytes" for every type sent, largest first.
    var summary: String {
        counts.withLock { c in
            c.sorted { $0.value.bytes > $1.value.bytes }.map { "\($0.key) \($0.value.frames)/\($0.value.bytes)" }.joined(separator: ", ")
        }
    }
}
