import Foundation
import HarkCrypto

/// `hark key export/import`: the identity key, the Noise static key and the profile, sealed under
/// a passphrase (`SealedSecret`, kind 2). Plaintext layout: version 0x01 ‖ Ed25519 secret key
/// (64 B) ‖ X25519 secret key (32 B) ‖ profile.json (UTF-8 JSON `{"display_name": …}`).
public enum KeyBackup {
    public static let version: UInt8 = 1

    /// Seals the identity of `identity` under `passphrase` (Argon2id MODERATE, a fresh salt).
    public static func seal(_ identity: NodeIdentity, passphrase: [UInt8]) throws(HomeError) -> [UInt8] {
        let key: PassphraseKey
        do { key = try PassphraseKey(newFrom: passphrase) } catch { throw .io(path: "backup", why: "cannot derive a key: \(error)") }
        var plain = [version] + identity.signing.secretKeyBytes + identity.noiseStatic.secretKey
        defer { secureZero(&plain) }
        let profile = (try? JSONSerialization.data(withJSONObject: ["display_name": identity.displayName], options: [.sortedKeys])) ?? Data()
        plain += Array(profile)
        return SealedSecret.seal(plain, kind: .backup, key: key)
    }

    /// Opens a backup. - Throws: `.wrongPassphrase`, `.corrupt`.
    public static func open(_ bytes: [UInt8], passphrase: [UInt8], path: String) throws(HomeError) -> NodeIdentity {
        let header: SealedSecret.Header
        do { header = try SealedSecret.header(of: bytes) } catch { throw .corrupt(path: path, why: "not a hark key backup (\(error))") }
        guard header.kind == .backup else { throw .corrupt(path: path, why: "a sealed key file, not a key backup") }
        var plain: [UInt8]
        do {
            let key = try PassphraseKey(passphrase: passphrase, for: header)
            plain = try SealedSecret.open(bytes, kind: .backup, key: key)
        } catch {
            if error == .authenticationFailed { throw .wrongPassphrase(path: path) }
            throw .corrupt(path: path, why: error.description)
        }
        defer { secureZero(&plain) }
        guard plain.count > 1 + 64 + 32, plain[0] == version else { throw .corrupt(path: path, why: "unknown backup layout") }
        do {
            let signing = try SigningKeyPair(secretKeyBytes: Array(plain[1..<65]))
            let noise = try AgreementKeyPair(secretKey: Array(plain[65..<97]))
            guard let obj = try? JSONSerialization.jsonObject(with: Data(plain[97...])) as? [String: Any],
                  let name = obj["display_name"] as? String else { throw HomeError.corrupt(path: path, why: "no profile in the backup") }
            return NodeIdentity(signing: signing, noiseStatic: noise, displayName: name)
        } catch let e as HomeError { throw e } catch {
            throw .corrupt(path: path, why: "\(error)")
        }
    }
}
