internal import CAvahi

/// An Avahi error code (`AVAHI_ERR_*`, always negative) with `avahi_strerror`'s text.
///
/// Internal: the public API never throws it; failures reach users as
/// ``DiscoveryEvent/unavailable(reason:)`` text built from it.
struct AvahiError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `AVAHI_ERR_*` value.
    let code: Int32

    init(code: Int32) { self.code = code }

    /// `AVAHI_ERR_NO_DAEMON` (-26): returned by `avahi_client_new` when the D-Bus system
    /// bus cannot be reached (with `AVAHI_CLIENT_NO_FAIL`, a bus without avahi-daemon is
    /// not an error: the client waits in `CONNECTING`).
    static let noDaemon = AvahiError(code: Int32(AVAHI_ERR_NO_DAEMON))
    /// `AVAHI_ERR_DISCONNECTED` (-24): the daemon went away; the client must be recreated.
    static let disconnected = AvahiError(code: Int32(AVAHI_ERR_DISCONNECTED))
    /// `AVAHI_ERR_COLLISION` (-8): the service name is taken.
    static let collision = AvahiError(code: Int32(AVAHI_ERR_COLLISION))
    /// `AVAHI_ERR_NO_MEMORY` (-23).
    static let noMemory = AvahiError(code: Int32(AVAHI_ERR_NO_MEMORY))

    /// `avahi_strerror(code)`, e.g. "Daemon not running". Pure; safe on any thread.
    var message: String { String(cString: avahi_strerror(code)) }

    var description: String { "\(message) (\(code))" }
}
