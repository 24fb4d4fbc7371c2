import HarkCrypto

/// Who is who (NodeTrust.swift, NodePeerNames.swift): pairings in progress per peer, the trust
/// state cached from the store, and the display names authors gave. Held by `Node`; isolated to it.
struct TrustBook {
    /// `hark pair` in progress, per peer (PairingBook.swift).
    var pairings = PairingBook()
    /// Verified keys, name warnings, aliases and blocks; nil until first read, reset on change.
    var cache: TrustCache?
    /// Display names authors gave in their JOIN or genesis events.
    var authorNames: [SigningPublicKey: String] = [:]
}
