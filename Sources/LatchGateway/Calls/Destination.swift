/// Where a call sends data, named the way grants name destinations: the lowercase host of a URL
/// (`https://api.example.com/x` → `api.example.com`), the lowercase domain of an email address
/// (`bob@Example.com` → `example.com`), else the whole value lowercased (a bare host).
///
/// Strict on purpose: a value that mail or URL parsers could read differently from Latch
/// (several addresses, user info in a URL, `\`, spaces, quotes, brackets other than an IPv6
/// literal) is refused rather than guessed at, so the destination checked is the one used.
public enum Destination {
    /// The destination `value` names, or nil when it is not one unambiguous URL, address or host.
    public static func normalize(_ value: String) -> String? {
        let forbidden: Set<Character> = [",", ";", "<", ">", "(", ")", "\"", "'", "\\", "`", "%"]
        guard !value.isEmpty, value.count <= 2048, !value.contains(where: { $0.isWhitespace || forbidden.contains($0) || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false })
        else { return nil }
        if let scheme = value.firstRange(of: "://") {
            guard value[..<scheme.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else { return nil }
            var authority = value[scheme.upperBound...]
            if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authority = authority[..<end] }
            guard !authority.contains("@") else { return nil }  // user info: refused
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { return nil }
                return Self.host(authority[...close])
            }
            if let colon = authority.lastIndex(of: ":") {
                guard authority[authority.index(after: colon)...].allSatisfy(\.isNumber) else { return nil }
                authority = authority[..<colon]
            }
            return Self.host(authority)
        }
        guard !value.contains("/"), !value.contains("?"), !value.contains("#") else { return nil }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return Self.host(parts[0])
        case 2 where !parts[0].isEmpty && !value.lowercased().hasPrefix("mailto:"): return Self.host(parts[1])
        default: return nil
        }
    }

    /// A host: letters, digits, `.`, `-`, `_`, or an IPv6 literal in brackets; lowercased.
    private static func host(_ text: Substring) -> String? {
        guard !text.isEmpty else { return nil }
        if text.hasPrefix("[") {
            return text.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) ? text.lowercased() : nil
        }
        guard text.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" || $0 == "_" }) else { return nil }
        return text.lowercased()
    }

    /// Whether `destination` is within `allowed`: named exactly, or under a `*.suffix` entry
    /// (`*.example.com` allows `mail.example.com`, not `example.com`).
    public static func isAllowed(_ destination: String, by allowed: Set<String>) -> Bool {
        if allowed.contains(destination) { return true }
        var rest = Substring(destination)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            if allowed.contains("*." + rest) { return true }
        }
        return false
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace. Only the ends are scanned: a grant token
    /// (hundreds of characters) costs two index steps, not a character-by-character copy.
    var trimmingWhitespace: String {
        guard let first = self.firstIndex(where: { !$0.isWhitespace }), let last = self.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
