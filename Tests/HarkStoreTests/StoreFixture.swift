import Foundation
import HarkCrypto
import HarkLog
import HarkTesting
@testable import HarkStore

/// A fresh temporary directory per test, removed afterwards, and event builders. The store
/// does not look inside bodies, so bodies here are random bytes rather than ciphertexts.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hark-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    var dbPath: String { url.appendingPathComponent("hark.sqlite").path }
}

/// The shared deterministic keys (HarkTesting): `Keys.alice`, `.bob`, `.carol`.
typealias Keys = Fixture

enum Build {
    static func genesis(_ key: SigningKeyPair = Keys.alice, wallMs: Int64 = 1_000) throws -> Event {
        try EventAuthor.make(kind: .genesis, groupID: nil, author: key, seq: 1, selfParent: nil, parents: [],
                             wallMs: wallMs, body: SecureRandom.bytes(64))
    }

    static func message(_ key: SigningKeyPair, group: Event, after selfParent: Event?, parents: [Event]) throws -> Event {
        try EventAuthor.make(kind: .message, groupID: group.id, author: key, seq: (selfParent?.seq ?? 0) + 1,
                             selfParent: selfParent, parents: parents, wallMs: 2_000, body: SecureRandom.bytes(48))
    }

    /// genesis (alice) ← a2 (alice), b1 (bob) ← d (carol, parents a2 and b1): a diamond.
    struct Diamond { let g: Event, a2: Event, b1: Event, d: Event }

    static func diamond() throws -> Diamond {
        let g = try genesis()
        let a2 = try message(Keys.alice, group: g, after: g, parents: [])
        let b1 = try message(Keys.bob, group: g, after: nil, parents: [g])
        let d = try message(Keys.carol, group: g, after: nil, parents: [a2, b1])
        return Diamond(g: g, a2: a2, b1: b1, d: d)
    }
}
