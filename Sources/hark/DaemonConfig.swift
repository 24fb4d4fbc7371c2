import Foundation
import TOMLKit

/// The daemon's options from `$XDG_CONFIG_HOME/hark/config.toml` (else `~/.config/hark/config.toml`,
/// or `--config FILE`). Flags given on the command line win over the file. Value type.
///
/// ```toml
/// port = 7411                  # TCP port; 0: any free port (default: the remembered port, else 7411)
/// listen = "::"                # address to listen on
/// peers = ["10.0.0.5:7411"]    # peers to dial and keep dialling
/// discovery = true             # use avahi-daemon
/// auto_fetch_max = 0           # fetch offers of at most this many bytes by themselves (0: never)
/// auto_fetch_dir = "/srv/in"   # where auto-fetched files go
/// log_level = "info"           # trace, debug, info, notice, warning, error
/// log_format = "auto"          # auto, text, journal, json
/// passphrase_file = "/path"    # for keys encrypted with init --passphrase
/// ```
struct DaemonConfig: Equatable {
    var port: Int?
    var listen: String?
    var peers: [String]?
    var discovery: Bool?
    var autoFetchMax: UInt64?
    var autoFetchDir: String?
    var logLevel: String?
    var logFormat: String?
    var passphraseFile: String?

    static let keys = ["port", "listen", "peers", "discovery", "auto_fetch_max", "auto_fetch_dir", "log_level", "log_format",
                       "passphrase_file"]

    /// A config file that cannot be used: which file, and why (exit 78, EX_CONFIG).
    struct Invalid: Error, CustomStringConvertible {
        var path: String
        var why: String
        var description: String { "\(path): \(why)" }
    }

    /// The default location: `$XDG_CONFIG_HOME/hark/config.toml`, else `$HOME/.config/hark/config.toml`.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/hark/config.toml" }
        return (environment["HOME"] ?? "/root") + "/.config/hark/config.toml"
    }

    /// Reads `path`. A missing file at the default location is an empty config; a missing file
    /// named with `--config` is an error.
    /// - Throws: `Invalid` for an unreadable file, bad TOML, an unknown key or a value of the
    ///   wrong type or range.
    static func load(path: String, required: Bool) throws(Invalid) -> DaemonConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            if !required && access(path, F_OK) != 0 { return DaemonConfig() }
            throw Invalid(path: path, why: "cannot read it: \(String(cString: strerror(errno)))")
        }
        guard data.count <= 1 << 20 else { throw Invalid(path: path, why: "larger than 1 MiB") }
        guard let text = String(data: data, encoding: .utf8) else { throw Invalid(path: path, why: "not UTF-8") }
        return try parse(text, path: path)
    }

    /// Parses TOML text. - Throws: `Invalid` (see `load`).
    static func parse(_ text: String, path: String) throws(Invalid) -> DaemonConfig {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw Invalid(path: path, why: "line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        } catch {
            throw Invalid(path: path, why: "\(error)")
        }
        for key in table.keys where !keys.contains(key) {
            throw Invalid(path: path, why: "unknown key \"\(key)\" (known: \(keys.joined(separator: ", ")))")
        }
        func bad(_ key: String, _ want: String) -> Invalid { Invalid(path: path, why: "\(key) must be \(want)") }
        var c = DaemonConfig()
        if let v = table["port"] {
            guard let p = v.int, (0...65535).contains(p) else { throw bad("port", "an integer from 0 to 65535") }
            c.port = p
        }
        if let v = table["listen"] { guard let s = v.string else { throw bad("listen", "a string") }; c.listen = s }
        if let v = table["peers"] {
            guard let a = v.array else { throw bad("peers", "an array of \"HOST:PORT\" strings") }
            var out: [String] = []
            for e in a { guard let s = e.string else { throw bad("peers", "an array of \"HOST:PORT\" strings") }; out.append(s) }
            c.peers = out
        }
        if let v = table["discovery"] { guard let b = v.bool else { throw bad("discovery", "true or false") }; c.discovery = b }
        if let v = table["auto_fetch_max"] {
            guard let n = v.int, n >= 0 else { throw bad("auto_fetch_max", "a number of bytes, 0 or more") }
            c.autoFetchMax = UInt64(n)
        }
        if let v = table["auto_fetch_dir"] {
            guard let s = v.string, s.hasPrefix("/") else { throw bad("auto_fetch_dir", "an absolute path") }
            c.autoFetchDir = s
        }
        if let v = table["log_level"] { guard let s = v.string else { throw bad("log_level", "a string") }; c.logLevel = s }
        if let v = table["log_format"] {
            guard let s = v.string, LogFormat(rawValue: s) != nil else { throw bad("log_format", "one of auto, text, journal, json") }
            c.logFormat = s
        }
        if let v = table["passphrase_file"] {
            guard let s = v.string, s.hasPrefix("/") else { throw bad("passphrase_file", "an absolute path") }
            c.passphraseFile = s
        }
        return c
    }
}
