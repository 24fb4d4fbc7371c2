import Foundation
import HarkControl
import Testing

/// Error codes on the wire and the exit codes of `hark` they map to, against the table in
/// docs/CONTROL.md §Errors (the contract scripts rely on).
@Suite struct ControlErrorCodeTests {
    /// `code` → exit status, from the rows `| \`code\` | meaning | N |` of docs/CONTROL.md §Errors.
    private func documentedTable() throws -> [String: Int32] {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/CONTROL.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Errors").dropFirst().first)
        var table: [String: Int32] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, let status = Int32(cells[cells.count - 1]) else { continue }
            table[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = status
        }
        return table
    }

    private static let all: [ControlErrorCode] = [
        .badRequest, .unknownMethod, .invalidArgument, .notFound, .ambiguous, .alreadyExists, .invalidToken, .storage,
        .internal, .badManifest, .targetExists, .unavailable, .ioError,
    ]

    @Test func everyCodeIsDocumentedWithItsExitStatus() throws {
        let table = try documentedTable()
        #expect(table.count == Self.all.count, "documented: \(table.keys.sorted())")
        for code in Self.all {
            #expect(table[code.rawValue] == code.exitStatus, "\(code.rawValue)")
        }
    }

    @Test func exitStatusesAreSysexits() {
        for code in Self.all { #expect((64...78).contains(code.exitStatus), "\(code)") }
    }

    @Test func codesRoundTripAndUnknownCodesAreRefused() throws {
        for code in Self.all {
            let body = ControlErrorBody(code: code, message: "m")
            let back = try ControlCoding.decode(ControlErrorBody.self, from: ControlCoding.encodeLine(body))
            #expect(back == body)
        }
        #expect(throws: DecodingError.self) {
            try ControlCoding.decode(ControlErrorBody.self, from: Array(#"{"code":"no_such_code","message":"m"}"#.utf8))
        }
    }
}
