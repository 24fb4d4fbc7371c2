import ArgumentParser
import Foundation
import HarkControl

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Re-check every stored event: signatures, hash links, Lamport timestamps, rules, forks.",
        discussion: "Exits 0 when everything verifies, 65 when a problem is found (listed on stdout). Forks (an author who signed two events with one sequence number) are reported but are not store damage. (Called `hark verify` before; `hark verify PEER` now shows a safety number.)" + "\n\n" + ExitDoc.text([65: "a problem was found (listed on standard output)", 67: "no such group"], reading: true)
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID (default: every group).", completion: LiveCompletion.groups) var group: String?
    @Flag(name: .long, help: "Print one JSON object per group.") var json = false

    func run() throws {
        let reports = try call(try connectReading(options), ControlMethods.audit, VerifyParams(group: group))
        var bad = false
        for r in reports {
            bad = bad || !r.problems.isEmpty
            if json { try printJSON(r); continue }
            printOut("\(terminalSafe(r.name)) (\(r.group.prefix(12))): \(r.events) events, \(r.problems.count) problems, \(r.forks.count) forks")
            for p in r.problems { printOut("  problem: \(terminalSafe(p))") }
            for f in r.forks {
                printOut("  fork: \(terminalSafe(f.authorName)) (\(f.author.prefix(12))…) signed \(f.events.count) events with seq \(f.seq): "
                         + f.events.map { String($0.prefix(8)) }.joined(separator: " "))
            }
        }
        if bad { throw Exit.dataError }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a group's signed events, one JSON object per line.",
        discussion: "Each line holds `signed`, the base64 of the SignedEvent exactly as stored, which `hark import` verifies again. The group key is not exported." + "\n\n" + ExitDoc.text([67: "no such group"], reading: true)
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Flag(name: .long, help: "JSON lines (the only format; accepted for clarity).") var jsonl = false

    func run() throws {
        for e in try call(try connectReading(options), ControlMethods.export, GroupRefParams(group: group)) { try printJSON(e) }
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Verify and store signed events written by `hark export` (for groups this node is a member of).",
        discussion: "Reads FILE or standard input. Invalid events are refused and listed; exits 65 if any was refused." + "\n\n" + ExitDoc.text([65: "an event was refused, or a line is not an exported event", 67: "no such group", 74: "the file cannot be read"])
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "A file written by `hark export` (default: standard input).", completion: .file()) var file: String?

    func run() throws {
        let text: String
        if let file, file != "-" {
            guard let data = FileManager.default.contents(atPath: file), let s = String(data: data, encoding: .utf8) else {
                throw fail("cannot read \(file) as UTF-8 text", Exit.ioError)
            }
            text = s
        } else {
            text = try readStdin(limit: 1 << 30)
        }
        var blobs: [Data] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            do { blobs.append(try ControlCoding.decode(ExportedEvent.self, from: Array(line.utf8)).signed) } catch {
                throw fail("line \(n + 1) is not an exported event", Exit.dataError)
            }
        }
        let client = try connect(options)
        var total = ImportResult(imported: 0, alreadyHeld: 0, rejected: 0, reasons: [], missingParents: 0)
        // Batches keep each request under the control line limit.
        var start = 0
        while start < blobs.count {
            let batch = Array(blobs[start..<min(start + 500, blobs.count)])
            let r = try call(client, ControlMethods.import, ImportParams(events: batch))
            total.imported += r.imported; total.alreadyHeld += r.alreadyHeld; total.rejected += r.rejected
            total.reasons += r.reasons; total.missingParents = r.missingParents
            start += batch.count
        }
        printOut("imported \(total.imported), already held \(total.alreadyHeld), refused \(total.rejected), waiting for parents \(total.missingParents)")
        for r in total.reasons.prefix(20) { printError("hark: refused: \(r)") }
        if total.rejected > 0 { throw Exit.dataError }
    }
}
