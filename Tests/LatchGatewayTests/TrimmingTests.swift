import Testing

@testable import LatchGateway

@Suite("trimming whitespace")
struct TrimmingTests {
    @Test(
        "only the ends are trimmed; all-whitespace gives an empty string",
        arguments: [
            ("  eyJ.a b.c \t", "eyJ.a b.c"), ("token", "token"), ("", ""), (" \t\n ", ""), ("\u{00A0}x\u{2003}", "x"), ("a  ", "a"), ("  a", "a"),
        ])
    func trims(_ input: String, _ expected: String) {
        #expect(input.trimmingWhitespace == expected)
        #expect(("[" + input + "]").dropFirst().dropLast().trimmingWhitespace == expected)
    }
}
