public import Crypto
import Foundation
public import LatchCore
import SwiftASN1
public import X509

/// A CA key loaded into memory: the unsealed private key, its public half, and for X.509
/// authorities the self-signed CA certificate.
///
/// - Important: the private key sits in a ``Redacted``; printing a `CAKey` never shows it.
public struct CAKey: Sendable, CustomStringConvertible {
    public let keyID: String
    public let purpose: KeyPurpose
    public var state: KeyState
    package let privateKey: Redacted<P256.Signing.PrivateKey>
    public let publicKey: P256.Signing.PublicKey
    /// The CA certificate (X.509 authorities only).
    public let certificate: Certificate?
    public let certificateDER: [UInt8]?
    /// Validity, milliseconds since the Unix epoch.
    public let notBefore: Int64
    public let notAfter: Int64
    public let createdAt: Int64

    public var description: String { "CAKey(\(self.keyID), \(self.purpose.rawValue), \(self.state.rawValue))" }

    /// The RFC 7638 JWK thumbprint of a P-256 public key (base64url SHA-256), used as key ID.
    public static func thumbprint(of key: P256.Signing.PublicKey) -> String {
        let raw = Array(key.x963Representation)  // 0x04 ‖ x ‖ y
        let jwk = JSONValue.object([
            "crv": .string("P-256"), "kty": .string("EC"),
            "x": .string(Base64URL.encode(raw[1..<33])), "y": .string(Base64URL.encode(raw[33..<65])),
        ])
        return Base64URL.encode(Array(SHA256.hash(data: jwk.serializedBytes)))
    }

    /// Creates a new key (random unless `privateKey` is given, as tests do) and, for an X.509
    /// authority, its self-signed CA certificate for `trustDomain`.
    public static func generate(
        purpose: KeyPurpose, trustDomain: TrustDomain, now: Int64, lifetime: Int64,
        privateKey: P256.Signing.PrivateKey = P256.Signing.PrivateKey()
    ) throws(LatchError) -> CAKey {
        let publicKey = privateKey.publicKey
        let keyID = thumbprint(of: publicKey)
        // Certificates carry whole seconds.
        let notBefore = floorToSecond(now)
        let notAfter = floorToSecond(now + lifetime)
        var certificate: Certificate? = nil
        var der: [UInt8]? = nil
        if purpose == .x509Authority {
            do {
                let certKey = Certificate.PublicKey(publicKey)
                let name = try DistinguishedName {
                    OrganizationName("Latch")
                    CommonName(trustDomain.name)
                }
                let extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: certKey)
                    SubjectAlternativeNames([.uniformResourceIdentifier(trustDomain.idString)])
                }
                let cert = try Certificate(
                    version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: certKey,
                    notValidBefore: date(notBefore), notValidAfter: date(notAfter),
                    issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                    issuerPrivateKey: Certificate.PrivateKey(privateKey))
                var serializer = DER.Serializer()
                try serializer.serialize(cert)
                certificate = cert
                der = serializer.serializedBytes
            } catch {
                throw LatchError(.internalError, "building the CA certificate failed: \(error)")
            }
        }
        return CAKey(
            keyID: keyID, purpose: purpose, state: .prepared, privateKey: Redacted(privateKey), publicKey: publicKey,
            certificate: certificate, certificateDER: der, notBefore: notBefore, notAfter: notAfter, createdAt: now)
    }

    /// Seals the private key for the store.
    public func stored(sealer: KeySealer) throws(LatchError) -> StoredKey {
        let sealed = try sealer.seal(Array(self.privateKey.unredacted.rawRepresentation), keyID: self.keyID, purpose: self.purpose)
        return StoredKey(
            keyID: self.keyID, purpose: self.purpose, state: self.state, sealedPrivateKey: sealed,
            certificateDER: self.certificateDER, notBefore: self.notBefore, notAfter: self.notAfter,
            createdAt: self.createdAt)
    }

    /// Opens a stored key; checks that the private key, key ID and certificate belong together.
    public init(stored: StoredKey, sealer: KeySealer) throws(LatchError) {
        var raw = try sealer.open(stored.sealedPrivateKey, keyID: stored.keyID, purpose: stored.purpose)
        defer { for i in raw.indices { raw[i] = 0 } }
        let privateKey: P256.Signing.PrivateKey
        do { privateKey = try P256.Signing.PrivateKey(rawRepresentation: raw) } catch {
            throw LatchError(.unsealFailed, "the sealed key \(stored.keyID) is not a P-256 private key")
        }
        guard Self.thumbprint(of: privateKey.publicKey) == stored.keyID else {
            throw LatchError(.unsealFailed, "the key \(stored.keyID) does not match its key ID")
        }
        var certificate: Certificate? = nil
        if let der = stored.certificateDER {
            do { certificate = try Certificate(derEncoded: der) } catch {
                throw LatchError(.invalidInput, "the CA certificate of \(stored.keyID) does not parse")
            }
            guard certificate?.publicKey == Certificate.PublicKey(privateKey.publicKey) else {
                throw LatchError(.invalidInput, "the CA certificate of \(stored.keyID) is for another key")
            }
        } else if stored.purpose == .x509Authority {
            throw LatchError(.invalidInput, "the X.509 authority \(stored.keyID) has no certificate")
        }
        self.init(
            keyID: stored.keyID, purpose: stored.purpose, state: stored.state, privateKey: Redacted(privateKey),
            publicKey: privateKey.publicKey, certificate: certificate, certificateDER: stored.certificateDER,
            notBefore: stored.notBefore, notAfter: stored.notAfter, createdAt: stored.createdAt)
    }

    init(
        keyID: String, purpose: KeyPurpose, state: KeyState, privateKey: Redacted<P256.Signing.PrivateKey>,
        publicKey: P256.Signing.PublicKey, certificate: Certificate?, certificateDER: [UInt8]?, notBefore: Int64,
        notAfter: Int64, createdAt: Int64
    ) {
        self.keyID = keyID
        self.purpose = purpose
        self.state = state
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.certificate = certificate
        self.certificateDER = certificateDER
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.createdAt = createdAt
    }
}

func floorToSecond(_ ms: Int64) -> Int64 { UnixTime(milliseconds: ms).seconds * 1000 }

func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
