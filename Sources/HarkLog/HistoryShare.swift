import HarkCrypto
import HarkEventProto
import struct Foundation.Data

/// Shared history (PROTOCOL.md §5.8): the past sender chains a member holds, sealed to a new
/// member's prekey in HISTORY_KEY events, so the newcomer can open the messages sent before its ADD.
///
/// Each chain is carried as the chain key at the earliest index the sharer holds (`ck_index`); the
/// newcomer derives every later message key from it (`SenderChain`). The chains are serialized as
/// `HistoryChains` and sealed with libsodium's `crypto_box_seal` as one box per event: at most
/// `maxChainsPerEvent` chains (about 70 B each serialized, 512 × 72 B + 48 B ≈ 36.9 KB sealed),
/// so an event body stays well below the 64 KiB limit; more chains take more events.
///
/// Pure; thread-safe (no state).
public enum HistoryShare {
    /// Chains in one HISTORY_KEY event.
    public static let maxChainsPerEvent = 512
    /// Largest `HistoryKey.sealed` accepted (bytes): 512 chains of at most 84 B serialized, plus the box.
    public static let maxSealedBytes = 48_000

    /// One chain as shared: its author and epoch, and its chain key (32 B) at `index`.
    public struct Chain: Sendable, Equatable {
        public var author: SigningPublicKey
        public var epoch: UInt32
        public var index: UInt32
        public var chainKey: [UInt8]
        public init(author: SigningPublicKey, epoch: UInt32, index: UInt32, chainKey: [UInt8]) {
            self.author = author; self.epoch = epoch; self.index = index; self.chainKey = chainKey
        }
    }

    /// The contents of the HISTORY_KEY events that give `chains` to `recipient`: one per
    /// `maxChainsPerEvent` chains, in the order given; none for no chains.
    /// - Throws: `CryptoError.invalidLength` for a prekey that is not 32 B; `EventError.malformed`
    ///   for a chain key that is not 32 B or an epoch 0.
    public static func seal(_ chains: [Chain], recipient: SigningPublicKey, prekey: [UInt8]) throws -> [Hark_V1_HistoryKey] {
        var out: [Hark_V1_HistoryKey] = []
        var start = 0
        while start < chains.count {
            let part = chains[start..<min(start + maxChainsPerEvent, chains.count)]
            start += part.count
            var list = Hark_V1_HistoryChains()
            for c in part {
                guard c.chainKey.count == 32, c.epoch >= 1 else {
                    throw EventError.malformed("history chain of a \(c.chainKey.count)-byte key, epoch \(c.epoch)")
                }
                var h = Hark_V1_HistoryChain()
                h.author = Data(c.author.bytes)
                h.epoch = c.epoch
                h.index = c.index
                h.chainKey = Data(c.chainKey)
                list.chains.append(h)
            }
            var plain: [UInt8] = try list.serializedBytes()
            defer { secureZero(&plain) }
            var hk = Hark_V1_HistoryKey()
            hk.recipient = Data(recipient.bytes)
            hk.prekey = Data(prekey)
            hk.sealed = Data(try SealedBox.seal(plain, to: prekey))
            out.append(hk)
        }
        return out
    }

    /// Checks a HISTORY_KEY content's sizes (the validator's structural rule, PROTOCOL.md §5.8).
    /// - Throws: `EventError.invalidLength` or `.malformed`.
    public static func checkStructure(_ hk: Hark_V1_HistoryKey) throws(EventError) {
        guard hk.recipient.count == 32 else { throw .invalidLength(field: "history_key.recipient", expected: 32, actual: hk.recipient.count) }
        guard hk.prekey.count == 32 else { throw .invalidLength(field: "history_key.prekey", expected: 32, actual: hk.prekey.count) }
        guard hk.sealed.count > SealedBox.overheadByteCount, hk.sealed.count <= maxSealedBytes else {
            throw .malformed("history key box of \(hk.sealed.count) bytes (49 to \(maxSealedBytes) expected)")
        }
    }

    /// Opens a HISTORY_KEY content sealed to `keyPair`. Entries that are malformed (a key that is
    /// not 32 B, an author that is not 32 B, epoch 0) are skipped; at most `maxChainsPerEvent` are read.
    /// - Throws: `CryptoError.authenticationFailed` when it was not sealed to this key;
    ///   `EventError.malformed` when the plaintext does not parse.
    public static func open(_ hk: Hark_V1_HistoryKey, keyPair: AgreementKeyPair) throws -> [Chain] {
        var plain = try SealedBox.open([UInt8](hk.sealed), keyPair: keyPair)
        defer { secureZero(&plain) }
        let list: Hark_V1_HistoryChains
        do { list = try Hark_V1_HistoryChains(serializedBytes: plain) } catch {
            throw EventError.malformed("history chains do not parse: \(error)")
        }
        return list.chains.prefix(maxChainsPerEvent).compactMap { h in
            guard h.chainKey.count == 32, h.epoch >= 1, let author = try? SigningPublicKey(bytes: [UInt8](h.author)) else { return nil }
            return Chain(author: author, epoch: h.epoch, index: h.index, chainKey: [UInt8](h.chainKey))
        }
    }
}
