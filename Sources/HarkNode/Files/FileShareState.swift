import HarkFiles
import HarkLog

/// Files this node serves and looks for (NodeFileOffers.swift, NodeFileFrames.swift,
/// NodeFetches.swift). Per-session entries are removed when their channel closes
/// (`fileSessionClosed`). Held by `Node`; isolated to it.
struct FileShareState {
    /// Manifests this node serves, loaded from the store on first use.
    var servables: [ManifestID: Servable] = [:]
    /// Groups known to hold an offer of a manifest (besides the one it was recorded in).
    var offeredIn: [ManifestID: Set<EventID>] = [:]
    /// Per manifest and session: the peer holds every chunk (true) or some (false).
    var fileHolders: [ManifestID: [UInt64: Bool]] = [:]
    /// FileQuery frames sent and not answered yet.
    var pendingFileQueries: [ManifestID: Set<UInt64>] = [:]
    var manifestDownloads: [ManifestID: ManifestDownload] = [:]
    var nextDownloadToken: UInt64 = 0
}
