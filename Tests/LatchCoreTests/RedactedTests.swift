import LatchCore
import Testing

@Suite("Redacted")
struct RedactedTests {
    let secret = Redacted("hunter2-token")

    @Test("printing, interpolation and debug output hide the value")
    func printingHides() {
        #expect(String(describing: self.secret) == "<redacted>")
        #expect("token=\(self.secret)" == "token=<redacted>")
        #expect(String(reflecting: self.secret) == "<redacted>")
        #expect(!"\([self.secret])".contains("hunter2"))
    }

    @Test("dump and reflection show no children")
    func reflectionHides() {
        var out = ""
        dump(self.secret, to: &out)
        #expect(!out.contains("hunter2"))
        #expect(Mirror(reflecting: self.secret).children.isEmpty)
    }

    @Test("the value is reachable through its explicit name and compares by value")
    func explicitAccess() {
        #expect(self.secret.unredacted == "hunter2-token")
        #expect(Redacted(1) == Redacted(1))
        #expect(Redacted(1) != Redacted(2))
        #expect(Set([Redacted("a"), Redacted("a")]).count == 1)
    }
}
