import AsyncHTTPClient
import LatchCore
import LatchIdentity
import NIOCore
import NIOHTTP1

/// Federated OIDC tokens as grant subjects: the token's issuer (`iss`, read before verification
/// only to pick the verifier) must be configured; the verified token becomes selectors
/// (`oidc:<alias>:sub:<sub>` and mapped claims); the registration entries whose selectors it all
/// presents must name exactly one SPIFFE ID, which is the grant's subject.
struct FederatedSubjects: Sendable {
    let verifiers: [String: FederatedTokenVerifier]
    let state: IdentityState

    init(issuers: [FederatedIssuer], state: IdentityState, fetcher: any JWKSFetcher = HTTPJWKSFetcher()) {
        var verifiers: [String: FederatedTokenVerifier] = [:]
        for issuer in issuers { verifiers[issuer.issuerURL] = FederatedTokenVerifier(issuer: issuer, fetcher: fetcher) }
        self.verifiers = verifiers
        self.state = state
    }

    func subject(of token: String, now: Int64) async throws -> SPIFFEID {
        let parts = try JWS.split(token, maxSize: 16 * 1024)
        guard let issuer = try JWS.decodeJSON(parts.payload, what: "claims")["iss"]?.stringValue, let verifier = self.verifiers[issuer] else {
            throw LatchError(.issuerMismatch, "the token's issuer is not federated")
        }
        let selectors = Set(try await verifier.verify(token, now: now))
        let ids = Set(self.state.snapshot.entries(matching: selectors).map(\.spiffeID))
        guard let id = ids.first else { throw LatchError(.noMatchingEntry, "no registration entry matches the token") }
        guard ids.count == 1 else { throw LatchError(.noMatchingEntry, "the token matches entries of \(ids.count) SPIFFE IDs") }
        return id
    }
}

/// Fetches a JWKS over HTTPS with AsyncHTTPClient's shared client (1 MiB at most, 10 s).
struct HTTPJWKSFetcher: JWKSFetcher {
    func fetchJWKS(url: String) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        guard response.status == .ok else { throw LatchError(.jwksUnavailable, "the JWKS answered \(response.status.code)") }
        return Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
    }
}
