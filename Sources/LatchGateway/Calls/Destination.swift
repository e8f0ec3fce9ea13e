/// Where a call sends data, named the way grants name destinations: the lowercase host of a URL
/// (`https://api.example.com/x` → `api.example.com`), the lowercase domain of an email address
/// (`bob@Example.com` → `example.com`), else the whole value lowercased (a bare host).
public enum Destination {
    public static func normalize(_ value: String) -> String {
        let trimmed = value.trimmingWhitespace
        if let scheme = trimmed.firstRange(of: "://") {
            var rest = trimmed[scheme.upperBound...]
            if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
            if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[...close]).lowercased() }
            if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
            return String(rest).lowercased()
        }
        if let at = trimmed.lastIndex(of: "@") { return String(trimmed[trimmed.index(after: at)...]).lowercased() }
        return trimmed.lowercased()
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

extension String {
    /// Without leading and trailing whitespace. Only the ends are scanned: a grant token
    /// (hundreds of characters) costs two index steps, not a character-by-character copy.
    var trimmingWhitespace: String { self[...].trimmingWhitespace }
}

extension Substring {
    var trimmingWhitespace: String {
        guard let first = self.firstIndex(where: { !$0.isWhitespace }), let last = self.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
