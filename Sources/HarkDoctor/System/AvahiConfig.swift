import Foundation

/// The parts of avahi-daemon.conf that decide which interfaces avahi uses.
struct AvahiConfig {
    static let path = "/etc/avahi/avahi-daemon.conf"
    var allow: [String]?
    var deny: [String] = []
    var allowPointToPoint = false

    /// Reads `path`; an unreadable or absent file gives avahi's defaults (all interfaces).
    static func load(path: String = AvahiConfig.path) -> AvahiConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return AvahiConfig() }
        return parse(text)
    }

    /// The `[server]` keys `allow-interfaces`, `deny-interfaces` and `allow-point-to-point` of
    /// an avahi-daemon.conf text (avahi-daemon.conf(5)); other sections and keys are ignored.
    static func parse(_ text: String) -> AvahiConfig {
        var c = AvahiConfig()
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") { section = line.lowercased(); continue }
            guard section == "[server]", let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let list = line[line.index(after: eq)...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            switch key {
            case "allow-interfaces": c.allow = list
            case "deny-interfaces": c.deny = list
            case "allow-point-to-point": c.allowPointToPoint = list.first?.lowercased() == "yes"
            default: break
            }
        }
        return c
    }

    /// Why avahi would not use `name`, or nil.
    func excludes(_ name: String) -> String? {
        if deny.contains(name) { return "deny-interfaces names it" }
        if let allow, !allow.isEmpty, !allow.contains(name) { return "allow-interfaces (\(allow.joined(separator: ","))) leaves it out" }
        return nil
    }
}
