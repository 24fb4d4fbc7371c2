// The test hooks of file transfer, read once from the environment. Immutable; thread-safe.

import Foundation

/// Test-only behaviour, enabled by environment variables that a normal run never sets
/// (documented in docs/PROTOCOL.md Appendix C as test hooks).
struct FileTestHooks: Sendable {
    /// HARK_TEST_CORRUPT_CHUNKS=1: flip a byte of every chunk served (a lying peer).
    let corruptServedChunks: Bool
    /// HARK_TEST_SERVE_DELAY_MS=N: wait N ms before serving each chunk (to interrupt a fetch mid-way).
    let serveDelayMs: Int
    /// HARK_TEST_RAW_OFFERS=1: enables the `test.offer_raw` control method (manifests with arbitrary names).
    let rawOffers: Bool

    static func fromEnvironment() -> FileTestHooks {
        let env = ProcessInfo.processInfo.environment
        return FileTestHooks(corruptServedChunks: env["HARK_TEST_CORRUPT_CHUNKS"] == "1",
                             serveDelayMs: Int(env["HARK_TEST_SERVE_DELAY_MS"] ?? "") ?? 0,
                             rawOffers: env["HARK_TEST_RAW_OFFERS"] == "1")
    }
}
