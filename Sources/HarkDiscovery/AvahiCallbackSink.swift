/// What the Avahi C callbacks hand over to Swift. Everything is copied out of Avahi's
/// memory inside the callback, so values stay valid after it returns.
enum AvahiInput: Sendable {
    // from Swift
    case connect
    case retryConnect(session: UInt64)
    case retryPublish(session: UInt64)
    case retryBrowse(session: UInt64)
    case retryResolve(session: UInt64, key: ResolverKey)
    case updateAdvert(ServiceAdvert)
    // from Avahi's thread
    case clientState(session: UInt64, state: UInt32, error: Int32)
    case groupState(session: UInt64, state: UInt32, error: Int32)
    case browse(session: UInt64, event: BrowseEvent)
    case resolved(session: UInt64, ResolvedService)
    case resolveFailed(session: UInt64, key: ResolverKey, error: Int32)
}

/// One `AvahiServiceBrowserCallback` invocation.
enum BrowseEvent: Sendable {
    case new(ResolverKey)
    case remove(ResolverKey)
    case allForNow
    case cacheExhausted
    case failure(error: Int32)
}

/// Identifies one browse result and the resolver started for it: RFC 6763 §4.1 service
/// instance name parts plus the (interface, protocol) it was seen on.
struct ResolverKey: Sendable, Hashable {
    let interface: Int32
    let proto: Int32
    let name: String
    let type: String
    let domain: String
}

/// One `AVAHI_RESOLVER_FOUND`, copied out.
struct ResolvedService: Sendable, Equatable {
    let key: ResolverKey
    let hostName: String
    let address: ResolvedAddress
    let port: UInt16
    let txt: [[UInt8]]
}

/// The `userdata` of every Avahi object of one session (client, entry group, browser,
/// resolvers). Callbacks run on Avahi's thread with the poll lock held, so they only call
/// ``send(_:)``, which yields into an `AsyncStream` continuation and never blocks.
///
/// Lifetime: retained (`Unmanaged.passRetained`) before `avahi_client_new` and released
/// only after the poll is stopped and the client freed (see ``AvahiSession/close()``).
///
/// Thread-safety: immutable, `Sendable`.
final class AvahiCallbackSink: Sendable {
    /// Which session the callbacks belong to; events of closed sessions are dropped.
    let session: UInt64
    private let continuation: AsyncStream<AvahiInput>.Continuation

    init(session: UInt64, continuation: AsyncStream<AvahiInput>.Continuation) {
        self.session = session
        self.continuation = continuation
    }

    func send(_ input: AvahiInput) { continuation.yield(input) }

    /// Recovers the sink from a C `userdata` pointer without touching its retain count.
    static func from(_ userdata: UnsafeMutableRawPointer?) -> AvahiCallbackSink? {
        guard let userdata else { return nil }
        return Unmanaged<AvahiCallbackSink>.fromOpaque(userdata).takeUnretainedValue()
    }
}
