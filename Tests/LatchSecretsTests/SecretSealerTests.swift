import LatchCore
import LatchIdentity
import LatchSecrets
import LatchTesting
import Testing

@Suite("SecretSealer")
struct SecretSealerTests {
    let sealer = SecretSealer(kek: TestKeys.kek)

    static func name(_ text: String) throws -> SecretName { try SecretName(parsing: text) }

    @Test(
        "a sealed value of any size from 1 byte to 64 KiB opens to the same bytes under the same KEK and name", arguments: [1, 2, 29, 1_000, 65_536])
    func roundTrip(size: Int) throws {
        // Every byte value, zeros included.
        let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let name = try Self.name("crm_token")
        let sealed = try self.sealer.seal(Redacted(value), name: name)
        #expect(sealed.count == value.count + SecretSealer.overheadBytes)
        #expect(try self.sealer.open(sealed, name: name).unredacted == value)
    }

    @Test("the sealed blob does not hold the value, and sealing twice gives different blobs (fresh nonce)")
    func ciphertext() throws {
        let value = Array("a-long-recognisable-secret-value".utf8)
        let name = try Self.name("k")
        let first = try self.sealer.seal(Redacted(value), name: name)
        let second = try self.sealer.seal(Redacted(value), name: name)
        #expect(!first.contains(subsequence: value))
        #expect(first != second)
        #expect(first.prefix(12) != second.prefix(12))
    }

    @Test("another KEK does not open it")
    func wrongKEK() throws {
        let name = try Self.name("crm_token")
        let sealed = try self.sealer.seal(Redacted(Array("value".utf8)), name: name)
        let other = try KeyEncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
        #expect(throws: LatchError(.unsealFailed, "")) { try SecretSealer(kek: other).open(sealed, name: name) }
        #expect(throws: LatchError(.unsealFailed, "")) { try SecretSealer(kek: .generate()).open(sealed, name: name) }
    }

    @Test("a blob moved to another name does not open, however close the name")
    func movedToAnotherName() throws {
        let sealed = try self.sealer.seal(Redacted(Array("value".utf8)), name: try Self.name("crm_token"))
        for other in ["crm_token2", "CRM_TOKEN", "crm_toke", "crm.token", "other"] {
            #expect(throws: LatchError(.unsealFailed, ""), "\(other)") { try self.sealer.open(sealed, name: try Self.name(other)) }
        }
    }

    @Test("a blob with any bit flipped, or cut short, does not open")
    func tampered() throws {
        let name = try Self.name("crm_token")
        let sealed = try self.sealer.seal(Redacted(Array("tamper-evident".utf8)), name: name)
        // Every byte: the nonce, the ciphertext and the tag.
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(throws: LatchError(.unsealFailed, ""), "byte \(index)") { try self.sealer.open(tampered, name: name) }
        }
        for length in [0, 1, 12, 27, 28, sealed.count - 1] {
            #expect(throws: LatchError(.unsealFailed, ""), "length \(length)") { try self.sealer.open(sealed.prefix(length), name: name) }
        }
        #expect(throws: LatchError(.unsealFailed, "")) { try self.sealer.open(sealed + [0], name: name) }
    }

    @Test("a CA key sealed by KeySealer under the same KEK does not open as a secret (purpose tag)")
    func purposeSeparation() throws {
        let name = try Self.name("k1")
        let sealedKey = try KeySealer(kek: TestKeys.kek).seal(Array(repeating: 3, count: 32), keyID: "k1", purpose: .jwtSigning)
        #expect(throws: LatchError(.unsealFailed, "")) { try self.sealer.open(sealedKey, name: name) }
    }

    @Test("empty and oversized values are refused, with no value in the message")
    func limits() throws {
        let name = try Self.name("big")
        #expect(throws: LatchError(.invalidInput, "")) { try self.sealer.seal(Redacted([]), name: name) }
        let big = Array(repeating: UInt8(ascii: "Q"), count: SecretSealer.maximumValueBytes + 1)
        do {
            _ = try self.sealer.seal(Redacted(big), name: name)
            Issue.record("an oversized value was sealed")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(!error.message.contains("QQQQ"))
        }
    }

    @Test("the opened value and the errors never print the value")
    func redaction() throws {
        let name = try Self.name("crm_token")
        let value = "sk-live-do-not-print"
        let sealed = try self.sealer.seal(Redacted(Array(value.utf8)), name: name)
        let opened = try self.sealer.open(sealed, name: name)
        #expect("\(opened)" == "<redacted>")
        #expect(String(reflecting: opened) == "<redacted>")
        do {
            _ = try SecretSealer(kek: .generate()).open(sealed, name: name)
        } catch {
            #expect(!"\(error)".contains(value))
            #expect("\(error)".contains("crm_token"), "names the secret, not its value")
        }
    }
}

extension Collection where Element: Equatable {
    /// Whether `needle` occurs in this collection as a contiguous run.
    func contains(subsequence needle: [Element]) -> Bool {
        let haystack = Array(self)
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
