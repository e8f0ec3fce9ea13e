import Hummingbird
import LatchAudit
import LatchIdentity
import NIOCore

/// The ledger's public endpoints, beside the trust bundles:
///
/// | path | body |
/// |---|---|
/// | `GET /ledger/key` | the checkpoint key: `key_name`, `key_id` (hex), `public_key` (base64 DER SPKI), `signature_type` (2, ECDSA), `verifier_key` |
/// | `GET /ledger/checkpoint` | the latest signed checkpoint (a C2SP signed note, `text/plain`); 404 before the first |
///
/// Public material only: auditors pin the key once and fetch checkpoints to keep elsewhere.
enum LedgerHTTPRoutes {
    static func add(to router: Router<BasicRequestContext>, verifier: CheckpointVerifier, store: any LedgerRepository) {
        let key = JSONValue.object([
            "key_name": .string(verifier.keyName), "key_id": .string(hexString(verifier.keyID)),
            "public_key": .string(Base64URL.encodeStandard(verifier.publicKeyDER)),
            "signature_type": .int(Int64(CheckpointVerifier.signatureType)), "verifier_key": .string(verifier.verifierKey),
        ]).serializedBytes
        router.get("/ledger/key") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: key)))
        }
        router.get("/ledger/checkpoint") { _, _ in
            guard let checkpoint = try await store.latestCheckpoint() else {
                return Response(
                    status: .notFound, headers: [.contentType: "text/plain"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "no checkpoint yet\n")))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: checkpoint.note)))
        }
    }
}
