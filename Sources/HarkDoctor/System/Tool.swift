import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs read-only system tools with a deadline.
enum Tool {
    struct Result { var status: Int32?; var stdout: String; var stderr: String }

    static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let p = dir + "/" + name
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Runs `path args` with LC_ALL=C and stdin from /dev/null; kills it (by its PID) after
    /// `timeoutMs`. posix_spawn and poll, not Foundation's Process, whose exit detection could
    /// miss a child that ended quickly.
    static func run(_ path: String, _ args: [String], timeoutMs: Int) -> Result {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { return Result(status: nil, stdout: "", stderr: "pipe: \(errnoText())") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return Result(status: nil, stdout: "", stderr: "pipe: \(errnoText())")
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)   // dup2 clears close-on-exec
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard rc == 0 else { return Result(status: nil, stdout: "", stderr: "\(path): \(String(cString: strerror(rc)))") }

        var out: [UInt8] = [], err: [UInt8] = []
        var open: [Int32] = [outPipe[0], errPipe[0]]
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMs) * 1_000_000
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { timedOut = true; break }
            var pfds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let n = poll(&pfds, nfds_t(pfds.count), Int32(max(1, (deadline - now) / 1_000_000)))
            if n < 0 { if errno == EINTR { continue }; break }
            for pfd in pfds where pfd.revents != 0 {
                let got = chunk.withUnsafeMutableBytes { read(pfd.fd, $0.baseAddress, $0.count) }
                if got > 0 {
                    if pfd.fd == outPipe[0] { out += chunk[0..<got] } else { err += chunk[0..<got] }
                    if out.count + err.count > 16 << 20 { timedOut = true; break }   // more than any ruleset
                } else if got == 0 || (errno != EINTR && errno != EAGAIN) {
                    open.removeAll { $0 == pfd.fd }
                }
            }
            if timedOut { break }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return Result(status: timedOut || !exited ? nil : (status >> 8) & 0xff,
                      stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }
}
