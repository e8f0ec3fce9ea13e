import LatchCore
import LatchGrants
import LatchIdentity
import Logging

extension MCPGateway {
    /// The approval a call names in `_meta["dev.latch/approval"]`.
    enum PresentedApproval {
        /// The call names none: a held call gets a new approval.
        case none
        case found(Approval)
        /// Named, but unusable: the call is denied with this reason (a hold is never created for
        /// a call that names an approval); the ID named, when it could be one.
        case unusable(DenialReason, id: String?)
    }

    /// Reads the approval a call names. Only calls that name one reach the store here.
    func presentedApproval(_ named: JSONValue?) async -> PresentedApproval {
        guard let named else { return .none }
        guard case .string(let id) = named, Approval.isName(id) else {
            return .unusable(
                DenialReason(DenialReason.approvalMismatch, "_meta[\"\(Approval.metaKey)\"] must be the approval ID a held call was given"), id: nil)
        }
        guard let store = self.settings.approvals else {
            return .unusable(DenialReason(DenialReason.approvalUnavailable, "approvals are not configured on this gateway"), id: id)
        }
        do {
            guard let approval = try await store.approval(id: id) else {
                return .unusable(DenialReason(DenialReason.approvalMismatch, "no approval with that ID was issued for this call"), id: id)
            }
            return .found(approval)
        } catch {
            self.logger.error("approval not read", metadata: [LogKey.error: "\(error)"])
            return .unusable(DenialReason(DenialReason.approvalUnavailable, "the approval could not be read, so the call is denied"), id: id)
        }
    }

    /// What the person deciding a held call is shown besides its tool and why it was held.
    struct HeldCall {
        /// As forwarded (sealed into the approval).
        var arguments: JSONValue
        /// The call's prompt, if it carried one (sealed into the approval).
        var prompt: String?
        var labels: ToolLabels?
        var taintedArguments: [String]
        /// For HTTP egress: the method (the path and query are in `arguments`).
        var httpMethod: String?
    }

    /// What a hold came to.
    struct Settled {
        var decision: CallDecision
        /// The approval the record and the answer name (new, or the one presented).
        var approvalID: String?
        var expiresAt: Int64?
        /// For the record of a released call: which approval let it through, and who approved it.
        var note: String?
    }

    /// Settles a decision a person may lift (`decision.approvable`), or one an approval released:
    ///
    /// - released: the approval is consumed (one conditional write); if another retry or node
    ///   used it first, or it expired meanwhile, the call is denied with why;
    /// - held, naming an approval: denied with why it does not release the call
    ///   (`approval_pending`, `approval_denied`, `approval_timeout`, `approval_consumed`,
    ///   `approval_mismatch`); no new approval;
    /// - held, naming none: a pending approval bound to the call's digest is created and the
    ///   call denied `approval_required` naming it; past the task's cap, `approval_rate_limit`
    ///   and nothing is stored.
    ///
    /// Any store failure denies (`approval_unavailable`).
    func settleApproval(
        _ decision: CallDecision, released: Bool, presented: PresentedApproval, digest: String, grant: TaskGrant, record: DecisionRecord,
        held call: HeldCall, now: Int64
    ) async -> Settled {
        func deny(_ code: String, _ message: String, id: String? = nil, expiresAt: Int64? = nil) -> Settled {
            var denial = CallDecision.deny(code, message, policies: decision.policies, errors: decision.errors, destination: decision.destination)
            denial.approvable = nil
            return Settled(decision: denial, approvalID: id, expiresAt: expiresAt)
        }
        if released {
            guard case .found(let approval) = presented, let store = self.settings.approvals else {
                return deny(DenialReason.approvalUnavailable, "the approval could not be used, so the call is denied")
            }
            do {
                switch try await store.consumeApproval(id: approval.id, digest: digest, now: now) {
                case .consumed(let used):
                    return Settled(
                        decision: decision, approvalID: used.id, expiresAt: used.expiresAt,
                        note: "released by approval \(used.id), approved by \(used.decidedBy ?? "?")")
                case .refused(let current):
                    let code = current.refusal(digest: digest, now: now) ?? DenialReason.approvalConsumed
                    return deny(code, Self.refusalMessage(code), id: current.id, expiresAt: current.expiresAt)
                case .notFound:
                    return deny(DenialReason.approvalMismatch, Self.refusalMessage(DenialReason.approvalMismatch), id: approval.id)
                }
            } catch {
                self.logger.error("approval not consumed", metadata: [LogKey.decisionID: "\(record.id)", LogKey.error: "\(error)"])
                return deny(DenialReason.approvalUnavailable, "the approval could not be used, so the call is denied", id: approval.id)
            }
        }
        guard let hold = decision.approvable else { return Settled(decision: decision) }
        switch presented {
        case .found(let approval):
            let code = approval.refusal(digest: digest, now: now) ?? DenialReason.approvalMismatch
            let mismatch = code == DenialReason.approvalMismatch
            return deny(code, Self.refusalMessage(code), id: approval.id, expiresAt: mismatch ? nil : approval.expiresAt)
        case .unusable(let reason, let id):
            return deny(reason.code, reason.message, id: id)
        case .none:
            break
        }
        guard let store = self.settings.approvals else {
            return deny(
                DenialReason.approvalRequired, "held for approval (\(Self.holdText(hold))), but approvals are not configured, so the call is denied")
        }
        var approval = Approval(
            id: Self.randomID(), taskID: grant.taskID, grantID: grant.id, agent: grant.holder.description, tool: record.tool ?? "", digest: digest,
            reason: hold.reason, policies: hold.policies, promptHMAC: record.promptHMAC, argumentsHMAC: record.argumentsHMAC,
            risk: ApprovalRisk.json(
                labels: call.labels, destination: decision.destination, taintedArguments: call.taintedArguments, hold: hold,
                httpMethod: call.httpMethod),
            createdAt: now, expiresAt: now + max(1, self.settings.approvalTTL))
        do {
            let privacy = ApprovalPrivacy(key: self.privacy.key)
            approval.argumentsSealed = try privacy.sealArguments(call.arguments, approvalID: approval.id)
            approval.promptSealed = try call.prompt.map { prompt throws(LatchError) in try privacy.sealPrompt(prompt, approvalID: approval.id) }
        } catch {
            self.logger.error("approval not sealed", metadata: [LogKey.decisionID: "\(record.id)", LogKey.error: "\(error)"])
            return deny(DenialReason.approvalUnavailable, "held for approval, but the approval could not be stored, so the call is denied")
        }
        do {
            guard try await store.createApproval(approval, maxPending: self.settings.approvalMaxPending, now: now) else {
                return deny(
                    DenialReason.approvalRateLimit,
                    "held for approval, but the task already has \(self.settings.approvalMaxPending) approvals pending; none was created")
            }
        } catch {
            self.logger.error("approval not created", metadata: [LogKey.decisionID: "\(record.id)", LogKey.error: "\(error)"])
            return deny(DenialReason.approvalUnavailable, "held for approval, but the approval could not be stored, so the call is denied")
        }
        self.logger.info(
            "tool call held for approval",
            metadata: [LogKey.taskID: "\(grant.taskID)", LogKey.toolName: "\(record.tool ?? "")", LogKey.approvalID: "\(approval.id)"])
        var held = deny(
            DenialReason.approvalRequired,
            "held for approval (\(Self.holdText(hold))); retry the same call with _meta[\"\(Approval.metaKey)\"] set to the approval ID once a person approved it",
            id: approval.id, expiresAt: approval.expiresAt)
        held.decision.approvable = hold
        return held
    }

    static func holdText(_ hold: Approvable) -> String {
        hold.reason.isEmpty ? hold.policies.joined(separator: ", ") : hold.reason + "; " + hold.policies.joined(separator: ", ")
    }

    static func refusalMessage(_ code: String) -> String {
        switch code {
        case DenialReason.approvalPending: "the approval is still waiting for a person's decision"
        case DenialReason.approvalDenied: "a person denied the approval"
        case DenialReason.approvalTimeout: "the approval expired before it was used"
        case DenialReason.approvalConsumed: "the approval was already used by another call"
        default: "the approval is not for this call (another tool, other arguments or another grant)"
        }
    }
}
