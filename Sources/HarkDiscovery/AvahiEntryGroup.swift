internal import CAvahi

/// `AvahiEntryGroupCallback`: copy state and error out, enqueue, return.
private let groupCallback: AvahiEntryGroupCallback = { group, state, userdata in
    guard let sink = AvahiCallbackSink.from(userdata) else { return }
    let error = group.flatMap { avahi_entry_group_get_client($0) }.map { avahi_client_errno($0) } ?? 0
    sink.send(.groupState(session: sink.session, state: state.rawValue, error: error))
}

/// The entry group that holds our one service (RFC 6763 §4: SRV + TXT + PTR records).
///
/// Thread-safety: not `Sendable`; every method must be called inside
/// ``AvahiClient/locked(_:)``.
final class AvahiEntryGroup {
    private var group: OpaquePointer?

    /// `avahi_entry_group_new`. - Throws: the client's ``AvahiError``.
    init(client: AvahiClient) throws(AvahiError) {
        guard let raw = client.raw,
              let g = avahi_entry_group_new(raw, groupCallback, client.userdata) else {
            throw AvahiError(code: client.raw.map { avahi_client_errno($0) } ?? AvahiError.noMemory.code)
        }
        group = g
    }

    /// Adds the service on every interface and protocol, as `name` (≤ 63 bytes), and
    /// commits. On `AVAHI_ERR_COLLISION` while adding, tries alternative names
    /// (`avahi_alternative_service_name`), at most 16 times.
    ///
    /// - Returns: the name actually used.
    /// - Throws: ``AvahiError`` from add or commit.
    func publish(name: String, type: String, port: UInt16, txt: [String]) throws(AvahiError) -> String {
        guard let g = group else { throw .disconnected }
        avahi_entry_group_reset(g)
        var name = name
        var attempts = 0
        while true {
            let list = makeStringList(txt)
            defer { avahi_string_list_free(list) }
            let rc = avahi_entry_group_add_service_strlst(
                g, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
                name, type, nil, nil, port, list)
            if rc == AvahiError.collision.code, attempts < 16 {
                attempts += 1
                name = alternativeServiceName(name)
                continue
            }
            guard rc >= 0 else { throw AvahiError(code: rc) }
            break
        }
        let rc = avahi_entry_group_commit(g)
        guard rc >= 0 else { throw AvahiError(code: rc) }
        return name
    }

    /// Replaces the TXT record of the published service in place
    /// (`avahi_entry_group_update_service_txt_strlst`). - Throws: ``AvahiError``.
    func updateTXT(name: String, type: String, txt: [String]) throws(AvahiError) {
        guard let g = group else { throw .disconnected }
        let list = makeStringList(txt)
        defer { avahi_string_list_free(list) }
        let rc = avahi_entry_group_update_service_txt_strlst(
            g, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
            name, type, nil, list)
        guard rc >= 0 else { throw AvahiError(code: rc) }
    }

    /// `avahi_entry_group_reset`: withdraws the records (e.g. on a host name collision).
    func reset() { if let g = group { avahi_entry_group_reset(g) } }

    /// `avahi_entry_group_free`. Idempotent.
    func free() {
        if let g = group { avahi_entry_group_free(g) }
        group = nil
    }

    /// Forget the pointer without freeing: `avahi_client_free` frees it.
    func invalidate() { group = nil }
}

/// `avahi_alternative_service_name`: "hark" → "hark #2" → "hark #3" … (RFC 6763 §9 style).
func alternativeServiceName(_ name: String) -> String {
    guard let p = avahi_alternative_service_name(name) else { return name + " #2" }
    defer { avahi_free(p) }
    return ServiceAdvert.truncatedInstanceName(String(cString: p))
}

/// An `AvahiStringList` that goes on the wire as `strings` in order; the caller frees it.
/// `avahi_string_list_add` prepends and Avahi serialises the list back to front (seen
/// with tcpdump), so adding in order yields wire order. Received lists are in wire order.
private func makeStringList(_ strings: [String]) -> UnsafeMutablePointer<AvahiStringList>? {
    var list: UnsafeMutablePointer<AvahiStringList>? = nil
    for s in strings {
        list = avahi_string_list_add(list, s)
    }
    return list
}
