/// One control method: its name on the wire (the request's `method`) and the Swift types of its
/// `params` and of its `result` (docs/CONTROL.md §Methods). The client calls it with
/// `ControlClient.call(_:_:)`; the daemon serves it from a handler registered under the same
/// descriptor, so both sides code the same types. Immutable; thread-safe.
public struct ControlMethod<Params: Codable & Sendable, Result: Codable & Sendable>: Sendable {
    /// The method's name on the wire, e.g. `group.list`.
    public let name: String
    public init(name: String) { self.name = name }
}

/// `delete` result: `{"deleted": true}`.
public struct DeleteResult: Codable, Sendable, Equatable {
    public var deleted: Bool
    public init(deleted: Bool) { self.deleted = deleted }
}

/// `typing` result: `{"sent": true}`.
public struct TypingResult: Codable, Sendable, Equatable {
    public var sent: Bool
    public init(sent: Bool) { self.sent = sent }
}

/// `log.follow` response, before its `message` event lines: `{"following": true}`.
public struct FollowResult: Codable, Sendable, Equatable {
    public var following: Bool
    public init(following: Bool) { self.following = following }
}

/// `watch` response, before its event lines: `{"watching": true}`.
public struct WatchResult: Codable, Sendable, Equatable {
    public var watching: Bool
    public init(watching: Bool) { self.watching = watching }
}

/// Every method the node serves on its control socket, one descriptor each (docs/CONTROL.md
/// §Methods). A streaming method (`log.follow`, `watch`, `fetch`) is described by its request
/// and its first response line; the event lines that follow are read with
/// `ControlClient.nextEvent(as:)`, `nextWatchEvent()` or `nextRawEvent()`.
public enum ControlMethods {
    public static let status = ControlMethod<NoParams, StatusResult>(name: "status")
    public static let handover = ControlMethod<NoParams, HandoverResult>(name: "handover")
    public static let peers = ControlMethod<NoParams, [PeerView]>(name: "peers")

    // Groups.
    public static let groupCreate = ControlMethod<GroupCreateOptions, GroupView>(name: "group.create")
    public static let groupInvite = ControlMethod<GroupInviteParams, InviteResult>(name: "group.invite")
    public static let groupJoin = ControlMethod<GroupJoinParams, GroupView>(name: "group.join")
    public static let groupJoinStatus = ControlMethod<GroupRefParams, JoinStatus>(name: "group.join.status")
    public static let groupInvites = ControlMethod<NoParams, [OfferedInviteView]>(name: "group.invites")
    public static let groupAccept = ControlMethod<GroupRefParams, GroupView>(name: "group.accept")
    public static let groupRequest = ControlMethod<JoinRequestParams, JoinRequestView>(name: "group.request")
    public static let groupRequestStatus = ControlMethod<GroupRefParams, JoinRequestView>(name: "group.request.status")
    public static let groupRequests = ControlMethod<JoinRequestsParams, [PendingJoinRequestView]>(name: "group.requests")
    public static let groupApprove = ControlMethod<JoinDecisionParams, PendingJoinRequestView>(name: "group.approve")
    public static let groupRefuse = ControlMethod<JoinDecisionParams, PendingJoinRequestView>(name: "group.refuse")
    public static let groupRemove = ControlMethod<GroupMemberParams, GroupView>(name: "group.remove")
    public static let groupRole = ControlMethod<GroupMemberParams, GroupView>(name: "group.role")
    public static let groupLeave = ControlMethod<GroupRefParams, GroupView>(name: "group.leave")
    public static let groupList = ControlMethod<NoParams, [GroupView]>(name: "group.list")

    // Messages and history.
    public static let send = ControlMethod<SendParams, MessageView>(name: "send")
    public static let search = ControlMethod<SearchParams, [MessageView]>(name: "search")
    public static let log = ControlMethod<LogParams, [MessageView]>(name: "log")
    /// Streams `message` events (`EventLine<MessageView>`) after its response.
    public static let logFollow = ControlMethod<GroupRefParams, FollowResult>(name: "log.follow")
    public static let logIds = ControlMethod<GroupRefParams, [String]>(name: "log.ids")
    public static let logGraph = ControlMethod<GroupRefParams, [GraphRow]>(name: "log.graph")
    public static let edit = ControlMethod<EditParams, MessageView>(name: "edit")
    public static let delete = ControlMethod<DeleteParams, DeleteResult>(name: "delete")
    public static let react = ControlMethod<ReactParams, MessageView>(name: "react")
    public static let export = ControlMethod<GroupRefParams, [ExportedEvent]>(name: "export")
    public static let `import` = ControlMethod<ImportParams, ImportResult>(name: "import")
    public static let audit = ControlMethod<VerifyParams, [VerifyReport]>(name: "audit")
    /// The deprecated name of `audit`, served for one release.
    public static let verify = ControlMethod<VerifyParams, [VerifyReport]>(name: "verify")

    // Presence, typing, read markers and receipts.
    public static let presenceSet = ControlMethod<PresenceSetParams, PresenceView>(name: "presence.set")
    public static let typing = ControlMethod<TypingParams, TypingResult>(name: "typing")
    public static let read = ControlMethod<ReadParams, ReadResult>(name: "read")
    public static let receipts = ControlMethod<ReceiptsParams, ReceiptsResult>(name: "receipts")
    /// Answers once the receipts meet the goal or the timeout passes (`hark send --wait`).
    public static let receiptsWait = ControlMethod<ReceiptsWaitParams, ReceiptsWaitResult>(name: "receipts.wait")
    /// Streams `WatchEvent` lines after its response.
    public static let watch = ControlMethod<WatchParams, WatchResult>(name: "watch")

    // Trust and the user's decisions about keys.
    public static let safetyNumber = ControlMethod<PeerRefParams, SafetyNumberView>(name: "safety_number")
    public static let pairStart = ControlMethod<PeerRefParams, PairView>(name: "pair.start")
    public static let pairStatus = ControlMethod<PeerRefParams, PairView>(name: "pair.status")
    public static let pairList = ControlMethod<NoParams, [PairView]>(name: "pair.list")
    public static let pairConfirm = ControlMethod<PairConfirmParams, PairView>(name: "pair.confirm")
    public static let pairReject = ControlMethod<PeerRefParams, PairView>(name: "pair.reject")
    public static let peerAlias = ControlMethod<PeerAliasParams, PeerView>(name: "peer.alias")
    public static let peerBlock = ControlMethod<PeerRefParams, PeerView>(name: "peer.block")
    public static let peerUnblock = ControlMethod<PeerRefParams, PeerView>(name: "peer.unblock")
    public static let peerForget = ControlMethod<PeerRefParams, PeerView>(name: "peer.forget")

    // Files.
    public static let share = ControlMethod<ShareParams, ShareResult>(name: "share")
    public static let files = ControlMethod<FilesParams, [FileOfferView]>(name: "files")
    /// Streams `progress`, then one `done` or `failed` event (`FetchProgress`, `FetchDone`,
    /// `ControlErrorBody`) after its response.
    public static let fetch = ControlMethod<FetchParams, FetchStarted>(name: "fetch")
    /// A test hook: `unknown_method` unless the node runs with HARK_TEST_RAW_OFFERS=1.
    public static let testOfferRaw = ControlMethod<RawOfferParams, ShareResult>(name: "test.offer_raw")

    /// The name of every method above, in the order listed.
    public static let allNames: [String] = [
        status.name, handover.name, peers.name,
        groupCreate.name, groupInvite.name, groupJoin.name, groupJoinStatus.name, groupInvites.name, groupAccept.name,
        groupRequest.name, groupRequestStatus.name, groupRequests.name, groupApprove.name, groupRefuse.name,
        groupRemove.name, groupRole.name, groupLeave.name, groupList.name,
        send.name, search.name, log.name, logFollow.name, logIds.name, logGraph.name, edit.name, delete.name, react.name,
        export.name, `import`.name, audit.name, verify.name,
        presenceSet.name, typing.name, read.name, receipts.name, receiptsWait.name, watch.name,
        safetyNumber.name, pairStart.name, pairStatus.name, pairList.name, pairConfirm.name, pairReject.name,
        peerAlias.name, peerBlock.name, peerUnblock.name, peerForget.name,
        share.name, files.name, fetch.name, testOfferRaw.name,
    ]
}
