import ArgumentParser
import Foundation
import HarkControl
import HarkNode

/// Shell completions asked live from the running daemon (swift-argument-parser's
/// `CompletionKind.custom`: the shell runs `hark ---completion …` and offers what it prints).
/// Each asks with one control call under a 300 ms timeout (1 s for file IDs: `files` waits
/// 400 ms for holders to answer), and offers nothing without a daemon.
/// The home is the one named by `--home` on the line being completed, else the default.
enum LiveCompletion {
    /// Bound on the whole exchange with the daemon, ms.
    static let defaultTimeoutMs = 300

    static func client(_ words: [String], timeoutMs: Int = defaultTimeoutMs) -> ControlClient? {
        var explicit: String?
        for (i, w) in words.enumerated() {
            if w == "--home", i + 1 < words.count { explicit = words[i + 1] }
            if w.hasPrefix("--home=") { explicit = String(w.dropFirst(7)) }
        }
        let home = NodeHome.resolve(explicit: explicit)
        guard let c = try? ControlClient(socketPath: home.socketPath) else { return nil }
        c.setTimeout(ms: timeoutMs)
        return c
    }

    static func matching(_ all: [String], _ prefix: String) -> [String] {
        Array(Set(all.filter { $0.hasPrefix(prefix) && !$0.contains(where: \.isWhitespace) })).sorted()
    }

    /// Group names (and `@peer` for direct conversations).
    static let groups = CompletionKind.custom { words, _, prefix in
        guard let c = client(words), let gs = try? c.call(ControlMethods.groupList, NoParams()) else { return [] }
        return matching(gs.map(\.name), prefix)
    }

    /// Peer aliases and display names, and short fingerprints for names that several keys share.
    static let peers = CompletionKind.custom { words, _, prefix in
        guard let c = client(words), let ps = try? c.call(ControlMethods.peers, NoParams()) else { return [] }
        var names: [String] = []
        for p in ps where !p.blocked {
            if let a = p.alias { names.append(a) }
            names.append(p.displayName)
            names.append(shortFingerprint(p.fingerprint))
        }
        return matching(names, prefix)
    }

    /// File IDs of the offers this node knows (12 hex digits, as `hark files` shows them).
    static let files = CompletionKind.custom { words, _, prefix in
        guard let c = client(words, timeoutMs: 1000), let fs = try? c.call(ControlMethods.files, FilesParams(group: nil)) else { return [] }
        return matching(fs.map { String($0.fileId.prefix(12)) }, prefix)
    }
}
