import CedarPolicy
import Foundation

/// Runs Cedar integration test files against the engine and tallies every disagreement, so a
/// whole corpus reports as one failure with counts and the first few cases in detail.
enum ConformanceRunner {
    /// Which test files to run.
    enum Source: String, Sendable {
        case handwritten, corpus
    }

    /// How many mismatches are spelled out in a failure message.
    static let detailLimit = 20

    /// The test files of `source` with the folder their paths are relative to. At most
    /// `$LATCH_CONFORMANCE_LIMIT` files when that is set (for quick local runs; CI runs all).
    static func testFiles(_ source: Source) throws -> (files: [URL], base: URL) {
        var files: [URL]
        let base: URL
        switch source {
        case .handwritten:
            files = try SharedTestData.handwrittenTestFiles()
            base = SharedTestData.integrationTestsDirectory
        case .corpus:
            files = try SharedTestData.corpusTestFiles()
            base = try SharedTestData.corpusRoot()
        }
        if let limit = ProcessInfo.processInfo.environment["LATCH_CONFORMANCE_LIMIT"].flatMap({ Int($0) }), limit < files.count {
            files = Array(files.prefix(limit))
        }
        return (files, base)
    }

    /// Runs `check` over every file, spread over the machine's cores, and merges the tallies.
    static func run(
        _ source: Source, check: @escaping @Sendable (IntegrationTestFile) -> ConformanceTally
    ) async throws -> ConformanceTally {
        let (files, base) = try self.testFiles(source)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        var total = ConformanceTally()
        await withTaskGroup(of: ConformanceTally.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var tally = ConformanceTally()
                    var index = worker
                    while index < files.count {
                        let url = files[index]
                        index += workers
                        do {
                            let test = try IntegrationTestFile(contentsOf: url, base: base)
                            tally.merge(check(test))
                        } catch {
                            tally.files += 1
                            tally.setupFailure(url.lastPathComponent, "test file", "\(error)")
                        }
                    }
                    return tally
                }
            }
            for await part in group { total.merge(part) }
        }
        total.details.sort()
        return total
    }

    // MARK: - Loading one test's inputs

    /// The parsed inputs of one test file.
    struct Inputs {
        var policies: PolicySet
        var schema: Schema
        var entities: Entities?
    }

    /// Parses the policies and schema, and the entities when `withEntities`. Records a setup
    /// failure and returns nil when any of them does not load.
    static func load(_ test: IntegrationTestFile, withEntities: Bool, into tally: inout ConformanceTally) -> Inputs? {
        func read(_ url: URL, _ what: String) -> String? {
            do { return try SharedTestData.text(at: url) } catch {
                tally.setupFailure(test.name, what, "cannot read \(url.path): \(error)")
                return nil
            }
        }
        guard let policyText = read(test.policiesURL, "policies"), let schemaText = read(test.schemaURL, "schema") else { return nil }
        let policies: PolicySet
        do { policies = try PolicySet(parsing: policyText) } catch {
            tally.setupFailure(test.name, "policies", error.description)
            return nil
        }
        let schema: Schema
        do { schema = try Schema(parsingCedar: schemaText) } catch {
            tally.setupFailure(test.name, "schema", error.description)
            return nil
        }
        var inputs = Inputs(policies: policies, schema: schema)
        if withEntities {
            guard let entityText = read(test.entitiesURL, "entities") else { return nil }
            do { inputs.entities = try Entities(json: JSONValue(parsing: entityText), schema: schema) } catch {
                tally.setupFailure(test.name, "entities", error.description)
                return nil
            }
        }
        return inputs
    }

    // MARK: - The two checks

    /// Authorizes every request of `test` and compares decision, reason and erroring policies.
    static func checkDecisions(_ test: IntegrationTestFile) -> ConformanceTally {
        var tally = ConformanceTally()
        tally.files = 1
        tally.cases = test.requests.count
        guard let inputs = self.load(test, withEntities: true, into: &tally), let entities = inputs.entities else {
            tally.failedCases += test.requests.count
            return tally
        }
        let authorizer = Authorizer(inputs.policies)
        for request in test.requests {
            let parsed: Request
            do {
                parsed = try Request(json: request.request, schema: request.validateRequest ? inputs.schema : nil)
            } catch {
                tally.mismatch("request rejected", "\(test.name) «\(request.description)»: request rejected: \(error.description)")
                continue
            }
            let response = authorizer.isAuthorized(parsed, entities: entities)
            let decision = response.decision == .allow ? "allow" : "deny"
            let reason = response.reason.sorted()
            let errors = Set(response.errors.map(\.policyID)).sorted()
            var kinds: [String] = []
            if decision != request.decision { kinds.append("decision") }
            if reason != request.reason { kinds.append("reason") }
            if errors != request.errors { kinds.append("errors") }
            guard !kinds.isEmpty else {
                tally.passedCases += 1
                continue
            }
            var detail = "\(test.name) «\(request.description)»: "
            detail +=
                "decision \(decision) (want \(request.decision)), reason \(reason) (want \(request.reason)), errors \(errors) (want \(request.errors))"
            if let first = response.errors.first { detail += "; \(first.policyID): \(first.error.description)" }
            detail += "; request \(request.requestJSON)"
            tally.mismatch(kinds.joined(separator: "+"), detail)
        }
        return tally
    }

    /// Validates the policies of `test` against its schema and compares with `shouldValidate`.
    static func checkValidation(_ test: IntegrationTestFile) -> ConformanceTally {
        var tally = ConformanceTally()
        tally.files = 1
        tally.cases = 1
        guard let inputs = self.load(test, withEntities: false, into: &tally) else {
            tally.failedCases += 1
            return tally
        }
        let result = Validator(schema: inputs.schema).validate(inputs.policies)
        if result.passed == test.shouldValidate {
            tally.passedCases += 1
        } else if test.shouldValidate {
            let first = result.errors.first.map { "\($0.policyID): \($0.message)" } ?? "?"
            tally.mismatch("rejected valid policies", "\(test.name): should validate, but \(result.errors.count) error(s), first: \(first)")
        } else {
            tally.mismatch("accepted invalid policies", "\(test.name): should not validate, but passed")
        }
        return tally
    }
}

/// Counts from a conformance run: cases that agree, disagreements by kind, files whose inputs
/// did not load, and detail lines for the failure message.
struct ConformanceTally: Sendable {
    var files = 0
    /// Requests (decision checks) or files (validation checks).
    var cases = 0
    var passedCases = 0
    /// Cases that could not run because their file's inputs did not load.
    var failedCases = 0
    var mismatchesByKind: [String: Int] = [:]
    var setupFailuresByKind: [String: Int] = [:]
    var details: [String] = []

    var mismatches: Int { self.mismatchesByKind.values.reduce(0, +) }
    var setupFailures: Int { self.setupFailuresByKind.values.reduce(0, +) }
    var isClean: Bool { self.mismatches == 0 && self.setupFailures == 0 && self.passedCases == self.cases }

    mutating func mismatch(_ kind: String, _ detail: String) {
        self.mismatchesByKind[kind, default: 0] += 1
        self.details.append(Self.printable(detail))
    }

    mutating func setupFailure(_ file: String, _ what: String, _ message: String) {
        self.setupFailuresByKind[what, default: 0] += 1
        self.details.append(Self.printable("\(file): \(what) did not load: \(message)"))
    }

    /// `text` with control characters shown as `\u{…}` escapes: corpus names contain them, and a
    /// raw NUL or escape sequence would cut or garble the failure message.
    static func printable(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    mutating func merge(_ other: ConformanceTally) {
        self.files += other.files
        self.cases += other.cases
        self.passedCases += other.passedCases
        self.failedCases += other.failedCases
        self.mismatchesByKind.merge(other.mismatchesByKind, uniquingKeysWith: +)
        self.setupFailuresByKind.merge(other.setupFailuresByKind, uniquingKeysWith: +)
        self.details += other.details
    }

    /// One line of counts, e.g. `corpus decisions: 7809 files, 62472 cases, 62470 agree, 2 differ (reason 2), 0 files failed to load`.
    func summary(_ title: String, caseName: String) -> String {
        func kinds(_ map: [String: Int]) -> String {
            map.isEmpty ? "" : " (" + map.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        return
            "\(title): \(self.files) files, \(self.cases) \(caseName), \(self.passedCases) agree, \(self.mismatches) differ\(kinds(self.mismatchesByKind)), "
            + "\(self.setupFailures) files failed to load\(kinds(self.setupFailuresByKind)) (\(self.failedCases) \(caseName) not run)"
    }

    /// The summary and the first `limit` detail lines.
    func report(_ title: String, caseName: String, limit: Int = ConformanceRunner.detailLimit) -> String {
        var lines = [self.summary(title, caseName: caseName)]
        lines += self.details.prefix(limit).map { "  - " + $0 }
        if self.details.count > limit { lines.append("  … and \(self.details.count - limit) more") }
        return lines.joined(separator: "\n")
    }
}
