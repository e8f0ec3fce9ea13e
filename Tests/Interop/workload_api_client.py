"""Reference clients against a running `latch serve`: py-spiffe, cryptography, pyjwt, grpcio.

Run by Tests/LatchCLITests/ServeInteropTests.swift with the interpreter of .ci/run's venv
(pinned: spiffe, cryptography, PyJWT). Every check prints one JSON line
{"check": name, "ok": bool, "detail": ...}; the Swift test asserts on them, so a check that
cannot run reports ok=false rather than disappearing.

Usage:
  workload_api_client.py denied --socket PATH
  workload_api_client.py full --socket PATH --http http://HOST:PORT --spiffe-id ID --trust-domain TD
"""

import argparse
import datetime
import json
import sys
import urllib.request

import grpc
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID
from spiffe import WorkloadApiClient
from spiffe._proto import workload_pb2, workload_pb2_grpc

from checks import run

HEADER = [("workload.spiffe.io", "true")]


def raw_stub(socket):
    channel = grpc.insecure_channel("unix:" + socket)
    return channel, workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)


def status_of(call):
    try:
        call()
        return "OK"
    except grpc.RpcError as error:
        return error.code().name


def denied(args):
    channel, stub = raw_stub(args.socket)
    with channel:
        request = workload_pb2.JWTSVIDRequest(audience=["interop"])
        run("no-entry-jwt", lambda: (lambda s: (s == "PERMISSION_DENIED", s))(
            status_of(lambda: stub.FetchJWTSVID(request, metadata=HEADER, timeout=10))))
        run("no-entry-x509", lambda: (lambda s: (s == "PERMISSION_DENIED", s))(
            status_of(lambda: next(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=HEADER, timeout=10)))))


def verify_chain(leaf, authorities, spiffe_id):
    """The SPIFFE X.509-SVID checks, done by hand with `cryptography` (its WebPKI verifier wants DNS names)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    assert leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc, "leaf not valid now"
    sans = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    uris = sans.get_values_for_type(x509.UniformResourceIdentifier)
    assert uris == [spiffe_id], f"URI SANs {uris}"
    assert not leaf.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca, "leaf is a CA"
    usage = leaf.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    assert usage.digital_signature and not usage.key_cert_sign, "key usage"
    for ca in authorities:
        if ca.subject != leaf.issuer:
            continue
        assert ca.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca, "authority is not a CA"
        assert ca.not_valid_before_utc <= now < ca.not_valid_after_utc, "authority not valid now"
        ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm))
        return True, f"signed by {ca.subject.rfc4514_string()}"
    return False, "no authority in the bundle issued the leaf"


def full(args):
    client = WorkloadApiClient(socket_path="unix://" + args.socket)
    state = {}

    def x509_svid():
        svid = client.fetch_x509_svid()
        state["x509"] = svid
        return str(svid.spiffe_id) == args.spiffe_id, svid.spiffe_id

    def x509_bundles():
        bundles = client.fetch_x509_bundles()
        bundle = bundles.get_bundle_for_trust_domain(state["x509"].spiffe_id.trust_domain)
        state["authorities"] = list(bundle.x509_authorities)
        return len(state["authorities"]) >= 1, f"{len(state['authorities'])} authorities"

    def chain():
        svid = state["x509"]
        ok, detail = verify_chain(svid.leaf, state["authorities"], args.spiffe_id)
        # The private key the API sent belongs to the leaf.
        same = svid.private_key.public_key().public_numbers() == svid.leaf.public_key().public_numbers()
        return ok and same, detail if same else "private key does not match the leaf"

    def jwt_svid():
        svid = client.fetch_jwt_svid(audience={"interop-audience"})
        state["jwt"] = svid.token
        return str(svid.spiffe_id) == args.spiffe_id and svid.audience == {"interop-audience"}, svid.spiffe_id

    def validate_through_api():
        validated = client.validate_jwt_svid(state["jwt"], "interop-audience")
        return str(validated.spiffe_id) == args.spiffe_id, validated.spiffe_id

    def validate_wrong_audience():
        channel, stub = raw_stub(args.socket)
        with channel:
            request = workload_pb2.ValidateJWTSVIDRequest(audience="someone-else", svid=state["jwt"])
            code = status_of(lambda: stub.ValidateJWTSVID(request, metadata=HEADER, timeout=10))
        return code == "INVALID_ARGUMENT", code

    def validate_claims():
        channel, stub = raw_stub(args.socket)
        with channel:
            request = workload_pb2.ValidateJWTSVIDRequest(audience="interop-audience", svid=state["jwt"])
            response = stub.ValidateJWTSVID(request, metadata=HEADER, timeout=10)
        claims = dict(response.claims)
        return response.spiffe_id == args.spiffe_id and claims.get("sub") == args.spiffe_id, sorted(claims)

    def jwt_bundles():
        bundles = client.fetch_jwt_bundles()
        bundle = bundles.get_bundle_for_trust_domain(state["x509"].spiffe_id.trust_domain)
        kid = jwt.get_unverified_header(state["jwt"])["kid"]
        return bundle is not None and bundle.get_jwt_authority(kid) is not None, kid

    def pyjwt_with_published_jwks():
        with urllib.request.urlopen(args.http + "/.well-known/openid-configuration", timeout=10) as response:
            discovery = json.load(response)
        jwks_uri = discovery["jwks_uri"]
        signing_key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(state["jwt"])
        claims = jwt.decode(state["jwt"], signing_key.key, algorithms=["ES256"], audience="interop-audience")
        return claims["sub"] == args.spiffe_id and discovery["id_token_signing_alg_values_supported"] == ["ES256"], jwks_uri

    def pyjwt_rejects_wrong_audience():
        signing_key = jwt.PyJWKClient(args.http + "/keys").get_signing_key_from_jwt(state["jwt"])
        try:
            jwt.decode(state["jwt"], signing_key.key, algorithms=["ES256"], audience="someone-else")
        except jwt.InvalidAudienceError:
            return True, "InvalidAudienceError"
        return False, "accepted"

    def spiffe_bundle_endpoint():
        with urllib.request.urlopen(args.http + "/bundle", timeout=10) as response:
            bundle = json.load(response)
        uses = sorted({key["use"] for key in bundle["keys"]})
        x5c = [key for key in bundle["keys"] if key["use"] == "x509-svid"]
        published = [x509.load_der_x509_certificate(__import__("base64").b64decode(k["x5c"][0])) for k in x5c]
        same = {c.fingerprint(c.signature_hash_algorithm) for c in published} == {
            c.fingerprint(c.signature_hash_algorithm) for c in state["authorities"]}
        return uses == ["jwt-svid", "x509-svid"] and "spiffe_sequence" in bundle and same, uses

    def missing_header():
        channel, stub = raw_stub(args.socket)
        with channel:
            request = workload_pb2.JWTSVIDRequest(audience=["interop-audience"])
            code = status_of(lambda: stub.FetchJWTSVID(request, timeout=10))
        return code == "INVALID_ARGUMENT", code

    def forged_credentials():
        # Reserved metadata a client sends is stripped; the SVID still names this process.
        channel, stub = raw_stub(args.socket)
        with channel:
            forged = HEADER + [("x-latch-peer-uid", "4242"), ("x-latch-peer-pid", "1"), ("x-latch-peer-start", "1")]
            response = stub.FetchJWTSVID(workload_pb2.JWTSVIDRequest(audience=["a"]), metadata=forged, timeout=10)
        return [s.spiffe_id for s in response.svids] == [args.spiffe_id], [s.spiffe_id for s in response.svids]

    for name, fn in [
        ("x509-svid", x509_svid), ("x509-bundles", x509_bundles), ("x509-chain", chain), ("jwt-svid", jwt_svid),
        ("validate-jwt-svid", validate_through_api), ("validate-wrong-audience", validate_wrong_audience),
        ("validate-claims", validate_claims), ("jwt-bundles", jwt_bundles), ("pyjwt-jwks", pyjwt_with_published_jwks),
        ("pyjwt-wrong-audience", pyjwt_rejects_wrong_audience), ("bundle-endpoint", spiffe_bundle_endpoint),
        ("missing-header", missing_header), ("forged-credentials", forged_credentials),
    ]:
        run(name, fn)
    client.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["denied", "full"])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--http")
    parser.add_argument("--spiffe-id")
    parser.add_argument("--trust-domain")
    args = parser.parse_args()
    denied(args) if args.mode == "denied" else full(args)


if __name__ == "__main__":
    sys.exit(main())
