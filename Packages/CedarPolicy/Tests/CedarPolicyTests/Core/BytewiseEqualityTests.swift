import CedarPolicy
import Testing

/// Cedar compares strings and entity ids by their bytes; Swift's `String ==` would equate
/// canonically equivalent spellings. These pairs are canonically equivalent but different bytes.
@Suite("Strings and entity ids compare byte-wise, as in Cedar")
struct BytewiseEqualityTests {
    static let pairs: [(String, String)] = [
        ("\u{212B}", "\u{C5}"),  // ANGSTROM SIGN vs LATIN CAPITAL A WITH RING
        ("e\u{301}", "\u{E9}"),  // e + COMBINING ACUTE vs precomposed é
        ("\u{1E9B}\u{323}", "\u{17F}\u{323}\u{307}"),
    ]

    @Test("canonically equivalent strings are different values", arguments: pairs)
    func values(_ pair: (String, String)) {
        #expect(pair.0 == pair.1, "Swift's own == equates them; that is the trap")
        #expect(Value.string(pair.0) != Value.string(pair.1))
        #expect(Set([Value.string(pair.0), Value.string(pair.1)]).count == 2)
        let t = EntityType(unchecked: "User")
        #expect(EntityUID(type: t, id: pair.0) != EntityUID(type: t, id: pair.1))
        #expect(Value.string(pair.0) == Value.string(String(pair.0.unicodeScalars)))
    }

    @Test("a policy for one spelling does not match the other", arguments: pairs)
    func authorizer(_ pair: (String, String)) throws {
        let text = "permit(principal == User::\(CedarText.quoted(pair.0)), action, resource) when { context.s == \(CedarText.quoted(pair.0)) };"
        let authorizer = Authorizer(try PolicySet(parsing: text))
        func decide(_ id: String, _ s: String) -> Decision {
            let uid = { (type: String, id: String) in EntityUID(type: EntityType(unchecked: type), id: id) }
            let request = Request(principal: uid("User", id), action: uid("Action", "a"), resource: uid("R", "r"), context: ["s": .string(s)])
            return authorizer.isAuthorized(request, entities: Entities()).decision
        }
        #expect(decide(pair.0, pair.0) == .allow)
        #expect(decide(pair.1, pair.0) == .deny)
        #expect(decide(pair.0, pair.1) == .deny)
    }
}
