"""Independent verifier of Latch ledger checkpoints and proofs (no Latch code).

With --server URL [--min-size N], instead fetches the checkpoint key (GET /ledger/key) and the latest
checkpoint (GET /ledger/checkpoint) from a running Latch, waiting up to 15 s for one of at least N
leaves, and checks its signature.

Otherwise reads one JSON object on stdin:
  key_name      the signed-note key name (also the checkpoint origin)
  public_key    base64 of the checkpoint key's DER SubjectPublicKeyInfo (ECDSA P-256)
  checkpoint    a C2SP signed note carrying a tlog-checkpoint
  inclusion     optional: {index, leaf (base64 bytes) or leaf_hash (base64), proof: [base64 hashes]}
  consistency   optional: {old_checkpoint (signed note), proof: [base64 hashes]}
Writes {"size", "root", "inclusion", "consistency", "error"} and exits 0 only when every check
present passed. Signature type 0x02 of c2sp.org/signed-note: key ID = SHA-256(SPKI DER)[:4],
ECDSA over SHA-256 of the note text, DER encoded. Merkle arithmetic: RFC 9162 sections 2.1.3.2
and 2.1.4.2.
"""

import base64
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key


class Failure(Exception):
    pass


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def open_note(note, key_name, spki):
    if "\n\n" not in note or not note.endswith("\n"):
        raise Failure("not a signed note")
    cut = note.rindex("\n\n")
    text, signature_block = note[: cut + 1], note[cut + 2 :]
    key = load_der_public_key(spki)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise Failure("the checkpoint key is not P-256")
    key_id = hashlib.sha256(spki).digest()[:4]
    verified = False
    for line in signature_block[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise Failure("malformed signature line")
        name, _, blob64 = line[2:].partition(" ")
        blob = base64.b64decode(blob64, validate=True)
        if name != key_name or blob[:4] != key_id:
            continue
        try:
            key.verify(blob[4:], text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise Failure("checkpoint signature does not verify")
        verified = True
    if not verified:
        raise Failure("no signature by the known key")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or lines[0] != key_name:
        raise Failure("checkpoint origin is not the key name")
    size = int(lines[1])
    if str(size) != lines[1] or size < 0:
        raise Failure("bad checkpoint size")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Failure("bad checkpoint root")
    return size, root


def verify_inclusion(index, size, leaf_hash, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, path):
    if first > second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [first_root] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def fetch_request(server, min_size):
    with urllib.request.urlopen(server + "/ledger/key", timeout=5) as response:
        key = json.load(response)
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(server + "/ledger/checkpoint", timeout=5) as response:
                note = response.read().decode("utf-8")
            if int(note.split("\n")[1]) >= min_size or time.monotonic() > deadline:
                break
        except urllib.error.HTTPError as error:
            if error.code != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.2)
    if hashlib.sha256(base64.b64decode(key["public_key"])).digest()[:4].hex() != key["key_id"]:
        raise Failure("the published key ID is not the key's")
    return {"key_name": key["key_name"], "public_key": key["public_key"], "checkpoint": note}


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--server":
        min_size = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--min-size" else 0
        request = fetch_request(sys.argv[2].rstrip("/"), min_size)
    else:
        request = json.load(sys.stdin)
    answer = {"size": None, "root": None, "inclusion": None, "consistency": None, "error": None}
    ok = True
    try:
        spki = base64.b64decode(request["public_key"], validate=True)
        size, root = open_note(request["checkpoint"], request["key_name"], spki)
        answer["size"], answer["root"] = size, base64.b64encode(root).decode()
        inclusion = request.get("inclusion")
        if inclusion is not None:
            if "leaf" in inclusion:
                leaf_hash = leaf(base64.b64decode(inclusion["leaf"], validate=True))
                if "leaf_hash" in inclusion and base64.b64decode(inclusion["leaf_hash"]) != leaf_hash:
                    raise Failure("leaf_hash is not the hash of leaf")
            else:
                leaf_hash = base64.b64decode(inclusion["leaf_hash"], validate=True)
            path = [base64.b64decode(p, validate=True) for p in inclusion["proof"]]
            answer["inclusion"] = verify_inclusion(inclusion["index"], size, leaf_hash, path, root)
            ok = ok and answer["inclusion"]
        consistency = request.get("consistency")
        if consistency is not None:
            old_size, old_root = open_note(consistency["old_checkpoint"], request["key_name"], spki)
            path = [base64.b64decode(p, validate=True) for p in consistency["proof"]]
            answer["consistency"] = verify_consistency(old_size, size, old_root, root, path)
            ok = ok and answer["consistency"]
    except (Failure, ValueError, KeyError) as error:
        answer["error"] = str(error)
        ok = False
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
