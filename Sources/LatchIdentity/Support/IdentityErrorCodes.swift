public import LatchCore

/// Error codes of the identity layer. Each JWT-SVID rejection has its own code so that callers,
/// logs and tests can tell a forged `alg: none` from an expired token.
extension LatchError.Code {
    // Key sealing and the key-encryption key.
    /// The key-encryption key is missing, not 32 bytes, or not valid base64.
    public static let badKeyEncryptionKey = Self("badKeyEncryptionKey")
    /// A sealed key failed authentication (wrong KEK, tampered, or bound to another key ID/purpose).
    public static let unsealFailed = Self("unsealFailed")
    /// The CA has no usable key or certificate for the operation.
    public static let noActiveKey = Self("noActiveKey")
    /// A freshly minted credential failed its own re-validation (a bug; never returned).
    public static let mintedCredentialInvalid = Self("mintedCredentialInvalid")

    // JWT-SVID / JWS validation.
    public static let tokenTooLarge = Self("tokenTooLarge")
    /// Not three dot-separated parts.
    public static let malformedToken = Self("malformedToken")
    /// A part is not unpadded base64url.
    public static let badBase64 = Self("badBase64")
    /// The header or claims are not a JSON object.
    public static let badJSON = Self("badJSON")
    /// `alg` is `none`.
    public static let algNone = Self("algNone")
    /// `alg` is an HMAC algorithm (HS256…): a symmetric key is never accepted.
    public static let algHMAC = Self("algHMAC")
    /// `alg` is EdDSA, which SPIFFE forbids for JWT-SVIDs.
    public static let algEdDSA = Self("algEdDSA")
    /// `alg` is an RSA algorithm, not accepted for JWT-SVIDs.
    public static let algRSA = Self("algRSA")
    /// `alg` is missing or any other value.
    public static let unsupportedAlg = Self("unsupportedAlg")
    /// `typ` is present and neither `JWT` nor `JOSE`.
    public static let badTyp = Self("badTyp")
    /// The header lists `crit` extensions, none of which are understood.
    public static let unsupportedCrit = Self("unsupportedCrit")
    /// The header has no `kid`.
    public static let missingKid = Self("missingKid")
    /// `kid` names no key in the bundle.
    public static let unknownKid = Self("unknownKid")
    /// The signature does not verify (or is not 64 bytes of r‖s).
    public static let badSignature = Self("badSignature")
    /// A required claim (`sub`, `aud`, `exp`) is missing or of the wrong type.
    public static let missingClaim = Self("missingClaim")
    /// A claim has the wrong JSON type.
    public static let badClaim = Self("badClaim")
    /// `aud` does not contain the expected audience.
    public static let audienceMismatch = Self("audienceMismatch")
    /// `exp` is in the past (beyond the allowed skew).
    public static let expired = Self("expired")
    /// `nbf` is in the future (beyond the allowed skew).
    public static let notYetValid = Self("notYetValid")
    /// `iat` is in the future (beyond the allowed skew).
    public static let issuedInFuture = Self("issuedInFuture")
    /// `sub` is not a SPIFFE ID.
    public static let subjectNotSPIFFEID = Self("subjectNotSPIFFEID")
    /// `sub` is a SPIFFE ID of another trust domain.
    public static let wrongTrustDomain = Self("wrongTrustDomain")
    /// `iss` is not the configured issuer (federation).
    public static let issuerMismatch = Self("issuerMismatch")
    /// Federation: the issuer's JWKS could not be fetched or read.
    public static let jwksUnavailable = Self("jwksUnavailable")

    // Selectors and attestation.
    public static let badSelector = Self("badSelector")
    /// The process changed (PID reused) while it was being attested.
    public static let processChanged = Self("processChanged")
    /// The join token is unknown, expired or already used.
    public static let invalidJoinToken = Self("invalidJoinToken")
    /// No registration entry matches the workload's selectors.
    public static let noMatchingEntry = Self("noMatchingEntry")
}
