import LatchCore
public import LatchGateway
import LatchStoreSupport
import Synchronization

extension InMemoryIdentityStore: ToolPinRepository {
    /// The in-memory key of a pin: upstream, tool, status.
    struct ToolPinKey: Hashable {
        let upstream: String
        let tool: String
        let status: ToolPin.Status
    }

    public func toolPins(upstream: String?) async throws -> [ToolPin] {
        self.state.withLock { state in
            let selected = state.toolPins.values.filter { pin in upstream.map { pin.upstream.utf8.elementsEqual($0.utf8) } ?? true }
            // Bytewise, as the stores' `BINARY`/`"C"` collations; "accepted" < "pending".
            return selected.sorted { a, b in
                if !a.upstream.utf8.elementsEqual(b.upstream.utf8) { return a.upstream.utf8.lexicographicallyPrecedes(b.upstream.utf8) }
                if !a.tool.utf8.elementsEqual(b.tool.utf8) { return a.tool.utf8.lexicographicallyPrecedes(b.tool.utf8) }
                return a.status == .accepted && b.status == .pending
            }
        }
    }

    public func pinFirstDefinition(_ pin: ToolPin) async throws -> Bool {
        try StoreValidation.validate(pin)
        return self.state.withLock { state in
            let has = ToolPin.Status.allCases.contains { state.toolPins[ToolPinKey(upstream: pin.upstream, tool: pin.tool, status: $0)] != nil }
            guard !has else { return false }
            state.toolPins[ToolPinKey(upstream: pin.upstream, tool: pin.tool, status: pin.status)] = pin
            return true
        }
    }

    public func savePendingToolPin(_ pin: ToolPin) async throws -> Bool {
        try StoreValidation.validate(pin)
        guard pin.status == .pending else { throw LatchError(.invalidInput, "tool pin \(pin.name): savePendingToolPin takes a pending pin") }
        return self.state.withLock { state in
            let key = ToolPinKey(upstream: pin.upstream, tool: pin.tool, status: .pending)
            guard state.toolPins[key]?.digest != pin.digest else { return false }
            state.toolPins[key] = pin
            return true
        }
    }

    public func deletePendingToolPin(upstream: String, tool: String, digest: String) async throws -> Bool {
        try StoreValidation.validatePinKey(upstream: upstream, tool: tool, digest: digest)
        return self.state.withLock { state in
            let key = ToolPinKey(upstream: upstream, tool: tool, status: .pending)
            guard state.toolPins[key]?.digest == digest else { return false }
            state.toolPins[key] = nil
            return true
        }
    }

    public func acceptToolPin(
        upstream: String, tool: String, digest: String, acceptedAt: Int64, acceptedBy: String?
    ) async throws
        -> ToolPinAcceptance
    {
        try StoreValidation.validateAcceptance(upstream: upstream, tool: tool, digest: digest, acceptedBy: acceptedBy)
        return self.state.withLock { state in
            let pendingKey = ToolPinKey(upstream: upstream, tool: tool, status: .pending)
            guard var pin = state.toolPins[pendingKey] else { return .nothingPending }
            guard pin.digest == digest else { return .digestMismatch(pending: pin.digest) }
            pin.status = .accepted
            pin.acceptedAt = acceptedAt
            pin.acceptedBy = acceptedBy
            state.toolPins[pendingKey] = nil
            state.toolPins[ToolPinKey(upstream: upstream, tool: tool, status: .accepted)] = pin
            return .accepted(pin)
        }
    }
}
