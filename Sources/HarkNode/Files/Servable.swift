// What this node can serve of a manifest (`Servable`) and where the local copy of each of its
// files is (`StoredSource`). Values; thread-safe.

import HarkFiles
import HarkLog

/// What this node can serve of one manifest: the manifest and where its files are.
struct Servable: Sendable {
    let group: EventID
    let manifest: Manifest
    let source: ChunkSource?
    let fileKey: [UInt8]
    /// A fetch in progress whose verified chunks are served from its part files (a swarm).
    var partial: FetchWriter? = nil
}

/// Where the local copy of each entry is, as stored in `shared_file.sources` (JSON).
struct StoredSource: Codable, Sendable {
    var path: String
    var size: UInt64
    var mtimeS: Int64
    var mtimeNs: Int64
    /// Device, inode and ctime (absent in sources stored before they were kept: those are
    /// re-hashed on every read).
    var identity: SourceIdentity?
}
