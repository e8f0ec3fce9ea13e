import Hummingbird
import LatchIdentity
import NIOCore

/// The public HTTP endpoints of the identity layer, all read from the current ``IdentitySnapshot``:
///
/// | path | body |
/// |---|---|
/// | `GET /bundle` | the SPIFFE trust bundle (X.509 and JWT authorities, `spiffe_sequence`) |
/// | `GET /keys` | a plain JWKS of the JWT-SVID keys (`alg: ES256`, `use: sig`) |
/// | `GET /.well-known/openid-configuration` | OIDC discovery pointing at `/keys` |
/// | `GET /healthz` | `ok` once keys are active |
///
/// Everything here is public key material: no authentication, cacheable for the bundle's
/// refresh hint.
enum IdentityHTTPRoutes {
    /// `issuer` is read per request: when the configuration sets none it is filled in with the
    /// bound address once the listener is up (`listen` may say port 0).
    static func router(state: IdentityState, issuer: @escaping @Sendable () -> String) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/bundle") { _, _ in
            let bundle = state.snapshot.bundle
            return json(bundle.spiffeBundle.serializedBytes, maxAge: bundle.refreshHint)
        }
        router.get("/keys") { _, _ in
            let bundle = state.snapshot.bundle
            return json(bundle.jwks.serializedBytes, maxAge: bundle.refreshHint)
        }
        router.get("/.well-known/openid-configuration") { _, _ in
            let issuer = issuer()
            return json(OIDCDiscoveryDocument(issuer: issuer, jwksURI: issuer + "/keys").json.serializedBytes, maxAge: 300)
        }
        router.get("/healthz") { _, _ in
            let snapshot = state.snapshot
            let ready = snapshot.x509Authority != nil && snapshot.jwtSigningKey != nil
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ready ? "ok\n" : "no active keys\n")))
        }
        return router
    }

    private static func json(_ bytes: [UInt8], maxAge: Int64) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=\(maxAge)"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
