import LatchCore
import Testing

@Suite("SPIFFEID")
struct SPIFFEIDTests {
    static let longTrustDomain = String(repeating: "a", count: 256)
    static let longPath = "/" + String(repeating: "a", count: 2048 - "spiffe://td/".utf8.count + 1)

    /// Invalid IDs, each with the code of the rule it breaks.
    static let invalid: [(String, LatchError.Code)] = [
        ("", .emptySPIFFEID),
        ("http://example.org/a", .wrongScheme),
        ("SPIFFE://example.org/a", .wrongScheme),
        ("Spiffe://example.org", .wrongScheme),
        ("spiffe:/example.org/a", .wrongScheme),
        ("spiffe:example.org", .wrongScheme),
        ("example.org/workload", .wrongScheme),
        (" spiffe://example.org/a", .wrongScheme),
        ("spiffe://", .missingTrustDomain),
        ("spiffe:///path", .missingTrustDomain),
        ("spiffe://Example.org/a", .badTrustDomainChar),
        ("spiffe://exa mple.org", .badTrustDomainChar),
        ("spiffe://exämple.org", .badTrustDomainChar),
        ("spiffe://example.org%2F/a", .badTrustDomainChar),
        ("spiffe://[::1]/a", .badTrustDomainChar),
        ("spiffe://example.org:8080/a", .hasPort),
        ("spiffe://user@example.org/a", .hasUserInfo),
        ("spiffe://user:pw@example.org/a", .hasUserInfo),
        ("spiffe://example.org/a?x=1", .hasQuery),
        ("spiffe://example.org?x", .hasQuery),
        ("spiffe://example.org/a#frag", .hasFragment),
        ("spiffe://example.org#", .hasFragment),
        ("spiffe://example.org//a", .emptySegment),
        ("spiffe://example.org/a//b", .emptySegment),
        ("spiffe://example.org/a//", .emptySegment),
        ("spiffe://example.org/./a", .dotSegment),
        ("spiffe://example.org/a/..", .dotSegment),
        ("spiffe://example.org/..", .dotSegment),
        ("spiffe://example.org/a/./b", .dotSegment),
        ("spiffe://example.org/a b", .badPathChar),
        ("spiffe://example.org/a%20b", .badPathChar),
        ("spiffe://example.org/a:b", .badPathChar),
        ("spiffe://example.org/ä", .badPathChar),
        ("spiffe://example.org/a*", .badPathChar),
        ("spiffe://example.org/a\\b", .badPathChar),
        ("spiffe://example.org/a\u{0}", .badPathChar),
        ("spiffe://example.org/", .trailingSlash),
        ("spiffe://example.org/a/", .trailingSlash),
        ("spiffe://\(longTrustDomain)/a", .tooLong),
        ("spiffe://td\(longPath)", .tooLong),
    ]

    @Test("invalid IDs are rejected with the code of the rule broken", arguments: invalid)
    func rejectsInvalid(text: String, code: LatchError.Code) {
        #expect(throws: LatchError(code, "")) { try SPIFFEID(parsing: text) }
    }

    static let valid: [(String, String, String)] = [
        ("spiffe://example.org", "example.org", ""),
        ("spiffe://example.org/workload", "example.org", "/workload"),
        ("spiffe://example.org/ns/prod/sa/billing-agent", "example.org", "/ns/prod/sa/billing-agent"),
        ("spiffe://a-b_c.d0/X.y_Z-9", "a-b_c.d0", "/X.y_Z-9"),
        ("spiffe://1.2.3.4/a", "1.2.3.4", "/a"),
        ("spiffe://td/...", "td", "/..."),
        ("spiffe://td/.a/a.", "td", "/.a/a."),
        ("spiffe://\(String(repeating: "a", count: 255))", String(repeating: "a", count: 255), ""),
    ]

    @Test("valid IDs parse into trust domain and path and print back unchanged", arguments: valid)
    func parsesValid(text: String, trustDomain: String, path: String) throws {
        let id = try SPIFFEID(parsing: text)
        #expect(id.trustDomain.name == trustDomain)
        #expect(id.path == path)
        #expect(id.description == text)
    }

    @Test("an ID of exactly 2048 bytes is accepted, 2049 is not")
    func lengthBoundary() throws {
        let base = "spiffe://td/"
        let exact = base + String(repeating: "a", count: 2048 - base.utf8.count)
        #expect(try SPIFFEID(parsing: exact).description.utf8.count == 2048)
        #expect(throws: LatchError(.tooLong, "")) { try SPIFFEID(parsing: exact + "a") }
    }

    @Test("building from a trust domain and path validates the path")
    func buildFromParts() throws {
        let td = try TrustDomain(parsing: "example.org")
        #expect(try SPIFFEID(trustDomain: td, path: "/a/b").description == "spiffe://example.org/a/b")
        #expect(SPIFFEID(trustDomain: td).description == "spiffe://example.org")
        #expect(throws: LatchError(.pathNotAbsolute, "")) { try SPIFFEID(trustDomain: td, path: "a") }
        #expect(throws: LatchError(.dotSegment, "")) { try SPIFFEID(trustDomain: td, path: "/a/..") }
        #expect(throws: LatchError(.hasQuery, "")) { try SPIFFEID(trustDomain: td, path: "/a?b") }
    }

    @Test("segments and membership")
    func segmentsAndMembership() throws {
        let id = try SPIFFEID(parsing: "spiffe://example.org/ns/prod")
        #expect(id.segments == ["ns", "prod"])
        #expect(id.isMember(of: try TrustDomain(parsing: "example.org")))
        #expect(!id.isMember(of: try TrustDomain(parsing: "other.org")))
    }
}

@Suite("TrustDomain")
struct TrustDomainTests {
    static let invalid: [(String, LatchError.Code)] = [
        ("", .missingTrustDomain),
        ("Example.org", .badTrustDomainChar),
        ("example.org:443", .hasPort),
        ("me@example.org", .hasUserInfo),
        ("example org", .badTrustDomainChar),
        ("example.org/", .badTrustDomainChar),
        ("spiffe://example.org/a", .badTrustDomainChar),
        ("http://example.org", .wrongScheme),
        (String(repeating: "x", count: 256), .tooLong),
    ]

    @Test("invalid trust domains are rejected with a specific code", arguments: invalid)
    func rejectsInvalid(text: String, code: LatchError.Code) {
        #expect(throws: LatchError(code, "")) { try TrustDomain(parsing: text) }
    }

    @Test("a bare name and the trust domain's own SPIFFE ID both parse")
    func parses() throws {
        #expect(try TrustDomain(parsing: "example.org").name == "example.org")
        #expect(try TrustDomain(parsing: "spiffe://example.org").name == "example.org")
        #expect(try TrustDomain(parsing: "example.org").idString == "spiffe://example.org")
    }
}
