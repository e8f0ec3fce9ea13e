import Foundation
import Testing

@testable import CedarPolicy

/// Compares this parser with the Rust implementation (through cedarpy): on hand-picked tricky
/// inputs and on random mutations of corpus policies, both must accept or reject the same text,
/// and accepted text must give the same AST (compared as Cedar's policy JSON).
///
/// Needs a Python with cedarpy 4.12.2 (`LATCH_PYTHON` or `<repo>/.venv`), like the authorization
/// differential tests.
@Suite("Parser differential against cedarpy")
struct ParserOracleTests {
    /// Expression bodies for `permit(principal, action, resource) when { … };`.
    static let expressions: [String] = [
        #"-5 == --5 && !-5"#,
        #"-(5)"#,
        #"1 == 2 == 3"#,
        #"context has a.b.c"#,
        #"context has if"#,
        #"context.if"#,
        #"{if: 1}"#,
        #"{then: 2}"#,
        #"{principal: 4, action: 1, permit: 2, when: 3}"#,
        #"-9223372036854775808"#,
        #"9223372036854775808"#,
        #"--9223372036854775808"#,
        #"-9223372036854775809"#,
        #"18446744073709551616"#,
        #"-18446744073709551616"#,
        #"007"#,
        #"!!!!true"#,
        #"!!!!!true"#,
        #"----5"#,
        #"-----5"#,
        #"- - 5"#,
        #"-5.foo"#,
        #"-"a".foo"#,
        #"context.a.isEmpty()"#,
        #"[1,2,].contains(1)"#,
        #"{a:1,}.a == 1"#,
        #"context.isEmpty(1)"#,
        #"context.foo()"#,
        #"decimal("1.0").lessThan(decimal("2.0"),)"#,
        #"ip("1.2.3.4").isIpv4()"#,
        #"foo("1")"#,
        #"context.decimal("1")"#,
        #"principal.getTag("a") && principal.hasTag("a")"#,
        #"{a:1, a:2}"#,
        #""a\*""#,
        #""a" like "a\*b*""#,
        #""\x41\u{1F600}\0\'""#,
        #""\x80""#,
        #""\x7f""#,
        #""\x7F""#,
        #""\q""#,
        #"context like "a""#,
        #"principal is User in Group::"a""#,
        #"principal is User in Group::"a" == true"#,
        #"principal is User == true"#,
        #"principal is User::"a""#,
        #"principal in [User::"a"]"#,
        #"true && if true then 1 else 2"#,
        #"if true then 1 else 2 || false"#,
        #"if true then if false then 1 else 2 else 3"#,
        #"context.__cedar"#,
        #"{__cedar: 1}"#,
        #"context has __cedar"#,
        #"context["__cedar"]"#,
        #"principal is __cedar"#,
        #"principal is __cedarx::A"#,
        #"principal is A::__cedar"#,
        #""\u{D800}""#,
        #""\u{10FFFF}""#,
        #""\u{110000}""#,
        #""\u{}""#,
        #""\u{0000041}""#,
        #""\u{000041}""#,
        #""\u0041""#,
        #""\x4""#,
        #""a" like "\*\n\x41\u{42}**""#,
        #""a" like "\q""#,
        #"if true then 1 else 2 + 3"#,
        #"1 + 2 has a"#,
        #"1 has a has b"#,
        #"principal has a.b == true"#,
        #"principal has "a".b"#,
        #"principal has a["b"]"#,
        #"principal has (a)"#,
        #"principal like "a" like "b""#,
        #"principal.isEmpty"#,
        #"(principal).isEmpty()"#,
        #"decimal"#,
        #"User::decimal("a")"#,
        #"ip("1.1.1.1").isInRange()"#,
        #"[][0]"#,
        #"context[1]"#,
        #"context[context]"#,
        #"context.a()"#,
        #"principal.contains(1,)"#,
        #"{"a": 1, a: 2}"#,
        #"{}"#,
        #"[]"#,
        #"{,}"#,
        #"[,]"#,
        #"principal.contains()"#,
        #"ip()"#,
        #"ip(,)"#,
        #"decimal("1", "2")"#,
        #"isIpv4(ip("1.1.1.1"))"#,
        #"principal == principal::"a""#,
        #"principal == if::"a""#,
        #"principal == Action::"a"::"b""#,
        #"principal == User::"a\u{0}""#,
        #"principal == User :: "a""#,
        #"principal is User :: Foo"#,
        #"?principal"#,
        #"?resource == 1"#,
        #"?foo"#,
        #"? principal"#,
        #"1 + -2"#,
        #"1 - -2"#,
        #"1 --2"#,
        #"1 -- 2"#,
        #"1+-2"#,
        #"!true || !false && !!true"#,
        #"principal in principal in principal"#,
        #"principal in [principal,]"#,
        #"principal.a.b.c.d.e"#,
        #"principal["a"]["b"].c"#,
        #"principal["a"].contains(1)"#,
        #""a".isEmpty()"#,
        #"context has true"#,
        #"context has principal"#,
        #"context has "if""#,
        #"context.then"#,
        #"context.permit"#,
        #"context.principal"#,
        #"context.when"#,
        #"{"": 1}[""]"#,
        #"context[""]"#,
        #"context has """#,
        #"principal is Action"#,
        #"principal is principal in resource"#,
        #"principal is User in User::"a" in User::"b""#,
        #"principal is User is User"#,
        #"1 < 2 && 3 >= 4 || 5 != 6"#,
        #"1 < (2 < 3)"#,
        #"(1 < 2) < 3"#,
        #"1 * 2 * -3"#,
        #"2 * (3 + 4)"#,
        #"-(2 * 3)"#,
        #"!(principal == resource)"#,
        #"!principal.a"#,
        #"-principal.a"#,
        #"-(-(-1))"#,
        #"principal has a.b.c.d.e.f"#,
        #"if principal then principal else principal"#,
        #"if (1) then 2 else 3"#,
        #"datetime("2024-01-01").offset(duration("1h"))"#,
        #"datetime("2024-01-01").toDate().toTime()"#,
        #"duration("1h").toMilliseconds()"#,
        #"context.toDays()"#,
        #"context.toDays(1,2,3)"#,
        #"principal.isInRange(ip("1.1.1.1"))"#,
        #"principal.lessThan(1)"#,
        #"a::b::"x""#,
        #"A::B::C::"x" in A::"y""#,
        #"Action::"a""#,
        #""a" == "a""#,
        #"true == false"#,
        #"false"#,
        #"TRUE"#,
        #"True"#,
        #"principal == User::"\"""#,
        #"principal == User::"\\""#,
        #"principal == User::"""#,
        #"principal == User::'a'"#,
        #"'a'"#,
        #"1.0"#,
        #"1e5"#,
        #"0x10"#,
        #"1_000"#,
        #"principal.a_b_1"#,
        #"principal._a"#,
        #"principal.1a"#,
        #"principal.a-b"#,
        #"principal . a"#,
        #"principal .contains ( 1 )"#,
        #"principal. contains(1)"#,
        #"{a: {b: {c: [1, [2, {d: 3}]]}}}"#,
        #"[1, 2, 3,,]"#,
        #"[1 2]"#,
        #"{a 1}"#,
        #"{a: 1 b: 2}"#,
        #"(1, 2)"#,
        #"()"#,
        #"!"#,
        #"-"#,
        #"principal."#,
        #"principal["#,
        #"principal[]"#,
        #""abc"#,
        #""abc\""#,
        #"context has a."#,
        #"context has .a"#,
        #"context has a..b"#,
        #"context like"#,
        #"context like 1"#,
        #"context is"#,
        #"context is 1"#,
        #"context in"#,
        #"context =="#,
        #"if then else"#,
        #"if true then 1"#,
        #"if true else 1"#,
        #"1 + "#,
        #"* 2"#,
        #"&& true"#,
        #"true &&"#,
        #"true & true"#,
        #"true | true"#,
        #"true = true"#,
        #"true =! true"#,
        #"1 <> 2"#,
        #"1 =< 2"#,
        #"1 => 2"#,
        #"1 ≠ 2"#,
        #"principal.é"#,
        #""é" like "é*""#,
        #""日本" == "日本""#,
        #"principal == 用户::"a""#,
    ]

    /// Whole policies.
    static let policies: [String] = [
        #"permit(principal, action, resource);"#,
        #"permit(principal,action,resource,);"#,
        #"permit(principal, action, resource,,);"#,
        #"permit(principal, action);"#,
        #"permit(principal);"#,
        #"permit();"#,
        #"permit(action, principal, resource);"#,
        #"permit(principal, resource, action);"#,
        #"permit(principal, action, resource)"#,
        #"forbid(principal, action, resource);"#,
        #"deny(principal, action, resource);"#,
        #"permit(principal in [User::"a"], action, resource);"#,
        #"permit(principal, action in [Action::"a",], resource);"#,
        #"permit(principal, action in [], resource);"#,
        #"permit(principal, action in [,], resource);"#,
        #"permit(principal, action is Action, resource);"#,
        #"permit(principal is User in ?principal, action, resource);"#,
        #"permit(principal is User in ?resource, action, resource);"#,
        #"permit(principal == ?resource, action, resource);"#,
        #"permit(principal, action, resource == ?resource);"#,
        #"permit(principal, action, resource in ?resource);"#,
        #"permit(principal, action, resource == ?principal);"#,
        #"permit(principal, action == ?action, resource);"#,
        #"permit(principal, action == ?principal, resource);"#,
        #"permit(principal, action, resource) when {};"#,
        #"permit(principal, action, resource) unless {};"#,
        #"permit(principal, action, resource) when { true } unless { false } when { 1 };"#,
        #"permit(principal, action, resource) foo { true };"#,
        #"permit(principal, action, resource) when ( true );"#,
        #"permit(principal, action, resource) when { true }; ;"#,
        #"permit(principal, action == NS::Action::"a", resource == NS::Action::"b");"#,
        #"permit(principal, action == Action, resource);"#,
        #"permit(principal, action == Action::"a"::"b", resource);"#,
        #"permit(principal, action == User::"a", resource);"#,
        #"permit(principal, action in User::"a", resource);"#,
        #"permit(principal, action in [Action::"a", User::"b"], resource);"#,
        #"permit(principal, action in NS::Action::"a", resource);"#,
        #"permit(principal, action in Action::"a", resource) when { context has a.b };"#,
        #"permit(principal,action,resource)when{true};permit(principal,action,resource);"#,
        #"permit(principal is if, action, resource);"#,
        #"permit(principal is principal, action, resource);"#,
        #"permit(principal is User::principal, action, resource);"#,
        #"permit(principal is User::"a", action, resource);"#,
        #"permit(principal is User in [User::"a"], action, resource);"#,
        #"permit(principal is User in User::"a", action, resource is Photo in Album::"b");"#,
        #"permit(principal == (User::"a"), action, resource);"#,
        #"permit(principal == ((User::"a")), action, resource);"#,
        #"permit(principal == (User::"a", action, resource);"#,
        #"permit(principal == User::"a", action == (Action::"a"), resource);"#,
        #"permit(principal, action in ([Action::"a"]), resource);"#,
        #"permit(principal, action in [(Action::"a")], resource);"#,
        #"permit(principal: User, action, resource);"#,
        #"permit(principal == User::"a" in Group::"b", action, resource);"#,
        #"permit(principal is User is User, action, resource);"#,
        #"permit(principal is User in User::"a" in User::"b", action, resource);"#,
        #"permit(principal == User, action, resource);"#,
        #"permit(principal == principal, action, resource);"#,
        #"permit(principal in principal, action, resource);"#,
        #"permit(principal == ?principal, action, resource) when { principal == ?principal };"#,
        #"permit(principal == ?principal, action == Action::"a", resource in ?resource);"#,
        #"permit(principal != User::"a", action, resource);"#,
        #"permit(principal < User::"a", action, resource);"#,
        #"permit(principal has a, action, resource);"#,
        #"permit(principal like "a", action, resource);"#,
        #"permit(principal in User::"a", action, resource == User::"a");"#,
        #"@a("x") @a("y") permit(principal, action, resource);"#,
        #"@if("x") @permit @true("y") permit(principal, action, resource);"#,
        #"@a() permit(principal, action, resource);"#,
        #"@a(1) permit(principal, action, resource);"#,
        #"@a("x" "y") permit(principal, action, resource);"#,
        #"@__cedar("x") permit(principal, action, resource);"#,
        #"@a::b("x") permit(principal, action, resource);"#,
        #"@a("\u{41}") permit(principal, action, resource);"#,
        #"@a("\q") permit(principal, action, resource);"#,
        #"@ a ("x") permit(principal, action, resource);"#,
        #"@a permit(principal, action, resource);"#,
        #"@a"#,
        #"@"a"("x") permit(principal, action, resource);"#,
        #"@1("x") permit(principal, action, resource);"#,
        #"@a("x") permit(principal, action, resource); @a("y") permit(principal, action, resource);"#,
        #"permit ( principal , action , resource ) when { true }// c"#,
        #";"#,
        #"permit(principal, action, resource) /* c */;"#,
        #"permit(principal, action, resource); // only comment"#,
        #"// nothing"#,
        #""#,
        #"PERMIT(principal, action, resource);"#,
        #"permit(Principal, action, resource);"#,
        #"permit(principal, action, resource) when { true } when { true } ;"#,
        #"permit(principal, action, resource) when { principal == User::"a" } unless {true}"#,
        #";  // trailing"#,
        #"permit(principal == User::"a", action == Action::"b", resource == R::"c") when { context.x };"#,
        #"permit(principal,action,resource);permit(principal==?principal,action,resource);"#,
        #"permit(principal, action, resource) when { true }"#,
        #"permit(principal, action, resource) when { true"#,
        #"permit(principal, action, resource) when true;"#,
        #"permit(principal, action, resource);;"#,
        #";"#,
        #"permit(principal, action, resource) when { "\u{1F600}" };"#,
        #"permit(principal == User::"\u{1F600}", action, resource);"#,
        #"permit(principal == User::"a", action, resource == User::"a" );"#,
        #"permit(principal in ?principal, action, resource in ?resource);"#,
        #"permit(principal is User, action, resource is User);"#,
        #"permit(principal is User in ?principal, action, resource is User in ?resource);"#,
        #"permit(principal is ?principal, action, resource);"#,
        #"permit(principal == ?principal, action in [?resource], resource);"#,
        #"permit(principal, action == Action::"a", action == Action::"b", resource);"#,
        #"permit(principal, principal, action, resource);"#,
        #"permit(principal, action, resource, context);"#,
        #"permit(principal, action, resource) when { context } unless { context } when { context } unless { context };"#,
    ]

    /// Token-level mutations of corpus policies: deletions, duplications, swaps, truncations and
    /// replacements, from a fixed seed.
    static func mutants(count: Int) throws -> [String] {
        let corpus = try #require(PolicyCorpus.corpusDirectory)
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".cedar") }.sorted()
        var rng = SplitMix64(seed: 0x5EED)
        let replacements = [
            "(", ")", "[", "]", "{", "}", ",", ";", ".", "::", "in", "is", "has", "like", "if", "-", "!", "?principal",
            "\"x\"", "1", "principal", "when", "@a", "==", "&&",
        ]
        var out: [String] = []
        while out.count < count {
            let text = try String(contentsOf: corpus.appendingPathComponent(names[Int(rng.next() % UInt64(names.count))]), encoding: .utf8)
            var lexer = Lexer(bytes: Array(text.utf8))
            guard let tokens = try? lexer.tokenize(), tokens.count > 3 else { continue }
            var pieces = tokens.dropLast().map { String(decoding: lexer.bytes[$0.start..<$0.end], as: UTF8.self) }
            let i = Int(rng.next() % UInt64(pieces.count))
            switch rng.next() % 5 {
            case 0: pieces.remove(at: i)
            case 1: pieces.insert(pieces[Int(rng.next() % UInt64(pieces.count))], at: i)
            case 2: pieces.swapAt(i, Int(rng.next() % UInt64(pieces.count)))
            case 3: pieces = Array(pieces.prefix(i))
            default: pieces[i] = replacements[Int(rng.next() % UInt64(replacements.count))]
            }
            out.append(pieces.joined(separator: " "))
        }
        return out
    }

    /// Compares our parse (as EST) with cedarpy's for each text; returns the disagreements.
    static let compareScript = #"""
        import json, sys, cedarpy
        def pattern(p):
            out = []
            for el in p:
                if el == "Wildcard": out.append(None)
                elif out and isinstance(out[-1], str): out[-1] += el["Literal"]
                else: out.append(el["Literal"])
            return out
        def norm(x):
            if isinstance(x, dict):
                r = {}
                for k, v in x.items():
                    if k == "like": v = dict(v); v["pattern"] = pattern(v["pattern"])
                    if k == "annotations": v = {a: (b if b is not None else "") for a, b in v.items()}
                    r[k] = norm(v)
                return r
            if isinstance(x, list): return [norm(i) for i in x]
            return x
        bad = []
        for case in json.load(sys.stdin):
            text, ours = case["text"], case["ours"]
            try:
                est = json.loads(cedarpy.policies_to_json_str(text))
                theirs = {k: ["T", norm(v)] for k, v in est["templates"].items()}
                theirs.update({k: ["S", norm(v)] for k, v in est["staticPolicies"].items()})
            except Exception as e:
                theirs = None; why = str(e)
            if ours is None and theirs is not None: bad.append({"text": text, "problem": "we reject, Cedar accepts"})
            elif ours is not None and theirs is None: bad.append({"text": text, "problem": "we accept, Cedar rejects: " + why[:200]})
            elif ours is not None and norm(ours) != theirs: bad.append({"text": text, "problem": "different AST"})
        json.dump(bad, sys.stdout)
        """#

    @Test("accepts exactly what Cedar accepts, with the same AST")
    func agreesWithCedar() throws {
        var texts = Self.expressions.map { "permit(principal, action, resource) when { \($0) };" } + Self.policies
        texts += try Self.mutants(count: 1500)
        #expect(texts.count > 1800)
        let disagreements = try Self.disagreements(texts)
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(5))")
    }

    @Test("every corpus policy file gives the same AST as Cedar")
    func corpusAgreesWithCedar() throws {
        let files = PolicyCorpus.policyFiles()
        try #require(files.count > 7000)
        let texts = try files.map { try String(contentsOf: $0, encoding: .utf8) }
        let disagreements = try Self.disagreements(texts)
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(3))")
    }

    /// Runs the comparison script on `texts` and returns its disagreements.
    static func disagreements(_ texts: [String]) throws -> [[String: String]] {
        let python = try CedarOracle.python()
        var cases: [[String: Any]] = []
        for text in texts {
            var ours: Any = NSNull()
            if let policies = try? CedarParser.parsePolicies(text) {
                var byID: [String: Any] = [:]
                for p in policies { byID[p.id] = [p.isTemplate ? "T" : "S", ESTDump.policy(p)] }
                ours = byID
            }
            cases.append(["text": text, "ours": ours])
        }
        let input = try JSONSerialization.data(withJSONObject: cases)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.compareScript]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // Write from another thread so a full output pipe cannot deadlock us.
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the comparison script failed")
        return try #require(try JSONSerialization.jsonObject(with: output) as? [[String: String]])
    }
}
