"""DPoP proofs (RFC 9449) built independently of Latch, with PyJWT and `cryptography`.

Run by Tests/LatchGrantsTests/DPoPInteropTests.swift. Prints one JSON line per proof:
{"name", "proof", "thumbprint", "token"} where thumbprint is the RFC 7638 SHA-256 thumbprint of
the proof key computed here, and token the access token an `ath` proof is bound to.

Usage: dpop_proofs.py URI
"""

import base64
import hashlib
import json
import sys
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    uri = sys.argv[1]
    key = ec.generate_private_key(ec.SECP256R1())
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    # RFC 7638: the required members in lexicographic order, no whitespace.
    canonical = json.dumps({k: public_jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    thumbprint = b64url(hashlib.sha256(canonical.encode()).digest())
    header = {"typ": "dpop+jwt", "jwk": {k: public_jwk[k] for k in ("kty", "crv", "x", "y")}}
    token = "eyJhbGciOiJFUzI1NiJ9." + b64url(b"{\"sub\":\"agent\"}") + ".c2lnbmF0dXJl"
    now = int(time.time())

    def proof(name, htm="POST", iat=now, ath=None):
        claims = {"jti": str(uuid.uuid4()), "htm": htm, "htu": uri, "iat": iat}
        if ath:
            claims["ath"] = b64url(hashlib.sha256(ath.encode()).digest())
        signed = jwt.encode(claims, key, algorithm="ES256", headers=header)
        print(json.dumps({"name": name, "proof": signed, "thumbprint": thumbprint, "token": token}), flush=True)

    proof("valid")
    proof("bound", ath=token)
    proof("expired", iat=now - 600)
    proof("future", iat=now + 600)
    proof("wrong-method", htm="GET")


if __name__ == "__main__":
    main()
