import Testing
@testable import HarkTerminal

@Suite struct TerminalTextTests {
    init() { TerminalText.useUTF8Locale() }

    @Test func widthsOfEmojiZWJAndCJK() {
        #expect(TerminalText.width(of: "abc") == 3)
        #expect(TerminalText.width(of: "日本語") == 6)
        #expect(TerminalText.width(of: Character("👍")) == 2)
        // Composite clusters reserve the widest any terminal draws them.
        #expect(TerminalText.width(of: Character("👍🏽")) == 4)
        #expect(TerminalText.width(of: Character("👨‍👩‍👧")) == 6)
        #expect(TerminalText.width(of: Character("❤️")) == 2)
        #expect(TerminalText.isComposite("👨‍👩‍👧") && TerminalText.isComposite("❤️") && TerminalText.isComposite("👍🏽"))
        #expect(!TerminalText.isComposite("e\u{301}") && !TerminalText.isComposite("日"))
        #expect(TerminalText.width(of: Character("e\u{301}")) == 1)
        #expect(TerminalText.width(of: Character("\u{200D}")) == 0)
    }

    @Test func neutralisesControlAndBidiButKeepsJoinersAndSelectors() {
        #expect(TerminalText.neutralised("a\u{1B}[2Jb") == "a\\u{1B}[2Jb")
        #expect(TerminalText.neutralised("x\u{202E}y") == "x\\u{202E}y")
        #expect(TerminalText.neutralised("x\u{2066}y\u{200B}") == "x\\u{2066}y\\u{200B}")
        #expect(TerminalText.neutralised("👨‍👩‍👧 ❤️ a\u{200C}b") == "👨‍👩‍👧 ❤️ a\u{200C}b")
        #expect(TerminalText.neutralised("one\ntwo") == "one\\u{A}two")
        #expect(TerminalText.neutralised("one\ntwo\r", keepNewlines: true) == "one\ntwo\\u{D}")
        #expect(TerminalText.neutralised("a\tb") == "a b")
    }
}

@Suite struct WrapTests {
    init() { TerminalText.useUTF8Locale() }

    @Test func wrapsAtSpacesAndHardBreaksLongWords() {
        #expect(TextWrap.rows("aaa bbb ccc", firstWidth: 7, width: 7, indent: 0) == ["aaa ", "bbb ccc"])
        #expect(TextWrap.rows("aaa bbb ccc", firstWidth: 6, width: 6, indent: 0) == ["aaa ", "bbb ", "ccc"])
        #expect(TextWrap.rows("abcdefghij", firstWidth: 4, width: 6, indent: 2) == ["abcd", "efgh", "ij"])
        #expect(TextWrap.rows("a\nb", firstWidth: 10, width: 10, indent: 0) == ["a", "b"])
        #expect(TextWrap.rows("", firstWidth: 10, width: 10, indent: 0) == [""])
    }

    @Test func wideCharactersAreNeverSplitOrOverflow() {
        let rows = TextWrap.rows("日本語日本語", firstWidth: 5, width: 5, indent: 0)
        #expect(rows == ["日本", "語日", "本語"])
        for r in rows { #expect(TerminalText.width(of: r) <= 5) }
    }

    @Test func inputLayoutPutsTheCursorOnTheWrappedRow() {
        let text = Array(String(repeating: "x", count: 45))
        var l = InputLayout(text: text, cursor: 45, width: 40, promptWidth: 2)
        #expect(l.rows.map(\.count) == [38, 7])
        #expect(l.cursorRow == 1 && l.cursorColumn == 7)
        l = InputLayout(text: text, cursor: 38, width: 40, promptWidth: 2)
        #expect(l.cursorRow == 1 && l.cursorColumn == 0)
        l = InputLayout(text: Array(String(repeating: "x", count: 38)), cursor: 38, width: 40, promptWidth: 2)
        #expect(l.rows.count == 2 && l.cursorRow == 1 && l.cursorColumn == 0)
        l = InputLayout(text: Array("日本語"), cursor: 3, width: 40, promptWidth: 2)
        #expect(l.cursorColumn == 6)
        l = InputLayout(text: Array("ab\ncd"), cursor: 4, width: 40, promptWidth: 2)
        #expect(l.rows == ["ab", "cd"] && l.cursorRow == 1 && l.cursorColumn == 1)
    }
}

@Suite struct TranscriptTests {
    init() { TerminalText.useUTF8Locale() }

    func message(_ n: Int, mine: Bool = false, ticks: String = "") -> ChatEntry {
        ChatEntry(id: "id\(n)", time: "12:00", author: mine ? "you" : "bob", text: "message \(n)", mine: mine, ticks: ticks)
    }

    @Test func ticksUpdateInPlaceWithoutAddingARow() {
        var t = ChatTranscript()
        t.append(message(1, mine: true, ticks: "·"))
        let before = t.layout(width: 40, height: 5).rows
        #expect(t.append(message(1, mine: true, ticks: "✓✓")) == false)
        let after = t.layout(width: 40, height: 5).rows
        #expect(before.count == after.count)
        #expect(after.last?.plainText == "12:00 you: message 1 ✓✓")
        #expect(before.last?.plainText == "12:00 you: message 1 ·")
        #expect(t.entries.count == 1)
    }

    @Test func unreadFallsOnlyAsMessagesAreShown() {
        var t = ChatTranscript()
        for n in 1...3 { t.append(message(n)) }
        _ = t.layout(width: 40, height: 4)
        t.scroll(by: 100)                       // the user reads back
        for n in 4...13 { t.append(message(n), unread: true) }
        #expect(t.unreadCount == 10)
        let top = t.layout(width: 40, height: 4).rows      // still at the top: nothing new shown
        #expect(top.first?.plainText.hasSuffix("message 1") == true)   // the view did not move
        #expect(t.unreadCount == 10)
        #expect(t.newestSeen == "id3" || t.newestSeen == "id2" || t.newestSeen == "id1")
        #expect(t.markerBefore == "id4")
        var counts: [Int] = []
        while !t.isFollowing { t.scroll(by: -3); _ = t.layout(width: 40, height: 4); counts.append(t.unreadCount) }
        #expect(counts.last == 0)
        #expect(counts == counts.sorted(by: >))
        #expect(Set(counts).count > 2)          // it fell in steps, not at once
        #expect(t.newestSeen == "id13")
    }

    @Test func aBurstWhileFollowingCountsAsSeen() {
        var t = ChatTranscript()
        for n in 1...30 { t.append(message(n), unread: true) }
        _ = t.layout(width: 40, height: 5)
        #expect(t.unreadCount == 0)
        #expect(t.newestSeen == "id30")
        t.append(message(31), unread: true)
        #expect(t.markerBefore == "id1")           // no marker moves to a message that arrives in view
        #expect(t.unreadCount == 0)
    }

    @Test func newMessagesMarkerSitsBeforeTheFirstUnread() {
        var t = ChatTranscript()
        t.append(message(1))
        t.append(message(2), unread: true)
        t.append(message(3), unread: true)
        let rows = t.layout(width: 30, height: 10).rows.map(\.plainText).filter { !$0.isEmpty }
        #expect(rows.count == 4)
        #expect(rows[1].contains("new messages"))
        #expect(rows[2].hasSuffix("message 2"))
        #expect(TerminalText.width(of: rows[1]) == 30)
    }

    @Test func scrollToMarkerShowsItAtTheTop() {
        var t = ChatTranscript()
        for n in 1...20 { t.append(message(n)) }
        for n in 21...40 { t.append(message(n), unread: true) }
        t.scrollToMarker(width: 40, height: 10)
        let rows = t.layout(width: 40, height: 10).rows.map(\.plainText)
        #expect(rows[0].contains("new messages"))
        #expect(rows[1].hasSuffix("message 21"))
        #expect(t.unreadCount == 11)
        #expect(t.newestSeen == "id29")
    }

    @Test func narrowRowsNeverOverflow() {
        var t = ChatTranscript()
        t.append(ChatEntry(id: "x", time: "12:00", author: "a-very-long-display-name-indeed", text: "日本語 👨‍👩‍👧 " + String(repeating: "word ", count: 20), mine: true, ticks: "✓✓"))
        t.append(.notice(String(repeating: "notice ", count: 12)))
        for width in [20, 40, 41] {
            for row in t.layout(width: width, height: 50).rows {
                #expect(TerminalText.width(of: row.plainText) <= width, "width \(width): \(row.plainText)")
            }
        }
    }

    @Test func continuationRowsAreIndentedUnderTheText() {
        let e = ChatEntry(id: "m", time: "12:00", author: "bob", text: "line one\nline two")
        #expect(e.rows(width: 40).map(\.plainText) == ["12:00 bob: line one", "           line two"])
    }

    @Test func pagingBackKeepsTheView() {
        var t = ChatTranscript()
        for n in 10...20 { t.append(message(n)) }
        t.scroll(by: 100)
        let top = t.layout(width: 40, height: 5).rows.map(\.plainText)
        t.prepend((1...9).map { message($0) } + [message(10)])
        #expect(t.entries.count == 20)
        let after = t.layout(width: 40, height: 5).rows.map(\.plainText)
        #expect(after == top)
    }
}
