import CedarPolicy
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity

#if canImport(Glibc)
import Glibc
#endif

/// Decides the token endpoint's questions with Cedar policies.
///
/// The request Latch sends (documented in the README, "Grant policies"):
///
/// | | RequestGrant | DelegateGrant | IntrospectGrant |
/// |---|---|---|---|
/// | principal | `Latch::Agent` asking | `Latch::Agent` receiving (the actor) | `Latch::Agent` asking |
/// | action | `Latch::Action::"RequestGrant"` | `Latch::Action::"DelegateGrant"` | `Latch::Action::"IntrospectGrant"` |
/// | resource | `Latch::Task` (new) | `Latch::Task` of the parent | `Latch::Task` of the grant |
///
/// An agent's ID is its SPIFFE ID; its attributes are `trust_domain`, `path`, and the attributes
/// of its registration entry (strings, longs, booleans, sets of strings). A task has `subject`
/// (the agent it belongs to) and `intent`. The context of the first two holds the grant as it
/// would be issued: `intent`, `tools`, `data_domains`, `destinations` (sets of strings),
/// `max_sensitivity` (string) and `sensitivity_rank` (0 public … 3 restricted), `audience`,
/// `lifetime_seconds`, `depth`; DelegateGrant adds `delegator` (the parent's holder) and
/// `parent_lifetime_seconds`. IntrospectGrant's context has `holder` and `depth`.
///
/// Fail closed: a deny unless a permit is satisfied and no forbid is; a policy that errors
/// denies too (Cedar would skip it, but a forbid that fails to evaluate must not let a request
/// through).
struct CedarGrantDecider: GrantDecider {
    let authorizer: Authorizer
    /// Registration attributes of an agent (from the current identity snapshot).
    let attributes: @Sendable (SPIFFEID) -> [String: EntryAttribute]

    func decide(_ question: GrantQuestion) -> GrantDecision {
        let principal: SPIFFEID
        let action: String
        let task: (id: String, subject: SPIFFEID, intent: String)
        var context: [String: Value]
        var others: [SPIFFEID] = []
        switch question {
        case .issue(let grant):
            principal = grant.subject
            action = "RequestGrant"
            task = (grant.taskID, grant.subject, grant.intent)
            context = LatchEntities.grantAttributes(grant)
        case .delegate(let parent, let child):
            principal = child.holder
            action = "DelegateGrant"
            task = (child.taskID, child.subject, child.intent)
            context = LatchEntities.grantAttributes(child)
            context["delegator"] = .entity(LatchEntities.agent(parent.holder))
            context["parent_lifetime_seconds"] = .long((parent.expiresAt - parent.issuedAt) / 1000)
            others = [parent.holder, child.subject]
        case .introspect(let caller, let grant):
            principal = caller
            action = "IntrospectGrant"
            task = (grant.taskID, grant.subject, grant.intent)
            context = ["holder": .entity(LatchEntities.agent(grant.holder)), "depth": .long(Int64(grant.depth))]
            others = [grant.holder, grant.subject]
        }
        var entities: [EntityUID: Entity] = [:]
        for id in [principal, task.subject] + others where entities[LatchEntities.agent(id)] == nil {
            entities[LatchEntities.agent(id)] = Entity(uid: LatchEntities.agent(id), attributes: LatchEntities.agentAttributes(id, entry: self.attributes(id)))
        }
        let taskEntity = LatchEntities.task(id: task.id, subject: task.subject, intent: task.intent)
        let taskUID = taskEntity.uid
        entities[taskUID] = taskEntity
        let store: Entities
        do { store = try Entities(Array(entities.values)) } catch {
            return GrantDecision(allowed: false, policies: [], errors: ["entities: \(error.message)"])
        }
        let response = self.authorizer.isAuthorized(
            Request(
                principal: LatchEntities.agent(principal), action: LatchEntities.action(action), resource: taskUID, context: context),
            entities: store)
        let errors = response.errors.map(\.policyID)
        return GrantDecision(allowed: response.decision == .allow && errors.isEmpty, policies: response.reason, errors: errors)
    }

    /// Reads the policies at `path`: one Cedar file, or every `*.cedar` file of a directory (in
    /// name order). A policy's ID is its `@id("…")` annotation, else `FILE:policyN`. Errors name
    /// the file, line and column.
    static func loadPolicies(at path: String) throws(LatchError) -> PolicySet {
        var files: [String] = []
        var isDirectory = false
        if let names = Self.directoryEntries(path) {
            isDirectory = true
            files = names.filter { $0.hasSuffix(".cedar") }.sorted().map { path + "/" + $0 }
            guard !files.isEmpty else { throw LatchError(.configuration, "policies: no .cedar files in \(path)") }
        } else {
            files = [path]
        }
        var set = PolicySet()
        for file in files {
            let text: String
            do { text = String(decoding: try readWholeFile(path: file, limit: 4 * 1024 * 1024), as: UTF8.self) } catch {
                throw LatchError(.configuration, "policies: \(error.message)")
            }
            let name = isDirectory ? String(file.split(separator: "/").last ?? "") : file
            do {
                for var policy in try CedarParser.parsePolicies(text) {
                    policy.id = policy.annotation("id") ?? "\(name):\(policy.id)"
                    try set.add(policy)
                }
            } catch {
                throw LatchError(.configuration, "policies: " + (error.location.map { _ in error.rendered(source: text, file: file) } ?? "\(file): \(error.message)"))
            }
        }
        return set
    }

    /// The names in a directory, or nil when `path` is not one.
    private static func directoryEntries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
