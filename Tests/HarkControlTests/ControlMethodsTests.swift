import Foundation
import HarkControl
import Testing

/// The table of control methods (ControlMethods.swift) against docs/CONTROL.md: every method in
/// the table is documented, and every method the doc lists is in the table.
@Suite struct ControlMethodsTests {
    /// docs/CONTROL.md, found from this file (Tests/HarkControlTests/ → the package root).
    private static func controlDoc() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("docs/CONTROL.md"), encoding: .utf8)
    }

    /// The methods named in the first column of the doc's method tables (those whose header is
    /// `| method | params | result |`), in the order listed.
    static func documentedMethods(_ doc: String) -> [String] {
        var names: [String] = []
        var inTable = false
        for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| method | params | result |") { inTable = true; continue }
            guard inTable else { continue }
            guard line.hasPrefix("|") else { inTable = false; continue }
            let cell = line.dropFirst().prefix { $0 != "|" }.trimmingCharacters(in: .whitespaces)
            guard cell.hasPrefix("`"), cell.hasSuffix("`"), cell.count > 2 else { continue }   // the |---| rule
            names.append(String(cell.dropFirst().dropLast()))
        }
        return names
    }

    @Test func theDocsMethodTablesAreParsed() throws {
        let names = Self.documentedMethods(try Self.controlDoc())
        // Both tables: the first row of §Methods and the last of §Files, and nothing from the
        // tables of objects or of `watch` events between them.
        #expect(names.first == "status")
        #expect(names.contains("fetch"))
        #expect(!names.contains("message") && !names.contains("presence") && !names.contains("id"))
    }

    @Test func everyMethodInTheTableIsDocumentedAndEveryDocumentedMethodIsInIt() throws {
        let doc = try Self.controlDoc()
        let documented = Self.documentedMethods(doc)
        #expect(Set(documented).count == documented.count, "a method documented twice")
        #expect(Set(documented).subtracting(ControlMethods.allNames).sorted() == [], "documented, not in ControlMethods")
        // A deprecated name is documented in its method's row, not as a row of its own.
        for name in Set(ControlMethods.allNames).subtracting(documented).sorted() {
            #expect(doc.contains("`\(name)` is the deprecated name of this method"), "\(name) is not documented in docs/CONTROL.md")
        }
    }

    @Test func namesAreUniqueAndAsOnTheWire() {
        #expect(Set(ControlMethods.allNames).count == ControlMethods.allNames.count)
        #expect(ControlMethods.groupJoinStatus.name == "group.join.status")
        #expect(ControlMethods.safetyNumber.name == "safety_number")
        #expect(ControlMethods.import.name == "import")
    }

    @Test func aTypedCallSendsTheDescriptorsNameAndDecodesItsResult() throws {
        let c = ControlClient(answering: { request in
            guard let r = try? ControlCoding.decode(Request<GroupRefParams>.self, from: Array(request.dropLast())),
                  r.method == "log.ids",
                  let line = try? ControlCoding.encodeLine(Response(id: r.id, result: [r.params.group])) else { return [] }
            return line
        })
        #expect(try c.call(ControlMethods.logIds, GroupRefParams(group: "g")) == ["g"])
    }
}
