"""Runs SQL statements (a JSON array on stdin) against a SQLite file, as an attacker with write
access to the file would: Python's sqlite3, no Latch code. Registers leaf_hash_of(text), the
SHA-256 of 0x00 followed by the text's UTF-8 bytes (an RFC 9162 leaf hash).
"""

import hashlib
import json
import sqlite3
import sys

connection = sqlite3.connect(sys.argv[1])
connection.create_function("leaf_hash_of", 1, lambda text: hashlib.sha256(b"\x00" + text.encode("utf-8")).digest())
with connection:
    for statement in json.load(sys.stdin):
        connection.execute(statement)
connection.close()
