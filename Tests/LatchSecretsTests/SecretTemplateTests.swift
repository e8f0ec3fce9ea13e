import LatchCore
import LatchSecrets
import Synchronization
import Testing

@Suite("SecretTemplate")
struct SecretTemplateTests {
    static func values(_ pairs: [String: String]) throws -> [SecretName: Redacted<[UInt8]>] {
        var values: [SecretName: Redacted<[UInt8]>] = [:]
        for (name, value) in pairs { values[try SecretName(parsing: name)] = Redacted(Array(value.utf8)) }
        return values
    }

    static let values: [String: String] = ["crm_token": "tok-123", "user": "alice", "pass": "p@ss$word", "x": "X"]

    @Test(
        "renders text, references and $$ escapes",
        arguments: [
            ("Bearer ${secret:crm_token}", "Bearer tok-123"),
            ("${secret:crm_token}", "tok-123"),
            ("${secret:user}:${secret:pass}", "alice:p@ss$word"),
            ("${secret:x}${secret:x}-${secret:x}", "XX-X"),
            ("cost $$5", "cost $5"),
            ("$$${secret:x}", "$X"),
            ("$${secret:x}", "${secret:x}"),
            ("$$$$", "$$"),
            ("plain text, no references", "plain text, no references"),
            ("", ""),
            ("{}} {secret:x} héllo ✓ ${secret:x}", "{}} {secret:x} héllo ✓ X"),
        ])
    func render(_ source: String, _ expected: String) throws {
        let template = try SecretTemplate(parsing: source)
        #expect(try template.render(Self.values(Self.values)).unredacted == expected)
        #expect(template.source == source)
        #expect(template.description == source)
    }

    @Test("lists the secrets it refers to, each once, in order of first reference")
    func secretNames() throws {
        let template = try SecretTemplate(parsing: "${secret:b} $${secret:not_a_ref} ${secret:a}/${secret:b}/${secret:c.d}")
        #expect(template.secretNames.map(\.text) == ["b", "a", "c.d"])
        #expect(try SecretTemplate(parsing: "no refs $$").secretNames.isEmpty)
    }

    @Test(
        "unknown or broken syntax is invalid input when parsed",
        arguments: [
            "$", "Bearer $", "$x", "a $ b", "${env:HOME}", "${SECRET:x}", "${ secret:x}", "${secret:x", "Bearer ${secret:",
            "${secret:}", "${secret:a b}", "${secret:x/y}", "${secret:x}}${", "${secret:\(String(repeating: "n", count: 129))}",
            "${}", "{$}",
        ])
    func badSyntax(_ source: String) {
        #expect(throws: LatchError(.invalidInput, "")) { try SecretTemplate(parsing: source) }
    }

    @Test("size and reference limits are enforced")
    func limits() throws {
        let longest = String(repeating: "a", count: SecretTemplate.maximumSourceBytes)
        #expect(try SecretTemplate(parsing: longest).render([:]).unredacted == longest)
        #expect(throws: LatchError(.invalidInput, "")) { try SecretTemplate(parsing: longest + "a") }
        let most = String(repeating: "${secret:x}", count: SecretTemplate.maximumReferences)
        #expect(try SecretTemplate(parsing: most).secretNames.count == 1)
        #expect(throws: LatchError(.invalidInput, "")) { try SecretTemplate(parsing: most + "${secret:x}") }
    }

    @Test("a missing secret fails the render (fail closed), naming the secret but no value")
    func missingSecret() throws {
        let template = try SecretTemplate(parsing: "${secret:user}:${secret:gone}")
        let values = try Self.values(Self.values)
        do {
            _ = try template.render(values)
            Issue.record("rendered without the secret")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.contains("gone"))
            #expect(!error.message.contains("alice"))
        }
    }

    @Test("a value that is not UTF-8 text cannot be rendered")
    func binaryValue() throws {
        let template = try SecretTemplate(parsing: "Bearer ${secret:bin}")
        let values = [try SecretName(parsing: "bin"): Redacted<[UInt8]>([0xFF, 0xFE, 0x41])]
        #expect(throws: LatchError(.invalidInput, "")) { try template.render(values) }
    }

    @Test("the rendered value prints as <redacted>")
    func redacted() throws {
        let rendered = try SecretTemplate(parsing: "Bearer ${secret:crm_token}").render(Self.values(Self.values))
        #expect("\(rendered)" == "<redacted>")
        #expect(rendered.unredacted == "Bearer tok-123")
    }

    @Test("with a resolver, each referenced secret is looked up once; a missing one fails")
    func resolver() async throws {
        let resolver = CountingResolver(ResolvedSecrets(try Self.values(Self.values)))
        let template = try SecretTemplate(parsing: "${secret:user}:${secret:pass}@${secret:user}")
        #expect(try await template.render(using: resolver).unredacted == "alice:p@ss$word@alice")
        #expect(resolver.lookups == ["user", "pass"])
        await #expect(throws: LatchError(.notFound, "")) {
            try await SecretTemplate(parsing: "${secret:user} ${secret:nope}").render(using: resolver)
        }
    }
}

/// Records which names a render asked for, in order.
final class CountingResolver: SecretResolver {
    let inner: ResolvedSecrets
    let asked = Mutex<[String]>([])

    init(_ inner: ResolvedSecrets) { self.inner = inner }

    var lookups: [String] { self.asked.withLock { $0 } }

    func secretValue(named name: SecretName) async throws -> Redacted<[UInt8]>? {
        self.asked.withLock { $0.append(name.text) }
        return try await self.inner.secretValue(named: name)
    }
}
