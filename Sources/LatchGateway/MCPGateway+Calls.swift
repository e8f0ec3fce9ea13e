import Crypto
import LatchCore
import LatchGrants
import LatchGuard
import LatchIdentity
import Logging

extension MCPGateway {
    /// `tools/call`: scope → decision over the session's facts → decision record (durable
    /// before anything is sent) → forward → label → outcome record → answer.
    func callTool(
        _ message: JSONRPC.Message, modern: Bool, grant: TaskGrant, now: Int64, started: ContinuousClock.Instant
    ) async
        -> Result<JSONValue, JSONRPC.Failure>
    {
        var record = DecisionRecord(
            id: Self.recordID(now: now), time: now, taskID: grant.taskID, grantID: grant.id, agent: grant.holder.description,
            subject: grant.subject.description, actors: grant.actors.map(\.description), method: message.method, allowed: false)
        let meta = message.params["_meta"]?.objectValue ?? [:]
        let prompt = meta[Self.promptMetaKey]?.stringValue
        if let prompt {
            record.promptHMAC = self.privacy.promptHMAC(prompt)
            if self.settings.keepPrompts {
                guard let sealed = self.sealed({ () throws(LatchError) in try self.privacy.sealPrompt(prompt, recordID: record.id) }) else {
                    return .failure(Self.unrecordable)
                }
                record.promptSealed = sealed
            }
        }
        let trace = TraceContext(meta: meta, now: now)
        record.traceID = trace.traceID

        guard case .string(let name)? = message.params["name"] else {
            return await self.malformed(record, grant: grant, now: now, started: started, "tools/call needs params.name, a string")
        }
        record.tool = name
        var arguments: [String: JSONValue] = [:]
        switch message.params["arguments"] {
        case nil, .null?: break
        case .object(let object)?: arguments = object
        default: return await self.malformed(record, grant: grant, now: now, started: started, "params.arguments must be an object")
        }
        let forwardedArguments = JSONValue.object(arguments)
        record.argumentsHMAC = self.privacy.argumentsHMAC(forwardedArguments)
        if self.settings.keepArguments {
            guard let sealed = self.sealed({ () throws(LatchError) in try self.privacy.sealArguments(forwardedArguments, recordID: record.id) })
            else { return .failure(Self.unrecordable) }
            record.argumentsSealed = sealed
        }
        // A retry of a held call names its approval: read before deciding (only then), consumed
        // after, if the decision leans on it. The call's digest is computed only for approvals:
        // a call naming one, or one being held. At 2026-07-28 the retry of an input-required
        // answer names it in the `requestState` it echoes (opened only if this gateway sealed it
        // for this grant); otherwise in `_meta`.
        var named = meta[Approval.metaKey]
        if modern, let echoed = message.params["requestState"] {
            guard case .string(let text) = echoed, let state = ApprovalRequestState.open(text, with: self.privacy.key, grantID: grant.id) else {
                return await self.malformed(record, grant: grant, now: now, started: started, "requestState is not one this gateway issued for this grant")
            }
            named = .string(state.approvalID)
        }
        let presented = await self.presentedApproval(named)
        var approvalDigest: String?
        var approved = false
        switch presented {
        case .found(let approval):
            record.approvalID = approval.id
            let digest = Approval.digest(tool: name, arguments: forwardedArguments, grantID: grant.id)
            approvalDigest = digest
            approved = approval.releases(digest: digest, now: now)
        case .unusable(_, let id): record.approvalID = id
        case .none: break
        }

        let snapshot = self.current
        var decision: CallDecision
        var guardCall: GuardCall?
        var released = false
        let tool = snapshot.catalog[name]
        if let tool {
            record.argumentHMACs = self.privacy.argumentHMACs(arguments, selected: tool.labels.recordedArguments)
            let screened = self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { facts in
                let taint = Self.taint(of: arguments, in: facts.provenance)
                record.facts = DecisionFacts(session: facts, now: now, taintedArguments: taint.names)
                var decision =
                    snapshot.policy?.decide(
                        grant: grant, tool: tool, arguments: arguments, fixedDestination: nil,
                        context: ["tainted_arguments": LatchEntities.strings(taint.names)], facts: facts, now: now)
                    ?? .deny(DenialReason.policyDenied, "no gateway policies are configured")
                if decision.allowed, snapshot.credentialProblems[tool.upstream] != nil {
                    decision = .deny(
                        DenialReason.credentialUnavailable, "the credential upstream \(tool.upstream) needs is unavailable",
                        destination: decision.destination)
                }
                let screened = self.screen(
                    decision, tool: tool, grant: grant, arguments: arguments, taint: taint.sources, facts: &facts, now: now, approved: approved)
                if screened.decision.allowed { facts.recordAllowed(tool, now: now) } else { facts.recordDenied(now: now) }
                return screened
            }
            decision = screened.decision
            guardCall = screened.call
            released = screened.released
            if screened.verdict.action == .kill {
                await self.tripKillSwitch(grant: grant, verdict: screened.verdict, decisionID: record.id, now: now)
            }
        } else {
            self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordDenied(now: now) }
            if let disabled = snapshot.disabledTools[name] {
                decision = .deny(disabled.reason.code, disabled.reason.message)
            } else {
                decision = .deny(DenialReason.unknownTool, "no tool named \(name) is served here")
            }
        }
        var approvalExpiry: Int64?
        if released || decision.approvable != nil {
            let digest = approvalDigest ?? Approval.digest(tool: name, arguments: forwardedArguments, grantID: grant.id)
            approvalDigest = digest
            let held = await self.settleApproval(
                decision, released: released, presented: presented, digest: digest, grant: grant, record: record,
                held: HeldCall(
                    arguments: forwardedArguments, prompt: prompt, labels: tool?.labels, taintedArguments: record.facts?.taintedArguments ?? []),
                now: now)
            decision = held.decision
            record.approvalID = held.approvalID ?? record.approvalID
            approvalExpiry = held.expiresAt
            if let note = held.note { record.message = note }
            if released, !decision.allowed {
                // Counted as allowed while deciding; the approval was lost to another retry (or
                // expired) meanwhile: nothing is in flight, and the call counts as a denial.
                self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { facts in
                    facts.recordResult(nil)
                    facts.recordDenied(now: now)
                }
            }
        }
        record.allowed = decision.allowed
        record.reason = decision.reason?.code
        record.message = decision.reason?.message ?? record.message
        record.policies = decision.policies
        record.policyErrors = decision.errors
        record.destination = decision.destination
        self.metrics.decided(since: started)

        guard let tool, decision.allowed else {
            let reason = decision.reason ?? DenialReason(DenialReason.policyDenied, "denied")
            let data = Self.denialData(reason, policies: decision.policies, errors: decision.errors, record: record, approvalExpiry: approvalExpiry)
            // 2026-07-28: a call waiting for a person gets the multi round-trip answer instead of an error.
            if modern, reason.code == DenialReason.approvalRequired || reason.code == DenialReason.approvalPending, let id = record.approvalID,
                let expiresAt = approvalExpiry, let digest = approvalDigest
            {
                let state = ApprovalRequestState(approvalID: id, digest: digest, expiresAt: expiresAt)
                guard let sealed = self.sealed({ () throws(LatchError) in try state.sealed(with: self.privacy.key, grantID: grant.id) }) else {
                    return .failure(Self.unrecordable)
                }
                return await self.finish(record, started: started, .success(Self.inputRequired(requestState: sealed, data: data)))
            }
            return await self.finish(record, started: started, .failure(Self.denial(reason, data: data)))
        }
        // Nothing goes upstream that is not on record: the decision is stored first.
        record.upstreamOutcome = "forwarded"
        guard await self.store(record, started: started) else {
            self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordResult(nil) }
            return .failure(JSONRPC.Failure(code: JSONRPC.internalError, message: "the call could not be recorded, so it was not sent"))
        }
        var outcome = record
        outcome.id = Self.recordID(now: now)
        outcome.decisionID = record.id
        // The sealed values open only under their decision's ID, and the facts are the decision's.
        outcome.argumentsSealed = nil
        outcome.promptSealed = nil
        outcome.facts = nil
        let (answer, label) = await self.forward(
            tool: tool, arguments: message.params["arguments"] == nil ? nil : forwardedArguments, trace: trace, grant: grant, modern: modern,
            snapshot: snapshot, outcome: &outcome)
        self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { facts in
            guard let label, case .success(let result) = answer else { return facts.recordResult(label) }
            // The text is kept for value provenance only when it is untrusted or sensitive.
            let remembered = tool.labels.untrusted || label >= .confidential
            facts.recordResult(label, untrusted: tool.labels.untrusted, text: remembered ? Self.resultText(result) : "")
            self.screenResult(of: guardCall, tool: tool, sensitivity: label, facts: &facts)
        }
        outcome.time = max(now + 1, self.clock.now().milliseconds)  // after its decision, even within one millisecond
        return await self.finish(outcome, started: started, answer)
    }

    /// The answer to a call whose record cannot be written (a value could not be sealed).
    static let unrecordable = JSONRPC.Failure(code: JSONRPC.internalError, message: "the call could not be recorded, so it was not sent")

    /// A sealed value, or nil (logged, without the value) when sealing failed.
    func sealed(_ seal: () throws(LatchError) -> String) -> String? {
        do { return try seal() } catch {
            self.logger.error("a record value could not be sealed", metadata: [LogKey.error: "\(error.message)"])
            return nil
        }
    }

    /// Sends an allowed call upstream and labels the result; fills the outcome record. The
    /// label is the data's sensitivity when it reaches the agent, nil when nothing does.
    private func forward(
        tool: GatewayTool, arguments: JSONValue?, trace: TraceContext, grant: TaskGrant, modern: Bool, snapshot: Snapshot,
        outcome: inout DecisionRecord
    ) async -> (Result<JSONValue, JSONRPC.Failure>, Sensitivity?) {
        guard let upstream = snapshot.upstreams[tool.upstream] else {
            outcome.upstreamOutcome = "unavailable"
            return (.failure(self.unavailable("the upstream \(tool.upstream) is not running", record: outcome)), nil)
        }
        var forwardedMeta: [String: JSONValue] = ["traceparent": .string(trace.childParent)]
        if let state = trace.traceState { forwardedMeta["tracestate"] = .string(state) }
        let upstreamMetrics = self.metrics.upstream(tool.upstream)
        let forwarded = ContinuousClock.now
        let result: JSONValue
        do {
            result = try await upstream.callTool(name: tool.upstreamName, arguments: arguments, meta: .object(forwardedMeta))
            upstreamMetrics.seconds.recordElapsed(since: forwarded)
        } catch {
            upstreamMetrics.seconds.recordElapsed(since: forwarded)
            switch error.kind {
            case .rpcError(let code, let message, _):
                upstreamMetrics.countError(.rpcError)
                // Wrapped: an upstream must not speak with Latch's own codes, and its error data
                // (unlabelled) does not reach the agent.
                outcome.upstreamOutcome = "rpc_error"
                let failure = JSONRPC.Failure(
                    code: JSONRPC.upstreamError, message: "the upstream answered an error",
                    data: .object([
                        "upstream": .object(["code": .int(code), "message": .string(String(message.prefix(512)))]),
                        "decision_id": .string(outcome.decisionID ?? ""),
                    ]))
                return (.failure(failure), nil)
            case .unavailable:
                upstreamMetrics.countError(.unavailable)
                outcome.upstreamOutcome = "unavailable"
                return (.failure(self.unavailable("the upstream \(tool.upstream) could not answer", record: outcome)), nil)
            }
        }
        outcome.upstreamOutcome = result["isError"] == .bool(true) ? "tool_error" : "ok"
        if result["isError"] == .bool(true) { upstreamMetrics.countError(.toolError) }
        // The more sensitive of the tool's label and the result's own; a label Latch does not
        // know counts as restricted.
        var label = tool.labels.sensitivity
        if let declared = result["_meta"]?[Self.sensitivityMetaKey] {
            label = max(label, declared.stringValue.flatMap(Sensitivity.init(rawValue:)) ?? .restricted)
        }
        guard label <= grant.scope.maxSensitivity else {
            // Withheld: the data never reaches the agent, so the session does not hold it.
            let reason = DenialReason(
                DenialReason.sensitivityAboveGrant,
                "the result is labelled \(label.rawValue); the grant allows at most \(grant.scope.maxSensitivity.rawValue)")
            outcome.allowed = false
            outcome.reason = reason.code
            outcome.message = reason.message
            return (.failure(Self.denial(reason, policies: [], errors: [], record: outcome)), nil)
        }
        guard modern, case .object(var object) = result else { return (.success(result), label) }
        object["resultType"] = .string("complete")
        return (.success(.object(object)), label)
    }

    /// A `tools/call` whose params are malformed is refused (-32602) and, like every attempt,
    /// recorded as a denial (`invalid_arguments`) and counted in the session's denials.
    private func malformed(
        _ record: DecisionRecord, grant: TaskGrant, now: Int64, started: ContinuousClock.Instant, _ message: String
    ) async
        -> Result<JSONValue, JSONRPC.Failure>
    {
        var record = record
        record.reason = DenialReason.invalidArguments
        record.message = message
        self.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordDenied(now: now) }
        let failure = JSONRPC.Failure(
            code: JSONRPC.invalidParams, message: message,
            data: .object(["reason": .string(DenialReason.invalidArguments), "decision_id": .string(record.id)]))
        return await self.finish(record, started: started, .failure(failure))
    }

    /// What a denial tells the agent (the JSON-RPC error's `data`): the reason code, the
    /// determining policies, the ones that failed, and the record's ID; for a held call (or a
    /// retry naming an approval) also `approval_id` and, when known, `approval_expires_at` (Unix ms).
    static func denialData(_ reason: DenialReason, policies: [String], errors: [String], record: DecisionRecord, approvalExpiry: Int64? = nil)
        -> [String: JSONValue]
    {
        var data: [String: JSONValue] = [
            "reason": .string(reason.code), "policies": .array(policies.map(JSONValue.string)), "errors": .array(errors.map(JSONValue.string)),
            "decision_id": .string(record.decisionID ?? record.id),
        ]
        if let approvalID = record.approvalID { data["approval_id"] = .string(approvalID) }
        if let approvalExpiry { data["approval_expires_at"] = .int(approvalExpiry) }
        return data
    }

    /// The JSON-RPC error of a denial (`-32010`), `data` as ``denialData(_:policies:errors:record:approvalExpiry:)``.
    static func denial(_ reason: DenialReason, policies: [String], errors: [String], record: DecisionRecord) -> JSONRPC.Failure {
        Self.denial(reason, data: Self.denialData(reason, policies: policies, errors: errors, record: record))
    }

    static func denial(_ reason: DenialReason, data: [String: JSONValue]) -> JSONRPC.Failure {
        JSONRPC.Failure(code: JSONRPC.callDenied, message: "denied: \(reason.message)", data: .object(data))
    }

    /// The 2026-07-28 answer to a call held for a person (`approval_required`, or a retry while
    /// still `approval_pending`): an `InputRequiredResult` with no input requests (the person is
    /// an operator, not the client's user) and the sealed ``ApprovalRequestState``, which the
    /// client echoes when it retries; `_meta["dev.latch/approval"]` says what the error would
    /// have (``denialData(_:policies:errors:record:approvalExpiry:)``). Nothing was forwarded.
    static func inputRequired(requestState: String, data: [String: JSONValue]) -> JSONValue {
        .object(["resultType": .string("input_required"), "requestState": .string(requestState), "_meta": .object([Approval.metaKey: .object(data)])])
    }

    private func unavailable(_ reason: String, record: DecisionRecord) -> JSONRPC.Failure {
        JSONRPC.Failure(
            code: JSONRPC.upstreamUnavailable, message: reason,
            data: .object(["reason": .string(DenialReason.upstreamUnavailable), "decision_id": .string(record.decisionID ?? record.id)]))
    }

    /// Records the call, then answers. A record that cannot be stored turns the answer into an
    /// error: nothing is acknowledged that is not on record.
    private func finish(
        _ record: DecisionRecord, started: ContinuousClock.Instant, _ outcome: Result<JSONValue, JSONRPC.Failure>
    ) async
        -> Result<JSONValue, JSONRPC.Failure>
    {
        guard await self.store(record, started: started) else {
            return .failure(JSONRPC.Failure(code: JSONRPC.internalError, message: "the call could not be recorded, so its result is withheld"))
        }
        return outcome
    }

    /// Stores `record` with its latency so far, counts its decision, and logs it (`what`: "tool
    /// call", "HTTP egress"); false (logged) when the store failed. `/mcp` and `/egress` share it.
    func store(_ record: DecisionRecord, started: ContinuousClock.Instant, what: String = "tool call") async -> Bool {
        var record = record
        let elapsed = ContinuousClock.now - started
        record.latencyMicros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        // One count per decision; a call's outcome record is not another decision.
        if record.decisionID == nil { self.metrics.countDecision(allowed: record.allowed, reason: record.reason) }
        let recording = ContinuousClock.now
        do {
            try await self.recorder.record(record)
            self.metrics.recorded(since: recording)
        } catch {
            self.metrics.countRecordFailure()
            self.logger.error("decision record not stored", metadata: [LogKey.decisionID: "\(record.id)", LogKey.error: "\(error)"])
            return false
        }
        self.logger.info(
            "\(what) \(record.decisionID != nil ? "answered" : record.allowed ? "allowed" : "denied")",
            metadata: [
                LogKey.taskID: "\(record.taskID)", LogKey.agentID: "\(record.agent)", LogKey.toolName: "\(record.tool ?? "")",
                LogKey.reason: "\(record.reason ?? record.upstreamOutcome ?? "")", LogKey.decisionID: "\(record.id)",
            ])
        return true
    }

    /// A new approval ID: 128 random bits in hex.
    static func randomID() -> String { hexString(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }) }

    /// A new decision record ID made at `now` (milliseconds): a `TimeOrderedID`, so the records'
    /// primary key grows at one end and a batch of appends rewrites a few of its pages rather than
    /// one per record (Benchmarks/Ledger). A record ID is no capability: it names a record to
    /// read (by those who may read the ledger anyway) and binds sealed values to their record.
    static func recordID(now: Int64) -> String { TimeOrderedID.make(now: now) }
}

/// W3C trace context (`traceparent`, `tracestate`) carried in a request's `_meta`, or a new trace
/// when it carries none; the upstream gets a child span of it.
///
/// A new trace's ID is `TimeOrderedID.traceID`, so the records' trace index grows at one end for
/// calls that bring no trace (one random page per record otherwise: Benchmarks/Ledger).
struct TraceContext {
    let traceID: String
    let traceState: String?
    let childParent: String

    init(meta: [String: JSONValue], now: Int64) {
        var random = SystemRandomNumberGenerator()
        let span = TimeOrderedID.hex(random.next())
        if case .string(let parent)? = meta["traceparent"], let parsed = Self.parse(parent) {
            self.traceID = parsed.traceID
            self.childParent = "00-\(parsed.traceID)-\(span)-\(parsed.flags)"
        } else {
            self.traceID = TimeOrderedID.traceID(now: now)
            self.childParent = "00-\(self.traceID)-\(span)-01"
        }
        // W3C: at most 512 characters of printable ASCII; anything else is dropped, not forwarded.
        if case .string(let state)? = meta["tracestate"], state.utf8.count <= 512, state.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
            self.traceState = state
        } else {
            self.traceState = nil
        }
    }

    private static let hexDigits = Set("0123456789abcdef")

    /// `00-<32 hex>-<16 hex>-<2 hex>`, lowercase, IDs not all zero.
    static func parse(_ value: String) -> (traceID: String, flags: String)? {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2 else { return nil }
        guard parts.dropFirst().allSatisfy({ $0.allSatisfy(Self.hexDigits.contains) }), parts[1].contains(where: { $0 != "0" }),
            parts[2].contains(where: { $0 != "0" })
        else {
            return nil
        }
        return (String(parts[1]), String(parts[3]))
    }
}
