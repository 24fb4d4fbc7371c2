import ArgumentParser
import Foundation
import HarkCrypto
import HarkNode
#if canImport(Glibc)
import Glibc
#endif

/// Reading passphrases: from the first line of a file, or from the terminal with echo off.
/// The bytes are returned in an array the caller zeroes (`secureZero`) after use; they are never
/// logged or printed.
enum Passphrase {
    /// The first line of `path` (without `\n` or `\r\n`).
    /// - Throws: exit 74 when the file cannot be read, 64 when its first line is empty.
    static func fromFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot read the passphrase file \(path): \(String(cString: strerror(errno)))", Exit.ioError) }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        defer { secureZero(&buf) }
        var n = 0
        while n < buf.count {
            let r = buf[n...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if r < 0 { if errno == EINTR { continue }; throw fail("cannot read \(path): \(String(cString: strerror(errno)))", Exit.ioError) }
            if r == 0 { break }
            n += r
        }
        var end = buf[0..<n].firstIndex(of: 0x0A) ?? n
        if end > 0, buf[end - 1] == 0x0D { end -= 1 }
        guard end > 0 else { throw fail("the first line of \(path) is empty: a passphrase is needed", Exit.usage) }
        return Array(buf[0..<end])
    }

    /// Whether a prompt is possible: standard input is a terminal.
    static var canPrompt: Bool { isatty(0) == 1 }

    /// Prompts on the terminal with echo off; `confirm` asks twice and requires both to match.
    /// - Throws: exit 64 when there is no terminal, the entry is empty or the two differ.
    static func prompt(_ text: String, confirm: Bool) throws -> [UInt8] {
        guard canPrompt else { throw fail("no terminal to ask for the passphrase on: give --passphrase-file FILE", Exit.usage) }
        var first = try readHidden(text)
        guard !first.isEmpty else { throw fail("an empty passphrase is not allowed", Exit.usage) }
        if confirm {
            var again = try readHidden("Again: ")
            defer { secureZero(&again) }
            guard constantTimeEqual(first, again) else {
                secureZero(&first)
                throw fail("the two passphrases differ; nothing was changed", Exit.usage)
            }
        }
        return first
    }

    /// `--passphrase-file` if given, else a prompt on the terminal.
    static func obtain(file: String?, prompt text: String, confirm: Bool) throws -> [UInt8] {
        if let file { return try fromFile(file) }
        return try prompt(text, confirm: confirm)
    }

    private static func readHidden(_ text: String) throws -> [UInt8] {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        var old = termios()
        let haveTerm = tcgetattr(0, &old) == 0
        if haveTerm {
            var raw = old
            raw.c_lflag &= ~tcflag_t(ECHO)
            raw.c_lflag |= tcflag_t(ECHONL)
            tcsetattr(0, TCSAFLUSH, &raw)
        }
        defer { if haveTerm { tcsetattr(0, TCSAFLUSH, &old) } }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        var c: UInt8 = 0
        while true {
            let r = read(0, &c, 1)
            if r < 0 { if errno == EINTR { continue }; break }
            if r == 0 || c == 0x0A { break }
            if line.count < 4096 { line.append(c) }
        }
        c = 0
        if line.last == 0x0D { line.removeLast() }
        return line
    }
}

/// Loads what a home needs unlocked: prompts or reads the passphrase only when the keys are sealed.
/// - Returns: the passphrase (caller zeroes it), or nil for an unencrypted home.
/// - Throws: exit 77 (EX_NOPERM) for a sealed home without a way to get the passphrase.
func passphraseIfSealed(_ home: NodeHome, file: String?, mayPrompt: Bool = true, why: String? = nil) throws -> [UInt8]? {
    guard home.isInitialized, home.isEncrypted else { return nil }
    if let file { return try Passphrase.fromFile(file) }
    guard mayPrompt, Passphrase.canPrompt else { throw fail(why ?? HomeError.locked(path: home.path).description, Exit.noPermission) }
    return try Passphrase.prompt("Passphrase for \(home.path): ", confirm: false)
}
