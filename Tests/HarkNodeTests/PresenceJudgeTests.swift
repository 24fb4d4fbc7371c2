@testable import HarkNode
import HarkWireProto
import Testing

@Suite struct PresenceJudgeTests {
    typealias C = PresenceJudge.Channel

    @Test func noChannelIsOffline() { #expect(PresenceJudge.state([]) == "offline") }

    @Test func aRecentlyHeardChannelIsOnlineEvenWithoutHeartbeats() {
        #expect(PresenceJudge.state([C(silenceMs: 100, heartbeat: nil)]) == "online")
    }

    @Test func theHeartbeatSaysAway() {
        #expect(PresenceJudge.state([C(silenceMs: 100, heartbeat: .away)]) == "away")
    }

    @Test func silenceBeyondTheBoundIsOfflineWhileTheChannelLingers() {
        #expect(PresenceJudge.state([C(silenceMs: PresenceJudge.offlineAfterMs, heartbeat: .online)]) == "offline")
        #expect(PresenceJudge.state([C(silenceMs: PresenceJudge.offlineAfterMs - 1, heartbeat: .online)]) == "online")
    }

    @Test func oneOnlineDeviceBeatsAnAwayOne() {
        #expect(PresenceJudge.state([C(silenceMs: 10, heartbeat: .away), C(silenceMs: 10, heartbeat: .online)]) == "online")
        #expect(PresenceJudge.state([C(silenceMs: 10, heartbeat: .away), C(silenceMs: 99_999, heartbeat: .online)]) == "away")
    }

    @Test func theOfflineBoundLeavesRoomForTheTenSecondPromise() {
        // A partitioned peer shows offline within offlineAfterMs plus one 1-second judging tick.
        #expect(PresenceJudge.offlineAfterMs + 1_000 < 10_000)
        // Heartbeats and keepalives (5 s) both come well inside the bound.
        #expect(PresenceJudge.heartbeatIntervalMs * 3 <= PresenceJudge.offlineAfterMs)
    }
}
