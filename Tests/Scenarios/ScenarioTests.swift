import Foundation
import LatchIdentity
import Testing

/// The development scenarios of issue 7 (`Data/D-*.yaml`), replayed through the real gateway.
/// Each runs under every carrier of its injection (I6: the decisions must not change), then its
/// benign path without the injection (I5); I1–I4 are checked in every run.
@Suite("Scenarios")
struct ScenarioTests {
    static let files = Scenario.files

    @Test("every scenario file names its source and its OWASP ASI risks, has a benign path, and parses")
    func metadata() throws {
        #expect(Self.files.count >= 20, "\(Self.files)")
        for file in Self.files {
            let scenario = try Scenario.load(file)
            #expect(file == scenario.id + ".yaml")
            #expect(!scenario.source.isEmpty && !scenario.title.isEmpty, "\(file)")
            let asi = scenario.maps["asi"] ?? []
            #expect(!asi.isEmpty, "\(file) names no ASI risk")
            for risk in asi {
                #expect(risk.hasPrefix("ASI") && Int(risk.dropFirst(3)).map { (1...10).contains($0) } == true, "\(file): \(risk)")
            }
            #expect(!scenario.steps.isEmpty, "\(file) has no steps")
            #expect(!scenario.benign.isEmpty, "\(file) has no benign path (I5)")
        }
    }

    @Test("the scenario reaches its outcomes under every carrier of the injection, and its benign path passes", arguments: Self.files)
    func scenario(_ file: String) async throws {
        let scenario = try Scenario.load(file)
        // I6: one run per carrier when there is an injection; their decisions must be identical.
        let carriers: [Carrier] = scenario.injection == nil ? [.direct] : Carrier.allCases
        var first: [ScenarioRun.Outcome]?
        for carrier in carriers {
            let run = try await ScenarioRun(scenario, carrier: carrier)
            defer { run.close() }
            try await run.run(scenario.steps)
            if let first {
                #expect(run.outcomes == first, "I6: \(scenario.id) under \(carrier.rawValue) decided otherwise")
            } else {
                first = run.outcomes
            }
        }
        // I5: the user's task without the injection is not over-blocked.
        if !scenario.benign.isEmpty {
            let run = try await ScenarioRun(scenario, carrier: nil)
            defer { run.close() }
            try await run.run(scenario.benign)
        }
    }
}
