import HarkCrypto
import HarkEventProto

/// The context-free structural rules of PROTOCOL.md §4.1 (the header table; §4.3 rules 3–4)
/// applied to a decoded header and its body. Produces the typed parent fields on success.
struct EventStructure {
    let groupID: EventID?
    let selfParent: EventID?
    let parents: [EventID]

    /// - Throws: `EventError` naming the first rule broken.
    init(header: Hark_V1_EventHeader, body: [UInt8]) throws(EventError) {
        switch header.kind {
        case .genesis, .message, .join, .edit, .delete, .reaction, .equivocationProof, .read, .member, .prekey, .senderKey, .historyKey, .fileOffer: break
        case .unspecified, .UNRECOGNIZED:
            throw .unknownKind(header.kind.rawValue)
        }

        // Genesis ⇔ empty group_id ⇔ kind GENESIS.
        let groupBytes = [UInt8](header.groupID)
        let isGenesis = header.kind == .genesis
        guard groupBytes.isEmpty == isGenesis else {
            throw .genesisMismatch(kind: header.kind.rawValue, hasGroupID: !groupBytes.isEmpty)
        }
        groupID = groupBytes.isEmpty ? nil : try Self.id(groupBytes, field: "group_id")

        // seq and self_parent.
        guard header.seq >= 1 else { throw .seqZero }
        let selfBytes = [UInt8](header.selfParent)
        if header.seq == 1 {
            guard selfBytes.isEmpty else { throw .unexpectedSelfParent }
            selfParent = nil
        } else {
            guard !selfBytes.isEmpty else { throw .missingSelfParent(seq: header.seq) }
            selfParent = try Self.id(selfBytes, field: "self_parent")
        }

        // Other parents.
        guard header.parents.count <= EventLimits.maxParents else { throw .tooManyParents(header.parents.count) }
        var parents: [EventID] = []
        parents.reserveCapacity(header.parents.count)
        for raw in header.parents {
            let p = try Self.id([UInt8](raw), field: "parent")
            if let last = parents.last {
                if last == p { throw .duplicateParent(p) }
                if p < last { throw .parentsNotSorted }
            }
            if p == selfParent { throw .selfParentInParents }
            parents.append(p)
        }
        self.parents = parents

        // Roots and lamport floors.
        let hasParents = selfParent != nil || !parents.isEmpty
        if isGenesis {
            guard header.seq == 1, !hasParents else { throw .genesisHasParents }
            guard header.lamport == 1 else { throw .wrongLamport(expected: 1, actual: header.lamport) }
        } else {
            guard hasParents else { throw .noParents }
            guard header.lamport >= 2 else { throw .lamportTooSmall(header.lamport) }
        }

        // A read marker says everything with its ancestors; it carries nothing else.
        if header.kind == .read, !header.bodyHash.isEmpty || header.bodyLen != 0 { throw .readMarkerHasBody }

        try Self.checkBody(header: header, body: body)
    }

    private static func id(_ bytes: [UInt8], field: String) throws(EventError) -> EventID {
        guard bytes.count == EventID.byteCount else {
            throw .invalidLength(field: field, expected: EventID.byteCount, actual: bytes.count)
        }
        return try EventID(bytes: bytes)
    }

    private static func checkBody(header: Hark_V1_EventHeader, body: [UInt8]) throws(EventError) {
        let declaredHash = [UInt8](header.bodyHash)
        if declaredHash.isEmpty {
            guard body.isEmpty, header.bodyLen == 0 else { throw .unexpectedBody }
            return
        }
        guard declaredHash.count == EventLimits.hashBytes else {
            throw .invalidLength(field: "body_hash", expected: EventLimits.hashBytes, actual: declaredHash.count)
        }
        // A body may be absent although body_hash is set: it was purged after a DELETE
        // (PROTOCOL.md §4.7.2). Its declared size must still be within the limit.
        guard Int(header.bodyLen) <= EventLimits.maxBodyBytes else { throw .bodyTooLarge(Int(header.bodyLen)) }
        guard header.bodyLen >= 1 else { throw .bodyLengthMismatch(declared: 0, actual: body.count) }
        if body.isEmpty { return }
        guard Int(header.bodyLen) == body.count else {
            throw .bodyLengthMismatch(declared: header.bodyLen, actual: body.count)
        }
        guard constantTimeEqual(EventSigning.bodyHash(body), declaredHash) else { throw .bodyHashMismatch }
    }
}
