// The session table: opening an authenticated session (refusing self, blocked keys and
// duplicate channels to one device) and closing it, with everything kept per session.
// Node actor state (`peerTable`: channels and their per-channel `PeerLink`); isolated to the actor.

import Foundation
import HarkCrypto
import HarkNoise
import HarkWire
import Logging
import NIOCore

extension Node {
    /// Registers a new authenticated session, or refuses it (self, duplicate).
    func openSession(hello: PeerHello, role: NoiseRole, remote: String, source: String,
                     channel: any Channel) -> PeerSession? {
        if hello.peerID == peerID && hello.instanceToken == instanceToken {
            logger.debug("connected to myself; closing", metadata: ["peer.address": "\(remote)"])
            return nil
        }
        if hello.peerID == peerID {
            logger.warning("another device uses this node's identity; its events will fork the log", metadata: [
                "peer.address": "\(remote)",
            ])
        }
        if isBlocked(hello.peerID.key) {
            logger.info("channel refused: the user blocked this key", metadata: ["peer.id": "\(hello.peerID)", "peer.address": "\(remote)"])
            return nil
        }
        let direction: PeerSession.Direction = role == .initiator ? .outbound : .inbound
        let device = DeviceKey(peer: hello.peerID, token: hello.instanceToken)
        if let existingID = peerTable.byDevice[device], let existing = peerTable[existingID], !existing.isClosed {
            // Two channels to one device (both dialled at once): both ends keep the channel
            // dialled by the device that sorts first by (identity key, instance token).
            let me = DeviceKey(peer: peerID, token: instanceToken)
            let first = Self.precedes(me, device) ? me : device
            let newInitiator = direction == .outbound ? me : device
            let keepNew = newInitiator == first && existing.direction != direction
            if !keepNew {
                logger.debug("duplicate channel; keeping the other one", metadata: ["peer.id": "\(hello.peerID)"])
                return nil
            }
            existing.close()
        }
        let session = PeerSession(id: peerTable.nextID, hello: hello, direction: direction, remoteAddress: remote,
                                  source: source, channel: channel, clock: clock)
        peerTable.nextID += 1
        peerTable.add(session)
        peerTable.byDevice[device] = session.id
        let now = clock.wallMs()
        var info = peerTable.info[hello.peerID] ?? PeerInfo(displayName: hello.displayName, address: nil, source: nil, lastSeenMs: now)
        info.displayName = hello.displayName
        info.address = remote
        info.source = source
        info.lastSeenMs = now
        info.listenPort = Int(hello.listenPort)
        peerTable.info[hello.peerID] = info
        // The address to dial it at later: for an inbound channel, its IP with the port it listens on.
        var dialable = remote
        if direction == .inbound, hello.listenPort != 0, let ip = channel.remoteAddress?.ipAddress {
            let plain = ip.hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip
            dialable = plain.contains(":") ? "[\(plain)]:\(hello.listenPort)" : "\(plain):\(hello.listenPort)"
        }
        do {
            try store.upsertPeer(key: hello.peerID.key, displayName: hello.displayName, address: dialable, seenMs: now)
        } catch {
            logger.error("cannot record peer", metadata: ["error": "\(error)"])
        }
        noteContact(hello)
        logger.info("channel open", metadata: [
            "peer.id": "\(hello.peerID)", "peer.name": "\(hello.displayName)", "peer.address": "\(remote)",
            "direction": "\(direction.rawValue)",
        ])
        startSync(session)
        for (group, p) in inviteState.pendingJoins where p.state == "pending" { sendRedeem(group, to: session) }
        resendLostRedeems(to: session)
        offerDirectConversations(on: session)
        openDatagrams(for: session)
        judgePresence(of: hello.peerID)
        return session
    }

    func closeSession(_ session: PeerSession) {
        // The channel's own state goes with its link; what other parts keep per channel follows.
        guard let link = peerTable.remove(session.id) else { return }
        link.syncAnswerer?.cancel()
        let device = DeviceKey(peer: session.peerID, token: session.hello.instanceToken)
        if peerTable.byDevice[device] == session.id { peerTable.byDevice.removeValue(forKey: device) }
        broadcastPeerRemoved(session, group: nil)
        trustBook.pairings.channelClosed(session.id)
        fileSessionClosed(session)
        peerTable.info[session.peerID]?.lastSeenMs = clock.wallMs()
        logger.info("channel closed", metadata: ["peer.id": "\(session.peerID)"])
        judgePresence(of: session.peerID)
        // A discovered peer that is still advertised is dialled again (with backoff), whichever
        // side had dialled the channel that just closed.
        let token = Hex.encode(session.hello.instanceToken)
        if !lifecycle.stopped, discoveryState.sightings[token] != nil, peerTable.byDevice[device] == nil {
            Task { await self.dialSighting(token: token, fresh: false) }
        }
    }

    nonisolated static func precedes(_ a: DeviceKey, _ b: DeviceKey) -> Bool {
        a.peer != b.peer ? a.peer < b.peer : a.token.lexicographicallyPrecedes(b.token)
    }

    func hasSession(instanceToken token: [UInt8]) -> Bool {
        peerTable.sessions.contains { $0.hello.instanceToken == token }
    }
}
