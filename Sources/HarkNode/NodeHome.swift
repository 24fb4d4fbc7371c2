#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HarkCrypto

/// A node's home directory: its keys, its store and its control socket.
///
/// Layout (mode 0700 directory; secret files 0600, created with `O_EXCL`):
/// - `identity.key`: 64 B Ed25519 secret key (seed ‖ public key), the long-term identity.
/// - `noise.key`: 32 B X25519 secret key, the Noise static key (bound to the identity by a
///   signature in every handshake, docs/PROTOCOL.md §3.2).
/// - `profile.json`: `{"display_name": "..."}`.
/// - `hark.sqlite` (+ `-wal`, `-shm`): the store.
/// - `control.sock`: the daemon's control socket (mode 0600), `daemon.lock`: held while a daemon runs.
///
/// Several homes can be used side by side on one machine. Not thread-safe; use from one task.
public struct NodeHome: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The home to use: `explicit` (`--home`), else `$HARK_HOME`, else `$XDG_DATA_HOME/hark`,
    /// else `~/.local/share/hark`.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> NodeHome {
        if let explicit, !explicit.isEmpty { return NodeHome(path: absolute(explicit)) }
        if let env = environment["HARK_HOME"], !env.isEmpty { return NodeHome(path: absolute(env)) }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return NodeHome(path: absolute(xdg) + "/hark") }
        let home = environment["HOME"] ?? "/root"
        return NodeHome(path: home + "/.local/share/hark")
    }

    private static func absolute(_ p: String) -> String {
        if p.hasPrefix("/") { return p }
        return FileManager.default.currentDirectoryPath + "/" + p
    }

    public var identityPath: String { path + "/identity.key" }
    public var noiseKeyPath: String { path + "/noise.key" }
    public var profilePath: String { path + "/profile.json" }
    public var storePath: String { path + "/hark.sqlite" }
    public var socketPath: String { path + "/control.sock" }
    public var lockPath: String { path + "/daemon.lock" }

    public var isInitialized: Bool { access(identityPath, F_OK) == 0 }

    /// Creates the home and a new identity.
    /// - Parameter displayName: 1…64 bytes of UTF-8 without control characters.
    /// - Throws: `HomeError.alreadyInitialized` (nothing is overwritten), `.invalidDisplayName`, `.io`.
    public func initialize(displayName: String) throws(HomeError) -> NodeIdentity {
        try Self.validate(displayName: displayName)
        if isInitialized { throw .alreadyInitialized(path: path) }
        try makeDirectory()
        let signing = SigningKeyPair.generate()
        let noise = AgreementKeyPair.generate()
        var sk = signing.secretKeyBytes
        var nk = noise.secretKey
        defer { secureZero(&sk); secureZero(&nk) }
        try writeNew(noiseKeyPath, nk)
        try writeNew(profilePath, Array(try encodeProfile(Profile(displayName: displayName))))
        try writeNew(identityPath, sk)   // last: its presence marks the home as initialised
        return NodeIdentity(signing: signing, noiseStatic: noise, displayName: displayName)
    }

    /// Loads the identity.
    /// - Throws: `HomeError.notInitialized`, `.insecurePermissions` (a secret file readable by
    ///   group or others, like OpenSSH refuses), `.corrupt`, `.io`.
    public func load() throws(HomeError) -> NodeIdentity {
        guard isInitialized else { throw .notInitialized(path: path) }
        var sk = try readSecret(identityPath, byteCount: Ed25519.secretKeyByteCount)
        var nk = try readSecret(noiseKeyPath, byteCount: X25519.keyByteCount)
        defer { secureZero(&sk); secureZero(&nk) }
        let signing: SigningKeyPair
        let noise: AgreementKeyPair
        do {
            signing = try SigningKeyPair(secretKeyBytes: sk)
            noise = try AgreementKeyPair(secretKey: nk)
        } catch { throw .corrupt(path: identityPath, why: error.description) }
        let profile = try loadProfile()
        return NodeIdentity(signing: signing, noiseStatic: noise, displayName: profile.displayName)
    }

    /// Checks a display name: 1…64 bytes of UTF-8, no control or bidi-override characters.
    public static func validate(displayName: String) throws(HomeError) {
        let n = displayName.utf8.count
        guard n >= 1, n <= 64 else { throw .invalidDisplayName("must be 1 to 64 bytes of UTF-8, got \(n)") }
        for s in displayName.unicodeScalars where s.properties.generalCategory == .control || s.properties.generalCategory == .format {
            throw .invalidDisplayName("contains the control or format character U+\(String(s.value, radix: 16, uppercase: true))")
        }
    }

    // MARK: files

    struct Profile: Codable { var displayName: String }

    private func encodeProfile(_ p: Profile) throws(HomeError) -> Data {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        do { return try e.encode(p) } catch { throw .io(path: profilePath, why: "\(error)") }
    }

    private func loadProfile() throws(HomeError) -> Profile {
        guard let data = FileManager.default.contents(atPath: profilePath) else { throw .corrupt(path: profilePath, why: "missing") }
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        do { return try d.decode(Profile.self, from: data) } catch {
            throw .corrupt(path: profilePath, why: "not a profile JSON object")
        }
    }

    private func makeDirectory() throws(HomeError) {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw .io(path: path, why: "exists and is not a directory") }
            if chmod(path, 0o700) != 0 { throw .io(path: path, why: String(cString: strerror(errno))) }
            return
        }
        // create parents with default modes, the home itself 0700
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw .io(path: path, why: String(cString: strerror(errno))) }
        _ = chmod(path, 0o700)
    }

    private func writeNew(_ file: String, _ bytes: [UInt8]) throws(HomeError) {
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .io(path: file, why: String(cString: strerror(errno))) }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw .io(path: file, why: String(cString: strerror(errno))) }
            off += n
        }
        if fsync(fd) != 0 { throw .io(path: file, why: String(cString: strerror(errno))) }
    }

    private func readSecret(_ file: String, byteCount: Int) throws(HomeError) -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .io(path: file, why: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: file, why: String(cString: strerror(errno))) }
        if st.st_mode & 0o077 != 0 { throw .insecurePermissions(path: file, mode: UInt32(st.st_mode & 0o777)) }
        var buf = [UInt8](repeating: 0, count: byteCount + 1)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == byteCount else {
            secureZero(&buf)
            throw .corrupt(path: file, why: "expected \(byteCount) bytes, found \(max(n, 0))\(n > byteCount ? " or more" : "")")
        }
        let out = Array(buf[0..<byteCount])
        secureZero(&buf)
        return out
    }
}

/// A node's loaded identity. Holds secret keys: keep it in memory only.
public struct NodeIdentity: Sendable {
    public let signing: SigningKeyPair
    public let noiseStatic: AgreementKeyPair
    public let displayName: String
    public var peerID: PeerID { PeerID(signing.publicKey) }
}

/// Why the home could not be used. The CLI maps each to an exit code (docs/CONTROL.md).
public enum HomeError: Error, CustomStringConvertible, Sendable {
    case alreadyInitialized(path: String)
    case notInitialized(path: String)
    case insecurePermissions(path: String, mode: UInt32)
    case corrupt(path: String, why: String)
    case invalidDisplayName(String)
    case io(path: String, why: String)

    public var description: String {
        switch self {
        case let .alreadyInitialized(p): return "\(p) already holds a hark identity; nothing was changed"
        case let .notInitialized(p): return "no hark identity in \(p); create one with `hark init --name NAME`"
        case let .insecurePermissions(p, m):
            return "\(p) has mode \(String(m, radix: 8)): secret keys must not be readable by others (chmod 600 \(p))"
        case let .corrupt(p, why): return "\(p) is damaged: \(why)"
        case let .invalidDisplayName(why): return "invalid display name: \(why)"
        case let .io(p, why): return "\(p): \(why)"
        }
    }
}
