import CedarPolicy
import Foundation
import Testing

/// Every parser and JSON reader gets byte-mutated corpus files: errors are fine, crashes and hangs are not
/// (a crash kills the test process; a slow input is reported with the input that caused it).
///
/// `CEDAR_MUTATION_SEED` runs another seed; `CEDAR_MUTATION_ROUNDS` changes the number of mutants per seed file.
@Suite("Robustness: mutated inputs never crash or hang the readers")
struct MutationTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seed = UInt64(environment["CEDAR_MUTATION_SEED"] ?? "") ?? 0xCEDA_2026
    static let rounds = Int(environment["CEDAR_MUTATION_ROUNDS"] ?? "") ?? 12
    /// Any single input taking longer than this is a failure (inputs are at most a few hundred KB).
    /// Generous, because CI machines are slow and tests run in debug builds; a hang takes far longer.
    static let budget: Duration = .seconds(10)

    /// A schema for the schema-directed readers (entities and requests checked against it).
    static let schema: Schema? = try? Schema(parsingJSON: MutationCorpus.schemaJSON)

    @Test("the hand-written seed schema parses, so the schema-directed readers are exercised")
    func seedSchemaParses() {
        #expect(Self.schema != nil)
    }

    enum Kind: String, CaseIterable, Sendable {
        case policies, cedarSchema, json
    }

    @Test("mutated inputs give values or errors, quickly", arguments: Kind.allCases)
    func mutatedInputs(kind: Kind) throws {
        var random = MutationRandom(seed: Self.seed &+ UInt64(Kind.allCases.firstIndex(of: kind) ?? 0))
        let (corpus, dir) = try MutationCorpus.load(perKind: 60, random: &random)
        defer { try? FileManager.default.removeItem(at: dir) }
        let seeds: [[UInt8]]
        switch kind {
        case .policies: seeds = corpus.policies
        case .cedarSchema: seeds = corpus.schemas
        case .json: seeds = corpus.json
        }
        var inputs = 0
        var accepted = 0
        var slow: [String] = []
        for (i, original) in seeds.enumerated() {
            for round in 0...Self.rounds {
                let input = round == 0 ? original : Mutator.mutate(original, other: seeds[(i + 1) % seeds.count], random: &random)
                inputs += 1
                let clock = ContinuousClock()
                let start = clock.now
                if Self.feed(kind, input) { accepted += 1 }
                let elapsed = clock.now - start
                if elapsed > Self.budget, slow.count < 3 {
                    let path = Self.save(input, name: "\(kind.rawValue)-\(i)-\(round)")
                    slow.append("\(kind.rawValue) input \(i) round \(round) took \(elapsed) (saved to \(path))")
                }
            }
        }
        print("[mutation] \(kind.rawValue): \(inputs) inputs, \(accepted) accepted, \(inputs - accepted) rejected with errors")
        #expect(slow.isEmpty, Comment(rawValue: slow.joined(separator: "\n")))
        // The unmutated seeds are valid, so some inputs must be accepted; mutants must be mostly rejected.
        #expect(accepted >= seeds.count / 2, "only \(accepted) of \(inputs) inputs accepted: the readers reject valid files")
        #expect(accepted < inputs, "every mutant was accepted: the mutations or the readers are not doing anything")
    }

    @Test("deeply nested input is an error, not a stack overflow", arguments: [1_000, 30_000])
    func deepNesting(depth: Int) {
        let open = { (s: String) in String(repeating: s, count: depth) }
        let policies = [
            "permit(principal, action, resource) when { \(open("("))true\(open(")")) };",
            "permit(principal, action, resource) when { \(open("!"))true };",
            "permit(principal, action, resource) when { \(open("-"))1 == 1 };",
            "permit(principal, action, resource) when { \(open("["))\(open("]")) };",
            "permit(principal, action, resource) when { \(open("{a:"))1\(open("}")) };",
            "permit(principal, action, resource) when { \(open("if true then "))true\(open(" else false")) };",
            "permit(principal, action, resource) when { context\(open(".a")) };",
            "permit(principal, action, resource) when { 1\(open(" + 1")) == 2 };",
            "permit(principal, action, resource) when { true\(open(" && true")) };",
        ]
        let clock = ContinuousClock()
        for (i, text) in policies.enumerated() {
            let start = clock.now
            _ = try? CedarParser.parsePolicies(text)
            _ = try? PolicySet(parsing: text)
            let elapsed = clock.now - start
            print("[nesting] depth \(depth) policy form \(i): \(elapsed)")
            #expect(elapsed < Self.budget * 5, "policy form \(i) at depth \(depth) took \(elapsed)")
        }
        let json = [open("["), open("[") + open("]"), open("{\"a\":") + "1" + open("}"), open("{\"__entity\":")]
        for text in json {
            if depth > 10_000 {  // well past any depth limit
                // Deeper than any sane limit: the reader must refuse it with an error.
                #expect(throws: CedarError.self) { _ = try JSONValue(parsing: text) }
            }
            _ = try? JSONValue(parsing: Array(text.utf8))
        }
        let schema = "entity A = \(open("{a: "))Long\(open("}"));"
        _ = try? Schema(parsingCedar: schema)
        _ = try? Schema(parsingCedar: "entity A { a: \(open("Set<"))Long\(open(">")) };")
    }

    /// Feeds one input to every reader of its kind; true when the first reader accepted it.
    static func feed(_ kind: Kind, _ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        switch kind {
        case .policies:
            let ok = (try? CedarParser.parsePolicies(text)) != nil
            _ = try? PolicySet(parsing: text)
            return ok
        case .cedarSchema:
            return (try? Schema(parsingCedar: text)) != nil
        case .json:
            _ = try? Schema(parsingJSON: text)
            guard let value = try? JSONValue(parsing: bytes) else { return false }
            _ = try? JSONValue(parsing: text)
            _ = try? Entities(json: value)
            _ = try? Request(json: value)
            if let schema = Self.schema {
                _ = try? Entities(json: value, schema: schema)
                _ = try? Request(json: value, schema: schema)
            }
            _ = try? PolicySet(json: value)
            _ = try? Schema(json: value)
            return true
        }
    }

    static func save(_ bytes: [UInt8], name: String) -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cedar-slow-\(name)")
        try? Data(bytes).write(to: url)
        return url.path
    }
}
