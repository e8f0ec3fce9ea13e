// TEMPORARY stand-ins for APIs of the eval and parser branches; deleted once they land on main.

/// PENDING(eval): minimal extension constructors so JSON reading compiles and tests before the
/// evaluator lands. Only `decimal` is implemented; other functions throw.
enum PendingExtensions {
    static func apply(_ fn: ExtensionFunction, _ args: [Value]) throws(CedarError) -> Value {
        switch fn {
        case .decimal:
            guard case .string(let s) = args[0] else { throw CedarError(.typeError, "type error: expected string, got \(args[0].typeName)") }
            return .ext(.decimal(try self.decimal(s)))
        default:
            throw CedarError(.extensionError, "extension function `\(fn.rawValue)` is not available yet")
        }
    }

    static func decimal(_ text: String) throws(CedarError) -> CedarDecimal {
        let bad = CedarError(.extensionError, "`\(text)` is not a well-formed decimal value")
        let b = Array(text.utf8)
        let neg = b.first == UInt8(ascii: "-")
        guard let dot = b.firstIndex(of: UInt8(ascii: ".")), dot > (neg ? 1 : 0), dot < b.count - 1, b.count - dot - 1 <= 4 else { throw bad }
        var v: Int64 = 0
        for i in (neg ? 1 : 0)..<b.count where i != dot {
            guard b[i] >= 0x30 && b[i] <= 0x39 else { throw bad }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b[i] - 0x30))
            guard !o1, !o2 else { throw bad }
            v = a
        }
        for _ in (b.count - dot - 1)..<4 { v = v.multipliedReportingOverflow(by: 10).partialValue }
        return CedarDecimal(scaled: neg ? -v : v)
    }

    static func text(_ value: ExtensionValue) -> (fn: String, arg: String) {
        switch value {
        case .decimal(let d):
            let m = d.scaled.magnitude
            var frac = String(m % 10_000)
            frac = String(repeating: "0", count: 4 - frac.count) + frac
            while frac.count > 1, frac.last == "0" { frac.removeLast() }
            return ("decimal", (d.scaled < 0 ? "-" : "") + String(m / 10_000) + "." + frac)
        case .ipaddr(let ip): return ("ip", "\(ip)")
        case .datetime(let d): return ("datetime", "\(d.millis)")
        case .duration(let d): return ("duration", "\(d.millis)ms")
        }
    }
}

/// PENDING(parser): entity type names and UIDs checked with a small local grammar.
enum PendingNames {
    static let reserved: Set<String> = ["true", "false", "if", "then", "else", "in", "is", "like", "has", "__cedar"]

    static func isIdentifier(_ s: Substring) -> Bool {
        guard let f = s.utf8.first, f == UInt8(ascii: "_") || (f | 0x20 >= UInt8(ascii: "a") && f | 0x20 <= UInt8(ascii: "z")) else { return false }
        for c in s.utf8 {
            let ok = c == UInt8(ascii: "_") || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z")) || (c >= 0x30 && c <= 0x39)
            if !ok { return false }
        }
        return !self.reserved.contains(String(s))
    }

    static func entityType(_ name: String) throws(CedarError) -> EntityType {
        var parts: [Substring] = []
        var rest = Substring(name)
        while let r = rest.firstRange(of: "::") {
            parts.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        parts.append(rest)
        guard parts.allSatisfy(self.isIdentifier) else { throw CedarError(.syntax, "invalid entity type name `\(name)`") }
        return EntityType(unchecked: name)
    }

    static func entityUID(_ text: String) throws(CedarError) -> EntityUID {
        guard let r = text.firstRange(of: "::\""), text.hasSuffix("\""), text.distance(from: r.upperBound, to: text.endIndex) >= 1 else {
            throw CedarError(.syntax, "invalid entity reference `\(text)`")
        }
        let type = try self.entityType(String(text[..<r.lowerBound]))
        let id = String(text[r.upperBound..<text.index(before: text.endIndex)])
        guard !id.contains("\\"), !id.contains("\"") else { throw CedarError(.syntax, "escapes in entity ids are not supported yet") }
        return EntityUID(type: type, id: id)
    }
}
