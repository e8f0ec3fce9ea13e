import LatchCore
import Testing

@testable import LatchGrants

@Suite("Delegation: grants only narrow")
struct DelegationTests {
    static func id(_ path: String) -> SPIFFEID { (try? SPIFFEID(parsing: "spiffe://latch.test/" + path)) ?? { fatalError("fixture") }() }
    static let now: Int64 = 1_767_225_600_000
    static let planner = id("agents/planner")
    static let researcher = id("agents/researcher")
    static let summarizer = id("agents/summarizer")

    static let parent = TaskGrant(
        id: "g-root", taskID: "task-1", subject: planner, audience: ["gateway", "audit"], intent: "summarize tickets",
        scope: GrantScope(
            tools: ["search", "read_ticket", "summarize"], dataDomains: ["tickets", "kb"], destinations: ["internal"],
            maxSensitivity: .confidential),
        issuedAt: now, expiresAt: now + 300_000, keyThumbprint: "planner-key", mayAct: [researcher, summarizer])

    static func request(
        _ actor: SPIFFEID = researcher, scope: GrantScope? = nil, audience: Set<String>? = nil, lifetime: Int64? = nil,
        mayAct: Set<SPIFFEID>? = nil
    ) -> DelegationRequest {
        DelegationRequest(actor: actor, actorKeyThumbprint: "actor-key", scope: scope, audience: audience, lifetime: lifetime, mayAct: mayAct)
    }

    static func scope(
        tools: Set<String> = ["search"], domains: Set<String> = ["tickets"], destinations: Set<String> = ["internal"],
        sensitivity: Sensitivity = .internal
    ) -> GrantScope {
        GrantScope(tools: tools, dataDomains: domains, destinations: destinations, maxSensitivity: sensitivity)
    }

    /// Every way of widening, with the error code and a word the description must contain.
    static let widenings: [(String, DelegationRequest, OAuthError, String)] = [
        ("tool", request(scope: scope(tools: ["search", "send_email"])), .invalidScope, "send_email"),
        ("data domain", request(scope: scope(domains: ["tickets", "payroll"])), .invalidScope, "payroll"),
        ("destination", request(scope: scope(destinations: ["internal", "pastebin.com"])), .invalidScope, "pastebin.com"),
        ("sensitivity", request(scope: scope(sensitivity: .restricted)), .invalidScope, "sensitivity"),
        ("audience", request(audience: ["gateway", "billing"]), .invalidTarget, "billing"),
        ("empty audience", request(audience: []), .invalidTarget, "audience"),
        ("lifetime", request(lifetime: 300_001), .invalidRequest, "lifetime"),
        ("lifetime overflow", request(lifetime: .max), .invalidRequest, "lifetime"),
        ("non-positive lifetime", request(lifetime: 0), .invalidRequest, "lifetime"),
        ("actor not in may_act", request(id("agents/stranger")), .unauthorizedClient, "may_act"),
        ("cycle back to the subject", request(planner), .invalidRequest, "cycle"),
        ("may_act widened", request(mayAct: [researcher, id("agents/stranger")]), .invalidScope, "may_act"),
    ]

    @Test("every widening is refused with its RFC error code and the bound named", arguments: 0..<Self.widenings.count)
    func widening(index: Int) {
        let (name, request, code, word) = Self.widenings[index]
        do {
            let child = try DelegationPolicy().delegate(Self.parent, request, id: "g-child", now: Self.now)
            Issue.record("\(name): widened grant was issued: \(child)")
        } catch {
            #expect(error.code == code, "\(name)")
            #expect(error.description.contains(word), "\(name): \(error.description)")
        }
    }

    /// Every narrowing (and keeping the same), accepted, with the child within the parent.
    static let narrowings: [(String, DelegationRequest)] = [
        ("unchanged", request()),
        ("fewer tools", request(scope: scope(tools: ["search"]))),
        ("no tools", request(scope: scope(tools: []))),
        ("fewer domains", request(scope: scope(domains: ["kb"]))),
        ("lower sensitivity", request(scope: scope(sensitivity: .public))),
        ("same sensitivity", request(scope: scope(sensitivity: .confidential))),
        ("smaller audience", request(audience: ["gateway"])),
        ("shorter lifetime", request(lifetime: 60_000)),
        ("lifetime to the parent's expiry", request(lifetime: 300_000)),
        ("narrower may_act", request(mayAct: [summarizer])),
        ("other allowed actor", request(summarizer)),
    ]

    @Test("every narrowing is accepted and stays within the parent", arguments: 0..<Self.narrowings.count)
    func narrowing(index: Int) throws {
        let (name, request) = Self.narrowings[index]
        let child = try DelegationPolicy().delegate(Self.parent, request, id: "g-child", now: Self.now)
        #expect(child.scope.violation(within: Self.parent.scope) == nil, "\(name)")
        #expect(child.audience.isSubset(of: Self.parent.audience), "\(name)")
        #expect(child.expiresAt <= Self.parent.expiresAt, "\(name)")
        #expect(child.depth == 1 && child.parentID == "g-root" && child.subject == Self.planner, "\(name)")
        #expect(child.actors == [request.actor], "\(name)")
        #expect(child.keyThumbprint == "actor-key", "\(name): the child is bound to the actor's key")
        #expect(child.mayAct.map { $0.isSubset(of: Self.parent.mayAct ?? []) } ?? false, "\(name)")
    }

    @Test("depth is bounded and actors never repeat along a chain")
    func depthAndCycles() throws {
        let policy = DelegationPolicy(maxDepth: 2)
        var open = Self.parent
        open.mayAct = nil
        let first = try policy.delegate(open, Self.request(Self.researcher), id: "g1", now: Self.now)
        #expect(first.actors == [Self.researcher])
        #expect(throws: TokenExchangeError.self) { try policy.delegate(first, Self.request(Self.researcher), id: "g2", now: Self.now) }
        let second = try policy.delegate(first, Self.request(Self.summarizer), id: "g2", now: Self.now)
        #expect(second.actors == [Self.summarizer, Self.researcher])
        #expect(second.holder == Self.summarizer)
        do {
            _ = try policy.delegate(second, Self.request(Self.id("agents/third")), id: "g3", now: Self.now)
            Issue.record("depth 3 was issued")
        } catch {
            #expect(error.code == .invalidRequest && error.description.contains("depth"))
        }
    }

    @Test("an expired parent delegates nothing")
    func expiredParent() {
        #expect(throws: TokenExchangeError(.invalidRequest, "the parent grant has expired")) {
            try DelegationPolicy().delegate(Self.parent, Self.request(), id: "g", now: Self.parent.expiresAt)
        }
    }
}
