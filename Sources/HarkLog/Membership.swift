import HarkCrypto
import HarkEventProto

/// A member's role in a group with roles (PROTOCOL.md §5.1). Ordered: owner > admin > member.
public enum MemberRole: Int, Sendable, Comparable, CaseIterable {
    case member = 1, admin = 2, owner = 3

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public init?(_ proto: Hark_V1_Role) {
        switch proto {
        case .member: self = .member
        case .admin: self = .admin
        case .owner: self = .owner
        default: return nil
        }
    }

    /// "member", "admin", "owner".
    public var name: String {
        switch self {
        case .member: return "member"
        case .admin: return "admin"
        case .owner: return "owner"
        }
    }
}

/// One membership event as the fold needs it: a GENESIS, JOIN or MEMBER event with its decoded
/// `Member` content, and the membership events among its ancestors.
public struct MembershipEvent: Sendable {
    public let id: EventID
    public let order: EventOrder
    public let author: SigningPublicKey
    public let kind: Hark_V1_EventKind
    /// For MEMBER events; nil for GENESIS and JOIN.
    public let member: Hark_V1_Member?
    /// The membership events among this event's strict ancestors.
    public let ancestors: Set<EventID>

    public init(id: EventID, order: EventOrder, author: SigningPublicKey, kind: Hark_V1_EventKind,
                member: Hark_V1_Member?, ancestors: Set<EventID>) {
        self.id = id; self.order = order; self.author = author; self.kind = kind; self.member = member
        self.ancestors = ancestors
    }

    var target: SigningPublicKey? { member.flatMap { try? SigningPublicKey(bytes: [UInt8]($0.target)) } }
}

/// Who is a member of a group with roles, and with which role: a deterministic fold of its
/// membership events in total order (PROTOCOL.md §5.2). Two replicas that hold the same
/// membership events compute the same state, whatever order the events arrived in.
///
/// Rules, applied to each event in total order against the state folded so far; an event that
/// breaks one has no effect (it is *inert*):
/// - GENESIS: its author is the owner.
/// - MEMBER ADD (target, role): the author is an admin or the owner; adding an admin needs the
///   owner; the target is not a member now; an ADD that redeems an invite is one of the first
///   `invite_uses` effective ADDs with that invite ID; and **remove wins**: no REMOVE or LEAVE of
///   the target is concurrent with the ADD (neither is an ancestor of the other).
/// - MEMBER REMOVE (target): the author is an admin or the owner; the target is a member and not
///   the owner; removing an admin needs the owner.
/// - MEMBER ROLE (target, role): the author is the owner; the target is a member, not the owner;
///   the role is member or admin.
/// - MEMBER LEAVE: the author is a member and not the owner.
/// - JOIN: no effect on membership (the ADD made the member); it carries the display name.
///
/// Pure; value type; thread-safe to share.
public struct Membership: Sendable, Equatable {
    /// Current members and their roles.
    public private(set) var roles: [SigningPublicKey: MemberRole] = [:]
    /// Effective ADDs per invite ID.
    public private(set) var inviteUses: [[UInt8]: Int] = [:]
    /// Events that had an effect, in total order.
    public private(set) var effective: [EventID] = []

    public init() {}

    public var members: Set<SigningPublicKey> { Set(roles.keys) }
    public func role(of key: SigningPublicKey) -> MemberRole? { roles[key] }
    public func isMember(_ key: SigningPublicKey) -> Bool { roles[key] != nil }

    /// Folds `events` (any order; duplicates ignored) in total order.
    public static func fold(_ events: [MembershipEvent]) -> Membership {
        var seen: Set<EventID> = []
        let sorted = events.filter { seen.insert($0.id).inserted }.sorted { $0.order < $1.order }
        // Removals by target, for "remove wins".
        var removalsOf: [SigningPublicKey: [MembershipEvent]] = [:]
        for e in sorted {
            guard let m = e.member, m.action == .remove || m.action == .leave, let t = e.target else { continue }
            removalsOf[t, default: []].append(e)
        }
        var state = Membership()
        for e in sorted where state.apply(e, removalsOf: removalsOf) { state.effective.append(e.id) }
        return state
    }

    /// Whether `author` may write `member` against this state (validity on `before(u)`,
    /// PROTOCOL.md §5.3): the same authority rules as the fold, without the "target is (not) a
    /// member now" conditions, which concurrent events can change.
    public func authorizes(_ member: Hark_V1_Member, by author: SigningPublicKey) -> Bool {
        guard let r = roles[author], let target = try? SigningPublicKey(bytes: [UInt8](member.target)) else { return false }
        switch member.action {
        case .add:
            guard let role = MemberRole(member.role), role != .owner, r >= .admin else { return false }
            if !member.inviteID.isEmpty, member.inviteID.count != 16 || member.inviteUses == 0 { return false }
            return role == .member || r == .owner
        case .remove:
            guard r >= .admin, target != author else { return false }
            if let t = roles[target] { return t != .owner && (t != .admin || r == .owner) }
            return true
        case .role:
            guard let role = MemberRole(member.role), role != .owner else { return false }
            return r == .owner && target != author
        case .leave:
            return target == author && r != .owner
        default:
            return false
        }
    }

    private mutating func apply(_ e: MembershipEvent, removalsOf: [SigningPublicKey: [MembershipEvent]]) -> Bool {
        switch e.kind {
        case .genesis:
            guard roles.isEmpty else { return false }
            roles[e.author] = .owner
            return true
        case .member:
            guard let m = e.member, let target = e.target, authorizes(m, by: e.author) else { return false }
            switch m.action {
            case .add:
                guard roles[target] == nil, let role = MemberRole(m.role) else { return false }
                let invite = [UInt8](m.inviteID)
                if !invite.isEmpty, inviteUses[invite, default: 0] >= Int(m.inviteUses) { return false }
                let concurrentRemoval = (removalsOf[target] ?? []).contains { x in
                    !e.ancestors.contains(x.id) && !x.ancestors.contains(e.id)
                }
                if concurrentRemoval { return false }
                roles[target] = role
                if !invite.isEmpty { inviteUses[invite, default: 0] += 1 }
                return true
            case .remove, .leave:
                guard roles[target] != nil else { return false }
                roles.removeValue(forKey: target)
                return true
            case .role:
                guard roles[target] != nil, let role = MemberRole(m.role) else { return false }
                roles[target] = role
                return true
            default:
                return false
            }
        default:
            return false
        }
    }
}
