"""Verifies a Latch grant (an RFC 9068 JWT access token) with PyJWT, using only a JWKS.

Run by Tests/LatchGrantsTests/GrantTokenTests.swift. Reads {"jwks": {...}, "token": "...",
"audience": "...", "issuer": "..."} on standard input and prints the verified claims as JSON, or
{"error": "..."}.
"""

import json
import sys

import jwt


def main():
    request = json.load(sys.stdin)
    token = request["token"]
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != "at+jwt":
            raise ValueError("typ is not at+jwt")
        keys = {key["kid"]: jwt.PyJWK(key) for key in request["jwks"]["keys"]}
        signing_key = keys[header["kid"]]
        claims = jwt.decode(
            token, signing_key.key, algorithms=["ES256"], audience=request["audience"], issuer=request["issuer"],
            options={"require": ["exp", "iat", "sub", "jti", "aud", "iss", "client_id"]})
        print(json.dumps({"claims": claims}))
    except Exception as error:  # reported, and asserted on by the Swift test
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    main()
