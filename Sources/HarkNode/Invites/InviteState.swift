import HarkLog

/// Invites and joins in progress (NodeInviteRedeeming.swift, InviteRedemption.swift,
/// NodeJoinRequests.swift). Held by `Node`; isolated to it.
struct InviteState {
    /// Invites being redeemed, by group.
    var pendingJoins: [EventID: PendingJoin] = [:]
    /// ADDs this node wrote for redeemed invites, watched for a lost race.
    var redeemedAdds: [EventID: RedeemedAdd] = [:]
    /// Invites peers handed over a channel, oldest first (at most 64).
    var offeredInvites: [OfferedInvite] = []
    /// Join by code (JoinByCode.swift): requests this node holds as an admin, the per-peer limit
    /// on them, and this node's own requests by group name.
    var joinRequestBook = JoinRequestBook()
    var joinLimiter = JoinRateLimiter()
    var outgoingJoins: [String: OutgoingJoinRequest] = [:]
}
