import Foundation
import Testing

@testable import CedarPolicy

@Suite("Parser: errors and rendering")
struct ParserErrorTests {
    private func error(_ text: String) -> CedarError? {
        do {
            _ = try CedarParser.parsePolicies(text)
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "messages say what was expected and what was found, at the offending token",
        arguments: [
            ("permit(principal, action, resource) when { true }", "expected `;`", 1, 50),
            ("permit(principal, action, resource) when { 1 == 2 == 3 };", "multiple relational operators", 1, 51),
            ("permit(principal, action, resource) when { context.foo() };", "`foo` is not a valid method", 1, 52),
            ("permit(principal, action, resource) when { \"\\q\" };", "the input `\\q` is not a valid escape", 1, 45),
            ("permit(principal, action, resource) when { bogus };", "invalid variable: `bogus`", 1, 44),
            ("permit(principal, action, resource)\nwhen { 1 +  };", "expected an expression, found `}`", 2, 13),
            ("permit(principal, action, resource) wen { true };", "invalid policy condition `wen`", 1, 37),
            ("permit(principal, action == User::\"a\", resource);", "expected an entity uid with type `Action`", 1, 29),
            ("permit(principal, action, resource) when { {a: 1, a: 2} };", "duplicate key `a`", 1, 51),
            ("@a @a permit(principal, action, resource);", "duplicate annotation: @a", 1, 5),
            ("permit(principal, action, resource) when { 9223372036854775808 };", "too large", 1, 44),
            ("permit(principal, action, resource) when { \"abc };", "unterminated string literal", 1, 44),
            ("permit(principal, action, resource) when { ?principal };", "found template slot ?principal", 1, 44),
            ("permit(principal == ?resource, action, resource);", "found ?resource instead of ?principal", 1, 21),
            ("permit(principal, action) ;", "missing the `resource` variable", 1, 25),
            ("permit(principal, action, resource) when { a = b };", "did you mean `==`", 1, 46),
            ("permit(principal, action, resource) when { true } ;\nforbid", "expected `(` after `forbid`", 2, 7),
            ("permit(principal, action, resource) when { true }\nforbid(principal, action, resource);", "expected `;` to end the previous policy", 2, 1),
            ("permit(principal, action, resource) when { context.a == 'x' };", "string literals use double quotes", 1, 57),
            ("permit(principal, action, resource) when { principal is User::\"a\" };", "must be an entity type name", 1, 57),
        ])
    func messages(_ text: String, _ fragment: String, _ line: Int, _ column: Int) throws {
        let error = try #require(self.error(text))
        #expect(error.code == .syntax)
        #expect(error.message.contains(fragment), "message: \(error.message)")
        #expect(error.location?.line == line, "location: \(String(describing: error.location))")
        #expect(error.location?.column == column, "location: \(String(describing: error.location))")
    }

    @Test("rendering shows file:line:col, the source line and carets under the token")
    func rendering() throws {
        let text = "permit(principal, action, resource)\nwhen { context.foo() == true };\n"
        let error = try #require(self.error(text))
        let rendered = error.rendered(source: text, file: "policies.cedar")
        #expect(
            rendered == """
                policies.cedar:2:16: `foo` is not a valid method
                when { context.foo() == true };
                               ^^^
                """)
    }

    @Test("rendering uses one caret for one-character tokens, keeps tabs, and handles missing locations")
    func renderingEdges() throws {
        let text = "permit(principal, action, resource)\n\twhen { 1 + };"
        let error = try #require(self.error(text))
        #expect(error.rendered(source: text, file: "f") == "f:2:13: expected an expression, found `}`\n\twhen { 1 + };\n\t           ^")
        let eof = try #require(self.error("permit(principal, action, resource)"))
        #expect(eof.rendered(source: "permit(principal, action, resource)", file: "f").hasSuffix("resource)\n                                   ^"))
        #expect(CedarError(.syntax, "boom").rendered(source: "x", file: "f") == "f: boom")
        let far = CedarError(.syntax, "boom", at: SourceLocation(offset: 99, line: 9, column: 1))
        #expect(far.rendered(source: "x", file: "f") == "f:9:1: boom")
    }

    @Test("text over the size limit is rejected before lexing")
    func sizeLimit() {
        let text = String(repeating: " ", count: CedarParser.maxTextBytes + 1)
        #expect(throws: CedarError(.limitExceeded, "")) { try CedarParser.parsePolicies(text) }
        #expect(throws: Never.self) { try CedarParser.parsePolicies(String(repeating: " ", count: 1 << 20)) }
    }

    static func when(_ body: String) -> String { "permit(principal, action, resource) when { \(body) };" }

    @Test(
        "nesting and tree height beyond the limit are limitExceeded errors",
        arguments: [
            String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000),
            String(repeating: "(", count: 100_000),
            String(repeating: "[", count: 100_000),
            String(repeating: "{a:", count: 50_000),
            String(repeating: "ip(", count: 50_000),
            String(repeating: "[].contains(", count: 50_000),
            String(repeating: "if true then ", count: 50_000),
            String(repeating: "!(", count: 50_000),
            Array(repeating: "true", count: 200).joined(separator: " || "),
            Array(repeating: "1", count: 200).joined(separator: " + "),
            "context has " + Array(repeating: "a", count: 200).joined(separator: "."),
            "context" + String(repeating: ".a", count: 200),
        ])
    func depthLimit(_ body: String) {
        #expect(throws: CedarError(.limitExceeded, "")) { try CedarParser.parsePolicies(Self.when(body)) }
    }

    @Test("expressions at the depth limit parse, format, compare, hash and authorize on a 512 KiB thread")
    func depthAtLimitOnSmallStack() throws {
        let n = CedarParser.maxExpressionDepth
        let bodies = [
            String(repeating: "(", count: n - 1) + "1" + String(repeating: ")", count: n - 1),
            String(repeating: "[", count: n - 1) + "1" + String(repeating: "]", count: n - 1),
            String(repeating: "{a: ", count: n - 1) + "1" + String(repeating: "}", count: n - 1),
            String(repeating: "[1].contains(", count: n / 2 - 1) + "1" + String(repeating: ")", count: n / 2 - 1),
            String(repeating: "ip(", count: n - 1) + "\"1\"" + String(repeating: ")", count: n - 1),
            String(repeating: "if true then ", count: n - 1) + "1" + String(repeating: " else 2", count: n - 1),
            String(repeating: "!(", count: n / 2) + "true" + String(repeating: ")", count: n / 2),
            Array(repeating: "false", count: n).joined(separator: " || "),
            Array(repeating: "true", count: n).joined(separator: " && "),
            Array(repeating: "1", count: n).joined(separator: " + "),
            "context has " + Array(repeating: "a", count: n / 2).joined(separator: "."),
        ]
        let failures = LockedBox<[String]>([])
        let uid = EntityUID(type: EntityType(unchecked: "A"), id: "a")
        try runOnSmallStack {
            for body in bodies {
                do {
                    let expr = try CedarParser.parseExpression(body)
                    let formatted = CedarFormatter.format(expr)
                    let again = try CedarParser.parseExpression(formatted)
                    if again != expr { failures.withLock { $0.append("reparse differs: \(body.prefix(30))") } }
                    if again.hashValue != expr.hashValue { failures.withLock { $0.append("hash differs: \(body.prefix(30))") } }
                    let policies = try PolicySet(parsing: "permit(principal, action, resource) when { \(body) };")
                    let response = Authorizer(policies).isAuthorized(Request(principal: uid, action: uid, resource: uid), entities: Entities())
                    _ = response.decision
                } catch {
                    failures.withLock { $0.append("\(body.prefix(30)): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
    }

    @Test("random bytes and truncated or mutated policies error instead of crashing or hanging")
    func fuzz() throws {
        var rng = SplitMix64(seed: 0xCEDA)
        let sample = """
            // header
            @id("x") permit(principal == User::"a", action in [Action::"r", Action::"w"], resource is Photo in Album::"b") // s
            when { context.a.b has c.d && [1, -2, "s\\n"].containsAll([1]) || ip("1.2.3.4").isInRange(ip("1.0.0.0/8")) }
            // before unless
            unless { if principal.x then {a: 1, "b c": -9223372036854775808}["b c"] < 2 * 3 else principal like "*\\*x" };
            forbid(principal, action, resource) // t
            when { true }; // end
            """
        let bytes = Array(sample.utf8)
        var accepted = 0
        for i in 0..<3000 {
            let text: String
            switch i % 4 {
            case 0:
                text = String(decoding: (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self)
            case 1:
                text = String(decoding: bytes.prefix(Int(rng.next() % UInt64(bytes.count))), as: UTF8.self)
            case 2:
                var mutated = bytes
                let pieces = Array("(){}[],;.:\"\\!-@?=<>&| ax1".utf8)
                for _ in 0..<3 { mutated[Int(rng.next() % UInt64(mutated.count))] = pieces[Int(rng.next() % UInt64(pieces.count))] }
                text = String(decoding: mutated, as: UTF8.self)
            default:
                var mutated = bytes
                mutated.remove(at: Int(rng.next() % UInt64(mutated.count)))
                text = String(decoding: mutated, as: UTF8.self)
            }
            do {
                let policies = try CedarParser.parsePolicies(text)
                accepted += 1
                // Whatever parses must format to text that parses back to the same policies, stably.
                let formatted = try CedarFormatter.format(text)
                #expect(try CedarParser.parsePolicies(formatted) == policies)
                #expect(try CedarFormatter.format(formatted) == formatted)
            } catch {
                #expect(error.code == .syntax || error.code == .limitExceeded)
                #expect(error.location != nil)
                _ = error.rendered(source: text, file: "fuzz")
            }
        }
        #expect(accepted > 100)
    }
}

/// A lock-protected value for collecting results from another thread.
final class LockedBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body(&self.value)
    }
}

/// Runs `body` on a thread with a 512 KiB stack (the smallest Swift Testing may use) and waits.
func runOnSmallStack(_ body: @escaping @Sendable () -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        done.signal()
    }
    thread.stackSize = 512 * 1024
    thread.start()
    done.wait()
}
