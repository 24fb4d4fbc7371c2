// swift-tools-version: 6.0
import PackageDescription

/// hark: a serverless peer-to-peer messenger for local networks.
///
/// Module order (each sees only those before it):
/// CSodium → HarkCrypto → HarkNoise, HarkProto → HarkLog, HarkWire, HarkDatagram → HarkSync,
/// HarkStore → CAvahi → HarkDiscovery → HarkControl → HarkControlNIO → HarkNode → HarkDoctor, CNcurses → HarkTerminal → hark-node;
/// HarkControl → hark (the small client that execs hark-node)
/// (Fuzz/ is a separate package that builds the decoders with -sanitize=fuzzer.)
let package = Package(
    name: "hark",
    platforms: [.macOS(.v15)],   // Synchronization.Mutex; Linux is the target
    products: [
        // `hark` is the small client people run; it execs `hark-node` (the node and the full
        // command tree, installed beside it) for everything but a send to a running daemon.
        .executable(name: "hark", targets: ["hark"]),
        .executable(name: "hark-node", targets: ["hark-node"]),
        .executable(name: "hark-bench", targets: ["hark-bench"]),
        // Libraries only for the out-of-tree fuzz package (Fuzz/Package.swift); nothing in this
        // package uses them.
        .library(name: "HarkCrypto", targets: ["HarkCrypto"]),
        .library(name: "HarkNoise", targets: ["HarkNoise"]),
        .library(name: "HarkProto", targets: ["HarkProto"]),
        .library(name: "HarkLog", targets: ["HarkLog"]),
        .library(name: "HarkWire", targets: ["HarkWire"]),
        .library(name: "HarkSync", targets: ["HarkSync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // BoringSSL's SHA-256 (SHA-NI), AES-256-GCM (AES-NI, VAES) and ChaCha20-Poly1305 for bulk file data.
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        // C behind one door: CSodium is imported only by HarkCrypto, CAvahi only by HarkDiscovery.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CAvahi", providers: [.apt(["libavahi-client-dev"])]),
        // ncursesw, imported only by HarkTerminal (its CursesScreen.swift draws; the rest is pure).
        .systemLibrary(name: "CNcurses", providers: [.apt(["libncurses-dev"])]),

        .target(name: "HarkCrypto", dependencies: ["CSodium", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "HarkNoise", dependencies: ["HarkCrypto"]),
        .target(name: "HarkProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "HarkLog", dependencies: [
            "HarkCrypto", "HarkProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .target(name: "HarkWire", dependencies: [
            "HarkProto", "HarkNoise", "HarkCrypto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "HarkSync", dependencies: [
            "HarkLog", "HarkCrypto", "HarkProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // UDP datagrams (PROTOCOL.md §8): a pure state machine, no I/O and no clock.
        .target(name: "HarkDatagram", dependencies: [
            "HarkCrypto", "HarkProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // File sharing core (PROTOCOL.md §10): manifests, Merkle roots, safe staging, a pure fetch scheduler.
        .target(name: "HarkFiles", dependencies: [
            "HarkCrypto", "HarkProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .target(name: "HarkStore", dependencies: [
            "HarkLog", "HarkCrypto",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "HarkDiscovery", dependencies: [
            "CAvahi",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The control protocol's types, JSON coding and blocking client: what the small `hark`
        // links, so no NIO (its start-up cost is paid by every `hark send`).
        .target(name: "HarkControl"),
        // The daemon's side of the control socket on NIO: line framing.
        .target(name: "HarkControlNIO", dependencies: [
            "HarkControl",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "HarkNode", dependencies: [
            "HarkCrypto", "HarkNoise", "HarkProto", "HarkLog", "HarkWire", "HarkStore", "HarkDiscovery", "HarkControl",
            "HarkControlNIO", "HarkSync", "HarkDatagram", "HarkFiles",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `hark doctor`: the checks, a TCP prober, the nft and iptables rule readers, interface listing.
        .target(name: "HarkDoctor", dependencies: ["HarkNode", "HarkControl", "HarkDiscovery"]),
        // The terminal chat: pure editor, key decoder, width and layout types, and one ncurses screen.
        .target(name: "HarkTerminal", dependencies: ["CNcurses"]),
        .executableTarget(name: "hark-node", dependencies: [
            "HarkNode", "HarkControl", "HarkCrypto", "HarkDiscovery", "HarkTerminal", "HarkDoctor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            // The daemon's config file (config.toml).
            .product(name: "TOMLKit", package: "TOMLKit"),
        ], path: "Sources/hark"),
        // A static executable on Linux (glibc and the Swift runtime inside): no dynamic loader, no
        // shared libraries to map, no symbol lookups or relocations at start, so a `hark send`
        // starts in about the time of a Swift hello linked with -static-stdlib. Not a static PIE:
        // glibc's static-PIE start-up refuses the DT_RUNPATH that SwiftPM adds to every executable.
        // The three libraries are what FoundationEssentials needs when the build does not pass
        // --static-swift-stdlib (the shared library brings them then). The linker's warnings that
        // dlopen and getpwuid_r in a static executable need glibc's shared libraries at run time
        // are about code the client never reaches (it reads $HOME itself; strace shows no dlopen).
        .executableTarget(name: "hark", dependencies: ["HarkControl"], path: "Sources/hark-client",
                          linkerSettings: [
                              .unsafeFlags(["-static-executable"], .when(platforms: [.linux])),
                              .linkedLibrary("_FoundationCollections", .when(platforms: [.linux])),
                              .linkedLibrary("_FoundationCShims", .when(platforms: [.linux])),
                              .linkedLibrary("swiftSynchronization", .when(platforms: [.linux])),
                          ]),
        .executableTarget(name: "hark-bench", dependencies: [
            "HarkCrypto", "HarkNoise", "HarkSync", "HarkLog", "HarkProto", "HarkStore", "HarkNode", "HarkControl",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),   // the store floor of `replicate`
        ]),

        // Shared helpers of the test targets (a seeded generator); never linked into hark.
        .target(name: "HarkTestSupport", path: "Tests/HarkTestSupport"),
        // Fixtures of the node's tests (a manual clock, nodes running in the test process); never linked into hark.
        .target(name: "HarkTesting", dependencies: ["HarkNode", .product(name: "Logging", package: "swift-log")],
                path: "Tests/HarkTesting"),
        .testTarget(name: "HarkCryptoTests", dependencies: [
            "HarkCrypto", .product(name: "PropertyBased", package: "swift-property-based"),
        ], exclude: ["bulk_ref.py"]),
        .testTarget(name: "HarkNoiseTests", dependencies: ["HarkNoise", "HarkCrypto"],
                    resources: [.copy("Interop")]),
        .testTarget(name: "HarkLogTests", dependencies: ["HarkTestSupport", 
            "HarkLog", "HarkCrypto", "HarkProto", "HarkStore",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "HarkSyncTests", dependencies: ["HarkTestSupport", 
            "HarkSync", "HarkLog", "HarkCrypto", "HarkProto",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "HarkDatagramTests", dependencies: ["HarkTestSupport", 
            "HarkDatagram", "HarkCrypto", "HarkProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "HarkFilesTests", dependencies: ["HarkTestSupport",
            "HarkFiles", "HarkCrypto", "HarkProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], exclude: ["merkle_ref.py"]),
        .testTarget(name: "HarkStoreTests", dependencies: ["HarkStore", "HarkLog", "HarkCrypto"]),
        .testTarget(name: "HarkWireTests", dependencies: [
            "HarkWire", "HarkNoise", "HarkCrypto", "HarkProto",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "HarkDiscoveryTests", dependencies: ["HarkDiscovery"]),
        .testTarget(name: "HarkTerminalTests", dependencies: ["HarkTerminal"]),
        .testTarget(name: "HarkDoctorTests", dependencies: ["HarkDoctor", "HarkControl", "HarkDiscovery"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HarkControlTests", dependencies: [
            "HarkControl", "HarkControlNIO",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "HarkNodeTests", dependencies: [
            "HarkTesting", "HarkNode", "HarkNoise", "HarkCrypto", "HarkWire", "HarkProto", "HarkControl", "HarkLog", "HarkStore", "HarkDatagram",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
