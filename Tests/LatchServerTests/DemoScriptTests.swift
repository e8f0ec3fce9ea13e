import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchTesting
import Testing

@testable import LatchServer

@Suite("latch demo's agent and script")
struct DemoScriptTests {
    static let agent = LatchDemo.agentID

    /// Every scripted call as the agent would have seen it go as scripted.
    static func observed() -> [DemoScript.Observed] {
        DemoScript.calls.enumerated().map { index, call in
            var observed = DemoScript.Observed(call: call, traceID: String(repeating: "\(index)", count: 32))
            observed.allowed = call.expectation.allowed
            observed.reason = call.expectation.reason
            if !observed.allowed { observed.decisionID = "decision-\(index)" }
            return observed
        }
    }

    /// The records a gateway would have written for `calls`: one decision per call (indices 0…5,
    /// in call order), then an outcome for each forwarded call (calls 0, 1, 3 and 4).
    static func records(_ calls: [DemoScript.Observed]) -> [DecisionRecord] {
        let decisions = calls.enumerated().map { index, observed in
            var policies: [String] = observed.allowed ? ["interop-agents-call-tools"] : []
            if case .denied(_, let expected) = observed.call.expectation { policies = expected }
            return DecisionRecord(
                id: observed.decisionID ?? "decision-\(index)", time: 1_767_225_600_000 + Int64(index), taskID: "task-1", grantID: "grant-1",
                agent: Self.agent, subject: Self.agent, actors: [], method: "tools/call", tool: observed.call.tool, allowed: observed.allowed,
                reason: observed.reason, policies: policies, upstreamOutcome: observed.allowed ? "forwarded" : nil, traceID: observed.traceID)
        }
        let outcomes = decisions.filter(\.allowed).map { decision in
            var outcome = decision
            outcome.id = "outcome-" + decision.id
            outcome.decisionID = decision.id
            outcome.upstreamOutcome = "ok"
            return outcome
        }
        return decisions + outcomes
    }

    @Test("the script: allowed calls, one outside the grant, mail stopped after the restricted read")
    func script() {
        #expect(DemoScript.calls.map(\.expectation.allowed) == [true, true, false, true, true, false])
        #expect(DemoScript.calls[2].expectation == .denied(reason: "tool_not_in_grant", policies: []))
        #expect(DemoScript.calls[5].expectation == .denied(reason: "policy_denied", policies: ["no-egress-after-restricted-read"]))
        // Every call is distinct in its tool and arguments.
        #expect(Set(DemoScript.calls.map { $0.tool + JSONValue.object($0.arguments).serialized }).count == DemoScript.calls.count)
        #expect(!DemoScript.scope.contains("demo.http_fetch"))
    }

    @Test("records matching the calls verify")
    func verified() {
        let calls = Self.observed()
        #expect(DemoScript.verify(records: Self.records(calls), calls: calls, agent: Self.agent) == [])
        #expect(DemoScript.recordLines(records: Self.records(calls), calls: calls).count == calls.count)
    }

    @Test("a missing, extra, flipped, misattributed or renamed record does not verify")
    func differences() {
        let calls = Self.observed()
        let records = Self.records(calls)
        func problems(_ change: (inout [DecisionRecord]) -> Void) -> [String] {
            var changed = records
            change(&changed)
            return DemoScript.verify(records: changed, calls: calls, agent: Self.agent)
        }
        #expect(problems { $0.remove(at: 5) }.count == 2, "one decision too few, and a call without its decision")
        #expect(problems { $0.append($0[0]) }.count == 2, "one decision too many, and a call with two")
        #expect(problems { $0.removeLast() }.count == 2, "one outcome too few, and a forwarded call without its outcome")
        #expect(problems { $0[6].upstreamOutcome = "tool_error" }.count == 1)
        #expect(problems { $0[0].upstreamOutcome = nil }.count == 1, "an allowed call's decision says it was forwarded")
        #expect(
            problems {
                var outcome = $0[6]
                outcome.id = "outcome-of-a-denial"
                outcome.decisionID = $0[5].id
                $0.append(outcome)
            }.count == 2, "one outcome too many, and a denied call with an outcome")
        #expect(
            problems {
                $0[5].allowed = true
                $0[5].reason = nil
            }.count == 1)
        #expect(problems { $0[5].policies = [] }.count == 1)
        #expect(problems { $0[1].agent = "spiffe://latch.local/agents/other" }.count == 1)
        #expect(problems { $0[0].tool = "demo.list_files" }.count == 1)
        #expect(problems { $0[2].id = "another-decision" }.count == 1, "the denial named another decision")
        #expect(problems { $0[3].traceID = nil }.count == 1)
    }

    @Test("the agent's DPoP proofs pass Latch's verifier, bound to its grant by ath")
    func proofs() throws {
        let clock = FixedWallClock(UnixTime(milliseconds: TestKeys.epoch))
        let agent = DemoAgent(spiffeID: Self.agent, issuer: "http://127.0.0.1:9", socket: "/nonexistent", clock: clock)
        let verifier = DPoPVerifier(replayCache: DPoPReplayCache())
        let url = "http://127.0.0.1:9/mcp"
        let grant = "header.claims.signature"
        let proof = try agent.proof(method: "POST", url: url, token: grant)
        let request = DPoPRequest(method: "POST", uri: url, accessToken: Redacted(grant), boundThumbprint: agent.keyThumbprint)
        let verified = try verifier.verify(proof, for: request, now: TestKeys.epoch)
        #expect(verified.keyThumbprint == agent.keyThumbprint)
        #expect(throws: LatchError.self) { try verifier.verify(proof, for: request, now: TestKeys.epoch) }  // a replay
        let other = DPoPRequest(method: "POST", uri: url, accessToken: Redacted("another.grant.token"), boundThumbprint: agent.keyThumbprint)
        #expect(throws: LatchError.self) {
            try verifier.verify(try agent.proof(method: "POST", url: url, token: grant), for: other, now: TestKeys.epoch)
        }
        let token = try agent.proof(method: "POST", url: "http://127.0.0.1:9/token", token: nil)
        #expect(try verifier.verify(token, for: DPoPRequest(method: "POST", uri: "http://127.0.0.1:9/token"), now: TestKeys.epoch).jti.count == 32)
    }

    @Test("form bodies percent-encode everything but unreserved characters")
    func formEncoding() {
        #expect(
            DemoAgent.formEncoded([("scope", "tool:demo.read_file domain:docs"), ("intent", "mail é&=+")])
                == "scope=tool%3Ademo.read_file%20domain%3Adocs&intent=mail%20%C3%A9%26%3D%2B")
    }

    @Test("output helpers: excerpts are one clean line of at most 48 characters; challenges give their error")
    func helpers() {
        #expect(DemoScript.excerpt("name,salary\nalice,182000\n") == "\"name,salary\"")
        #expect(DemoScript.excerpt(String(repeating: "x", count: 60)) == "\"" + String(repeating: "x", count: 47) + "…\"")
        #expect(DemoScript.excerpt("a\u{1B}[31mb") == "\"a[31mb\"")
        #expect(
            DemoScript.challengeError(#"DPoP algs="ES256", resource_metadata="http://x", error="invalid_token", error_description="revoked""#)
                == "invalid_token")
        #expect(DemoScript.challengeError("DPoP algs=\"ES256\"") == nil)
    }
}
