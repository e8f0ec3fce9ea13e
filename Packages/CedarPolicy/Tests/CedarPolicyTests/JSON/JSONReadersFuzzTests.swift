import Testing

@testable import CedarPolicy

/// Random structural mutations of valid inputs for the Cedar JSON readers: they must never crash,
/// only accept or throw, and what they accept must write back to JSON that reads the same.
@Suite("Cedar JSON readers under random mutation")
struct JSONReadersFuzzTests {
    static let replacements: [JSONValue] = [
        .null, true, 0, -1, .int(Int64.max), 1.5, "", "x", "Wildcard", "?principal", "principal", "All", "==", "in",
        [], [:] as JSONValue, ["Value": 1], ["Var": "context"], ["type": "User", "id": "a"], ["__entity": ["type": "User", "id": "a"]],
        ["__extn": ["fn": "decimal", "arg": "1.0"]], ["__extn": ["fn": "ip", "args": ["::1"]]], ["Literal": "a"],
    ]

    /// `value` with one randomly chosen node replaced, removed, or duplicated.
    static func mutate(_ value: JSONValue, _ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let stop = rng.next() % 4 == 0 || depth > 12
        switch value {
        case .object(let o) where !o.isEmpty && !stop:
            var members = Array(o)
            let i = Int(rng.next() % UInt64(members.count))
            switch rng.next() % 5 {
            case 0: members.remove(at: i)
            case 1: members[i].0 = ["op", "left", "attr", "body", "kind", "entity", "slot", "uid", "attrs", "parents", "tags", "zz"][Int(rng.next() % 12)]
            default: members[i].1 = self.mutate(members[i].1, &rng, depth: depth + 1)
            }
            var out = JSONObject()
            for (k, v) in members { out.insert(k, v) }
            return .object(out)
        case .array(var a) where !a.isEmpty && !stop:
            let i = Int(rng.next() % UInt64(a.count))
            switch rng.next() % 4 {
            case 0: a.remove(at: i)
            case 1: a.append(a[i])
            default: a[i] = self.mutate(a[i], &rng, depth: depth + 1)
            }
            return .array(a)
        default:
            return self.replacements[Int(rng.next() % UInt64(self.replacements.count))]
        }
    }

    @Test("policy JSON reader")
    func policies() throws {
        var rng = SplitMix64(seed: 42)
        let seeds = ESTFixtures.all.prefix(60).map(\.est)
        #expect(!seeds.isEmpty)
        var accepted = 0
        for i in 0..<6_000 {
            let input = Self.mutate(seeds[i % seeds.count], &rng)
            guard let set = try? PolicySet(json: input) else { continue }
            accepted += 1
            let again = try PolicySet(json: JSONValue(parsing: set.json.serialized()))
            #expect(again.json == set.json)
        }
        #expect(accepted > 100)
    }

    @Test("entities and request readers with schemas")
    func data() throws {
        var rng = SplitMix64(seed: 7)
        let entityCases = (DataFixtures.root["entities"]?.arrayValue ?? []).filter { $0["accepted"] == true }.prefix(80)
        let requestCases = (DataFixtures.root["requests"]?.arrayValue ?? []).filter { $0["accepted"] == true }.prefix(80)
        #expect(!entityCases.isEmpty && !requestCases.isEmpty)
        var accepted = 0
        for i in 0..<4_000 {
            let e = entityCases[entityCases.startIndex + i % entityCases.count]
            let schema = try DataFixtures.schema(e)
            if let entities = try? Entities(json: Self.mutate(e["entities"] ?? .null, &rng), schema: schema) {
                accepted += 1
                #expect(try Entities(json: JSONValue(parsing: entities.json.serialized())).entities == entities.entities)
            }
            let r = requestCases[requestCases.startIndex + i % requestCases.count]
            if let request = try? Request(json: Self.mutate(r["request"] ?? .null, &rng), schema: try DataFixtures.schema(r)) {
                accepted += 1
                #expect(try Request(json: JSONValue(parsing: request.json.serialized())) == request)
            }
        }
        #expect(accepted > 100)
    }

    @Test("deep expressions and values hit limits instead of the stack")
    func depth() {
        var e: JSONValue = ["Value": 1]
        for _ in 0..<2_000 { e = ["!": ["arg": e]] }
        #expect(throws: CedarError(.limitExceeded, "")) { try Expr(json: e) }
        var v: JSONValue = 1
        for _ in 0..<2_000 { v = ["a": v] }
        #expect(throws: CedarError(.limitExceeded, "")) { try Value(json: v) }
        var ok: JSONValue = ["Value": 1]
        for _ in 0..<(CedarParser.maxExpressionDepth - 1) { ok = ["neg": ["arg": ok]] }
        #expect((try? Expr(json: ok)) != nil)
    }
}
