import ArgumentParser
import Foundation
import HarkControl
import HarkCrypto
#if canImport(Glibc)
import Glibc
#endif

struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Create groups and channels, invite, join, and manage members and roles.",
        discussion: """
            A group's creator is its owner; admins add and remove members; members post. In a \
            channel only the owner and admins post. Membership is part of the signed history, so \
            every member's node agrees on it (docs/PROTOCOL.md §5).
            """ + "\n\n" + ExitDoc.text(daemon: false),
        subcommands: [Create.self, Invite.self, Join.self, Requests.self, Approve.self, Refuse.self, Accept.self, Invites.self, List.self, Members.self,
                      Remove.self, Role.self, Leave.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group or channel (writes its genesis event and a random group key).",
        discussion: ExitDoc.text([65: "a bad name, or a group of that name exists"]))
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name (1 to 64 bytes).") var name: String
        @Flag(name: .long, help: "Make a channel: only the owner and admins post.") var channel = false
        @Option(name: .long, help: ArgumentHelp("What a new member reads: shared (the history its adder holds; default) or joined (from when it is added). Fixed for the group's life.",
                                                 valueName: "shared|joined"),
                completion: .list(["shared", "joined"]))
        var history: String?
        @Flag(name: .long, help: "Print one JSON object.") var json = false

        func validate() throws {
            if let history, history != "shared", history != "joined" { throw ValidationError("--history must be shared or joined, not \(history)") }
        }

        func run() throws {
            let g = try call(try connect(options), ControlMethods.groupCreate, GroupCreateOptions(name: name, kind: channel ? "channel" : "group", history: history))
            if json { try printJSON(g) } else {
                printOut("created \(g.kind) \(terminalSafe(g.name)) (\(g.id.prefix(12))), \(g.history ?? "joined") history")
            }
        }
    }

    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an invite token for a group (one line).",
            discussion: """
                The token holds the group key: give it only to people who should read the group. \
                It expires (default 1h) and admits --uses peers (default 1); an admin of the group \
                must be online when it is used. With --for PEER only that peer can use it, and a \
                connected PEER also receives it over the encrypted channel (`hark group accept`).
                """ + "\n\n" + ExitDoc.text([65: "a bad --expires or --uses", 67: "no such group, or no known peer matches --for"])
        )
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
        @Option(name: .customLong("for"), help: ArgumentHelp("Only this peer may use it (peer ID, fingerprint or name).", valueName: "peer"),
                completion: LiveCompletion.peers)
        var forPeer: String?
        @Option(name: .long, help: ArgumentHelp("Validity: 10m, 1h, 7d… (default 1h, at most 30d).", valueName: "duration"))
        var expires: String?
        @Option(name: .long, help: "How many peers may join with it (default 1).") var uses: UInt32?

        func validate() throws {
            if let expires, Duration.parseLong(expires) == nil { throw ValidationError("--expires \(expires) is not a duration like 10m, 1h, 7d") }
            if let uses, uses == 0 { throw ValidationError("--uses must be 1 or more") }
        }

        func run() throws {
            let p = GroupInviteParams(group: group, forPeer: forPeer, expiresMs: expires.flatMap(Duration.parseLong), uses: uses)
            let r = try call(try connect(options), ControlMethods.groupInvite, p)
            printOut(r.token)
        }
    }

    struct Join: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join a group with an invite token, or by name with a code an admin approves.",
            discussion: """
                With a token: for groups with roles the invite is redeemed with an admin over an \
                encrypted channel; this waits up to --timeout (default 20s) for one to answer and for \
                this node to see itself added.

                By name (NAME@ADMIN, or NAME when exactly one connected node administers a group of \
                that name): the admin is asked over the encrypted channel, and both screens show the \
                same 6-digit code. Compare it with the admin's `hark group requests`; the admin approves \
                with `hark group approve NAME CODE` (a request from a peer the admin made a --for invite \
                for is approved at once). This waits up to --timeout (default 120s). The part after the \
                last @ names the admin (peer ID, fingerprint prefix, alias or name).
                """ + "\n\n" + ExitDoc.text([
                    64: "a usage error, or several nodes offer a group of that name (the candidates are listed; name one with NAME@ADMIN)",
                    65: "the invite or the request is refused (expired, used up, for another peer, refused by the admin) or malformed",
                    67: "no connected node administers a group of that name, or the admin named is unknown, not connected or takes no join requests",
                    75: "no admin answered in time, the admin was asked too often (try again later), the channel closed, or this node has not seen itself added yet",
                    76: "two admins accepted the invite at once and its last use went to another peer",
                ])
        )
        @OptionGroup var options: HomeOptions
        @Argument(help: ArgumentHelp("The token printed by `hark group invite` (or - to read it from stdin), or a group name: NAME or NAME@ADMIN.",
                                     valueName: "token-or-name"))
        var token: String
        @Option(name: .long, help: ArgumentHelp("How long to wait (default 20s with a token, 120s by name).", valueName: "duration"))
        var timeout: String?
        @Flag(name: .long, help: "Print one JSON object.") var json = false

        func validate() throws {
            if let timeout, Duration.parse(timeout) == nil { throw ValidationError("--timeout \(timeout) is not a duration like 500ms, 30s, 2m") }
        }

        /// "-", text starting with "hark1", or text whose name part (before the last @) is longer
        /// than a group name (64 bytes) is taken as a token; anything else is a group name.
        static func isToken(_ text: String) -> Bool {
            if text == "-" || text.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("hark1") { return true }
            let name = text.lastIndex(of: "@").map { text[..<$0] } ?? Substring(text)
            return name.utf8.count > 64
        }

        func run() throws {
            let client = try connect(options)
            if Self.isToken(token) {
                var text = token
                if token == "-" { text = readLine(strippingNewline: true) ?? "" }
                let g = try call(client, ControlMethods.groupJoin, GroupJoinParams(token: text))
                try waitForMembership(client, g, timeoutMs: timeout.flatMap(Duration.parse) ?? 20_000, json: json)
                return
            }
            var name = token
            var admin: String?
            if let at = token.lastIndex(of: "@"), at != token.startIndex {
                name = String(token[..<at])
                admin = String(token[token.index(after: at)...])
                if admin?.isEmpty == true { throw ValidationError("name the admin after @, or leave out the @") }
            }
            try joinByCode(client, name: name, admin: admin, timeoutMs: timeout.flatMap(Duration.parse) ?? 120_000, json: json)
        }
    }

    struct Requests: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List requests to join groups this node administers (`hark group join NAME`).",
            discussion: """
                Each request shows the 6-digit code the requester's screen shows; approve it with \
                `hark group approve GROUP CODE` only if the codes match. A request whose code is not \
                shown yet is still being set up.
                """ + "\n\n" + ExitDoc.text([67: "no such group"]))
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID (default: every group).", completion: LiveCompletion.groups) var group: String?
        @Flag(name: .long, help: "Print one JSON object per line.") var json = false

        func run() throws {
            let list = try call(try connect(options), ControlMethods.groupRequests, JoinRequestsParams(group: group))
            if json { for r in list { try printJSON(r) }; return }
            if list.isEmpty { printOut("no requests"); return }
            for r in list {
                let who = "\(terminalSafe(r.displayName)) (\(r.fingerprint))\(r.verified ? " verified" : "")"
                printOut("\(terminalSafe(r.groupName))  \(r.code ?? "(no code yet)")  \(who)  \(formatTime(ms: r.receivedMs))")
            }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a request to join: the requester gets an invite for it alone and is added.",
            discussion: "Give the code both screens show (compare it first), or the requester. A code no request shows approves nothing."
                + "\n\n" + ExitDoc.text([65: "no request shows that code; nothing was approved", 67: "no such group, or the peer has no request"]))
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
        @Argument(help: ArgumentHelp("The 6-digit code, or the requester (peer ID, fingerprint prefix, alias or name).", valueName: "code-or-peer"))
        var request: String
        @Flag(name: .long, help: "Print one JSON object.") var json = false

        func run() throws {
            let r = try call(try connect(options), ControlMethods.groupApprove, JoinDecisionParams(group: group, request: request))
            if json { try printJSON(r) } else { printOut("approved \(terminalSafe(r.displayName)) (\(r.fingerprint)) for \(terminalSafe(r.groupName))") }
        }
    }

    struct Refuse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refuse a request to join; the requester is told and nothing is kept.",
            discussion: ExitDoc.text([65: "no request shows that code; nothing was refused", 67: "no such group, or the peer has no request"]))
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
        @Argument(help: ArgumentHelp("The 6-digit code, or the requester (peer ID, fingerprint prefix, alias or name).", valueName: "code-or-peer"))
        var request: String
        @Flag(name: .long, help: "Print one JSON object.") var json = false

        func run() throws {
            let r = try call(try connect(options), ControlMethods.groupRefuse, JoinDecisionParams(group: group, request: request))
            if json { try printJSON(r) } else { printOut("refused \(terminalSafe(r.displayName)) (\(r.fingerprint)) for \(terminalSafe(r.groupName))") }
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept an invite a peer sent over the encrypted channel (see `hark group invites`).",
            discussion: ExitDoc.text([65: "the invite is refused (expired, used up, for another peer)", 67: "no invite for that group", 75: "no admin answered in time, or this node has not seen itself added yet", 76: "two admins accepted the invite at once and its last use went to another peer"])
        )
        @OptionGroup var options: HomeOptions
        @Argument(help: "The group's name as the invite gave it.") var group: String
        @Option(name: .long, help: ArgumentHelp("How long to wait for an admin (default 20s).", valueName: "duration")) var timeout: String = "20s"
        @Flag(name: .long, help: "Print one JSON object.") var json = false

        func validate() throws {
            if Duration.parse(timeout) == nil { throw ValidationError("--timeout \(timeout) is not a duration like 500ms, 30s, 2m") }
        }

        func run() throws {
            let client = try connect(options)
            let g = try call(client, ControlMethods.groupAccept, GroupRefParams(group: group))
            try waitForMembership(client, g, timeoutMs: Duration.parse(timeout) ?? 20_000, json: json)
        }
    }

    struct Invites: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List invites peers sent over the encrypted channel.",
        discussion: ExitDoc.text())
        @OptionGroup var options: HomeOptions
        @Flag(name: .long, help: "Print one JSON object per line.") var json = false

        func run() throws {
            let list = try call(try connect(options), ControlMethods.groupInvites, NoParams())
            if json { for i in list { try printJSON(i) }; return }
            if list.isEmpty { printOut("no invites"); return }
            for i in list {
                printOut("\(terminalSafe(i.groupName))  from \(terminalSafe(i.fromName)) (\(i.fromFingerprint))  \(formatTime(ms: i.receivedMs))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the groups this node is a member of.",
        discussion: "Each line ends with the messages of others not read yet (N unread) and, of those, how many mention you (M @you).\n\n"
            + ExitDoc.text(reading: true))
        @OptionGroup var options: HomeOptions
        @Flag(name: .long, help: "Print one JSON object per line.") var json = false

        func run() throws {
            let groups = try call(try connectReading(options), ControlMethods.groupList, NoParams())
            if json { for g in groups { try printJSON(g) }; return }
            for g in groups {
                let members = g.members.count == 1 ? "1 member" : "\(g.members.count) members"
                var unread = (g.unread ?? 0) > 0 ? "  \(g.unread ?? 0) unread" : ""
                if (g.mentions ?? 0) > 0 { unread += "  \(g.mentions ?? 0) @you" }
                printOut("\(terminalSafe(g.name))  \(g.id.prefix(12))  \(g.kind)  \(members)  \(g.events) events\(unread)")
            }
        }
    }

    struct Members: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a group's members with their roles and presence.",
        discussion: ExitDoc.text([67: "no such group"], reading: true))
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
        @Flag(name: .long, help: "Print one JSON object per member.") var json = false

        func run() throws {
            let client = try connectReading(options)
            let groups = try call(client, ControlMethods.groupList, NoParams())
            guard let g = groups.first(where: { $0.name == group || $0.id.hasPrefix(group.lowercased()) }) else {
                throw fail("no group named \"\(group)\" (see `hark group list`)", Exit.noUser)
            }
            let peers = try call(client, ControlMethods.peers, NoParams())
            let me = try call(client, ControlMethods.status, NoParams())
            struct Row: Codable { var peerId: String; var displayName: String; var fingerprint: String; var role: String; var presence: String }
            for id in g.members {
                let p = peers.first { $0.peerId == id }
                let isMe = id == me.peerId
                let row = Row(peerId: id, displayName: isMe ? me.displayName : (p?.displayName ?? "unknown"),
                              fingerprint: isMe ? me.fingerprint : (p?.fingerprint ?? (try? PeerID(parsing: id))?.fingerprint ?? String(id.prefix(12))),
                              role: g.roles?[id] ?? "member", presence: isMe ? "you" : (p?.presence ?? "offline"))
                if json { try printJSON(row); continue }
                printOut("\(row.role.padding(toLength: 6, withPad: " ", startingAt: 0))  \(terminalSafe(row.displayName)) (\(shortFingerprint(row.fingerprint)))  \(row.presence)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member (admins remove members; the owner also removes admins).",
            discussion: "Every sender starts a new chain key that the removed member does not get before its next message (docs/SECURITY.md)." + "\n\n" + ExitDoc.text([65: "not allowed (only admins remove members, the owner removes admins; yourself: use leave)", 67: "no such group or member"])
        )
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
        @Argument(help: "The member: peer ID, fingerprint or display name.", completion: LiveCompletion.peers) var peer: String

        func run() throws {
            _ = try call(try connect(options), ControlMethods.groupRemove, GroupMemberParams(group: group, peer: peer))
        }
    }

    struct Role: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a member an admin, or an admin a member (owner only).",
        discussion: ExitDoc.text([65: "not allowed (only the owner changes roles), or a bad role", 67: "no such group or member"]))
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
        @Argument(help: "The member: peer ID, fingerprint or display name.", completion: LiveCompletion.peers) var peer: String
        @Argument(help: "admin or member.") var role: String

        func validate() throws {
            guard role == "admin" || role == "member" else { throw ValidationError("role must be admin or member") }
        }

        func run() throws {
            _ = try call(try connect(options), ControlMethods.groupRole, GroupMemberParams(group: group, peer: peer, role: role))
        }
    }

    struct Leave: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Leave a group (the owner cannot).",
        discussion: ExitDoc.text([65: "the owner cannot leave", 67: "no such group"]))
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String

        func run() throws {
            _ = try call(try connect(options), ControlMethods.groupLeave, GroupRefParams(group: group))
        }
    }
}

/// `hark group join NAME[@ADMIN]`: asks, prints the code once known, waits for the admin's
/// decision and then for this node to see itself added, all within `timeoutMs`.
func joinByCode(_ client: ControlClient, name: String, admin: String?, timeoutMs: Int64, json: Bool) throws {
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
    var v = try call(client, ControlMethods.groupRequest, JoinRequestParams(group: name, admin: admin))
    var shown = false
    while true {
        if let code = v.code, !shown {
            shown = true
            let who = "\(terminalSafe(v.adminName ?? "the admin")) (\(v.adminFingerprint ?? "?"))"
            let line = "code \(code): check that \(who) shows the same code in `hark group requests`; waiting for approval"
            if json { printError(line) } else { printOut(line) }
        }
        let why = terminalSafe(v.reason ?? "no reason given")
        switch v.state {
        case "accepted":
            guard let id = v.groupId else { throw fail("approved, but no group ID came back", Exit.software) }
            let g = GroupView(id: id, name: name, events: 0, members: [], createdMs: 0, state: "pending")
            let left = max(1, Int64(deadline.timeIntervalSinceNow * 1000))
            return try waitForMembership(client, g, timeoutMs: left, json: json, deadline: deadline)
        case "refused": throw fail("request refused: \(why)", Exit.dataError)
        case "not_found": throw fail(why, Exit.noUser)
        case "ambiguous": throw fail(why, Exit.usage)
        case "rate_limited":
            let wait = v.retryAfterMs.map { " (try again in \(($0 + 999) / 1000) s)" } ?? ""
            throw fail("request refused: \(why)\(wait)", Exit.tempFail)
        case "failed": throw fail(why, Exit.tempFail)
        default: break
        }
        if Date() >= deadline {
            let what = v.state == "code" ? "the admin did not decide" : "no admin answered"
            throw fail("\(what) within \(timeoutMs) ms; an approval that comes later still joins while this node runs", Exit.tempFail)
        }
        usleep(100_000)
        v = try call(client, ControlMethods.groupRequestStatus, GroupRefParams(group: name))
    }
}

/// After `group.join`/`group.accept`: waits until an admin added this node, or refused.
func waitForMembership(_ client: ControlClient, _ g: GroupView, timeoutMs: Int64, json: Bool, deadline: Date? = nil) throws {
    var status = JoinStatus(group: g.id, name: g.name, state: g.state, reason: nil)
    let deadline = deadline ?? Date().addingTimeInterval(Double(timeoutMs) / 1000)
    while status.state == "pending" || status.state == "accepted" {
        if Date() >= deadline {
            if status.state == "accepted" {
                // An admin said yes, but this node has not seen its ADD: not a member yet.
                throw fail("an admin of \(terminalSafe(g.name)) accepted the invite, but this node has not seen itself added within \(timeoutMs) ms; check later with `hark group members \(terminalSafe(g.name))`", Exit.tempFail)
            }
            throw fail("no admin of \(terminalSafe(g.name)) answered within \(timeoutMs) ms; the daemon keeps trying while the invite is valid", Exit.tempFail)
        }
        usleep(100_000)
        status = try call(client, ControlMethods.groupJoinStatus, GroupRefParams(group: g.id))
    }
    if status.state == "refused" {
        throw fail("invite refused: \(terminalSafe(status.reason ?? "no reason given"))", Exit.dataError)
    }
    if status.state == "lost" {
        throw fail("not joined: \(terminalSafe(status.reason ?? "another peer used the invite at the same time"))", Exit.protocolError)
    }
    let what = g.kind == "channel" ? "channel" : "group"
    if json { try printJSON(status) } else { printOut("joined \(what) \(terminalSafe(g.name)) (\(g.id.prefix(12)))") }
}

extension Duration {
    /// Milliseconds in "10m", "1h", "7d", or anything `parse` takes.
    static func parseLong(_ text: String) -> Int64? {
        if text.hasSuffix("d"), let v = Double(text.dropLast()), v > 0, v < 1e5 { return Int64(v * 86_400_000) }
        return parse(text)
    }
}
