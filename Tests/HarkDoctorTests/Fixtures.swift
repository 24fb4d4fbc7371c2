import Foundation
import Testing

/// The recorded listings in Fixtures/ (made by scripts/record-doctor-fixtures.sh in network
/// namespaces: nft 1.0.6, iptables 1.8.9 with the nf_tables backend, Debian 12).
enum Fixture {
    /// The text of `Fixtures/NAME`.
    static func text(_ name: String) throws -> String {
        let dir = try #require(Bundle.module.resourceURL, "the test bundle has no resources")
        return try String(contentsOf: dir.appendingPathComponent("Fixtures/\(name)"), encoding: .utf8)
    }
}
