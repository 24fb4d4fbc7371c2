/// Control API types of file sharing (docs/CONTROL.md "Files"; PROTOCOL.md §8–§9).

/// `share` params: local paths (files or folders, absolute or relative to the daemon's working
/// folder; the CLI sends absolute ones), the group (nil: the only group held), an optional note.
public struct ShareParams: Codable, Sendable {
    public var paths: [String]
    public var group: String?
    public var text: String?
    public init(paths: [String], group: String?, text: String?) { self.paths = paths; self.group = group; self.text = text }
}

/// Something found inside a shared folder and left out (a link, a FIFO, an unsafe name).
public struct SkippedView: Codable, Sendable, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
}

/// `share` result.
public struct ShareResult: Codable, Sendable, Equatable {
    /// The manifest ID, 64 hex digits: the file ID `hark fetch` takes.
    public var fileId: String
    public var group: String
    public var groupName: String
    /// The FILE_OFFER event.
    public var eventId: String
    /// Top-level names.
    public var names: [String]
    public var size: UInt64
    public var files: Int
    public var chunks: Int
    public var skipped: [SkippedView]
    public init(fileId: String, group: String, groupName: String, eventId: String, names: [String], size: UInt64,
                files: Int, chunks: Int, skipped: [SkippedView]) {
        self.fileId = fileId; self.group = group; self.groupName = groupName; self.eventId = eventId; self.names = names
        self.size = size; self.files = files; self.chunks = chunks; self.skipped = skipped
    }
}

/// `files` params: nil lists every group's offers.
public struct FilesParams: Codable, Sendable {
    public var group: String?
    public init(group: String?) { self.group = group }
}

/// One file offer (`files`, and the `file_offer` watch event).
public struct FileOfferView: Codable, Sendable, Equatable {
    public var fileId: String
    public var group: String
    public var eventId: String
    public var names: [String]
    public var size: UInt64
    public var files: Int
    public var sender: String
    public var senderName: String
    public var senderFingerprint: String
    public var text: String?
    public var wallMs: Int64
    /// Online peers known to hold every chunk (the sender included while it is connected).
    public var holders: Int
    /// "mine" (offered here), "complete" (fetched here), "fetching", "partial" (a fetch stopped
    /// before the end), "offered" (nothing here yet).
    public var state: String
    public init(fileId: String, group: String, eventId: String, names: [String], size: UInt64, files: Int, sender: String,
                senderName: String, senderFingerprint: String, text: String?, wallMs: Int64, holders: Int, state: String) {
        self.fileId = fileId; self.group = group; self.eventId = eventId; self.names = names; self.size = size
        self.files = files; self.sender = sender; self.senderName = senderName; self.senderFingerprint = senderFingerprint
        self.text = text; self.wallMs = wallMs; self.holders = holders; self.state = state
    }
}

/// `fetch` params.
public struct FetchParams: Codable, Sendable {
    /// File ID: 64 hex digits or a unique prefix of at least 8.
    public var file: String
    /// Target folder (must exist); files go into it under their offered relative names.
    public var directory: String
    /// Replace existing files.
    public var force: Bool
    /// Give up when no peer can serve a missing chunk for this long (default 60 000).
    public var waitMs: Int64?
    /// At most this many bytes per second from all peers together (absent: no limit).
    public var limitRate: Int64?
    public init(file: String, directory: String, force: Bool, waitMs: Int64?, limitRate: Int64? = nil) {
        self.file = file; self.directory = directory; self.force = force; self.waitMs = waitMs; self.limitRate = limitRate
    }
}

/// `fetch` result (the first line), before any chunk is asked for.
public struct FetchStarted: Codable, Sendable, Equatable {
    public var fileId: String
    public var names: [String]
    public var size: UInt64
    public var files: Int
    public var chunks: Int
    /// Chunks already verified from an earlier, interrupted fetch, or all-zero in the manifest.
    public var chunksHeld: Int
    public var directory: String
    public init(fileId: String, names: [String], size: UInt64, files: Int, chunks: Int, chunksHeld: Int, directory: String) {
        self.fileId = fileId; self.names = names; self.size = size; self.files = files; self.chunks = chunks
        self.chunksHeld = chunksHeld; self.directory = directory
    }
}

/// `fetch` "progress" event data (about 4 per second).
public struct FetchProgress: Codable, Sendable, Equatable {
    public var fileId: String
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var chunksDone: Int
    public var chunksTotal: Int
    public var inFlight: Int
    /// Peers serving (not dropped).
    public var peers: Int
    public init(fileId: String, bytesDone: UInt64, bytesTotal: UInt64, chunksDone: Int, chunksTotal: Int, inFlight: Int, peers: Int) {
        self.fileId = fileId; self.bytesDone = bytesDone; self.bytesTotal = bytesTotal; self.chunksDone = chunksDone
        self.chunksTotal = chunksTotal; self.inFlight = inFlight; self.peers = peers
    }
}

/// One peer's part in a fetch.
public struct FetchPeerView: Codable, Sendable, Equatable {
    public var peerId: String
    public var displayName: String
    /// Verified chunks it delivered.
    public var chunks: Int
    /// Why it was no longer asked: "corrupt", "source_changed", "unresponsive", "departed"; nil if it was not dropped.
    public var dropped: String?
    public init(peerId: String, displayName: String, chunks: Int, dropped: String?) {
        self.peerId = peerId; self.displayName = displayName; self.chunks = chunks; self.dropped = dropped
    }
}

/// `fetch` "done" event data: the files are in place.
public struct FetchDone: Codable, Sendable, Equatable {
    public var fileId: String
    public var directory: String
    /// Relative paths written, in manifest order.
    public var paths: [String]
    public var bytes: UInt64
    public var chunksTotal: Int
    /// Chunks received and verified in this run.
    public var chunksFetched: Int
    /// Chunks taken from the persisted bitmap of an earlier run: neither fetched, read nor re-hashed.
    public var chunksResumed: Int
    /// Chunks all-zero in the manifest: left as holes, never fetched.
    public var chunksZero: Int
    /// Bytes hashed in this run (received chunks only).
    public var bytesHashed: UInt64
    /// Bytes of already-written data read back in this run (0: nothing is re-read).
    public var bytesReadBack: UInt64
    /// Chunks that failed verification (their senders were dropped).
    public var corruptChunks: Int
    public var peers: [FetchPeerView]
    public init(fileId: String, directory: String, paths: [String], bytes: UInt64, chunksTotal: Int, chunksFetched: Int,
                chunksResumed: Int, chunksZero: Int, bytesHashed: UInt64, bytesReadBack: UInt64, corruptChunks: Int,
                peers: [FetchPeerView]) {
        self.fileId = fileId; self.directory = directory; self.paths = paths; self.bytes = bytes; self.chunksTotal = chunksTotal
        self.chunksFetched = chunksFetched; self.chunksResumed = chunksResumed; self.chunksZero = chunksZero
        self.bytesHashed = bytesHashed; self.bytesReadBack = bytesReadBack; self.corruptChunks = corruptChunks; self.peers = peers
    }
}

/// File sharing counters in `status`.
public struct FileCountersView: Codable, Sendable, Equatable {
    /// Chunks sent to peers, and their bytes (each re-read from disk after checking that the
    /// file is still the offered one, PROTOCOL.md §8.4).
    public var chunksServed = 0
    public var bytesServed: UInt64 = 0
    /// Chunks served with their slices sealed with AES-256-GCM, with XChaCha20-Poly1305, and
    /// with ChaCha20-Poly1305 (§9.2).
    public var chunksServedAesGcm = 0
    public var chunksServedXchacha = 0
    public var chunksServedChacha20 = 0
    /// Chunks served after re-hashing them, because their source was recorded without an
    /// identity (device, inode, ctime) by an older hark.
    public var chunksRehashed = 0
    /// Chunks served from the part files of a fetch still in progress (to other fetchers).
    public var chunksServedPartial = 0
    /// Bytes read from local source files to serve chunks.
    public var bytesReadForServing: UInt64 = 0
    /// Chunk requests answered with "source changed".
    public var sourceChanged = 0
    /// Chunk requests refused as not held or busy.
    public var chunksRefused = 0
    /// Chunks received and verified, and chunks that failed verification.
    public var chunksFetched = 0
    public var corruptChunks = 0
    public var activeFetches = 0
    public init() {}
}

/// `test.offer_raw` params (a test hook, served only with HARK_TEST_RAW_OFFERS=1; PROTOCOL.md
/// test hooks): offers a manifest of empty files with these raw names.
public struct RawOfferParams: Codable, Sendable {
    public var group: String?
    /// Raw path components per entry (empty files).
    public var paths: [[String]]
    /// The mode bits of every entry (absent: 0644).
    public var mode: UInt32?
    public init(group: String?, paths: [[String]], mode: UInt32? = nil) { self.group = group; self.paths = paths; self.mode = mode }
}
