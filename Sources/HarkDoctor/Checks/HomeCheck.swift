import Foundation
import HarkNode

#if canImport(Glibc)
import Glibc
#endif


/// The `home` check: an identity is present and loads, the home is mode 0700 and owned by
/// the user running hark, the keys are 0600.
enum HomeCheck {
    /// The check, and whether an identity is present (the daemon check needs one). Reads the
    /// home's files; sends nothing.
    static func run(home: NodeHome, homeFlag: String) -> (DoctorCheck, Bool) {
        var st = stat()
        guard stat(home.path, &st) == 0 else {
            return (DoctorCheck(name: "home", status: .fail, finding: "no hark home at \(home.path)",
                                fix: "create an identity: hark init --name NAME\(homeFlag)"), false)
        }
        do { try home.requireInitialized() } catch {
            if case .notAccessible = error {
                return (DoctorCheck(name: "home", status: .fail, finding: error.description,
                                    fix: "run hark as the user who owns \(shellQuote(home.path)), or give your own --home"), false)
            }
            return (DoctorCheck(name: "home", status: .fail, finding: "no hark identity in \(home.path)",
                                fix: "create one: hark init --name NAME\(homeFlag)"), false)
        }
        let identity: NodeIdentity
        do { identity = try home.load() } catch {
            let fix: String
            switch error {
            case let .insecurePermissions(path, _): fix = "chmod 600 \(shellQuote(path))"
            case .corrupt: fix = "restore the home from a backup, or move it away and run hark init (a new identity)"
            case .notInitialized: fix = "hark init --name NAME\(homeFlag)"
            default: fix = "check the files in \(home.path) (owner, modes, disk)"
            }
            return (DoctorCheck(name: "home", status: .fail, finding: error.description, fix: fix), true)
        }
        let who = "identity \(identity.peerID.fingerprint) (\(identity.displayName)) in \(home.path)"
        let mode = st.st_mode & 0o777
        if mode & 0o077 != 0 {
            return (DoctorCheck(name: "home", status: .warn,
                                finding: "\(who), but the home is mode \(String(mode, radix: 8)): others can see its files",
                                fix: "chmod 700 \(shellQuote(home.path))"), true)
        }
        if st.st_uid != geteuid() {
            return (DoctorCheck(name: "home", status: .warn,
                                finding: "\(who), owned by uid \(st.st_uid), not by you (uid \(geteuid()))",
                                fix: "run hark as the home's owner, or chown -R \(geteuid()) \(shellQuote(home.path))"), true)
        }
        return (DoctorCheck(name: "home", status: .ok, finding: "\(who); home 0700, keys 0600"), true)
    }
}
