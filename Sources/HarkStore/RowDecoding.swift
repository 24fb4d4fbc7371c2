import Foundation
import GRDB
import HarkCrypto
import HarkLog

/// Reading columns without trapping: GRDB's non-optional subscripts crash on a NULL or a value
/// of the wrong type, so every column goes through `DatabaseValue` and fails as
/// `StoreError.corrupt` instead.
extension Row {
    func blob(_ column: String, _ table: String) throws(StoreError) -> [UInt8] {
        let value: DatabaseValue = self[column]
        guard case .blob(let data) = value.storage else {
            throw .corrupt("\(table).\(column) is not a BLOB")
        }
        return [UInt8](data)
    }

    func int64(_ column: String, _ table: String) throws(StoreError) -> Int64 {
        let value: DatabaseValue = self[column]
        guard case .int64(let n) = value.storage else { throw .corrupt("\(table).\(column) is not an INTEGER") }
        return n
    }

    func text(_ column: String, _ table: String) throws(StoreError) -> String {
        let value: DatabaseValue = self[column]
        guard case .string(let s) = value.storage else { throw .corrupt("\(table).\(column) is not TEXT") }
        return s
    }

    func optionalText(_ column: String, _ table: String) throws(StoreError) -> String? {
        let value: DatabaseValue = self[column]
        if value.isNull { return nil }
        return try text(column, table)
    }

    func eventID(_ column: String, _ table: String) throws(StoreError) -> EventID {
        let bytes = try blob(column, table)
        do { return try EventID(bytes: bytes) } catch { throw .corrupt("\(table).\(column): \(error)") }
    }

    func optionalBlob(_ column: String, _ table: String) throws(StoreError) -> [UInt8]? {
        let value: DatabaseValue = self[column]
        if value.isNull { return nil }
        return try blob(column, table)
    }

    /// A BLOB of n × 32-byte event IDs (heads lists).
    func eventIDs(_ column: String, _ table: String) throws(StoreError) -> [EventID] {
        try EventID.list(try blob(column, table), what: "\(table).\(column)")
    }

    func signingKey(_ column: String, _ table: String) throws(StoreError) -> SigningPublicKey {
        let bytes = try blob(column, table)
        do { return try SigningPublicKey(bytes: bytes) } catch { throw .corrupt("\(table).\(column): \(error)") }
    }

    /// Decodes the `signed` column of an `event` row and checks it hashes to the row's `id`.
    func event() throws(StoreError) -> Event {
        let id = try eventID("id", "event")
        let signed = try blob("signed", "event")
        let event: Event
        // Verified when stored; `hark verify` re-checks signatures (Event.hasValidSignature).
        do { event = try Event(decodingStored: signed) } catch {
            throw .corrupt("event \(id): stored bytes do not decode: \(error)")
        }
        guard event.id == id else { throw .corrupt("event \(id): stored bytes hash to \(event.id)") }
        return event
    }
}

extension EventID {
    var data: Data { Data(bytes) }

    /// IDs stored back to back (heads lists), as a BLOB.
    static func blob(_ ids: some Sequence<EventID>) -> Data { Data(ids.flatMap(\.bytes)) }

    /// Splits a BLOB of IDs stored back to back. - Throws: `.corrupt` unless its size is n × 32.
    static func list(_ bytes: [UInt8], what: String) throws(StoreError) -> [EventID] {
        guard bytes.count % byteCount == 0 else { throw .corrupt("\(what): \(bytes.count) bytes is not a list of IDs") }
        var out: [EventID] = []
        out.reserveCapacity(bytes.count / byteCount)
        for i in stride(from: 0, to: bytes.count, by: byteCount) {
            do { out.append(try EventID(bytes: Array(bytes[i..<i + byteCount]))) } catch { throw .corrupt("\(what): \(error)") }
        }
        return out
    }
}

/// SQLite INTEGER is signed 64-bit.
func storable(_ value: UInt64, _ what: String) throws(StoreError) -> Int64 {
    guard let v = Int64(exactly: value) else { throw .unrepresentable("\(what) \(value) exceeds Int64.max") }
    return v
}
