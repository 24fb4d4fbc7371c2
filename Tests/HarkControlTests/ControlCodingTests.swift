import Foundation
import HarkControl
import Testing

/// The line codec both sides of the control socket use (docs/CONTROL.md): one JSON object per
/// line, snake_case keys, sorted, slashes unescaped.
@Suite struct ControlCodingTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private let status = StatusResult(peerId: "ab", fingerprint: "f1", displayName: "alice", tcpPort: 7411,
                                      discovery: DiscoveryStatus(state: "active", instanceName: "alice"),
                                      connectedPeers: 2, groups: 1, home: "/home/a/.hark", version: "1.0", pid: 42,
                                      staticPeers: ["10.0.0.2:7411"])

    @Test func requestLineIsExact() throws {
        #expect(text(try ControlCoding.encodeLine(Request(id: 1, method: "status", params: NoParams())))
            == "{\"id\":1,\"method\":\"status\",\"params\":{}}\n")
    }

    @Test func keysAreSnakeCaseSortedAndSlashesPlain() throws {
        let line = text(try ControlCoding.encodeLine(Response(id: 7, result: status)))
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        #expect(line.contains("\"tcp_port\":7411") && line.contains("\"connected_peers\":2") && line.contains("\"static_peers\":[\"10.0.0.2:7411\"]"))
        #expect(line.contains("\"home\":\"/home/a/.hark\""))
        #expect(!line.contains("tcpPort"))
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(keys.keys) == ["id", "result"])
        // sorted: "id" before "result", and inside result "connected_peers" before "datagrams"
        #expect(try #require(line.range(of: "\"connected_peers\"")).lowerBound < (try #require(line.range(of: "\"datagrams\""))).lowerBound)
    }

    @Test func resultsRoundTrip() throws {
        let back = try ControlCoding.decode(Response<StatusResult>.self, from: ControlCoding.encodeLine(Response(id: 7, result: status)))
        #expect(back.id == 7 && back.result == status)
        let peer = PeerView(peerId: "cd", fingerprint: "f2", displayName: "bob", connected: false, address: "[fe80::1%lan0]:7411",
                            direction: nil, source: "avahi", lastSeenMs: 1_700_000_000_000, equivocated: true, listenPort: 7412)
        let peers = try ControlCoding.decode(Response<[PeerView]>.self, from: ControlCoding.encodeLine(Response(id: 8, result: [peer])))
        #expect(peers.result == [peer])
    }

    @Test func decodingNeedsSnakeCaseAndEveryRequiredKey() throws {
        let camel = Array(#"{"id":1,"result":{"peerId":"ab"}}"#.utf8)
        #expect(throws: DecodingError.self) { try ControlCoding.decode(Response<StatusResult>.self, from: camel) }
        #expect(throws: DecodingError.self) { try ControlCoding.decode(RequestHead.self, from: Array(#"{"id":1}"#.utf8)) }
        #expect(throws: (any Error).self) { try ControlCoding.decode(RequestHead.self, from: Array("not json".utf8)) }
    }

    @Test func requestDispatchThenParams() throws {
        let line = try ControlCoding.encodeLine(Request(id: 3, method: "peer.alias", params: ["peer": "bob", "alias": "b"]))
        let head = try ControlCoding.decode(RequestHead.self, from: line)
        #expect(head.id == 3 && head.method == "peer.alias")
        let params = try ControlCoding.decode(RequestParams<[String: String]>.self, from: line).params
        #expect(params == ["peer": "bob", "alias": "b"])
    }

    @Test func responseHeadTellsAnswersErrorsAndEventsApart() throws {
        let error = try ControlCoding.encodeLine(ErrorResponse(id: 4, error: ControlErrorBody(code: .notFound, message: "no group x")))
        #expect(text(error) == "{\"error\":{\"code\":\"not_found\",\"message\":\"no group x\"},\"id\":4}\n")
        let head = try ControlCoding.decode(ResponseHead.self, from: error)
        #expect(head.id == 4 && head.error == ControlErrorBody(code: .notFound, message: "no group x") && head.event == nil)
        let event = try ControlCoding.decode(ResponseHead.self, from: ControlCoding.encodeLine(EventLine(event: "message", data: NoParams())))
        #expect(event.id == nil && event.error == nil && event.event == "message")
    }
}
