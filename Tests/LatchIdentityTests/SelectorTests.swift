import LatchCore
import LatchIdentity
import Testing

@Suite("Selector")
struct SelectorTests {
    static let valid: [(String, String, String)] = [
        ("unix:uid:1000", "unix", "uid:1000"),
        ("unix:path:/usr/bin/agent", "unix", "path:/usr/bin/agent"),
        ("oidc:gh:sub:repo:org/x:ref:main", "oidc", "gh:sub:repo:org/x:ref:main"),
        ("join_token:node-1", "join_token", "node-1"),
    ]

    @Test("TYPE:VALUE splits at the first colon", arguments: valid)
    func parses(text: String, type: String, value: String) throws {
        let selector = try Selector(parsing: text)
        #expect(selector.type == type && selector.value == value)
        #expect(selector.description == text)
    }

    @Test("malformed selectors are rejected", arguments: ["unix", ":uid:1", "unix:", "Unix:uid:1", "un ix:uid:1", "unix:uid:\u{7}"])
    func rejects(_ text: String) {
        #expect(throws: LatchError(.badSelector, "")) { try Selector(parsing: text) }
    }

    @Test("an entry matches when all its selectors were presented")
    func matching() throws {
        let entry = RegistrationEntry(
            id: "e", spiffeID: try SPIFFEID(parsing: "spiffe://example.org/a"),
            selectors: [try Selector(parsing: "unix:uid:1000"), try Selector(parsing: "unix:gid:1000")],
            x509SVIDTTL: 3600, jwtSVIDTTL: 300, createdAt: 0)
        let presented: Set<Selector> = [
            try Selector(parsing: "unix:uid:1000"), try Selector(parsing: "unix:gid:1000"), try Selector(parsing: "unix:pid:7"),
        ]
        #expect(entry.matches(presented))
        #expect(!entry.matches([try Selector(parsing: "unix:uid:1000")]))
    }
}
