/// One generated differential case: a policy set (with template links), entities and requests, all as text.
struct DiffCase {
    struct Link {
        var templateID: String
        var newID: String
        var values: [(slot: String, uid: DiffUID)]
    }

    struct Request {
        var principal: DiffUID
        var action: DiffUID
        var resource: DiffUID
        /// The context record as JSON text.
        var context: String

        var json: String {
            "{\"principal\":\(self.principal.json),\"action\":\(self.action.json),\"resource\":\(self.resource.json),"
                + "\"context\":\(self.context)}"
        }
    }

    var seed: UInt64
    var index: Int
    /// Each policy's text, in order: policy `i` gets the ID `policy<i>`.
    var policies: [String]
    var links: [Link]
    var entitiesJSON: String
    var requests: [Request]
    /// Cedar schema text, when the case is checked with a schema (schema-directed entity parsing, request
    /// validation, action entities from the schema).
    var schema: String? = nil

    var policyText: String { self.policies.joined(separator: "\n") }

    /// The case as the oracle script's input object.
    var oracleJSON: String {
        let links = self.links.map { link in
            let values = link.values.map { "\(DiffText.jsonString($0.slot)):\($0.uid.json)" }.joined(separator: ",")
            return "{\"template_id\":\(DiffText.jsonString(link.templateID)),\"new_id\":\(DiffText.jsonString(link.newID)),"
                + "\"values\":{\(values)}}"
        }
        let schema = self.schema.map { ",\"schema\":\(DiffText.jsonString($0))" } ?? ""
        return "{\"policies\":\(DiffText.jsonString(self.policyText)),\"entities\":\(self.entitiesJSON),"
            + "\"links\":[\(links.joined(separator: ","))],\"requests\":[\(self.requests.map(\.json).joined(separator: ","))]\(schema)}"
    }
}

/// Generates random but well-formed-looking Cedar workloads from a seed.
///
/// Everything is rendered as text by hand (policies as Cedar text, data as JSON) so the generator does not
/// depend on our parser or JSON reader being right. Types are tracked loosely: most expressions are
/// well-typed, some are deliberately not (type errors), attributes are sometimes missing, arithmetic
/// sometimes overflows and extension constructors sometimes get bad strings, so that the engines must
/// agree on errors as well as on decisions.
struct DiffGenerator {
    /// The loose types expressions are generated at.
    enum GT: CaseIterable {
        case bool, long, string, entity, setLong, setString, setEntity, record, decimal, ip, datetime, duration
    }

    var rng: DiffRandom
    /// While generating entity and context data, bad extension literals are much rarer (one spoils a whole case).
    private var inData = false
    /// Whether this case comes with a schema: data then conforms to it (almost always) and may use the
    /// schema-directed JSON forms.
    private var schemaMode = false
    /// For schema mode: each entity type's declared attributes (name, type, required) and whether it has tags.
    private var declared: [String: [(String, GT, Bool)]] = [:]
    private var tagged: Set<String> = []
    private var requiredContext: Set<String> = []
    private var actionParents: [String: [String]] = [:]

    // The world of one case.
    private var users: [DiffUID] = []
    private var groups: [DiffUID] = []
    private var bots: [DiffUID] = []
    private var docs: [DiffUID] = []
    private var folders: [DiffUID] = []
    private var actions: [DiffUID] = []
    private var actionGroups: [DiffUID] = []
    private var ghosts: [DiffUID] = []

    /// Attributes entities may carry, with their usual type.
    static let entityAttrs: [(String, GT)] = [
        ("age", .long), ("name", .string), ("active", .bool), ("roles", .setString), ("manager", .entity),
        ("ip", .ip), ("score", .decimal), ("since", .datetime), ("ttl", .duration), ("info", .record),
        ("nums", .setLong), ("friends", .setEntity), ("weird key", .string), ("if", .long),
    ]
    /// Context keys, with their usual type.
    static let contextAttrs: [(String, GT)] = [
        ("ip", .ip), ("now", .datetime), ("n", .long), ("flag", .bool), ("s", .string), ("list", .setLong),
        ("rec", .record), ("dur", .duration), ("who", .entity), ("amount", .decimal), ("tags", .setString),
    ]
    static let tagKeys = ["t1", "t2", "env", "a b"]
    /// Includes canonically equivalent spellings (Å as U+00C5 and U+212B, é precomposed and decomposed): Cedar
    /// compares strings byte-wise, Swift's `String ==` does not.
    static let strings = [
        "", "a", "abc", "a*b", "hello world", "Ünïcode", "x\"y", "back\\slash", "tab\there", "αβγ", "ab", "*", "\u{C5}", "\u{212B}",
        "\u{E9}", "e\u{301}",
    ]

    init(seed: UInt64) { self.rng = DiffRandom(seed: seed) }

    // MARK: - Cases

    /// Generates case `index` of the run seeded `seed`; each case has its own derived seed, so one case can be
    /// regenerated alone.
    static func makeCase(seed: UInt64, index: Int, requests: Int) -> DiffCase {
        var mix = DiffRandom(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        var gen = DiffGenerator(seed: mix.next())
        return gen.generateCase(seed: seed, index: index, requestCount: requests)
    }

    /// A generator whose world (entities, actions) is set up, for generating expressions on their own.
    static func withWorld(seed: UInt64) -> DiffGenerator {
        var generator = DiffGenerator(seed: seed)
        _ = generator.makeWorld()
        return generator
    }

    mutating func generateCase(seed: UInt64, index: Int, requestCount: Int) -> DiffCase {
        self.schemaMode = self.rng.chance(0.3)
        if self.schemaMode { self.declareSchema() }
        let entities = self.makeWorld()
        var policies: [String] = []
        var templates: [(id: String, slots: [String])] = []
        let count = self.rng.int(4...36)
        for i in 0..<count {
            if self.rng.chance(0.08) {
                let (text, slots) = self.template()
                templates.append((id: "policy\(i)", slots: slots))
                policies.append(text)
            } else {
                policies.append(self.policy())
            }
        }
        var links: [DiffCase.Link] = []
        for t in templates {
            for _ in 0..<self.rng.int(0...3) {
                let values = t.slots.map { slot in
                    (slot: slot, uid: slot == "?principal" ? self.principalUID() : self.resourceUID())
                }
                links.append(DiffCase.Link(templateID: t.id, newID: "link\(links.count)", values: values))
            }
        }
        var requests: [DiffCase.Request] = []
        for _ in 0..<requestCount {
            requests.append(
                DiffCase.Request(
                    principal: self.rng.chance(0.05) ? self.resourceUID() : self.principalUID(),
                    action: self.rng.chance(0.04) ? DiffUID(type: "Action", id: "unknown") : self.rng.pick(self.actions),
                    resource: self.rng.chance(0.05) ? self.principalUID() : self.resourceUID(),
                    context: self.context()
                )
            )
        }
        return DiffCase(
            seed: seed, index: index, policies: policies, links: links, entitiesJSON: entities, requests: requests,
            schema: self.schemaMode ? self.schemaText() : nil)
    }

    // MARK: - World

    private mutating func ids(_ prefix: String, _ n: Int) -> [String] {
        (0..<n).map { i in
            if self.rng.chance(0.06) {
                return self.rng.pick(["", "ü\(i)", "q\"\(i)", "sp ace\(i)", "n\n\(i)", "\(prefix)::\(i)", "\u{C5}", "\u{212B}", "e\u{301}", "\u{E9}"])
            }
            return "\(prefix)\(i)"
        }
    }

    /// Builds the entity hierarchy of a case and returns it as entities JSON.
    private mutating func makeWorld() -> String {
        self.inData = true
        defer { self.inData = false }
        let ns = !self.schemaMode && self.rng.chance(0.3) ? "Ns::" : ""
        let groupCount = self.rng.chance(0.1) ? self.rng.int(20...40) : self.rng.int(2...8)  // sometimes a deep chain
        self.groups = self.ids("g", groupCount).map { DiffUID(type: "Group", id: $0) }
        self.users = self.ids("u", self.rng.int(2...8)).map { DiffUID(type: "User", id: $0) }
        self.bots = self.ids("b", self.rng.int(0...2)).map { DiffUID(type: ns + "Bot", id: $0) }
        self.folders = self.ids("f", self.rng.int(1...6)).map { DiffUID(type: "Folder", id: $0) }
        self.docs = self.ids("d", self.rng.int(2...8)).map { DiffUID(type: ns + "Doc", id: $0) }
        self.actions = ["read", "write", "delete", "list", "admin"].map { DiffUID(type: "Action", id: $0) }
        self.actionGroups = ["readOnly", "all"].map { DiffUID(type: "Action", id: $0) }
        self.ghosts = [DiffUID(type: "User", id: "ghost"), DiffUID(type: "Group", id: "ghost"), DiffUID(type: ns + "Doc", id: "ghost")]
        // Deduplicate IDs made equal by chance.
        func unique(_ list: [DiffUID]) -> [DiffUID] {
            var seen: Set<DiffUID> = []
            return list.filter { seen.insert($0).inserted }
        }
        self.groups = unique(self.groups)
        self.users = unique(self.users)
        self.bots = unique(self.bots)
        self.folders = unique(self.folders)
        self.docs = unique(self.docs)

        var out: [String] = []
        let deepChain = self.rng.chance(0.4)
        // Groups form a DAG: a group's parents come later in the list (chains and diamonds).
        for (i, g) in self.groups.enumerated() {
            var parents: [DiffUID] = []
            let later = Array(self.groups[(i + 1)...])
            if deepChain, i + 1 < self.groups.count { parents.append(self.groups[i + 1]) }
            parents += self.rng.subset(later, 0.3)
            if self.rng.chance(0.05) { parents.append(self.ghosts[1]) }
            // Rarely, a cycle back to the first group: both engines must agree on what `in` means then.
            if i == self.groups.count - 1, i > 0, !self.schemaMode, self.rng.chance(0.03) { parents.append(self.groups[0]) }
            out.append(self.entityJSON(g, parents: parents))
        }
        for u in self.users + self.bots {
            var parents = self.rng.subset(self.groups, 0.3)
            if self.rng.chance(0.1), let other = self.users.first, other != u { parents.append(other) }
            out.append(self.entityJSON(u, parents: parents))
        }
        for (i, f) in self.folders.enumerated() {
            let later = Array(self.folders[(i + 1)...])
            out.append(self.entityJSON(f, parents: self.rng.subset(later, 0.5)))
        }
        for d in self.docs {
            var parents = self.rng.subset(self.folders, 0.4)
            if self.rng.chance(0.1) { parents.append(self.rng.pick(self.groups)) }
            out.append(self.entityJSON(d, parents: parents))
        }
        // Action groups: readOnly ∋ read, list; all ∋ readOnly, write, delete. With a schema, the schema declares
        // them and the entities leave them out.
        self.actionParents = [:]
        for a in self.actions {
            var parents: [DiffUID] = []
            if a.id == "read" || a.id == "list" { parents.append(self.actionGroups[0]) }
            if a.id == "write" || a.id == "delete" || self.rng.chance(0.2) { parents.append(self.actionGroups[1]) }
            self.actionParents[a.id] = parents.map(\.id)
            if !self.schemaMode {
                out.append("{\"uid\":\(a.json),\"attrs\":{},\"parents\":[\(parents.map(\.json).joined(separator: ","))]}")
            }
        }
        if !self.schemaMode {
            out.append("{\"uid\":\(self.actionGroups[0].json),\"attrs\":{},\"parents\":[\(self.actionGroups[1].json)]}")
            out.append("{\"uid\":\(self.actionGroups[1].json),\"attrs\":{},\"parents\":[]}")
        }
        if self.rng.chance(0.5) {
            for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, self.rng.below(i + 1)) }
        }
        if self.rng.chance(0.01), let first = out.first { out.append(first) }  // duplicate entity: both must reject
        return "[" + out.joined(separator: ",\n") + "]"
    }

    private mutating func entityJSON(_ uid: DiffUID, parents: [DiffUID]) -> String {
        if self.schemaMode { return self.conformingEntityJSON(uid, parents: parents) }
        var attrs: [(String, DiffValue)] = []
        for (name, type) in Self.entityAttrs where self.rng.chance(0.75) {
            let t = self.rng.chance(0.04) ? self.rng.pick(GT.allCases) : type
            attrs.append((name, self.value(t, depth: 2)))
        }
        var text = "{\"uid\":\(uid.json),\"attrs\":\(DiffValue.record(attrs).json),\"parents\":[\(parents.map(\.json).joined(separator: ","))]"
        if self.rng.chance(0.5) {
            var tags: [(String, DiffValue)] = []
            for key in Self.tagKeys where self.rng.chance(0.5) {
                tags.append((key, self.rng.chance(0.7) ? .string(self.rng.pick(Self.strings)) : self.value(.long, depth: 0)))
            }
            text += ",\"tags\":\(DiffValue.record(tags).json)"
        }
        return text + "}"
    }

    /// Contexts Cedar must reject (or accept) for reasons of shape; always JSON objects, as cedarpy takes a dict.
    static let oddContexts = [
        "{\"a\":1.5}", "{\"a\":null}", "{\"a\":{\"__extn\":{\"fn\":\"bogus\",\"arg\":\"x\"}}}",
        "{\"a\":{\"__entity\":{\"type\":\"User\"}}}", "{\"a\":{\"__extn\":{\"fn\":\"ip\"}}}",
        "{\"__entity\":{\"type\":\"User\",\"id\":\"x\"}}", "{\"__extn\":{\"fn\":\"ip\",\"arg\":\"1.1.1.1\"}}",
        "{\"a\":{\"__entity\":{\"type\":\"User\",\"id\":\"x\",\"extra\":1}}}", "{\"a\":{\"__entity\":{\"type\":\"Bad Type\",\"id\":\"x\"}}}",
        "{\"a\":{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.0\",\"extra\":1}}}", "{\"a\":{\"type\":\"User\",\"id\":\"x\"}}",
        "{\"a\":[1,\"b\",true]}", "{\"a\":{\"b\":{\"c\":{\"d\":[{\"e\":1}]}}}}", "{\"\":1}", "{\"n\":9223372036854775807}",
        "{\"n\":-9223372036854775808}", "{\"a\":{\"__extn\":{\"fn\":\"ip\",\"arg\":1}}}", "{\"a\":{\"__entity\":\"User::\\\"x\\\"\"}}",
    ]

    private mutating func context() -> String {
        if self.rng.chance(0.01) { return self.rng.pick(Self.oddContexts) }
        self.inData = true
        defer { self.inData = false }
        var attrs: [(String, DiffValue)] = []
        if self.schemaMode {
            for (name, type) in Self.contextAttrs where self.requiredContext.contains(name) || self.rng.chance(0.8) {
                attrs.append((name, self.value(self.rng.chance(0.001) ? self.rng.pick(GT.allCases) : type, depth: 2)))
            }
            return self.rng.chance(0.5) ? DiffValue.record(attrs).implicitJSON : DiffValue.record(attrs).json
        }
        for (name, type) in Self.contextAttrs where self.rng.chance(0.85) {
            let t = self.rng.chance(0.03) ? self.rng.pick(GT.allCases) : type
            attrs.append((name, self.value(t, depth: 2)))
        }
        return DiffValue.record(attrs).json
    }

    private mutating func principalUID() -> DiffUID {
        switch self.rng.weighted([10, 3, 2, 1]) {
        case 0: self.rng.pick(self.users)
        case 1: self.rng.pick(self.groups)
        case 2: self.bots.isEmpty ? self.rng.pick(self.users) : self.rng.pick(self.bots)
        default: self.ghosts[0]
        }
    }

    private mutating func resourceUID() -> DiffUID {
        switch self.rng.weighted([10, 3, 1]) {
        case 0: self.rng.pick(self.docs)
        case 1: self.rng.pick(self.folders)
        default: self.ghosts[2]
        }
    }

    private mutating func anyUID() -> DiffUID {
        switch self.rng.below(4) {
        case 0: self.principalUID()
        case 1: self.resourceUID()
        case 2: self.rng.pick(self.groups)
        default: self.rng.pick(self.actions + self.actionGroups)
        }
    }

    // MARK: - Values

    private mutating func long() -> Int64 {
        switch self.rng.weighted([12, 3, 2]) {
        case 0: Int64(self.rng.int(-5...20))
        case 1: Int64(self.rng.int(-1_000_000...1_000_000))
        default: self.rng.pick([Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, 1 << 32, 3_037_000_500])
        }
    }

    private mutating func decimalString() -> String {
        if self.rng.chance(0.05) { return self.rng.pick(["1.23456", "abc", "1.", ".5", "922337203685477.5808", "1e3", "922337203685477.9999"]) }
        let whole = self.rng.pick(["0", "1", "-1", "12", "-3", "92233720368547", "-92233720368547"])
        let frac = self.rng.pick(["0", "5", "25", "1234", "9999", "0001"])
        return "\(whole).\(frac)"
    }

    private mutating func ipString() -> String {
        switch self.rng.weighted([6, 3, 3, 1]) {
        case 0: return self.rng.pick(["10.0.0.1", "10.1.2.3", "192.168.1.10", "127.0.0.1", "224.0.0.5", "8.8.8.8", "0.0.0.0"])
        case 1: return self.rng.pick(["10.0.0.0/8", "192.168.0.0/16", "127.0.0.0/24", "10.0.0.1/32", "0.0.0.0/0"])
        case 2: return self.rng.pick(["::1", "fe80::1", "2001:db8::/32", "ff02::1", "::", "2001:db8::1", "::ffff:a00:1"])
        default: return self.rng.pick(["10.0.0", "1.2.3.4/33", "::g", "010.0.0.1", "10.0.0.1/", "abc", "::ffff:10.0.0.1"])
        }
    }

    private mutating func datetimeString() -> String {
        switch self.rng.weighted([5, 5, 3, 1]) {
        case 0: return self.rng.pick(["2024-10-15", "2023-01-01", "1970-01-01", "2024-02-29", "2030-12-31"])
        case 1: return self.rng.pick(["2024-10-15T11:35:00Z", "2024-10-15T00:00:00Z", "2023-06-01T23:59:59Z"])
        case 2: return self.rng.pick(["2024-10-15T11:35:00.123Z", "2024-10-15T11:35:00+0100", "2024-10-15T11:35:00.500-0230"])
        default: return self.rng.pick(["2024-13-01", "2024-10-15T25:00:00Z", "24-10-15", "2023-02-29", "2024-10-15T11:35Z", "2024-10-15T11:35:00.5Z"])
        }
    }

    private mutating func durationString() -> String {
        switch self.rng.weighted([8, 1]) {
        case 0: return self.rng.pick(["1h", "30m", "1d2h3m4s5ms", "-2d", "0ms", "90s", "1h30m", "-1ms", "100d", "2s"])
        default: return self.rng.pick(["1x", "", "h", "1d1d", "9223372036854775807d", "1m1h"])
        }
    }

    /// A random value of (roughly) the given type.
    private mutating func value(_ type: GT, depth: Int) -> DiffValue {
        let good = self.rng.chance(self.inData ? 0.9995 : 0.97)
        switch type {
        case .bool: return .bool(self.rng.chance(0.5))
        case .long: return .long(self.long())
        case .string: return .string(self.rng.pick(Self.strings))
        case .entity: return .entity(self.schemaMode && self.inData ? self.rng.pick(self.groups) : self.anyUID())
        case .setLong: return .set((0..<self.rng.int(0...4)).map { _ in .long(Int64(self.rng.int(-2...6))) })
        case .setString: return .set((0..<self.rng.int(0...3)).map { _ in .string(self.rng.pick(Self.strings)) })
        case .setEntity:
            return .set((0..<self.rng.int(0...3)).map { _ in .entity(self.schemaMode && self.inData ? self.rng.pick(self.users) : self.anyUID()) })
        case .record:
            var entries: [(String, DiffValue)] = []
            if self.rng.chance(0.85) { entries.append(("level", .long(Int64(self.rng.int(0...5))))) }
            if self.rng.chance(0.7) { entries.append(("label", .string(self.rng.pick(Self.strings)))) }
            if depth > 0, self.rng.chance(0.7) {
                var deep: [(String, DiffValue)] = []
                if self.rng.chance(0.8) { deep.append(("flag", .bool(self.rng.chance(0.5)))) }
                if self.rng.chance(0.6) { deep.append(("n", .long(Int64(self.rng.int(-3...3))))) }
                entries.append(("deep", .record(deep)))
            }
            return .record(entries)
        case .decimal: return .ext("decimal", good ? self.decimalString().replacingBad() : self.decimalString())
        case .ip: return .ext("ip", good ? self.ipString().replacingBadIP() : self.ipString())
        case .datetime: return .ext("datetime", good ? self.datetimeString().replacingBadDatetime() : self.datetimeString())
        case .duration: return .ext("duration", good ? self.durationString().replacingBadDuration() : self.durationString())
        }
    }

    // MARK: - Schema

    /// Schema type names of the generator's types (entity attributes: `manager`/`who` are Groups, `friends` Users).
    private static func schemaType(_ t: GT) -> String {
        switch t {
        case .bool: "Bool"
        case .long: "Long"
        case .string: "String"
        case .entity: "Group"
        case .setLong: "Set<Long>"
        case .setString: "Set<String>"
        case .setEntity: "Set<User>"
        case .record: "Info"
        case .decimal: "decimal"
        case .ip: "ipaddr"
        case .datetime: "datetime"
        case .duration: "duration"
        }
    }

    /// Chooses each entity type's attributes (required or optional), which types have tags, and the required
    /// context keys.
    private mutating func declareSchema() {
        self.declared = [:]
        for type in ["User", "Group", "Bot", "Doc", "Folder"] {
            self.declared[type] = Self.entityAttrs.filter { _ in self.rng.chance(0.7) }.map { ($0.0, $0.1, self.rng.chance(0.5)) }
        }
        self.tagged = Set(["User", "Doc", "Group"].filter { _ in self.rng.chance(0.6) })
        self.requiredContext = Set(Self.contextAttrs.map(\.0).filter { _ in self.rng.chance(0.4) })
    }

    private func schemaText() -> String {
        var out = "type Info = { level?: Long, \"label\"?: String, deep?: { flag?: Bool, n?: Long } };\n"
        let memberOf = ["User": "Group, User", "Group": "Group", "Bot": "Group, User", "Doc": "Folder, Group", "Folder": "Folder"]
        for type in ["User", "Group", "Bot", "Doc", "Folder"] {
            let attrs = (self.declared[type] ?? []).map { "\(DiffText.cedarString($0.0))\($0.2 ? "" : "?"): \(Self.schemaType($0.1))" }
            out += "entity \(type) in [\(memberOf[type] ?? "")] { \(attrs.joined(separator: ", ")) }"
            out += self.tagged.contains(type) ? " tags String;\n" : ";\n"
        }
        let context = Self.contextAttrs.map { "\($0.0)\(self.requiredContext.contains($0.0) ? "" : "?"): \(Self.schemaType($0.1))" }
        out += "action all;\naction readOnly in [all];\n"
        for a in self.actions {
            let parents = (self.actionParents[a.id] ?? []).map { DiffText.cedarString($0) }.joined(separator: ", ")
            out += "action \(DiffText.cedarString(a.id))\(parents.isEmpty ? "" : " in [\(parents)]") appliesTo {\n"
            out += "  principal: [User, Group, Bot], resource: [Doc, Folder],\n  context: { \(context.joined(separator: ", ")) }\n};\n"
        }
        return out
    }

    /// An entity whose attributes and tags conform to the schema (one in a few thousand does not, on purpose).
    private mutating func conformingEntityJSON(_ uid: DiffUID, parents: [DiffUID]) -> String {
        var attrs: [(String, DiffValue)] = []
        for (name, type, required) in self.declared[uid.type] ?? [] where required || self.rng.chance(0.7) {
            attrs.append((name, self.value(self.rng.chance(0.0003) ? self.rng.pick(GT.allCases) : type, depth: 2)))
        }
        let implicit = self.rng.chance(0.5)
        let record = DiffValue.record(attrs)
        var text = "{\"uid\":\(uid.json),\"attrs\":\(implicit ? record.implicitJSON : record.json),"
            + "\"parents\":[\(parents.map(\.json).joined(separator: ","))]"
        if self.tagged.contains(uid.type), self.rng.chance(0.7) {
            let tags = Self.tagKeys.filter { _ in self.rng.chance(0.5) }.map { ($0, DiffValue.string(self.rng.pick(Self.strings))) }
            text += ",\"tags\":\(DiffValue.record(tags).json)"
        }
        return text + "}"
    }

    // MARK: - Policies

    private mutating func annotations() -> String {
        var out = ""
        if self.rng.chance(0.2) { out += "@id(\(DiffText.cedarString("rule-\(self.rng.below(100))")))\n" }
        if self.rng.chance(0.1) { out += "@advice(\(DiffText.cedarString(self.rng.pick(Self.strings))))\n" }
        if self.rng.chance(0.05) { out += "@flag\n" }
        return out
    }

    private mutating func scopeEntity(principal: Bool) -> DiffUID {
        principal ? (self.rng.chance(0.6) ? self.rng.pick(self.groups) : self.principalUID()) : (self.rng.chance(0.5) ? self.rng.pick(self.folders) : self.resourceUID())
    }

    private mutating func scopeType(principal: Bool) -> String {
        principal
            ? self.rng.pick(["User", "Group", self.bots.first?.type ?? "User", "Doc"])
            : self.rng.pick([self.docs[0].type, "Folder", "User", "Ns::Doc"])
    }

    private mutating func scope(_ variable: String, principal: Bool, slot: Bool) -> String {
        if slot {
            let s = "?\(variable)"
            switch self.rng.below(3) {
            case 0: return "\(variable) == \(s)"
            case 1: return "\(variable) in \(s)"
            default: return "\(variable) is \(self.scopeType(principal: principal)) in \(s)"
            }
        }
        switch self.rng.weighted([5, 3, 4, 2, 2]) {
        case 0: return variable
        case 1: return "\(variable) == \(self.scopeEntity(principal: principal).cedar)"
        case 2: return "\(variable) in \(self.scopeEntity(principal: principal).cedar)"
        case 3: return "\(variable) is \(self.scopeType(principal: principal))"
        default: return "\(variable) is \(self.scopeType(principal: principal)) in \(self.scopeEntity(principal: principal).cedar)"
        }
    }

    private mutating func actionScope() -> String {
        switch self.rng.weighted([5, 4, 3, 3]) {
        case 0: return "action"
        case 1: return "action == \(self.rng.pick(self.actions + self.actionGroups).cedar)"
        case 2: return "action in \(self.rng.pick(self.actionGroups + self.actions).cedar)"
        default:
            let list = (0..<self.rng.int(1...3)).map { _ in self.rng.pick(self.actions + self.actionGroups).cedar }
            return "action in [\(list.joined(separator: ", "))]"
        }
    }

    private mutating func conditions() -> String {
        var out = ""
        for _ in 0..<self.rng.weighted([3, 5, 3, 1]) {
            let kind = self.rng.chance(0.75) ? "when" : "unless"
            out += " \(kind) { \(self.expr(.bool, depth: self.rng.int(1...4))) }"
            if self.rng.chance(0.1) { out += " // note" }
            out += "\n"
        }
        return out
    }

    private mutating func policy() -> String {
        let effect = self.rng.chance(0.7) ? "permit" : "forbid"
        let p = self.scope("principal", principal: true, slot: false)
        let a = self.actionScope()
        let r = self.scope("resource", principal: false, slot: false)
        let sep = self.rng.chance(0.5) ? ", " : ",\n  "
        return self.annotations() + "\(effect) (\(p)\(sep)\(a)\(sep)\(r))\n" + self.conditions() + ";"
    }

    private mutating func template() -> (String, [String]) {
        let effect = self.rng.chance(0.7) ? "permit" : "forbid"
        var slots: [String] = []
        let pSlot = self.rng.chance(0.7)
        let rSlot = !pSlot || self.rng.chance(0.5)
        if pSlot { slots.append("?principal") }
        if rSlot { slots.append("?resource") }
        let p = self.scope("principal", principal: true, slot: pSlot)
        let r = self.scope("resource", principal: false, slot: rSlot)
        return (self.annotations() + "\(effect)(\(p), \(self.actionScope()), \(r))\n" + self.conditions() + ";", slots)
    }

    // MARK: - Expressions

    private static let comparisons = ["<", "<=", ">", ">="]

    /// Wraps in parentheses most of the time; sometimes leaves precedence to the parser.
    private mutating func paren(_ s: String) -> String { self.rng.chance(0.92) ? "(\(s))" : s }

    /// An attribute read of the given type from `principal`, `resource`, `context` or an entity literal.
    private mutating func attribute(_ type: GT) -> String {
        let fromContext = self.rng.chance(0.4)
        let pool = fromContext ? Self.contextAttrs : Self.entityAttrs
        var candidates = pool.filter { $0.1 == type }.map(\.0)
        var nested: String? = nil
        if type == .long || type == .string || type == .bool, self.rng.chance(0.3) {
            nested = type == .long ? self.rng.pick(["level", "deep.n"]) : type == .string ? "label" : "deep.flag"
            candidates = pool.filter { $0.1 == .record }.map(\.0)
        }
        if candidates.isEmpty || self.rng.chance(0.03) { candidates = pool.map(\.0) }  // maybe the wrong type
        let name = self.rng.pick(candidates)
        let base: String
        if fromContext {
            base = "context"
        } else {
            switch self.rng.weighted([6, 6, 1, 1]) {
            case 0: base = "principal"
            case 1: base = "resource"
            case 2: base = "action"
            default: base = self.anyUID().cedar
            }
        }
        var out = base + DiffText.access(name)
        if let nested { out += nested.split(separator: ".").map { DiffText.access(String($0)) }.joined() }
        return out
    }

    /// A `has` test, sometimes guarding a use of the attribute it tests.
    private mutating func hasTest() -> String {
        let fromContext = self.rng.chance(0.3)
        let base = fromContext ? "context" : self.rng.pick(["principal", "resource", "principal", "action"])
        let (name, type) = self.rng.pick(fromContext ? Self.contextAttrs : Self.entityAttrs)
        let nested = type == .record && self.rng.chance(0.5) ? self.rng.pick([".level", ".deep", ".deep.flag"]) : ""
        let key = nested.isEmpty || !DiffText.isIdentifier(name) || DiffText.keywords.contains(name) ? DiffText.hasKey(name) : name + nested
        let test = "\(base) has \(key)"
        if self.rng.chance(0.5) {
            let use: String
            switch type {
            case .long: use = "\(base)\(DiffText.access(name)) \(self.rng.pick(Self.comparisons)) \(self.expr(.long, depth: 0))"
            case .string: use = "\(base)\(DiffText.access(name)) like \(self.pattern())"
            case .bool: use = "\(base)\(DiffText.access(name))"
            case .setString: use = "\(base)\(DiffText.access(name)).contains(\(self.expr(.string, depth: 0)))"
            case .entity: use = "\(base)\(DiffText.access(name)) in \(self.expr(.entity, depth: 0))"
            case .ip: use = "\(base)\(DiffText.access(name)).isInRange(\(self.expr(.ip, depth: 0)))"
            default: use = "\(base)\(DiffText.access(name)) == \(self.expr(type, depth: 0))"
            }
            return "(\(test) && \(use))"
        }
        return test
    }

    /// A `like` pattern string literal with wildcards and escaped stars.
    private mutating func pattern() -> String {
        var body = ""
        let source = self.rng.pick(Self.strings)
        for ch in source {
            switch self.rng.weighted([6, 1, 1]) {
            case 0: body += ch == "*" ? "\\*" : DiffText.cedarString(String(ch)).dropFirst().dropLast()
            case 1: body += "*"
            default: break
            }
        }
        if self.rng.chance(0.3) { body = "*" + body }
        if self.rng.chance(0.3) { body += "*" }
        return "\"\(body)\""
    }

    /// An expression of (roughly) the given type.
    mutating func expr(_ wanted: GT, depth: Int) -> String {
        let type = self.rng.chance(0.02) ? self.rng.pick(GT.allCases) : wanted  // occasional type error
        if depth <= 0 || self.rng.chance(0.15) {
            return self.rng.chance(0.5) && type != .bool ? self.attribute(type) : self.value(type, depth: 1).cedar
        }
        let d = depth - 1
        if self.rng.chance(0.06) {
            return "(if \(self.expr(.bool, depth: d)) then \(self.expr(type, depth: d)) else \(self.expr(type, depth: d)))"
        }
        switch type {
        case .bool: return self.boolExpr(depth: d)
        case .long:
            switch self.rng.weighted([3, 3, 2, 2, 1, 1, 1]) {
            case 0: return self.attribute(.long)
            case 1: return self.paren("\(self.expr(.long, depth: d)) \(self.rng.pick(["+", "-"])) \(self.expr(.long, depth: d))")
            case 2: return self.paren("\(self.expr(.long, depth: d)) * \(self.expr(.long, depth: d))")
            case 3: return self.value(.long, depth: 0).cedar
            case 4: return "-\(self.paren(self.expr(.long, depth: d)))"
            case 5:
                let m = self.rng.pick(["toMilliseconds", "toSeconds", "toMinutes", "toHours", "toDays"])
                return "\(self.paren(self.expr(.duration, depth: d))).\(m)()"
            default: return "\(self.attribute(.entity)).getTag(\(DiffText.cedarString(self.rng.pick(Self.tagKeys))))"
            }
        case .string:
            switch self.rng.weighted([3, 2, 1]) {
            case 0: return self.attribute(.string)
            case 1: return self.value(.string, depth: 0).cedar
            default:
                let who = self.rng.pick(["principal", "resource", self.anyUID().cedar])
                return "\(who).getTag(\(DiffText.cedarString(self.rng.pick(Self.tagKeys))))"
            }
        case .entity:
            switch self.rng.weighted([3, 3, 1, 2]) {
            case 0: return self.rng.pick(["principal", "resource", "action"])
            case 1: return self.anyUID().cedar
            case 2: return self.rng.pick(self.groups).cedar
            default: return self.attribute(.entity)
            }
        case .setLong, .setString, .setEntity:
            let element: GT = type == .setLong ? .long : type == .setString ? .string : .entity
            if self.rng.chance(0.5) { return self.attribute(type) }
            let items = (0..<self.rng.int(0...3)).map { _ in self.expr(element, depth: d) }
            return "[" + items.joined(separator: ", ") + (self.rng.chance(0.1) && !items.isEmpty ? ",]" : "]")
        case .record:
            if self.rng.chance(0.5) { return self.attribute(.record) }
            var entries: [String] = []
            if self.rng.chance(0.8) { entries.append("level: \(self.expr(.long, depth: d))") }
            if self.rng.chance(0.5) { entries.append("\"label\": \(self.expr(.string, depth: d))") }
            if self.rng.chance(0.4) { entries.append("deep: {flag: \(self.expr(.bool, depth: d))}") }
            return "{" + entries.joined(separator: ", ") + "}"
        case .decimal:
            return self.rng.chance(0.5) ? self.attribute(.decimal) : self.value(.decimal, depth: 0).cedar
        case .ip:
            return self.rng.chance(0.4) ? self.attribute(.ip) : self.value(.ip, depth: 0).cedar
        case .datetime:
            switch self.rng.weighted([2, 2, 2, 1]) {
            case 0: return self.attribute(.datetime)
            case 1: return self.value(.datetime, depth: 0).cedar
            case 2: return "\(self.paren(self.expr(.datetime, depth: d))).offset(\(self.expr(.duration, depth: d)))"
            default: return "\(self.paren(self.expr(.datetime, depth: d))).toDate()"
            }
        case .duration:
            switch self.rng.weighted([2, 2, 1, 1]) {
            case 0: return self.attribute(.duration)
            case 1: return self.value(.duration, depth: 0).cedar
            case 2: return "\(self.paren(self.expr(.datetime, depth: d))).durationSince(\(self.expr(.datetime, depth: d)))"
            default: return "\(self.paren(self.expr(.datetime, depth: d))).toTime()"
            }
        }
    }

    private mutating func boolExpr(depth d: Int) -> String {
        switch self.rng.weighted([4, 4, 2, 3, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2, 2, 1]) {
        case 0: return self.paren("\(self.expr(.bool, depth: d)) && \(self.expr(.bool, depth: d))")
        case 1: return self.paren("\(self.expr(.bool, depth: d)) || \(self.expr(.bool, depth: d))")
        case 2: return "!\(self.paren(self.expr(.bool, depth: d)))"
        case 3:
            return self.paren("\(self.expr(.long, depth: d)) \(self.rng.pick(Self.comparisons)) \(self.expr(.long, depth: d))")
        case 4:
            let t = self.rng.pick(GT.allCases)
            let u = self.rng.chance(0.8) ? t : self.rng.pick(GT.allCases)
            return self.paren("\(self.expr(t, depth: d)) \(self.rng.pick(["==", "!="])) \(self.expr(u, depth: d))")
        case 5:
            let rhs = self.rng.chance(0.7) ? self.expr(.entity, depth: d) : self.expr(.setEntity, depth: d)
            return self.paren("\(self.expr(.entity, depth: d)) in \(rhs)")
        case 6: return self.hasTest()
        case 7: return self.paren("\(self.expr(.string, depth: d)) like \(self.pattern())")
        case 8:
            let t = self.rng.chance(0.5) ? self.scopeType(principal: true) : self.scopeType(principal: false)
            if self.rng.chance(0.4) {
                return self.paren("\(self.expr(.entity, depth: d)) is \(t) in \(self.expr(.entity, depth: d))")
            }
            return self.paren("\(self.expr(.entity, depth: d)) is \(t)")
        case 9:
            let (set, element): (GT, GT) = self.rng.pick([(.setLong, .long), (.setString, .string), (.setEntity, .entity)])
            switch self.rng.below(4) {
            case 0: return "\(self.paren(self.expr(set, depth: d))).contains(\(self.expr(element, depth: d)))"
            case 1: return "\(self.paren(self.expr(set, depth: d))).containsAll(\(self.expr(set, depth: d)))"
            case 2: return "\(self.paren(self.expr(set, depth: d))).containsAny(\(self.expr(set, depth: d)))"
            default: return "\(self.paren(self.expr(set, depth: d))).isEmpty()"
            }
        case 10:
            let who = self.rng.pick(["principal", "resource", "context.who", self.anyUID().cedar])
            return "\(who).hasTag(\(self.expr(.string, depth: 0)))"
        case 11:
            let m = self.rng.pick(["lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual"])
            return "\(self.paren(self.expr(.decimal, depth: d))).\(m)(\(self.expr(.decimal, depth: d)))"
        case 12:
            if self.rng.chance(0.5) {
                return "\(self.paren(self.expr(.ip, depth: d))).isInRange(\(self.expr(.ip, depth: d)))"
            }
            return "\(self.paren(self.expr(.ip, depth: d))).\(self.rng.pick(["isIpv4", "isIpv6", "isLoopback", "isMulticast"]))()"
        case 13:
            let t: GT = self.rng.chance(0.5) ? .datetime : .duration
            return self.paren("\(self.expr(t, depth: d)) \(self.rng.pick(Self.comparisons + ["==", "!="])) \(self.expr(t, depth: d))")
        case 14: return self.value(.bool, depth: 0).cedar
        default: return self.attribute(.bool)
        }
    }
}

extension String {
    // Mostly-valid extension literals: keep the generated string unless it is one of the deliberately bad ones,
    // in which case pick a good one (the bad ones still appear a few percent of the time).
    fileprivate func replacingBad() -> String { Set(["1.23456", "abc", "1.", ".5", "922337203685477.5808", "1e3", "922337203685477.9999"]).contains(self) ? "1.5" : self }
    fileprivate func replacingBadIP() -> String {
        Set(["10.0.0", "1.2.3.4/33", "::g", "010.0.0.1", "10.0.0.1/", "abc", "::ffff:10.0.0.1"]).contains(self) ? "10.0.0.1" : self
    }
    fileprivate func replacingBadDatetime() -> String {
        Set(["2024-13-01", "2024-10-15T25:00:00Z", "24-10-15", "2023-02-29", "2024-10-15T11:35Z", "2024-10-15T11:35:00.5Z"]).contains(self) ? "2024-10-15" : self
    }
    fileprivate func replacingBadDuration() -> String { Set(["1x", "", "h", "1d1d", "9223372036854775807d", "1m1h"]).contains(self) ? "1h" : self }
}
