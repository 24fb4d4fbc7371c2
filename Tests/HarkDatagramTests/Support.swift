import Foundation
import HarkTesting
import HarkWireProto
import Testing
@testable import HarkDatagram

func presence(seq: UInt64, text: String = "in a meeting", state: Hark_V1_PresenceState = .away) -> Hark_V1_Datagram {
    var d = Hark_V1_Datagram()
    d.presence.state = state
    d.presence.statusText = text
    d.presence.seq = seq
    return d
}

func typing(active: Bool = true) -> Hark_V1_Datagram {
    var d = Hark_V1_Datagram()
    d.typing.groupID = Data(repeating: 0xA1, count: 32)
    d.typing.active = active
    return d
}

func headHint(lamport: UInt64 = 42) -> Hark_V1_Datagram {
    var d = Hark_V1_Datagram()
    d.headHint.groupID = Data(repeating: 0xB2, count: 32)
    d.headHint.head = Data(repeating: 0xC3, count: 32)
    d.headHint.lamport = lamport
    return d
}

/// A sender and a receiver that installed its first announcement at `nowMs`.
func pair(nowMs: Int64 = 0) throws -> (DatagramSender, DatagramReceiver) {
    var s = DatagramSender(nowMs: nowMs)
    var r = DatagramReceiver()
    try r.install(s.takeAnnouncement(udpPort: 4242)!, nowMs: nowMs)
    return (s, r)
}

/// Runs `body` and returns the `DatagramError` it threw, or nil (also nil for any other error,
/// which fails the test).
func datagramError<T>(_ body: () throws -> T) -> DatagramError? {
    do { _ = try body(); return nil } catch let error as DatagramError { return error } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}
