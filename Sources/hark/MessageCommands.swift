import ArgumentParser
import HarkControl

struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Replace the text of one of your messages.",
        discussion: "Every replica shows the edit that sorts last in the total order; the original stays in the history." + "\n\n" + ExitDoc.text([65: "empty or too long text, or a message by another member", 67: "no such group or message"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Argument(help: "Message ID (or a unique prefix of at least 8 hex digits; see `hark log --json`).") var message: String
    @Argument(help: "The new text (default: read standard input).") var text: String?
    @Flag(name: .long, help: "Print the edited message as one JSON object.") var json = false

    func run() throws {
        var t = text ?? "-"
        if t == "-" { t = try readStdin(limit: ControlLimits.maxTextByteCount + 1); if t.hasSuffix("\n") { t.removeLast() } }
        guard !t.isEmpty else { throw fail("message text is empty", Exit.dataError) }
        let m = try call(try connect(options), ControlMethods.edit, EditParams(group: group, message: message, text: t))
        if json { try printJSON(m) }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete one of your messages for everyone.",
        discussion: "Writes a tombstone: every replica hides the message and purges its body, while the history still verifies. A peer that already copied the text elsewhere cannot be made to forget it." + "\n\n" + ExitDoc.text([65: "a message by another member", 67: "no such group or message"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Argument(help: "Message ID (or a unique prefix of at least 8 hex digits).") var message: String

    func run() throws {
        _ = try call(try connect(options), ControlMethods.delete, DeleteParams(group: group, message: message))
    }
}

struct ReactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "react",
        abstract: "Add a reaction to a message, or withdraw yours with --remove.",
        discussion: "Reactions form an observed-remove set: a withdrawal removes only the reactions it has seen." + "\n\n" + ExitDoc.text([65: "not one emoji", 67: "no such group or message"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Argument(help: "Message ID (or a unique prefix of at least 8 hex digits).") var message: String
    @Argument(help: "The reaction, e.g. 👍 (1 to 32 bytes).") var emoji: String
    @Flag(name: .long, help: "Withdraw your reaction instead.") var remove = false
    @Flag(name: .long, help: "Print the message as one JSON object.") var json = false

    func run() throws {
        let m = try call(try connect(options), ControlMethods.react, ReactParams(group: group, message: message, emoji: emoji, remove: remove))
        if json { try printJSON(m) }
    }
}
