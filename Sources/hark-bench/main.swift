// hark-bench: micro-benchmarks, one subcommand each (`hark-bench <name>`).
// Add a benchmark by appending to `benchmarks` below.

let benchmarks: [Benchmark] = [
    Benchmark(name: "noise",
              summary: "Noise XX handshakes/s (3 messages + Split, both sides) against the X25519 bound",
              run: runNoiseBenchmark),
    Benchmark(name: "sync",
              summary: "BEC Algorithm 2 reconciliation: round trips and overhead bytes vs the paper [--seeds=20 --ns=10,100,1000 --big=100000 --body=0]",
              run: runSyncBenchmark),
    Benchmark(name: "replicate",
              summary: "two real nodes on loopback: a new member syncs N events; events/s against the Ed25519 verify rate on all cores [--events=100000 --history-cache=DIR]",
              run: runReplicationBenchmark),
    Benchmark(name: "replicate-serve",
              summary: "node A of `replicate`, run by it in a child process [--home=DIR]",
              run: runReplicationServe),
    Benchmark(name: "removal",
              summary: "in memory: remove 1 of N members; bytes and time until the N-1 others have rotated their sender keys [--members=50]",
              run: runRemovalBenchmark),
    Benchmark(name: "history-share",
              summary: "in memory: add a member to an N-member shared-history group with M past messages; bytes and time of the ADD and its history shares, and the newcomer's reading [--members=50 --messages=10000]",
              run: runHistoryShareBenchmark),
    Benchmark(name: "fill",
              summary: "appends N signed messages by this node to a group of a real home, straight into the store (daemon stopped) [--home= --group= --messages=1000]",
              run: runHistoryFill),
    Benchmark(name: "bulk-crypto",
              summary: "one core: chunk hashes and slice ciphers (libsodium and swift-crypto) and Noise-record ChaCha20-Poly1305, GB/s of CPU time",
              run: runBulkCryptoBenchmark),
    Benchmark(name: "history",
              summary: "one node on a store of N events: time until status answers, RSS, first and mean send, graph build [--events=100000 --sends=200; --fill-home=DIR writes a home, --home=DIR measures one]",
              run: runHistoryBenchmark),
]

let arguments = CommandLine.arguments.dropFirst()
if let name = arguments.first, let benchmark = benchmarks.first(where: { $0.name == name }) {
    benchmark.run()
} else {
    if let name = arguments.first, name != "list", name != "--help", name != "-h" {
        print("hark-bench: unknown benchmark \"\(name)\"")
    }
    print("usage: hark-bench <benchmark>")
    for b in benchmarks { print("  \(b.name.rightPadded(to: 10)) \(b.summary)") }
    if let name = arguments.first, !["list", "--help", "-h"].contains(name) { exit(2) }
}
