import Testing

/// The Cedar integration tests (`shared/cedar-integration-tests`): the handwritten tests and the
/// generated corpus (about 7,800 files and 62,000 requests, unpacked at test time).
///
/// Each suite reports every disagreement in one failure with counts and the first cases in
/// detail, and prints its counts on success too. Run one part with
/// `swift test --filter ConformanceDecisionTests` or `--filter ConformanceValidationTests`;
/// `LATCH_CONFORMANCE_LIMIT=N` runs only the first N files of each source.
@Suite("Conformance: authorization decisions", .serialized)
struct ConformanceDecisionTests {
    @Test("every handwritten integration request gets the expected decision, reason and errors")
    func handwritten() async throws {
        try await Self.check(.handwritten)
    }

    @Test("every corpus request gets the expected decision, reason and errors")
    func corpus() async throws {
        try await Self.check(.corpus)
    }

    static func check(_ source: ConformanceRunner.Source) async throws {
        try await expectClean(source, "decisions", caseName: "requests", check: ConformanceRunner.checkDecisions)
    }
}

/// Strict validation of each integration test's policies against its schema, compared with
/// the test's `shouldValidate`.
@Suite("Conformance: validation", .serialized)
struct ConformanceValidationTests {
    @Test("the validator agrees with shouldValidate on every handwritten integration test")
    func handwritten() async throws {
        try await Self.check(.handwritten)
    }

    @Test("the validator agrees with shouldValidate on every corpus test")
    func corpus() async throws {
        try await Self.check(.corpus)
    }

    static func check(_ source: ConformanceRunner.Source) async throws {
        try await expectClean(source, "validation", caseName: "files", check: ConformanceRunner.checkValidation)
    }
}

/// Runs one conformance check over a source, prints its counts, and records one issue listing
/// every disagreement (counts, then the first cases in detail).
private func expectClean(
    _ source: ConformanceRunner.Source, _ what: String, caseName: String,
    check: @escaping @Sendable (IntegrationTestFile) -> ConformanceTally
) async throws {
    let tally = try await ConformanceRunner.run(source, check: check)
    let title = "\(source.rawValue) \(what)"
    print(tally.summary(title, caseName: caseName))
    #expect(tally.files > 0, "no test files found")
    if !tally.isClean { Issue.record(Comment(rawValue: tally.report(title, caseName: caseName))) }
}
