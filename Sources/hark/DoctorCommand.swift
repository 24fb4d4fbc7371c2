import ArgumentParser
import Foundation
import HarkDoctor

/// `hark doctor`: runs ``Doctor`` (the checks live in HarkDoctor) and prints its report.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Explain why peers are not seen, and how to fix it.",
        discussion: """
            Runs these checks and prints each as ok, warn, fail or skip with a one-line finding \
            and the fix: home (identity present, home 0700, keys 0600); daemon (the control \
            socket answers status); avahi (avahi-daemon reachable over D-Bus); discovery (the \
            daemon's own discovery state); interfaces (up, not loopback, multicast, with an \
            address; warns about those avahi skips); firewall (nft or iptables rules that drop \
            the daemon's TCP port or UDP 5353, when readable); port (the daemon's TCP port \
            answers on this host's addresses); link-local (fe80:: peer addresses without a \
            %scope); peers (known peers without a channel: one TCP connect of at most 2 s to \
            each, at most 32; it fails when no peer has a channel and one is unreachable).

            Sends no mDNS and connects only to this host and to peers the daemon already knows. \
            With --json it prints one JSON object: {"ok", "failed", "warnings", "checks": \
            [{"name", "status", "finding", "fix", "details"}]}.
            """ + "\n\n" + ExitDoc.text([0: "no check failed (warnings allowed)", 69: "a check failed"], daemon: false)
    )

    @OptionGroup var options: HomeOptions
    @Flag(name: .long, help: "Print one JSON object (the report).") var json = false

    func run() throws {
        let report = Doctor(home: options.nodeHome, explicitHome: options.home).run()
        if json {
            try printJSON(report)
        } else {
            for c in report.checks { printText(c) }
            if report.failed == 0 && report.warnings == 0 {
                printOut("all checks passed")
            } else {
                printOut("\(report.failed) failed, \(report.warnings) warning\(report.warnings == 1 ? "" : "s")")
            }
        }
        if report.failed > 0 { throw Exit.unavailable }
    }

    private func printText(_ c: DoctorCheck) {
        let tag = c.status.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
        let name = c.name.padding(toLength: 11, withPad: " ", startingAt: 0)
        printOut("\(tag) \(name) \(terminalSafe(c.finding))")
        for d in c.details { printOut("                  - \(terminalSafe(d))") }
        if let fix = c.fix { printOut("                  fix: \(terminalSafe(fix))") }
    }
}
