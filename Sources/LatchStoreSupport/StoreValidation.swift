public import LatchCore
public import LatchGrants
public import LatchIdentity
public import LatchSecrets

/// Checks both stores make before writing, so they reject the same input with the same error.
///
/// Text columns never hold U+0000 (PostgreSQL's `text` cannot), identifiers are bounded, and the
/// invariants the domain types document (non-empty selectors, positive TTLs) hold in storage even
/// when a caller built the value with a non-validating initializer.
public enum StoreValidation {
    /// Longest entry id, key id or selector part accepted, in UTF-8 bytes.
    public static let maxIdentifierBytes = 255
    /// Longest selector value accepted, in UTF-8 bytes.
    public static let maxSelectorValueBytes = 4096
    /// Most selectors one entry may require.
    public static let maxSelectorsPerEntry = 256

    public static func validate(_ entry: RegistrationEntry) throws(LatchError) {
        try Self.identifier(entry.id, "entry id")
        guard !entry.selectors.isEmpty else {
            throw LatchError(.invalidInput, "entry \(entry.id): at least one selector is required")
        }
        guard entry.selectors.count <= Self.maxSelectorsPerEntry else {
            throw LatchError(.invalidInput, "entry \(entry.id): more than \(Self.maxSelectorsPerEntry) selectors")
        }
        for selector in entry.selectors {
            try Self.selector(selector)
        }
        guard entry.x509SVIDTTL > 0, entry.jwtSVIDTTL > 0 else {
            throw LatchError(.invalidInput, "entry \(entry.id): SVID TTLs must be positive seconds")
        }
    }

    public static func selector(_ selector: Selector) throws(LatchError) {
        let typeOK =
            !selector.type.isEmpty && selector.type.utf8.count <= Self.maxIdentifierBytes
            && selector.type.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
        guard typeOK else {
            throw LatchError(.invalidInput, "selector type must be 1-\(Self.maxIdentifierBytes) bytes of [a-z0-9_-]")
        }
        guard !selector.value.isEmpty, selector.value.utf8.count <= Self.maxSelectorValueBytes,
            !selector.value.utf8.contains(0)
        else {
            throw LatchError(
                .invalidInput, "selector value must be 1-\(Self.maxSelectorValueBytes) bytes without U+0000 (type \(selector.type))")
        }
    }

    public static func validate(_ key: StoredKey) throws(LatchError) {
        try Self.identifier(key.keyID, "key id")
        guard !key.sealedPrivateKey.isEmpty else {
            throw LatchError(.invalidInput, "key \(key.keyID): sealed private key is empty")
        }
    }

    public static func validate(_ token: StoredJoinToken) throws(LatchError) {
        try Self.tokenHash(token.tokenHash)
        guard !token.selectorValue.isEmpty, token.selectorValue.utf8.count <= Self.maxSelectorValueBytes,
            !token.selectorValue.utf8.contains(0)
        else {
            throw LatchError(.invalidInput, "join token selector value must be 1-\(Self.maxSelectorValueBytes) bytes without U+0000")
        }
    }

    /// A token hash is a digest: 16 to 64 bytes (SHA-256 gives 32).
    public static func tokenHash(_ hash: [UInt8]) throws(LatchError) {
        guard (16...64).contains(hash.count) else {
            throw LatchError(.invalidInput, "join token hash must be 16-64 bytes (got \(hash.count))")
        }
    }

    /// A batch of grants: each readable back from its claims (``TaskGrant/init(claims:)`` accepts
    /// what is stored), and no grant ID or root grant's task ID twice (a `conflict`, as one
    /// already stored is).
    public static func validate(_ grants: [TaskGrant]) throws(LatchError) {
        try Self.validateBatch(grants)
    }

    /// The same checks for the grants of `records`.
    public static func validate(_ records: [GrantRecord]) throws(LatchError) {
        try Self.validateBatch(records.lazy.map(\.grant))
    }

    /// Generic, but only called in this module, so specialized for both callers.
    private static func validateBatch(_ grants: some Collection<TaskGrant>) throws(LatchError) {
        var ids = Set<String>(minimumCapacity: grants.count)
        var rootTasks = Set<String>(minimumCapacity: grants.count)
        for grant in grants {
            try Self.validate(grant)
            guard ids.insert(grant.id).inserted else {
                throw LatchError(.conflict, "grant \(grant.id) appears twice in one batch")
            }
            guard grant.depth > 0 || rootTasks.insert(grant.taskID).inserted else {
                throw LatchError(.conflict, "task \(grant.taskID) has two root grants in one batch")
            }
        }
    }

    public static func validate(_ grant: TaskGrant) throws(LatchError) {
        try Self.identifier(grant.id, "grant id")
        try Self.identifier(grant.taskID, "task id")
        for ancestor in grant.ancestors { try Self.identifier(ancestor, "grant \(grant.id): ancestor id") }
        guard grant.depth == grant.ancestors.count, grant.depth < 64 else {
            throw LatchError(.invalidInput, "grant \(grant.id): depth must be the number of ancestors, at most 63")
        }
        guard !grant.intent.utf8.contains(0) else {
            throw LatchError(.invalidInput, "grant \(grant.id): intent must not contain U+0000")
        }
        guard !grant.audience.isEmpty, !grant.audience.contains(""), !grant.keyThumbprint.isEmpty, grant.actors.count <= 16 else {
            throw LatchError(.invalidInput, "grant \(grant.id): needs a non-empty audience and key thumbprint, and at most 16 actors")
        }
        guard grant.issuedAt >= 0, grant.expiresAt >= grant.issuedAt else {
            throw LatchError(.invalidInput, "grant \(grant.id): times must be non-negative and expire no earlier than issued")
        }
    }

    public static func validate(_ revocation: GrantRevocation) throws(LatchError) {
        try Self.identifier(revocation.grantID, "revoked grant id")
    }

    /// A sealed secret: at least a nonce, a tag and one byte; at most the largest value sealed.
    public static func validate(_ secret: StoredSecret) throws(LatchError) {
        let range = (SecretSealer.overheadBytes + 1)...StoredSecret.maximumSealedBytes
        guard range.contains(secret.sealedValue.count) else {
            throw LatchError(.invalidInput, "secret \(secret.name): a sealed value must be \(range.lowerBound)-\(range.upperBound) bytes")
        }
    }

    public static func identifier(_ value: String, _ what: String) throws(LatchError) {
        guard !value.isEmpty, value.utf8.count <= Self.maxIdentifierBytes, !value.utf8.contains(0) else {
            throw LatchError(.invalidInput, "\(what) must be 1-\(Self.maxIdentifierBytes) bytes without U+0000")
        }
    }
}
