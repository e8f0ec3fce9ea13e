"""A small plain HTTP API (standard library only) that Latch's HTTP egress tests forward to: a legacy
service that wants a static key.

Every request must carry `X-API-Key: <value of the env var named by --require-key>`; without it (or
with another value) the answer is 401 {"error": "bad key"}. Otherwise the answer is 200 with JSON
echoing the request:
  {"method", "path", "query", "body" (text), "key": "matched", "headers": {lowercase name: value}}
(the key's value itself is never echoed: "headers" shows it as "[matched]").
Special paths (after an optional /api prefix):
  /status/N   answers status N with the same JSON
  /big/N      answers N bytes of "x" as text/plain
  /redirect   answers 302 to /elsewhere (Latch must not follow it)
  /slow/S     answers after S seconds

Usage: http_api.py --require-key ENVVAR [--port N]   (port 0: any free one)
The first stdout line is `listening on <port>`; requests are logged to stderr without header values.
"""

import argparse
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    expected = b""

    def log_message(self, format, *args):
        sys.stderr.write("http_api: %s %s\n" % (self.command, urlsplit(self.path).path))

    def answer(self, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", "api-session=should-not-reach-the-agent")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        given = (self.headers.get("X-API-Key") or "").encode()
        if len(self.headers.get_all("X-API-Key") or []) != 1 or not hmac.compare_digest(given, self.expected):
            self.answer(401, {"error": "bad key"}, headers=[("WWW-Authenticate", 'ApiKey realm="legacy"')])
            return
        url = urlsplit(self.path)
        seen = {}
        for name, value in self.headers.items():
            name = name.lower()
            seen[name] = "[matched]" if name == "x-api-key" else value
        echo = {"method": self.command, "path": url.path, "query": url.query, "body": body.decode("utf-8", "replace"),
                "key": "matched", "headers": seen}
        parts = url.path.strip("/").split("/")
        if parts[:1] == ["api"]:
            parts = parts[1:]
        if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
            self.answer(int(parts[1]), echo)
        elif len(parts) == 2 and parts[0] == "big" and parts[1].isdigit():
            self.answer(200, b"x" * int(parts[1]), content_type="text/plain")
        elif parts == ["redirect"]:
            self.answer(302, echo, headers=[("Location", "/elsewhere")])
        elif len(parts) == 2 and parts[0] == "slow":
            time.sleep(float(parts[1]))
            self.answer(200, echo)
        else:
            self.answer(200, echo)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    parser = argparse.ArgumentParser(description="A plain HTTP API that wants a static key")
    parser.add_argument("--require-key", required=True, metavar="ENVVAR")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    expected = os.environ.get(options.require_key)
    if not expected:
        print("http_api: %s is not set" % options.require_key, file=sys.stderr)
        sys.exit(2)
    Handler.expected = expected.encode()
    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    server.daemon_threads = True
    print("listening on %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
