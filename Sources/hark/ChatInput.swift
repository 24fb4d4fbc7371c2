import ArgumentParser
import Foundation
import HarkControl
import HarkTerminal
#if canImport(Glibc)
import Glibc
#endif

/// Keys and slash commands of `hark chat`.
extension ChatApp {
    /// One key. Returns false to leave.
    func input(_ key: Key) -> Bool {
        let page = max(1, (screen.map(transcriptHeight) ?? 10) - 1)
        switch key {
        case .control("c"): return false
        case .control("d") where editor.isEmpty: return false
        case .pageUp: transcript.scroll(by: page); return true
        case .pageDown: transcript.scroll(by: -page); return true
        case .control("l"): return true
        default: break
        }
        switch editor.handle(key) {
        case let .submit(text):
            if typingSentAt != nil { sendTyping(false) }
            return submit(text)
        case .edited:
            if !editor.isEmpty, typingSentAt.map({ Date().timeIntervalSince($0) > 3 }) ?? true { sendTyping(true) }
        case .unhandled:
            if key == .tab { complete() }
        }
        return true
    }

    /// Completes the nick before the cursor from the conversation's authors.
    func complete() {
        let text = editor.string
        guard editor.cursor == editor.text.count, let last = text.split(separator: " ", omittingEmptySubsequences: false).last,
              !last.isEmpty else { return }
        let stem = last.hasPrefix("@") ? String(last.dropFirst()) : String(last)
        let names = Set(views.values.map(\.authorName)).filter { $0 != me.displayName && $0.lowercased().hasPrefix(stem.lowercased()) }
        guard names.count == 1, let name = names.first else { return }
        let start = text.dropLast(last.count)
        editor.set(start + (last.hasPrefix("@") ? "@" : "") + name + (start.isEmpty ? ": " : " "))
    }

    func submit(_ raw: String) -> Bool {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return true }
        transcript.scrollToBottom()
        if text.hasPrefix("/") && !text.hasPrefix("//") { return command(text) }
        send(text.hasPrefix("//") ? String(text.dropFirst()) : text, to: groupID)
        return true
    }

    func send(_ text: String, to group: String, replyTo: String? = nil) {
        do {
            let m = try client.call(ControlMethods.send, SendParams(group: group, text: text, replyTo: replyTo))
            transcript.clearMarker()
            if m.group == groupID { add(m, unread: false) }
        } catch {
            report(error, what: "not sent")
            if disconnectedAt != nil, editor.isEmpty { editor.set(text) }
        }
    }

    func command(_ text: String) -> Bool {
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        let arg1 = parts.count > 1 ? parts[1] : nil
        let rest = parts.count > 2 ? parts[2] : nil
        let tail = text.split(separator: " ", maxSplits: 1).dropFirst().first.map(String.init)
        do {
            switch parts[0] {
            case "/quit", "/exit": return false
            case "/help":
                for line in ["/msg @PEER [TEXT]  /join GROUP|TOKEN  /me ACTION", "/share PATH…  /files  /fetch FILE-ID [DIR]",
                             "/who  /away [TEXT]  /back  /ids  /clear", "/reply ID TEXT  /edit ID TEXT  /delete ID  /react ID EMOJI  /quit",
                             "@name mentions a member (Tab completes names)",
                             "PageUp/PageDown scroll; Ctrl-J new line; Up/Down history"] { notice(line) }
            case "/me":
                guard let action = tail else { notice("usage: /me ACTION"); return true }
                send("/me " + action, to: groupID)
            case "/msg":
                guard let peer = arg1, peer.hasPrefix("@") else { notice("usage: /msg @PEER [TEXT]"); return true }
                if let body = rest {
                    let m = try client.call(ControlMethods.send, SendParams(group: peer, text: body))
                    try switchTo(group: m.group)
                } else {
                    guard let m = try client.call(ControlMethods.log, LogParams(group: peer, limit: 1)).first else {
                        notice("no conversation with \(TerminalText.neutralised(peer)) yet: /msg \(TerminalText.neutralised(peer)) TEXT starts one")
                        return true
                    }
                    try switchTo(group: m.group)
                }
            case "/join":
                guard let ref = arg1 else { notice("usage: /join GROUP or /join TOKEN"); return true }
                if ref.hasPrefix("hark:") || ref.count > 80 {
                    _ = try client.call(ControlMethods.groupJoin, GroupJoinParams(token: ref))
                    notice("— invite accepted; the group appears once a member is reached —")
                } else {
                    try switchTo(ref: ref)
                }
            case "/share":
                guard let paths = tail else { notice("usage: /share PATH…"); return true }
                let absolute = paths.split(separator: " ").map { p -> String in
                    let s = NSString(string: String(p)).expandingTildeInPath
                    return s.hasPrefix("/") ? s : FileManager.default.currentDirectoryPath + "/" + s
                }
                let r = try client.call(ControlMethods.share, ShareParams(paths: absolute, group: groupID, text: nil))
                notice("— shared \(r.names.map { TerminalText.neutralised($0) }.joined(separator: ", ")) (\(formatBytes(r.size))), file \(r.fileId.prefix(12)) —")
                for s in r.skipped { notice("  skipped \(TerminalText.neutralised(s.path)): \(TerminalText.neutralised(s.reason))") }
            case "/files":
                let offers = try client.call(ControlMethods.files, FilesParams(group: groupID))
                if offers.isEmpty { notice("no files offered here") }
                for f in offers.suffix(20) {
                    notice("\(f.fileId.prefix(12))  \(f.names.map { TerminalText.neutralised($0) }.joined(separator: ", "))  \(formatBytes(f.size))  from \(TerminalText.neutralised(f.senderName))  \(f.state)")
                }
            case "/fetch":
                guard let file = arg1 else { notice("usage: /fetch FILE-ID [DIR]"); return true }
                fetch(file, into: rest ?? FileManager.default.currentDirectoryPath)
            case "/ids":
                showIDs.toggle()
                for id in views.keys { refresh(id) }
            case "/clear":
                transcript = ChatTranscript()
                views = [:]
                historyExhausted = false
            case "/who":
                let peers = try client.call(ControlMethods.peers, NoParams())
                for member in members {
                    if member == me.peerId { notice("  you"); continue }
                    if let p = peers.first(where: { $0.peerId == member }) {
                        notice("  \(p.warning != nil ? "⚠ " : "")\(TerminalText.neutralised(p.displayName)) (\(p.fingerprint.prefix(11)))\(p.verified ? " ✔" : "")  \(p.presence)\(p.statusText.map { " — \(TerminalText.neutralised($0))" } ?? "")")
                    } else {
                        notice("  \(member.prefix(14))…  never seen")
                    }
                }
            case "/away":
                _ = try client.call(ControlMethods.presenceSet, PresenceSetParams(state: "away", statusText: tail))
                notice("— you are away —")
            case "/back":
                _ = try client.call(ControlMethods.presenceSet, PresenceSetParams(state: "online", statusText: ""))
                notice("— you are online —")
            case "/reply":
                guard let id = arg1, let t = rest else { notice("usage: /reply ID TEXT (/ids shows IDs)"); return true }
                send(t, to: groupID, replyTo: id)
            case "/edit":
                guard let id = arg1, let t = rest else { notice("usage: /edit ID TEXT (/ids shows IDs)"); return true }
                let m = try client.call(ControlMethods.edit, EditParams(group: groupID, message: id, text: t))
                if views[m.id] != nil { views[m.id] = m; refresh(m.id) }
            case "/delete":
                guard let id = arg1 else { notice("usage: /delete ID (/ids shows IDs)"); return true }
                _ = try client.call(ControlMethods.delete, DeleteParams(group: groupID, message: id))
                if let full = views.keys.first(where: { $0.hasPrefix(id.lowercased()) }) { views[full] = nil; transcript.remove(full) }
            case "/react":
                guard let id = arg1, let emoji = rest else { notice("usage: /react ID EMOJI (/ids shows IDs)"); return true }
                let m = try client.call(ControlMethods.react, ReactParams(group: groupID, message: id, emoji: emoji, remove: false))
                if views[m.id] != nil { views[m.id] = m; refresh(m.id) }
            default:
                notice("unknown command \(TerminalText.neutralised(parts[0])); /help lists them (// sends a line starting with /)")
            }
        } catch let code as ExitCode {
            notice("! \(parts[0]) failed (\(code.rawValue))")
        } catch {
            report(error, what: String(parts[0].dropFirst()))
        }
        return true
    }

    /// Opens the conversation `ref` (name, ID prefix or @PEER) instead of the current one.
    func switchTo(ref: String) throws {
        let groups = try client.call(ControlMethods.groupList, NoParams())
        for g in groups { groupNames[g.id] = g.name }
        guard let g = groups.first(where: { $0.name == ref || $0.id == ref.lowercased() })
                ?? groups.first(where: { ref.count >= 4 && $0.id.hasPrefix(ref.lowercased()) }) else {
            notice("no group \(TerminalText.neutralised(ref)); /join TOKEN redeems an invite")
            return
        }
        try switchTo(g)
    }

    func switchTo(group id: String) throws {
        let groups = try client.call(ControlMethods.groupList, NoParams())
        for g in groups { groupNames[g.id] = g.name }
        guard let g = groups.first(where: { $0.id == id }) else { return }
        try switchTo(g)
    }

    /// Starts `hark fetch` for `file` as a child process (its progress is not drawn here; the
    /// result is reported when it ends).
    func fetch(_ file: String, into directory: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var args = ["fetch", file, "-o", NSString(string: directory).expandingTildeInPath]
        if let home = options.home { args += ["--home", home] }
        p.arguments = args
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do {
            try p.run()
            fetches.append((p, file))
            notice("— fetching \(TerminalText.neutralised(file)) into \(TerminalText.neutralised(directory)) —")
        } catch {
            notice("! fetch: \(error)")
        }
    }

    func reapFetches() {
        for (i, f) in fetches.enumerated().reversed() where !f.process.isRunning {
            let code = f.process.terminationStatus
            notice(code == 0 ? "— fetched \(TerminalText.neutralised(f.file)) —"
                             : "! fetch \(TerminalText.neutralised(f.file)) failed (exit \(code); `hark fetch` says why)")
            fetches.remove(at: i)
        }
    }
}
