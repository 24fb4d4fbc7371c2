import Foundation
import HarkControl
import Testing
@testable import HarkNode

/// The node's routing table of control methods (ControlRoutes.swift, NodeDispatch.swift)
/// against HarkControl's `ControlMethods`, and each route served over the real control socket.
@Suite struct ControlRoutesTests {
    private static func names(_ kind: (ControlRoute) -> Bool) -> Set<String> {
        Set(Node.controlRoutes.filter { kind($0.value) }.keys)
    }

    @Test func theNodeServesExactlyTheMethodsOfTheTable() {
        #expect(Set(Node.controlRoutes.keys) == Set(ControlMethods.allNames))
    }

    @Test func eachMethodRunsWhereItDidBefore() {
        // The reads docs/CONTROL.md says run off the actor, and `verify`, the old name of `audit`.
        #expect(ReadService.methods == ["group.list", "log", "log.ids", "log.graph", "export", "audit", "verify", "receipts", "files", "search"])
        #expect(Self.names { if case .stream = $0 { true } else { false } } == ["log.follow", "watch", "fetch"])
        // `receipts.wait` waits off the actor for the node to wake it.
        #expect(Self.names { if case .detached = $0 { true } else { false } } == ["receipts.wait", "share"])
        #expect(Set(LocalReader.methods).isSubset(of: ControlMethods.allNames))
    }

    /// Every name of the table reaches its handler through the socket: params of the wrong type
    /// are `bad_request` (not `unknown_method`), but a method without params ignores whatever
    /// params come (`NoParams` decodes from any JSON); an unknown name is `unknown_method` with
    /// the message it always had.
    @Test func everyMethodIsServedOverTheSocket() async throws {
        let n = try await RunningNode.start("routes")
        try await withNodes([n]) {
            let path = n.home.path + "/control.sock"
            let failures: [String] = await offload {
                var failures: [String] = []
                let noParams = [ControlMethods.status.name, ControlMethods.handover.name, ControlMethods.peers.name,
                                ControlMethods.groupInvites.name, ControlMethods.groupList.name, ControlMethods.pairList.name]
                for name in ControlMethods.allNames {
                    do {
                        // A stream ends its connection after answering: one client per call.
                        // Bounded, and long enough for a parallel test run's stalls.
                        let client = try ControlClient(socketPath: path, timeoutMs: 30_000)
                        _ = try client.call(ControlMethod<Int, NoParams>(name: name), 5)
                        if !noParams.contains(name) { failures.append("\(name): no error") }
                    } catch ControlClient.ClientError.remote(let body) {
                        // `handover` reaches its handler: a daemon refuses.
                        let expected: ControlErrorCode = name == ControlMethods.handover.name ? .unavailable : .badRequest
                        if body.code != expected { failures.append("\(name): \(body.code) \(body.message)") }
                    } catch {
                        failures.append("\(name): \(error)")
                    }
                }
                do {
                    _ = try ControlClient(socketPath: path).call(ControlMethod<NoParams, NoParams>(name: "no.such"), NoParams())
                    failures.append("no.such: no error")
                } catch ControlClient.ClientError.remote(let body) {
                    if body != ControlErrorBody(code: .unknownMethod, message: "unknown method \"no.such\"") { failures.append("no.such: \(body)") }
                } catch {
                    failures.append("no.such: \(error)")
                }
                return failures
            }
            #expect(failures == [])
            // `handover` with its params: a daemon refuses to hand its home over.
            let refusal: ControlErrorBody? = await offload {
                do { _ = try ControlClient(socketPath: path).call(ControlMethods.handover, NoParams()); return nil } catch {
                    guard case let ControlClient.ClientError.remote(body) = error else { return nil }
                    return body
                }
            }
            #expect(refusal?.code == .unavailable)
            // The test hook answers as an unknown method unless HARK_TEST_RAW_OFFERS=1.
            let hook: ControlErrorBody? = await offload {
                do { _ = try ControlClient(socketPath: path).call(ControlMethods.testOfferRaw, RawOfferParams(group: nil, paths: [["a"]])); return nil } catch {
                    guard case let ControlClient.ClientError.remote(body) = error else { return nil }
                    return body
                }
            }
            #expect(hook == ControlErrorBody(code: .unknownMethod, message: "unknown method \"test.offer_raw\""))
            // A method without params answers a request that leaves `params` out.
            let bare = await n.node.dispatch(head: RequestHead(id: 3, method: ControlMethods.groupList.name),
                                             line: Array(#"{"id":3,"method":"group.list"}"#.utf8))
            #expect(String(decoding: bare, as: UTF8.self) == #"{"id":3,"result":[]}"# + "\n")
        }
    }
}
