import ArgumentParser
import HarkControl
import HarkNode

/// Exit codes, from sysexits.h (documented in hark(1) and docs/CONTROL.md).
enum Exit {
    static let usage = ExitCode(64)        // EX_USAGE
    static let dataError = ExitCode(65)    // EX_DATAERR
    static let noInput = ExitCode(66)      // EX_NOINPUT: standard input is closed; no store to read yet
    static let noUser = ExitCode(67)       // EX_NOUSER: unknown group or peer
    static let unavailable = ExitCode(69)  // EX_UNAVAILABLE: no daemon; hark doctor: a check failed
    static let software = ExitCode(70)     // EX_SOFTWARE
    static let osError = ExitCode(71)      // EX_OSERR: the daemon cannot listen (port in use…)
    static let cantCreate = ExitCode(73)   // EX_CANTCREAT
    static let ioError = ExitCode(74)      // EX_IOERR
    static let tempFail = ExitCode(75)     // EX_TEMPFAIL
    static let protocolError = ExitCode(76) // EX_PROTOCOL: an invite accepted, then lost to another admin's use of it
    static let noPermission = ExitCode(77) // EX_NOPERM
    static let config = ExitCode(78)       // EX_CONFIG

    static func code(for error: ControlErrorCode) -> ExitCode { ExitCode(error.exitStatus) }

    static func code(for error: HomeError) -> ExitCode {
        switch error {
        case .alreadyInitialized: return cantCreate
        case .notInitialized: return config
        case .notAccessible: return noPermission
        case .insecurePermissions: return noPermission
        case .corrupt: return dataError
        case .invalidDisplayName: return usage
        case .io: return ioError
        case .locked, .wrongPassphrase: return noPermission
        }
    }
}

/// Prints `hark: message` to stderr and exits with `code`.
func fail(_ message: String, _ code: ExitCode) -> ExitCode {
    printError("hark: \(message)")
    return code
}

/// The "Exit status:" paragraph of a command's discussion: every code the command uses, in
/// order. `make man` (scripts/man-tidy.sh) moves it into the page's EXIT STATUS section, and
/// scripts/check-docs-current.sh checks it there.
enum ExitDoc {
    /// Codes of every command that talks to the daemon over the control socket.
    static let client: [Int32: String] = [
        0: "success",
        64: "usage error: a bad option or argument, or a name that matches several keys",
        69: "no daemon runs for the home (start one with hark daemon)",
        77: "permission denied: the home or its daemon belongs to another user, or a key file is readable by others",
        78: "the home has no identity (run hark init)",
    ]

    /// `Exit status: 0 success; 64 …; …` from `client` (when `daemon`) or `[0, 64]`, with
    /// `codes` added or replacing.
    /// Codes of the commands that read the store directly when no daemon runs.
    static let reading: [Int32: String] = [
        66: "no store to read yet (no daemon ever ran on this home)",
        69: "no daemon runs and the store needs one to upgrade it",
    ]

    static func text(_ codes: [Int32: String] = [:], daemon: Bool = true, reading: Bool = false) -> String {
        var all: [Int32: String] = daemon ? client : [0: "success", 64: "usage error: a bad option or argument"]
        if reading { all.merge(Self.reading) { _, new in new } }
        all.merge(codes) { _, new in new }
        return "Exit status: " + all.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ") + "."
    }
}
