public import Crypto
public import LatchCore
public import LatchIdentity
import Synchronization

/// Task grants as JWT access tokens (RFC 9068): header `{"alg":"ES256","kid":…,"typ":"at+jwt"}`,
/// claims `iss`, `sub`, `aud`, `client_id` (the holder), `jti`, `iat`, `exp`, `cnf.jkt` (RFC 9449),
/// `act` nested per RFC 8693 §4.1 (most recent actor outermost), and Latch's own, kept to a
/// minimum and prefixed: `task_id`, `intent`, `latch_scope` (`tools`, `data_domains`,
/// `destinations`, `max_sensitivity`), `latch_ancestors`, `latch_depth`, `latch_may_act`.
/// Signed with the trust domain's JWT signing key, so the published JWKS verifies grants too.
public enum GrantToken {
    /// Signs `grant`, then verifies the result before returning it (as SVIDs are). Times are
    /// carried in whole seconds (`iat`, `exp`), so they decode truncated to the second.
    public static func mint(_ grant: TaskGrant, issuer: String, key: CAKey, verifier: GrantVerifier) throws(LatchError) -> String {
        guard key.purpose == .jwtSigning else { throw LatchError(.noActiveKey, "a JWT signing key is needed") }
        guard grant.expiresAt <= key.notAfter else { throw LatchError(.noActiveKey, "the grant would outlive its signing key") }
        let header = JSONValue.object(["alg": .string("ES256"), "kid": .string(key.keyID), "typ": .string("at+jwt")])
        let input = Base64URL.encode(header.serializedBytes) + "." + Base64URL.encode(Self.claims(grant, issuer: issuer).serializedBytes)
        let signature: P256.Signing.ECDSASignature
        do { signature = try key.privateKey.unredacted.signature(for: Array(input.utf8)) } catch {
            throw LatchError(.internalError, "ES256 signing failed")
        }
        let token = input + "." + Base64URL.encode(Array(signature.rawRepresentation))
        let checked: TaskGrant
        do { checked = try verifier.decode(token, now: grant.issuedAt) } catch {
            throw LatchError(.mintedCredentialInvalid, "a freshly minted grant failed verification: \(error.code)")
        }
        // The token carries times in whole seconds.
        var expected = grant
        expected.issuedAt = UnixTime(milliseconds: grant.issuedAt).seconds * 1000
        expected.expiresAt = UnixTime(milliseconds: grant.expiresAt).seconds * 1000
        guard checked == expected else { throw LatchError(.mintedCredentialInvalid, "a freshly minted grant does not decode to itself") }
        return token
    }

    static func claims(_ grant: TaskGrant, issuer: String) -> JSONValue {
        var act: JSONValue?
        for actor in grant.actors.reversed() {
            var object: [String: JSONValue] = ["sub": .string(actor.description)]
            if let inner = act { object["act"] = inner }
            act = .object(object)
        }
        var claims: [String: JSONValue] = [
            "iss": .string(issuer),
            "sub": .string(grant.subject.description),
            "aud": .array(grant.audience.sorted().map(JSONValue.string)),
            "client_id": .string(grant.holder.description),
            "jti": .string(grant.id),
            "iat": .int(UnixTime(milliseconds: grant.issuedAt).seconds),
            "exp": .int(UnixTime(milliseconds: grant.expiresAt).seconds),
            "cnf": .object(["jkt": .string(grant.keyThumbprint)]),
            "task_id": .string(grant.taskID),
            "intent": .string(grant.intent),
            "latch_scope": .object([
                "tools": .array(grant.scope.tools.sorted().map(JSONValue.string)),
                "data_domains": .array(grant.scope.dataDomains.sorted().map(JSONValue.string)),
                "destinations": .array(grant.scope.destinations.sorted().map(JSONValue.string)),
                "max_sensitivity": .string(grant.scope.maxSensitivity.rawValue),
            ]),
            "latch_ancestors": .array(grant.ancestors.map(JSONValue.string)),
            "latch_depth": .int(Int64(grant.depth)),
        ]
        if let act { claims["act"] = act }
        if let mayAct = grant.mayAct { claims["latch_may_act"] = .array(mayAct.map(\.description).sorted().map(JSONValue.string)) }
        return .object(claims)
    }
}

/// Verifies grants on the hot path: signature, header, claims, revocation, and with a request the
/// DPoP proof bound to the grant. No I/O: keys, the revocation index and the replay cache are in
/// memory.
public struct GrantVerifier: Sendable {
    public let issuer: String
    /// JWT signing keys by `kid` (the trust bundle's JWT authorities).
    public let keys: [String: P256.Signing.PublicKey]
    public let revocations: RevocationIndex
    public let dpop: DPoPVerifier
    /// Milliseconds (default 30 s).
    public var clockSkew: Int64 = 30_000
    public var maxTokenSize: Int = 16 * 1024
    /// Grants already verified, by the SHA-256 of their token, so an agent calling tool after tool
    /// with one grant pays its signature check once; audience, expiry, revocation and the DPoP
    /// proof are still checked on every call. Nil: verify every time.
    public let verified: VerifiedGrantCache?

    public init(
        issuer: String, keys: [String: P256.Signing.PublicKey], revocations: RevocationIndex, dpop: DPoPVerifier,
        verified: VerifiedGrantCache? = nil
    ) {
        self.issuer = issuer
        self.keys = keys
        self.revocations = revocations
        self.dpop = dpop
        self.verified = verified
    }

    /// Verifies a grant presented with a DPoP proof for `request` and `audience` at `now`.
    public func verify(_ token: String, audience: String, proof: String, request: DPoPRequest, now: Int64) throws(LatchError) -> TaskGrant {
        // One SHA-256 of the token serves the cache key and the proof's `ath` check.
        let digest = Array(SHA256.hash(data: Array(token.utf8)))
        let grant: TaskGrant
        if let cache = self.verified, let known = cache.grant(for: digest) {
            guard known.expiresAt > now - self.clockSkew else { throw LatchError(.expired, "the token has expired") }
            grant = known
        } else {
            grant = try self.decode(token, now: now)
            self.verified?.store(grant, for: digest)
        }
        guard grant.audience.contains(audience) else { throw LatchError(.audienceMismatch, "the grant is not for \(audience)") }
        guard !self.revocations.isRevoked(grant) else { throw LatchError(.grantRevoked, "the grant or one it descends from is revoked") }
        var bound = request
        bound.accessTokenHash = digest
        bound.boundThumbprint = grant.keyThumbprint
        _ = try self.dpop.verify(proof, for: bound, now: now)
        return grant
    }

    /// Checks signature, header and claims (not audience, revocation or DPoP) and decodes.
    public func decode(_ token: String, now: Int64) throws(LatchError) -> TaskGrant {
        let parts = try JWS.split(token, maxSize: self.maxTokenSize)
        let header = try JWS.decodeJSON(parts.header, what: "header")
        try JWS.checkAlgorithm(header["alg"]?.stringValue, allowed: ["ES256"])
        guard header["typ"]?.stringValue == "at+jwt" else { throw LatchError(.badTyp, "a grant has typ at+jwt") }
        guard header["crit"] == nil else { throw LatchError(.unsupportedCrit, "crit is not supported") }
        guard let kid = header["kid"]?.stringValue else { throw LatchError(.missingKid, "the header has no kid") }
        guard let key = self.keys[kid] else { throw LatchError(.unknownKid, "no signing key \(kid.prefix(64))") }
        try JWS.verifyES256(parts: parts, key: key)
        let claims = try JWS.decodeJSON(parts.payload, what: "claims")
        guard claims["iss"]?.stringValue == self.issuer else { throw LatchError(.issuerMismatch, "the grant is from another issuer") }
        guard let exp = claims["exp"]?.intValue, let iat = claims["iat"]?.intValue else {
            throw LatchError(.missingClaim, "exp and iat are required")
        }
        try JWS.checkTimes(exp: exp, nbf: claims["nbf"], iat: claims["iat"], now: now, skew: self.clockSkew)
        func string(_ name: String) throws(LatchError) -> String {
            guard let value = claims[name]?.stringValue, !value.isEmpty else { throw LatchError(.missingClaim, "\(name) is required") }
            return value
        }
        func strings(_ value: JSONValue?, _ name: String) throws(LatchError) -> [String] {
            guard let array = value?.arrayValue else { throw LatchError(.badClaim, "\(name) must be an array of strings") }
            var out: [String] = []
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
        let grant = TaskGrant(
            id: try string("jti"), taskID: try string("task_id"), subject: subject, actors: actors,
            audience: Set(try JWS.audiences(claims["aud"])), intent: claims["intent"]?.stringValue ?? "",
            scope: GrantScope(
                tools: Set(try strings(scope["tools"], "latch_scope.tools")),
                dataDomains: Set(try strings(scope["data_domains"], "latch_scope.data_domains")),
                destinations: Set(try strings(scope["destinations"], "latch_scope.destinations")), maxSensitivity: sensitivity),
            issuedAt: iat * 1000, expiresAt: exp * 1000, ancestors: try strings(claims["latch_ancestors"], "latch_ancestors"),
            depth: Int(depth), keyThumbprint: jkt, mayAct: mayAct)
        guard try string("client_id") == grant.holder.description else { throw LatchError(.badClaim, "client_id is not the grant's holder") }
        return grant
    }
}

/// Verified grants by token digest (see ``GrantVerifier/verified``). Bounded: when full it starts
/// over. Keys are SHA-256 digests of whole tokens, so a grant is found only for the exact token
/// whose signature was checked.
public final class VerifiedGrantCache: Sendable {
    private let grants = Mutex<[[UInt8]: TaskGrant]>([:])
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    func grant(for digest: [UInt8]) -> TaskGrant? { self.grants.withLock { $0[digest] } }

    func store(_ grant: TaskGrant, for digest: [UInt8]) {
        self.grants.withLock { grants in
            if grants.count >= self.capacity { grants.removeAll(keepingCapacity: true) }
            grants[digest] = grant
        }
    }
}

extension LatchError.Code {
    /// The grant, or a grant it was delegated from, has been revoked.
    public static let grantRevoked = Self("grantRevoked")
}
