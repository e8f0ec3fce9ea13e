import Crypto
public import LatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The 32-byte key-encryption key (KEK) that seals CA private keys (``KeySealer``) and secrets
/// (`LatchSecrets`) at rest.
///
/// - Important: the key is held in a ``Redacted`` and never printed; errors about it never carry
///   its bytes.
public struct KeyEncryptionKey: Sendable {
    /// The environment variable holding the KEK as standard base64 of 32 bytes.
    public static let environmentVariable = "LATCH_KEK"

    let key: Redacted<SymmetricKey>

    /// Wraps exactly 32 bytes.
    public init(bytes: some Collection<UInt8>) throws(LatchError) {
        guard bytes.count == 32 else {
            throw LatchError(.badKeyEncryptionKey, "the key-encryption key must be 32 bytes, got \(bytes.count)")
        }
        self.key = Redacted(SymmetricKey(data: Array(bytes)))
    }

    /// Decodes standard base64 (surrounding whitespace ignored) of exactly 32 bytes.
    public init(base64 text: String) throws(LatchError) {
        let trimmed = text.filter { !$0.isWhitespace }
        guard let bytes = Base64URL.decodeStandard(trimmed) ?? Base64URL.decode(Array(trimmed.utf8)) else {
            throw LatchError(.badKeyEncryptionKey, "the key-encryption key is not valid base64")
        }
        try self.init(bytes: bytes)
    }

    /// A file holding either 32 raw bytes or base64 text of 32 bytes.
    public init(contentsOfFile path: String) throws(LatchError) {
        try self.init(fileContents: try readWholeFile(path: path, limit: 4096))
    }

    /// What a KEK file holds: 32 raw bytes, or base64 text of 32 bytes.
    public init(fileContents bytes: [UInt8]) throws(LatchError) {
        if bytes.count == 32 {
            try self.init(bytes: bytes)
        } else {
            try self.init(base64: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Loads the KEK from `kekFile` if given, else from `LATCH_KEK` in `environment`.
    public static func load(kekFile: String?, environment: [String: String]) throws(LatchError) -> KeyEncryptionKey {
        if let kekFile { return try KeyEncryptionKey(contentsOfFile: kekFile) }
        if let value = environment[environmentVariable] { return try KeyEncryptionKey(base64: value) }
        throw LatchError(.badKeyEncryptionKey, "no key-encryption key: set \(environmentVariable) (base64 of 32 bytes) or kek_file")
    }

    /// A fresh random KEK (for `latch` to create one on first start, and for tests).
    public static func generate() -> KeyEncryptionKey {
        // 32 bytes always satisfy the init.
        KeyEncryptionKey(unchecked: SymmetricKey(size: .bits256))
    }

    private init(unchecked key: SymmetricKey) { self.key = Redacted(key) }

    /// The raw bytes, e.g. to write a new KEK file. Reading them is a deliberate act.
    public var unredactedBytes: [UInt8] { self.key.unredacted.withUnsafeBytes { Array($0) } }
}

/// Seals and opens CA private keys with AES-256-GCM under the ``KeyEncryptionKey``.
///
/// The associated data binds each sealed blob to its key ID and purpose, so a sealed key copied
/// onto another row (or relabelled from JWT signing to X.509 authority) fails to open.
/// Format: `nonce (12) ‖ ciphertext ‖ tag (16)`.
public struct KeySealer: Sendable {
    let kek: KeyEncryptionKey

    public init(kek: KeyEncryptionKey) { self.kek = kek }

    static func associatedData(keyID: String, purpose: KeyPurpose) -> [UInt8] {
        Array("latch.ca-key.v1\u{0}\(purpose.rawValue)\u{0}\(keyID)".utf8)
    }

    public func seal(_ plaintext: some Collection<UInt8>, keyID: String, purpose: KeyPurpose) throws(LatchError) -> [UInt8] {
        try self.kek.seal(plaintext, authenticating: Self.associatedData(keyID: keyID, purpose: purpose))
    }

    public func open(_ sealed: [UInt8], keyID: String, purpose: KeyPurpose) throws(LatchError) -> [UInt8] {
        guard let plain = self.kek.open(sealed, authenticating: Self.associatedData(keyID: keyID, purpose: purpose)) else {
            throw LatchError(.unsealFailed, "the sealed key \(keyID) (\(purpose.rawValue)) does not open under this key-encryption key")
        }
        return plain
    }
}

extension KeyEncryptionKey {
    /// AES-256-GCM under this key with a fresh random nonce: `nonce (12) ‖ ciphertext ‖ tag (16)`.
    /// For the package's sealers (CA keys here, secrets in LatchSecrets), which each bind a blob
    /// to its purpose and row through `associatedData`.
    package func seal(_ plaintext: some Collection<UInt8>, authenticating associatedData: [UInt8]) throws(LatchError) -> [UInt8] {
        do {
            let box = try AES.GCM.seal(Array(plaintext), using: self.key.unredacted, authenticating: associatedData)
            guard let combined = box.combined else { throw LatchError(.internalError, "AES-GCM gave no combined form") }
            return Array(combined)
        } catch let error as LatchError {
            throw error
        } catch {
            throw LatchError(.internalError, "AES-GCM sealing failed")
        }
    }

    /// The plaintext of a blob made by ``seal(_:authenticating:)`` with the same key and
    /// associated data; nil if it does not authenticate (wrong key, other associated data,
    /// tampered or truncated). The caller words the error for what the blob held.
    package func open(_ sealed: some Collection<UInt8>, authenticating associatedData: [UInt8]) -> [UInt8]? {
        guard let box = try? AES.GCM.SealedBox(combined: Array(sealed)),
            let plain = try? AES.GCM.open(box, using: self.key.unredacted, authenticating: associatedData)
        else { return nil }
        return Array(plain)
    }
}

/// Reads a whole (small) file; errors name the path but never the content.
public func readWholeFile(path: String, limit: Int) throws(LatchError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw LatchError(.io, "cannot open \(path) (errno \(errno))") }
    defer { close(fd) }
    return try readAll(fd: fd, path: path, limit: limit)
}

/// Reads what is left of an open file, at most `limit` bytes (else `invalidInput`).
public func readAll(fd: Int32, path: String, limit: Int) throws(LatchError) -> [UInt8] {
    var out: [UInt8] = []
    try forEachChunk(fd: fd, path: path, size: 4096) { chunk throws(LatchError) in
        out.append(contentsOf: chunk)
        if out.count > limit { throw LatchError(.invalidInput, "\(path) is larger than \(limit) bytes") }
    }
    return out
}

/// Reads an open file to its end in chunks of at most `size` bytes, retrying on EINTR; errors
/// name the path but never the content.
func forEachChunk(fd: Int32, path: String, size: Int, _ body: (ArraySlice<UInt8>) throws(LatchError) -> Void) throws(LatchError) {
    var buffer = [UInt8](repeating: 0, count: size)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw LatchError(.io, "cannot read \(path) (errno \(errno))")
        }
        if n == 0 { return }
        try body(buffer[0..<n])
    }
}
