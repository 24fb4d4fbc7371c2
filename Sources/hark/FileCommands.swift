import ArgumentParser
import Foundation
import HarkControl
#if canImport(Glibc)
import Glibc
#endif

/// Makes a command-line path absolute (the daemon's working folder is not the caller's).
func absolutePath(_ p: String) -> String {
    if p.hasPrefix("/") { return p }
    let cwd = FileManager.default.currentDirectoryPath
    return p == "." ? cwd : cwd + "/" + p
}

struct ShareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Offer files or folders to a group.",
        discussion: """
            Builds a manifest of the files (relative names, sizes, modes, per-chunk BLAKE2b hashes \
            and a Merkle root per file), writes a signed file-offer event to the group and serves \
            the chunks, encrypted for the group, to members who fetch them. A folder is offered \
            with everything below it; symbolic links, FIFOs, devices and names that cannot travel \
            are skipped and listed on stderr. Prints the file ID that `hark fetch` takes.

            Files must stay as they are until fetched: a file that changes after the offer is \
            never served (its fetchers get a clear error); share it again to offer the new version.

            `hark share PATH... @PEER` offers them in the direct conversation with that peer (the \
            same as -g @PEER; `hark send @PEER TEXT` starts one).

            Examples:
              hark share ~/photos report.pdf -g ops -m "from the trip"
              hark share notes.txt @bob
            """ + "\n\n" + ExitDoc.text([64: "no -g and several groups", 65: "nothing to offer (empty folders, only links)", 67: "no such group or peer", 74: "a path cannot be read"])
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: ArgumentHelp("Files or folders to offer.", valueName: "path"), completion: .file()) var paths: [String]
    @Option(name: .shortAndLong, help: "The group to offer them to (default: the only group).", completion: LiveCompletion.groups) var group: String?
    @Option(name: [.customShort("m"), .long], help: "A note sent with the offer.") var message: String?
    @Flag(name: .long, help: "Print the result as one JSON object.") var json = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("name at least one file or folder") }
        let peers = paths.filter { $0.hasPrefix("@") }
        guard peers.count <= 1 else { throw ValidationError("name one peer (@PEER) at most; share again for another") }
        guard peers.isEmpty || group == nil else { throw ValidationError("give either -g GROUP or @PEER, not both") }
        guard peers.count < paths.count else { throw ValidationError("name at least one file or folder besides \(peers[0])") }
    }

    func run() throws {
        let client = try connect(options)
        let files = paths.filter { !$0.hasPrefix("@") }
        let target = group ?? paths.first(where: { $0.hasPrefix("@") })
        let r = try call(client, ControlMethods.share, ShareParams(paths: files.map(absolutePath), group: target, text: message))
        for s in r.skipped { printError("hark: skipped \(terminalSafe(s.path)): \(s.reason)") }
        if json { try printJSON(r); return }
        printOut(r.fileId)
    }
}

struct FilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "List file offers.",
        discussion: """
            One line per offer: file ID (prefix), name, size, sender, how many online peers hold \
            all of it, and its state here: mine, complete, fetching, partial (an interrupted fetch; \
            fetch again to resume) or offered.
            """ + "\n\n" + ExitDoc.text([67: "no such group"], reading: true)
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID (default: every group).", completion: LiveCompletion.groups) var group: String?
    @Flag(name: .long, help: "Print one JSON object per offer (NDJSON).") var json = false

    func run() throws {
        let client = try connectReading(options)
        let offers = try call(client, ControlMethods.files, FilesParams(group: group))
        if json { for o in offers { try printJSON(o) }; return }
        if offers.isEmpty { printOut("no file offers"); return }
        for o in offers {
            let name = terminalSafe(o.names.joined(separator: ", ")) + (o.files > 1 ? " (\(o.files) files)" : "")
            let note = o.text.map { "  \"\(terminalSafe($0))\"" } ?? ""
            printOut("\(o.fileId.prefix(12))  \(name)  \(formatBytes(o.size))  from \(terminalSafe(o.senderName)) (\(o.senderFingerprint))  held by \(o.holders)  \(o.state)\(note)")
        }
    }
}

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download offered files from every peer that holds them.",
        discussion: """
            Asks every online member that holds the files for chunks at once, verifies each chunk \
            against the manifest before writing it, stages the files in DIR/.hark-partial with a \
            persisted chunk bitmap, and moves each into place only when all of it verified. An \
            interrupted fetch (Ctrl-C, a crash, the peers gone) resumes from the bitmap without \
            reading or hashing again what was verified. Names from the network are checked \
            (relative, no .., no control characters) and files are created without following \
            symbolic links; an existing file is never replaced without --force. Once fetched, \
            this node serves the files to others.

            The -o folder is created when missing. A fetch interrupted (Ctrl-C, a lost peer) \
            resumes from its verified chunks the next time, and says so: "resuming at 31 % (19 of \
            61 MiB already verified)"; its summary rate counts only the bytes moved in this run. \
            A progress bar with rate and ETA, cut to the terminal's width, is shown on a terminal (stderr); nothing in a pipe. \
            With --json: the start, then one {"event": "progress", …} object about 4 times a \
            second, and {"event": "done", …} at the end.

            Examples:
              hark fetch 3c2f24e4 -o ~/in
              hark fetch 3c2f24e4 --limit-rate 20M --json | jq -c 'select(.event == "done")'
            """ + "\n\n" + ExitDoc.text([65: "the manifest is corrupt or unsafe, or the sender's file changed", 67: "no such file offer", 73: "a file exists (use --force), a link is in the way, or -o cannot be created", 74: "the fetch stream broke", 75: "no peer online can serve it (fetch again later: it resumes)"])
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: ArgumentHelp("The file ID (from `hark files` or `hark share`; a prefix of 8 or more hex digits will do).", valueName: "file-id"),
              completion: LiveCompletion.files)
    var file: String
    @Option(name: .short, help: ArgumentHelp("Put the files into this folder (created if missing).", valueName: "dir"),
            completion: .directory)
    var output: String = "."
    @Flag(name: .long, help: "Replace files that exist already.") var force = false
    @Option(name: .long, help: ArgumentHelp("Give up when no peer can serve a missing chunk for this long (e.g. 30s).", valueName: "duration"))
    var timeout: String = "60s"
    @Option(name: .long, help: ArgumentHelp(
        "Fetch at most this many bytes per second from all peers together: a number with an optional K, M or G (powers of 1024), e.g. 20M; at least 64K.",
        valueName: "rate"))
    var limitRate: String?
    @Flag(name: .long, help: "Print progress as JSON objects, one per line (NDJSON).") var json = false

    func validate() throws {
        guard Duration.parse(timeout) != nil else { throw ValidationError("--timeout \(timeout) is not a duration like 500ms, 30s, 2m") }
        if let limitRate {
            guard let rate = ByteCount.parse(limitRate) else {
                throw ValidationError("--limit-rate \(limitRate) is not a rate like 500K, 20M or 1G (bytes per second)")
            }
            guard rate >= 65536 else { throw ValidationError("--limit-rate \(limitRate) is below the smallest rate, 64K (one chunk per second)") }
        }
    }

    func run() throws {
        let dir = absolutePath(output)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw fail("-o \(terminalSafe(dir)): cannot create the folder: \(error.localizedDescription)", Exit.cantCreate)
            }
        } else if !isDir.boolValue {
            throw fail("-o \(terminalSafe(dir)): not a folder", Exit.cantCreate)
        }
        let client = try connect(options)
        // Staging folders of earlier, interrupted fetches into this folder (FetchTarget).
        let partials = Set((try? FileManager.default.contentsOfDirectory(atPath: dir + "/.hark-partial")) ?? [])
        let started = try call(client, ControlMethods.fetch, FetchParams(file: file, directory: dir, force: force, waitMs: Duration.parse(timeout),
                                                            limitRate: limitRate.flatMap(ByteCount.parse)))
        if json { try printJSON(EventLine(event: "started", data: started)) }
        let held = started.chunks == 0 ? 0 : min(started.size, started.size / UInt64(started.chunks) * UInt64(started.chunksHeld))
        let bar = !json && isatty(2) == 1 ? ProgressBar(name: started.names.joined(separator: ", "), total: started.size, already: held) : nil
        // Chunks held without an earlier run (all-zero ones) are no resume.
        let resumed = partials.contains(started.fileId)
        if !json, resumed, started.chunksHeld > 0 {
            printError(ProgressBar.resumeLine(already: held, total: started.size))
        }
        if bar != nil { ProgressBar.endLineOnInterrupt() }
        while true {
            let next: (event: String, line: [UInt8])?
            do { next = try client.nextRawEvent() } catch { throw streamError(error, "fetch stream") }
            guard let (event, line) = next else { throw fail("the daemon closed the fetch before it ended", Exit.tempFail) }
            switch event {
            case "progress":
                guard let p = try? ControlCoding.decode(EventLine<FetchProgress>.self, from: line).data else { continue }
                if json { try printJSON(EventLine(event: event, data: p)) }
                bar?.update(done: p.bytesDone, peers: p.peers)
            case "done":
                guard let d = try? ControlCoding.decode(EventLine<FetchDone>.self, from: line).data else { continue }
                bar?.finish(done: d.bytes)
                if json { try printJSON(EventLine(event: event, data: d)) }
                else if isatty(1) == 1 {
                    printOut("fetched \(d.paths.count) file\(d.paths.count == 1 ? "" : "s") (\(formatBytes(d.bytes))) into \(terminalSafe(d.directory))")
                }
                return
            case "failed":
                let e = (try? ControlCoding.decode(EventLine<ControlErrorBody>.self, from: line).data)
                    ?? ControlErrorBody(code: .internal, message: "unreadable failure")
                bar?.clear()
                if json { try printJSON(EventLine(event: event, data: e)) }
                throw fail(e.message, Exit.code(for: e.code))
            default:
                continue
            }
        }
    }
}

/// A one-line progress bar on stderr (only drawn on a terminal): percent, bytes, rate, ETA. The
/// line is cut to the terminal's width (TIOCGWINSZ on stderr, read at every update), so `\r`
/// always returns to its start. Not thread-safe; use from one thread.
final class ProgressBar {
    let name: String
    let total: UInt64
    /// Bytes already verified before this run (a resumed fetch): left out of the rates.
    let already: UInt64
    let start = Date()
    var samples: [(Date, UInt64)] = []

    init(name: String, total: UInt64, already: UInt64 = 0) {
        self.name = terminalSafe(name); self.total = total; self.already = min(already, total)
    }

    /// `resuming at 31 % (19 of 61 MiB already verified)`.
    static func resumeLine(already: UInt64, total: UInt64) -> String {
        let pct = total == 0 ? 100 : Int(Double(already) * 100 / Double(total))
        return "resuming at \(pct) % (\(Self.mib(already)) of \(Self.mib(total)) MiB already verified)"
    }

    static func mib(_ b: UInt64) -> String {
        let m = Double(b) / 1_048_576
        return m >= 10 || m == m.rounded() ? String(format: "%.0f", m.rounded()) : String(format: "%.1f", m)
    }

    /// The terminal's width in columns (stderr), 80 when unknown.
    static func columns() -> Int {
        var ws = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 else { return 80 }
        return Int(ws.ws_col)
    }

    /// On SIGINT, finish the bar's line before exiting 130, so the shell prompt starts on a line
    /// of its own (the partial download stays, and a later fetch resumes it).
    static func endLineOnInterrupt() {
        signal(SIGINT) { _ in
            let nl: [UInt8] = [13, 0x1B, 0x5B, 0x4B, 10]   // \r ESC[K \n: clear the bar, end the line
            _ = nl.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            _exit(130)
        }
    }

    /// The bar's text for `columns` columns (without the leading \r): the name, bar and details
    /// are dropped or shortened, least useful first, until the line fits in `columns - 1`.
    static func line(name: String, fraction: Double, done: UInt64, total: UInt64, rate: Double, eta: String, peers: Int,
                     columns: Int) -> String {
        let pct = String(format: "%3.0f%%", fraction * 100)
        let bytes = "\(formatBytes(done))/\(formatBytes(total))"
        let speed = "\(formatBytes(UInt64(rate)))/s"
        let tail = [pct, bytes, speed, "ETA \(eta)", "(\(peers) peer\(peers == 1 ? "" : "s"))"]
        let room = max(columns - 1, 4)
        func bar(_ w: Int) -> String {
            let filled = Int(fraction * Double(w))
            return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: w - filled) + "]"
        }
        // Try from richest to barest; the first that fits wins.
        for keep in stride(from: tail.count, through: 1, by: -1) {
            let details = tail.prefix(keep).joined(separator: " ")
            for barWidth in [24, 16, 10, 0] {
                for nameWidth in [30, 16, 8, 0] {
                    var parts: [String] = []
                    if nameWidth > 0 { parts.append(String(name.prefix(nameWidth))) }
                    if barWidth > 0 { parts.append(bar(barWidth)) }
                    parts.append(details)
                    let text = parts.joined(separator: " ")
                    if text.count <= room { return text }
                }
            }
        }
        return String(pct.prefix(room))
    }

    func update(done: UInt64, peers: Int) {
        let now = Date()
        samples.append((now, done))
        samples.removeAll { now.timeIntervalSince($0.0) > 3 }
        let rate: Double
        if let first = samples.first, now.timeIntervalSince(first.0) > 0.2 {
            rate = Double(done - min(done, first.1)) / now.timeIntervalSince(first.0)
        } else {
            rate = 0
        }
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let eta = rate > 0 ? Self.duration(Double(total - min(total, done)) / rate) : "--:--"
        let text = Self.line(name: name, fraction: fraction, done: done, total: total, rate: rate, eta: eta, peers: peers,
                             columns: Self.columns())
        printErrorRaw("\r\(text)\u{1B}[K")
    }

    /// The summary line: the bytes moved in this run and their rate (bytes verified by an earlier
    /// run are not counted).
    func finish(done: UInt64) {
        let secs = max(Date().timeIntervalSince(start), 0.001)
        let moved = done - min(done, already)
        let resumed = already > 0 ? " (\(formatBytes(already)) already held)" : ""
        let text = "\(String(name.prefix(30))) \(formatBytes(moved)) in \(Self.duration(secs)) (\(formatBytes(UInt64(Double(moved) / secs)))/s)\(resumed)"
        printErrorRaw("\r\(String(text.prefix(max(Self.columns() - 1, 20))))\u{1B}[K\n")
        signal(SIGINT, SIG_DFL)
    }

    func clear() {
        printErrorRaw("\r\u{1B}[K")
        signal(SIGINT, SIG_DFL)
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%02d:%02d", t / 60, t % 60)
    }
}

func printErrorRaw(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Byte counts on the command line.
enum ByteCount {
    /// Bytes in "1048576", "512K", "20M", "20MiB", "1.5G" (K, M, G: powers of 1024;
    /// case-insensitive; an optional trailing "B", "iB" or "/s"); nil for anything else, for 0,
    /// or above 2^50.
    static func parse(_ text: String) -> Int64? {
        var t = text.uppercased()
        if t.hasSuffix("/S") { t.removeLast(2) }
        if t.hasSuffix("B") { t.removeLast() }
        if t.count >= 2, t.hasSuffix("I"), let k = t.dropLast().last, "KMG".contains(k) { t.removeLast() }
        var scale: Double = 1
        if let last = t.last, let i = ["K", "M", "G"].firstIndex(of: String(last)) {
            scale = pow(1024, Double(i + 1))
            t.removeLast()
        }
        guard let v = Double(t), v.isFinite, v > 0 else { return nil }
        let bytes = (v * scale).rounded()
        guard bytes >= 1, bytes <= Double(1 << 50) else { return nil }
        return Int64(bytes)
    }
}
