import LatchCore
import LatchSecrets
import Testing

@Suite("SecretName")
struct SecretNameTests {
    @Test(
        "names of [A-Za-z0-9._-], 1 to 128 characters, parse",
        arguments: ["a", "crm_token", "CRM-Token.v2", "0", "...", "-", String(repeating: "x", count: 128)])
    func valid(_ text: String) throws {
        #expect(try SecretName(parsing: text).text == text)
    }

    @Test(
        "anything else is invalid input, and the error does not repeat the text",
        arguments: ["", String(repeating: "x", count: 129), "a b", "a/b", "a:b", "${x}", "tökén", "a\u{0}", "sk-live-ABC+/="])
    func invalid(_ text: String) {
        do {
            _ = try SecretName(parsing: text)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(text.isEmpty || !error.message.contains(text))
        }
    }

    @Test("names order bytewise (as both stores sort them)")
    func ordering() throws {
        let names = try ["b", "a", "B", "_", "-", ".", "9", "a.b", "a-b"].map { try SecretName(parsing: $0) }
        #expect(names.sorted().map(\.text) == ["-", ".", "9", "B", "_", "a", "a-b", "a.b", "b"])
    }
}
