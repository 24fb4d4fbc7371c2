internal import CAvahi
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-shot check that avahi-daemon can be reached, for `hark doctor`.
///
/// Creates an `AvahiClient` (`AVAHI_CLIENT_NO_FAIL`, so a D-Bus system bus without
/// avahi-daemon is told apart from no bus at all), reads its state, version and host name,
/// and frees it. Publishes nothing and browses nothing, so it sends no mDNS packet.
/// The poll thread is never started: `avahi_client_new` and the getters make blocking D-Bus
/// round trips on the probing thread, which is why ``probe(timeoutMs:)`` runs them on a
/// thread of its own and gives up after the timeout.
public enum AvahiProbe {
    /// What the probe found.
    public struct Result: Sendable, Equatable {
        public enum State: String, Sendable {
            /// avahi-daemon answers and its host name is established.
            case running
            /// avahi-daemon answers but is still probing or has a host name collision.
            case registering
            case collision
            /// The D-Bus system bus is reachable, avahi-daemon is not on it.
            case notRunning = "not_running"
            /// No D-Bus system bus could be reached.
            case noBus = "no_bus"
            /// Anything else `avahi_client_new` reports.
            case failed
            /// No answer within the timeout (a hung bus or daemon).
            case timedOut = "timed_out"
        }

        public var state: State
        /// `avahi_strerror` text when the client could not be created, or a description.
        public var error: String?
        /// e.g. `"avahi 0.8"`, when running.
        public var version: String?
        /// avahi-daemon's host name, e.g. `"h1.local"`, when running.
        public var hostName: String?
        /// The D-Bus system bus address libavahi-client uses.
        public var busAddress: String

        public init(state: State, error: String? = nil, version: String? = nil, hostName: String? = nil, busAddress: String) {
            self.state = state; self.error = error; self.version = version; self.hostName = hostName
            self.busAddress = busAddress
        }
    }

    /// The bus libavahi-client connects to: `$DBUS_SYSTEM_BUS_ADDRESS`, else D-Bus's default.
    public static var systemBusAddress: String {
        getenvString("DBUS_SYSTEM_BUS_ADDRESS") ?? "unix:path=/run/dbus/system_bus_socket"
    }

    /// Probes avahi-daemon; returns within about `timeoutMs` milliseconds.
    public static func probe(timeoutMs: Int = 3000) -> Result {
        let bus = systemBusAddress
        let box = Mutex<Result?>(nil)
        let done = DispatchSemaphore(value: 0)
        // A thread of its own (not a Dispatch worker): on timeout it may stay blocked in D-Bus
        // until the process exits, without holding a pool thread.
        let thread = ProbeThread {
            let r = runProbe(bus: bus)
            box.withLock { $0 = r }
            done.signal()
        }
        guard thread.start() else {
            return Result(state: .failed, error: "cannot start a thread", busAddress: bus)
        }
        if done.wait(timeout: .now() + .milliseconds(max(1, timeoutMs))) == .timedOut {
            return Result(state: .timedOut, error: "no answer from D-Bus or avahi-daemon within \(timeoutMs) ms", busAddress: bus)
        }
        return box.withLock { $0 } ?? Result(state: .failed, error: "no result", busAddress: bus)
    }

    private static func runProbe(bus: String) -> Result {
        guard let poll = avahi_threaded_poll_new() else { return Result(state: .failed, error: "out of memory", busAddress: bus) }
        defer { avahi_threaded_poll_free(poll) }
        var error: Int32 = 0
        guard let client = avahi_client_new(avahi_threaded_poll_get(poll), AVAHI_CLIENT_NO_FAIL, nil, nil, &error) else {
            let e = AvahiError(code: error == 0 ? AvahiError.noDaemon.code : error)
            return Result(state: e == .noDaemon ? .noBus : .failed, error: e.message, busAddress: bus)
        }
        defer { avahi_client_free(client) }
        switch avahi_client_get_state(client) {
        case AVAHI_CLIENT_S_RUNNING:
            let version = avahi_client_get_version_string(client).map { String(cString: $0) }
            let host = avahi_client_get_host_name_fqdn(client).map { String(cString: $0) }
            return Result(state: .running, version: version, hostName: host, busAddress: bus)
        case AVAHI_CLIENT_S_REGISTERING:
            return Result(state: .registering, busAddress: bus)
        case AVAHI_CLIENT_S_COLLISION:
            return Result(state: .collision, busAddress: bus)
        case AVAHI_CLIENT_CONNECTING:
            return Result(state: .notRunning, error: AvahiError.noDaemon.message, busAddress: bus)
        default:
            return Result(state: .failed, error: AvahiError(code: avahi_client_errno(client)).message, busAddress: bus)
        }
    }
}

/// A detached pthread running one closure.
private final class ProbeThread: @unchecked Sendable {
    private let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() -> Bool {
        var tid = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&tid, nil, { raw in
            guard let raw else { return nil }   // never: the context below is passed
            let t = Unmanaged<ProbeThread>.fromOpaque(raw).takeRetainedValue()
            t.body()
            return nil
        }, context)
        if rc != 0 { Unmanaged<ProbeThread>.fromOpaque(context).release(); return false }
        pthread_detach(tid)
        return true
    }
}
