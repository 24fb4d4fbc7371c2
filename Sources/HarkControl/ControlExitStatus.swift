/// The process exit status (sysexits.h) a CLI command ends with for a failed control call (documented
/// in hark(1) and docs/CONTROL.md); `ControlErrorCode.exitStatus` gives the daemon's own codes.
extension ControlClient.ClientError {
    /// 69 (EX_UNAVAILABLE) for no daemon or one that does not answer, 77 (EX_NOPERM) for a
    /// socket of another user, the daemon's code for its own errors, else 74 (EX_IOERR).
    public var exitStatus: Int32 {
        switch self {
        case let .remote(body): return body.code.exitStatus
        case .daemonNotRunning, .notAnswering: return 69
        case .permissionDenied: return 77
        default: return 74
        }
    }

    /// The message a CLI prints after "hark: " for this failure.
    public var message: String {
        if case let .remote(body) = self { return body.message }
        return description
    }
}
