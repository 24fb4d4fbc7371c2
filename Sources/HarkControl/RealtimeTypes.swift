/// Control API types of the real-time layer: presence, typing, receipts, and `watch`
/// (docs/CONTROL.md §"Real-time"). JSON keys are snake_case (ControlCoding).

/// `presence.set` params: this node's own presence, sent in every heartbeat.
public struct PresenceSetParams: Codable, Sendable {
    /// "online" or "away".
    public var state: String
    /// Free text shown beside the state, ≤ 64 B UTF-8 (nil keeps the current text, "" clears it).
    public var statusText: String?
    public init(state: String, statusText: String?) { self.state = state; self.statusText = statusText }
}

/// `typing` params: this node's user is typing in `group` (true) or stopped (false).
public struct TypingParams: Codable, Sendable {
    public var group: String
    public var active: Bool
    public init(group: String, active: Bool) { self.group = group; self.active = active }
}

/// `read` result: the read marker written, or nil when there was nothing new to mark.
public struct ReadResult: Codable, Sendable, Equatable {
    /// Hex ID of the READ event written, or nil.
    public var marker: String?
    /// Messages by others newly covered by the marker.
    public var newlyRead: Int
    public init(marker: String?, newlyRead: Int) { self.marker = marker; self.newlyRead = newlyRead }
}

/// `read` params. With `through` (a message ID or unique prefix of ≥ 8 hex digits: the newest
/// message by others the client has shown), no marker is written while an unread message sorts
/// after it, so a marker never covers a message nobody saw.
public struct ReadParams: Codable, Sendable {
    public var group: String
    public var through: String?
    public init(group: String, through: String? = nil) { self.group = group; self.through = through }
}

/// `receipts` params.
public struct ReceiptsParams: Codable, Sendable {
    public var group: String
    /// Message ID, full hex or a unique prefix (≥ 8 hex digits).
    public var message: String
    public init(group: String, message: String) { self.group = group; self.message = message }
}

/// One member's receipt state for one message.
public struct MemberReceipt: Codable, Sendable, Equatable {
    public var peerId: String
    public var displayName: String
    public var fingerprint: String
    /// "pending", "delivered" or "read".
    public var state: String
    public init(peerId: String, displayName: String, fingerprint: String, state: String) {
        self.peerId = peerId; self.displayName = displayName; self.fingerprint = fingerprint; self.state = state
    }
}

/// `receipts` result: every member but the author, and whether the message is settled.
public struct ReceiptsResult: Codable, Sendable, Equatable {
    public var message: String
    public var group: String
    /// In the settled prefix of the total order (PROTOCOL.md §4.7.6).
    public var settled: Bool
    public var members: [MemberReceipt]
    public init(message: String, group: String, settled: Bool, members: [MemberReceipt]) {
        self.message = message; self.group = group; self.settled = settled; self.members = members
    }
}

/// Receipt counts shown with a message in `log` (messages written by this node only).
public struct ReceiptSummary: Codable, Sendable, Equatable {
    /// Members other than the author.
    public var members: Int
    /// Members whose node holds it (read ones included).
    public var delivered: Int
    /// Members whose read marker passed it.
    public var read: Int
    public init(members: Int, delivered: Int, read: Int) { self.members = members; self.delivered = delivered; self.read = read }
}

/// `watch` params: nil group watches every group (presence is never group-specific).
public struct WatchParams: Codable, Sendable {
    public var group: String?
    public init(group: String?) { self.group = group }
}

/// A peer's presence as judged from the transport (PROTOCOL.md §7.5).
public struct PresenceView: Codable, Sendable, Equatable {
    public var peerId: String
    public var fingerprint: String
    public var displayName: String
    /// "online", "away" or "offline".
    public var state: String
    public var statusText: String?
    /// When anything was last heard from the peer, ms since the Unix epoch (0 = never).
    public var lastSeenMs: Int64
    public init(peerId: String, fingerprint: String, displayName: String, state: String, statusText: String?, lastSeenMs: Int64) {
        self.peerId = peerId; self.fingerprint = fingerprint; self.displayName = displayName; self.state = state
        self.statusText = statusText; self.lastSeenMs = lastSeenMs
    }
}

/// `watch` "typing" data.
public struct TypingView: Codable, Sendable, Equatable {
    public var group: String
    public var peerId: String
    public var displayName: String
    public var fingerprint: String
    public var active: Bool
    public init(group: String, peerId: String, displayName: String, fingerprint: String, active: Bool) {
        self.group = group; self.peerId = peerId; self.displayName = displayName; self.fingerprint = fingerprint; self.active = active
    }
}

/// `watch` "edit", "delete" and "reaction" data: a change to an earlier message.
public struct ChangeView: Codable, Sendable, Equatable {
    public var group: String
    /// Hex ID of the event that made the change.
    public var id: String
    /// Hex ID of the message changed.
    public var message: String
    public var author: String
    public var authorName: String
    public var authorFingerprint: String
    /// edit: the new text.
    public var text: String?
    /// reaction: the emoji added (nil when it only withdraws earlier ones).
    public var emoji: String?
    public var wallMs: Int64
    public init(group: String, id: String, message: String, author: String, authorName: String, authorFingerprint: String,
                text: String? = nil, emoji: String? = nil, wallMs: Int64) {
        self.group = group; self.id = id; self.message = message; self.author = author; self.authorName = authorName
        self.authorFingerprint = authorFingerprint; self.text = text; self.emoji = emoji; self.wallMs = wallMs
    }
}

/// `watch` "membership" data.
public struct MembershipView: Codable, Sendable, Equatable {
    public var group: String
    public var member: String
    public var memberName: String
    public var memberFingerprint: String
    /// "created" (genesis) or "joined".
    public var change: String
    public init(group: String, member: String, memberName: String, memberFingerprint: String, change: String) {
        self.group = group; self.member = member; self.memberName = memberName; self.memberFingerprint = memberFingerprint
        self.change = change
    }
}

/// `watch` "receipt" data: a member reached a new state for a message this node wrote.
public struct ReceiptView: Codable, Sendable, Equatable {
    public var group: String
    public var message: String
    public var member: String
    public var memberName: String
    public var memberFingerprint: String
    /// "delivered" or "read".
    public var state: String
    public init(group: String, message: String, member: String, memberName: String, memberFingerprint: String, state: String) {
        self.group = group; self.message = message; self.member = member; self.memberName = memberName
        self.memberFingerprint = memberFingerprint; self.state = state
    }
}

/// One line of a `watch` stream: `{"event": KIND, "data": {…}}`.
public enum WatchEvent: Sendable, Equatable {
    case message(MessageView)
    case edit(ChangeView)
    case delete(ChangeView)
    case reaction(ChangeView)
    case membership(MembershipView)
    case presence(PresenceView)
    case typing(TypingView)
    case receipt(ReceiptView)
    case trust(TrustView)
    case fileOffer(FileOfferView)

    /// The `event` key: message, edit, delete, reaction, membership, presence, typing, receipt, file_offer.
    public var kind: String {
        switch self {
        case .message: return "message"
        case .edit: return "edit"
        case .delete: return "delete"
        case .reaction: return "reaction"
        case .membership: return "membership"
        case .presence: return "presence"
        case .typing: return "typing"
        case .receipt: return "receipt"
        case .trust: return "trust"
        case .fileOffer: return "file_offer"
        }
    }

    /// The group the event belongs to (hex), nil for presence.
    public var group: String? {
        switch self {
        case let .message(v): return v.group
        case let .edit(v), let .delete(v), let .reaction(v): return v.group
        case let .membership(v): return v.group
        case .presence: return nil
        case let .typing(v): return v.group
        case let .receipt(v): return v.group
        case .trust: return nil
        case let .fileOffer(v): return v.group
        }
    }

    /// The NDJSON line (newline included).
    /// - Throws: `EncodingError` (not expected for these types).
    public func line() throws -> [UInt8] {
        switch self {
        case let .message(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        case let .edit(v), let .delete(v), let .reaction(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        case let .membership(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        case let .presence(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        case let .typing(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        case let .receipt(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        case let .trust(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        case let .fileOffer(v): return try ControlCoding.encodeLine(EventLine(event: kind, data: v))
        }
    }

    /// Decodes one stream line (client side).
    /// - Throws: `DecodingError` for a line that is not a known event.
    public init(line: [UInt8]) throws {
        let head = try ControlCoding.decode(ResponseHead.self, from: line)
        func data<T: Codable & Sendable>(_ t: T.Type) throws -> T { try ControlCoding.decode(EventLine<T>.self, from: line).data }
        switch head.event {
        case "message": self = .message(try data(MessageView.self))
        case "edit": self = .edit(try data(ChangeView.self))
        case "delete": self = .delete(try data(ChangeView.self))
        case "reaction": self = .reaction(try data(ChangeView.self))
        case "membership": self = .membership(try data(MembershipView.self))
        case "presence": self = .presence(try data(PresenceView.self))
        case "typing": self = .typing(try data(TypingView.self))
        case "receipt": self = .receipt(try data(ReceiptView.self))
        case "trust": self = .trust(try data(TrustView.self))
        case "file_offer": self = .fileOffer(try data(FileOfferView.self))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown watch event \(head.event ?? "nil")"))
        }
    }
}
