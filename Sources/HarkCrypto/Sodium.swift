internal import CSodium

/// One-time libsodium initialisation.
///
/// Every public entry point of HarkCrypto calls `Sodium.ready()` first. `sodium_init` is
/// thread-safe and idempotent (libsodium docs, "Usage"); a failure there means the process
/// cannot get randomness, which no caller can recover from, so it traps.
enum Sodium {
    private static let initialised: Bool = {
        precondition(sodium_init() >= 0, "libsodium: sodium_init failed (no entropy source?)")
        return true
    }()

    @inline(__always) static func ready() { _ = initialised }

    /// The libsodium version string, e.g. "1.0.18".
    static var version: String { ready(); return String(cString: sodium_version_string()) }
}

/// Version of the linked libsodium, for `hark status` and bug reports.
public var sodiumVersion: String { Sodium.version }
