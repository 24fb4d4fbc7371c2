internal import CAvahi

/// `AvahiClientCallback`: copy the state (and error code) out, enqueue, return.
/// Runs on Avahi's thread with the poll lock held, or synchronously inside
/// `avahi_client_new` on the caller's thread.
private let clientCallback: AvahiClientCallback = { client, state, userdata in
    guard let sink = AvahiCallbackSink.from(userdata) else { return }
    let error = client.map { avahi_client_errno($0) } ?? 0
    sink.send(.clientState(session: sink.session, state: state.rawValue, error: error))
}

/// One connection to avahi-daemon: an `AvahiThreadedPoll`, the `AvahiClient` on it, and
/// the objects made from that client (entry group, browser, resolvers).
///
/// Thread-safety: not `Sendable`. It lives inside ``DiscoveryEngine``'s mutex and is only
/// used with that mutex held. Every `avahi_*` call on the client or its children goes
/// through ``locked(_:)`` (the poll lock), never from an Avahi callback. The exceptions,
/// as Avahi's docs require, are `avahi_threaded_poll_start/stop/free`, which must not be
/// called with the lock held.
final class AvahiClient {
    /// Distinguishes this connection's callbacks from those of earlier ones.
    let session: UInt64
    private let poll: OpaquePointer
    private let sink: Unmanaged<AvahiCallbackSink>
    private var client: OpaquePointer?
    /// Children; all freed by `avahi_client_free` too.
    var group: AvahiEntryGroup?
    var browser: AvahiServiceBrowser?
    var resolvers: [ResolverKey: AvahiServiceResolver] = [:]

    /// The `userdata` for children's callbacks (unretained: the client holds the +1).
    var userdata: UnsafeMutableRawPointer { sink.toOpaque() }

    /// Creates the poll and the client (`AVAHI_CLIENT_NO_FAIL`) and starts the poll thread.
    /// May block briefly on D-Bus round trips.
    ///
    /// - Throws: ``AvahiError``: `noDaemon` (-26) when no D-Bus system bus is reachable
    ///   (`DBUS_SYSTEM_BUS_ADDRESS`, else `/run/dbus/system_bus_socket`), `noMemory`, or
    ///   what `avahi_client_new`/`avahi_threaded_poll_start` report.
    init(session: UInt64, inputs: AsyncStream<AvahiInput>.Continuation) throws(AvahiError) {
        guard let poll = avahi_threaded_poll_new() else { throw .noMemory }
        self.session = session
        self.poll = poll
        self.sink = Unmanaged.passRetained(AvahiCallbackSink(session: session, continuation: inputs))
        var error: Int32 = 0
        avahi_threaded_poll_lock(poll)
        client = avahi_client_new(avahi_threaded_poll_get(poll), AVAHI_CLIENT_NO_FAIL,
                                  clientCallback, sink.toOpaque(), &error)
        avahi_threaded_poll_unlock(poll)
        guard client != nil else {
            avahi_threaded_poll_free(poll)
            sink.release()
            throw AvahiError(code: error == 0 ? AvahiError.noDaemon.code : error)
        }
        let rc = avahi_threaded_poll_start(poll)
        guard rc >= 0 else {
            close()
            throw AvahiError(code: rc)
        }
    }

    /// The raw client, for children's constructors. Use only inside ``locked(_:)``.
    var raw: OpaquePointer? { client }

    /// Runs `body` with the poll lock held (`avahi_threaded_poll_lock`).
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        avahi_threaded_poll_lock(poll)
        defer { avahi_threaded_poll_unlock(poll) }
        return try body()
    }

    /// The client's last error (`avahi_client_errno`), taken under the lock.
    var lastError: AvahiError {
        locked { AvahiError(code: client.map { avahi_client_errno($0) } ?? 0) }
    }

    /// Stops the poll thread, frees the client (and with it every child), frees the poll,
    /// then releases the callback sink. Idempotent. After it returns no callback of this
    /// session can run.
    func close() {
        guard let c = client else { return }
        avahi_threaded_poll_stop(poll)            // joins Avahi's thread: not under the lock
        locked {
            group?.invalidate(); browser?.invalidate()
            for r in resolvers.values { r.invalidate() }
            avahi_client_free(c)                  // frees group, browser, resolvers
        }
        group = nil; browser = nil; resolvers = [:]
        client = nil
        avahi_threaded_poll_free(poll)
        sink.release()
    }

    deinit { close() }
}
