import Crypto
import Foundation
import LatchCore
import LatchTesting
import SwiftASN1
import Testing
import X509

@testable import LatchIdentity

@Suite("X509SVID")
struct X509SVIDTests {
    let ca = TestKeys.x509Authority()
    let id = try! SPIFFEID(parsing: "spiffe://example.org/agents/billing")
    let now = TestKeys.epoch + 3_600_000

    @Test("the CA certificate is a self-signed CA for the trust domain")
    func caCertificate() throws {
        let cert = try #require(self.ca.certificate)
        #expect(cert.issuer == cert.subject)
        #expect(cert.publicKey.isValidSignature(cert.signature, for: cert))
        #expect(try cert.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let ku = try #require(try cert.extensions.keyUsage)
        #expect(ku.keyCertSign && ku.cRLSign && !ku.digitalSignature)
        #expect(try Array(#require(try cert.extensions.subjectAlternativeNames)) == [.uniformResourceIdentifier("spiffe://example.org")])
    }

    @Test("a leaf follows the X.509-SVID profile")
    func leafProfile() throws {
        let svid = try X509SVIDMinter.mintAndVerify(
            spiffeID: self.id, ttl: 3_600_000, now: self.now, authority: self.ca,
            leafKey: TestKeys.p256("leaf"))
        let leaf = svid.certificate
        let sans = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(Array(sans) == [.uniformResourceIdentifier(self.id.description)])
        #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
        let kuExt = try #require(leaf.extensions[oid: .X509ExtensionID.keyUsage])
        #expect(kuExt.critical)
        let ku = try KeyUsage(kuExt)
        #expect(ku.digitalSignature && !ku.keyCertSign && !ku.cRLSign)
        let eku = try #require(try leaf.extensions.extendedKeyUsage)
        #expect(Set(eku) == [.serverAuth, .clientAuth])
        #expect(leaf.serialNumber.bytes.count >= 16)
        #expect(svid.notBefore == self.now - 30_000)
        #expect(svid.notAfter == self.now + 3_600_000)
        #expect(leaf.issuer == self.ca.certificate?.subject)
        #expect(!"\(svid)".contains("PRIVATE"))
    }

    @Test("serial numbers are random")
    func randomSerials() throws {
        let a = try X509SVIDMinter.mintAndVerify(spiffeID: self.id, ttl: 60_000, now: self.now, authority: self.ca)
        let b = try X509SVIDMinter.mintAndVerify(spiffeID: self.id, ttl: 60_000, now: self.now, authority: self.ca)
        #expect(a.certificate.serialNumber != b.certificate.serialNumber)
    }

    @Test("the lifetime is capped by the CA certificate's remaining lifetime")
    func capsTTL() throws {
        let late = self.ca.notAfter - 600_000
        let svid = try X509SVIDMinter.mintAndVerify(spiffeID: self.id, ttl: 86_400_000, now: late, authority: self.ca)
        #expect(svid.notAfter == self.ca.notAfter)
    }

    @Test("an ID of another trust domain is refused")
    func otherTrustDomain() throws {
        let other = try SPIFFEID(parsing: "spiffe://other.org/x")
        #expect(throws: LatchError(.wrongTrustDomain, "")) {
            try X509SVIDMinter.mintAndVerify(spiffeID: other, ttl: 60_000, now: self.now, authority: self.ca)
        }
    }

    @Test("swift-certificates' RFC 5280 verifier accepts the chain to the bundle")
    func chainVerifies() async throws {
        let svid = try X509SVIDMinter.mintAndVerify(spiffeID: self.id, ttl: 600_000, now: self.now, authority: self.ca)
        var verifier = Verifier(rootCertificates: CertificateStore([try #require(self.ca.certificate)])) {
            RFC5280Policy(validationTime: Date(timeIntervalSince1970: Double(self.now) / 1000))
        }
        let result = await verifier.validate(leafCertificate: svid.certificate, intermediates: CertificateStore())
        guard case .validCertificate(let chain) = result else {
            Issue.record("chain did not validate: \(result)")
            return
        }
        #expect(chain.count == 2)
    }

    @Test("the validator rejects leaves from another CA, expired leaves and CA certificates")
    func validatorRejects() throws {
        let svid = try X509SVIDMinter.mintAndVerify(spiffeID: self.id, ttl: 600_000, now: self.now, authority: self.ca)
        let other = TestKeys.x509Authority(seed: "other-ca")
        #expect(throws: LatchError(.untrustedIssuer, "")) {
            try X509SVIDValidator.validate(leafDER: svid.certificateDER, authorities: [try #require(other.certificate)], now: self.now)
        }
        #expect(throws: LatchError(.expired, "")) {
            try X509SVIDValidator.validate(leafDER: svid.certificateDER, authorities: [try #require(self.ca.certificate)], now: self.now + 700_000)
        }
        #expect(throws: LatchError(.badX509SVID, "")) {
            try X509SVIDValidator.validate(
                leafDER: try #require(self.ca.certificateDER), authorities: [try #require(self.ca.certificate)], now: self.now)
        }
        #expect(throws: LatchError(.badX509SVID, "")) {
            try X509SVIDValidator.validate(leafDER: [0x30, 0x00], authorities: [], now: self.now)
        }
    }
}

@Suite("KeySealer")
struct KeySealerTests {
    let sealer = KeySealer(kek: TestKeys.kek)

    @Test("a sealed key opens under the same KEK, key ID and purpose")
    func roundTrip() throws {
        let key = TestKeys.jwtKey()
        let stored = try key.stored(sealer: self.sealer)
        #expect(stored.sealedPrivateKey.count == 12 + 32 + 16)
        #expect(!stored.sealedPrivateKey.contains(subsequence: Array(key.privateKey.unredacted.rawRepresentation)))
        let opened = try CAKey(stored: stored, sealer: self.sealer)
        #expect(opened.keyID == key.keyID)
        #expect(opened.publicKey.rawRepresentation == key.publicKey.rawRepresentation)
    }

    @Test("the associated data binds key ID and purpose; another KEK or a flipped bit fails")
    func binding() throws {
        let plain: [UInt8] = Array(repeating: 9, count: 32)
        let sealed = try self.sealer.seal(plain, keyID: "k1", purpose: .jwtSigning)
        #expect(try self.sealer.open(sealed, keyID: "k1", purpose: .jwtSigning) == plain)
        #expect(throws: LatchError(.unsealFailed, "")) { try self.sealer.open(sealed, keyID: "k2", purpose: .jwtSigning) }
        #expect(throws: LatchError(.unsealFailed, "")) { try self.sealer.open(sealed, keyID: "k1", purpose: .x509Authority) }
        #expect(throws: LatchError(.unsealFailed, "")) { try KeySealer(kek: .generate()).open(sealed, keyID: "k1", purpose: .jwtSigning) }
        var tampered = sealed
        tampered[20] ^= 1
        #expect(throws: LatchError(.unsealFailed, "")) { try self.sealer.open(tampered, keyID: "k1", purpose: .jwtSigning) }
    }

    @Test("a stored key relabelled with another key's ID does not open")
    func swappedRows() throws {
        var stored = try TestKeys.jwtKey().stored(sealer: self.sealer)
        stored.keyID = TestKeys.jwtKey(seed: "other").keyID
        #expect(throws: LatchError(.unsealFailed, "")) { try CAKey(stored: stored, sealer: self.sealer) }
    }

    @Test("the KEK loads from LATCH_KEK base64, from a file of raw bytes or base64, and rejects wrong lengths")
    func kekLoading() throws {
        let raw = [UInt8](repeating: 0xAB, count: 32)
        let b64 = Base64URL.encodeStandard(raw)
        #expect(try KeyEncryptionKey.load(kekFile: nil, environment: ["LATCH_KEK": b64]).unredactedBytes == raw)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("latch-kek-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rawFile = dir.appendingPathComponent("raw").path
        let textFile = dir.appendingPathComponent("text").path
        FileManager.default.createFile(atPath: rawFile, contents: Data(raw))
        FileManager.default.createFile(atPath: textFile, contents: Data((b64 + "\n").utf8))
        #expect(try KeyEncryptionKey.load(kekFile: rawFile, environment: [:]).unredactedBytes == raw)
        #expect(try KeyEncryptionKey.load(kekFile: textFile, environment: ["LATCH_KEK": "ignored"]).unredactedBytes == raw)
        #expect(throws: LatchError(.badKeyEncryptionKey, "")) { try KeyEncryptionKey.load(kekFile: nil, environment: [:]) }
        #expect(throws: LatchError(.badKeyEncryptionKey, "")) {
            try KeyEncryptionKey.load(kekFile: nil, environment: ["LATCH_KEK": Base64URL.encodeStandard(raw.prefix(16))])
        }
        #expect(throws: LatchError(.badKeyEncryptionKey, "")) { try KeyEncryptionKey.load(kekFile: nil, environment: ["LATCH_KEK": "%%%"]) }
        #expect(throws: LatchError(.io, "")) { try KeyEncryptionKey.load(kekFile: dir.appendingPathComponent("missing").path, environment: [:]) }
    }

    @Test("printing a KEK or a CA key never shows key material")
    func redaction() throws {
        let kek = try KeyEncryptionKey(bytes: [UInt8](repeating: 0x41, count: 32))
        #expect(!"\(kek)".contains("AAAA"))
        #expect(!String(reflecting: kek).contains("QUFB"))
        let key = TestKeys.jwtKey()
        #expect("\(key)" == "CAKey(\(key.keyID), jwt-signing, active)")
        #expect(!String(reflecting: key).contains(Base64URL.encode(Array(key.privateKey.unredacted.rawRepresentation))))
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= self.count else { return false }
        for i in 0...(self.count - subsequence.count) where Array(self[i..<(i + subsequence.count)]) == subsequence { return true }
        return false
    }
}
