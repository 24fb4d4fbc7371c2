import Testing
@testable import HarkTerminal

@Suite struct LineEditorTests {
    func typed(_ keys: [Key]) -> LineEditor {
        var e = LineEditor()
        for k in keys { _ = e.handle(k) }
        return e
    }

    @Test func cursorMovesAndInsertsInTheMiddle() {
        var e = typed([.text("world"), .home, .text("hello "), .end, .text("!"), .left, .left, .text("X")])
        #expect(e.string == "hello worlXd!")
        #expect(e.cursor == 11)
        _ = e.handle(.backspace)
        #expect(e.string == "hello world!")
        _ = e.handle(.delete)
        #expect(e.string == "hello worl!")
        #expect(e.handle(.right) == .edited && e.cursor == 11)
        #expect(e.handle(.right) == .edited && e.cursor == 11)   // stays at the end
    }

    @Test func wordMovesAndKills() {
        var e = typed([.text("one two, three")])
        _ = e.handle(.wordLeft)
        #expect(e.cursor == 9)
        _ = e.handle(.wordLeft)
        #expect(e.cursor == 4)
        _ = e.handle(.wordRight)
        #expect(e.cursor == 7)
        _ = e.handle(.control("w"))
        #expect(e.string == "one , three")
        _ = e.handle(.control("k"))
        #expect(e.string == "one ")
        _ = e.handle(.control("u"))
        #expect(e.string == "" && e.cursor == 0)
    }

    @Test func backspaceRemovesAWholeGrapheme() {
        var e = typed([.text("a👨‍👩‍👧"), .text("e"), .text("\u{301}")])   // e + combining acute merge
        #expect(e.text.count == 3)
        _ = e.handle(.backspace)
        _ = e.handle(.backspace)
        #expect(e.string == "a")
    }

    @Test func historyRecallsAndKeepsTheDraft() {
        var e = LineEditor()
        for s in ["first", "second"] { _ = e.handle(.text(s)); #expect(e.handle(.enter) == .submit(s)) }
        _ = e.handle(.text("draft"))
        _ = e.handle(.up)
        #expect(e.string == "second")
        _ = e.handle(.up)
        #expect(e.string == "first")
        _ = e.handle(.up)
        #expect(e.string == "first")
        _ = e.handle(.down)
        _ = e.handle(.text("!"))
        #expect(e.string == "second!")
        _ = e.handle(.down)
        #expect(e.string == "draft")
        #expect(e.handle(.enter) == .submit("draft"))
        #expect(e.history == ["first", "second", "draft"])
    }

    @Test func pasteIsOneMultiLineEntry() {
        var e = LineEditor()
        _ = e.handle(.paste("a\nb\nc"))
        #expect(e.string == "a\nb\nc")
        _ = e.handle(.home)
        #expect(e.cursor == 4)           // start of the last line
        _ = e.handle(.up)
        #expect(e.cursor == 2)           // same column on the line above
        _ = e.handle(.newline)
        #expect(e.string == "a\n\nb\nc")
        #expect(e.handle(.enter) == .submit("a\n\nb\nc"))
        #expect(e.isEmpty)
    }

    @Test func blankEntriesAreNotRemembered() {
        var e = LineEditor()
        _ = e.handle(.text("  "))
        #expect(e.handle(.enter) == .submit("  "))
        #expect(e.history.isEmpty)
        #expect(e.handle(.pageUp) == .unhandled)
    }
}

@Suite struct KeyDecoderTests {
    @Test func arrowsHomeEndInTheirVariants() {
        var d = KeyDecoder()
        let keys = d.feed(Array("\u{1B}[D\u{1B}[C\u{1B}[H\u{1B}[F\u{1B}OH\u{1B}OF\u{1B}[1~\u{1B}[4~\u{1B}[7~\u{1B}[8~\u{1B}[3~\u{1B}[5~\u{1B}[6~".utf8))
        #expect(keys == [.left, .right, .home, .end, .home, .end, .home, .end, .home, .end, .delete, .pageUp, .pageDown])
    }

    @Test func wordMovesWithModifiers() {
        var d = KeyDecoder()
        #expect(d.feed(Array("\u{1B}[1;5D\u{1B}[1;5C\u{1B}[1;3D\u{1B}b\u{1B}f".utf8)) == [.wordLeft, .wordRight, .wordLeft, .wordLeft, .wordRight])
    }

    @Test func bracketedPasteIsOneKeyEvenWhenSplit() {
        var d = KeyDecoder()
        let bytes = Array("x\u{1B}[200~one\r\ntwo\rthree\u{1B}[201~y".utf8)
        var keys: [Key] = []
        for b in bytes { keys += d.feed([b]) }     // one byte at a time
        #expect(keys == [.text("x"), .paste("one\ntwo\nthree"), .text("y")])
    }

    @Test func utf8SplitAcrossReads() {
        var d = KeyDecoder()
        let bytes = Array("日本".utf8)
        #expect(d.feed(bytes.prefix(2)) == [])
        #expect(d.feed(bytes.dropFirst(2)) == [.text("日本")])
    }

    @Test func controlsAndLoneEscape() {
        var d = KeyDecoder()
        #expect(d.feed([0x0D, 0x0A, 0x7F, 0x01, 0x05, 0x17, 0x09]) == [.enter, .newline, .backspace, .control("a"), .control("e"), .control("w"), .tab])
        #expect(d.feed([0x1B]) == [])
        #expect(d.flush() == [.control("[")])
        #expect(d.feed(Array("\u{1B}\r".utf8)) == [.newline])
    }

    @Test func pasteIsBounded() {
        var d = KeyDecoder()
        let big = [UInt8](repeating: 0x61, count: KeyDecoder.maxPasteBytes + 1000)
        let keys = d.feed(Array("\u{1B}[200~".utf8) + big + Array("\u{1B}[201~".utf8))
        guard case let .paste(s)? = keys.first else { Issue.record("no paste"); return }
        #expect(s.utf8.count == KeyDecoder.maxPasteBytes)
    }
}
