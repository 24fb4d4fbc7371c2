internal import CAvahi

/// `AvahiServiceBrowserCallback`: copy the item out, enqueue, return.
private let browserCallback: AvahiServiceBrowserCallback = {
    _, interface, proto, event, name, type, domain, _, userdata in
    guard let sink = AvahiCallbackSink.from(userdata) else { return }
    func key() -> ResolverKey? {
        guard let name, let type, let domain else { return nil }
        return ResolverKey(interface: interface, proto: proto, name: String(cString: name),
                           type: String(cString: type), domain: String(cString: domain))
    }
    let e: BrowseEvent
    switch event {
    case AVAHI_BROWSER_NEW: guard let k = key() else { return }; e = .new(k)
    case AVAHI_BROWSER_REMOVE: guard let k = key() else { return }; e = .remove(k)
    case AVAHI_BROWSER_ALL_FOR_NOW: e = .allForNow
    case AVAHI_BROWSER_CACHE_EXHAUSTED: e = .cacheExhausted
    default: e = .failure(error: AvahiError.disconnected.code)
    }
    sink.send(.browse(session: sink.session, event: e))
}

/// Browses one service type on all interfaces and protocols (RFC 6763 §4, PTR queries).
///
/// Thread-safety: not `Sendable`; every method must be called inside
/// ``AvahiClient/locked(_:)``.
final class AvahiServiceBrowser {
    private var browser: OpaquePointer?

    /// `avahi_service_browser_new(AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, type, default domain)`.
    /// - Throws: the client's ``AvahiError``.
    init(client: AvahiClient, type: String) throws(AvahiError) {
        guard let raw = client.raw,
              let b = avahi_service_browser_new(raw, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC),
                                                type, nil, AvahiLookupFlags(0), browserCallback, client.userdata) else {
            throw AvahiError(code: client.raw.map { avahi_client_errno($0) } ?? AvahiError.noMemory.code)
        }
        browser = b
    }

    /// `avahi_service_browser_free`. Idempotent.
    func free() {
        if let b = browser { avahi_service_browser_free(b) }
        browser = nil
    }

    /// Forget the pointer without freeing: `avahi_client_free` frees it.
    func invalidate() { browser = nil }
}
