import HarkFiles
import Testing

@Suite struct SafePathTests {
    func problem(_ name: String) -> NameProblem? {
        do { _ = try SafePath.components(of: name); return nil } catch {
            if case let .unsafeName(_, p) = error { return p }
            return nil
        }
    }

    @Test func maliciousNamesAreRefusedWithTheirReason() {
        #expect(problem("../../x") == .dotDot)
        #expect(problem("/etc/x") == .absolute)
        #expect(problem("a/../../b") == .dotDot)
        #expect(problem("a\u{0}b") == .nul)
        #expect(problem("\u{202E}txt.exe") == .bidiControl)
        #expect(problem("a\u{2066}b") == .bidiControl)
        #expect(problem("a\u{200F}b") == .bidiControl)
        #expect(problem("a\u{061C}b") == .bidiControl)
        #expect(problem("") == .empty)
        #expect(problem(".") == .dot)
        #expect(problem("a/./b") == .dot)
        #expect(problem("a//b") == .empty)
        #expect(problem("a/") == .empty)
        #expect(problem("a\\..\\b") == .backslash)
        #expect(problem("x\u{1B}[31m") == .controlCharacter)
        #expect(problem("x\u{7F}") == .controlCharacter)
        #expect(problem("x\u{85}") == .controlCharacter)   // C1 NEL
        #expect(problem("x\nnewline") == .controlCharacter)
        #expect(problem("e\u{301}") == .notNFC)            // decomposed é
        #expect(problem(".hark-partial/x") == .reserved)
        #expect(problem(String(repeating: "a", count: 256)) == .componentTooLong(256))
        let deep = Array(repeating: String(repeating: "d", count: 200), count: 21).joined(separator: "/")
        #expect(problem(deep) == .pathTooLong(21 * 200 + 20))
        #expect(problem(Array(repeating: "d", count: 129).joined(separator: "/")) == .tooManyComponents(129))
    }

    @Test func ordinaryNamesPass() throws {
        #expect(try SafePath.components(of: "photos/2024/é.jpg") == ["photos", "2024", "é.jpg"])
        #expect(try SafePath.components(of: "..hidden") == ["..hidden"])
        #expect(try SafePath.components(of: "a b/c...d") == ["a b", "c...d"])
        #expect(try SafePath.components(of: "日本語/ملف.txt") == ["日本語", "ملف.txt"])
        #expect(try SafePath.components(of: String(repeating: "a", count: 255)).count == 1)
        #expect(try SafePath.validate(["x", ".hark-partialx"]) == ["x", ".hark-partialx"])
    }

    @Test func displaySafeNeutralisesControlAndBidiCharacters() {
        #expect(SafePath.displaySafe("\u{202E}txt.exe") == "\\u{202E}txt.exe")
        #expect(SafePath.displaySafe("a\u{1B}[2Jb") == "a\\u{1B}[2Jb")
        #expect(SafePath.displaySafe("x\u{2069}\u{200E}\u{061C}\u{9B}") == "x\\u{2069}\\u{200E}\\u{61C}\\u{9B}")
        #expect(SafePath.displaySafe("line\nbreak\r") == "line\\u{A}break\\u{D}")
        #expect(SafePath.displaySafe("normal é 日本") == "normal é 日本")
        // The error message of a refused name is display-safe too.
        #expect(throws: FileError.unsafeName(name: "\\u{202E}txt.exe", problem: .bidiControl)) {
            try SafePath.components(of: "\u{202E}txt.exe")
        }
    }
}
