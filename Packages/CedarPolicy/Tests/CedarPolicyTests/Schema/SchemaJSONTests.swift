import Foundation
import Testing
@testable import CedarPolicy

@Suite("JSON schema format")
struct SchemaJSONTests {
    /// Writes a resolved schema in the JSON format with fully qualified names (test-side only).
    static func json(_ schema: Schema) -> JSONValue {
        func type(_ t: SchemaType) -> JSONValue {
            switch t {
            case .bool: return ["type": "Boolean"]
            case .long: return ["type": "Long"]
            case .string: return ["type": "String"]
            case .entity(let e): return ["type": "Entity", "name": .string(e.name)]
            case .set(let e): return ["type": "Set", "element": type(e)]
            case .extension(let n): return ["type": "Extension", "name": .string(n)]
            case .record(let r): return record(r)
            }
        }
        func record(_ r: RecordType) -> JSONValue {
            var attrs = JSONObject()
            for k in r.attributes.keys.sorted() {
                guard let a = r.attributes[k], case .object(var o) = type(a.type) else { continue }
                o["required"] = .bool(a.isRequired)
                attrs[k] = .object(o)
            }
            return ["type": "Record", "attributes": .object(attrs)]
        }
        var namespaces: [String: (entities: JSONObject, actions: JSONObject)] = [:]
        for (name, decl) in schema.entityTypes {
            var o = JSONObject()
            if let values = decl.enumValues {
                o["enum"] = .array(values.map { .string($0) })
            } else {
                o["memberOfTypes"] = .array(decl.memberOfTypes.sorted().map { .string($0.name) })
                o["shape"] = record(decl.attributes)
                if let tags = decl.tags { o["tags"] = type(tags) }
            }
            namespaces[name.namespace, default: (JSONObject(), JSONObject())].entities[name.basename] = .object(o)
        }
        for (uid, decl) in schema.actions {
            var o = JSONObject()
            o["memberOf"] = .array(decl.memberOf.sorted().map { ["id": .string($0.id), "type": .string($0.type.name)] })
            if let a = decl.appliesTo {
                o["appliesTo"] = [
                    "principalTypes": .array(a.principalTypes.map { .string($0.name) }),
                    "resourceTypes": .array(a.resourceTypes.map { .string($0.name) }),
                    "context": record(a.context),
                ]
            }
            namespaces[uid.type.namespace, default: (JSONObject(), JSONObject())].actions[uid.id] = .object(o)
        }
        var top = JSONObject()
        for (ns, body) in namespaces {
            top[ns] = ["entityTypes": .object(body.entities), "actions": .object(body.actions)]
        }
        return .object(top)
    }

    static func sameSchema(_ a: Schema, _ b: Schema) -> Bool {
        a.entityTypes == b.entityTypes && a.actions == b.actions
    }

    @Test("reads entity types, actions and common types")
    func reads() throws {
        let schema = try Schema(parsingJSON: """
            {
              "App": {
                "commonTypes": {
                  "Ctx": { "type": "Record", "attributes": { "ip": { "type": "Extension", "name": "ipaddr", "required": false } } },
                  "Name": { "type": "String" }
                },
                "entityTypes": {
                  "User": {
                    "memberOfTypes": ["Group"],
                    "shape": { "type": "Record", "attributes": {
                      "name": { "type": "Name" },
                      "friends": { "type": "Set", "element": { "type": "Entity", "name": "User" } },
                      "group": { "type": "EntityOrCommon", "name": "Group" },
                      "flag": { "type": "Boolean", "required": false }
                    } },
                    "tags": { "type": "Long" }
                  },
                  "Group": {},
                  "Color": { "enum": ["red", "green"] }
                },
                "actions": {
                  "read": { "appliesTo": { "principalTypes": ["User"], "resourceTypes": ["Group"], "context": { "type": "Ctx" } } },
                  "view": { "memberOf": [{ "id": "read" }, { "id": "read", "type": "App::Action" }] }
                }
              }
            }
            """)
        let user = try #require(schema.entityTypes[EntityType(unchecked: "App::User")])
        #expect(user.memberOfTypes == [EntityType(unchecked: "App::Group")])
        #expect(user.attributes.attributes["name"]?.type == .string)
        #expect(user.attributes.attributes["friends"]?.type == .set(.entity(EntityType(unchecked: "App::User"))))
        #expect(user.attributes.attributes["group"]?.type == .entity(EntityType(unchecked: "App::Group")))
        #expect(user.attributes.attributes["flag"] == AttributeType(type: .bool, isRequired: false))
        #expect(user.tags == .long)
        #expect(schema.entityTypes[EntityType(unchecked: "App::Color")]?.enumValues == ["red", "green"])
        let read = EntityUID(type: EntityType(unchecked: "App::Action"), id: "read")
        #expect(schema.actions[read]?.appliesTo?.context.attributes["ip"]?.type == .extension("ipaddr"))
        #expect(schema.actions[EntityUID(type: EntityType(unchecked: "App::Action"), id: "view")]?.memberOf == [read])
    }

    @Test("rejects malformed JSON schemas", arguments: [
        #"[]"#,
        #"{"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {"a": {"type": "Nope"}}}}}}}"#,
        #"{"": {"entityTypes": {"A": {"memberOfTypes": ["B"]}}}}"#,
        #"{"": {"entityTypes": {"A": {"bogus": 1}}}}"#,
        #"{"": {"actions": {"a": {"memberOf": [{"id": "b"}]}}}}"#,
        #"{"": {"commonTypes": {"T": {"type": "U"}, "U": {"type": "T"}}}}"#,
        #"{"": {"entityTypes": {"A": {}}, "actions": {"a": {"appliesTo": {"principalTypes": ["A"]}}}}}"#,
        #"{"": {"entityTypes": {"A": {"shape": {"type": "Long"}}}}}"#,
        #"{"": {"entityTypes": {"A": {"shape": {"type": "Set"}}}}}"#,
    ])
    func rejects(text: String) {
        #expect(throws: CedarError.self) { try Schema(parsingJSON: text) }
    }

    @Test("every corpus schema reads the same from Cedar syntax and from its JSON form")
    func corpusRoundTrip() throws {
        let corpus = try #require(PolicyCorpus.corpusDirectory)
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".cedarschema") }.sorted()
        var mismatches: [String] = []
        for name in names {
            let text = try String(contentsOf: corpus.appendingPathComponent(name), encoding: .utf8)
            let fromCedar = try Schema(parsingCedar: text)
            let fromJSON = try Schema(json: Self.json(fromCedar))
            if !Self.sameSchema(fromCedar, fromJSON) { mismatches.append(name) }
        }
        #expect(names.count == 7809)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
