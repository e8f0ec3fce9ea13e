import CedarPolicy
import Foundation
import Testing

/// Generated policy sets, entities and requests must get the same answers from our `Authorizer` as from the
/// Rust engine (cedarpy): the same decision, the same determining policies and the same erroring policies.
///
/// CI runs fixed seeds. `CEDAR_DIFF_SEED=<n>` (or `random`) runs one other seed; `CEDAR_DIFF_CASES` and
/// `CEDAR_DIFF_REQUESTS` change the number of cases per seed and requests per case.
@Suite("Differential testing against cedarpy")
struct DifferentialTests {
    static let environment = ProcessInfo.processInfo.environment

    static let seeds: [UInt64] = {
        guard let text = environment["CEDAR_DIFF_SEED"], !text.isEmpty else { return [1, 2, 3, 4, 5] }
        if text == "random" { return [UInt64.random(in: 1...UInt64(UInt32.max))] }
        return text.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }()
    static let casesPerSeed = Int(environment["CEDAR_DIFF_CASES"] ?? "") ?? 50
    static let requestsPerCase = Int(environment["CEDAR_DIFF_REQUESTS"] ?? "") ?? 100

    @Test("generated workloads get the same decision, reason and errors as cedarpy", arguments: seeds)
    func agreesWithCedarpy(seed: UInt64) throws {
        let cases = (0..<Self.casesPerSeed).map {
            DiffGenerator.makeCase(seed: seed, index: $0, requests: Self.requestsPerCase)
        }
        let expected: [CedarOracle.Outcome]
        do {
            expected = try CedarOracle.run(cases.map(\.oracleJSON))
        } catch {
            Issue.record("cannot run the cedarpy oracle: \(error)")
            return
        }
        var compared = 0
        var mismatches = MismatchLog()
        var validated = 0
        var validationMismatches = MismatchLog()
        for (c, oracle) in zip(cases, expected) {
            let ours = Self.evaluate(c)
            switch (oracle, ours) {
            case (.failed(let stage, _), .failed(let ourStage, _)) where stage == ourStage:
                continue
            case (.answered(let want, let wantValidation), .answered(let got, let gotValidation)):
                if let wantValidation {
                    validated += 1
                    if wantValidation != gotValidation {
                        validationMismatches.add(Self.reportValidation(c, want: wantValidation, got: gotValidation))
                    }
                }
                for (i, (w, g)) in zip(want, got).enumerated() {
                    compared += 1
                    if w != g { mismatches.add(Self.report(c, request: i, want: w, got: g)) }
                }
            default:
                mismatches.add(Self.reportStage(c, oracle: oracle, ours: ours))
            }
        }
        let summary = "seed \(seed): \(compared) requests compared, \(mismatches.count) mismatches"
        print("[differential] " + summary)
        mismatches.record(summary)
        let validationSummary = "seed \(seed): \(validated) policy sets validated against their schema, \(validationMismatches.count) disagree"
        print("[differential] " + validationSummary)
        validationMismatches.record(validationSummary)
        // Whole cases that both engines reject are fine, but most requests must really be compared.
        #expect(compared >= Self.casesPerSeed * Self.requestsPerCase * 8 / 10, "only \(compared) requests compared")
    }

    @Test("our parser accepts exactly the policy texts cedarpy accepts")
    func parserAgreesWithCedarpy() throws {
        let seed = Self.seeds.first ?? 1
        var generator = DiffGenerator.withWorld(seed: seed &+ 0x5EED)
        let count = DiffSyntax.conditions.count + DiffSyntax.policies.count + 600
        let texts = (0..<count).map { DiffSyntax.probe($0, generator: &generator) }
        let cases = texts.enumerated().map { i, text in
            DiffCase(seed: seed, index: i, policies: [text], links: [], entitiesJSON: "[]", requests: [])
        }
        let expected: [CedarOracle.Outcome]
        do {
            expected = try CedarOracle.run(cases.map(\.oracleJSON))
        } catch {
            Issue.record("cannot run the cedarpy oracle: \(error)")
            return
        }
        var accepted = 0
        var mismatches: [String] = []
        for (text, oracle) in zip(texts, expected) {
            let theirs: String?
            if case .failed(_, let message) = oracle { theirs = message } else { theirs = nil }
            var ours: String? = nil
            do {
                _ = try PolicySet(parsing: text)
            } catch {
                ours = error.description
            }
            if theirs == nil { accepted += 1 }
            if (theirs == nil) != (ours == nil) {
                mismatches.append(
                    """
                    PARSE MISMATCH: \(text)
                      cedarpy: \(theirs.map { "rejects: " + $0.replacingOccurrences(of: "\n", with: " ") } ?? "accepts")
                      ours:    \(ours.map { "rejects: " + $0 } ?? "accepts")
                    """)
            }
        }
        print("[differential] parser: \(texts.count) policy texts, \(accepted) accepted by cedarpy, \(mismatches.count) disagree")
        if !mismatches.isEmpty {
            Issue.record(Comment(rawValue: "\(mismatches.count) of \(texts.count) parse results differ\n\n" + mismatches.prefix(40).joined(separator: "\n")))
        }
        #expect(accepted > texts.count / 5 && accepted < texts.count, "the probes should mix accepted and rejected texts")
    }

    // MARK: - Our engine

    /// Our answers for a case, parsed from the same text the oracle saw.
    static func evaluate(_ c: DiffCase) -> CedarOracle.Outcome {
        var policies: PolicySet
        do {
            policies = try PolicySet(parsing: c.policyText)
        } catch {
            return .failed(stage: "policies", message: error.description)
        }
        let unlinked = policies  // what cedarpy validates: the policy text, templates unlinked
        do {
            for link in c.links {
                var values: [SlotID: EntityUID] = [:]
                for (slot, uid) in link.values {
                    values[slot == "?principal" ? .principal : .resource] = try Self.uid(uid)
                }
                try policies.link(TemplateLink(templateID: link.templateID, newID: link.newID, values: values))
            }
        } catch {
            return .failed(stage: "links", message: "\(error)")
        }
        var schema: Schema? = nil
        if let text = c.schema {
            do {
                schema = try Schema(parsingCedar: text)
            } catch {
                return .failed(stage: "schema", message: error.description)
            }
        }
        let entities: Entities
        do {
            entities = try Entities(json: JSONValue(parsing: c.entitiesJSON), schema: schema)
        } catch {
            return .failed(stage: "entities", message: error.description)
        }
        let validation = schema.map { schema in
            let result = Validator(schema: schema).validate(unlinked)
            let diagnostics = result.errors
            return CedarOracle.Validation(
                policies: Array(Set(diagnostics.map(\.policyID))).sorted(),
                messages: diagnostics.map { "[\($0.policyID)] \($0.message)" })
        }
        let authorizer = Authorizer(policies)
        var answers: [CedarOracle.Answer] = []
        for r in c.requests {
            do {
                let request = try Request(json: JSONValue(parsing: r.json), schema: schema)
                let response = authorizer.isAuthorized(request, entities: entities)
                answers.append(
                    CedarOracle.Answer(
                        decision: response.decision == .allow ? "allow" : "deny", reason: response.reason.sorted(),
                        errors: Array(Set(response.errors.map(\.policyID))).sorted(),
                        messages: response.errors.map { "\($0.policyID): \($0.error.message)" }))
            } catch {
                answers.append(CedarOracle.Answer(decision: "error", reason: [], errors: [], messages: [error.description]))
            }
        }
        return .answered(answers, validation: validation)
    }

    static func uid(_ uid: DiffUID) throws(CedarError) -> EntityUID {
        try EntityUID(type: CedarParser.parseEntityType(uid.type), id: uid.id)
    }

    // MARK: - Reports

    /// The text of the policies named in either answer that the two answers disagree on.
    static func involvedPolicies(_ c: DiffCase, _ want: CedarOracle.Answer, _ got: CedarOracle.Answer) -> String {
        var ids = Set(want.reason).symmetricDifference(got.reason).union(Set(want.errors).symmetricDifference(got.errors))
        if ids.isEmpty { ids = Set(want.reason + got.reason + want.errors + got.errors) }
        var out: [String] = []
        for id in ids.sorted() {
            if id.hasPrefix("policy"), let n = Int(id.dropFirst(6)), n < c.policies.count {
                out.append("// \(id)\n\(c.policies[n])")
            } else if let link = c.links.first(where: { $0.newID == id }), let n = Int(link.templateID.dropFirst(6)),
                n < c.policies.count
            {
                let values = link.values.map { "\($0.slot) = \($0.uid.cedar)" }.joined(separator: ", ")
                out.append("// \(id): link of \(link.templateID) with \(values)\n\(c.policies[n])")
            }
        }
        if out.isEmpty { return "(all \(c.policies.count) policies)\n" + c.policyText }
        return out.joined(separator: "\n")
    }

    /// The mismatching request alone with only the policies the answers disagree on (renumbered from `policy0`),
    /// re-run on both engines; the reduced case's text and answers if it still disagrees, else nil.
    static func reduced(_ c: DiffCase, request i: Int, want: CedarOracle.Answer, got: CedarOracle.Answer) -> String? {
        let ids = Set(want.reason).symmetricDifference(got.reason).union(Set(want.errors).symmetricDifference(got.errors))
        var texts: [String] = []
        var links: [DiffCase.Link] = []
        for id in ids.sorted() {
            if id.hasPrefix("policy"), let n = Int(id.dropFirst(6)), n < c.policies.count {
                texts.append(c.policies[n])
            } else if var link = c.links.first(where: { $0.newID == id }), let n = Int(link.templateID.dropFirst(6)), n < c.policies.count {
                texts.append(c.policies[n])
                link.templateID = "policy\(texts.count - 1)"
                links.append(link)
            }
        }
        let small = DiffCase(
            seed: c.seed, index: c.index, policies: texts, links: links, entitiesJSON: c.entitiesJSON, requests: [c.requests[i]],
            schema: c.schema)
        guard let oracle = try? CedarOracle.run([small.oracleJSON]).first,
            case .answered(let theirs, _) = oracle, case .answered(let ours, _) = Self.evaluate(small),
            let w = theirs.first, let g = ours.first, w != g
        else { return nil }
        let listing = texts.enumerated().map { "// policy\($0.offset)\n\($0.element)" }.joined(separator: "\n")
        let linked = links.map { "// \($0.newID) = \($0.templateID) with " + $0.values.map { "\($0.slot) = \($0.uid.cedar)" }.joined(separator: ", ") }
        return """
            reduced to \(texts.count) policies and this request, still different:
              cedarpy: \(w)
              ours:    \(g)
            \(texts.isEmpty ? "(no policies)" : listing)\(linked.isEmpty ? "" : "\n" + linked.joined(separator: "\n"))
            """
    }

    static func report(_ c: DiffCase, request i: Int, want: CedarOracle.Answer, got: CedarOracle.Answer) -> String {
        let dir = Self.saveRepro(c)
        var entities = c.entitiesJSON
        if entities.count > 3000 { entities = String(entities.prefix(3000)) + "\n… (full file in \(dir))" }
        let minimal = Self.reduced(c, request: i, want: want, got: got)
        return """
            MISMATCH seed \(c.seed) case \(c.index) request \(i) (rerun: CEDAR_DIFF_SEED=\(c.seed))
              cedarpy: \(want)
              ours:    \(got)
            \(minimal ?? "policies that differ:\n" + Self.involvedPolicies(c, want, got))
            request: \(c.requests[i].json)
            entities: \(entities)
            \(c.schema == nil ? "" : "schema: in \(dir)/schema.cedarschema (entities parsed and requests validated with it)\n")\
            full case (policies.cedar, entities.json, requests.jsonl, oracle-input.json): \(dir)
            """
    }

    static func reportValidation(_ c: DiffCase, want: CedarOracle.Validation, got: CedarOracle.Validation?) -> String {
        let gotPolicies = got?.policies ?? []
        let differ = Set(want.policies).symmetricDifference(gotPolicies).sorted()
        let texts = differ.compactMap { id -> String? in
            guard id.hasPrefix("policy"), let n = Int(id.dropFirst(6)), n < c.policies.count else { return nil }
            return "// \(id)\n\(c.policies[n])"
        }
        func relevant(_ messages: [String]) -> String {
            messages.filter { m in differ.contains { m.contains("[\($0)]") } }.joined(separator: "\n      ")
        }
        return """
            VALIDATION MISMATCH seed \(c.seed) case \(c.index) (rerun: CEDAR_DIFF_SEED=\(c.seed))
              policies with errors, cedarpy: \(want.policies)
              policies with errors, ours:    \(gotPolicies)
              cedarpy says: \(relevant(want.messages))
              ours says:    \(relevant(got?.messages ?? []))
            \(texts.joined(separator: "\n"))
            schema:
            \(c.schema ?? "")
            full case: \(Self.saveRepro(c))
            """
    }

    static func reportStage(_ c: DiffCase, oracle: CedarOracle.Outcome, ours: CedarOracle.Outcome) -> String {
        func describe(_ o: CedarOracle.Outcome) -> String {
            switch o {
            case .failed(let stage, let message): "failed at \(stage): \(message)"
            case .answered(let a, _): "answered \(a.count) requests"
            }
        }
        var policies = ""
        if case .failed(let stage, let message) = ours, stage == "policies" {
            // Point at the policy our parser stopped in, when the message has a line number.
            if let line = Int(message.split(separator: ":").first ?? "") {
                var start = 1
                for (n, p) in c.policies.enumerated() {
                    let lines = p.split(separator: "\n", omittingEmptySubsequences: false).count
                    if line < start + lines {
                        policies = "// policy\(n) (line \(line))\n\(p)"
                        break
                    }
                    start += lines
                }
            }
        } else if case .failed(let stage, _) = oracle, stage == "entities" {
            let text = c.entitiesJSON
            policies = "entities:\n" + (text.count > 3000 ? String(text.prefix(3000)) + "\n…" : text)
        } else if case .failed(let stage, _) = ours, stage == "entities" {
            let text = c.entitiesJSON
            policies = "entities:\n" + (text.count > 3000 ? String(text.prefix(3000)) + "\n…" : text)
        } else if case .failed(let stage, _) = oracle, stage == "policies" {
            let text = c.policyText
            policies = "(cedarpy rejected the policy text; ours accepted it)\n" + (text.count > 4000 ? String(text.prefix(4000)) : text)
        }
        return """
            MISMATCH seed \(c.seed) case \(c.index) (whole case; rerun: CEDAR_DIFF_SEED=\(c.seed))
              cedarpy: \(describe(oracle))
              ours:    \(describe(ours))
            \(policies)
            full case: \(Self.saveRepro(c))
            """
    }

    /// Writes the case to a temporary folder and returns its path.
    static func saveRepro(_ c: DiffCase) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cedar-diff-\(c.seed)-\(c.index)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? Data(c.policyText.utf8).write(to: dir.appendingPathComponent("policies.cedar"))
        try? Data(c.entitiesJSON.utf8).write(to: dir.appendingPathComponent("entities.json"))
        try? Data(c.requests.map(\.json).joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("requests.jsonl"))
        if let schema = c.schema { try? Data(schema.utf8).write(to: dir.appendingPathComponent("schema.cedarschema")) }
        try? Data(("{\"cases\":[" + c.oracleJSON + "]}").utf8).write(to: dir.appendingPathComponent("oracle-input.json"))
        return dir.path
    }
}

/// Mismatch reports: every mismatch is counted, the first few are kept in full.
struct MismatchLog {
    private(set) var count = 0
    private(set) var shown: [String] = []

    mutating func add(_ report: @autoclosure () -> String) {
        self.count += 1
        if self.shown.count < 5 { self.shown.append(report()) }
    }

    /// Records one test issue with the summary and the kept reports, if there were any mismatches.
    func record(_ summary: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        guard self.count > 0 else { return }
        Issue.record(
            Comment(rawValue: summary + " (first \(self.shown.count) shown)\n\n" + self.shown.joined(separator: "\n\n")),
            sourceLocation: sourceLocation)
    }
}
