import Crypto
import LatchCore
import LatchGrants
import LatchIdentity
import Logging

extension MCPGateway {
    /// `tools/call`: scope → decision over the session's facts → forward → record.
    func callTool(_ message: JSONRPC.Message, modern: Bool, grant: TaskGrant, now: Int64, started: ContinuousClock.Instant) async
        -> Result<JSONValue, JSONRPC.Failure>
    {
        var record = DecisionRecord(
            id: Self.randomID(), time: now, taskID: grant.taskID, grantID: grant.id, agent: grant.holder.description,
            subject: grant.subject.description, actors: grant.actors.map(\.description), method: message.method, allowed: false)
        let meta = message.params["_meta"]?.objectValue ?? [:]
        if case .string(let prompt)? = meta[Self.promptMetaKey] {
            record.promptDigest = hexString(SHA256.hash(data: Array(prompt.utf8)))
            if self.settings.keepPrompts { record.prompt = prompt }
        }
        let trace = TraceContext(meta: meta)
        record.traceID = trace.traceID

        guard case .string(let name)? = message.params["name"] else {
            return .failure(JSONRPC.Failure(code: JSONRPC.invalidParams, message: "tools/call needs params.name, a string"))
        }
        record.tool = name
        var arguments: [String: JSONValue] = [:]
        switch message.params["arguments"] {
        case nil, .null?: break
        case .object(let object)?: arguments = object
        default: return .failure(JSONRPC.Failure(code: JSONRPC.invalidParams, message: "params.arguments must be an object"))
        }
        record.argumentsDigest = hexString(SHA256.hash(data: JSONValue.object(arguments).serializedBytes))

        let snapshot = self.current
        let decision: CallDecision
        let tool = snapshot.catalog[name]
        if let tool {
            decision = self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { facts in
                let decision =
                    snapshot.policy?.decide(grant: grant, tool: tool, arguments: arguments, facts: facts, now: now)
                    ?? .deny(DenialReason.policyDenied, "no gateway policies are configured")
                if decision.allowed { facts.recordAllowed(tool, now: now) } else { facts.recordDenied(now: now) }
                return decision
            }
        } else {
            self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordDenied(now: now) }
            decision = .deny(DenialReason.unknownTool, "no tool named \(name) is served here")
        }
        record.allowed = decision.allowed
        record.reason = decision.reason?.code
        record.message = decision.reason?.message
        record.policies = decision.policies
        record.policyErrors = decision.errors
        record.destination = decision.destination
        self.metrics.decided(since: started)

        guard let tool, decision.allowed else {
            let reason = decision.reason ?? DenialReason(DenialReason.policyDenied, "denied")
            return await self.finish(record, started: started, .failure(self.denial(reason, policies: decision.policies, errors: decision.errors, record: record)))
        }

        if let problem = snapshot.credentialProblems[tool.upstream] {
            self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordResult(nil) }
            record.allowed = false
            record.reason = DenialReason.credentialUnavailable
            record.message = "the credential of upstream \(tool.upstream) is unavailable: \(problem)"
            return await self.finish(
                record, started: started,
                .failure(self.denial(DenialReason(DenialReason.credentialUnavailable, record.message ?? ""), policies: decision.policies, errors: [], record: record)))
        }
        guard let upstream = snapshot.upstreams[tool.upstream] else {
            self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordResult(nil) }
            record.upstreamOutcome = "unavailable"
            return await self.finish(
                record, started: started, .failure(self.unavailable("the upstream \(tool.upstream) is not running", record: record)))
        }
        var forwardedMeta: [String: JSONValue] = ["traceparent": .string(trace.childParent)]
        if let state = trace.traceState { forwardedMeta["tracestate"] = .string(state) }
        let upstreamMetrics = self.metrics.upstream(tool.upstream)
        let forwarded = ContinuousClock.now
        do {
            var result = try await upstream.callTool(
                name: tool.upstreamName, arguments: message.params["arguments"] == nil ? nil : .object(arguments), meta: .object(forwardedMeta))
            upstreamMetrics.seconds.recordElapsed(since: forwarded)
            record.upstreamOutcome = result["isError"] == .bool(true) ? "tool_error" : "ok"
            if result["isError"] == .bool(true) { upstreamMetrics.countError(.toolError) }
            // The result's own label (an upstream may know better than the tool's label).
            let label = result["_meta"]?[Self.sensitivityMetaKey]?.stringValue.flatMap(Sensitivity.init(rawValue:)) ?? tool.labels.sensitivity
            guard label <= grant.scope.maxSensitivity else {
                self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordResult(nil) }
                record.allowed = false
                record.reason = DenialReason.sensitivityAboveGrant
                record.message = "the result is labelled \(label.rawValue); the grant allows at most \(grant.scope.maxSensitivity.rawValue)"
                return await self.finish(
                    record, started: started,
                    .failure(self.denial(DenialReason(DenialReason.sensitivityAboveGrant, record.message ?? ""), policies: [], errors: [], record: record)))
            }
            self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordResult(label) }
            if modern, case .object(var object) = result {
                object["resultType"] = .string("complete")
                result = .object(object)
            }
            return await self.finish(record, started: started, .success(result))
        } catch {
            upstreamMetrics.seconds.recordElapsed(since: forwarded)
            self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordResult(nil) }
            switch error.kind {
            case .rpcError(let code, let message, let data):
                upstreamMetrics.countError(.rpcError)
                record.upstreamOutcome = "rpc_error"
                return await self.finish(record, started: started, .failure(JSONRPC.Failure(code: code, message: message, data: data)))
            case .unavailable:
                upstreamMetrics.countError(.unavailable)
                record.upstreamOutcome = "unavailable"
                return await self.finish(record, started: started, .failure(self.unavailable(error.reason, record: record)))
            }
        }
    }

    /// The JSON-RPC error of a denial: `data` carries the reason code, the determining
    /// policies, the ones that failed, and the record's ID.
    private func denial(_ reason: DenialReason, policies: [String], errors: [String], record: DecisionRecord) -> JSONRPC.Failure {
        JSONRPC.Failure(
            code: JSONRPC.callDenied, message: "denied: \(reason.message)",
            data: .object([
                "reason": .string(reason.code), "policies": .array(policies.map(JSONValue.string)), "errors": .array(errors.map(JSONValue.string)),
                "decision_id": .string(record.id),
            ]))
    }

    private func unavailable(_ reason: String, record: DecisionRecord) -> JSONRPC.Failure {
        JSONRPC.Failure(
            code: JSONRPC.upstreamUnavailable, message: reason,
            data: .object(["reason": .string(DenialReason.upstreamUnavailable), "decision_id": .string(record.id)]))
    }

    /// Records the call, then answers. A record that cannot be stored turns the answer into an
    /// error: nothing is acknowledged that is not on record.
    private func finish(_ record: DecisionRecord, started: ContinuousClock.Instant, _ outcome: Result<JSONValue, JSONRPC.Failure>) async
        -> Result<JSONValue, JSONRPC.Failure>
    {
        var record = record
        let elapsed = ContinuousClock.now - started
        record.latencyMicros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        self.metrics.countDecision(allowed: record.allowed, reason: record.reason)
        let recording = ContinuousClock.now
        do {
            try await self.recorder.record(record)
            self.metrics.recorded(since: recording)
        } catch {
            self.metrics.countRecordFailure()
            self.logger.error("decision record not stored", metadata: ["decision.id": "\(record.id)", "error": "\(error)"])
            return .failure(JSONRPC.Failure(code: JSONRPC.internalError, message: "the call could not be recorded, so its result is withheld"))
        }
        self.logger.info(
            record.allowed ? "tool call allowed" : "tool call denied",
            metadata: [
                "task.id": "\(record.taskID)", "agent.id": "\(record.agent)", "tool.name": "\(record.tool ?? "")",
                "reason": "\(record.reason ?? "")", "decision.id": "\(record.id)",
            ])
        return outcome
    }

    static func randomID() -> String { hexString(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }) }
}

/// W3C trace context (`traceparent`, `tracestate`) carried in a request's `_meta`, or a new trace
/// when it carries none; the upstream gets a child span of it.
struct TraceContext {
    let traceID: String
    let traceState: String?
    let childParent: String

    init(meta: [String: JSONValue]) {
        // One system random draw per 8 bytes (a getrandom call each), not one per byte.
        var generator = SystemRandomNumberGenerator()
        let randomHex: (Int) -> String = { count in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count + 8)
            while bytes.count < count { withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) } }
            return hexString(bytes.prefix(count))
        }
        let span = randomHex(8)
        if case .string(let parent)? = meta["traceparent"], let parsed = Self.parse(parent) {
            self.traceID = parsed.traceID
            self.childParent = "00-\(parsed.traceID)-\(span)-\(parsed.flags)"
        } else {
            self.traceID = randomHex(16)
            self.childParent = "00-\(self.traceID)-\(span)-01"
        }
        self.traceState = meta["tracestate"]?.stringValue
    }

    /// `00-<32 hex>-<16 hex>-<2 hex>`, lowercase, IDs not all zero.
    static func parse(_ value: String) -> (traceID: String, flags: String)? {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2 else { return nil }
        let hex = Set("0123456789abcdef")
        guard parts.dropFirst().allSatisfy({ $0.allSatisfy(hex.contains) }), parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" }) else {
            return nil
        }
        return (String(parts[1]), String(parts[3]))
    }
}
