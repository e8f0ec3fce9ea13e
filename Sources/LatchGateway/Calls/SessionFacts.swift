public import LatchGrants
public import LatchGuard
import Synchronization

/// What has happened so far in one task, as the gateway saw it: the facts per-step policies
/// decide on (handed to Cedar as `context.session`), the guard's history of the task, and the
/// provenance of the values its tools returned.
public struct SessionFacts: Sendable {
    /// Calls allowed so far.
    public var calls = 0
    /// Calls denied so far.
    public var denials = 0
    /// Namespaced names of the tools called (allowed calls only).
    public var toolsUsed: Set<String> = []
    /// The most sensitive data read so far (the sensitivity label of every tool allowed to
    /// return data), nil while nothing has been read.
    public var maxSensitivityRead: Sensitivity?
    /// Data domains read so far.
    public var dataDomainsRead: Set<String> = []
    /// When the task's first call arrived (milliseconds since the epoch), nil before it.
    public var firstCallAt: Int64?
    /// Allowed calls whose results have not come back yet: what they return is not labelled
    /// yet, so a policy guarding egress can wait for them (`reads_in_flight == 0`).
    public var readsInFlight = 0
    /// Whether a tool labelled `content: untrusted` has returned something to the task.
    public var untrustedRead = false
    /// Results taken in so far (the step numbers of ``provenance``).
    public var results = 0
    /// Where the task's later argument values may have come from: its untrusted and sensitive
    /// (confidential or restricted) results.
    public var provenance = ValueProvenance()
    /// The guard's summary of the task (nil until the guard first sees the task).
    public var guardHistory: GuardHistory?

    public init() {}

    /// Counts an allowed call to `tool`: from now on the session holds the data it returns, at
    /// least as sensitive as the tool's label.
    ///
    /// - Important: this runs when the call is allowed, before it is forwarded, so a call
    ///   decided at the same moment already sees what this one is about to read.
    public mutating func recordAllowed(_ tool: GatewayTool, now: Int64) {
        self.firstCallAt = self.firstCallAt ?? now
        self.calls += 1
        self.readsInFlight += 1
        self.toolsUsed.insert(tool.name)
        self.read(tool.labels.sensitivity)
        if let domain = tool.labels.dataDomain { self.dataDomainsRead.insert(domain) }
    }

    /// The result of an allowed call came back (or did not): `sensitivity` is its label when
    /// the agent received it, nil when nothing reached the agent.
    public mutating func recordResult(_ sensitivity: Sensitivity?) {
        self.readsInFlight = max(0, self.readsInFlight - 1)
        if let sensitivity { self.read(sensitivity) }
    }

    /// Takes in what an allowed call returned to the agent: its text is remembered for value
    /// provenance when the tool's content is untrusted or the result is confidential or more.
    public mutating func recordResult(_ sensitivity: Sensitivity, untrusted: Bool, text: String) {
        self.recordResult(sensitivity)
        self.results += 1
        if untrusted { self.untrustedRead = true }
        var sources: TaintSources = []
        if untrusted { sources.insert(.untrusted) }
        if sensitivity >= .confidential { sources.insert(.sensitive) }
        if !sources.isEmpty, !text.isEmpty { self.provenance.record(text, sources: sources, step: self.results) }
    }

    private mutating func read(_ sensitivity: Sensitivity) {
        self.maxSensitivityRead = max(self.maxSensitivityRead ?? sensitivity, sensitivity)
    }

    public mutating func recordDenied(now: Int64) {
        self.firstCallAt = self.firstCallAt ?? now
        self.denials += 1
    }
}

/// The session facts of every live task on this node.
///
/// Each task has its own lock, held while one of its calls is decided and counted, so two calls
/// of one task are decided one after the other (the second sees the first) while calls of
/// different tasks never wait for each other. Tasks are forgotten once their grant has expired.
///
/// - Important: facts are per node. With several gateway nodes, a task whose calls are spread
///   over nodes is judged on each node's share of its history.
public final class SessionFactsTable: Sendable {
    final class Task: Sendable {
        let facts = Mutex(SessionFacts())
        /// The latest expiry of the grants seen for the task (a delegated grant may end sooner
        /// than the root, and the facts must outlive every grant of the task).
        let expiresAt: Atomic<Int64>
        init(expiresAt: Int64) { self.expiresAt = Atomic(expiresAt) }
    }

    private let tasks = Mutex<[String: Task]>([:])
    private let sweepEvery = 4096
    private let counter = Atomic<Int>(0)

    public init() {}

    /// Runs `body` with the task's facts locked; creates them on first use.
    public func withFacts<Result>(task: String, expiresAt: Int64, now: Int64, _ body: (inout SessionFacts) throws -> Result) rethrows -> Result
    {
        if self.counter.add(1, ordering: .relaxed).newValue % self.sweepEvery == 0 { self.sweep(now: now) }
        let entry = self.tasks.withLock { tasks in
            if let existing = tasks[task] {
                existing.expiresAt.max(expiresAt, ordering: .relaxed)
                return existing
            }
            let created = Task(expiresAt: expiresAt)
            tasks[task] = created
            return created
        }
        return try entry.facts.withLock { try body(&$0) }
    }

    /// The task's facts as they are now (empty facts for a task not seen).
    public func snapshot(task: String) -> SessionFacts {
        self.tasks.withLock { $0[task] }?.facts.withLock { $0 } ?? SessionFacts()
    }

    /// Forgets tasks whose grant has expired.
    public func sweep(now: Int64) {
        self.tasks.withLock { tasks in tasks = tasks.filter { $0.value.expiresAt.load(ordering: .relaxed) > now } }
    }
}
