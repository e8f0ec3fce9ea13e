/// Which of an agent's request headers reach an HTTP API, and what Latch adds.
///
/// Dropped: hop-by-hop headers (RFC 9110 §7.6.1: `Connection` and every header it names,
/// `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`), what the HTTP
/// client sets itself (`Host`, `Content-Length`, `Expect`), the agent's own credentials
/// (`Authorization`, `DPoP`, `Cookie`: they are for Latch, never for the API), `Latch-Approval`
/// (the approval a retry of a held request names, also for Latch), `Accept-Encoding`
/// (the API answers unencoded, so the body Latch passes back is what it says it is), trace
/// context (Latch sends a child `traceparent` of its own) and every header Latch injects (an agent
/// cannot supply or shadow the API's credential).
public enum EgressHeaders {
    /// Lowercase names never forwarded.
    public static let dropped: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade", "host", "content-length", "expect", "authorization", "dpop", "cookie", "accept-encoding", "traceparent", "tracestate",
        "latch-approval",
    ]

    /// The headers to send: the agent's that may go, then `injected` (the rendered credential
    /// headers) and `traceparent`/`tracestate`.
    ///
    /// - Parameters:
    ///   - agent: the request's headers in order (names in any case; duplicates kept);
    ///   - injected: header name → value, added after removing the agent's of the same names.
    public static func forwarded(
        _ agent: [(name: String, value: String)], injected: [(name: String, value: String)], traceParent: String, traceState: String?
    ) -> [(name: String, value: String)] {
        var excluded = Self.dropped
        for header in agent where header.name.lowercased() == "connection" {
            for token in header.value.split(separator: ",") { excluded.insert(String(token).trimmingWhitespace.lowercased()) }
        }
        for header in injected { excluded.insert(header.name.lowercased()) }
        var headers = agent.filter { header in
            let name = header.name.lowercased()
            return !excluded.contains(name) && !name.hasPrefix("proxy-") && Self.isValid(name: header.name, value: header.value)
        }
        headers.append(contentsOf: injected)
        headers.append((name: "traceparent", value: traceParent))
        if let traceState { headers.append((name: "tracestate", value: traceState)) }
        return headers
    }

    /// A header name is a token (RFC 9110 §5.1); a value has no CR, LF or NUL (a rendered secret
    /// holding one could otherwise inject headers).
    public static func isValid(name: String, value: String) -> Bool {
        Self.isToken(name) && !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    public static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { Self.tokenBytes.contains($0) }
    }

    private static let tokenBytes = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    /// The response headers passed back to the agent: its type and encoding, nothing else (no
    /// cookie, no redirect target, nothing that would reveal how Latch reached the API).
    public static let returned: Set<String> = ["content-type", "content-encoding"]
}

/// The parts of an egress request's path: `/egress/<api><rest>`.
public struct EgressPath: Hashable, Sendable {
    /// Where the egress endpoints live.
    public static let prefix = "/egress/"

    public let api: String
    /// What follows the API's name, as sent (percent-encoded): empty or starting with `/`.
    public let rest: String

    /// Splits a request path; nil when it is not under ``prefix`` or names no API.
    public init?(path: String) {
        guard path.hasPrefix(Self.prefix) else { return nil }
        let tail = path.dropFirst(Self.prefix.count)
        let end = tail.firstIndex(of: "/") ?? tail.endIndex
        guard end != tail.startIndex else { return nil }
        self.api = String(tail[..<end])
        self.rest = String(tail[end...])
    }

    /// Why `rest` may not be appended to an API's base URL, or nil: a segment that is (once
    /// percent-decoded) `.` or `..`, or holds a backslash, would let a request climb out of the
    /// base URL's path on servers that normalize it; a malformed percent escape is refused too.
    public var problem: String? {
        for segment in self.rest.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let decoded = Self.percentDecoded(segment) else { return "the path has a malformed percent escape" }
            if decoded == Array(".".utf8) || decoded == Array("..".utf8) { return "the path may not have . or .. segments" }
            if decoded.contains(UInt8(ascii: "\\")) { return "the path may not hold a backslash" }
        }
        return nil
    }

    static func percentDecoded(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
