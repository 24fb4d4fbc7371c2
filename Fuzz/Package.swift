// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// hark's libFuzzer target, a package of its own so the root package never needs
/// `-sanitize=fuzzer`. Build it only through `make fuzz` (see the Makefile), which passes
/// `-Xswiftc -sanitize=fuzzer,address`; without those flags it does not link.
///
/// The root package is a path dependency; SwiftPM names it after its directory, so the
/// identity is computed rather than hard-coded (a checkout need not be called "hark").
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let hark = root.lastPathComponent.lowercased()

let package = Package(
    name: "hark-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(name: "CLibFuzzer", path: "CLibFuzzer"),
        .executableTarget(
            name: "hark-fuzz",
            dependencies: [
                "CLibFuzzer",
                .product(name: "HarkCrypto", package: hark),
                .product(name: "HarkNoise", package: hark),
                .product(name: "HarkEventProto", package: hark),
                .product(name: "HarkWireProto", package: hark),
                .product(name: "HarkLog", package: hark),
                .product(name: "HarkWire", package: hark),
                .product(name: "HarkSync", package: hark),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "HarkFuzz"
        ),
    ],
    swiftLanguageModes: [.v6]
)
