import Testing
@testable import CedarPolicy

@Suite("Cedar schema syntax")
struct CedarSchemaSyntaxTests {
    static let sample = """
        // Comments are ignored.
        @doc("an app")
        namespace App {
            type Ctx = { ip?: ipaddr, "quoted key": Long };
            entity User in [Group] { name: String, age?: Long, boss?: User } tags String;
            entity Group;
            entity Doc = { owner: User, readers: Set<User>, size: __cedar::decimal };
            entity Color enum ["red", "green"];
            action read, "write" appliesTo { principal: [User], resource: Doc, context: Ctx };
            action view in [read, App::Action::"write"] appliesTo { principal: User, resource: [Doc] };
            action group;
        }
        entity Top;
        """

    @Test("parses entity types with parents, attributes, tags and enums")
    func entities() throws {
        let schema = try Schema(parsingCedar: Self.sample)
        let user = try #require(schema.entityTypes[EntityType(unchecked: "App::User")])
        #expect(user.memberOfTypes == [EntityType(unchecked: "App::Group")])
        #expect(user.attributes.attributes["name"] == AttributeType(type: .string))
        #expect(user.attributes.attributes["age"] == AttributeType(type: .long, isRequired: false))
        #expect(user.attributes.attributes["boss"]?.type == .entity(EntityType(unchecked: "App::User")))
        #expect(user.tags == .string)
        let doc = try #require(schema.entityTypes[EntityType(unchecked: "App::Doc")])
        #expect(doc.attributes.attributes["readers"]?.type == .set(.entity(EntityType(unchecked: "App::User"))))
        #expect(doc.attributes.attributes["size"]?.type == .extension("decimal"))
        #expect(schema.entityTypes[EntityType(unchecked: "App::Color")]?.enumValues == ["red", "green"])
        #expect(schema.entityTypes[EntityType(unchecked: "Top")] != nil)
    }

    @Test("parses actions with groups, appliesTo and common-type contexts")
    func actions() throws {
        let schema = try Schema(parsingCedar: Self.sample)
        let action = EntityType(unchecked: "App::Action")
        let read = try #require(schema.actions[EntityUID(type: action, id: "read")])
        #expect(read.appliesTo?.principalTypes == [EntityType(unchecked: "App::User")])
        #expect(read.appliesTo?.context.attributes["ip"] == AttributeType(type: .extension("ipaddr"), isRequired: false))
        #expect(read.appliesTo?.context.attributes["quoted key"]?.type == .long)
        let view = try #require(schema.actions[EntityUID(type: action, id: "view")])
        #expect(view.memberOf == [EntityUID(type: action, id: "read"), EntityUID(type: action, id: "write")])
        #expect(schema.actions[EntityUID(type: action, id: "group")]?.appliesTo == nil)
    }

    @Test("resolves names: common type, then entity type, current namespace before the empty one, then builtins")
    func nameResolution() throws {
        let schema = try Schema(parsingCedar: """
            entity Long { v: Bool };
            namespace N {
                type x = String;
                entity E { a: x, b: Long, c: __cedar::Long, d: Bool };
            }
            """)
        let e = try #require(schema.entityTypes[EntityType(unchecked: "N::E")])
        #expect(e.attributes.attributes["a"]?.type == .string)
        #expect(e.attributes.attributes["b"]?.type == .entity(EntityType(unchecked: "Long")))
        #expect(e.attributes.attributes["c"]?.type == .long)
        #expect(e.attributes.attributes["d"]?.type == .bool)
    }

    @Test("rejects invalid schemas with a located error", arguments: [
        ("entity A; entity A;", 1, 18),
        ("entity A { b: B };", 1, 15),
        ("type T = U;\ntype U = T;", 1, 6),
        ("entity A;\naction x in y;", 2, 13),
        ("entity A; action x appliesTo { principal: A };", 1, 20),
        ("entity A; type Long = String;", 1, 16),
        ("entity A; namespace X { entity A; }", 1, 32),
        ("entity A; action a in b; action b in a;", 0, 0),
        ("entity in;", 1, 8),
        ("entity A enum [];", 1, 16),
        ("entity A { a: Long", 1, 19),
        ("namespace X { entity A; } namespace X { entity B; }", 1, 27),
    ])
    func rejects(text: String, line: Int, column: Int) {
        do {
            _ = try Schema(parsingCedar: text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.code == .schema || error.code == .syntax)
            if line > 0 {
                #expect(error.location?.line == line)
                #expect(error.location?.column == column)
            }
        }
    }

    @Test("exponentially large common types hit the size limit instead of exhausting memory")
    func exponentialCommonTypes() {
        var text = "type T0 = Long;\n"
        for i in 1...40 { text += "type T\(i) = { a: T\(i - 1), b: T\(i - 1) };\n" }
        text += "entity E { x: T40 };"
        #expect(throws: CedarError(.limitExceeded, "")) { try Schema(parsingCedar: text) }
    }

    @Test("long chains of common types hit the depth limit")
    func deepCommonTypes() {
        var text = "type T0 = Long;\n"
        for i in 1...400 { text += "type T\(i) = Set<T\(i - 1)>;\n" }
        #expect(throws: CedarError(.limitExceeded, "")) { try Schema(parsingCedar: text) }
        #expect(throws: CedarError(.limitExceeded, "")) {
            try Schema(parsingCedar: String(repeating: "type X = Set<", count: 1) + String(repeating: "Set<", count: 300) + "Long"
                + String(repeating: ">", count: 301) + ";")
        }
    }
}
