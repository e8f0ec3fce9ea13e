/// Whether a string literal passed to an extension constructor (`ip("…")`, `decimal("…")`, …)
/// parses (with the evaluator's extension parsers): Cedar's strict validator reports the ones that don't.
enum ExtensionLiteralCheck {
    static func isValid(_ f: ExtensionFunction, _ s: String) -> Bool {
        guard f.isConstructor else { return true }
        return (try? f.apply([.string(s)])) != nil
    }
}
