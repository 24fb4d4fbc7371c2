// The file frames of a channel (PROTOCOL.md §9): FileQuery, Have, GetManifest, ManifestData,
// ChunkRequest and ChunkRefused, on both the serving and the fetching side, and what a closed
// channel leaves behind. Node actor state (`fileHolders`, `offeredIn`, `servables`);
// isolated to the actor.

import Foundation
import HarkCrypto
import HarkFiles
import HarkLog
import HarkStore
import HarkWireProto

extension Node {
    // MARK: frames (PROTOCOL.md §9)

    func manifestID(_ raw: Data, _ what: String) throws -> ManifestID {
        guard let id = try? ManifestID(bytes: [UInt8](raw)) else { throw ProtocolViolation("\(what) with a manifest ID of \(raw.count) bytes") }
        return id
    }

    /// What this node serves of `id` (offered, or fetched completely), or nil.
    func servable(_ id: ManifestID) -> Servable? {
        if let s = fileShare.servables[id] { return s }
        guard let rec = try? store.sharedFile(id.bytes), let json = rec.sources,
              let sources = try? JSONDecoder().decode([StoredSource].self, from: json),
              let manifest = try? Manifest(decoding: rec.manifest), let g = try? store.group(id: rec.group) else { return nil }
        let s = Servable(group: rec.group, manifest: manifest, source: Self.chunkSource(manifest, sources),
                         fileKey: FileCrypto.key(groupKey: g.key, manifestID: id.bytes))
        fileShare.servables[id] = s
        return s
    }

    /// The group under which `s` may get file `id` when it asks in group `raw` (a request's
    /// `group_id`; empty: `recorded`, the group the file is known here by): a group shared with
    /// `s` that is `recorded` or holds an offer of `id`. Its key derives the file key the
    /// answer is sealed under (PROTOCOL.md §9.3). nil: answer as not held.
    /// - Throws: `ProtocolViolation` for a `group_id` that is not 32 bytes.
    func fileGroup(_ id: ManifestID, askedIn raw: Data, recorded: EventID, by s: PeerSession) throws -> Store.GroupRecord? {
        let g: EventID
        if raw.isEmpty { g = recorded } else {
            guard let parsed = try? EventID(bytes: [UInt8](raw)) else { throw ProtocolViolation("file request with a group ID of \(raw.count) bytes") }
            g = parsed
        }
        guard isShared(g, with: s), g == recorded || offers(id, in: g) else { return nil }
        return try store.group(id: g)
    }

    /// Whether group `g` holds an offer of manifest `id` (remembered once found).
    func offers(_ id: ManifestID, in g: EventID) -> Bool {
        if fileShare.offeredIn[id]?.contains(g) == true { return true }
        guard let rec = try? store.group(id: g), let found = try? offers(groups: [rec]).contains(where: { $0.manifestID == id }), found else {
            return false
        }
        fileShare.offeredIn[id, default: []].insert(g)
        return true
    }

    /// What this node serves of `id` to `s` asking in the group `raw` (its `group_id`; empty:
    /// the group the file was recorded in). The same bytes offered in two groups share a
    /// manifest ID, but each group has its own file key: the slices are sealed under the key of
    /// the group the asker fetches in, which must be shared with `s` and hold an offer of `id`.
    func servable(_ id: ManifestID, askedIn raw: Data, by s: PeerSession) throws -> Servable? {
        guard let base = servable(id) else { return nil }
        // Asked in the group the file is recorded in (every chunk request of a usual fetch):
        // `fileGroup`'s answer without its store read, once per chunk otherwise.
        if raw.isEmpty || raw.elementsEqual(base.group.bytes) { return isShared(base.group, with: s) ? base : nil }
        guard let group = try fileGroup(id, askedIn: raw, recorded: base.group, by: s) else { return nil }
        if group.id == base.group { return base }
        return Servable(group: group.id, manifest: base.manifest, source: base.source,
                        fileKey: FileCrypto.key(groupKey: group.key, manifestID: id.bytes))
    }

    func receiveFileQuery(_ q: Hark_V1_FileQuery, from s: PeerSession) throws {
        let id = try manifestID(q.manifestID, "file query")
        var h = Hark_V1_Have()
        h.manifestID = q.manifestID
        if let held = try servable(id, askedIn: q.groupID, by: s), held.source?.isPresent ?? true {
            h.all = true
        } else if let job = files.job(id), try fileGroup(id, askedIn: q.groupID, recorded: job.group, by: s) != nil {
            // A fetch in progress: what it verified so far (a swarm, §9.4).
            let held = job.heldSnapshot.withLock { $0 }
            if held.setCount > 0 { h.bitmap = Data(held.bytes) }
        }
        var f = Hark_V1_Frame()
        f.have = h
        s.send(f)
    }

    /// A fetch in progress holds more chunks: tells the channels that share its group.
    func announcePartial(_ id: ManifestID, group: EventID, _ bitmap: ChunkBitmap) {
        guard files.job(id) != nil, bitmap.setCount > 0 else { return }
        var h = Hark_V1_Have()
        h.manifestID = Data(id.bytes)
        h.bitmap = Data(bitmap.bytes)
        var f = Hark_V1_Frame()
        f.have = h
        for s in peerTable.sessions where isShared(group, with: s) { s.send(f) }
    }

    func receiveHave(_ h: Hark_V1_Have, from s: PeerSession) throws {
        let id = try manifestID(h.manifestID, "have")
        guard !(h.all && !h.bitmap.isEmpty) else { throw ProtocolViolation("have with both all and a bitmap") }
        fileShare.pendingFileQueries[id]?.remove(s.id)
        guard h.all || !h.bitmap.isEmpty else {
            fileShare.fileHolders[id]?.removeValue(forKey: s.id)
            return
        }
        fileShare.fileHolders[id, default: [:]][s.id] = h.all
        guard let job = files.job(id) else { return }
        if h.all {
            Task { await job.addPeer(s, holding: .all) }
        } else {
            guard let bitmap = ChunkBitmap(count: job.manifestChunkCount, bytes: [UInt8](h.bitmap)) else {
                throw ProtocolViolation("have bitmap of \(h.bitmap.count) bytes for \(job.manifestChunkCount) chunks")
            }
            Task { await job.addPeer(s, holding: .some(bitmap)) }
        }
    }

    func receiveGetManifest(_ g: Hark_V1_GetManifest, from s: PeerSession) throws {
        let id = try manifestID(g.manifestID, "get manifest")
        guard (1...UInt32(FileWireLimits.manifestSliceBytes)).contains(g.length) else { throw ProtocolViolation("get manifest of \(g.length) bytes") }
        var d = Hark_V1_ManifestData()
        d.manifestID = g.manifestID
        d.offset = g.offset
        var f = Hark_V1_Frame()
        if let rec = try store.sharedFile(id.bytes), let group = try fileGroup(id, askedIn: g.groupID, recorded: rec.group, by: s) {
            guard g.offset < UInt64(rec.manifest.count) else { throw ProtocolViolation("get manifest at \(g.offset) of \(rec.manifest.count)") }
            let start = Int(g.offset)
            let slice = Array(rec.manifest[start..<min(rec.manifest.count, start + Int(g.length))])
            d.totalLength = UInt64(rec.manifest.count)
            d.box = Data(try XChaChaPoly.sealWithRandomNonce(slice, key: FileCrypto.key(groupKey: group.key, manifestID: id.bytes),
                                                             associatedData: FileCrypto.manifestAD(id.bytes, offset: g.offset)))
        }
        f.manifestData = d
        s.send(f)
    }

    func receiveManifestData(_ m: Hark_V1_ManifestData, from s: PeerSession) throws {
        let id = try manifestID(m.manifestID, "manifest data")
        guard var d = fileShare.manifestDownloads[id], d.session == s.id else { return }
        guard m.totalLength != 0, m.totalLength == UInt64(d.expected), m.offset == UInt64(d.data.count),
              let plain = try? XChaChaPoly.openWithPrefixedNonce([UInt8](m.box), key: d.key,
                                                                 associatedData: FileCrypto.manifestAD(id.bytes, offset: m.offset)),
              !plain.isEmpty, d.data.count + plain.count <= d.expected else {
            finishDownload(id, token: d.token, nil)
            return
        }
        fileShare.manifestDownloads[id] = nil
        d.data.append(contentsOf: plain)
        fileShare.manifestDownloads[id] = d
        if d.data.count == d.expected {
            finishDownload(id, token: d.token, d.data)
        } else {
            sendGetManifest(id, offset: d.data.count, total: d.expected, to: s)
        }
    }

    func receiveChunkRequest(_ r: Hark_V1_ChunkRequest, from s: PeerSession) throws {
        let id = try manifestID(r.manifestID, "chunk request")
        var refuse: Hark_V1_RefuseReason?
        let cipher = FileCrypto.cipher(askerOffersAES256GCM: r.aes256Gcm, chaCha20Poly1305: r.chacha20Poly1305)
        if let sv = try servable(id, askedIn: r.groupID, by: s) {
            guard Int(r.chunk) < sv.manifest.chunkCount else { throw ProtocolViolation("chunk \(r.chunk) of \(sv.manifest.chunkCount)") }
            if !files.serve(chunk: Int(r.chunk), servable: sv, cipher: cipher, to: s) { refuse = .busy }
        } else if let job = files.job(id), let group = try fileGroup(id, askedIn: r.groupID, recorded: job.group, by: s) {
            guard Int(r.chunk) < job.manifestChunkCount else { throw ProtocolViolation("chunk \(r.chunk) of \(job.manifestChunkCount)") }
            if job.heldSnapshot.withLock({ $0.contains(Int(r.chunk)) }) {
                let sv = Servable(group: group.id, manifest: job.manifest, source: nil,
                                  fileKey: FileCrypto.key(groupKey: group.key, manifestID: id.bytes), partial: job.writer)
                if !files.serve(chunk: Int(r.chunk), servable: sv, cipher: cipher, to: s) { refuse = .busy }
            } else {
                refuse = .notHeld
            }
        } else {
            refuse = .notHeld
        }
        if let refuse {
            files.counters.withLock { $0.chunksRefused += 1 }
            var c = Hark_V1_ChunkRefused()
            c.manifestID = r.manifestID
            c.chunk = r.chunk
            c.reason = refuse
            var f = Hark_V1_Frame()
            f.chunkRefused = c
            s.send(f)
        }
    }

    func receiveChunkRefused(_ r: Hark_V1_ChunkRefused, from s: PeerSession) throws {
        let id = try manifestID(r.manifestID, "chunk refused")
        // Its file changed or went away since the offer: no longer counted as a holder.
        if r.reason == .sourceChanged { fileShare.fileHolders[id]?.removeValue(forKey: s.id) }
        guard let job = files.job(id) else { return }
        let sid = s.id
        Task { await job.refused(sid, chunk: Int(r.chunk), reason: r.reason) }
    }

    /// A channel closed: forget what it held, stop serving it, tell the fetches.
    func fileSessionClosed(_ s: PeerSession) {
        files.sessionClosed(s.id)
        for id in fileShare.fileHolders.keys { fileShare.fileHolders[id]?.removeValue(forKey: s.id) }
        for id in fileShare.pendingFileQueries.keys { fileShare.pendingFileQueries[id]?.remove(s.id) }
        for (id, d) in fileShare.manifestDownloads where d.session == s.id { finishDownload(id, token: d.token, nil) }
        let sid = s.id
        for job in files.allJobs { Task { await job.removePeer(sid) } }
    }
}
