import CedarPolicy
import Testing

@Suite("Entities: the hierarchy store")
struct EntitiesTests {
    static func uid(_ type: String, _ id: String) -> EntityUID { EntityUID(type: EntityType(unchecked: type), id: id) }
    static func entity(_ id: String, parents: [String]) -> Entity {
        Entity(uid: uid("G", id), parents: Set(parents.map { uid("G", $0) }))
    }

    @Test("ancestors are the transitive closure, through diamonds and entities missing from the store")
    func closure() throws {
        let store = try Entities([
            Self.entity("a", parents: ["b", "c"]), Self.entity("b", parents: ["d"]), Self.entity("c", parents: ["d"]),
            Self.entity("d", parents: ["missing"]),
        ])
        #expect(store.ancestors(of: Self.uid("G", "a")) == Set(["b", "c", "d", "missing"].map { Self.uid("G", $0) }))
        #expect(store.isDescendant(Self.uid("G", "a"), of: Self.uid("G", "missing")))
        #expect(!store.isDescendant(Self.uid("G", "d"), of: Self.uid("G", "a")))
        #expect(store.ancestors(of: Self.uid("G", "nobody")).isEmpty)
    }

    @Test("a cycle in the hierarchy is an error, as in Cedar", arguments: [
        [("a", ["a"])],
        [("a", ["b"]), ("b", ["a"])],
        [("a", ["b"]), ("b", ["c"]), ("c", ["d"]), ("d", ["b"])],
    ])
    func cycles(_ spec: [(String, [String])]) {
        #expect(throws: CedarError(.entities, "")) { try Entities(spec.map { Self.entity($0.0, parents: $0.1) }) }
    }

    @Test("merging entities that close a cycle is an error")
    func mergingCycle() throws {
        let store = try Entities([Self.entity("a", parents: ["b"])])
        #expect(throws: CedarError(.entities, "")) { try store.merging([Self.entity("b", parents: ["a"])]) }
        #expect(try store.merging([Self.entity("b", parents: ["c"])]).ancestors(of: Self.uid("G", "a")).count == 2)
    }

    @Test("a duplicate uid is an error")
    func duplicate() {
        #expect(throws: CedarError(.entities, "")) { try Entities([Self.entity("a", parents: []), Self.entity("a", parents: ["b"])]) }
    }
}
