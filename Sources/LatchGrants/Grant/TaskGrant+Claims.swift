public import LatchCore
public import LatchIdentity

/// A grant's JWT claims (RFC 9068, RFC 8693 `act`, RFC 9449 `cnf`, and Latch's own, prefixed):
/// written by ``GrantToken/mint(_:issuer:key:)`` and read back by the verifier and the stores.
/// Times are whole seconds in the claims.
extension TaskGrant {
    /// The claims of the token for this grant, `iss` = `issuer`.
    public func claims(issuer: String) -> JSONValue {
        var act: JSONValue?
        for actor in self.actors.reversed() {
            var object: [String: JSONValue] = ["sub": .string(actor.description)]
            if let inner = act { object["act"] = inner }
            act = .object(object)
        }
        var claims: [String: JSONValue] = [
            "iss": .string(issuer),
            "sub": .string(self.subject.description),
            "aud": .array(self.audience.sorted().map(JSONValue.string)),
            "client_id": .string(self.holder.description),
            "jti": .string(self.id),
            "iat": .int(UnixTime(milliseconds: self.issuedAt).seconds),
            "exp": .int(UnixTime(milliseconds: self.expiresAt).seconds),
            "cnf": .object(["jkt": .string(self.keyThumbprint)]),
            "task_id": .string(self.taskID),
            "intent": .string(self.intent),
            "latch_scope": .object([
                "tools": .array(self.scope.tools.sorted().map(JSONValue.string)),
                "data_domains": .array(self.scope.dataDomains.sorted().map(JSONValue.string)),
                "destinations": .array(self.scope.destinations.sorted().map(JSONValue.string)),
                "max_sensitivity": .string(self.scope.maxSensitivity.rawValue),
            ]),
            "latch_ancestors": .array(self.ancestors.map(JSONValue.string)),
            "latch_depth": .int(Int64(self.depth)),
        ]
        if let act { claims["act"] = act }
        if let mayAct = self.mayAct { claims["latch_may_act"] = .array(mayAct.map(\.description).sorted().map(JSONValue.string)) }
        return .object(claims)
    }

    /// ``claims(issuer:)`` serialized (the same bytes as its `serializedBytes`: sorted keys, no
    /// whitespace), written directly: minting and storing a grant do this on every issuance, and
    /// building the JSON tree first costs more than the signature.
    public func claimsJSON(issuer: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(640)
        /// A member's name, after `{` when it is the object's first, else after `,`.
        func name(_ key: String, first: Bool = false) {
            out.append(UInt8(ascii: first ? "{" : ","))
            JSONValue.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        func string(_ value: String) { JSONValue.writeString(value, into: &out) }
        func strings(_ values: some Sequence<String>) {
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                string(value)
            }
            out.append(UInt8(ascii: "]"))
        }
        func act(_ index: Int) {
            if index + 1 < self.actors.count {
                name("act", first: true)
                act(index + 1)
                name("sub")
            } else {
                name("sub", first: true)
            }
            string(self.actors[index].description)
            out.append(UInt8(ascii: "}"))
        }
        // Keys in sorted order.
        if self.actors.isEmpty {
            name("aud", first: true)
        } else {
            name("act", first: true)
            act(0)
            name("aud")
        }
        strings(self.audience.sorted())
        name("client_id")
        string(self.holder.description)
        name("cnf")
        name("jkt", first: true)
        string(self.keyThumbprint)
        out.append(UInt8(ascii: "}"))
        name("exp")
        JSONValue.writeInt(UnixTime(milliseconds: self.expiresAt).seconds, into: &out)
        name("iat")
        JSONValue.writeInt(UnixTime(milliseconds: self.issuedAt).seconds, into: &out)
        name("intent")
        string(self.intent)
        name("iss")
        string(issuer)
        name("jti")
        string(self.id)
        name("latch_ancestors")
        strings(self.ancestors)
        name("latch_depth")
        JSONValue.writeInt(Int64(self.depth), into: &out)
        if let mayAct = self.mayAct {
            name("latch_may_act")
            strings(mayAct.map(\.description).sorted())
        }
        name("latch_scope")
        name("data_domains", first: true)
        strings(self.scope.dataDomains.sorted())
        name("destinations")
        strings(self.scope.destinations.sorted())
        name("max_sensitivity")
        string(self.scope.maxSensitivity.rawValue)
        name("tools")
        strings(self.scope.tools.sorted())
        out.append(UInt8(ascii: "}"))
        name("sub")
        string(self.subject.description)
        name("task_id")
        string(self.taskID)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads a grant from its claims; `iss` and the times' validity are the caller's to check.
    /// Fails with `missingClaim`/`badClaim` naming the claim.
    public init(claims: JSONValue) throws(LatchError) {
        func string(_ name: String) throws(LatchError) -> String {
            guard let value = claims[name]?.stringValue, !value.isEmpty else { throw LatchError(.missingClaim, "\(name) is required") }
            return value
        }
        func strings(_ value: JSONValue?, _ name: String) throws(LatchError) -> [String] {
            guard let array = value?.arrayValue else { throw LatchError(.badClaim, "\(name) must be an array of strings") }
            var out: [String] = []
            out.reserveCapacity(array.count)
            for item in array {
                guard let s = item.stringValue else { throw LatchError(.badClaim, "\(name) must be an array of strings") }
                out.append(s)
            }
            return out
        }
        func spiffeID(_ text: String, _ name: String) throws(LatchError) -> SPIFFEID {
            do { return try SPIFFEID(parsing: text) } catch { throw LatchError(.badClaim, "\(name) is not a SPIFFE ID") }
        }
        let subject = try spiffeID(try string("sub"), "sub")
        var actors: [SPIFFEID] = []
        var act = claims["act"]
        while let object = act?.objectValue {
            guard let sub = object["sub"]?.stringValue, actors.count < 16 else { throw LatchError(.badClaim, "act is malformed") }
            actors.append(try spiffeID(sub, "act.sub"))
            act = object["act"]
        }
        guard let scope = claims["latch_scope"]?.objectValue,
            let sensitivity = scope["max_sensitivity"]?.stringValue.flatMap(Sensitivity.init(rawValue:))
        else { throw LatchError(.badClaim, "latch_scope is malformed") }
        guard let jkt = claims["cnf"]?["jkt"]?.stringValue, !jkt.isEmpty else { throw LatchError(.missingClaim, "cnf.jkt is required") }
        guard let depth = claims["latch_depth"]?.intValue, depth >= 0, depth < 64 else { throw LatchError(.badClaim, "latch_depth is malformed") }
        let mayAct: Set<SPIFFEID>?
        if let list = claims["latch_may_act"] {
            var ids = Set<SPIFFEID>()
            for text in try strings(list, "latch_may_act") { ids.insert(try spiffeID(text, "latch_may_act")) }
            mayAct = ids
        } else {
            mayAct = nil
        }
        self.init(
            id: try string("jti"), taskID: try string("task_id"), subject: subject, actors: actors,
            audience: Set(try JWS.audiences(claims["aud"])), intent: claims["intent"]?.stringValue ?? "",
            scope: GrantScope(
                tools: Set(try strings(scope["tools"], "latch_scope.tools")),
                dataDomains: Set(try strings(scope["data_domains"], "latch_scope.data_domains")),
                destinations: Set(try strings(scope["destinations"], "latch_scope.destinations")), maxSensitivity: sensitivity),
            issuedAt: try Self.seconds(claims, "iat") * 1000, expiresAt: try Self.seconds(claims, "exp") * 1000,
            ancestors: try strings(claims["latch_ancestors"], "latch_ancestors"), depth: Int(depth), keyThumbprint: jkt,
            mayAct: mayAct)
        guard try string("client_id") == self.holder.description else { throw LatchError(.badClaim, "client_id is not the grant's holder") }
    }

    /// A time claim in whole seconds, bounded so that milliseconds cannot overflow.
    static func seconds(_ claims: JSONValue, _ name: String) throws(LatchError) -> Int64 {
        guard let value = claims[name]?.intValue else { throw LatchError(.missingClaim, "\(name) is required") }
        guard value >= 0, value < Int64.max / 1000 else { throw LatchError(.badClaim, "\(name) is out of range") }
        return value
    }
}
