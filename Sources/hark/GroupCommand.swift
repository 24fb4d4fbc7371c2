import ArgumentParser
import HarkControl

struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Create, invite to, join and list groups.",
        subcommands: [Create.self, Invite.self, Join.self, List.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group (writes its genesis event and a random group key).")
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name (1 to 64 bytes).") var name: String
        @Flag(name: .long, help: "Print one JSON object.") var json = false

        func run() throws {
            let g = try call(try connect(options), "group.create", GroupCreateParams(name: name), as: GroupView.self)
            if json { try printJSON(g) } else { printOut("created group \(terminalSafe(g.name)) (\(g.id.prefix(12)))") }
        }
    }

    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an invite token for a group (one line).",
            discussion: "The token holds the group key: give it only to people who should read the group."
        )
        @OptionGroup var options: HomeOptions
        @Argument(help: "Group name or ID.") var group: String

        func run() throws {
            let r = try call(try connect(options), "group.invite", GroupRefParams(group: group), as: InviteResult.self)
            printOut(r.token)
        }
    }

    struct Join: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Join a group with an invite token.")
        @OptionGroup var options: HomeOptions
        @Argument(help: "The token printed by `hark group invite` (or - to read it from stdin).") var token: String
        @Flag(name: .long, help: "Print one JSON object.") var json = false

        func run() throws {
            var text = token
            if token == "-" { text = readLine(strippingNewline: true) ?? "" }
            let g = try call(try connect(options), "group.join", GroupJoinParams(token: text), as: GroupView.self)
            if json { try printJSON(g) } else { printOut("joined group \(terminalSafe(g.name)) (\(g.id.prefix(12)))") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the groups this node is a member of.")
        @OptionGroup var options: HomeOptions
        @Flag(name: .long, help: "Print one JSON object per line.") var json = false

        func run() throws {
            let groups = try call(try connect(options), "group.list", NoParams(), as: [GroupView].self)
            if json { for g in groups { try printJSON(g) }; return }
            for g in groups {
                let members = g.members.count == 1 ? "1 member" : "\(g.members.count) members"
                printOut("\(terminalSafe(g.name))  \(g.id.prefix(12))  \(members)  \(g.events) events")
            }
        }
    }
}
