/// The process exit status (sysexits.h) a CLI command ends with for each failure of a control
/// call (documented in hark(1) and docs/CONTROL.md). The one table both executables use.
extension ControlErrorCode {
    /// 65 (EX_DATAERR), 67 (EX_NOUSER), 64 (EX_USAGE), 74 (EX_IOERR), 70 (EX_SOFTWARE),
    /// 73 (EX_CANTCREAT) or 75 (EX_TEMPFAIL).
    public var exitStatus: Int32 {
        switch self {
        case .invalidArgument, .invalidToken, .alreadyExists: return 65
        case .notFound: return 67
        case .ambiguous: return 64
        case .storage: return 74
        case .badRequest, .unknownMethod, .internal: return 70
        case .badManifest: return 65
        case .targetExists: return 73
        case .unavailable: return 75
        case .ioError: return 74
        }
    }
}

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
