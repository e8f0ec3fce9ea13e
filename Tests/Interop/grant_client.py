"""Task grants against a running `latch serve`, with reference clients only: py-spiffe fetches the
JWT-SVIDs, PyJWT and `cryptography` build the DPoP proofs (RFC 9449) and verify grants from the
JWKS named by the RFC 8414 metadata, urllib speaks HTTP.

Run by Tests/LatchCLITests/GrantInteropTests.swift with the interpreter of .ci/run's venv.

Usage:
  grant_client.py exchange --socket PATH --http URL --agent ID --helper ID
      Every check prints one JSON line {"check", "ok", "detail"}.
  grant_client.py load --socket PATH --http URL --agent ID --out FILE [--threads N] [--count N]
      Issues grants until the server stops answering (or N per thread); after each 200 appends
      "grant JTI TOKEN" to FILE, and revokes every fifth grant through /revoke: "revoking JTI"
      before the request, "revoked JTI" after its 200.
  grant_client.py introspect --socket PATH --http URL --agent ID --in FILE
      Introspects every grant of FILE; prints {"jti", "active"} lines.
  grant_client.py oidc-issuer --key-file FILE
      A federated OIDC issuer: writes its P-256 key to FILE, serves its JWKS at
      http://127.0.0.1:PORT/jwks.json and prints PORT.
  grant_client.py federated --socket PATH --http URL --agent ID --issuer URL --key-file FILE
      Exchanges tokens of that issuer (sub "repo:acme/agent", audience "latch") for task grants.
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from spiffe import SpiffeId, WorkloadApiClient

from checks import run

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Key:
    """A DPoP key pair and its RFC 7638 thumbprint, computed here."""

    def __init__(self, private=None):
        self.private = private or ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwk = {k: jwk[k] for k in ("kty", "crv", "x", "y")}
        canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
        self.thumbprint = b64url(hashlib.sha256(canonical.encode()).digest())

    def proof(self, uri, htm="POST", iat=None, token=None, nonce=None):
        claims = {"jti": str(uuid.uuid4()), "htm": htm, "htu": uri, "iat": int(time.time()) if iat is None else iat}
        if token:
            claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self.private, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})


def post(url, form, headers=None):
    """POST a form; returns (status, parsed JSON body or None)."""
    body = urllib.parse.urlencode(form, doseq=True).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


class Server:
    def __init__(self, args):
        with urllib.request.urlopen(args.http + "/.well-known/oauth-authorization-server", timeout=30) as response:
            self.metadata = json.loads(response.read())
        self.issuer = self.metadata["issuer"]
        self.token_endpoint = self.metadata["token_endpoint"]
        self.client = WorkloadApiClient(socket_path="unix://" + os.path.abspath(args.socket))

    def svid(self, spiffe_id):
        return self.client.fetch_jwt_svid(audience={self.issuer}, subject=SpiffeId(spiffe_id)).token

    def exchange(self, key, subject_token, scope, intent="summarize the Q3 pipeline", proof=None, extra=(), subject_type=JWT_TYPE):
        form = [
            ("grant_type", TOKEN_EXCHANGE), ("subject_token", subject_token), ("subject_token_type", subject_type),
            ("scope", scope), ("intent", intent), ("audience", "latch-gateway"),
        ] + list(extra)
        headers = {} if proof == "" else {"DPoP": proof or key.proof(self.token_endpoint)}
        return post(self.token_endpoint, form, headers)

    def delegate(self, parent_token, signer, actor_svid, actor_key, scope):
        """The actor asks: its own proof in the DPoP header, the parent holder's (signer) over the parent grant."""
        form = [
            ("grant_type", TOKEN_EXCHANGE), ("subject_token", parent_token), ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("actor_token", actor_svid), ("actor_token_type", JWT_TYPE), ("dpop_jkt", actor_key.thumbprint), ("scope", scope),
            ("subject_token_dpop", signer.proof(self.token_endpoint, token=parent_token)),
        ]
        return post(self.token_endpoint, form, {"DPoP": actor_key.proof(self.token_endpoint)})

    def introspect(self, token, caller_svid):
        return post(self.metadata["introspection_endpoint"], [("token", token)], {"Authorization": "Bearer " + caller_svid})


SCOPE = "tool:crm.lookup tool:files.read domain:sales destination:internal sensitivity:confidential"


def exchange(args):
    server = Server(args)
    agent_key, helper_key = Key(), Key()
    agent_svid = server.svid(args.agent)
    helper_svid = server.svid(args.helper)
    state = {}

    def metadata():
        m = server.metadata
        ok = (m["token_endpoint"] == args.http + "/token" and TOKEN_EXCHANGE in m["grant_types_supported"]
              and "ES256" in m["dpop_signing_alg_values_supported"] and m["revocation_endpoint"].endswith("/revoke"))
        return ok, m

    def issue():
        status, body = server.exchange(agent_key, agent_svid, SCOPE)
        state["root"] = body.get("access_token") if body else None
        state["task"] = body.get("task_id") if body else None
        ok = (status == 200 and body["token_type"] == "DPoP" and body["issued_token_type"] == ACCESS_TOKEN_TYPE
              and 290 <= body["expires_in"] <= 300 and body["scope"] == SCOPE)
        return ok, (status, body)

    def pyjwt_verifies():
        token = state["root"]
        jwks = jwt.PyJWKClient(server.metadata["jwks_uri"])
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["ES256"], audience="latch-gateway", issuer=server.issuer)
        header = jwt.get_unverified_header(token)
        ok = (header["typ"] == "at+jwt" and claims["sub"] == args.agent and claims["client_id"] == args.agent
              and claims["cnf"]["jkt"] == agent_key.thumbprint and claims["task_id"] == state["task"]
              and claims["intent"] == "summarize the Q3 pipeline" and claims["latch_scope"]["max_sensitivity"] == "confidential"
              and claims["latch_scope"]["tools"] == ["crm.lookup", "files.read"] and claims["exp"] - claims["iat"] == 300
              and len(claims["jti"]) >= 16 and "act" not in claims)
        return ok, claims

    def replayed():
        proof = agent_key.proof(server.token_endpoint)
        first = server.exchange(agent_key, agent_svid, SCOPE, proof=proof)
        second = server.exchange(agent_key, agent_svid, SCOPE, proof=proof)
        return first[0] == 200 and second[0] == 400 and second[1]["error"] == "invalid_dpop_proof", (first[0], second)

    def refused(check, **kwargs):
        def body():
            status, answer = server.exchange(agent_key, agent_svid, SCOPE, **kwargs)
            return status == 400 and answer["error"] == "invalid_dpop_proof", (status, answer)
        run(check, body)

    def policy_denies():
        status, body = server.exchange(agent_key, agent_svid, "tool:payments.send domain:finance sensitivity:restricted")
        return status == 400 and body["error"] == "invalid_scope" and "denied by policy" in body["error_description"], (status, body)

    def bad_subject():
        status, body = server.exchange(agent_key, agent_svid[:-4] + "AAAA", SCOPE)
        return status == 400 and body["error"] == "invalid_request", (status, body)

    def delegate_narrower():
        status, body = server.delegate(state["root"], agent_key, helper_svid, helper_key, "tool:files.read domain:sales sensitivity:internal")
        if status != 200:
            return False, (status, body)
        state["child"] = body["access_token"]
        jwks = jwt.PyJWKClient(server.metadata["jwks_uri"])
        claims = jwt.decode(body["access_token"], jwks.get_signing_key_from_jwt(body["access_token"]).key,
                            algorithms=["ES256"], audience="latch-gateway", issuer=server.issuer)
        root = jwt.decode(state["root"], options={"verify_signature": False})
        ok = (claims["sub"] == args.agent and claims["act"] == {"sub": args.helper} and claims["client_id"] == args.helper
              and claims["cnf"]["jkt"] == helper_key.thumbprint and claims["latch_ancestors"] == [root["jti"]]
              and claims["latch_depth"] == 1 and claims["task_id"] == state["task"] and claims["exp"] <= root["exp"]
              and claims["latch_scope"]["tools"] == ["files.read"])
        return ok, claims

    def delegate_wider():
        status, body = server.delegate(state["root"], agent_key, helper_svid, helper_key, "tool:files.read tool:payments.send domain:sales")
        return status == 400 and body["error"] == "invalid_scope" and "payments.send" in body["error_description"], (status, body)

    def delegate_without_parent_key():
        # Whoever holds a copy of the grant but not its key cannot hand it on.
        status, body = server.delegate(state["root"], helper_key, helper_svid, helper_key, "tool:files.read domain:sales")
        return status == 400 and body["error"] == "invalid_dpop_proof", (status, body)

    def introspect_active():
        status, body = server.introspect(state["child"], agent_svid)
        unauthenticated = post(server.metadata["introspection_endpoint"], [("token", state["child"])])
        # The policy lets an agent introspect only its own tasks: to the helper the grant is inactive.
        refused = server.introspect(state["child"], helper_svid)
        ok = (status == 200 and body["active"] is True and body["sub"] == args.agent and body["client_id"] == args.helper
              and unauthenticated[0] == 401 and refused == (200, {"active": False}))
        return ok, (status, body, unauthenticated[0], refused)

    def complete_cascades():
        endpoint = server.metadata["latch_task_completion_endpoint"]
        status, body = post(endpoint, [], {"Authorization": "DPoP " + state["root"], "DPoP": agent_key.proof(endpoint, token=state["root"])})
        root_after = server.introspect(state["root"], agent_svid)
        child_after = server.introspect(state["child"], agent_svid)
        again = server.delegate(state["root"], agent_key, helper_svid, helper_key, "tool:files.read")
        ok = (status == 200 and body["status"] == "completed" and body["task_id"] == state["task"]
              and root_after[1] == {"active": False} and child_after[1] == {"active": False}
              and again[0] == 400 and again[1]["error"] == "invalid_request")
        return ok, (status, body, root_after, child_after, again)

    def revoke_endpoint():
        status, body = server.exchange(agent_key, agent_svid, SCOPE)
        token = body["access_token"]
        before = server.introspect(token, agent_svid)[1]["active"]
        revoked = post(server.metadata["revocation_endpoint"], [("token", token), ("token_type_hint", "access_token")])
        garbage = post(server.metadata["revocation_endpoint"], [("token", "not-a-grant")])
        after = server.introspect(token, agent_svid)[1]
        return before is True and revoked[0] == 200 and garbage[0] == 200 and after == {"active": False}, (revoked, garbage, after)

    run("metadata", metadata)
    run("exchange", issue)
    run("pyjwt-verifies-grant", pyjwt_verifies)
    run("replayed-proof-refused", replayed)
    refused("wrong-method-refused", proof=agent_key.proof(server.token_endpoint, htm="GET"))
    refused("wrong-uri-refused", proof=agent_key.proof(server.issuer + "/other"))
    refused("expired-proof-refused", proof=agent_key.proof(server.token_endpoint, iat=int(time.time()) - 600))
    refused("missing-proof-refused", proof="")
    run("policy-denies", policy_denies)
    run("bad-subject-token", bad_subject)
    run("delegate-narrower", delegate_narrower)
    run("delegate-wider-refused", delegate_wider)
    run("delegate-needs-parent-key", delegate_without_parent_key)
    run("introspect-active", introspect_active)
    run("complete-cascades", complete_cascades)
    run("revoke-endpoint", revoke_endpoint)


def load(args):
    server = Server(args)
    svid = server.svid(args.agent)
    lock = threading.Lock()
    out = open(args.out, "a", buffering=1)

    def worker():
        key = Key()
        count = 0
        while args.count == 0 or count < args.count:
            try:
                status, body = server.exchange(key, svid, SCOPE)
                if status != 200:
                    return
                token = body["access_token"]
                jti = jwt.decode(token, options={"verify_signature": False})["jti"]
                with lock:
                    out.write("grant %s %s\n" % (jti, token))
                count += 1
                if count % 5 == 0:
                    with lock:
                        out.write("revoking %s\n" % jti)
                    status, _ = post(server.metadata["revocation_endpoint"], [("token", token)])
                    if status != 200:
                        return
                    with lock:
                        out.write("revoked %s\n" % jti)
            except (OSError, urllib.error.URLError, ValueError):
                return  # the server is gone

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.close()


def introspect(args):
    server = Server(args)
    svid = server.svid(args.agent)
    for line in open(args.input):
        parts = line.split()
        if len(parts) == 3 and parts[0] == "grant":
            status, body = server.introspect(parts[2], svid)
            print(json.dumps({"jti": parts[1], "status": status, "active": bool(body and body.get("active"))}), flush=True)


def oidc_issuer(args):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(args.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "ES256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path == "/jwks.json"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def federated(args):
    server = Server(args)
    with open(args.key_file, "rb") as file:
        issuer_key = serialization.load_pem_private_key(file.read(), password=None)
    stranger = ec.generate_private_key(ec.SECP256R1())
    agent_key = Key()
    now = int(time.time())

    def token(sub="repo:acme/agent", key=issuer_key, audience="latch"):
        claims = {"iss": args.issuer, "sub": sub, "aud": audience, "iat": now, "exp": now + 300}
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})

    def exchange(subject_token):
        return server.exchange(agent_key, subject_token, SCOPE, subject_type=ID_TOKEN_TYPE)

    def accepted():
        status, body = exchange(token())
        if status != 200:
            return False, (status, body)
        jwks = jwt.PyJWKClient(server.metadata["jwks_uri"])
        claims = jwt.decode(body["access_token"], jwks.get_signing_key_from_jwt(body["access_token"]).key,
                            algorithms=["ES256"], audience="latch-gateway", issuer=server.issuer)
        return claims["sub"] == args.agent and claims["cnf"]["jkt"] == agent_key.thumbprint, claims

    def refused(check, subject_token, words):
        def body():
            status, answer = exchange(subject_token)
            return status == 400 and answer["error"] == "invalid_request" and words in answer["error_description"], (status, answer)
        run(check, body)

    run("federated-exchange", accepted)
    refused("federated-unmatched-subject", token(sub="repo:someone/else"), "no registration entry")
    refused("federated-wrong-key", token(key=stranger), "signature")
    refused("federated-wrong-audience", token(audience="another"), "not for Latch")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["exchange", "load", "introspect", "oidc-issuer", "federated"])
    parser.add_argument("--socket")
    parser.add_argument("--http")
    parser.add_argument("--agent")
    parser.add_argument("--issuer")
    parser.add_argument("--key-file")
    parser.add_argument("--helper")
    parser.add_argument("--out")
    parser.add_argument("--in", dest="input")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    modes = {"exchange": exchange, "load": load, "introspect": introspect, "oidc-issuer": oidc_issuer, "federated": federated}
    modes[args.mode](args)


if __name__ == "__main__":
    main()
