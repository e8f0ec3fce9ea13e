// JWT-SVIDs minted and validated per second, side by side with raw swift-crypto P-256 sign and
// verify measured in the same run (the floor: a JWT-SVID is one signature, and minting re-validates,
// so it costs one sign plus one verify). Prints rates and ratios. CPU time per operation.
import BenchSupport
import Crypto
import LatchCore
import LatchIdentity

#if canImport(Glibc)
import Glibc
#endif

let trustDomain = try TrustDomain(parsing: "example.org")
let now: Int64 = 1_767_225_600_000
let benchPrivate = P256.Signing.PrivateKey()
var key = try CAKey.generate(purpose: .jwtSigning, trustDomain: trustDomain, now: now, lifetime: 86_400_000, privateKey: benchPrivate)
key.state = .active
let ca = try CAKey.generate(purpose: .x509Authority, trustDomain: trustDomain, now: now, lifetime: 86_400_000)
let bundle = TrustBundle(trustDomain: trustDomain, keys: [key, ca], sequence: 1, refreshHint: 300)
let validator = bundle.jwtValidator()
let id = try SPIFFEID(parsing: "spiffe://example.org/agents/billing")

// The raw floor signs and verifies input of the same length as a JWT-SVID's signing input.
let sample = try JWTSVIDMinter.mintAndVerify(spiffeID: id, audience: ["svc"], ttl: 300_000, now: now, key: key, validator: validator)
let token = sample.token.unredacted
let signingInput = Array(token.utf8[..<token.utf8.lastIndex(of: UInt8(ascii: "."))!])
let rawKey = P256.Signing.PrivateKey()
let rawSignature = try rawKey.signature(for: signingInput)
let rawPublic = rawKey.publicKey

var sink = 0
// Interleave: floor, ours, floor again; keep the better floor (conservative for the ratio).
let sign1 = try rate("p256.sign") { sink &+= try rawKey.signature(for: signingInput).rawRepresentation.count }
let verify1 = rate("p256.verify") { sink &+= rawPublic.isValidSignature(rawSignature, for: signingInput) ? 1 : 0 }
let mint = try rate("jwt.mint") {
    sink &+=
        try JWTSVIDMinter.mintAndVerify(spiffeID: id, audience: ["svc"], ttl: 300_000, now: now, key: key, validator: validator).expiresAt.hashValue
        & 1
}
let signOnly = try rate("jwt.sign") {
    sink &+= try JWTSVIDMinter.sign(spiffeID: id, audience: ["svc"], ttl: 300_000, now: now, key: key).token.utf8.count
}
let validate = try rate("jwt.validate") { sink &+= try validator.validate(token, audience: "svc", now: now).expiresAt.hashValue & 1 }
// A token whose header is not byte-identical to Latch's own (e.g. another issuer's key order) takes
// the full header-parsing path.
let parts = token.split(separator: ".")
let foreignHeader = Base64URL.encode(Array("{\"typ\":\"JWT\",\"kid\":\"\(key.keyID)\",\"alg\":\"ES256\"}".utf8))
let foreignInput = foreignHeader + "." + parts[1]
let foreignToken = foreignInput + "." + Base64URL.encode(Array(try benchPrivate.signature(for: Array(foreignInput.utf8)).rawRepresentation))
let validateForeign = try rate("jwt.validate.foreign") {
    sink &+= try validator.validate(foreignToken, audience: "svc", now: now).expiresAt.hashValue & 1
}
let sign2 = try rate("p256.sign") { sink &+= try rawKey.signature(for: signingInput).rawRepresentation.count }
let verify2 = rate("p256.verify") { sink &+= rawPublic.isValidSignature(rawSignature, for: signingInput) ? 1 : 0 }
let x509 = try rate("x509.mint") {
    sink &+= try X509SVIDMinter.mintAndVerify(spiffeID: id, ttl: 3_600_000, now: now, authority: ca).certificateDER.count
}

let sign = max(sign1, sign2)
let verify = max(verify1, verify2)
let signThenVerify = 1 / (1 / sign + 1 / verify)

print("Identity benchmark (ops per CPU second, median of \(rounds) rounds of \(roundSeconds) s)")
print(pad("operation", 44) + pad("ops/s", 10) + "ratio")
print(pad("raw P-256 sign", 44) + fmt(sign))
print(pad("raw P-256 verify", 44) + fmt(verify))
print(pad("raw P-256 sign + verify (one after the other)", 44) + fmt(signThenVerify))
print(pad("JWT-SVID sign only (no re-validation)", 44) + pad(fmt(signOnly), 10) + pct(signOnly / sign) + " of raw sign")
print(
    pad("JWT-SVID mint (sign + re-validate)", 44) + pad(fmt(mint), 10) + pct(mint / signThenVerify) + " of raw sign+verify, "
        + pct(mint / sign) + " of raw sign")
print(pad("JWT-SVID validate", 44) + pad(fmt(validate), 10) + pct(validate / verify) + " of raw verify")
print(pad("JWT-SVID validate, header parsed in full", 44) + pad(fmt(validateForeign), 10) + pct(validateForeign / verify) + " of raw verify")
print(pad("X.509-SVID mint (key gen + sign + re-validate)", 44) + fmt(x509))
if sink == 42 { print("") }
