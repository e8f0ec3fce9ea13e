public import Crypto
public import LatchCore

/// A tree head in the C2SP tlog-checkpoint format: the log's origin, the tree size and the root
/// hash, one per line (`<origin>\n<size>\n<base64 root>\n`). Latch writes no extension lines and
/// ignores any it reads.
///
/// Invariants (checked by ``init(parsing:)``): the origin is non-empty with no control
/// characters; the size is decimal without leading zeros; the root is base64 of 32 bytes.
public struct Checkpoint: Hashable, Sendable {
    public var origin: String
    public var size: Int64
    public var rootHash: [UInt8]

    public init(origin: String, size: Int64, rootHash: [UInt8]) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
    }

    /// The note text the signature covers.
    public var text: String { "\(self.origin)\n\(self.size)\n\(Base64.encode(self.rootHash))\n" }

    public init(parsing text: some StringProtocol) throws(LatchError) {
        guard text.hasSuffix("\n") else { throw LatchError(.invalidInput, "a checkpoint must end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw LatchError(.invalidInput, "a checkpoint has an origin, a size and a root hash line") }
        let origin = String(lines[0])
        guard !origin.isEmpty, !origin.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw LatchError(.invalidInput, "a checkpoint's origin line is empty or has control characters")
        }
        let sizeText = lines[1]
        guard let size = Int64(sizeText), size >= 0, String(size) == sizeText else {
            throw LatchError(.invalidInput, "a checkpoint's size is not a decimal number without leading zeros")
        }
        guard let root = Base64.decode(lines[2]), root.count == MerkleTree.hashSize else {
            throw LatchError(.invalidInput, "a checkpoint's root hash is not base64 of 32 bytes")
        }
        self.init(origin: origin, size: size, rootHash: root)
    }
}

/// Signs checkpoints as C2SP signed notes with an ECDSA P-256 key.
///
/// Signature type `0x02` of c2sp.org/signed-note ("ECDSA signatures as implemented by
/// transparency-dev/witness"): the key ID is the first four bytes of SHA-256 of the public key's
/// DER SubjectPublicKeyInfo, and the signature is ECDSA over SHA-256 of the note text, ASN.1 DER
/// encoded. The signature line is `— <key name> base64(key ID ‖ signature)`; the key name is the
/// checkpoint's origin.
public struct CheckpointSigner: Sendable {
    public let keyName: String
    let privateKey: Redacted<P256.Signing.PrivateKey>
    public let verifier: CheckpointVerifier

    public init(keyName: String, privateKey: P256.Signing.PrivateKey) throws(LatchError) {
        self.keyName = keyName
        self.privateKey = Redacted(privateKey)
        self.verifier = try CheckpointVerifier(keyName: keyName, publicKeyDER: Array(privateKey.publicKey.derRepresentation))
    }

    /// The signed note of `checkpoint` (its origin must be the key name).
    public func sign(_ checkpoint: Checkpoint) throws(LatchError) -> String {
        guard checkpoint.origin == self.keyName else {
            throw LatchError(.invalidInput, "a checkpoint's origin must be the signing key's name \"\(self.keyName)\"")
        }
        let text = checkpoint.text
        let signature: P256.Signing.ECDSASignature
        do {
            signature = try self.privateKey.unredacted.signature(for: Array(text.utf8))
        } catch {
            throw LatchError(.internalError, "signing a checkpoint failed")
        }
        let blob = self.verifier.keyID + Array(signature.derRepresentation)
        return text + "\n\u{2014} \(self.keyName) \(Base64.encode(blob))\n"
    }
}

/// Checks a signed checkpoint against one known key (see ``CheckpointSigner``).
public struct CheckpointVerifier: Hashable, Sendable {
    public let keyName: String
    /// DER SubjectPublicKeyInfo of the P-256 key.
    public let publicKeyDER: [UInt8]
    /// SHA-256(publicKeyDER)[:4].
    public let keyID: [UInt8]
    let publicKey: P256.Signing.PublicKey

    /// The signed-note signature type of ECDSA keys.
    public static let signatureType: UInt8 = 0x02
    /// Notes larger than this are rejected unread.
    public static let maxNoteBytes = 16 * 1024

    public init(keyName: String, publicKeyDER: [UInt8]) throws(LatchError) {
        guard !keyName.isEmpty, !keyName.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 }) else {
            throw LatchError(.invalidInput, "a signed-note key name must be non-empty, without spaces or '+'")
        }
        do {
            self.publicKey = try P256.Signing.PublicKey(derRepresentation: publicKeyDER)
        } catch {
            throw LatchError(.invalidInput, "the checkpoint key is not a DER P-256 public key")
        }
        self.keyName = keyName
        self.publicKeyDER = publicKeyDER
        self.keyID = Array(SHA256.hash(data: publicKeyDER).prefix(4))
    }

    public static func == (lhs: CheckpointVerifier, rhs: CheckpointVerifier) -> Bool {
        lhs.keyName == rhs.keyName && lhs.publicKeyDER == rhs.publicKeyDER
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.keyName)
        hasher.combine(self.publicKeyDER)
    }

    /// The key in the form published beside the trust bundles: `<name>+<hex key ID>+<base64(0x02 ‖ SPKI DER)>`
    /// (the signed-note verifier-key layout).
    public var verifierKey: String {
        "\(self.keyName)+\(Hex.encode(self.keyID))+"
            + Base64.encode([Self.signatureType] + self.publicKeyDER)
    }

    /// The checkpoint a signed note carries, once a signature line of this key (name and key ID)
    /// verifies over its text; an error when there is none, or when one of this key fails.
    public func verify(note: String) throws(LatchError) -> Checkpoint {
        guard note.utf8.count <= Self.maxNoteBytes else { throw LatchError(.invalidInput, "the signed checkpoint is too large") }
        let bytes = Array(note.utf8)
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x0A }) else {
            throw LatchError(.invalidInput, "a signed note must not contain control characters other than newline")
        }
        // The text ends at the last blank line; the signature lines follow.
        guard let blank = bytes.indices.dropLast().last(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }) else {
            throw LatchError(.invalidInput, "a signed note has no blank line before its signatures")
        }
        let textBytes = Array(bytes[...blank])
        let signatures = String(decoding: bytes[(blank + 2)...], as: UTF8.self)
        guard signatures.hasSuffix("\n") else { throw LatchError(.invalidInput, "a signed note must end in a newline") }
        var verified = false
        for line in signatures.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("\u{2014} ") else { throw LatchError(.invalidInput, "a signed note has a malformed signature line") }
            let parts = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let blob = Base64.decode(parts[1]), blob.count > 4 else {
                throw LatchError(.invalidInput, "a signed note has a malformed signature line")
            }
            guard parts[0] == self.keyName, Array(blob.prefix(4)) == self.keyID else { continue }
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: blob.dropFirst(4)),
                self.publicKey.isValidSignature(signature, for: textBytes)
            else {
                throw LatchError(.invalidInput, "the checkpoint signature of \(self.keyName) does not verify")
            }
            verified = true
        }
        guard verified else { throw LatchError(.invalidInput, "the checkpoint carries no signature of \(self.keyName)") }
        let checkpoint = try Checkpoint(parsing: String(decoding: textBytes, as: UTF8.self))
        guard checkpoint.origin == self.keyName else {
            throw LatchError(.invalidInput, "the checkpoint's origin is not \(self.keyName)")
        }
        return checkpoint
    }
}
