public import LatchGateway
import Synchronization

extension InMemoryIdentityStore: OperatorRepository {
    public func addOperator(_ operator: Operator) async throws -> Bool {
        try `operator`.validate()
        return self.state.withLock { state in
            guard state.operators[`operator`.name] == nil else { return false }
            state.operators[`operator`.name] = `operator`
            return true
        }
    }

    public func operators() async throws -> [Operator] {
        self.state.withLock { state in state.operators.values.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) } }
    }

    public func removeOperator(name: String) async throws -> Bool {
        self.state.withLock { state in state.operators.removeValue(forKey: name) != nil }
    }
}
