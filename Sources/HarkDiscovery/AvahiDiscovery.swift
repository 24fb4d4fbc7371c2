import Logging

/// Publishes this node's service and browses for peers over mDNS/DNS-SD (RFC 6762/6763)
/// through avahi-daemon (libavahi-client over the D-Bus system bus).
///
/// Usage: create, take ``events`` (single consumer), ``start()``, later ``stop()``.
/// Discovery is optional at run time: without a D-Bus system bus or avahi-daemon it
/// reports ``DiscoveryEvent/unavailable(reason:)`` and retries every `retryIntervalMs`
/// in the background; when avahi-daemon restarts it re-publishes and re-browses by itself.
///
/// Environment: libavahi-client finds the system bus through `DBUS_SYSTEM_BUS_ADDRESS`
/// (default `unix:path=/run/dbus/system_bus_socket`).
///
/// Loopback: avahi ≥ 0.8 uses `lo` too, so two instances on one host see each other
/// (IPv4 only on `lo`). Our own service shows up in the browse; filter it by `tok`.
///
/// Threading: Avahi runs its own thread (`AvahiThreadedPoll`); its callbacks only copy data
/// and enqueue it. One Swift task drains that queue and makes every `avahi_*` call under
/// the poll lock. All methods are thread-safe and non-blocking except ``stop()``, which
/// waits for Avahi's thread to end (milliseconds).
public final class AvahiDiscovery: Sendable {
    /// The DNS-SD service type hark uses (RFC 6763 §7).
    public static let serviceType = "_hark._tcp"

    private let engine: DiscoveryEngine
    private let stream: AsyncStream<DiscoveryEvent>

    /// - Parameters:
    ///   - advert: what to publish; the instance name is cut to 63 bytes.
    ///   - logger: receives debug/info/warning lines (label it yourself).
    ///   - retryIntervalMs: milliseconds between reconnect attempts when D-Bus or the
    ///     daemon is missing, and before re-publishing/re-browsing after a failure.
    public init(advert: ServiceAdvert, logger: Logger, retryIntervalMs: Int = 2000) {
        let (stream, output) = AsyncStream<DiscoveryEvent>.makeStream(bufferingPolicy: .unbounded)
        self.stream = stream
        engine = DiscoveryEngine(advert: advert, logger: logger, retryIntervalMs: max(10, retryIntervalMs),
                                 output: output)
    }

    /// The event stream. Single consumer; it ends after ``stop()``.
    public var events: AsyncStream<DiscoveryEvent> { stream }

    /// Starts connecting, publishing and browsing in the background. Returns at once and
    /// never throws: failures become ``DiscoveryEvent/unavailable(reason:)`` and retries.
    /// A second call does nothing; after ``stop()`` it does nothing.
    public func start() { engine.start() }

    /// Withdraws the service, frees every Avahi object, stops Avahi's thread and finishes
    /// ``events``. Idempotent. Blocks until Avahi's thread has ended.
    public func stop() { engine.stop() }

    /// Changes what is published. A TXT-only change is applied in place
    /// (`avahi_entry_group_update_service_txt`); a new name or port re-registers the
    /// service. Applied asynchronously, in call order.
    public func updateAdvert(_ advert: ServiceAdvert) { engine.updateAdvert(advert) }

    deinit { engine.stop() }
}
