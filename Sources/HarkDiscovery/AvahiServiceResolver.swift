internal import CAvahi

/// `AvahiServiceResolverCallback`: copy host name, address, port and TXT out, enqueue,
/// return. Nothing here keeps a pointer into Avahi's memory.
private let resolverCallback: AvahiServiceResolverCallback = {
    _, interface, proto, event, name, type, domain, hostName, address, port, txt, _, userdata in
    guard let sink = AvahiCallbackSink.from(userdata), let name, let type, let domain else { return }
    let key = ResolverKey(interface: interface, proto: proto, name: String(cString: name),
                          type: String(cString: type), domain: String(cString: domain))
    guard event == AVAHI_RESOLVER_FOUND, let address else {
        sink.send(.resolveFailed(session: sink.session, key: key, error: AvahiError.disconnected.code))
        return
    }
    let resolved = ResolvedService(
        key: key,
        hostName: hostName.map { String(cString: $0) } ?? "",
        address: copyAddress(address, interface: interface),
        port: port,
        txt: copyStringList(txt))
    sink.send(.resolved(session: sink.session, resolved))
}

/// Numeric text of `a` (`avahi_address_snprint`), with the interface as scope id for IPv6
/// link-local (fe80::/10) addresses.
private func copyAddress(_ a: UnsafePointer<AvahiAddress>, interface: Int32) -> ResolvedAddress {
    var buf = [CChar](repeating: 0, count: Int(AVAHI_ADDRESS_STR_MAX))
    _ = avahi_address_snprint(&buf, buf.count, a)
    let ip = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let isIPv6 = a.pointee.proto == AvahiProtocol(AVAHI_PROTO_INET6)
    var linkLocal = false
    if isIPv6 {
        let b = a.pointee.data.ipv6.address
        linkLocal = b.0 == 0xfe && (b.1 & 0xc0) == 0x80
    }
    return ResolvedAddress(ip: ip, isIPv6: isIPv6, scopeID: linkLocal ? UInt32(bitPattern: interface) : 0,
                           interfaceIndex: interface)
}

/// The raw character strings of an `AvahiStringList`, in list order.
private func copyStringList(_ list: UnsafeMutablePointer<AvahiStringList>?) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var node = list
    var guardCount = 0
    while let n = node, guardCount < 1024 {          // a TXT record holds < 64 KiB: bounded
        let size = avahi_string_list_get_size(n)
        if let text = avahi_string_list_get_text(n) {
            out.append(Array(UnsafeBufferPointer(start: text, count: size)))
        }
        node = avahi_string_list_get_next(n)
        guardCount += 1
    }
    return out
}

/// Resolves one browse result (SRV, TXT, A/AAAA) and stays open: Avahi calls back again
/// whenever the service's data changes (see `avahi_service_resolver_new` in lookup.h).
/// Freed when the browse result goes away or resolution fails.
///
/// Thread-safety: not `Sendable`; every method must be called inside
/// ``AvahiClient/locked(_:)``.
final class AvahiServiceResolver {
    private var resolver: OpaquePointer?

    /// `avahi_service_resolver_new` for `key`, any address family.
    /// - Throws: the client's ``AvahiError``.
    init(client: AvahiClient, key: ResolverKey) throws(AvahiError) {
        guard let raw = client.raw,
              let r = avahi_service_resolver_new(raw, key.interface, key.proto, key.name, key.type, key.domain,
                                                 AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiLookupFlags(0),
                                                 resolverCallback, client.userdata) else {
            throw AvahiError(code: client.raw.map { avahi_client_errno($0) } ?? AvahiError.noMemory.code)
        }
        resolver = r
    }

    /// `avahi_service_resolver_free`. Idempotent.
    func free() {
        if let r = resolver { avahi_service_resolver_free(r) }
        resolver = nil
    }

    /// Forget the pointer without freeing: `avahi_client_free` frees it.
    func invalidate() { resolver = nil }
}
