/// Parameter and result types of the control methods (docs/CONTROL.md §Methods).

/// `status` result.
public struct StatusResult: Codable, Sendable, Equatable {
    public var peerId: String
    public var fingerprint: String
    public var displayName: String
    /// TCP port the daemon accepts peer connections on.
    public var tcpPort: Int
    public var discovery: DiscoveryStatus
    public var connectedPeers: Int
    public var groups: Int
    public var home: String
    public var version: String
    /// The daemon's process ID.
    public var pid: Int
    /// UDP port for datagrams (PROTOCOL.md §7), 0 when none could be bound.
    public var udpPort: Int = 0
    /// This node's own presence: "online" or "away".
    public var presence: String = "online"
    /// What became of the datagrams that arrived since the daemon started.
    public var datagrams: DatagramCountersView = DatagramCountersView()
    /// The `--peer` addresses the daemon was started with, as given (absent from older daemons).
    public var staticPeers: [String]?
    /// File sharing counters since the daemon started (PROTOCOL.md §9).
    public var files: FileCountersView = FileCountersView()
    /// Messages of others after this node's read markers, over all groups (absent from older daemons).
    public var unread: Int?
    /// What runs the node: "daemon", or "send" for the short-lived node of a `hark send` without
    /// a daemon (absent from older daemons).
    public var role: String?
    public init(peerId: String, fingerprint: String, displayName: String, tcpPort: Int, discovery: DiscoveryStatus,
                connectedPeers: Int, groups: Int, home: String, version: String, pid: Int, staticPeers: [String]? = nil) {
        self.peerId = peerId; self.fingerprint = fingerprint; self.displayName = displayName; self.tcpPort = tcpPort
        self.discovery = discovery; self.connectedPeers = connectedPeers; self.groups = groups; self.home = home
        self.version = version; self.pid = pid; self.staticPeers = staticPeers
    }
}

/// `handover` result: the short-lived node stops and frees the home for a starting daemon.
public struct HandoverResult: Codable, Sendable, Equatable {
    public var stopping: Bool
    /// The process ID of the node that stops.
    public var pid: Int
    public init(stopping: Bool, pid: Int) { self.stopping = stopping; self.pid = pid }
}

/// Discovery state inside `status`.
/// Datagram counters in `status` (PROTOCOL.md §7.3): packets accepted, and dropped by reason.
public struct DatagramCountersView: Codable, Sendable, Equatable {
    public var sent = 0
    public var accepted = 0
    /// Counter already seen, or behind the replay window.
    public var replayed = 0
    public var unknownKey = 0
    public var authenticationFailed = 0
    public var malformed = 0
    public init() {}
}

public struct DiscoveryStatus: Codable, Sendable, Equatable {
    /// `"active"` (published and browsing), `"unavailable"` (no avahi-daemon; retrying), `"disabled"` (`--no-discovery`), `"starting"`.
    public var state: String
    /// Why discovery is unavailable, when it is.
    public var reason: String?
    /// The DNS-SD instance name published, when active.
    public var instanceName: String?
    public init(state: String, reason: String? = nil, instanceName: String? = nil) {
        self.state = state; self.reason = reason; self.instanceName = instanceName
    }
}

/// One entry of `peers`.
public struct PeerView: Codable, Sendable, Equatable {
    public var peerId: String
    public var fingerprint: String
    public var displayName: String
    /// Whether an authenticated channel is open now.
    public var connected: Bool
    /// Remote address of the open channel, or the last one seen.
    public var address: String?
    /// `"outbound"` or `"inbound"` for an open channel.
    public var direction: String?
    /// How the peer was found: `"avahi"`, `"static"` (`--peer`), `"inbound"`.
    public var source: String?
    /// Last time a channel to this peer was open, ms since the Unix epoch.
    public var lastSeenMs: Int64
    /// The peer signed two different events with one sequence number in some group (its
    /// identity runs on two machines, or was restored from a backup): its log forked.
    public var equivocated: Bool
    /// "online", "away" or "offline", judged from the transport (PROTOCOL.md §7.5).
    public var presence: String = "offline"
    /// The status text of the peer's latest heartbeat.
    public var statusText: String?
    /// The TCP port the peer said (in its handshake) it accepts channels on; with the host of
    /// `address` it gives where to reach it, even when `address` is an inbound channel's.
    public var listenPort: Int?
    /// Trust: the user verified this identity key (`hark pair`); a warning when the key
    /// claimed a display name first seen with another key (docs/SECURITY.md).
    public var verified: Bool = false
    public var warning: String?
    /// The local name the user gave this key (`peer.alias`); it wins name resolution.
    public var alias: String?
    /// The user blocked this key (`peer.block`): no channel is opened or accepted.
    public var blocked: Bool = false
    public init(peerId: String, fingerprint: String, displayName: String, connected: Bool, address: String?,
                direction: String?, source: String?, lastSeenMs: Int64, equivocated: Bool = false, listenPort: Int? = nil) {
        self.peerId = peerId; self.fingerprint = fingerprint; self.displayName = displayName; self.connected = connected
        self.address = address; self.direction = direction; self.source = source; self.lastSeenMs = lastSeenMs
        self.equivocated = equivocated; self.listenPort = listenPort
    }
}

/// A group, in `group.*` results.
public struct GroupView: Codable, Sendable, Equatable {
    /// Group ID: hex of the genesis event ID (64 hex digits).
    public var id: String
    public var name: String
    /// Events held for this group.
    public var events: Int
    /// Peer IDs of the members known (genesis author and every joiner).
    public var members: [String]
    public var createdMs: Int64
    /// "member"; "pending" while an invite is being redeemed (PROTOCOL.md §5.6).
    public var state: String = "member"
    /// "group", "channel" or "direct"; "open" for groups made before roles (any key holder joins).
    public var kind: String = "open"
    /// In groups with roles: peer ID → "owner", "admin" or "member", for every current member.
    public var roles: [String: String]?
    /// Messages of others after this node's read marker (deleted ones not counted; docs/HISTORY.md).
    public var unread: Int?
    /// Of those, the messages that mention this node's identity (`Text.mentions`).
    public var mentions: Int?
    /// In groups with roles: "shared" (a new member reads the history its adder held) or
    /// "joined" (from its ADD on), fixed in the genesis (PROTOCOL.md §5.8).
    public var history: String?
    public init(id: String, name: String, events: Int, members: [String], createdMs: Int64, state: String = "member") {
        self.id = id; self.name = name; self.events = events; self.members = members; self.createdMs = createdMs
        self.state = state
    }
}

/// A message, in `send`, `log` and `log.follow`.
public struct MessageView: Codable, Sendable, Equatable {
    /// Event ID, 64 hex digits.
    public var id: String
    /// Group ID, 64 hex digits.
    public var group: String
    /// Author's peer ID.
    public var author: String
    /// Author's display name as last seen (not an identity).
    public var authorName: String
    public var authorFingerprint: String
    /// Author's sequence number in the group.
    public var seq: UInt64
    /// Lamport timestamp: 1 + max over parents. With `id` it gives the total order.
    public var lamport: UInt64
    /// Author's clock when written, ms since the Unix epoch. Display only.
    public var wallMs: Int64
    /// `"message"`, `"join"`, or `"file_offer"` (`log` with `files`).
    public var kind: String
    public var text: String
    /// In the settled prefix: no event can still arrive that sorts before it (PROTOCOL.md §4.7.6).
    public var settled: Bool
    /// The author's clock looks wrong for this event (before its parents' or more than 5 min
    /// after it arrived here). Display only: order never depends on it.
    public var implausibleTime: Bool
    /// The author has forked their log (signed two events with one sequence number).
    public var authorEquivocated: Bool
    /// The text was replaced by a later edit.
    public var edited: Bool
    /// Reactions currently on the message: emoji and how many members chose it.
    public var reactions: [ReactionView] = []
    /// For messages written by this node: how many members hold and read it (PROTOCOL.md §4.8).
    public var receipts: ReceiptSummary?
    /// The body cannot be read here: no key for it reached this node (sent after this node was
    /// removed, or its sender key is still on the way; PROTOCOL.md §5.4). `text` is empty.
    public var unreadable: Bool = false
    /// When this node stored the event, ms since the Unix epoch (absent for its own events).
    public var receivedMs: Int64?
    /// Trust: the author's key is verified here; the author's name was first seen with another key.
    public var authorVerified: Bool = false
    public var authorNameConflict: Bool = false
    /// The message this one answers (`Text.reply_to`, PROTOCOL.md §4.7.7), 64 hex digits; absent
    /// when it is not a reply.
    public var replyTo: String?
    /// With `replyTo`: the answered message as this node shows it now.
    public var reply: ReplyQuote?
    /// Peer IDs of the members the message mentions (`Text.mentions`, PROTOCOL.md §4.7.8).
    public var mentions: [String] = []
    /// This node's identity is among `mentions`.
    public var mentionsMe: Bool = false
    /// For kind `file_offer` (`log` with `files`): the offer, its size and its state here.
    public var file: FileOfferView?
    public init(id: String, group: String, author: String, authorName: String, authorFingerprint: String, seq: UInt64,
                lamport: UInt64, wallMs: Int64, kind: String, text: String, settled: Bool = false,
                implausibleTime: Bool = false, authorEquivocated: Bool = false, edited: Bool = false) {
        self.id = id; self.group = group; self.author = author; self.authorName = authorName
        self.authorFingerprint = authorFingerprint; self.seq = seq; self.lamport = lamport; self.wallMs = wallMs
        self.kind = kind; self.text = text; self.settled = settled; self.implausibleTime = implausibleTime
        self.authorEquivocated = authorEquivocated; self.edited = edited
    }
}

/// The message a reply answers, as shown beside the reply (one line in `log` and `chat`).
public struct ReplyQuote: Codable, Sendable, Equatable {
    /// `"message"` (author and text given), `"deleted"`, `"unreadable"` (held, but no key for its
    /// body here) or `"missing"` (not held here, yet: it shows once it arrives).
    public var state: String
    /// With `"message"`: the answered message's author's display name and shown text.
    public var authorName: String?
    public var text: String?
    public init(state: String, authorName: String? = nil, text: String? = nil) {
        self.state = state; self.authorName = authorName; self.text = text
    }
}

/// One emoji on a message and how many members reacted with it.
public struct ReactionView: Codable, Sendable, Equatable {
    public var emoji: String
    public var count: Int
    public init(emoji: String, count: Int) { self.emoji = emoji; self.count = count }
}

/// `edit` parameters: a message of yours (full ID or unique prefix ≥ 8 hex digits) and its new text.
public struct EditParams: Codable, Sendable {
    public var group: String
    public var message: String
    public var text: String
    public init(group: String, message: String, text: String) { self.group = group; self.message = message; self.text = text }
}

/// `delete` parameters: a message of yours.
public struct DeleteParams: Codable, Sendable {
    public var group: String
    public var message: String
    public init(group: String, message: String) { self.group = group; self.message = message }
}

/// `react` parameters: add `emoji` to a message, or withdraw it with `remove`.
public struct ReactParams: Codable, Sendable {
    public var group: String
    public var message: String
    public var emoji: String
    public var remove: Bool
    public init(group: String, message: String, emoji: String, remove: Bool) {
        self.group = group; self.message = message; self.emoji = emoji; self.remove = remove
    }
}

/// Parameters that name one group: by name, by full hex ID, or by a unique hex ID prefix (≥ 8 digits).
public struct GroupRefParams: Codable, Sendable { public var group: String; public init(group: String) { self.group = group } }
/// `group.invite` result.
public struct InviteResult: Codable, Sendable { public var token: String; public init(token: String) { self.token = token } }
/// `group.join` parameters.
public struct GroupJoinParams: Codable, Sendable { public var token: String; public init(token: String) { self.token = token } }
/// `send` parameters. `text` is UTF-8, 1…`maxTextByteCount` bytes.
public struct SendParams: Codable, Sendable {
    public var group: String
    public var text: String
    /// The message this one answers: a unique ID prefix (≥ 8 hex digits) of a visible message
    /// of the group, or a full ID (64 hex digits) of one not held here yet.
    public var replyTo: String?
    /// Resolve `@name` words of the text to member keys (`Text.mentions`); default true.
    public var mentions: Bool?
    public init(group: String, text: String, replyTo: String? = nil, mentions: Bool? = nil) {
        self.group = group; self.text = text; self.replyTo = replyTo; self.mentions = mentions
    }
}

/// `search` parameters: full-text search over the readable messages (docs/CONTROL.md).
public struct SearchParams: Codable, Sendable {
    /// Group name or ID; absent: every group.
    public var group: String?
    /// Words, all required; a word ending in `*` matches as a prefix.
    public var query: String
    /// At most this many matches, the newest (default 20).
    public var limit: Int?
    /// Only matches before this message (ID or unique prefix of ≥ 8 hex digits, in `group`, or
    /// a full ID).
    public var before: String?
    public init(group: String?, query: String, limit: Int? = nil, before: String? = nil) {
        self.group = group; self.query = query; self.limit = limit; self.before = before
    }
}
/// `log` parameters. `limit` keeps the last N messages.
public struct LogParams: Codable, Sendable {
    public var group: String
    /// At most this many messages (absent: all).
    public var limit: Int?
    /// Only messages before this one in total order (ID or unique prefix of ≥ 8 hex digits).
    public var before: String?
    /// Only messages after this one (ID or prefix); not with `before`.
    public var after: String?
    /// Also list the group's file offers that fall within the page (kind `file_offer`; default false).
    public var files: Bool?
    public init(group: String, limit: Int?, before: String? = nil, after: String? = nil, files: Bool? = nil) {
        self.group = group; self.limit = limit; self.before = before; self.after = after; self.files = files
    }
}

/// Limits the daemon enforces on control input.
public enum ControlLimits {
    /// Longest request line accepted: 1 MiB.
    public static let maxLineByteCount = 1 << 20
    /// Longest message text: 60000 bytes of UTF-8 (fits the 64 KiB event body with padding and AEAD).
    public static let maxTextByteCount = 60_000
    /// Longest group name: 64 bytes of UTF-8.
    public static let maxGroupNameByteCount = 64
    /// Longest display name: 64 bytes of UTF-8.
    public static let maxDisplayNameByteCount = 64
}

/// `group.invite` params (the version-2 fields apply to groups with roles only).
public struct GroupInviteParams: Codable, Sendable {
    public var group: String
    /// Peer ID, fingerprint prefix or display name of the only peer that may use the invite.
    public var forPeer: String?
    /// Validity from now, ms (default 1 h, at most 30 days).
    public var expiresMs: Int64?
    /// How many peers may join with it (default 1).
    public var uses: UInt32?
    public init(group: String, forPeer: String? = nil, expiresMs: Int64? = nil, uses: UInt32? = nil) {
        self.group = group; self.forPeer = forPeer; self.expiresMs = expiresMs; self.uses = uses
    }
}

/// `group.join.status` result.
public struct JoinStatus: Codable, Sendable, Equatable {
    public var group: String
    public var name: String
    /// "pending" (no admin answered yet), "accepted" (added; history arriving), "member", "refused".
    public var state: String
    public var reason: String?
    public init(group: String, name: String, state: String, reason: String?) {
        self.group = group; self.name = name; self.state = state; self.reason = reason
    }
}

/// `group.invites` result row: an invite a peer handed over a channel.
public struct OfferedInviteView: Codable, Sendable, Equatable {
    public var groupName: String
    public var from: String
    public var fromName: String
    public var fromFingerprint: String
    public var receivedMs: Int64
    public init(groupName: String, from: String, fromName: String, fromFingerprint: String, receivedMs: Int64) {
        self.groupName = groupName; self.from = from; self.fromName = fromName; self.fromFingerprint = fromFingerprint
        self.receivedMs = receivedMs
    }
}

/// `group.remove`, `group.role` params.
public struct GroupMemberParams: Codable, Sendable {
    public var group: String
    /// Peer ID, fingerprint prefix or display name.
    public var peer: String
    /// `group.role`: "admin" or "member".
    public var role: String?
    public init(group: String, peer: String, role: String? = nil) { self.group = group; self.peer = peer; self.role = role }
}

/// `group.create` params.
public struct GroupCreateOptions: Codable, Sendable {
    public var name: String
    /// "group" (default) or "channel".
    public var kind: String?
    /// "shared" (default) or "joined": what a new member reads of the past (PROTOCOL.md §5.8).
    public var history: String?
    public init(name: String, kind: String? = nil, history: String? = nil) { self.name = name; self.kind = kind; self.history = history }
}

/// `group.request` parameters: ask to join a group by name, without a token (docs/CONTROL.md).
public struct JoinRequestParams: Codable, Sendable {
    /// The group's name (1 to 64 bytes of UTF-8).
    public var group: String
    /// The admin to ask (peer ID, fingerprint prefix, alias or name); absent: every connected peer
    /// is asked and exactly one must administer a group of that name.
    public var admin: String?
    public init(group: String, admin: String? = nil) { self.group = group; self.admin = admin }
}

/// `group.request` and `group.request.status` result: where a join by code stands.
public struct JoinRequestView: Codable, Sendable, Equatable {
    public var groupName: String
    /// "querying", "asked", "code" (both screens show `code`; waiting for the admin),
    /// "accepted" (an invite was handed over and is being redeemed: follow `group.join.status`
    /// with `groupId`), "refused", "not_found", "ambiguous", "rate_limited", "failed".
    public var state: String
    /// The 6-digit code, "123 456", once known.
    public var code: String?
    public var adminId: String?
    public var adminName: String?
    public var adminFingerprint: String?
    /// The group's ID (hex), once accepted.
    public var groupId: String?
    public var reason: String?
    /// With "rate_limited": ms until the admin takes another request.
    public var retryAfterMs: Int64?
    public init(groupName: String, state: String, code: String? = nil, adminId: String? = nil, adminName: String? = nil,
                adminFingerprint: String? = nil, groupId: String? = nil, reason: String? = nil, retryAfterMs: Int64? = nil) {
        self.groupName = groupName; self.state = state; self.code = code; self.adminId = adminId; self.adminName = adminName
        self.adminFingerprint = adminFingerprint; self.groupId = groupId; self.reason = reason; self.retryAfterMs = retryAfterMs
    }
}

/// `group.requests` parameters: the group (name or ID), or absent for every group.
public struct JoinRequestsParams: Codable, Sendable {
    public var group: String?
    public init(group: String? = nil) { self.group = group }
}

/// `group.requests` row (and `group.approve`/`group.refuse` result): a peer asking to join.
public struct PendingJoinRequestView: Codable, Sendable, Equatable {
    public var groupId: String
    public var groupName: String
    public var peerId: String
    public var displayName: String
    public var fingerprint: String
    /// The code the requester's screen shows, "123 456"; absent until the requester revealed it.
    public var code: String?
    /// ms since the Unix epoch.
    public var receivedMs: Int64
    /// The requester's key is verified (`hark pair`).
    public var verified: Bool
    public init(groupId: String, groupName: String, peerId: String, displayName: String, fingerprint: String, code: String?,
                receivedMs: Int64, verified: Bool) {
        self.groupId = groupId; self.groupName = groupName; self.peerId = peerId; self.displayName = displayName
        self.fingerprint = fingerprint; self.code = code; self.receivedMs = receivedMs; self.verified = verified
    }
}

/// `group.approve`, `group.refuse` parameters.
public struct JoinDecisionParams: Codable, Sendable {
    public var group: String
    /// The request's 6-digit code (spaces allowed), or the requester (peer ID, fingerprint prefix, alias or name).
    public var request: String
    public init(group: String, request: String) { self.group = group; self.request = request }
}
