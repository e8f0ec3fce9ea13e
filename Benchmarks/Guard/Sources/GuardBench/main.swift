import CedarPolicy
import Foundation
import LatchCore
import LatchGateway
import LatchGrants
import LatchGuard
import LatchIdentity

#if canImport(Glibc)
import Glibc
#endif

// The guard's cost per call against the Cedar decision's, in one run. Each figure is the median
// of `BENCH_ROUNDS` rounds of `BENCH_CALLS` sequential evaluations (time per call = round time /
// calls, so the clock is read twice per round, not per call), with the CPU time beside it.

struct BenchFailure: Error, CustomStringConvertible { let description: String }

let environment = ProcessInfo.processInfo.environment
let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 7
let calls = Int(environment["BENCH_CALLS"] ?? "") ?? 200_000
let historyEvents = Int(environment["BENCH_HISTORY"] ?? "") ?? 10_000
let ruleCount = Int(environment["BENCH_RULES"] ?? "") ?? 50
let policyFile = environment["BENCH_POLICIES"] ?? "../../Examples/gateway/policies.cedar"

func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Nanoseconds per call (wall and CPU), the median of the rounds.
func measure(_ name: String, _ body: (Int) -> Int) -> (wall: Double, cpu: Double) {
    var walls: [Double] = []
    var cpus: [Double] = []
    var sink = 0
    sink &+= body(calls / 10)  // warm-up
    for _ in 0..<rounds {
        let cpu = cpuSeconds()
        let start = ContinuousClock.now
        sink &+= body(calls)
        let elapsed = start.duration(to: .now)
        cpus.append((cpuSeconds() - cpu) / Double(calls) * 1e9)
        walls.append((Double(elapsed.components.seconds) * 1e18 + Double(elapsed.components.attoseconds)) / 1e9 / Double(calls))
    }
    if sink == Int.min { print(name) }  // keeps the work observable
    return (walls.sorted()[rounds / 2], cpus.sorted()[rounds / 2])
}

/// 50 rules of every kind, matching what a deployment would write: rates per task and agent over
/// tool families, denial streaks, data-flow sequences, novelty, tainted arguments, budgets, and
/// delegation fan-out and depth (skipped for calls: they are about token exchanges).
func rules(count: Int) throws -> [GuardRule] {
    let families = ["files", "mail", "crm", "web", "bank", "db", "shell", "calendar", "tickets", "payments"]
    var rules: [GuardRule] = []
    var index = 0
    while rules.count < count {
        let family = families[index % families.count]
        let pattern = try ToolPattern(parsing: family + ".*")
        switch index % 6 {
        case 0:
            rules.append(
                GuardRule(
                    id: "rate-\(index)", kind: .rate(limit: 100 + index, window: 60_000), match: GuardMatch(tools: [pattern]),
                    scope: index % 2 == 0 ? .task : .agent, action: .deny, reason: "rate_limit"))
        case 1:
            rules.append(GuardRule(id: "streak-\(index)", kind: .denialStreak(limit: 5 + index), match: GuardMatch(tools: [pattern]), action: .kill, reason: "denial_streak"))
        case 2:
            rules.append(
                GuardRule(
                    id: "flow-\(index)", kind: .sequence(after: GuardMatch(minSensitivity: 3, allowed: true), within: 600_000),
                    match: GuardMatch(tools: [pattern], minEgress: .external), action: .kill, reason: "chain_anomaly"))
        case 3:
            rules.append(
                GuardRule(
                    id: "untrusted-\(index)", kind: .sequence(after: GuardMatch(untrusted: true), within: nil),
                    match: GuardMatch(tools: [pattern], minSideEffects: .destructive), action: .hold, reason: "untrusted_then_privileged"))
        case 5:
            rules.append(
                index % 2 == 0
                    ? GuardRule(
                        id: "budget-\(index)", kind: .budget(argument: "amount", limit: 1_000_000), match: GuardMatch(tools: [pattern]),
                        action: .deny, reason: "budget_exceeded")
                    : GuardRule(id: "fanout-\(index)", kind: .delegations(limit: 10), action: .deny, reason: "fanout_cap"))
        default:
            rules.append(
                index % 2 == 0
                    ? GuardRule(id: "novel-\(index)", kind: .novelty, match: GuardMatch(tools: [pattern]), scope: .agent, action: .hold, reason: "novel_tool")
                    : GuardRule(
                        id: "taint-\(index)", kind: .taintedArgument(sources: .untrusted), match: GuardMatch(tools: [pattern]), action: .hold,
                        reason: "tainted_argument"))
        }
        index += 1
    }
    return rules
}

do {
    print("load average: \((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?")")

    // The Cedar decision, as the gateway makes it (scope check, then CallTool over the example policies).
    var policies = PolicySet()
    for var policy in try CedarParser.parsePolicies(String(contentsOfFile: policyFile, encoding: .utf8)) {
        policy.id = policy.annotation("id") ?? policy.id
        try policies.add(policy)
    }
    let policy = ToolCallPolicy(policies: policies, attributes: { _ in ["team": .string("interop")] })
    guard let tool = GatewayTool(
        upstream: "crm", definition: .object(["name": .string("crm_lookup"), "inputSchema": .object(["type": .string("object")])]),
        labels: ToolLabels(sensitivity: .internal, dataDomain: "sales"))
    else { throw BenchFailure(description: "bad tool") }
    let now: Int64 = 1_800_000_000_000
    let grant = TaskGrant(
        id: "grant", taskID: "task", subject: try SPIFFEID(parsing: "spiffe://bench.test/agents/bench"), audience: ["latch-gateway"],
        intent: "look up the customer", scope: GrantScope(tools: ["crm.crm_lookup"], dataDomains: ["sales"], destinations: [], maxSensitivity: .confidential),
        issuedAt: now - 1_000, expiresAt: now + 600_000, keyThumbprint: "thumbprint")
    let facts = SessionFacts()
    guard policy.decide(grant: grant, tool: tool, arguments: ["customer": .string("acme")], facts: facts, now: now).allowed else {
        throw BenchFailure(description: "the example policies deny the benchmark's call")
    }
    let cedar = measure("cedar") { count in
        var allowed = 0
        for _ in 0..<count where policy.decide(grant: grant, tool: tool, arguments: ["customer": .string("acme")], facts: facts, now: now).allowed {
            allowed += 1
        }
        return allowed
    }

    // The guard: the rules, a task and an agent history of `historyEvents` calls each.
    let guardRules = try GuardRules(try rules(count: ruleCount))
    var task = guardRules.makeHistory()
    var agent = guardRules.makeHistory()
    let families = ["files", "mail", "crm", "web", "bank", "db", "shell", "calendar", "tickets", "payments"]
    for index in 0..<historyEvents {
        let labels = GuardLabels(sensitivity: index % 4 == 0 ? 2 : 1, egress: index % 7 == 0 ? .internal : .none, untrusted: index % 11 == 0)
        let call = GuardCall(agent: "agent", task: "task", tool: "\(families[index % families.count]).tool\(index % 13)", labels: labels, time: now - 3_600_000 + Int64(index) * 300,
            amounts: ["amount": 1])
        guardRules.record(GuardEvent(call: call, allowed: index % 9 != 0, result: labels), task: &task, agent: &agent)
    }
    let call = GuardCall(agent: "agent", task: "task", tool: "crm.crm_lookup", labels: GuardLabels(sensitivity: 1), time: now, amounts: ["amount": 25])
    let verdict = guardRules.evaluate(call, task: task, agent: agent)
    let evaluate = measure("guard") { count in
        var fired = 0
        for _ in 0..<count { fired &+= guardRules.evaluate(call, task: task, agent: agent).rules.count }
        return fired
    }
    let record = measure("record") { count in
        var taskCopy = task
        var agentCopy = agent
        for index in 0..<count {
            var next = call
            next.time = now + Int64(index)
            guardRules.record(GuardEvent(call: next, allowed: true, result: next.labels), task: &taskCopy, agent: &agentCopy)
        }
        return taskCopy.events
    }

    // Value provenance: 64 KiB of untrusted output taken in, then a call's three argument values looked up.
    var provenance = ValueProvenance()
    var recorded = 0
    var step = 0
    while recorded < 64 << 10 {
        let text = "Invoice \(step): pay IBAN DE\(10_000_000 + step * 7919) by Friday. Contact billing-\(step)@vendor.example. "
        provenance.record(text, sources: .untrusted, step: step)
        recorded += text.utf8.count
        step += 1
    }
    let arguments = ["DE10007919", "acme-corp-customer-42", "the quarterly pipeline summary"]
    let lookup = measure("provenance") { count in
        var found = 0
        for _ in 0..<count { for value in arguments where provenance.origin(of: value) != nil { found += 1 } }
        return found
    }

    func line(_ name: String, _ figure: (wall: Double, cpu: Double), ratio: String = "") {
        print(
            name.padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: "%9.0f ns %9.0f ns CPU", figure.wall, figure.cpu) + (ratio.isEmpty ? "" : "   " + ratio))
    }
    print("per call, median of \(rounds) rounds of \(calls) sequential calls")
    line("Cedar decision (scope + CallTool, example policies)", cedar)
    line("guard evaluate: \(ruleCount) rules, \(historyEvents)-event history", evaluate, ratio: String(format: "%.2f× the Cedar decision (target ≤ 1)", evaluate.wall / cedar.wall))
    line("guard record (both histories)", record, ratio: String(format: "%.2f× the Cedar decision", record.wall / cedar.wall))
    line("provenance: 3 argument values against ~64 KiB of output", lookup, ratio: String(format: "%.2f× the Cedar decision", lookup.wall / cedar.wall))
    print("verdict on the measured call: \(verdict.action.map { "\($0)" } ?? "none") \(verdict.rules)")
} catch {
    print("GuardBench failed: \(error)")
    exit(1)
}
