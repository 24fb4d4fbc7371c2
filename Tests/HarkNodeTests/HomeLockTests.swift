import Foundation
import HarkControl
import Testing
@testable import HarkNode

#if canImport(Glibc)
import Glibc
#endif

/// The home's lock (HomeLock.swift), the hand-over to a starting daemon, and reads served off the
/// node's actor (ReadService.swift). Real files, real sockets on 127.0.0.1, real SQLite.
@Suite struct HomeLockTests {
    @Test func theLockNamesItsHolderAndIsExclusiveUntilReleased() throws {
        let home = TempHome("lock")
        let path = home.path + "/daemon.lock"
        let lock = try #require(try HomeLock.tryAcquire(path: path, role: .send))
        #expect(HomeLock.holder(path: path) == HomeLockHolder(pid: getpid(), role: .send))
        // flock is per open file description: a second open in this process conflicts too.
        #expect(try HomeLock.tryAcquire(path: path, role: .daemon) == nil)
        lock.release()
        #expect(HomeLock.holder(path: path) == nil)
        let again = try #require(try HomeLock.tryAcquire(path: path, role: .daemon))
        #expect(HomeLock.holder(path: path)?.role == .daemon)
        again.release()
    }

    @Test func aDaemonHoldingTheHomeIsNamedAndNotWaitedFor() async throws {
        let first = try await RunningNode.start("held")
        try await withNodes([first]) {
            var config = NodeConfiguration()
            config.listenHost = "127.0.0.1"
            config.discoveryEnabled = false
            config.lockWaitMs = 10_000
            let second = try Node(home: NodeHome(path: first.home.path), configuration: config, logger: .init(label: "test.second"))
            let start = ContinuousClock.now
            do {
                try await second.run()
                Issue.record("a second node ran on a home a daemon holds")
            } catch let NodeError.alreadyRunning(_, holder, _) {
                #expect(holder == HomeLockHolder(pid: getpid(), role: .daemon))
                #expect(ContinuousClock.now - start < .seconds(5), "a daemon's lock is not waited for")
            }
        }
    }

    @Test func aSendsNodeHandsTheHomeOverToAStartingDaemon() async throws {
        let short = try await RunningNode.start("handover") { $0.role = .send }
        try await withNodes([short]) {
            var config = NodeConfiguration()
            config.listenHost = "127.0.0.1"
            config.discoveryEnabled = false
            // Bounds of 30 s: a full test run beside another on 2 cores kept the handover past 15 s.
            config.lockWaitMs = 30_000
            let daemon = try Node(home: NodeHome(path: short.home.path), configuration: config, logger: .init(label: "test.daemon"))
            let running = Task { try await daemon.run() }
            // The send's node stops by itself (asked over its control socket) ...
            let ended = await offload { () -> Bool in
                for _ in 0..<600 {
                    if (try? ControlClient(socketPath: NodeHome(path: short.home.path).socketPath))
                        .flatMap({ try? $0.call(ControlMethods.status, NoParams()) })?.role == "daemon" { return true }
                    usleep(50_000)
                }
                return false
            }
            #expect(ended, "the daemon did not take the home over within 30 s")
            _ = try? await short.task.value   // the send's node has returned
            #expect(HomeLock.holder(path: short.home.path + "/daemon.lock")?.role == .daemon)
            running.cancel()
            _ = try? await running.value
        }
    }

    @Test func readsOffTheActorAnswerAsTheNodeDoes() async throws {
        let n = try await RunningNode.start("reads")
        try await withNodes([n]) {
            let create = try ControlCoding.encodeLine(Request(id: 1, method: ControlMethods.groupCreate.name, params: GroupCreateOptions(name: "g")))
            _ = await n.node.dispatch(head: RequestHead(id: 1, method: ControlMethods.groupCreate.name), line: Array(create.dropLast()))
            for i in 0..<3 {
                let line = try ControlCoding.encodeLine(Request(id: 2, method: ControlMethods.send.name, params: SendParams(group: "g", text: "m\(i)")))
                _ = await n.node.dispatch(head: RequestHead(id: 2, method: ControlMethods.send.name), line: Array(line.dropLast()))
            }
            for (method, params) in [("log", #"{"group":"g"}"#), ("group.list", "{}"), ("export", #"{"group":"g"}"#),
                                     ("log.ids", #"{"group":"g"}"#), ("audit", "{}")] {
                let line = Array(#"{"id":7,"method":"\#(method)","params":\#(params)}"#.utf8)
                let head = RequestHead(id: 7, method: method)
                let onActor = await n.node.dispatch(head: head, line: line)
                let offActor = await n.node.answerRead(head: head, line: line)
                #expect(offActor == onActor, "\(method): \(String(decoding: offActor, as: UTF8.self))")
                #expect(!String(decoding: offActor, as: UTF8.self).contains("\"error\""), "\(method)")
            }
        }
    }
}
