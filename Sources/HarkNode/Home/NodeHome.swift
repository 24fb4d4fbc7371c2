#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HarkControl
import HarkCrypto

/// A node's home directory: its keys, its store and its control socket.
///
/// Layout (mode 0700 directory; secret files 0600, created with `O_EXCL`):
/// - `identity.key`: 64 B Ed25519 secret key (seed ‖ public key), the long-term identity.
/// - `noise.key`: 32 B X25519 secret key, the Noise static key (bound to the identity by a
///   signature in every handshake, docs/PROTOCOL.md §3.1).
/// - `identity.pub`: the peer ID as text (`hk…` and a newline), so commands that only need the
///   public identity never need the passphrase.
/// - `profile.json`: `{"display_name": "..."}`.
///
/// Secret files are raw keys, or, after `hark init --passphrase`, sealed under the passphrase
/// (`SealedSecret`: Argon2id + secretbox). Every secret file goes through `readSecretFile` and
/// `writeSecretFile`, which seal and open them with the key derived at unlock.
/// - `hark.sqlite` (+ `-wal`, `-shm`): the store.
/// - `control.sock`: the daemon's control socket (mode 0600); when `$XDG_RUNTIME_DIR` is set the
///   socket lives there instead (`$XDG_RUNTIME_DIR/hark/<16 hex of the home's path hash>.sock`, so
///   long and network-mounted homes work) and `control.sock` is a symbolic link to it, which
///   clients read to find it. `daemon.lock`: held while a daemon runs.
/// - `port`: the TCP port the daemon last listened on (decimal and a newline), tried first on
///   the next start so the port stays the same across restarts.
///
/// Several homes can be used side by side on one machine. Not thread-safe; use from one task.
public struct NodeHome: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The home to use: `explicit` (`--home`), else `$HARK_HOME`, else `$XDG_DATA_HOME/hark`,
    /// else `~/.local/share/hark`.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> NodeHome {
        NodeHome(path: HomeLocation.resolve(explicit: explicit, environment: environment))
    }

    public var identityPath: String { path + "/identity.key" }
    public var noiseKeyPath: String { path + "/noise.key" }
    /// 32 B X25519 secret of this device's prekey (PROTOCOL.md §5.4), sealed like the other keys.
    public var prekeyPath: String { path + "/prekey.key" }
    public var profilePath: String { path + "/profile.json" }
    public var identityPublicPath: String { path + "/identity.pub" }
    public var storePath: String { path + "/hark.sqlite" }
    /// Where clients find the control socket: `control.sock` in the home, or, when that is a
    /// symbolic link (the daemon put the socket under `$XDG_RUNTIME_DIR`), the link's target, so
    /// the path handed to connect(2) stays short. Not cached: it changes when a daemon starts.
    public var socketPath: String { HomeLocation.socketPath(home: path) }
    /// `control.sock` in the home: the socket itself, or a link to it.
    public var socketLinkPath: String { path + "/control.sock" }
    /// Where a daemon started with `environment` binds its control socket:
    /// `$XDG_RUNTIME_DIR/hark/<16 hex>.sock` when `$XDG_RUNTIME_DIR` names an existing directory,
    /// else `control.sock` in the home. The 16 hex digits are BLAKE2b of the home's path.
    public func daemonSocketPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        guard let run = environment["XDG_RUNTIME_DIR"], run.hasPrefix("/") else { return socketLinkPath }
        var st = stat()
        guard stat(run, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return socketLinkPath }
        let tag = Hex.encode(Array(BLAKE2b.hash(Array(path.utf8), personal: "hark.sock.v1").prefix(8)))
        return run + "/hark/" + tag + ".sock"
    }
    /// The TCP port remembered from the last start (`port` file), nil if none or unreadable.
    public var rememberedPort: Int? {
        guard let text = try? String(contentsOfFile: path + "/port", encoding: .utf8),
              let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), (1...65535).contains(p) else { return nil }
        return p
    }
    /// Remembers `port` for the next start (best effort: a failure only costs the stable port).
    public func rememberPort(_ port: Int) {
        guard port > 0, rememberedPort != port else { return }
        let tmp = path + "/port.tmp"
        guard (try? "\(port)\n".write(toFile: tmp, atomically: false, encoding: .utf8)) != nil else { return }
        chmod(tmp, 0o600)
        rename(tmp, path + "/port")
    }
    public var lockPath: String { HomeLocation.lockPath(home: path) }

    public var isInitialized: Bool { access(identityPath, F_OK) == 0 }

    /// Throws unless this home holds an identity this user can reach.
    /// - Throws: `HomeError.notAccessible` when the home (or a directory above it) denies this
    ///   user (EACCES: it belongs to another user), `.notInitialized` when no identity is there.
    public func requireInitialized() throws(HomeError) {
        if access(identityPath, F_OK) == 0 { return }
        let err = errno
        if err == EACCES || err == EPERM {
            throw .notAccessible(path: path, why: String(cString: strerror(err)))
        }
        throw .notInitialized(path: path)
    }

    /// Creates the home and a new identity.
    /// - Parameter displayName: 1…64 bytes of UTF-8 without control characters.
    /// - Throws: `HomeError.alreadyInitialized` (nothing is overwritten), `.invalidDisplayName`, `.io`.
    /// - Parameter passphrase: when given, the secret files are sealed under it (Argon2id,
    ///   MODERATE cost); the caller zeroes its copy.
    public func initialize(displayName: String, passphrase: [UInt8]? = nil) throws(HomeError) -> NodeIdentity {
        try install(signing: SigningKeyPair.generate(), noise: AgreementKeyPair.generate(), displayName: displayName,
                    passphrase: passphrase)
    }

    /// Writes the given keys into an empty home (`initialize`, `hark key import`).
    public func install(signing: SigningKeyPair, noise: AgreementKeyPair, displayName: String,
                        passphrase: [UInt8]?) throws(HomeError) -> NodeIdentity {
        try Self.validate(displayName: displayName)
        if isInitialized { throw .alreadyInitialized(path: path) }
        var sealing: PassphraseKey?
        if let passphrase {
            do { sealing = try PassphraseKey(newFrom: passphrase) } catch { throw .io(path: path, why: "cannot derive a key: \(error)") }
        }
        try makeDirectory()
        var sk = signing.secretKeyBytes
        var nk = noise.secretKey
        defer { secureZero(&sk); secureZero(&nk) }
        try writeSecretFile(noiseKeyPath, nk, sealing: sealing)
        try writeNew(profilePath, Array(try encodeProfile(Profile(displayName: displayName))))
        try writeNew(identityPublicPath, Array((PeerID(signing.publicKey).description + "\n").utf8))
        try writeSecretFile(identityPath, sk, sealing: sealing)   // last: its presence marks the home as initialised
        return NodeIdentity(signing: signing, noiseStatic: noise, displayName: displayName, sealingKey: sealing)
    }

    /// Whether the identity key is sealed under a passphrase.
    public var isEncrypted: Bool {
        guard let raw = try? readRaw(identityPath, maxByteCount: 4096) else { return false }
        return SealedSecret.isSealed(raw)
    }

    /// The peer ID without touching secret keys: from `identity.pub`, else (homes made before it
    /// existed) by loading the unencrypted identity.
    public func publicIdentity() throws(HomeError) -> (peerID: PeerID, displayName: String) {
        guard isInitialized else { throw .notInitialized(path: path) }
        var st = stat()
        if stat(identityPath, &st) == 0, st.st_mode & 0o077 != 0 {
            throw .insecurePermissions(path: identityPath, mode: UInt32(st.st_mode & 0o777))
        }
        if let data = FileManager.default.contents(atPath: identityPublicPath),
           let text = String(data: data, encoding: .utf8),
           let id = try? PeerID(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return (id, try loadProfile().displayName)
        }
        let identity = try load()
        return (identity.peerID, identity.displayName)
    }

    /// The display name in `profile.json`.
    public func profileDisplayName() throws(HomeError) -> String { try loadProfile().displayName }

    /// Loads the identity.
    /// - Throws: `HomeError.notInitialized`, `.insecurePermissions` (a secret file readable by
    ///   group or others, like OpenSSH refuses), `.corrupt`, `.io`.
    ///   `.locked` (sealed keys and no passphrase), `.wrongPassphrase`.
    /// - Parameter passphrase: for a sealed home; the caller zeroes its copy. The key derived
    ///   from it stays in the identity (`sealingKey`) to seal or open secret files written later.
    public func load(passphrase: [UInt8]? = nil) throws(HomeError) -> NodeIdentity {
        try requireInitialized()
        var unlock = SecretUnlock(passphrase: passphrase)
        var sk = try readSecretFile(identityPath, byteCount: Ed25519.secretKeyByteCount, unlock: &unlock)
        var nk = try readSecretFile(noiseKeyPath, byteCount: X25519.keyByteCount, unlock: &unlock)
        defer { secureZero(&sk); secureZero(&nk) }
        let signing: SigningKeyPair
        let noise: AgreementKeyPair
        do {
            signing = try SigningKeyPair(secretKeyBytes: sk)
            noise = try AgreementKeyPair(secretKey: nk)
        } catch { throw .corrupt(path: identityPath, why: error.description) }
        let profile = try loadProfile()
        return NodeIdentity(signing: signing, noiseStatic: noise, displayName: profile.displayName, sealingKey: unlock.key)
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

    // MARK: secret files (raw or sealed)

    /// What opens sealed secret files during one load: the passphrase, and the key derived from
    /// it (derived once for all files that share salt and limits).
    public struct SecretUnlock {
        var passphrase: [UInt8]?
        public internal(set) var key: PassphraseKey?
        public init(passphrase: [UInt8]?, key: PassphraseKey? = nil) { self.passphrase = passphrase; self.key = key }
    }

    /// This device's prekey (X25519) for sender-key distribution, made on first use.
    /// - Throws: `HomeError` as for the other key files.
    public func loadOrCreatePrekey(for identity: NodeIdentity) throws(HomeError) -> AgreementKeyPair {
        if access(prekeyPath, F_OK) == 0 {
            var unlock = SecretUnlock(passphrase: nil, key: identity.sealingKey)
            var secret = try readSecretFile(prekeyPath, byteCount: 32, unlock: &unlock)
            defer { secureZero(&secret) }
            do { return try AgreementKeyPair(secretKey: secret) } catch { throw .corrupt(path: prekeyPath, why: "\(error)") }
        }
        let pair = AgreementKeyPair.generate()
        try writeSecretFile(prekeyPath, pair.secretKey, sealing: identity.sealingKey)
        return pair
    }

    /// Reads a secret file (mode must be 0600 or stricter), opening it if it is sealed.
    /// - Parameter byteCount: the exact size of the secret, or nil for any size up to 1 MiB.
    /// - Throws: `.insecurePermissions`, `.locked`, `.wrongPassphrase`, `.corrupt`, `.io`.
    public func readSecretFile(_ file: String, byteCount: Int?, unlock: inout SecretUnlock) throws(HomeError) -> [UInt8] {
        let maxRaw = (byteCount ?? (1 << 20)) + SealedSecret.headerByteCount + 1 + SecretBox.macByteCount
        var raw = try readRaw(file, maxByteCount: maxRaw)
        defer { secureZero(&raw) }
        var secret: [UInt8]
        if SealedSecret.isSealed(raw) {
            let header: SealedSecret.Header
            do { header = try SealedSecret.header(of: raw) } catch { throw .corrupt(path: file, why: error.description) }
            if unlock.key == nil || !unlock.key!.matches(header) {
                guard let passphrase = unlock.passphrase else { throw .locked(path: path) }
                do { unlock.key = try PassphraseKey(passphrase: passphrase, for: header) } catch {
                    throw .corrupt(path: file, why: error.description)
                }
            }
            do { secret = try SealedSecret.open(raw, kind: .secretFile, key: unlock.key!) } catch {
                if error == .authenticationFailed { throw .wrongPassphrase(path: path) }
                throw .corrupt(path: file, why: error.description)
            }
        } else {
            secret = raw
        }
        if let byteCount, secret.count != byteCount {
            secureZero(&secret)
            throw .corrupt(path: file, why: "expected \(byteCount) bytes, found \(secret.count)\(raw.count >= maxRaw ? " or more" : "")")
        }
        return secret
    }

    /// Writes a new secret file (mode 0600, `O_EXCL`), sealed when `sealing` is given.
    public func writeSecretFile(_ file: String, _ secret: [UInt8], sealing: PassphraseKey?) throws(HomeError) {
        if let sealing {
            try writeNew(file, SealedSecret.seal(secret, kind: .secretFile, key: sealing))
        } else {
            try writeNew(file, secret)
        }
    }

    /// The raw bytes of a secret file, refusing one readable by group or others.
    private func readRaw(_ file: String, maxByteCount: Int) throws(HomeError) -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .io(path: file, why: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: file, why: String(cString: strerror(errno))) }
        if st.st_mode & 0o077 != 0 { throw .insecurePermissions(path: file, mode: UInt32(st.st_mode & 0o777)) }
        var buf = [UInt8](repeating: 0, count: maxByteCount)
        var n = 0
        while n < buf.count {
            let r = buf[n...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if r < 0 { if errno == EINTR { continue }; secureZero(&buf); throw .io(path: file, why: String(cString: strerror(errno))) }
            if r == 0 { break }
            n += r
        }
        let out = Array(buf[0..<n])
        secureZero(&buf)
        return out
    }

}

/// A node's loaded identity. Holds secret keys: keep it in memory only.
public struct NodeIdentity: Sendable {
    public let signing: SigningKeyPair
    public let noiseStatic: AgreementKeyPair
    public let displayName: String
    /// The key derived from the passphrase of a sealed home (nil for an unencrypted one): seals
    /// and opens secret files the node writes later (`NodeHome.writeSecretFile`).
    public let sealingKey: PassphraseKey?
    public var peerID: PeerID { PeerID(signing.publicKey) }

    public init(signing: SigningKeyPair, noiseStatic: AgreementKeyPair, displayName: String, sealingKey: PassphraseKey? = nil) {
        self.signing = signing; self.noiseStatic = noiseStatic; self.displayName = displayName; self.sealingKey = sealingKey
    }
}

/// Why the home could not be used. The CLI maps each to an exit code (docs/CONTROL.md).
public enum HomeError: Error, CustomStringConvertible, Sendable {
    case alreadyInitialized(path: String)
    case notInitialized(path: String)
    /// The home exists but this user may not enter it (it belongs to another user).
    case notAccessible(path: String, why: String)
    case insecurePermissions(path: String, mode: UInt32)
    case corrupt(path: String, why: String)
    case invalidDisplayName(String)
    case io(path: String, why: String)
    /// The secret keys are sealed under a passphrase and none was given.
    case locked(path: String)
    /// The passphrase does not open the sealed keys (nothing was changed).
    case wrongPassphrase(path: String)

    public var description: String {
        switch self {
        case let .alreadyInitialized(p): return "\(p) already holds a hark identity; nothing was changed"
        case let .notInitialized(p): return "no hark identity in \(p); create one with `hark init --name NAME`"
        case let .notAccessible(p, why):
            return "home \(p) is not accessible to this user (\(why)); run hark as the user who owns it, or give your own --home"
        case let .insecurePermissions(p, m):
            return "\(p) has mode \(String(m, radix: 8)): secret keys must not be readable by others (chmod 600 \(p))"
        case let .corrupt(p, why): return "\(p) is damaged: \(why)"
        case let .invalidDisplayName(why): return "invalid display name: \(why)"
        case let .io(p, why): return "\(p): \(why)"
        case let .locked(p):
            return "the keys in \(p) are encrypted with a passphrase: run on a terminal to be asked for it, or give --passphrase-file FILE"
        case let .wrongPassphrase(p): return "wrong passphrase for the keys in \(p); nothing was changed"
        }
    }
}
