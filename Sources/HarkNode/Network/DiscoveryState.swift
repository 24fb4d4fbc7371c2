import HarkControl
import HarkDiscovery

/// What discovery found and what is being dialled because of it (NodeDiscovery.swift,
/// NodeProbes.swift). Held by `Node`; isolated to it.
struct DiscoveryState {
    /// Shown by `status`: "starting", "active", "unavailable" (with a reason) or "disabled".
    var status = DiscoveryStatus(state: "starting")
    /// The last unavailability reason logged, so a retry loop logs each reason once.
    var reasonLogged: String?
    /// Addresses being dialled now, to avoid duplicate dials.
    var dialing: Set<String> = []
    /// Discovered services by instance token (hex), with the address to dial.
    var sightings: [String: ServiceSighting] = [:]
    /// The Avahi client, once it started.
    var browser: AvahiDiscovery?
}
