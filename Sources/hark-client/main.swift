import HarkControl

#if canImport(Glibc)
import Glibc
#endif

// `hark`: the command people run. A small executable (the control client and the Swift runtime,
// not the node) so that the commands scripts call in loops start fast. It answers the plain
// `hark send GROUP TEXT` to a running daemon itself (`DaemonSend`), and hands everything else
// to `hark-node`, the full command tree with the node, by exec(3) with the same arguments: the
// same process, PID, descriptors, environment, output and exit codes as if `hark-node` had been
// run (systemd's Type=notify sees no difference).

if let status = DaemonSend.run(argc: CommandLine.argc, argv: CommandLine.unsafeArgv) { exit(status) }
NodeExecutable.exec()
