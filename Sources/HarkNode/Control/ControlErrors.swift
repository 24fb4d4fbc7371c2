import HarkControl
import HarkStore

extension Node {
    /// The `ControlErrorBody` that answers `error`: a `ControlErrorBody` as it is; a `StoreError`
    /// as `storage`; anything else as `internal`. One mapping for the typed API and the socket.
    nonisolated static func controlError(_ error: any Error) -> ControlErrorBody {
        if let body = error as? ControlErrorBody { return body }
        return ControlErrorBody(code: error is StoreError ? .storage : .internal, message: "\(error)")
    }

    /// Runs `body` for a typed API method: a `ControlErrorBody` passes through; any other error
    /// (a `StoreError`, a crypto or encoding failure) is logged and mapped by `controlError`.
    /// - Parameter what: the control method's name, for the log.
    func typedErrors<T>(_ what: String, _ body: () throws -> T) throws(ControlErrorBody) -> T {
        do { return try body() } catch let e as ControlErrorBody { throw e } catch {
            logger.error("control request failed", metadata: ["method": "\(what)", "error": "\(error)"])
            throw Self.controlError(error)
        }
    }
}
