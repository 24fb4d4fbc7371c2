// Changes to messages already sent: edits, deletes and reactions (PROTOCOL.md §4.7), each an
// event that names its target by ID. Node actor state; isolated to the actor.

import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Logging

extension Node {
    /// Finds one of the group's visible messages (not deleted) by full hex ID or unique prefix
    /// (≥ 8 hex digits). Deleted messages are not found: editing, deleting or reacting to them
    /// would only add inert events to the history.
    func resolveMessage(_ ref: String, in g: Store.GroupRecord) throws -> Event {
        let lower = ref.lowercased()
        guard lower.count >= 8, lower.allSatisfy(\.isHexDigit) else {
            throw ControlErrorBody(code: .invalidArgument, message: "message ID must be at least 8 hex digits (see `hark log`)")
        }
        let matches = try store.messages(group: g.id, idPrefix: lower, limit: 2)
        guard matches.count == 1, let e = try store.event(matches[0].id) else {
            throw ControlErrorBody(code: matches.isEmpty ? .notFound : .ambiguous,
                                   message: matches.isEmpty ? "no message \(ref) in \(g.name) (deleted, or never written)"
                                                            : "message ID prefix \(ref) is ambiguous")
        }
        return e
    }

    func edit(group ref: String, message: String, text: String) throws -> MessageView {
        let g = try resolveGroup(ref)
        let target = try resolveMessage(message, in: g)
        guard target.author == identity.signing.publicKey else {
            throw ControlErrorBody(code: .invalidArgument, message: "only the author can edit a message")
        }
        let n = text.utf8.count
        guard n >= 1, n <= ControlLimits.maxTextByteCount else {
            throw ControlErrorBody(code: .invalidArgument, message: "message text must be 1 to \(ControlLimits.maxTextByteCount) bytes")
        }
        var c = Hark_V1_Content()
        var e = Hark_V1_Edit()
        e.target = Data(target.id.bytes)
        e.text = text
        c.edit = e
        try prepareSenderChain(group: g)
        _ = try author(kind: .edit, content: c, group: g)
        guard let view = try historyView(of: target.id, group: g.id) else {
            throw ControlErrorBody(code: .internal, message: "edited message not found afterwards")
        }
        return view
    }

    func delete(group ref: String, message: String) throws -> MessageView? {
        let g = try resolveGroup(ref)
        let target = try resolveMessage(message, in: g)
        guard target.author == identity.signing.publicKey else {
            throw ControlErrorBody(code: .invalidArgument, message: "only the author can delete a message")
        }
        var c = Hark_V1_Content()
        var d = Hark_V1_Delete()
        d.target = Data(target.id.bytes)
        c.delete = d
        _ = try author(kind: .delete, content: c, group: g)
        return nil
    }

    func react(group ref: String, message: String, emoji: String, remove: Bool) throws -> MessageView {
        let g = try resolveGroup(ref)
        let target = try resolveMessage(message, in: g)
        guard !emoji.isEmpty, emoji.utf8.count <= EventLimits.maxEmojiBytes else {
            throw ControlErrorBody(code: .invalidArgument, message: "a reaction is 1 to \(EventLimits.maxEmojiBytes) bytes")
        }
        var r = Hark_V1_Reaction()
        r.target = Data(target.id.bytes)
        if remove {
            // Withdraw every reaction event of ours with this emoji on this message (OR-set remove).
            for tag in try store.reactionTags(target: target.id, author: identity.signing.publicKey, emoji: emoji) {
                r.removes.append(Data(tag.bytes))
            }
            guard !r.removes.isEmpty else {
                throw ControlErrorBody(code: .notFound, message: "you have not reacted with \(emoji) to that message")
            }
        } else {
            r.emoji = emoji
        }
        var c = Hark_V1_Content()
        c.reaction = r
        _ = try author(kind: .reaction, content: c, group: g)
        guard let view = try historyView(of: target.id, group: g.id) else {
            throw ControlErrorBody(code: .internal, message: "message not found afterwards")
        }
        return view
    }
}
