// File offers (the node's side of `share`, `files` and FILE_OFFER events): opening offers,
// publishing one, and asking peers which offers they hold. Node actor state (`servables`,
// `pendingFileQueries`); isolated to the actor.

import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkFiles
import HarkLog
import HarkStore
import HarkWireProto

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
        let holders = Set((fileShare.fileHolders[o.manifestID] ?? [:]).filter { $0.value }.compactMap { peerTable[$0.key]?.peerID }).count
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
        try store.saveSharedFile(.init(manifestID: id.bytes, group: g.id, manifest: manifestBytes, sources: json, updatedMs: clock.wallMs()))
        let key = FileCrypto.key(groupKey: g.key, manifestID: id.bytes)
        if let manifest, let sources {
            fileShare.servables[id] = Servable(group: g.id, manifest: manifest, source: Self.chunkSource(manifest, sources), fileKey: key)
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
        guard files.hooks.rawOffers else { throw ControlErrorBody(code: .unknownMethod, message: "unknown method \"\(ControlMethods.testOfferRaw.name)\"") }
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
            for s in peerTable.sessions where isShared(o.group.id, with: s) {
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
        fileShare.pendingFileQueries[id, default: []].insert(s.id)
        s.send(f)
    }
}
