import ArgumentParser
import HarkControl
import HarkTerminal

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the text of the messages this node can read.",
        discussion: """
            hark search [GROUP] QUERY: with one argument, every group is searched; with two, the \
            first is the group (name or ID). QUERY is one argument (quote it): its words must all \
            appear, in any order, case and accents ignored; a word ending in * matches as a prefix \
            (deplo*). A message is found by its current text: an edit replaces what is found, and a \
            deleted message is never found.
            The newest --limit matches (20) are printed oldest first, like log; --before ID gives the \
            matches before that one (page back with the first ID printed). With --json, one object \
            per line as log --json prints. Search reads a full-text index (SQLite FTS5) kept with \
            the read model; it works without a daemon, like log.

            Examples:
              hark search "disk full"
              hark search ops 'deplo* failed' --limit 5
            """ + "\n\n" + ExitDoc.text([65: "a query with no words", 67: "no such group or message"], reading: true)
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: ArgumentHelp("[GROUP] QUERY: an optional group name or ID, then the words to find.", valueName: "[group] query"))
    var arguments: [String]
    @Flag(name: .long, help: "Print one JSON object per message (NDJSON).") var json = false
    @Option(name: .shortAndLong, help: "Show at most the newest N matches (default 20).") var limit: Int?
    @Option(name: .long, help: ArgumentHelp("Show only matches before this message (ID prefix of 8+ hex digits).", valueName: "ID")) var before: String?

    func validate() throws {
        guard (1...2).contains(arguments.count) else { throw ValidationError("expected [GROUP] QUERY: one or two arguments (quote a query of several words)") }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if (arguments.last ?? "").split(whereSeparator: \.isWhitespace).isEmpty { throw ValidationError("the query has no words") }
    }

    func run() throws {
        TerminalText.useUTF8Locale()
        let client = try connectReading(options)
        let group = arguments.count == 2 ? arguments[0] : nil
        let found = try call(client, ControlMethods.search, SearchParams(group: group, query: arguments.last ?? "", limit: limit, before: before))
        if json { for m in found { try printJSON(m) }; return }
        // Across groups, each line says which group it is from.
        var names: [String: String] = [:]
        if group == nil, Set(found.map(\.group)).count > 0 {
            for g in try call(client, ControlMethods.groupList, NoParams()) { names[g.id] = g.name }
        }
        for m in found {
            try LogCommand.show(m, json: false, prefix: group == nil ? "\(terminalSafe(names[m.group] ?? String(m.group.prefix(12))))  " : "")
        }
    }
}
