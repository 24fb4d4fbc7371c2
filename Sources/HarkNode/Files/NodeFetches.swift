// Fetch control (`fetch`, auto-fetch): getting and checking a manifest from peers, staging the
// target and starting a `FetchJob`, and serving the files once it completes. Node actor state
// (`manifestDownloads`, `servables`); isolated to the actor, apart from `streamFetch`.

import Foundation
import HarkControl
import HarkCrypto
import HarkFiles
import HarkLog
import HarkStore
import HarkWireProto
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A manifest download from one peer (GetManifest → ManifestData slices).
struct ManifestDownload {
    let session: UInt64
    /// The group whose offer is fetched (its key seals the manifest slices).
    let group: EventID
    let expected: Int
    let key: [UInt8]
    var data: [UInt8]
    let token: UInt64
    let continuation: CheckedContinuation<[UInt8]?, Never>
}

extension Node {
    // MARK: control: fetch

    /// `fetch`: the response once the manifest is here and the target is staged, then one
    /// `progress` event about 4 times a second, then `done` or `failed`.
    nonisolated func streamFetch(head: RequestHead, params p: FetchParams, channel: any Channel,
                                 outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: FetchEvent.self, bufferingPolicy: .bufferingNewest(64))
        let job: FetchJob
        let started: FetchStarted
        do {
            (job, started) = try await prepareFetch(p, events: continuation)
        } catch {
            let body = error as? ControlErrorBody ?? ControlErrorBody(code: .internal, message: "\(error)")
            try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(ErrorResponse(id: head.id, error: body))))
            return
        }
        try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(Response(id: head.id, result: started))))
        // The client closing its end stops the fetch; what was verified stays for a resume.
        channel.closeFuture.whenComplete { _ in Task { await job.cancel() } }
        for await event in stream {
            switch event {
            case let .progress(p): try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(EventLine(event: "progress", data: p))))
            case let .done(d): try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(EventLine(event: "done", data: d))))
            case let .failed(e): try await outbound.write(ByteBuffer(bytes: try ControlCoding.encodeLine(EventLine(event: "failed", data: e))))
            }
        }
    }

    /// Finds the offer, gets and checks the manifest, stages the target and starts the job.
    func prepareFetch(_ p: FetchParams, events: AsyncStream<FetchEvent>.Continuation?) async throws -> (FetchJob, FetchStarted) {
        let o = try resolveOffer(p.file)
        let id = o.manifestID
        guard p.directory.hasPrefix("/") else { throw ControlErrorBody(code: .invalidArgument, message: "the target folder must be an absolute path") }
        if let r = p.limitRate, r <= 0 {
            throw ControlErrorBody(code: .invalidArgument, message: "limit_rate must be a positive number of bytes per second, got \(r)")
        }
        guard files.job(id) == nil else { throw ControlErrorBody(code: .unavailable, message: "\(id.hex.prefix(12)) is being fetched already") }
        let bytes = try await obtainManifest(o)
        let manifest: Manifest
        do { manifest = try Manifest(decoding: bytes) } catch {
            logger.warning("refused a file manifest", metadata: ["manifest.id": "\(id)", "reason": "\(error)"])
            throw ControlErrorBody(code: .badManifest, message: "refused the manifest of \(id.hex.prefix(12)): \(error)")
        }
        guard manifest.totalBytes == o.offer.totalSize, manifest.entries.count == Int(o.offer.entryCount) else {
            throw ControlErrorBody(code: .badManifest, message: "the manifest of \(id.hex.prefix(12)) does not match its offer")
        }
        if try store.sharedFile(id.bytes) == nil {
            try store.saveSharedFile(.init(manifestID: id.bytes, group: o.group.id, manifest: bytes, sources: nil, updatedMs: clock.wallMs()))
        }
        let writer: FetchWriter
        do { writer = try FetchWriter(directory: p.directory, manifest: manifest, force: p.force) } catch {
            switch error {
            case .alreadyExists, .unsafeTarget: throw ControlErrorBody(code: .targetExists, message: "\(error)")
            default: throw ControlErrorBody(code: .ioError, message: "\(error)")
            }
        }
        let held = await writer.held()
        let key = FileCrypto.key(groupKey: o.group.key, manifestID: id.bytes)
        let group = o.group.id
        let directory = p.directory
        let job = FetchJob(manifest: manifest, group: group, fileKey: key, directory: directory, writer: writer, held: held,
                           waitMs: max(0, p.waitMs ?? 60_000), limitRate: p.limitRate, transfers: files, events: events,
                           logger: logger, announce: { bitmap in await self.announcePartial(id, group: group, bitmap) }) { paths in
            await self.fetchCompleted(manifest: manifest, group: group, directory: directory, paths: paths)
        }
        guard files.register(job) else { throw ControlErrorBody(code: .unavailable, message: "\(id.hex.prefix(12)) is being fetched already") }
        // Known holders now; everyone sharing the group is asked again (answers add peers).
        for (sid, all) in fileShare.fileHolders[id] ?? [:] where all {
            if let s = peerTable[sid] { await job.addPeer(s, holding: .all) }
        }
        for s in peerTable.sessions where isShared(group, with: s) { sendFileQuery(id, group: group, to: s) }
        await job.start()
        let started = FetchStarted(fileId: id.hex, names: o.offer.names, size: manifest.totalBytes, files: manifest.entries.count,
                                   chunks: manifest.chunkCount, chunksHeld: held.setCount, directory: directory)
        return (job, started)
    }

    /// The manifest bytes: from the store, else from the peers sharing the group (the offer's
    /// author first, then holders), checked against the ID.
    func obtainManifest(_ o: OfferRecord) async throws -> [UInt8] {
        if let rec = try store.sharedFile(o.manifestID.bytes) { return rec.manifest }
        let id = o.manifestID
        let candidates = peerTable.sessions.filter { isShared(o.group.id, with: $0) }
        for s in candidates { sendFileQuery(id, group: o.group.id, to: s) }
        for _ in 0..<30 where !(fileShare.pendingFileQueries[id] ?? []).isEmpty { try? await Task.sleep(for: .milliseconds(50)) }
        let holders = fileShare.fileHolders[id] ?? [:]
        let ordered = candidates.sorted { a, b in
            func rank(_ s: PeerSession) -> Int { (s.peerID.key == o.event.author ? 0 : 2) + (holders[s.id] != nil ? 0 : 1) }
            return (rank(a), a.id) < (rank(b), b.id)
        }
        let key = FileCrypto.key(groupKey: o.group.key, manifestID: id.bytes)
        for s in ordered.prefix(8) {
            guard peerTable[s.id] != nil else { continue }
            if let bytes = await downloadManifest(id, group: o.group.id, length: Int(o.offer.manifestLength), key: key, from: s) {
                if ManifestID(hashing: bytes) == id { return bytes }
                logger.warning("a peer sent a manifest that does not match its ID", metadata: ["peer.id": "\(s.peerID)", "manifest.id": "\(id)"])
            }
        }
        throw ControlErrorBody(code: .unavailable, message: "no online member can send the manifest of \(id.hex.prefix(12)); try again when the sender is online")
    }

    func downloadManifest(_ id: ManifestID, group: EventID, length: Int, key: [UInt8], from s: PeerSession) async -> [UInt8]? {
        fileShare.nextDownloadToken += 1
        let token = fileShare.nextDownloadToken
        return await withCheckedContinuation { (cont: CheckedContinuation<[UInt8]?, Never>) in
            if let old = fileShare.manifestDownloads.removeValue(forKey: id) { old.continuation.resume(returning: nil) }
            fileShare.manifestDownloads[id] = ManifestDownload(session: s.id, group: group, expected: length, key: key, data: [], token: token,
                                                     continuation: cont)
            sendGetManifest(id, offset: 0, total: length, to: s)
            Task {
                try? await Task.sleep(for: .milliseconds(FileWireLimits.manifestTimeoutMs))
                self.finishDownload(id, token: token, nil)   // the task runs on the node's actor
            }
        }
    }

    func sendGetManifest(_ id: ManifestID, offset: Int, total: Int, to s: PeerSession) {
        var g = Hark_V1_GetManifest()
        g.manifestID = Data(id.bytes)
        if let group = fileShare.manifestDownloads[id]?.group { g.groupID = Data(group.bytes) }
        g.offset = UInt64(offset)
        g.length = UInt32(min(FileWireLimits.manifestSliceBytes, total - offset))
        var f = Hark_V1_Frame()
        f.getManifest = g
        s.send(f)
    }

    func finishDownload(_ id: ManifestID, token: UInt64?, _ bytes: [UInt8]?) {
        guard let d = fileShare.manifestDownloads[id], token == nil || d.token == token else { return }
        fileShare.manifestDownloads.removeValue(forKey: id)
        d.continuation.resume(returning: bytes)
    }

    /// A fetch put its files in place: serve them from there, and tell the group's peers.
    func fetchCompleted(manifest: Manifest, group: EventID, directory: String, paths: [String]) {
        var sources: [StoredSource] = []
        for p in paths {
            let full = directory.hasSuffix("/") ? directory + p : directory + "/" + p
            var st = stat()
            guard lstat(full, &st) == 0 else { return }
            sources.append(StoredSource(path: full, size: UInt64(st.st_size), mtimeS: Int64(st.st_mtim.tv_sec), mtimeNs: Int64(st.st_mtim.tv_nsec),
                                        identity: SourceIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino),
                                                                 ctimeSeconds: Int64(st.st_ctim.tv_sec), ctimeNanoseconds: Int64(st.st_ctim.tv_nsec))))
        }
        do {
            try store.saveSharedFile(.init(manifestID: manifest.id.bytes, group: group, manifest: manifest.encoded,
                                           sources: try JSONEncoder().encode(sources), updatedMs: clock.wallMs()))
        } catch {
            logger.error("cannot record fetched files", metadata: ["error": "\(error)"])
            return
        }
        guard let g = try? store.group(id: group) else { return }
        fileShare.servables[manifest.id] = Servable(group: group, manifest: manifest, source: Self.chunkSource(manifest, sources),
                                          fileKey: FileCrypto.key(groupKey: g.key, manifestID: manifest.id.bytes))
        var h = Hark_V1_Have()
        h.manifestID = Data(manifest.id.bytes)
        h.all = true
        var f = Hark_V1_Frame()
        f.have = h
        for s in peerTable.sessions where isShared(group, with: s) { s.send(f) }
    }

    /// Auto-fetch (`hark daemon --auto-fetch-max`): an offer by someone else under the limit is
    /// fetched into the auto-fetch folder, never over an existing file. While no member online
    /// can send the manifest yet (the offer arrived before the channels to its holders settled),
    /// it tries again, up to `autoFetchAttempts` times, `autoFetchRetryMs` apart (node clock).
    func maybeAutoFetch(_ e: Event, group: Store.GroupRecord) {
        guard configuration.autoFetchMaxBytes > 0, e.author != identity.signing.publicKey,
              let o = Self.openOffer(e, group: group), o.offer.totalSize <= configuration.autoFetchMaxBytes else { return }
        let dir = configuration.autoFetchDirectory ?? home.path + "/files"
        Task {
            for attempt in 1...Self.autoFetchAttempts {
                do {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    _ = try await self.prepareFetch(FetchParams(file: o.manifestID.hex, directory: dir, force: false, waitMs: nil), events: nil)
                    self.logger.info("auto-fetching an offer", metadata: ["manifest.id": "\(o.manifestID)", "bytes": "\(o.offer.totalSize)"])
                    return
                } catch let e as ControlErrorBody where e.code == .unavailable && attempt < Self.autoFetchAttempts {
                    if self.files.job(o.manifestID) != nil { return }   // being fetched already
                    do { try await self.clock.sleep(ms: Self.autoFetchRetryMs) } catch { return }   // the node stops
                } catch {
                    self.logger.info("not auto-fetching an offer", metadata: ["manifest.id": "\(o.manifestID)", "reason": "\(error)"])
                    return
                }
            }
        }
    }

    /// Auto-fetch tries per offer while no member can send its manifest.
    static let autoFetchAttempts = 5
    /// Time between those tries, ms.
    static let autoFetchRetryMs: Int64 = 2_000
}
