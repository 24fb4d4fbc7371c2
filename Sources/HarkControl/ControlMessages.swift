/// The local control protocol between `hark` subcommands and `hark daemon`
/// (docs/CONTROL.md). One JSON object per line (NDJSON) over a Unix stream socket.
///
/// A request is `{"id": N, "method": "...", "params": {...}}`. The daemon answers each
/// request with exactly one response line carrying the same `id`: either `{"id": N, "result": ...}`
/// or `{"id": N, "error": {"code": "...", "message": "..."}}`. A streaming method
/// (`log.follow`) then sends event lines `{"event": "message", "data": {...}}` until either
/// side closes. JSON keys are snake_case.

/// The envelope fields every request has; used to dispatch before decoding `params`.
public struct RequestHead: Codable, Sendable {
    public var id: Int
    public var method: String
    public init(id: Int, method: String) { self.id = id; self.method = method }
}

/// A request with typed parameters.
public struct Request<Params: Codable & Sendable>: Codable, Sendable {
    public var id: Int
    public var method: String
    public var params: Params
    public init(id: Int, method: String, params: Params) { self.id = id; self.method = method; self.params = params }
}

/// Only the `params` of a request, decoded after dispatch.
public struct RequestParams<Params: Codable & Sendable>: Codable, Sendable {
    public var params: Params
}

/// Parameters of methods that take none.
public struct NoParams: Codable, Sendable, Equatable { public init() {} }

/// The envelope fields of every line the daemon sends.
public struct ResponseHead: Codable, Sendable {
    public var id: Int?
    public var error: ControlErrorBody?
    public var event: String?
}

/// A successful response.
public struct Response<Result: Codable & Sendable>: Codable, Sendable {
    public var id: Int
    public var result: Result
    public init(id: Int, result: Result) { self.id = id; self.result = result }
}

/// An error response.
public struct ErrorResponse: Codable, Sendable {
    public var id: Int?
    public var error: ControlErrorBody
    public init(id: Int?, error: ControlErrorBody) { self.id = id; self.error = error }
}

/// A streamed event line.
public struct EventLine<Data: Codable & Sendable>: Codable, Sendable {
    public var event: String
    public var data: Data
    public init(event: String, data: Data) { self.event = event; self.data = data }
}

/// The `error` object: a stable machine-readable code and a sentence for people.
public struct ControlErrorBody: Codable, Sendable, Error, Equatable, CustomStringConvertible {
    public var code: ControlErrorCode
    public var message: String
    public init(code: ControlErrorCode, message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

/// Error codes of the control protocol (docs/CONTROL.md §Errors). Each maps to one exit code
/// of the `hark` command (sysexits.h).
public enum ControlErrorCode: String, Codable, Sendable {
    /// The request line was not valid JSON or lacked fields. Exit 70.
    case badRequest = "bad_request"
    /// No such method. Exit 70.
    case unknownMethod = "unknown_method"
    /// A parameter was wrong (empty text, text too long, name too long…). Exit 65 (EX_DATAERR).
    case invalidArgument = "invalid_argument"
    /// No group or peer matches the name or ID given. Exit 67 (EX_NOUSER).
    case notFound = "not_found"
    /// A group name matches several groups; use the ID. Exit 64 (EX_USAGE).
    case ambiguous = "ambiguous"
    /// The thing to create exists already. Exit 65.
    case alreadyExists = "already_exists"
    /// An invite token did not decode or verify. Exit 65 (EX_DATAERR).
    case invalidToken = "invalid_token"
    /// Storage failed. Exit 74 (EX_IOERR).
    case storage = "storage"
    /// Anything else inside the daemon. Exit 70 (EX_SOFTWARE).
    case `internal` = "internal"
    /// A file manifest is corrupt or unsafe (bad names, wrong ID), or the offer is stale (the
    /// sender's file changed). Exit 65 (EX_DATAERR).
    case badManifest = "bad_manifest"
    /// A fetch would overwrite an existing file (no --force), or a symbolic link or non-folder
    /// is in the way. Exit 73 (EX_CANTCREAT).
    case targetExists = "target_exists"
    /// Nobody online can serve what is needed (yet), or it is busy; try again later (a fetch
    /// resumes). Exit 75 (EX_TEMPFAIL).
    case unavailable = "unavailable"
    /// A local file operation failed. Exit 74 (EX_IOERR).
    case ioError = "io_error"

    /// The exit status of the `hark` command that got this error (sysexits.h; the table in
    /// docs/CONTROL.md §Errors).
    public var exitStatus: Int32 {
        switch self {
        case .invalidArgument, .invalidToken, .alreadyExists, .badManifest: return 65   // EX_DATAERR
        case .notFound: return 67                                                        // EX_NOUSER
        case .ambiguous: return 64                                                       // EX_USAGE
        case .storage, .ioError: return 74                                               // EX_IOERR
        case .badRequest, .unknownMethod, .internal: return 70                           // EX_SOFTWARE
        case .targetExists: return 73                                                    // EX_CANTCREAT
        case .unavailable: return 75                                                     // EX_TEMPFAIL
        }
    }
}
