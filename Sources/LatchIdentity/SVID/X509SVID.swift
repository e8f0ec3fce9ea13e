public import Crypto
import Foundation
public import LatchCore
import SwiftASN1
public import X509

/// An X.509-SVID: the leaf certificate (chain `[leaf]`, issued directly by the trust domain's CA)
/// and, when Latch generated it, the leaf's private key.
public struct X509SVID: Sendable, CustomStringConvertible {
    public let spiffeID: SPIFFEID
    public let certificate: Certificate
    /// DER of the leaf.
    public let certificateDER: [UInt8]
    /// The private key of the leaf (PKCS#8 DER when exported), if Latch generated it.
    public let privateKey: Redacted<P256.Signing.PrivateKey>?
    /// The key ID of the CA key that signed it.
    public let issuerKeyID: String
    public let notBefore: Int64
    public let notAfter: Int64

    public var description: String { "X509SVID(\(self.spiffeID), expires \(self.notAfter))" }

    /// The leaf private key as PKCS#8 DER (what the Workload API sends).
    public var privateKeyPKCS8: Redacted<[UInt8]>? {
        self.privateKey.map { Redacted(Array($0.unredacted.derRepresentation)) }
    }
}

/// Mints X.509-SVIDs per the SPIFFE X.509-SVID profile.
///
/// The leaf has exactly one URI SAN (the SPIFFE ID), `keyUsage` digitalSignature (critical), basic
/// constraints CA=false (critical), extKeyUsage serverAuth + clientAuth, a random 20-byte serial,
/// `notBefore` back-dated by ``backdate`` and `notAfter` capped by the CA certificate's.
public enum X509SVIDMinter {
    /// How far `notBefore` is moved into the past to tolerate clock skew, milliseconds.
    public static let backdate: Int64 = 30_000

    public static func mint(
        spiffeID: SPIFFEID, publicKey: P256.Signing.PublicKey, ttl: Int64, now: Int64,
        authority: CAKey
    ) throws(LatchError) -> (Certificate, [UInt8]) {
        guard authority.purpose == .x509Authority, let caCert = authority.certificate else {
            throw LatchError(.noActiveKey, "an X.509 authority key with a certificate is needed")
        }
        guard spiffeID.trustDomain.idString == caTrustDomainURI(caCert) else {
            throw LatchError(.wrongTrustDomain, "\(spiffeID) is not in this CA's trust domain")
        }
        let notBefore = max(floorToSecond(now - backdate), authority.notBefore)
        let notAfter = min(floorToSecond(now + max(ttl, 1000)), authority.notAfter)
        guard notAfter > now else {
            throw LatchError(.noActiveKey, "the CA certificate \(authority.keyID) expires before the SVID would be valid")
        }
        do {
            let leafKey = Certificate.PublicKey(publicKey)
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectKeyIdentifier(hash: leafKey)
                AuthorityKeyIdentifier(keyIdentifier: try caCert.extensions.subjectKeyIdentifier?.keyIdentifier)
                SubjectAlternativeNames([.uniformResourceIdentifier(spiffeID.description)])
            }
            let subject = try DistinguishedName { OrganizationName("Latch") }
            let cert = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: leafKey,
                notValidBefore: date(notBefore), notValidAfter: date(notAfter),
                issuer: caCert.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(authority.privateKey.unredacted))
            var serializer = DER.Serializer()
            try serializer.serialize(cert)
            return (cert, serializer.serializedBytes)
        } catch {
            throw LatchError(.internalError, "building an X.509-SVID failed: \(error)")
        }
    }

    /// Mints, then re-validates the result against `authority` before returning it.
    public static func mintAndVerify(
        spiffeID: SPIFFEID, ttl: Int64, now: Int64, authority: CAKey,
        leafKey: P256.Signing.PrivateKey = P256.Signing.PrivateKey()
    ) throws(LatchError) -> X509SVID {
        let (_, der) = try mint(spiffeID: spiffeID, publicKey: leafKey.publicKey, ttl: ttl, now: now, authority: authority)
        let checked: X509SVIDValidator.Validated
        do {
            checked = try X509SVIDValidator.validate(leafDER: der, authorities: [authority].compactMap(\.certificate), now: now)
        } catch {
            throw LatchError(.mintedCredentialInvalid, "a freshly minted X.509-SVID failed re-validation: \(error.code)")
        }
        guard checked.spiffeID == spiffeID, checked.certificate.publicKey == Certificate.PublicKey(leafKey.publicKey) else {
            throw LatchError(.mintedCredentialInvalid, "a freshly minted X.509-SVID names another ID or key")
        }
        return X509SVID(
            spiffeID: spiffeID, certificate: checked.certificate, certificateDER: der,
            privateKey: Redacted(leafKey), issuerKeyID: authority.keyID,
            notBefore: milliseconds(checked.certificate.notValidBefore),
            notAfter: milliseconds(checked.certificate.notValidAfter))
    }

    static func caTrustDomainURI(_ cert: Certificate) -> String? {
        guard let san = try? cert.extensions.subjectAlternativeNames else { return nil }
        for name in san { if case .uniformResourceIdentifier(let uri) = name { return uri } }
        return nil
    }
}

extension LatchError.Code {
    /// X.509-SVID validation: the certificate does not follow the SPIFFE X.509-SVID profile.
    public static let badX509SVID = Self("badX509SVID")
    /// X.509-SVID validation: no authority in the bundle signed it.
    public static let untrustedIssuer = Self("untrustedIssuer")
}

/// Checks a leaf against the SPIFFE X.509-SVID profile and a set of CA certificates.
public enum X509SVIDValidator {
    public struct Validated: Sendable {
        public let spiffeID: SPIFFEID
        public let certificate: Certificate
        public let issuer: Certificate
    }

    public static func validate(leafDER: [UInt8], authorities: [Certificate], now: Int64) throws(LatchError) -> Validated {
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: leafDER) } catch {
            throw LatchError(.badX509SVID, "the certificate does not parse")
        }
        let ext = leaf.extensions
        // Exactly one URI SAN, a valid SPIFFE ID.
        guard let sans = try? ext.subjectAlternativeNames else {
            throw LatchError(.badX509SVID, "no subjectAltName")
        }
        var uris: [String] = []
        for name in sans { if case .uniformResourceIdentifier(let u) = name { uris.append(u) } }
        guard uris.count == 1 else { throw LatchError(.badX509SVID, "an X.509-SVID has exactly one URI SAN; found \(uris.count)") }
        let id: SPIFFEID
        do { id = try SPIFFEID(parsing: uris[0]) } catch {
            throw LatchError(.subjectNotSPIFFEID, "the URI SAN is not a SPIFFE ID (\(error.code))")
        }
        guard !id.path.isEmpty else { throw LatchError(.badX509SVID, "a leaf SVID's SPIFFE ID has a path") }
        // Not a CA; digitalSignature, no cert/CRL signing; key usage critical.
        if case .isCertificateAuthority = try? ext.basicConstraints {
            throw LatchError(.badX509SVID, "a leaf SVID is not a CA")
        }
        guard let kuExt = ext[oid: .X509ExtensionID.keyUsage], kuExt.critical, let ku = try? KeyUsage(kuExt),
            ku.digitalSignature, !ku.keyCertSign, !ku.cRLSign
        else {
            throw LatchError(.badX509SVID, "keyUsage must be critical with digitalSignature and without keyCertSign/cRLSign")
        }
        let current = date(now)
        guard leaf.notValidBefore <= current, current < leaf.notValidAfter else {
            throw LatchError(.expired, "the certificate is not valid at this time")
        }
        // Signed by one of the authorities, within its validity.
        for authority in authorities where authority.subject == leaf.issuer {
            if authority.publicKey.isValidSignature(leaf.signature, for: leaf) {
                guard leaf.notValidAfter <= authority.notValidAfter else {
                    throw LatchError(.badX509SVID, "the SVID outlives its issuer")
                }
                guard authority.notValidBefore <= current, current < authority.notValidAfter else {
                    throw LatchError(.expired, "the issuing CA certificate is not valid at this time")
                }
                guard X509SVIDMinter.caTrustDomainURI(authority).map({ $0 == id.trustDomain.idString }) ?? true else {
                    throw LatchError(.wrongTrustDomain, "the SVID's trust domain is not its issuer's")
                }
                return Validated(spiffeID: id, certificate: leaf, issuer: authority)
            }
        }
        throw LatchError(.untrustedIssuer, "no authority in the bundle signed this certificate")
    }
}
