import CedarPolicy
import Foundation
import MallocCounter

// cedar-bench DIR...
//
// For each workload folder (policies.cedar, entities.json, requests.jsonl, as gen_workload.py writes them),
// parses everything once, then times `Authorizer.isAuthorized` over the requests on one thread and prints
// one JSON line: decisions per second (median and best of several rounds), nanoseconds per decision,
// heap allocations per decision, and the decisions themselves (so run.sh can check both engines agree).

/// CPU time used by this thread so far, in seconds.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

struct Failure: Error, CustomStringConvertible { var description: String }

func load(_ dir: String) throws -> (PolicySet, Entities, [Request], Int) {
    func read(_ name: String) throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "cannot read \(path)") }
        return String(decoding: data, as: UTF8.self)
    }
    let policyText = try read("policies.cedar")
    let policies = try PolicySet(parsing: policyText)
    let entities = try Entities(json: JSONValue(parsing: try read("entities.json")))
    var requests: [Request] = []
    for line in try read("requests.jsonl").split(separator: "\n") where !line.isEmpty {
        requests.append(try Request(json: JSONValue(parsing: String(line))))
    }
    return (policies, entities, requests, policies.staticPolicies.count + policies.links.count)
}

/// Runs one pass over the requests; returns the number of allows (so the work cannot be optimised away).
@inline(never)
func pass(_ authorizer: Authorizer, _ requests: [Request], _ entities: Entities) -> Int {
    var allows = 0
    for request in requests where authorizer.isAuthorized(request, entities: entities).decision == .allow {
        allows += 1
    }
    return allows
}

func measure(_ dir: String, rounds: Int, roundSeconds: Double) throws -> String {
    let (policies, entities, requests, count) = try load(dir)
    let authorizer = Authorizer(policies)
    let decisions = requests.map { authorizer.isAuthorized($0, entities: entities).decision == .allow ? "A" : "D" }.joined()

    // Allocations: one full pass after a warm-up pass.
    _ = pass(authorizer, requests, entities)
    let before = latch_malloc_count()
    let sink = pass(authorizer, requests, entities)
    let allocations = Double(latch_malloc_count() - before) / Double(requests.count)

    // Throughput: `rounds` rounds of whole passes, each at least `roundSeconds` of this thread's CPU time
    // (CPU time, not wall time, so other processes on the machine do not count against us: decisions per
    // second per core; cedarpy_bench.py measures the same way).
    var rates: [Double] = []
    var total = sink
    for _ in 0..<rounds {
        var done = 0
        let start = threadCPUSeconds()
        var elapsed = 0.0
        repeat {
            total &+= pass(authorizer, requests, entities)
            done += requests.count
            elapsed = threadCPUSeconds() - start
        } while elapsed < roundSeconds
        rates.append(Double(done) / elapsed)
    }
    rates.sort()
    let median = rates[rates.count / 2]
    let fields: [String] = [
        "\"engine\":\"swift\"", "\"dir\":\"\(dir)\"", "\"policies\":\(count)", "\"requests\":\(requests.count)",
        "\"decisions_per_sec\":\(Int(median))", "\"best_decisions_per_sec\":\(Int(rates.last ?? median))",
        "\"ns_per_decision\":\(Int(1e9 / median))",
        "\"allocs_per_decision\":\(latch_malloc_counting() != 0 ? String(format: "%.2f", allocations) : "null")",
        "\"checksum\":\(total % 1_000_003)", "\"decisions\":\"\(decisions)\"",
    ]
    return "{" + fields.joined(separator: ",") + "}"
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard !arguments.isEmpty else {
    FileHandle.standardError.write(Data("usage: cedar-bench WORKLOAD_DIR...\n".utf8))
    exit(2)
}
let environment = ProcessInfo.processInfo.environment
let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 7
let roundSeconds = Double(environment["BENCH_ROUND_SECONDS"] ?? "") ?? 0.3
for dir in arguments {
    do {
        print(try measure(dir, rounds: rounds, roundSeconds: roundSeconds))
    } catch {
        FileHandle.standardError.write(Data("cedar-bench: \(dir): \(error)\n".utf8))
        exit(1)
    }
}
