/// Whether a string literal passed to an extension constructor (`ip("…")`, `decimal("…")`, …)
/// parses (with the evaluator's extension parsers): Cedar's strict validator reports the ones that don't.
enum ExtensionLiteralCheck {
    static func isValid(_ f: ExtensionFunction, _ s: String) -> Bool {
        do {
            switch f {
            case .decimal: _ = try CedarDecimal(parsing: s)
            case .ip: _ = try IPAddr(parsing: s)
            case .datetime: _ = try CedarDatetime(parsing: s)
            case .duration: _ = try CedarDuration(parsing: s)
            default: break
            }
            return true
        } catch {
            return false
        }
    }
}
