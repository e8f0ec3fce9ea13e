public import Crypto
import LatchGrants
public import LatchIdentity

/// Builds DPoP proofs for tests, with every part adjustable.
public struct ProofBuilder {
    public var key = P256.Signing.PrivateKey()
    public var header: [String: JSONValue]
    public var claims: [String: JSONValue]
    /// Signs with this key instead (a proof whose jwk is not the signer).
    public var signer: P256.Signing.PrivateKey?

    public static let now: Int64 = 1_767_225_600_000
    public static let uri = "https://gateway.example/mcp/tools/call"

    public init(jti: String = "jti-1", method: String = "POST", uri: String = Self.uri, iat: Int64 = Self.now / 1000) {
        self.header = [:]
        self.claims = ["jti": .string(jti), "htm": .string(method), "htu": .string(uri), "iat": .int(iat)]
        self.header = ["typ": .string("dpop+jwt"), "alg": .string("ES256"), "jwk": Self.jwk(self.key.publicKey)]
    }

    public static func jwk(_ key: P256.Signing.PublicKey) -> JSONValue {
        let raw = Array(key.x963Representation)
        return .object([
            "kty": .string("EC"), "crv": .string("P-256"), "x": .string(Base64URL.encode(raw[1..<33])),
            "y": .string(Base64URL.encode(raw[33..<65])),
        ])
    }

    public var thumbprint: String { CAKey.thumbprint(of: self.key.publicKey) }

    public func build() throws -> String {
        let input =
            Base64URL.encode(JSONValue.object(self.header).serializedBytes) + "." + Base64URL.encode(JSONValue.object(self.claims).serializedBytes)
        let signature = try (self.signer ?? self.key).signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }
}
