import CedarPolicy
import Testing

/// End-to-end vectors from Cedar policy text, with the expected answers taken from cedarpy 4.12.2 on
/// the same entities and request (``Fixture``).
@Suite("Authorizer: policy text vectors (answers from cedarpy)")
struct AuthorizerPolicyTextTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let policies: String
        let decision: Decision
        let reason: [String]
        let errors: [String]
        var testDescription: String { self.policies }
    }

    static let vectors: [Vector] = [
        Vector(
            policies: #"permit(principal in Group::"top", action in Action::"readActions", resource) when { resource.owner == principal };"#,
            decision: .allow, reason: ["policy0"], errors: []),
        Vector(
            policies: #"permit(principal, action, resource) when { principal.manager.age > 1 };"#, decision: .deny, reason: [], errors: ["policy0"]),
        Vector(
            policies: #"""
                permit(principal is User, action, resource is Doc) unless { resource.public };
                forbid(principal, action == Action::"read", resource) when { context.n > 5 };
                """#, decision: .allow, reason: ["policy0"], errors: []),
        Vector(
            policies: #"""
                forbid(principal, action, resource) when { principal.getTag("t") == "v" };
                permit(principal, action, resource);
                """#, decision: .deny, reason: ["policy0"], errors: []),
        Vector(
            policies: #"""
                permit(principal, action, resource) when { context.flags.containsAll(["a"]) && principal.info.level == 3 &&
                  ip("10.1.2.3").isInRange(ip("10.0.0.0/8")) && datetime("2024-01-01").offset(duration("1d")) > datetime("2024-01-01T23:59:59Z") };
                """#, decision: .allow, reason: ["policy0"], errors: []),
        Vector(
            policies: #"""
                permit(principal, action, resource) when { 9223372036854775807 + context.n > 0 };
                permit(principal, action, resource) when { context.n == 1 };
                """#, decision: .allow, reason: ["policy1"], errors: ["policy0"]),
        Vector(
            policies: #"""
                permit(principal == User::"alice", action, resource)
                  when { principal has age && !(principal has missing) && "alice" like "a*e" };
                """#,
            decision: .allow, reason: ["policy0"], errors: []),
        Vector(
            policies: #"permit(principal, action in [Action::"write", Action::"readActions"], resource);"#, decision: .allow, reason: ["policy0"],
            errors: []),
        Vector(
            policies: #"permit(principal, action, resource) when { decimal("1.5") < decimal("2.0") };"#, decision: .deny, reason: [],
            errors: ["policy0"]),
        Vector(policies: #"permit(principal, action, resource) when { principal.age };"#, decision: .deny, reason: [], errors: ["policy0"]),
        Vector(
            policies: #"""
                permit(principal, action, resource) when { false && principal.nope } unless { principal.nope2 };
                permit(principal, action, resource) when { true } unless { principal.nope2 };
                """#, decision: .deny, reason: [], errors: ["policy1"]),
        Vector(
            policies: #"""
                forbid(principal, action, resource) unless { principal in [Group::"x", Group::"g"] };
                permit(principal is Group, action, resource);
                permit(principal, action == Action::"readActions", resource);
                """#, decision: .deny, reason: [], errors: []),
        Vector(
            policies: #"permit(principal, action, resource) when { if context has s then context.s == "x" else principal.nope };"#, decision: .allow,
            reason: ["policy0"], errors: []),
        Vector(
            policies: #"permit(principal, action, resource) when { principal.hasTag("missing") || principal.getTag("missing") == "v" };"#,
            decision: .deny, reason: [], errors: ["policy0"]),
    ]

    @Test("decision, reason and errors match cedarpy", arguments: vectors)
    func vector(_ v: Vector) throws {
        let authorizer = Authorizer(try PolicySet(parsing: v.policies))
        let response = authorizer.isAuthorized(Fixture.request, entities: Fixture.entities)
        #expect(response.decision == v.decision)
        #expect(response.reason == v.reason)
        #expect(response.errors.map(\.policyID) == v.errors)
    }
}
