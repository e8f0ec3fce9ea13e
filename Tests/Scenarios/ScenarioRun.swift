import Crypto
import Foundation
import GRDB
import LatchAudit
import LatchCore
import LatchGrants
import LatchIdentity
import LatchSQLite
import LatchTesting
import Logging
import Testing

@testable import LatchGateway

/// One run of a scenario's steps through a fresh ``ScenarioHarness``, under one carrier of the
/// injection (or none, for the benign path): each step's outcome checked against its `expect`,
/// I1 and I2 checked at every call, I3 and I4 at the end.
final class ScenarioRun {
    /// What a step came to, compared across carriers (I6).
    struct Outcome: Hashable, CustomStringConvertible {
        var step: Int
        var decision: String
        var reason: String?
        var description: String { "\(self.step): \(self.decision)\(self.reason.map { " (\($0))" } ?? "")" }
    }

    let harness: ScenarioHarness
    let scenario: Scenario
    /// nil: the benign path (the injection is left out).
    let carrier: Carrier?
    let label: String
    private(set) var outcomes: [Outcome] = []
    /// Everything the gateway and the token endpoint said to an agent other than a tool's result (I4).
    private var visible: [String] = []
    /// Calls that passed authentication: each has exactly one decision record (I1).
    private var attempts = 0
    /// Token exchanges refused (a refused delegation may have a record: the guard's).
    private var refusedExchanges = 0
    private var lastApproval: String?
    private var lastRequestState: String?
    private var lastProof: [String: String] = [:]
    private var invariantsChecked = false

    init(_ scenario: Scenario, carrier: Carrier?) async throws {
        self.scenario = scenario
        self.carrier = carrier
        self.label = "\(scenario.id) [\(carrier?.rawValue ?? "benign")]"
        self.harness = try await ScenarioHarness(scenario) { Self.render($0, goal: scenario.injection, carrier: carrier) }
    }

    func close() { self.harness.close() }

    func fail(_ index: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        Issue.record(Comment(rawValue: "\(self.label) step \(index): \(message)"), sourceLocation: sourceLocation)
    }

    /// The text with `{{injection}}` replaced by the carrier's wrapping of the goal (nothing on the benign path).
    func render(_ text: String) -> String { Self.render(text, goal: self.scenario.injection, carrier: self.carrier) }

    static func render(_ text: String, goal: String?, carrier: Carrier?) -> String {
        guard text.contains("{{injection}}") else { return text }
        let injection = carrier.map { $0.wrap(goal ?? "") } ?? ""
        return text.replacingOccurrences(of: "{{injection}}", with: injection)
    }

    func run(_ steps: [JSONValue]) async throws {
        for (index, step) in steps.enumerated() {
            try await self.step(step, index: index + 1)
        }
        if !self.invariantsChecked { try await self.checkInvariants() }
    }

    private func step(_ step: JSONValue, index: Int) async throws {
        let expect = step["expect"]?.objectValue ?? [:]
        if let tool = step["call"]?.stringValue {
            // `repeat: N` sends the call N times, `{{n}}` in its arguments the attempt's number;
            // `expect` holds for each (`expect_after` from attempt `after` on).
            let times = Int(step["repeat"]?.intValue ?? 1)
            for attempt in 1...max(1, times) {
                var wanted = expect
                if let after = step["after"]?.intValue, attempt > Int(after) { wanted = step["expect_after"]?.objectValue ?? [:] }
                try await self.call(tool, step: step, expect: wanted, index: index, attempt: times > 1 ? attempt : nil)
            }
        } else if step["grant"] != nil || step["delegate"] != nil {
            // `repeat: N` exchanges N times, `{{n}}` in the grant's name, `from` and `to` the attempt's number;
            // `expect` holds for each (`expect_after` from attempt `after` on).
            let times = Int(step["repeat"]?.intValue ?? 1)
            for attempt in 1...max(1, times) {
                func numbered(_ key: String, _ fallback: String) -> String {
                    (step[key]?.stringValue ?? fallback).replacingOccurrences(of: "{{n}}", with: String(attempt))
                }
                var wanted = expect
                if let after = step["after"]?.intValue, attempt > Int(after) { wanted = step["expect_after"]?.objectValue ?? [:] }
                if step["grant"] != nil {
                    try await self.exchange(numbered("grant", ""), step: step, expect: wanted, index: index) {
                        () async throws(TokenExchangeError) -> ScenarioHarness.Held in
                        try await self.harness.issue(agent: numbered("agent", ""), step: step)
                    }
                } else {
                    guard let parent = self.harness.grants[numbered("from", "main")] else {
                        throw ScenarioError("\(self.label) step \(index): no parent grant")
                    }
                    try await self.exchange(numbered("delegate", ""), step: step, expect: wanted, index: index) {
                        () async throws(TokenExchangeError) -> ScenarioHarness.Held in
                        try await self.harness.delegate(parent, to: numbered("to", ""), step: step)
                    }
                }
            }
        } else if step["approve"] != nil || step["deny"] != nil {
            let approve = step["approve"] != nil
            guard let id = self.lastApproval else { return self.fail(index, "no held call to decide") }
            let outcome = try await self.harness.store.decideApproval(
                id: id, approve: approve, by: step["by"]?.stringValue ?? "operator", note: nil, now: self.harness.now)
            guard case .decided(let approval) = outcome else { return self.fail(index, "the approval could not be decided: \(outcome)") }
            self.outcomes.append(Outcome(step: index, decision: approve ? "approved" : "refused_by_operator", reason: nil))
            if let tool = expect["tool"]?.stringValue, approval.tool != tool { self.fail(index, "the approval is for \(approval.tool), not \(tool)") }
            if let policies = expect["policies"]?.arrayValue?.compactMap(\.stringValue), !Set(policies).isSubset(of: approval.policies) {
                self.fail(index, "the approval names policies \(approval.policies), not all of \(policies)")
            }
        } else if let seconds = step["advance"]?.intValue {
            self.harness.clock.advance(seconds: seconds)
        } else if let name = step["complete"]?.stringValue ?? step["revoke"]?.stringValue {
            guard let held = self.harness.grants[name] else { throw ScenarioError("\(self.label) step \(index): no grant \(name)") }
            if step["complete"] != nil {
                let target = DPoPRequest(method: "POST", uri: ScenarioHarness.base + "/token/complete")
                _ = try await self.harness.authority.complete(
                    token: held.token, proof: try self.harness.proof(self.harness.key(held.agent), uri: target.uri, token: held.token),
                    request: target)
            } else {
                _ = try await self.harness.authority.revoke(token: held.token)
            }
            self.outcomes.append(Outcome(step: index, decision: step["complete"] != nil ? "completed" : "revoked", reason: nil))
        } else if let tool = step["redefine"]?.stringValue {
            guard let dot = tool.firstIndex(of: "."), let backend = self.harness.backends[String(tool[..<dot])] else {
                throw ScenarioError("\(self.label) step \(index): no tool \(tool)")
            }
            backend.define(
                tool: String(tool[tool.index(after: dot)...]), description: self.render(step["description"]?.stringValue ?? ""),
                schema: step["schema"])
            try await self.harness.refreshTools()
        } else if let tool = step["accept"]?.stringValue {
            let accepted = try await self.harness.acceptDefinition(tool, by: step["by"]?.stringValue ?? "operator")
            if accepted != (expect["accepted"] ?? .bool(true) == .bool(true)) { self.fail(index, "accepting \(tool): \(accepted)") }
        } else if let text = step["policies"]?.stringValue {
            let policy = ToolCallPolicy(policies: try ScenarioHarness.policySet(text), attributes: ScenarioHarness.attributes(self.scenario))
            self.harness.gateway.update { $0.policy = policy }
        } else if let agent = step["release"]?.stringValue {
            // An operator releases the agent's quarantine (`latch quarantine release … --as NAME`); the node reloads.
            let released = try await self.harness.store.releaseAgent(
                ScenarioHarness.agentID(agent), by: step["by"]?.stringValue ?? "operator", note: step["note"]?.stringValue, now: self.harness.now)
            try await self.harness.authority.syncQuarantines()
            self.outcomes.append(Outcome(step: index, decision: released == nil ? "not_quarantined" : "released", reason: nil))
            if (released != nil) != (expect["released"] ?? .bool(true) == .bool(true)) {
                self.fail(index, "release of \(agent): \(String(describing: released))")
            }
        } else if let find = step["find"]?.objectValue {
            try await self.find(find, expect: expect, index: index)
        } else if let name = step["present"]?.stringValue {
            try self.present(name, audience: step["audience"]?.stringValue ?? "latch-gateway", expect: expect, index: index)
        } else if let name = step["list"]?.stringValue {
            try await self.list(name, expect: expect, index: index)
        } else if let kinds = step["tamper"]?.arrayValue?.compactMap(\.stringValue) {
            try await self.tamper(kinds, index: index)
        } else {
            throw ScenarioError("\(self.label) step \(index): unknown step \(step)")
        }
    }

    // MARK: Calls

    private func call(_ tool: String, step: JSONValue, expect: [String: JSONValue], index: Int, attempt: Int?) async throws {
        let grantName = step["as"]?.stringValue ?? "main"
        guard let held = self.harness.grants[grantName] else { throw ScenarioError("\(self.label) step \(index): no grant \(grantName)") }
        let upstream = tool.split(separator: ".").first.map(String.init) ?? tool
        let backend = self.harness.backends[upstream]
        let toolName = String(tool.dropFirst(upstream.count + 1))
        if let output = step["output"]?.stringValue {
            backend?.prepare(tool: toolName, output: self.render(output), sensitivity: step["sensitivity"]?.stringValue)
        }
        let reachedBefore = backend?.calls.count ?? 0
        let recordsBefore = Set(try await self.records().map(\.id))
        let revokedBefore = self.harness.authority.revocations.isRevoked(held.grant)

        var meta: [String: JSONValue] = [
            "io.modelcontextprotocol/protocolVersion": .string(MCPGateway.modernVersion), MCPGateway.promptMetaKey: .string(self.scenario.prompt),
        ]
        // The retry of a held call: `approval: last` echoes the input-required answer's
        // `requestState` (the 2026-07-28 round trip), `approval: last_id` names the approval in `_meta`.
        var requestState: String?
        switch step["approval"]?.stringValue {
        case "last"?: requestState = self.lastRequestState
        case "last_id"?: if let id = self.lastApproval { meta[Approval.metaKey] = .string(id) }
        default: break
        }
        var arguments = step["arguments"] ?? .object([:])
        if case .object(var members) = arguments {
            for (key, value) in members {
                guard case .string(var text) = value else { continue }
                if let attempt { text = text.replacingOccurrences(of: "{{n}}", with: String(attempt)) }
                members[key] = .string(self.render(text))
            }
            arguments = .object(members)
        }
        let body: JSONValue = .object([
            "jsonrpc": .string("2.0"), "id": .int(Int64(index)), "method": .string("tools/call"),
            "params": .object(
                ["name": .string(tool), "arguments": arguments, "_meta": .object(meta)].merging(
                    requestState.map { ["requestState": .string($0)] } ?? [:]
                ) {
                    $1
                }),
        ])
        var signer: P256.Signing.PrivateKey?
        var proof: String?
        switch step["proof"]?.stringValue {
        case "replay"?: proof = self.lastProof[grantName]
        case let other? where other.hasPrefix("agent:"): signer = self.harness.key(String(other.dropFirst(6)))
        default: break
        }
        let (request, sent) = try self.harness.request(body, method: "tools/call", name: tool, as: held, signer: signer, proof: proof)
        self.lastProof[grantName] = sent
        let response = await self.harness.gateway.handle(request)
        let answer = JSONValue(parsing: response.body) ?? .null

        let decision: String
        // A denial's data; for a call held at 2026-07-28 (an input-required result), the same under `_meta`.
        let inputRequired = answer["result"]?["resultType"] == .string("input_required")
        let data = inputRequired ? answer["result"]?["_meta"]?[Approval.metaKey] : answer["error"]?["data"]
        var reason = data?["reason"]?.stringValue
        if response.status == 401 {
            decision = "refused"
            reason = answer["error"]?["data"]?.stringValue
        } else if inputRequired, let id = data?["approval_id"]?.stringValue, let state = answer["result"]?["requestState"]?.stringValue {
            decision = "held"
            self.lastApproval = id
            self.lastRequestState = state
        } else if answer["result"] != nil {
            decision = "allowed"
        } else if !revokedBefore, self.harness.authority.revocations.isRevoked(held.grant) {
            decision = "killed"
        } else {
            decision = "denied"
        }
        if decision != "allowed" { self.visible.append(String(decoding: response.body, as: UTF8.self)) }
        self.outcomes.append(Outcome(step: index, decision: decision, reason: reason))

        // I1: one decision record per attempt (none for a request refused before it was one), with its hashes.
        let fresh = try await self.records().filter { !recordsBefore.contains($0.id) && $0.method == "tools/call" }
        let decisions = fresh.filter { $0.decisionID == nil }
        if decision == "refused" {
            if !fresh.isEmpty { self.fail(index, "I1: a refused request left \(fresh.count) records") }
        } else {
            self.attempts += 1
            if decisions.count != 1 { self.fail(index, "I1: \(decisions.count) decision records for one attempt") }
            if let record = decisions.first {
                if record.argumentsHMAC == nil || record.promptHMAC == nil {
                    self.fail(index, "I1: the decision record lacks its prompt or arguments hash")
                }
                if record.allowed != (decision == "allowed") {
                    self.fail(index, "I1: the record says allowed=\(record.allowed), the agent got \(decision)")
                }
                if decision != "allowed", data?["decision_id"]?.stringValue != record.id {
                    self.fail(index, "I1: the denial names another record")
                }
                self.check(record: record, expect: expect, index: index)
            }
        }
        // I2: nothing reached the backend unless the call was allowed.
        let reached = (backend?.calls.count ?? 0) - reachedBefore
        if reached != (decision == "allowed" ? 1 : 0) { self.fail(index, "I2: \(reached) calls reached the backend on \(decision)") }
        // What did reach it is the call as decided: that tool, those arguments.
        if decision == "allowed", reached == 1, let last = backend?.calls.last, last.tool != toolName || last.arguments != arguments {
            self.fail(index, "the backend received \(last.tool) with other arguments than were decided")
        }

        let wanted = expect["decision"]?.stringValue ?? "allowed"
        if decision != wanted {
            self.fail(
                index, "\(tool): \(decision) (\(reason ?? "-")), expected \(wanted): \(String(decoding: response.body, as: UTF8.self).prefix(600))")
        }
        if let code = expect["reason"]?.stringValue, reason != code { self.fail(index, "\(tool): reason \(reason ?? "none"), expected \(code)") }
        if let policies = expect["policies"]?.arrayValue?.compactMap(\.stringValue) {
            let named = data?["policies"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if !Set(policies).isSubset(of: named) { self.fail(index, "\(tool): policies \(named), expected to include \(policies)") }
        }
        if let text = expect["message"]?.stringValue, !(answer["error"]?["message"]?.stringValue ?? "").contains(text) {
            self.fail(index, "\(tool): message \(answer["error"]?["message"]?.stringValue ?? "none") does not say \"\(text)\"")
        }
        if let total = expect["backend_calls"]?.intValue, backend?.calls.filter({ $0.tool == toolName }).count != Int(total) {
            self.fail(index, "\(tool) reached the backend \(backend?.calls.filter { $0.tool == toolName }.count ?? 0) times, expected \(total)")
        }
    }

    /// Expectations on a call's decision record: `tainted` (exactly these argument names),
    /// `approval` (the record names one), `destination`.
    private func check(record: DecisionRecord, expect: [String: JSONValue], index: Int) {
        if let tainted = expect["tainted"]?.arrayValue?.compactMap(\.stringValue), record.facts?.taintedArguments.sorted() != tainted.sorted() {
            self.fail(index, "tainted arguments \(record.facts?.taintedArguments ?? []), expected \(tainted)")
        }
        if expect["approval"] == .bool(true), record.approvalID == nil { self.fail(index, "the record names no approval") }
        if let destination = expect["destination"]?.stringValue, record.destination != destination {
            self.fail(index, "destination \(record.destination ?? "none"), expected \(destination)")
        }
    }

    private func exchange(
        _ name: String, step: JSONValue, expect: [String: JSONValue], index: Int,
        _ body: () async throws(TokenExchangeError) -> ScenarioHarness.Held
    ) async throws {
        let wanted = expect["decision"]?.stringValue ?? "issued"
        do {
            let held = try await body()
            self.harness.grants[name] = held
            self.outcomes.append(Outcome(step: index, decision: "issued", reason: nil))
            if wanted != "issued" { return self.fail(index, "grant \(name) was issued, expected \(wanted)") }
            if let depth = expect["depth"]?.intValue, held.grant.depth != Int(depth) {
                self.fail(index, "depth \(held.grant.depth), expected \(depth)")
            }
            if let actors = expect["actors"]?.arrayValue?.compactMap(\.stringValue),
                held.grant.actors.map(\.description) != actors.map({ ScenarioHarness.agentID($0).description })
            {
                self.fail(index, "actors \(held.grant.actors), expected \(actors)")
            }
            if let subject = expect["subject"]?.stringValue, held.grant.subject != ScenarioHarness.agentID(subject) {
                self.fail(index, "subject \(held.grant.subject), expected \(subject)")
            }
            if let limit = expect["expires_by_parent"]?.stringValue, let parent = self.harness.grants[limit],
                held.grant.expiresAt > parent.grant.expiresAt
            {
                self.fail(index, "the delegated grant outlives its parent")
            }
        } catch {
            self.refusedExchanges += 1
            self.visible.append(error.description)
            self.outcomes.append(Outcome(step: index, decision: "refused", reason: error.code.rawValue))
            if wanted != "refused" {
                return self.fail(index, "grant \(name) refused (\(error.code.rawValue): \(error.description)), expected \(wanted)")
            }
            if let code = expect["reason"]?.stringValue, code != error.code.rawValue {
                self.fail(index, "refused \(error.code.rawValue), expected \(code)")
            }
            if let text = expect["message"]?.stringValue, !error.description.contains(text) {
                self.fail(index, "refusal \"\(error.description)\" does not say \"\(text)\"")
            }
        }
    }

    /// An investigator finds decision records by value, through their keyed hashes (as
    /// `latch audit query --argument NAME=VALUE --prompt TEXT`): `argument` and `value`, and/or
    /// `prompt: true` (the scenario's prompt).
    private func find(_ find: [String: JSONValue], expect: [String: JSONValue], index: Int) async throws {
        var matched = try await self.records().filter { $0.decisionID == nil && $0.method == "tools/call" }
        if let name = find["argument"]?.stringValue, let value = find["value"]?.stringValue {
            matched = matched.filter { self.harness.gateway.privacy.matches($0, argument: name, typed: value) }
        }
        if find["prompt"] == .bool(true) { matched = matched.filter { self.harness.gateway.privacy.matches($0, prompt: self.scenario.prompt) } }
        let reasons = matched.map { $0.reason ?? "allowed" }.sorted()
        self.outcomes.append(Outcome(step: index, decision: "found:\(matched.count)", reason: reasons.joined(separator: ",")))
        if let count = expect["count"]?.intValue, matched.count != Int(count) {
            self.fail(index, "found \(matched.count) records, expected \(count)")
        }
        if expect["count"] == .string("all"), matched.count != self.attempts {
            self.fail(index, "found \(matched.count) records of \(self.attempts) calls")
        }
        if let wanted = expect["reasons"]?.arrayValue?.compactMap(\.stringValue), wanted.sorted() != reasons {
            self.fail(index, "found records with \(reasons), expected \(wanted.sorted())")
        }
    }

    /// A resource server checks the grant (`GrantAuthenticator` for `audience`), as the gateway would.
    private func present(_ name: String, audience: String, expect: [String: JSONValue], index: Int) throws {
        guard let held = self.harness.grants[name] else { throw ScenarioError("\(self.label) step \(index): no grant \(name)") }
        let uri = "https://\(audience).resource.test/api"
        let authenticator = GrantAuthenticator(
            authority: self.harness.authority, audience: audience, logger: Logger(label: "scenario") { _ in SwiftLogNoOpLogHandler() })
        let outcome = authenticator.authenticate(
            method: "POST", uri: uri, authorization: ["DPoP " + held.token],
            proof: [try self.harness.proof(self.harness.key(held.agent), uri: uri, token: held.token)],
            now: self.harness.now)
        let wanted = expect["decision"]?.stringValue ?? "accepted"
        switch outcome {
        case .success:
            self.outcomes.append(Outcome(step: index, decision: "accepted", reason: nil))
            if wanted != "accepted" { self.fail(index, "\(audience) accepted grant \(name)") }
        case .failure(let refusal):
            self.visible.append(refusal.description)
            self.outcomes.append(Outcome(step: index, decision: "refused", reason: refusal.error))
            if wanted != "refused" { self.fail(index, "\(audience) refused grant \(name): \(refusal.description)") }
            if let text = expect["message"]?.stringValue, !refusal.description.contains(text) {
                self.fail(index, "refusal \"\(refusal.description)\" does not say \"\(text)\"")
            }
        }
    }

    private func list(_ name: String, expect: [String: JSONValue], index: Int) async throws {
        guard let held = self.harness.grants[name] else { throw ScenarioError("\(self.label) step \(index): no grant \(name)") }
        let body: JSONValue = .object([
            "jsonrpc": .string("2.0"), "id": .int(Int64(index)), "method": .string("tools/list"),
            "params": .object(["_meta": .object(["io.modelcontextprotocol/protocolVersion": .string(MCPGateway.modernVersion)])]),
        ])
        let (request, _) = try self.harness.request(body, method: "tools/list", name: nil, as: held)
        let answer = JSONValue(parsing: await self.harness.gateway.handle(request).body)
        let names = Set(answer?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        self.outcomes.append(Outcome(step: index, decision: "listed", reason: names.sorted().joined(separator: ",")))
        for tool in expect["listed"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !names.contains(tool) {
            self.fail(index, "\(tool) is not listed")
        }
        for tool in expect["not_listed"]?.arrayValue?.compactMap(\.stringValue) ?? [] where names.contains(tool) {
            self.fail(index, "\(tool) is listed")
        }
    }

    func records() async throws -> [DecisionRecord] { try await self.harness.store.decisionRecords(taskID: nil, limit: 100_000) }

    var attemptCount: Int { self.attempts }
    var refusedDelegations: Int { self.refusedExchanges }
    var visibleAnswers: [String] { self.visible }
    func markInvariantsChecked() { self.invariantsChecked = true }

    func recordTamper(_ kind: String, verification: LedgerVerification) {
        self.outcomes.append(Outcome(step: 0, decision: "tampered:\(kind)", reason: verification.problems.first?.kind.rawValue))
    }
}
