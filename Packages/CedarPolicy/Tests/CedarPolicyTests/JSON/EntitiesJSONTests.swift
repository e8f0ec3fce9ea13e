import Testing

@testable import CedarPolicy

/// The schema used by these tests, built by hand:
/// ```
/// entity G;
/// entity User in [G] { a?: decimal, e?: User, s?: Set<Long>, r?: {x: Long, y?: String}, n?: Long, rs?: Set<R> } tags String;
/// entity R enum ["r", "q"];
/// action view appliesTo { principal: User, resource: R, context: { c: Long, d?: decimal } };
/// action edit in [view];
/// ```
enum JSONTestSchema {
    static let user = EntityType(unchecked: "User")
    static let group = EntityType(unchecked: "G")
    static let res = EntityType(unchecked: "R")
    static let actionType = EntityType(unchecked: "Action")
    static let view = EntityUID(type: actionType, id: "view")
    static let edit = EntityUID(type: actionType, id: "edit")

    static let schema: Schema = {
        let recordR = RecordType(attributes: ["x": AttributeType(type: .long), "y": AttributeType(type: .string, isRequired: false)])
        let userAttrs = RecordType(attributes: [
            "a": AttributeType(type: .extension("decimal"), isRequired: false),
            "e": AttributeType(type: .entity(user), isRequired: false),
            "s": AttributeType(type: .set(.long), isRequired: false),
            "r": AttributeType(type: .record(recordR), isRequired: false),
            "n": AttributeType(type: .long, isRequired: false),
            "rs": AttributeType(type: .set(.entity(res)), isRequired: false),
        ])
        return Schema(
            entityTypes: [
                group: EntityTypeDeclaration(name: group),
                user: EntityTypeDeclaration(name: user, memberOfTypes: [group], attributes: userAttrs, tags: .string),
                res: EntityTypeDeclaration(name: res, enumValues: ["r", "q"]),
            ],
            actions: [
                view: ActionDeclaration(
                    uid: view,
                    appliesTo: .init(
                        principalTypes: [user], resourceTypes: [res],
                        context: RecordType(attributes: [
                            "c": AttributeType(type: .long), "d": AttributeType(type: .extension("decimal"), isRequired: false),
                        ]))),
                edit: ActionDeclaration(uid: edit, memberOf: [view]),
            ])
    }()
}

@Suite("Cedar values from and to JSON")
struct ValueJSONTests {
    @Test("untyped values map to Cedar values")
    func untyped() throws {
        let json = try JSONValue(parsing: """
            {"b": true, "n": -3, "s": "x", "set": [1, 1, 2], "e": {"__entity": {"type": "A::B", "id": "i"}},
             "d": {"__extn": {"fn": "decimal", "arg": "1.5"}}, "d2": {"__extn": {"fn": "decimal", "args": ["1.5"]}},
             "rec": {"type": "User", "id": "x"}}
            """)
        let v = try Value(json: json)
        let expected: Value = .record([
            "b": .bool(true), "n": .long(-3), "s": .string("x"), "set": .set([.long(1), .long(2)]),
            "e": .entity(EntityUID(type: EntityType(unchecked: "A::B"), id: "i")),
            "d": .ext(.decimal(CedarDecimal(scaled: 15000))), "d2": .ext(.decimal(CedarDecimal(scaled: 15000))),
            "rec": .record(["type": .string("User"), "id": .string("x")]),
        ])
        #expect(v == expected)
    }

    @Test("invalid untyped values are errors", arguments: [
        "null", "1.5", "99999999999999999999", "{\"__entity\": {\"type\": \"Us er\", \"id\": \"x\"}}",
        "{\"__extn\": {\"fn\": \"nope\", \"arg\": \"1\"}}", "{\"__extn\": {\"fn\": \"decimal\", \"arg\": 1}}",
        "{\"__extn\": {\"fn\": \"decimal\", \"arg\": \"x1.5\"}}", "[1, null]", "{\"__expr\": \"1\"}", "{\"__entity\": null}",
    ])
    func untypedErrors(text: String) throws {
        let json = try JSONValue(parsing: text)
        #expect(throws: CedarError.self) { try Value(json: json) }
    }

    @Test("escapes of the wrong shape or beside other members are records, as in Cedar", arguments: [
        #"{"__entity": "x"}"#, #"{"__entity": {"type": "User"}}"#, #"{"__entity": {"type": "User", "id": 1}}"#, #"{"__extn": "decimal"}"#,
        #"{"__extn": {"fn": "decimal"}}"#, #"{"__extn": {"fn": 1, "arg": "1.0"}}"#, #"{"__extn": {"fn": "decimal", "args": "1.0"}}"#,
        #"{"__expr": 1}"#, #"{"__extn": {"fn": "decimal", "arg": "1.0"}, "z": 1}"#,
        #"{"__entity": {"type": "User", "id": "a"}, "__extn": {"fn": "decimal", "arg": "1.0"}}"#,
    ])
    func escapeFallback(text: String) throws {
        let json = try JSONValue(parsing: text)
        guard case .record(let fields) = try Value(json: json) else {
            Issue.record("expected a record")
            return
        }
        #expect(Set(fields.keys) == Set(json.objectValue?.keys ?? []))
        let entity = try Value(json: JSONValue(parsing: #"{"__entity": {"type": "User", "id": "a", "extra": 1}}"#))
        #expect(entity == .entity(EntityUID(type: JSONTestSchema.user, id: "a")))
    }

    @Test("schema-directed values accept implicit forms")
    func typed() throws {
        let u = JSONTestSchema.user
        #expect(try Value(json: ["type": "User", "id": "x"], expected: .entity(u)) == .entity(EntityUID(type: u, id: "x")))
        #expect(try Value(json: "0.6", expected: .extension("decimal")) == .ext(.decimal(CedarDecimal(scaled: 6000))))
        #expect(try Value(json: "10.0.0.1", expected: .extension("ipaddr")) == .ext(.ipaddr(try IPAddr(parsing: "10.0.0.1"))))
        #expect(try Value(json: "2024-01-01", expected: .extension("datetime")) == .ext(.datetime(try CedarDatetime(parsing: "2024-01-01"))))
        #expect(try Value(json: "1h", expected: .extension("duration")) == .ext(.duration(CedarDuration(millis: 3_600_000))))
        #expect(throws: CedarError.self) { try Value(json: "10.0.0.x", expected: .extension("ipaddr")) }
        #expect(throws: CedarError.self) { try Value(json: ["__extn": ["fn": "ip", "arg": "1.2.3.4"]], expected: .extension("decimal")) }
        #expect(try Value(json: ["fn": "decimal", "arg": "1.0"], expected: .extension("decimal")) == .ext(.decimal(CedarDecimal(scaled: 10000))))
        #expect(try Value(json: [1, 2], expected: .set(.long)) == .set([.long(1), .long(2)]))
        let rec = RecordType(attributes: ["x": AttributeType(type: .long), "y": AttributeType(type: .string, isRequired: false)])
        #expect(try Value(json: ["x": 1], expected: .record(rec)) == .record(["x": .long(1)]))
    }

    static let mismatches: [(JSONValue, SchemaType)] = [
        (JSONValue.string("1"), SchemaType.long),
        (.int(1), .string),
        (["type": "G", "id": "x"], .entity(JSONTestSchema.user)),
        (["__entity": ["type": "G", "id": "x"]], .entity(JSONTestSchema.user)),
        (.int(1), .extension("decimal")),
        ([1, "x"], .set(.long)),
        (["y": "a"], .record(RecordType(attributes: ["x": AttributeType(type: .long)]))),
        (["x": 1, "z": 2], .record(RecordType(attributes: ["x": AttributeType(type: .long)]))),
        (["__extn": ["fn": "decimal", "arg": "1.0"]], .record(RecordType())),
    ]

    @Test("schema-directed mismatches are errors", arguments: mismatches)
    func typedErrors(json: JSONValue, type: SchemaType) {
        #expect(throws: CedarError.self) { try Value(json: json, expected: type) }
    }

    @Test("extension values of every type round-trip through JSON, including datetimes without a text form")
    func extensionRoundTrip() throws {
        let values: [Value] = [
            .ext(.decimal(try CedarDecimal(parsing: "-3.1416"))), .ext(.ipaddr(try IPAddr(parsing: "10.0.0.0/8"))),
            .ext(.ipaddr(try IPAddr(parsing: "::1"))), .ext(.datetime(try CedarDatetime(parsing: "2024-10-15T11:35:00.123Z"))),
            .ext(.datetime(CedarDatetime(millis: 8_246_892_204_343_555_722))), .ext(.datetime(CedarDatetime(millis: -62_167_219_200_001))),
            .ext(.duration(try CedarDuration(parsing: "-1d2h3m4s5ms"))),
        ]
        for v in values {
            #expect(try Value(json: JSONValue(parsing: v.json.serialized())) == v, "\(v.json)")
        }
        #expect(Value.ext(.ipaddr(try IPAddr(parsing: "10.0.0.1"))).json == ["__extn": ["fn": "ip", "arg": "10.0.0.1"]])
    }

    @Test("value JSON round-trips and is deterministic")
    func roundTrip() throws {
        let v: Value = .record([
            "z": .set([.long(3), .long(1), .string("a"), .bool(false)]), "a": .entity(EntityUID(type: JSONTestSchema.user, id: "q\"")),
            "d": .ext(.decimal(CedarDecimal(scaled: -12345))), "r": .record(["k": .long(Int64.min)]),
        ])
        let text = v.json.serialized()
        #expect(text.hasPrefix("{\"a\":{\"__entity\":{\"type\":\"User\",\"id\":\"q\\\"\"}},\"d\":"))
        #expect(try Value(json: JSONValue(parsing: text)) == v)
        #expect(v.json.serialized() == text)
    }
}

@Suite("Entities JSON")
struct EntitiesJSONTests {
    static func parse(_ text: String, schema: Schema? = JSONTestSchema.schema) throws(CedarError) -> Entities {
        try Entities(json: try JSONValue(parsing: text), schema: schema)
    }

    @Test("reads entities with uid forms, parents, attrs and tags")
    func basic() throws {
        let e = try Self.parse(
            """
            [{"uid": {"type": "User", "id": "a"}, "attrs": {"a": "1.5", "e": {"type": "User", "id": "b"}, "s": [1, 2], "r": {"x": 1}},
              "parents": [{"type": "G", "id": "g"}], "tags": {"t": "v"}},
             {"uid": {"__entity": {"type": "G", "id": "g"}}, "attrs": {}, "parents": []}]
            """)
        let a = EntityUID(type: JSONTestSchema.user, id: "a")
        let g = EntityUID(type: JSONTestSchema.group, id: "g")
        #expect(e[a]?.attributes["a"] == .ext(.decimal(CedarDecimal(scaled: 15000))))
        #expect(e[a]?.attributes["r"] == .record(["x": .long(1)]))
        #expect(e[a]?.tags["t"] == .string("v"))
        #expect(e.isDescendant(a, of: g))
        // schema actions are added with their groups
        #expect(e[JSONTestSchema.edit]?.parents == [JSONTestSchema.view])
        #expect(e.isDescendant(JSONTestSchema.edit, of: JSONTestSchema.view))
        #expect(e.count == 4)
    }

    @Test("without a schema attributes are read untyped and no actions are added")
    func noSchema() throws {
        let e = try Self.parse(#"[{"uid": {"type": "X::Y", "id": "a"}, "attrs": {"a": {"type": "User", "id": "b"}}, "parents": []}]"#, schema: nil)
        #expect(e.count == 1)
        #expect(e[EntityUID(type: EntityType(unchecked: "X::Y"), id: "a")]?.attributes["a"] == .record(["type": .string("User"), "id": .string("b")]))
    }

    @Test("action entities in the data must list the transitive closure of their declared groups")
    func actionClosure() throws {
        let t = EntityType(unchecked: "Action")
        let a = EntityUID(type: t, id: "a"), b = EntityUID(type: t, id: "b"), c = EntityUID(type: t, id: "c")
        let schema = Schema(actions: [a: ActionDeclaration(uid: a, memberOf: [b]), b: ActionDeclaration(uid: b, memberOf: [c]), c: ActionDeclaration(uid: c)])
        #expect(schema.actionAncestors(of: a) == [b, c])
        func data(_ parents: [String]) -> String {
            let ps = parents.map { "{\"type\": \"Action\", \"id\": \"\($0)\"}" }.joined(separator: ",")
            return "[{\"uid\": {\"type\": \"Action\", \"id\": \"a\"}, \"attrs\": {}, \"parents\": [\(ps)]}]"
        }
        let ok = try Self.parse(data(["b", "c"]), schema: schema)
        #expect(ok.isDescendant(a, of: c))
        for wrong in [["b"], ["c"], [], ["b", "c", "a"]] {
            #expect(throws: CedarError(.entities, "")) { try Self.parse(data(wrong), schema: schema) }
        }
    }

    @Test("identical duplicates are accepted, conflicting ones rejected")
    func duplicates() throws {
        let one = #"{"uid": {"type": "G", "id": "a"}, "attrs": {}, "parents": []}"#
        #expect(try Self.parse("[\(one), \(one)]").count == 3)
        #expect(throws: CedarError(.entities, "")) {
            try Self.parse("[\(one), {\"uid\": {\"type\": \"G\", \"id\": \"a\"}, \"attrs\": {}, \"parents\": [{\"type\":\"G\",\"id\":\"b\"}]}]")
        }
    }

    @Test("schema conformance errors", arguments: [
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {"zz": 1}, "parents": []}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {"rs": [{"type": "R", "id": "r"}, {"type": "R", "id": "zz"}]}, "parents": []}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {"n": "1"}, "parents": []}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {"e": {"type": "G", "id": "x"}}, "parents": []}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {"r": {"y": "a"}}, "parents": []}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {"s": [1, "x"]}, "parents": []}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [], "tags": {"t": 1}}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [{"type": "R", "id": "r"}]}]"#,
        #"[{"uid": {"type": "X", "id": "a"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "R", "id": "zz"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "R", "id": "q"}, "attrs": {"x": 1}, "parents": []}]"#,
        #"[{"uid": {"type": "G", "id": "a"}, "attrs": {}, "parents": [], "tags": {"a": "b"}}]"#,
        #"[{"uid": {"type": "Action", "id": "edit"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "Action", "id": "zzz"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "Action", "id": "view"}, "attrs": {"x": 1}, "parents": []}]"#,
        #"[{"uid": {"type": "G", "id": "a"}, "attrs": {}}]"#,
        #"[{"uid": {"type": "G", "id": "a"}, "parents": []}]"#,
        #"[{"uid": {"type": "G b", "id": "a"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "A :: B", "id": "a"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": " G", "id": "a"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "if", "id": "a"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "__cedar::A", "id": "a"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "A::/*c*/B", "id": "a"}, "attrs": {}, "parents": []}]"#,
        #"{"uid": {"type": "G", "id": "a"}, "attrs": {}, "parents": []}"#,
    ])
    func conformance(text: String) {
        #expect(throws: CedarError(.entities, "")) { try Self.parse(text) }
    }

    @Test("schema conformance accepts valid data", arguments: [
        #"[{"uid": {"type": "Action", "id": "edit"}, "attrs": {}, "parents": [{"type": "Action", "id": "view"}]}]"#,
        #"[{"uid": {"type": "R", "id": "q"}, "attrs": {}, "parents": []}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [], "extra": 1}]"#,
        #"[{"uid": {"type": "User", "id": "a"}, "attrs": {"rs": [{"type": "R", "id": "r"}, {"__entity": {"type": "R", "id": "q"}}]}, "parents": []}]"#,
    ])
    func accepted(text: String) throws {
        _ = try Self.parse(text)
    }

    @Test("entities JSON round-trips")
    func roundTrip() throws {
        let text = #"[{"uid":{"type":"G","id":"g"},"attrs":{},"parents":[]},{"uid":{"type":"User","id":"a"},"attrs":{"n":1},"parents":[{"type":"G","id":"g"}],"tags":{"t":"v"}}]"#
        let e = try Self.parse(text, schema: nil)
        #expect(e.json.serialized() == text)
    }
}

@Suite("Request JSON")
struct RequestJSONTests {
    static func parse(_ text: String, schema: Schema? = JSONTestSchema.schema) throws(CedarError) -> Request {
        try Request(json: try JSONValue(parsing: text), schema: schema)
    }

    static let base = #""principal": {"type": "User", "id": "a"}, "action": {"type": "Action", "id": "view"}, "resource": {"type": "R", "id": "r"}"#

    @Test("reads a request with schema-directed context")
    func valid() throws {
        let r = try Self.parse("{\(Self.base), \"context\": {\"c\": 1, \"d\": \"1.5\"}}")
        #expect(r.principal == EntityUID(type: JSONTestSchema.user, id: "a"))
        #expect(r.context == ["c": .long(1), "d": .ext(.decimal(CedarDecimal(scaled: 15000)))])
    }

    @Test("accepts __entity and Cedar text entity forms without a schema")
    func forms() throws {
        let r = try Self.parse(
            #"{"principal": {"__entity": {"type": "User", "id": "a"}}, "action": "Action::\"view\"", "resource": {"type": "R", "id": "r"}}"#,
            schema: nil)
        #expect(r.action == JSONTestSchema.view)
        #expect(r.context.isEmpty)
    }

    @Test("request validation errors", arguments: [
        "{\(base), \"context\": {\"c\": \"x\"}}",
        "{\(base), \"context\": {}}",
        "{\(base), \"context\": {\"c\": 1, \"z\": 2}}",
        #"{"principal": {"type": "User", "id": "a"}, "action": {"type": "Action", "id": "view"}, "resource": {"type": "R", "id": "zz"}, "context": {"c": 1}}"#,
        #"{"principal": {"type": "User", "id": "a"}, "action": {"type": "Action", "id": "nope"}, "resource": {"type": "R", "id": "r"}, "context": {"c": 1}}"#,
        #"{"principal": {"type": "User", "id": "a"}, "action": {"type": "Action", "id": "edit"}, "resource": {"type": "R", "id": "r"}}"#,
        #"{"principal": {"type": "User", "id": "a"}, "action": {"type": "Action", "id": "view"}, "resource": {"type": "G", "id": "r"}, "context": {"c": 1}}"#,
        #"{"principal": {"type": "User", "id": "a"}, "action": {"type": "Action", "id": "view"}, "context": {"c": 1}}"#,
        "{\(base), \"context\": [1]}",
    ])
    func invalid(text: String) {
        #expect(throws: CedarError(.request, "")) { try Self.parse(text) }
    }

    @Test("a context written as an entity or extension escape is not a record (as Cedar)", arguments: [
        #"{"__entity": {"type": "User", "id": "x"}}"#,
        #"{"__extn": {"fn": "ip", "arg": "1.1.1.1"}}"#,
        #"{"__extn": {"fn": "nope", "arg": "1"}}"#,
    ])
    func escapedContext(context: String) {
        for schema in [nil, JSONTestSchema.schema] {
            #expect(throws: CedarError(.request, "")) { try Self.parse("{\(Self.base), \"context\": \(context)}", schema: schema) }
        }
    }

    @Test("an incomplete escape in the context is an ordinary record, as in Cedar")
    func incompleteEscape() throws {
        let r = try Self.parse("{\(Self.base), \"context\": {\"__entity\": {\"type\": \"User\"}}}", schema: nil)
        #expect(r.context["__entity"] == .record(["type": .string("User")]))
    }
}
