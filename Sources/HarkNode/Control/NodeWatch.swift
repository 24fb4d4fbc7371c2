import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore

/// One `watch` subscription.
struct Watcher: Sendable {
    /// Only this group's events (presence always passes); nil: every group.
    let group: EventID?
    let continuation: AsyncStream<WatchEvent>.Continuation
}

extension Node {
    /// `watch`: a stream of what happens from now on (docs/CONTROL.md "watch").
    /// - Throws: `ControlErrorBody` `.notFound` for an unknown group.
    public func watch(group ref: String?) throws(ControlErrorBody) -> (Int, AsyncStream<WatchEvent>) {
        let group = try ref.map { (r: String) throws(ControlErrorBody) -> EventID in try resolveGroup(r).id }
        let (stream, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .bufferingNewest(10_000))
        let id = subscriberState.nextFollowerID
        subscriberState.nextFollowerID += 1
        subscriberState.watchers[id] = Watcher(group: group, continuation: continuation)
        return (id, stream)
    }

    public func unwatch(_ id: Int) {
        subscriberState.watchers.removeValue(forKey: id)?.continuation.finish()
    }

    func emit(_ event: WatchEvent) {
        guard !subscriberState.watchers.isEmpty else { return }
        let group = event.group
        for (_, w) in subscriberState.watchers where group == nil || w.group == nil || w.group?.hex == group {
            w.continuation.yield(event)
        }
    }

    /// Emits what a newly stored event means to watchers.
    func emitWatchEvents(for e: Event, record: Store.GroupRecord) {
        guard subscriberState.watchers.values.contains(where: { $0.group == nil || $0.group == record.id }) else { return }
        guard !isBlocked(e.author) else { return }
        let author = PeerID(e.author)
        let name = displayName(of: e.author)
        func change(_ target: Data, text: String? = nil, emoji: String? = nil) -> ChangeView? {
            guard let t = try? EventID(bytes: [UInt8](target)) else { return nil }
            return ChangeView(group: record.id.hex, id: e.id.hex, message: t.hex, author: author.description, authorName: name,
                              authorFingerprint: author.shortFingerprint, text: text, emoji: emoji, wallMs: e.wallMs)
        }
        switch e.kind {
        case .read, .equivocationProof: return
        default: break
        }
        guard let content = readableContent(e, record: record) else { return }
        switch content.content {
        case .text?:
            if let view = messageView(e, group: record) { emit(.message(view)) }
        case let .genesis(g)?:
            if trustBook.authorNames[e.author] == nil { trustBook.authorNames[e.author] = g.creatorDisplayName }
            emit(.membership(MembershipView(group: record.id.hex, member: author.description, memberName: displayName(of: e.author),
                                            memberFingerprint: author.shortFingerprint, change: "created")))
        case let .join(j)?:
            if trustBook.authorNames[e.author] == nil { trustBook.authorNames[e.author] = j.displayName }
            emit(.membership(MembershipView(group: record.id.hex, member: author.description, memberName: displayName(of: e.author),
                                            memberFingerprint: author.shortFingerprint, change: "joined")))
        case let .edit(edit)?:
            if let v = change(edit.target, text: edit.text) { emit(.edit(v)) }
        case let .delete(d)?:
            if let v = change(d.target) { emit(.delete(v)) }
        case let .reaction(r)?:
            if let v = change(r.target, emoji: r.emoji.isEmpty ? nil : r.emoji) { emit(.reaction(v)) }
        case let .member(m)?:
            guard let target = try? SigningPublicKey(bytes: [UInt8](m.target)) else { return }
            let t = PeerID(target)
            let change: String
            switch m.action {
            case .add: change = m.role == .admin ? "added as admin" : "added"
            case .remove: change = "removed"
            case .role: change = m.role == .admin ? "made admin" : "made member"
            case .leave: change = "left"
            default: return
            }
            emit(.membership(MembershipView(group: record.id.hex, member: t.description, memberName: displayName(of: target),
                                            memberFingerprint: t.shortFingerprint, change: change)))
        case .fileOffer?:
            if let o = Self.openOffer(e, group: record) { emit(.fileOffer(offerView(o))) }
        case .prekey?, .senderKey?, .historyKey?, nil:
            return
        }
    }
}
