import ArgumentParser
import HarkControl
#if canImport(Glibc)
import Glibc
#endif

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a message to a group.",
        discussion: """
            The text is the argument, or standard input when the argument is absent or "-" \
            (one trailing newline is dropped). Text must be UTF-8, 1 to 60000 bytes (exit 65 otherwise).
            Example: echo "backup done" | hark send ops
            """
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.") var group: String
    @Argument(help: "Message text (default: read standard input).") var text: String?
    @Flag(name: .long, help: "Print the message sent as one JSON object.") var json = false

    func run() throws {
        var message: String
        if let text, text != "-" {
            message = text
        } else {
            message = try readStdin(limit: ControlLimits.maxTextByteCount + 1)
            if message.hasSuffix("\n") { message.removeLast() }
        }
        guard !message.isEmpty else { throw fail("message text is empty", Exit.dataError) }
        guard message.utf8.count <= ControlLimits.maxTextByteCount else {
            throw fail("message text is longer than \(ControlLimits.maxTextByteCount) bytes", Exit.dataError)
        }
        let view = try call(try connect(options), "send", SendParams(group: group, text: message), as: MessageView.self)
        if json { try printJSON(view) }
    }
}

/// Reads standard input up to `limit` bytes; rejects bytes that are not UTF-8 (exit 65).
func readStdin(limit: Int) throws -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count <= limit {
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; throw fail("cannot read standard input: \(String(cString: strerror(errno)))", Exit.ioError) }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    if bytes.count > limit { throw fail("message text is longer than \(limit - 1) bytes", Exit.dataError) }
    guard let s = String(validating: bytes, as: UTF8.self) else { throw fail("standard input is not UTF-8 text", Exit.dataError) }
    return s
}
