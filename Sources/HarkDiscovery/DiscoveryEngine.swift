internal import CAvahi
import Logging
import Synchronization

/// The state machine behind ``AvahiDiscovery``.
///
/// Inputs (Avahi callbacks, timers, API calls) arrive as ``AvahiInput`` on one stream and
/// are handled one at a time by a single task, with ``state`` locked; `avahi_*` calls
/// happen inside ``AvahiClient/locked(_:)``. Lock order: `state`, then the poll lock.
/// Avahi's callbacks take neither (they only yield), so this cannot deadlock.
final class DiscoveryEngine: Sendable {
    private let logger: Logger
    private let retryIntervalMs: Int
    private let output: AsyncStream<DiscoveryEvent>.Continuation
    private let inputs: AsyncStream<AvahiInput>.Continuation
    private let inputStream: AsyncStream<AvahiInput>
    private let state: Mutex<State>

    private enum Phase { case idle, running, stopped }

    /// One service instance on one interface, merged over its protocols.
    private struct Sighting {
        var perProto: [Int32: ResolvedService] = [:]
        var emitted: ServiceSighting?
    }

    /// One pending retry per concern; scheduling again replaces it.
    private enum TimerKey: Hashable {
        case connect, publish, browse
        case resolve(ResolverKey)
    }

    private struct SightingKey: Hashable {
        let name: String
        let interface: Int32
    }

    private struct State: ~Copyable {
        var phase = Phase.idle
        var advert: ServiceAdvert
        var publishedName: String            // the name in use (may be an alternative)
        var nextSession: UInt64 = 0
        var client: AvahiClient?
        var clientRunning = false
        /// The client reported CONNECTING and nothing since.
        var clientConnecting = false
        var groupEstablished = false
        var isAvailable = false
        var lastUnavailable: String?
        var sightings: [SightingKey: Sighting] = [:]
        /// Browse results currently present (ITEM_NEW without ITEM_REMOVE yet).
        var browseItems: Set<ResolverKey> = []
        var consumer: Task<Void, Never>?
        var timers: [TimerKey: Task<Void, Never>] = [:]
    }

    init(advert: ServiceAdvert, logger: Logger, retryIntervalMs: Int,
         output: AsyncStream<DiscoveryEvent>.Continuation) {
        self.logger = logger
        self.retryIntervalMs = retryIntervalMs
        self.output = output
        (inputStream, inputs) = AsyncStream<AvahiInput>.makeStream(bufferingPolicy: .unbounded)
        state = Mutex(State(advert: advert, publishedName: advert.instanceName))
    }

    // MARK: API

    func start() {
        let started = state.withLock { s -> Bool in
            guard s.phase == .idle else { return false }
            s.phase = .running
            let stream = inputStream
            s.consumer = Task { [self] in
                for await input in stream { handle(input) }
            }
            return true
        }
        if started { inputs.yield(.connect) }
    }

    func stop() {
        state.withLock { s in
            guard s.phase != .stopped else { return }
            s.phase = .stopped
            for t in s.timers.values { t.cancel() }
            s.timers = [:]
            s.client?.close()
            s.client = nil
            s.consumer?.cancel()
        }
        inputs.finish()
        output.finish()
    }

    func updateAdvert(_ advert: ServiceAdvert) { inputs.yield(.updateAdvert(advert)) }

    // MARK: Input handling (one at a time, on the consumer task)

    private func handle(_ input: AvahiInput) {
        state.withLock { s in
            guard s.phase == .running else { return }
            switch input {
            case .connect:
                connect(&s)
            case .retryConnect(let id):
                s.timers[.connect] = nil
                guard id == s.nextSession else { return }
                if s.client == nil {
                    connect(&s)
                } else if s.clientConnecting {
                    // avahi-client in CONNECTING waits for the daemon's name to appear on D-Bus.
                    // A daemon that was there all along but too slow to answer (a loaded boot, 50
                    // daemons starting at once) never appears again, so the wait would last
                    // forever: a fresh client asks it again.
                    logger.debug("avahi client still waiting for the daemon after \(Self.connectingRecheckMs) ms; connecting again")
                    s.client?.close()
                    s.client = nil
                    s.clientConnecting = false
                    connect(&s)
                }
            case .retryPublish(let id):
                s.timers[.publish] = nil
                if id == s.client?.session, s.clientRunning { publish(&s) }
            case .retryBrowse(let id):
                s.timers[.browse] = nil
                if id == s.client?.session, s.clientRunning { browse(&s) }
            case .retryResolve(let id, let key):
                s.timers[.resolve(key)] = nil
                if id == s.client?.session, s.clientRunning, s.browseItems.contains(key) { resolve(&s, key) }
            case .updateAdvert(let advert):
                update(&s, advert)
            case .clientState(let id, let st, let err):
                if id == s.client?.session { clientState(&s, AvahiClientState(rawValue: st), AvahiError(code: err)) }
            case .groupState(let id, let st, let err):
                if id == s.client?.session { groupState(&s, AvahiEntryGroupState(rawValue: st), AvahiError(code: err)) }
            case .browse(let id, let e):
                if id == s.client?.session { browseEvent(&s, e) }
            case .resolved(let id, let r):
                if id == s.client?.session { resolved(&s, r) }
            case .resolveFailed(let id, let key, _):
                guard id == s.client?.session, let c = s.client else { return }
                if let r = c.resolvers.removeValue(forKey: key) { c.locked { r.free() } }
                // still browsable: try again later (one timer per result, bounded by the LAN's size)
                if s.browseItems.contains(key) {
                    logger.debug("resolving \(key.name) on if \(key.interface) failed (\(c.lastError)); retrying")
                    schedule(&s, .resolve(key), .retryResolve(session: c.session, key: key))
                }
            }
        }
    }

    private func connect(_ s: inout State) {
        s.nextSession &+= 1
        do {
            s.client = try AvahiClient(session: s.nextSession, inputs: inputs)
            logger.debug("avahi client created (session \(s.nextSession))")
            // state callbacks follow (S_RUNNING, or CONNECTING while the daemon is absent)
        } catch {
            unavailable(&s, reason: Self.connectFailureReason(error))
            schedule(&s, .connect, .retryConnect(session: s.nextSession))
        }
    }

    static func connectFailureReason(_ e: AvahiError) -> String {
        if e == .noDaemon {
            let bus = getenvString("DBUS_SYSTEM_BUS_ADDRESS") ?? "unix:path=/run/dbus/system_bus_socket"
            return "avahi-daemon is not reachable: no D-Bus system bus at \(bus) (\(e.message))"
        }
        return "cannot connect to avahi-daemon (\(e))"
    }

    /// How long a client may wait in CONNECTING before a fresh one asks the daemon again (ms).
    static let connectingRecheckMs = 10_000

    private func clientState(_ s: inout State, _ st: AvahiClientState, _ err: AvahiError) {
        s.clientConnecting = st == AVAHI_CLIENT_CONNECTING
        switch st {
        case AVAHI_CLIENT_S_RUNNING:
            logger.debug("avahi client running")
            s.clientRunning = true
            browse(&s)
            publish(&s)
        case AVAHI_CLIENT_S_REGISTERING, AVAHI_CLIENT_S_COLLISION:
            // the daemon's host name is (re)probing: withdraw, re-add on S_RUNNING
            s.clientRunning = false
            s.groupEstablished = false
            if let c = s.client { c.locked { c.group?.reset() } }
        case AVAHI_CLIENT_CONNECTING:
            dropConnectionState(&s)
            unavailable(&s, reason: "avahi-daemon is not running (waiting for it to appear on D-Bus)")
            if let c = s.client { schedule(&s, .connect, .retryConnect(session: c.session), afterMs: Self.connectingRecheckMs) }
        case AVAHI_CLIENT_FAILURE:
            dropConnectionState(&s)
            s.client?.close()
            s.client = nil
            if err == .disconnected {
                unavailable(&s, reason: "avahi-daemon went away (\(err.message)); reconnecting")
                connect(&s)                      // NO_FAIL: waits in CONNECTING for the daemon
            } else {
                unavailable(&s, reason: "avahi client failed (\(err)); retrying")
                schedule(&s, .connect, .retryConnect(session: s.nextSession))
            }
        default:
            break
        }
    }

    /// The daemon is gone: free everything made from the client and report sightings lost.
    private func dropConnectionState(_ s: inout State) {
        s.clientRunning = false
        s.groupEstablished = false
        if let c = s.client {
            c.locked {
                c.group?.free(); c.browser?.free()
                for r in c.resolvers.values { r.free() }
            }
            c.group = nil; c.browser = nil; c.resolvers = [:]
        }
        for (k, v) in s.sightings where v.emitted != nil {
            output.yield(.lost(instanceName: k.name, interfaceIndex: k.interface))
        }
        s.sightings = [:]
        s.browseItems = []
        for (k, t) in s.timers { if case .resolve = k { t.cancel(); s.timers[k] = nil } }
    }

    private func unavailable(_ s: inout State, reason: String) {
        let wasAvailable = s.isAvailable
        s.isAvailable = false
        guard wasAvailable || s.lastUnavailable != reason else { return }
        s.lastUnavailable = reason
        logger.info("discovery unavailable: \(reason)")
        output.yield(.unavailable(reason: reason))
    }

    /// Sends `input` after `afterMs` (default `retryIntervalMs`), replacing a pending timer for `key`.
    private func schedule(_ s: inout State, _ key: TimerKey, _ input: AvahiInput, afterMs: Int? = nil) {
        let ms = afterMs ?? retryIntervalMs, inputs = inputs
        s.timers[key]?.cancel()
        s.timers[key] = Task {
            try? await Task.sleep(for: .milliseconds(ms))
            if !Task.isCancelled { inputs.yield(input) }
        }
    }

    // MARK: Publishing

    private func publish(_ s: inout State) {
        guard let c = s.client, s.clientRunning else { return }
        s.groupEstablished = false
        let strings: [String]
        do { strings = try s.advert.txt.encodedStrings() } catch {
            unavailable(&s, reason: "cannot publish: invalid TXT record (\(error))")
            return
        }
        let name = s.publishedName, port = s.advert.port
        let result = c.locked { () -> Result<String, AvahiError> in
            do throws(AvahiError) {
                let group: AvahiEntryGroup
                if let existing = c.group { group = existing } else { group = try AvahiEntryGroup(client: c); c.group = group }
                return .success(try group.publish(name: name, type: AvahiDiscovery.serviceType,
                                                     port: port, txt: strings))
            } catch { return .failure(error) }
        }
        switch result {
        case .success(let used):
            s.publishedName = used
            logger.debug("registering \(used) port \(port)")
        case .failure(let e):
            logger.warning("publishing failed: \(e)")
            schedule(&s, .publish, .retryPublish(session: c.session))
        }
    }

    private func groupState(_ s: inout State, _ st: AvahiEntryGroupState, _ err: AvahiError) {
        switch st {
        case AVAHI_ENTRY_GROUP_ESTABLISHED:
            guard !s.groupEstablished else { return }
            s.groupEstablished = true
            logger.info("published \(s.publishedName)")
            output.yield(.published(instanceName: s.publishedName))
            if !s.isAvailable {
                s.isAvailable = true
                s.lastUnavailable = nil
                output.yield(.available)
            }
        case AVAHI_ENTRY_GROUP_COLLISION:
            let next = alternativeServiceName(s.publishedName)
            logger.info("name collision on \(s.publishedName), trying \(next)")
            s.publishedName = next
            publish(&s)
        case AVAHI_ENTRY_GROUP_FAILURE:
            logger.warning("entry group failed: \(err)")
            s.groupEstablished = false
            if let c = s.client { schedule(&s, .publish, .retryPublish(session: c.session)) }
        default:
            break
        }
    }

    private func update(_ s: inout State, _ advert: ServiceAdvert) {
        let old = s.advert
        s.advert = advert
        if advert.instanceName != old.instanceName { s.publishedName = advert.instanceName }
        guard let c = s.client, s.clientRunning else { return }
        if advert.instanceName == old.instanceName, advert.port == old.port, s.groupEstablished {
            guard advert.txt != old.txt else { return }
            do {
                let strings = try advert.txt.encodedStrings()
                let name = s.publishedName
                let r = c.locked { () -> AvahiError? in
                    do throws(AvahiError) {
                        try c.group?.updateTXT(name: name, type: AvahiDiscovery.serviceType, txt: strings)
                        return nil
                    } catch { return error }
                }
                guard let r else { logger.debug("updated TXT of \(name)"); return }
                logger.warning("TXT update failed (\(r)); re-registering")
            } catch {
                unavailable(&s, reason: "cannot publish: invalid TXT record (\(error))")
                return
            }
        }
        publish(&s)
    }

    // MARK: Browsing

    private func browse(_ s: inout State) {
        guard let c = s.client, s.clientRunning, c.browser == nil else { return }
        do throws(AvahiError) {
            c.browser = try c.locked { () throws(AvahiError) -> AvahiServiceBrowser in
                try AvahiServiceBrowser(client: c, type: AvahiDiscovery.serviceType)
            }
        } catch {
            logger.warning("browsing failed: \(error)")
            schedule(&s, .browse, .retryBrowse(session: c.session))
        }
    }

    private func browseEvent(_ s: inout State, _ e: BrowseEvent) {
        guard let c = s.client else { return }
        switch e {
        case .new(let key):
            s.browseItems.insert(key)
            resolve(&s, key)
        case .remove(let key):
            s.browseItems.remove(key)
            s.timers.removeValue(forKey: .resolve(key))?.cancel()
            if let r = c.resolvers.removeValue(forKey: key) { c.locked { r.free() } }
            let sk = SightingKey(name: key.name, interface: key.interface)
            guard var sighting = s.sightings[sk] else { return }
            sighting.perProto[key.proto] = nil
            if sighting.perProto.isEmpty {
                s.sightings[sk] = nil
                if sighting.emitted != nil {
                    output.yield(.lost(instanceName: key.name, interfaceIndex: key.interface))
                }
            } else {
                s.sightings[sk] = sighting
                emitIfChanged(&s, sk)
            }
        case .allForNow, .cacheExhausted:
            break
        case .failure:
            logger.warning("browser failed: \(c.lastError); retrying")
            c.locked { c.browser?.free() }
            c.browser = nil
            schedule(&s, .browse, .retryBrowse(session: c.session))
        }
    }

    /// Starts a resolver for `key` unless one runs; on failure retries later.
    private func resolve(_ s: inout State, _ key: ResolverKey) {
        guard let c = s.client, c.resolvers[key] == nil else { return }
        do throws(AvahiError) {
            c.resolvers[key] = try c.locked { () throws(AvahiError) -> AvahiServiceResolver in
                try AvahiServiceResolver(client: c, key: key)
            }
        } catch {
            logger.warning("cannot resolve \(key.name): \(error); retrying")
            schedule(&s, .resolve(key), .retryResolve(session: c.session, key: key))
        }
    }

    private func resolved(_ s: inout State, _ r: ResolvedService) {
        let sk = SightingKey(name: r.key.name, interface: r.key.interface)
        s.sightings[sk, default: Sighting()].perProto[r.key.proto] = r
        emitIfChanged(&s, sk)
    }

    private func emitIfChanged(_ s: inout State, _ sk: SightingKey) {
        // host/port/TXT from the IPv4 resolution when there is one (they agree in practice)
        guard let sighting = s.sightings[sk],
              let primary = sighting.perProto[Int32(AVAHI_PROTO_INET)] ?? sighting.perProto.values.first else { return }
        let addresses = Set(sighting.perProto.values.map(\.address)).sorted {
            ($0.isIPv6 ? 1 : 0, $0.ip) < ($1.isIPv6 ? 1 : 0, $1.ip)
        }
        let now = ServiceSighting(instanceName: sk.name, hostName: primary.hostName, addresses: addresses,
                                  port: primary.port, txt: TXTRecord.parse(primary.txt),
                                  interfaceIndex: sk.interface)
        guard now != sighting.emitted else { return }
        s.sightings[sk]?.emitted = now
        output.yield(.found(now))
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// `getenv(name)` as a String.
func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
