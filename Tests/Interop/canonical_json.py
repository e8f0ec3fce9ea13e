"""RFC 8785 canonical JSON by the `rfc8785` package, for cross-checking Latch's encoder.

Reads {"doubles": ["<16 hex digits: IEEE 754 bits>", ...], "values": [<JSON values>]} on stdin;
writes {"doubles": [<canonical text>...], "values": [<canonical text>...]}.
"""

import json
import struct
import sys

import rfc8785

request = json.load(sys.stdin)
doubles = [struct.unpack(">d", bytes.fromhex(bits))[0] for bits in request["doubles"]]
json.dump(
    {
        "doubles": [rfc8785.dumps(d).decode("utf-8") for d in doubles],
        "values": [rfc8785.dumps(v).decode("utf-8") for v in request["values"]],
    },
    sys.stdout,
)
