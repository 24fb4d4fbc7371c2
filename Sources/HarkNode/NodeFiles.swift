#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HarkControl
import HarkCrypto
import HarkFiles
import HarkLog
import HarkProto
import HarkStore
import Logging
import NIOCore

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

/// A FILE_OFFER event, opened.
struct OfferRecord: Sendable {
    let event: Event
    let group: Store.GroupRecord
    let offer: Hark_V1_FileOffer
    let manifestID: ManifestID
}

extension Node {
    // MARK: offers

    /// The offer's content, if it is a well-formed FileOffer (else the event is inert).
    static func openOffer(_ e: Event, group: Store.GroupRecord) -> OfferRecord? {
        guard e.kind == .fileOffer, e.body != nil, let content = try? BodyCipher.open(e, groupKey: group.key),
              case let .fileOffer(o)? = content.content,
              let id = try? ManifestID(bytes: [UInt8](o.manifestID)),
              (1...UInt64(FileLimits.maxManifestBytes)).contains(o.manifestLength),
              (1...UInt32(FileLimits.maxEntries)).contains(o.entryCount),
              o.names.count <= FileWireLimits.maxOfferNames else { return nil }
        return OfferRecord(event: e, group: group, offer: o, manifestID: id)
    }

    /// The opened FILE_OFFER events of `groups`, in total order: an indexed read of the offers,
    /// not of the history. - Throws: `StoreError`.
    func offers(groups: [Store.GroupRecord]) throws -> [OfferRecord] {
        var out: [OfferRecord] = []
        for g in groups {
            for e in try store.fileOffers(group: g.id) {
                if let o = Self.openOffer(e, group: g) { out.append(o) }
            }
        }
        return out.sorted { EventOrder.precedes($0.event, $1.event) }
    }

    /// Finds an offer by full manifest ID or unique prefix (≥ 8 hex digits).
    func resolveOffer(_ ref: String) throws -> OfferRecord {
        let lower = ref.lowercased()
        guard lower.count >= 8, lower.count <= 64, lower.allSatisfy(\.isHexDigit) else {
            throw ControlErrorBody(code: .invalidArgument, message: "a file ID is 8 to 64 hex digits (see `hark files`)")
        }
        var byID: [ManifestID: OfferRecord] = [:]
        for o in try offers(groups: try store.allGroups()) where o.manifestID.hex.hasPrefix(lower) { byID[o.manifestID] = byID[o.manifestID] ?? o }
        guard byID.count == 1, let o = byID.values.first else {
            throw ControlErrorBody(code: byID.isEmpty ? .notFound : .ambiguous,
                                   message: byID.isEmpty ? "no file offer \(ref) in any group (see `hark files`)" : "file ID prefix \(ref) is ambiguous")
        }
        return o
    }

    func offerView(_ o: OfferRecord) -> FileOfferView {
        let author = PeerID(o.event.author)
        let holders = Set((fileHolders[o.manifestID] ?? [:]).filter { $0.value }.compactMap { sessions[$0.key]?.peerID }).count
        let state: String
        if files.job(o.manifestID) != nil {
            state = "fetching"
        } else if let rec = try? store.sharedFile(o.manifestID.bytes) {
            state = rec.sources == nil ? "partial" : (o.event.author == identity.signing.publicKey ? "mine" : "complete")
        } else {
            state = o.event.author == identity.signing.publicKey ? "mine" : "offered"
        }
        return FileOfferView(fileId: o.manifestID.hex, group: o.group.id.hex, eventId: o.event.id.hex, names: o.offer.names,
                             size: o.offer.totalSize, files: Int(o.offer.entryCount), sender: author.description,
                             senderName: displayName(of: o.event.author), senderFingerprint: author.shortFingerprint,
                             text: o.offer.text.isEmpty ? nil : o.offer.text, wallMs: o.event.wallMs, holders: holders, state: state)
    }

    func groupOrOnly(_ ref: String?) throws -> Store.GroupRecord {
        if let ref { return try resolveGroup(ref) }
        let all = try store.allGroups()
        guard all.count == 1 else {
            if all.isEmpty { throw ControlErrorBody(code: .notFound, message: "this node is in no group (create one with `hark group create NAME`)") }
            throw ControlErrorBody(code: .ambiguous, message: "this node is in \(all.count) groups; name one with -g GROUP")
        }
        return all[0]
    }

    // MARK: control: share

    /// `share`: builds the manifest (reading and hashing the files, off the node actor), stores
    /// it and writes the FILE_OFFER event.
    nonisolated func share(_ p: ShareParams) async throws -> ShareResult {
        guard !p.paths.isEmpty else { throw ControlErrorBody(code: .invalidArgument, message: "nothing to share") }
        if let t = p.text, t.utf8.count > ControlLimits.maxTextByteCount {
            throw ControlErrorBody(code: .invalidArgument, message: "the note is \(t.utf8.count) bytes; the limit is \(ControlLimits.maxTextByteCount)")
        }
        let g = try await groupOrOnly(p.group)
        let built: ManifestBuilder.Result
        do { built = try ManifestBuilder.build(paths: p.paths) } catch {
            switch error {
            case .io: throw ControlErrorBody(code: .ioError, message: "\(error)")
            default: throw ControlErrorBody(code: .invalidArgument, message: "\(error)")
            }
        }
        let sources = built.sources.map {
            StoredSource(path: $0.path, size: $0.size, mtimeS: $0.mtimeSeconds, mtimeNs: $0.mtimeNanoseconds, identity: $0.identity)
        }
        let skipped = built.skipped.map { SkippedView(path: $0.path, reason: $0.reason) }
        return try await publishOffer(manifestBytes: built.manifest.encoded, manifest: built.manifest, sources: sources,
                                      group: g, text: p.text, skipped: skipped)
    }

    func publishOffer(manifestBytes: [UInt8], manifest: Manifest?, sources: [StoredSource]?, group g: Store.GroupRecord,
                      text: String?, skipped: [SkippedView], names rawNames: [[String]]? = nil) throws -> ShareResult {
        let id = ManifestID(hashing: manifestBytes)
        let json = try sources.map { try JSONEncoder().encode($0) }
        try store.saveSharedFile(.init(manifestID: id.bytes, group: g.id, manifest: manifestBytes, sources: json, updatedMs: Node.nowMs()))
        let key = FileCrypto.key(groupKey: g.key, manifestID: id.bytes)
        if let manifest, let sources {
            servables[id] = Servable(group: g.id, manifest: manifest, source: Self.chunkSource(manifest, sources), fileKey: key)
        }
        var names: [String] = []
        for path in rawNames ?? manifest?.entries.map(\.path) ?? [] {
            guard let first = path.first, !names.contains(first) else { continue }
            if names.count == FileWireLimits.maxOfferNames { break }
            names.append(String(decoding: Array(first.utf8.prefix(FileWireLimits.maxOfferNameBytes)), as: UTF8.self))
        }
        var o = Hark_V1_FileOffer()
        o.manifestID = Data(id.bytes)
        o.manifestLength = UInt64(manifestBytes.count)
        o.totalSize = manifest?.totalBytes ?? 0
        o.entryCount = UInt32(manifest?.entries.count ?? rawNames?.count ?? 1)
        o.names = names
        o.text = text ?? ""
        var c = Hark_V1_Content()
        c.fileOffer = o
        let e = try author(kind: .fileOffer, content: c, group: g)
        logger.info("files offered", metadata: ["manifest.id": "\(id)", "group.id": "\(g.id)", "files": "\(o.entryCount)", "bytes": "\(o.totalSize)"])
        return ShareResult(fileId: id.hex, group: g.id.hex, groupName: g.name, eventId: e.id.hex, names: names, size: o.totalSize,
                           files: Int(o.entryCount), chunks: manifest?.chunkCount ?? 0, skipped: skipped)
    }

    static func chunkSource(_ manifest: Manifest, _ sources: [StoredSource]) -> ChunkSource? {
        guard sources.count == manifest.entries.count else { return nil }
        return ChunkSource(manifest: manifest, files: sources.map {
            SourceFile(path: $0.path, size: $0.size, mtimeSeconds: $0.mtimeS, mtimeNanoseconds: $0.mtimeNs, identity: $0.identity)
        })
    }

    /// `test.offer_raw` (only with HARK_TEST_RAW_OFFERS=1): offers a manifest of empty files with
    /// the given raw path components, bypassing every name check, to test receivers.
    func offerRaw(_ p: RawOfferParams) throws -> ShareResult {
        guard files.hooks.rawOffers else { throw ControlErrorBody(code: .unknownMethod, message: "unknown method \"test.offer_raw\"") }
        let g = try groupOrOnly(p.group)
        var m = Hark_V1_FileManifest()
        m.format = 1
        for path in p.paths {
            var e = Hark_V1_FileEntry()
            e.path = path
            e.size = 0
            e.mode = p.mode ?? 0o644
            e.chunkSize = UInt32(FileLimits.minChunkSize)
            e.root = Data(MerkleTree.fileRoot(size: 0, chunkSize: FileLimits.minChunkSize, flatHashes: [], .blake2b256))
            m.entries.append(e)
        }
        let bytes: [UInt8] = try m.serializedBytes()
        return try publishOffer(manifestBytes: bytes, manifest: nil, sources: nil, group: g, text: nil, skipped: [], names: p.paths)
    }

    // MARK: control: files

    /// `files` first: asks every peer that shares the groups which offers it holds; true when a
    /// query went out (the caller then waits 400 ms for answers, ReadService.swift).
    func queryAllOffers(group ref: String?) throws -> Bool {
        let groups = try ref.map { [try resolveGroup($0)] } ?? store.allGroups()
        var sent = false
        for o in try offers(groups: groups).suffix(256) {
            for s in sessions.values where isShared(o.group.id, with: s) {
                sendFileQuery(o.manifestID, group: o.group.id, to: s)
                sent = true
            }
        }
        return sent
    }

    func offerViews(group ref: String?) throws -> [FileOfferView] {
        let groups = try ref.map { [try resolveGroup($0)] } ?? store.allGroups()
        var seen = Set<ManifestID>()
        return try offers(groups: groups).filter { seen.insert($0.manifestID).inserted }.map(offerView)
    }

    func sendFileQuery(_ id: ManifestID, group: EventID, to s: PeerSession) {
        var q = Hark_V1_FileQuery()
        q.manifestID = Data(id.bytes)
        q.groupID = Data(group.bytes)
        var f = Hark_V1_Frame()
        f.fileQuery = q
        pendingFileQueries[id, default: []].insert(s.id)
        s.send(f)
    }

    // MARK: control: fetch

    /// `fetch`: the response once the manifest is here and the target is staged, then one
    /// `progress` event about 4 times a second, then `done` or `failed`.
    nonisolated func streamFetch(head: RequestHead, line: [UInt8], channel: any Channel,
                                 outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: FetchEvent.self, bufferingPolicy: .bufferingNewest(64))
        let job: FetchJob
        let started: FetchStarted
        do {
            let p = try params(FetchParams.self, line)
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
            try store.saveSharedFile(.init(manifestID: id.bytes, group: o.group.id, manifest: bytes, sources: nil, updatedMs: Node.nowMs()))
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
        for (sid, all) in fileHolders[id] ?? [:] where all {
            if let s = sessions[sid] { await job.addPeer(s, holding: .all) }
        }
        for s in sessions.values where isShared(group, with: s) { sendFileQuery(id, group: group, to: s) }
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
        let candidates = sessions.values.filter { isShared(o.group.id, with: $0) }
        for s in candidates { sendFileQuery(id, group: o.group.id, to: s) }
        for _ in 0..<30 where !(pendingFileQueries[id] ?? []).isEmpty { try? await Task.sleep(for: .milliseconds(50)) }
        let holders = fileHolders[id] ?? [:]
        let ordered = candidates.sorted { a, b in
            func rank(_ s: PeerSession) -> Int { (s.peerID.key == o.event.author ? 0 : 2) + (holders[s.id] != nil ? 0 : 1) }
            return (rank(a), a.id) < (rank(b), b.id)
        }
        let key = FileCrypto.key(groupKey: o.group.key, manifestID: id.bytes)
        for s in ordered.prefix(8) {
            guard sessions[s.id] != nil else { continue }
            if let bytes = await downloadManifest(id, group: o.group.id, length: Int(o.offer.manifestLength), key: key, from: s) {
                if ManifestID(hashing: bytes) == id { return bytes }
                logger.warning("a peer sent a manifest that does not match its ID", metadata: ["peer.id": "\(s.peerID)", "manifest.id": "\(id)"])
            }
        }
        throw ControlErrorBody(code: .unavailable, message: "no online member can send the manifest of \(id.hex.prefix(12)); try again when the sender is online")
    }

    func downloadManifest(_ id: ManifestID, group: EventID, length: Int, key: [UInt8], from s: PeerSession) async -> [UInt8]? {
        nextDownloadToken += 1
        let token = nextDownloadToken
        return await withCheckedContinuation { (cont: CheckedContinuation<[UInt8]?, Never>) in
            if let old = manifestDownloads.removeValue(forKey: id) { old.continuation.resume(returning: nil) }
            manifestDownloads[id] = ManifestDownload(session: s.id, group: group, expected: length, key: key, data: [], token: token,
                                                     continuation: cont)
            sendGetManifest(id, offset: 0, total: length, to: s)
            Task {
                try? await Task.sleep(for: .milliseconds(FileWireLimits.manifestTimeoutMs))
                await self.finishDownload(id, token: token, nil)
            }
        }
    }

    func sendGetManifest(_ id: ManifestID, offset: Int, total: Int, to s: PeerSession) {
        var g = Hark_V1_GetManifest()
        g.manifestID = Data(id.bytes)
        if let group = manifestDownloads[id]?.group { g.groupID = Data(group.bytes) }
        g.offset = UInt64(offset)
        g.length = UInt32(min(FileWireLimits.manifestSliceBytes, total - offset))
        var f = Hark_V1_Frame()
        f.getManifest = g
        s.send(f)
    }

    func finishDownload(_ id: ManifestID, token: UInt64?, _ bytes: [UInt8]?) {
        guard let d = manifestDownloads[id], token == nil || d.token == token else { return }
        manifestDownloads.removeValue(forKey: id)
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
                                           sources: try JSONEncoder().encode(sources), updatedMs: Node.nowMs()))
        } catch {
            logger.error("cannot record fetched files", metadata: ["error": "\(error)"])
            return
        }
        guard let g = try? store.group(id: group) else { return }
        servables[manifest.id] = Servable(group: group, manifest: manifest, source: Self.chunkSource(manifest, sources),
                                          fileKey: FileCrypto.key(groupKey: g.key, manifestID: manifest.id.bytes))
        var h = Hark_V1_Have()
        h.manifestID = Data(manifest.id.bytes)
        h.all = true
        var f = Hark_V1_Frame()
        f.have = h
        for s in sessions.values where isShared(group, with: s) { s.send(f) }
    }

    /// Auto-fetch (`hark daemon --auto-fetch-max`): an offer by someone else under the limit is
    /// fetched into the auto-fetch folder, never over an existing file.
    func maybeAutoFetch(_ e: Event, group: Store.GroupRecord) {
        guard configuration.autoFetchMaxBytes > 0, e.author != identity.signing.publicKey,
              let o = Self.openOffer(e, group: group), o.offer.totalSize <= configuration.autoFetchMaxBytes else { return }
        let dir = configuration.autoFetchDirectory ?? home.path + "/files"
        Task {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                _ = try await self.prepareFetch(FetchParams(file: o.manifestID.hex, directory: dir, force: false, waitMs: nil), events: nil)
                self.logger.info("auto-fetching an offer", metadata: ["manifest.id": "\(o.manifestID)", "bytes": "\(o.offer.totalSize)"])
            } catch {
                self.logger.info("not auto-fetching an offer", metadata: ["manifest.id": "\(o.manifestID)", "reason": "\(error)"])
            }
        }
    }

    // MARK: frames (PROTOCOL.md §11)

    func manifestID(_ raw: Data, _ what: String) throws -> ManifestID {
        guard let id = try? ManifestID(bytes: [UInt8](raw)) else { throw ProtocolViolation("\(what) with a manifest ID of \(raw.count) bytes") }
        return id
    }

    /// What this node serves of `id` (offered, or fetched completely), or nil.
    func servable(_ id: ManifestID) -> Servable? {
        if let s = servables[id] { return s }
        guard let rec = try? store.sharedFile(id.bytes), let json = rec.sources,
              let sources = try? JSONDecoder().decode([StoredSource].self, from: json),
              let manifest = try? Manifest(decoding: rec.manifest), let g = try? store.group(id: rec.group) else { return nil }
        let s = Servable(group: rec.group, manifest: manifest, source: Self.chunkSource(manifest, sources),
                         fileKey: FileCrypto.key(groupKey: g.key, manifestID: id.bytes))
        servables[id] = s
        return s
    }

    /// The group under which `s` may get file `id` when it asks in group `raw` (a request's
    /// `group_id`; empty: `recorded`, the group the file is known here by): a group shared with
    /// `s` that is `recorded` or holds an offer of `id`. Its key derives the file key the
    /// answer is sealed under (PROTOCOL.md §11.3). nil: answer as not held.
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
        if offeredIn[id]?.contains(g) == true { return true }
        guard let rec = try? store.group(id: g), let found = try? offers(groups: [rec]).contains(where: { $0.manifestID == id }), found else {
            return false
        }
        offeredIn[id, default: []].insert(g)
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
            // A fetch in progress: what it verified so far (a swarm, §11.4).
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
        for s in sessions.values where isShared(group, with: s) { s.send(f) }
    }

    func receiveHave(_ h: Hark_V1_Have, from s: PeerSession) throws {
        let id = try manifestID(h.manifestID, "have")
        guard !(h.all && !h.bitmap.isEmpty) else { throw ProtocolViolation("have with both all and a bitmap") }
        pendingFileQueries[id]?.remove(s.id)
        guard h.all || !h.bitmap.isEmpty else {
            fileHolders[id]?.removeValue(forKey: s.id)
            return
        }
        fileHolders[id, default: [:]][s.id] = h.all
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
        guard var d = manifestDownloads[id], d.session == s.id else { return }
        guard m.totalLength != 0, m.totalLength == UInt64(d.expected), m.offset == UInt64(d.data.count),
              let plain = try? XChaChaPoly.openWithPrefixedNonce([UInt8](m.box), key: d.key,
                                                                 associatedData: FileCrypto.manifestAD(id.bytes, offset: m.offset)),
              !plain.isEmpty, d.data.count + plain.count <= d.expected else {
            finishDownload(id, token: d.token, nil)
            return
        }
        manifestDownloads[id] = nil
        d.data.append(contentsOf: plain)
        manifestDownloads[id] = d
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
        if r.reason == .sourceChanged { fileHolders[id]?.removeValue(forKey: s.id) }
        guard let job = files.job(id) else { return }
        let sid = s.id
        Task { await job.refused(sid, chunk: Int(r.chunk), reason: r.reason) }
    }

    /// A channel closed: forget what it held, stop serving it, tell the fetches.
    func fileSessionClosed(_ s: PeerSession) {
        files.sessionClosed(s.id)
        for id in fileHolders.keys { fileHolders[id]?.removeValue(forKey: s.id) }
        for id in pendingFileQueries.keys { pendingFileQueries[id]?.remove(s.id) }
        for (id, d) in manifestDownloads where d.session == s.id { finishDownload(id, token: d.token, nil) }
        let sid = s.id
        for job in files.allJobs { Task { await job.removePeer(sid) } }
    }
}

/// `test.offer_raw` params (test-only; HARK_TEST_RAW_OFFERS=1).
struct RawOfferParams: Codable, Sendable {
    var group: String?
    /// Raw path components per entry (empty files).
    var paths: [[String]]
    var mode: UInt32?
}
