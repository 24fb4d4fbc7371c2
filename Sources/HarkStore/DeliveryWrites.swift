import Foundation
import GRDB
import HarkCrypto
import HarkLog

extension Store {
    /// What the node writes together with newly delivered events, in the transaction that stores
    /// them (`insert(batch:receivedMs:with:)`), so that one delivered event costs one write
    /// transaction and a crash keeps all of it or none (docs/HISTORY.md §"Write cost").
    ///
    /// - `plaintexts`: decrypted sender-key contents (PROTOCOL.md §5.4), keyed by event ID. The
    ///   read model indexes each new event with its plaintext at once. A plaintext of an event
    ///   held before the batch is saved as `savePlaintexts` would.
    /// - `inChains`: members' chains advanced to open those plaintexts (the message keys used are
    ///   gone from the stored chain only if the plaintexts are kept).
    /// - `outChain`: this node's own chain after sealing the body of the event it writes.
    /// - `membershipAncestry`: the membership ancestry of new membership events (`saveMembershipAncestors`).
    ///
    /// Value type; sizes: a plaintext is a serialized `Content` (up to the event body limit).
    public struct DeliveryWrites: Sendable {
        /// A member's chain state for (group, author, epoch), as `saveInChain` stores it.
        public struct InChain: Sendable {
            public var group: EventID
            public var author: SigningPublicKey
            public var epoch: UInt32
            public var chain: SenderChain
            public init(group: EventID, author: SigningPublicKey, epoch: UInt32, chain: SenderChain) {
                self.group = group; self.author = author; self.epoch = epoch; self.chain = chain
            }
        }

        public var plaintexts: [EventID: [UInt8]] = [:]
        public var inChains: [InChain] = []
        public var outChain: (group: EventID, chain: OutChain)?
        public var membershipAncestry: (group: EventID, ancestry: [EventID: [EventID]])?

        public init() {}

        public var isEmpty: Bool {
            plaintexts.isEmpty && inChains.isEmpty && outChain == nil && (membershipAncestry?.ancestry.isEmpty ?? true)
        }

        /// Writes the rows, first in the transaction (a DELETE later in the same batch then purges
        /// a plaintext it brings, as it would one stored earlier). - Throws: GRDB errors.
        func writeRows(_ db: Database) throws {
            guard !isEmpty else { return }
            if !plaintexts.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO plaintext (event_id, content) VALUES (?, ?)")
                for (id, content) in plaintexts { try statement.execute(arguments: [id.data, Data(content)]) }
            }
            for c in inChains { try Store.saveInChain(db, c.chain, group: c.group, author: c.author, epoch: c.epoch) }
            if let (group, chain) = outChain { try Store.saveOutChain(db, chain, group: group) }
            if let (group, ancestry) = membershipAncestry, !ancestry.isEmpty {
                try Store.saveMembershipAncestors(db, ancestry, group: group)
            }
        }

        /// Lets the read model see the plaintexts of events that were held before the batch
        /// (`stored`: the events the batch stored, indexed with their plaintexts already).
        func showPlaintexts(_ writer: ReadModelWriter, except stored: [EventID: EventID]) throws {
            let earlier = plaintexts.filter { stored[$0.key] == nil }.map { (id: $0.key, content: $0.value) }
            guard !earlier.isEmpty else { return }
            try Store.savePlaintexts(writer.db, earlier, writer: writer)
        }
    }
}

extension Store {
    /// Writes `writes` without events, in one transaction (plaintexts of stored events and the
    /// chains that opened them, for example): the read model sees each plaintext as
    /// `savePlaintexts` shows it. - Throws: `StoreError.database` (nothing is written).
    public func save(_ writes: DeliveryWrites) throws(StoreError) {
        guard !writes.isEmpty else { return }
        try write("save \(writes.plaintexts.count) plaintexts and \(writes.inChains.count) chains") { db in
            try writes.writeRows(db)
            let writer = ReadModelWriter(db: db, reportedHeads: reportedHeadsCache)
            try writes.showPlaintexts(writer, except: [:])
            try writer.flush()
        }
    }
}
