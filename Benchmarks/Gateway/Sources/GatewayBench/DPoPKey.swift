import Crypto
import LatchCore
import LatchIdentity

/// An agent's DPoP key: makes RFC 9449 proofs (ES256) for one request target, each with a unique
/// `jti`. Proofs are the client's cost, so the benchmark makes them before timing.
struct DPoPKey: Sendable {
    let key = P256.Signing.PrivateKey()
    /// RFC 7638 thumbprint of the public key (what a grant's `cnf.jkt` names).
    var thumbprint: String { CAKey.thumbprint(of: self.key.publicKey) }
    private let header: String

    init() {
        let point = Array(self.key.publicKey.x963Representation)
        self.header = Base64URL.encode(
            JSONValue.object([
                "typ": .string("dpop+jwt"), "alg": .string("ES256"),
                "jwk": .object([
                    "kty": .string("EC"), "crv": .string("P-256"), "x": .string(Base64URL.encode(point[1..<33])),
                    "y": .string(Base64URL.encode(point[33..<65])),
                ]),
            ]).serializedBytes)
    }

    /// A proof for `POST uri`, bound to `accessToken` (`ath`) when given.
    func proof(uri: String, accessToken: String?, now: Int64, jti: String) throws -> String {
        var claims: [String: JSONValue] = ["jti": .string(jti), "htm": .string("POST"), "htu": .string(uri), "iat": .int(now / 1000)]
        if let accessToken { claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(accessToken.utf8))))) }
        let input = self.header + "." + Base64URL.encode(JSONValue.object(claims).serializedBytes)
        return input + "." + Base64URL.encode(Array(try self.key.signature(for: Array(input.utf8)).rawRepresentation))
    }

    /// `count` fresh proofs for `POST uri` with `accessToken`.
    func proofs(_ count: Int, uri: String, accessToken: String, now: Int64, prefix: String) throws -> [String] {
        try (0..<count).map { try self.proof(uri: uri, accessToken: accessToken, now: now, jti: "\(prefix)-\($0)") }
    }
}
