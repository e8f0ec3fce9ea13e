import Crypto
public import LatchCore

/// The ledger's MAC key: HMAC-SHA256 over `index (8 bytes, big-endian) ‖ leaf hash`, stored with
/// each leaf, so a row changed, moved or added by someone without the key is named exactly by
/// its index (the Merkle root alone says only that something changed).
///
/// - Important: the key is held in a ``Redacted`` and never printed; it is stored sealed under
///   the key-encryption key like the CA keys.
public struct LedgerKey: Sendable {
    /// The key size in bytes.
    public static let size = 32

    let key: Redacted<SymmetricKey>
    /// HMAC keyed once (its padded inner and outer keys absorbed), copied for each MAC.
    private let keyed: Redacted<HMAC<SHA256>>

    /// Wraps exactly 32 bytes.
    public init(bytes: some Collection<UInt8>) throws(LatchError) {
        guard bytes.count == Self.size else { throw LatchError(.invalidInput, "a ledger key must be \(Self.size) bytes, got \(bytes.count)") }
        self.init(unchecked: SymmetricKey(data: Array(bytes)))
    }

    /// A fresh random key.
    public static func generate() -> LedgerKey { LedgerKey(unchecked: SymmetricKey(size: .bits256)) }

    private init(unchecked key: SymmetricKey) {
        self.key = Redacted(key)
        self.keyed = Redacted(HMAC<SHA256>(key: key))
    }

    /// The raw bytes, to seal them. Reading them is a deliberate act.
    public var unredactedBytes: [UInt8] { self.key.unredacted.withUnsafeBytes { Array($0) } }

    /// The MAC of the leaf at `index` with hash `leafHash`.
    public func mac(index: Int64, leafHash: [UInt8]) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(8 + leafHash.count)
        let position = UInt64(bitPattern: index)
        for shift in stride(from: 56, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: position >> UInt64(shift))) }
        message += leafHash
        var authenticator = self.keyed.unredacted
        authenticator.update(data: message)
        return Array(authenticator.finalize())
    }

    /// Whether `mac` is the MAC of the leaf at `index` with hash `leafHash` (constant time).
    public func isValid(mac: [UInt8], index: Int64, leafHash: [UInt8]) -> Bool {
        var position = UInt64(bitPattern: index).bigEndian
        let message = withUnsafeBytes(of: &position) { Array($0) } + leafHash
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: self.key.unredacted)
    }
}

/// One ledger leaf as stored: its index, the bytes it hashes (a record's RFC 8785 JSON), the
/// leaf hash and the MAC.
public struct LedgerEntry: Hashable, Sendable {
    public var index: Int64
    public var bytes: [UInt8]
    public var leafHash: [UInt8]
    public var mac: [UInt8]

    public init(index: Int64, bytes: [UInt8], leafHash: [UInt8], mac: [UInt8]) {
        self.index = index
        self.bytes = bytes
        self.leafHash = leafHash
        self.mac = mac
    }

    /// The entry for `bytes` at `index`: hash and MAC computed.
    public init(index: Int64, bytes: [UInt8], key: LedgerKey) {
        let leafHash = MerkleTree.leafHash(bytes)
        self.init(index: index, bytes: bytes, leafHash: leafHash, mac: key.mac(index: index, leafHash: leafHash))
    }
}
