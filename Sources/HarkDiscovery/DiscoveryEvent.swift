/// What ``AvahiDiscovery`` reports on its ``AvahiDiscovery/events`` stream.
public enum DiscoveryEvent: Sendable, Equatable {
    /// Connected to avahi-daemon and our service is published (client `S_RUNNING` and the
    /// entry group `ESTABLISHED`). Emitted once per connection, right after ``published(instanceName:)``.
    case available
    /// Discovery does not work right now: no D-Bus system bus, avahi-daemon not running,
    /// or the daemon went away. `reason` is for humans. Discovery keeps retrying by itself;
    /// sightings reported before this may be stale and are reported again after recovery.
    case unavailable(reason: String)
    /// Our service is registered under `instanceName`, which differs from the advert's name
    /// after a name collision (RFC 6763 §9, `avahi_alternative_service_name`).
    case published(instanceName: String)
    /// A peer service was resolved, or something about it changed (address, port, TXT).
    /// Our own service is reported too; tell it apart by the `tok` TXT entry.
    case found(ServiceSighting)
    /// The service `instanceName` is gone from interface `interfaceIndex` (goodbye packet,
    /// TTL expiry, or daemon loss).
    case lost(instanceName: String, interfaceIndex: Int32)
}
