/// One check's outcome, as `hark doctor` prints it and as in its `--json` report.
///
/// Thread-safety: a value type; `Sendable`.
public struct DoctorCheck: Codable, Sendable, Equatable {
    /// `ok`, `warn` (works, with a caveat), `fail` (peers will not be seen) or `skip` (could not run).
    public enum Status: String, Codable, Sendable { case ok, warn, fail, skip }
    /// The check's name: `home`, `daemon`, `avahi`, `discovery`, `interfaces`, `firewall`,
    /// `port`, `link-local` or `peers`.
    public var name: String
    public var status: Status
    /// One line: what was found.
    public var finding: String
    /// One line: what to do about it, when something is to be done.
    public var fix: String?
    /// Supporting lines (one per interface, rule, peer…).
    public var details: [String] = []

    /// Memberwise.
    public init(name: String, status: Status, finding: String, fix: String? = nil, details: [String] = []) {
        self.name = name; self.status = status; self.finding = finding; self.fix = fix; self.details = details
    }
}

/// `hark doctor --json`: every check, in the order run, with the counts.
public struct DoctorReport: Codable, Sendable, Equatable {
    /// No check failed (warnings allowed).
    public var ok: Bool
    public var failed: Int
    public var warnings: Int
    public var checks: [DoctorCheck]

    /// The report of `checks`, counting failures and warnings.
    public init(checks: [DoctorCheck]) {
        failed = checks.filter { $0.status == .fail }.count
        warnings = checks.filter { $0.status == .warn }.count
        ok = failed == 0
        self.checks = checks
    }
}
