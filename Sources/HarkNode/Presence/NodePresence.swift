import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import HarkWireProto
import Logging

/// The latest heartbeat from one channel's device.
struct Heartbeat: Sendable {
    var state: Hark_V1_PresenceState
    var statusText: String
    var seq: UInt64
}

extension Node {
    /// Every heartbeat interval: a Presence datagram on every channel; every second: presence
    /// judged again and changes emitted to watchers. Ends when the task is cancelled.
    nonisolated func runHeartbeats() async {
        var tick: Int64 = 0
        while !Task.isCancelled {
            try? await clock.sleep(ms: 1_000)
            if Task.isCancelled { break }
            tick += 1
            if tick % (PresenceJudge.heartbeatIntervalMs / 1_000) == 0 { await sendHeartbeats() }
            await judgePresence()
        }
    }

    func sendHeartbeats() {
        broadcastDatagram(heartbeatDatagram(), group: nil)
    }

    func heartbeatDatagram() -> Hark_V1_Datagram {
        signalState.presenceSeq += 1
        var p = Hark_V1_Presence()
        p.state = signalState.ownPresence.state
        p.statusText = signalState.ownPresence.statusText
        p.seq = signalState.presenceSeq
        var d = Hark_V1_Datagram()
        d.presence = p
        return d
    }

    /// `presence.set`: this node's presence, announced at once and in every later heartbeat.
    public func setPresence(state: String, statusText: String?) throws(ControlErrorBody) -> PresenceView {
        switch state {
        case "online": signalState.ownPresence.state = .online
        case "away": signalState.ownPresence.state = .away
        default: throw ControlErrorBody(code: .invalidArgument, message: "presence state must be online or away, not \(state)")
        }
        if let statusText {
            guard statusText.utf8.count <= 64 else {
                throw ControlErrorBody(code: .invalidArgument, message: "status text is \(statusText.utf8.count) bytes; the limit is 64")
            }
            signalState.ownPresence.statusText = statusText
        }
        sendHeartbeats()
        return PresenceView(peerId: peerID.description, fingerprint: peerID.fingerprint, displayName: identity.displayName,
                            state: state, statusText: signalState.ownPresence.statusText.isEmpty ? nil : signalState.ownPresence.statusText,
                            lastSeenMs: clock.wallMs())
    }

    func receivePresence(_ p: Hark_V1_Presence, from session: PeerSession) {
        guard p.state == .online || p.state == .away, p.statusText.utf8.count <= 64 else { return }
        if let last = peerTable.links[session.id]?.heartbeat, p.seq <= last.seq { return }   // older, reordered
        peerTable.links[session.id]?.heartbeat = Heartbeat(state: p.state, statusText: p.statusText, seq: p.seq)
        // Heard again after a silence no healthy channel has (heartbeats every 2 s, pings every
        // 5 s): the path was cut, and TCP may sit in retransmission backoff for seconds more
        // after it healed. Probe the channel: a stuck one is closed within 1 s and redialled,
        // and reconciliation (§6.3) catches up at once (PROTOCOL.md §3.2, "Probe").
        let silentMs = session.silenceMs
        if silentMs > PresenceJudge.silenceBeforeProbeMs {
            probe(session, reason: "peer heard again after \(silentMs) ms of silence")
        }
        session.heard()
        peerTable.info[session.peerID]?.lastSeenMs = clock.wallMs()
        judgePresence(of: session.peerID)
    }

    /// The presence of `peer` now, judged from `channels` (its open channels; found when nil).
    func presenceView(of peer: PeerID, channels known: [PeerSession]? = nil) -> PresenceView {
        let channels = known ?? peerTable.sessions(of: peer)
        let judged = PresenceJudge.state(channels.map {
            PresenceJudge.Channel(silenceMs: $0.silenceMs, heartbeat: peerTable.links[$0.id]?.heartbeat?.state)
        })
        let text = channels.compactMap { peerTable.links[$0.id]?.heartbeat }.max { $0.seq < $1.seq }?.statusText
        let info = peerTable.info[peer]
        var lastSeen = info?.lastSeenMs ?? 0
        if let quietest = channels.map(\.silenceMs).min() {
            lastSeen = max(lastSeen, clock.wallMs() - quietest)
        }
        return PresenceView(peerId: peer.description, fingerprint: peer.fingerprint, displayName: info?.displayName ?? "unknown",
                            state: judged, statusText: (text?.isEmpty ?? true) ? nil : text, lastSeenMs: lastSeen)
    }

    /// Judges every peer with a channel or a last emitted state, and emits the changes. Once a
    /// second: O(channels + peers), the channels grouped by peer once.
    func judgePresence() {
        let byPeer = Dictionary(grouping: peerTable.sessions, by: \.peerID)
        for peer in Set(byPeer.keys).union(signalState.lastPresence.keys) {
            judgePresence(of: peer, channels: byPeer[peer] ?? [])
        }
    }

    func judgePresence(of peer: PeerID, channels: [PeerSession]? = nil) {
        let view = presenceView(of: peer, channels: channels)
        let last = signalState.lastPresence[peer]
        guard last?.state != view.state || last?.statusText != view.statusText else { return }
        if view.state == "offline", last == nil { return }
        signalState.lastPresence[peer] = view
        if view.state == "offline" { signalState.lastPresence.removeValue(forKey: peer) }
        logger.debug("presence", metadata: ["peer.id": "\(peer)", "state": "\(view.state)"])
        emit(.presence(view))
    }

    func receiveTyping(group: EventID, active: Bool, from session: PeerSession) {
        let peer = session.peerID
        emit(.typing(TypingView(group: group.hex, peerId: peer.description, displayName: displayName(of: peer.key),
                                fingerprint: peer.fingerprint, active: active)))
    }

    /// `typing`: tells the group's online members that this node's user is typing (or stopped).
    func sendTyping(group ref: String, active: Bool) throws(ControlErrorBody) {
        let g = try resolveGroup(ref)
        var t = Hark_V1_Typing()
        t.groupID = Data(g.id.bytes)
        t.active = active
        var d = Hark_V1_Datagram()
        d.typing = t
        broadcastDatagram(d, group: g.id)
    }
}
