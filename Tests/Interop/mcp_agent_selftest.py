"""Self-test of mcp_agent.py without Latch: the agent runs a script against the MCP SDK's own MCPServer
(Streamable HTTP, stateful with SSE and stateless with JSON answers) behind a small ASGI wrapper that
checks every request's grant and DPoP proof (RFC 9449) the way a gateway would, and serves an issuer
metadata document and a task completion endpoint. Both protocol revisions, a few seconds.

Usage: mcp_agent_selftest.py     (exit 0: all checks passed; prints one line per failed check)
"""

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import logging

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError

HERE = os.path.dirname(os.path.abspath(__file__))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk):
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def upstream():
    server = MCPServer("files", version="1.0")

    @server.tool(name="files.read_file")
    async def read_file(path: str, ctx: Context) -> str:
        """Read a file."""
        await ctx.report_progress(1, 2, "reading")
        return "contents of " + path

    @server.tool(name="files.denied")
    def denied(path: str) -> str:
        raise MCPError(-32003, "denied by policy", {"reason": "sensitivity"})

    @server.tool(name="files.fail")
    def fail(path: str) -> str:
        raise ValueError("disk on fire")

    return server


class Gateway:
    """The checks: `Authorization: DPoP <grant>`, one proof signed by its header's P-256 `jwk`, typ
    dpop+jwt, fresh jti, htm/htu of this request, iat within 60 s, ath of the grant, and the jwk's
    thumbprint equal to the grant's cnf.jkt. Failures are 401 with a JSON-RPC error body."""

    def __init__(self, grant, mcp_app):
        self.grant = grant
        self.jkt = jwt.decode(grant, options={"verify_signature": False})["cnf"]["jkt"]
        self.mcp_app = mcp_app
        self.seen = set()
        self.log = []  # (HTTP method, path, JSON-RPC method or None, "ok" or the refusal)

    def check(self, scope, headers):
        authorization = headers.get("authorization")
        if authorization is None:
            return "no authorization"
        if not authorization.startswith("DPoP "):
            return "not the DPoP scheme"
        if authorization[5:] != self.grant:
            return "unknown grant"
        proofs = [v for k, v in scope["headers"] if k == b"dpop"]
        if len(proofs) != 1:
            return "no proof" if not proofs else "several proofs"
        proof = proofs[0].decode()
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError:
            return "malformed proof"
        jwk = header.get("jwk") or {}
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or jwk.get("crv") != "P-256" or "d" in jwk:
            return "bad proof header"
        try:
            key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
            claims = jwt.decode(proof, key, algorithms=["ES256"], options={"verify_aud": False, "verify_iat": False})
        except jwt.PyJWTError:
            return "bad signature"
        if claims.get("jti") in self.seen:
            return "replayed jti"
        self.seen.add(claims.get("jti"))
        if claims.get("htm") != scope["method"]:
            return "htm mismatch"
        if claims.get("htu") != "http://%s%s" % (headers["host"], scope["path"]):
            return "htu mismatch"
        if abs(claims.get("iat", 0) - time.time()) > 60:
            return "iat out of window"
        if claims.get("ath") != b64url(hashlib.sha256(self.grant.encode()).digest()):
            return "ath mismatch"
        if thumbprint(jwk) != self.jkt:
            return "jkt mismatch"
        return "ok"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.mcp_app(scope, receive, send)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["path"] == "/.well-known/oauth-authorization-server":
            base = "http://" + headers["host"]
            return await respond(send, 200, {"issuer": base, "latch_task_completion_endpoint": base + "/complete"})
        verdict = self.check(scope, headers)
        method = headers.get("mcp-method")
        if method is None and scope["method"] == "POST" and scope["path"] == "/mcp":
            # Peek at the JSON-RPC method (2025-11-25 sends no Mcp-Method), then replay the body.
            chunks, more = [], True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            try:
                method = json.loads(body).get("method")
            except (ValueError, AttributeError):
                method = None
            receive = replay(body, receive)
        self.log.append((scope["method"], scope["path"], method, verdict))
        if verdict != "ok":
            error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": "unauthorized: " + verdict}}
            return await respond(send, 401, error, [(b"www-authenticate", b'DPoP error="invalid_token", algs="ES256"')])
        if scope["path"] == "/complete":
            return await respond(send, 200, {"status": "completed", "task_id": "task-1"})
        await self.mcp_app(scope, receive, send)


def replay(body, receive):
    """An ASGI receive that hands out `body` once, then waits on the real one (for the disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed():
        return pending.pop() if pending else await receive()

    return replayed


async def respond(send, status, body, extra=()):
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), *extra]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def serve(app):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="on"))
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True).start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    return server, listener.getsockname()[1]


def credentials(directory):
    """A P-256 key file and a grant (an at+jwt by a throwaway issuer) bound to that key."""
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = os.path.join(directory, "key.pem")
    with open(key_file, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    now = int(time.time())
    claims = {"iss": "http://issuer.test", "sub": "spiffe://example.org/agent", "aud": "latch-gateway", "iat": now,
              "exp": now + 300, "jti": "g-" + b64url(os.urandom(12)), "cnf": {"jkt": thumbprint(jwk)}}
    grant = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"typ": "at+jwt"})
    grant_file = os.path.join(directory, "grant.jwt")
    with open(grant_file, "w") as out:
        out.write(grant + "\n")
    return grant, grant_file, key_file


REFUSED = [("call_without_proof", {}, "no proof"), ("call", {"auth": "bearer"}, "not the DPoP scheme"),
           ("call", {"auth": "replay"}, "replayed jti"), ("call", {"auth": "wrong_key"}, "jkt mismatch"),
           ("call", {"auth": "wrong_htu"}, "htu mismatch"), ("call", {"auth": "wrong_htm"}, "htm mismatch"),
           ("call", {"auth": "no_ath"}, "ath mismatch"), ("call", {"auth": "expired"}, "iat out of window")]


def script(protocol, stateful):
    read = {"tool": "files.read_file", "arguments": {"path": "/q3.txt"}}
    steps = [
        {"op": "connect"},
        {"op": "list_tools"},
        dict(read, op="call"),
        {"op": "call", "tool": "files.fail", "arguments": {"path": "x"}},
        {"op": "call", "tool": "files.denied", "arguments": {"path": "x"}, "validate": False},
        dict(read, op="call", progress=True, meta={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}),
    ]
    steps += [dict(read, op=op, **extra) for op, extra, _ in REFUSED]
    if protocol == "2026-07-28":
        meta = {"io.modelcontextprotocol/protocolVersion": protocol, "io.modelcontextprotocol/clientCapabilities": {}}
        body = {"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "files.read_file", "arguments": {"path": "a"}, "_meta": meta}}
        steps.append({"op": "raw", "headers": {"MCP-Protocol-Version": protocol, "Mcp-Method": "tools/call", "Mcp-Name": "files.other"}, "body": body})
    else:
        headers = {"MCP-Protocol-Version": protocol}
        steps.append({"op": "raw", "headers": headers, "body": {"jsonrpc": "2.0", "id": 99, "method": "tools/list"}, "session": stateful})
    steps += [
        {"op": "raw", "auth": "none", "headers": {"MCP-Protocol-Version": protocol}, "body": "{}"},
        {"op": "complete"},
        {"op": "list_tools"},
        {"op": "disconnect"},
        {"op": "list_tools"},
    ]
    return steps


def expectations(protocol, stateful, lines):
    """(name, passed, detail) for every line of a run."""
    by = {line["step"]: line for line in lines}
    checks = []

    def expect(name, step, predicate):
        line = by.get(step)
        try:
            passed = line is not None and bool(predicate(line))
        except (KeyError, TypeError, IndexError):
            passed = False
        checks.append((name, passed, line))

    expect("connect", 0, lambda l: l["ok"] and l["result"] == {"protocol": protocol, "session": stateful and protocol == "2025-11-25"})
    expect("list_tools", 1, lambda l: l["ok"] and sorted(l["result"]) == ["files.denied", "files.fail", "files.read_file"] and l["http_status"] == 200)
    expect("call", 2, lambda l: l["ok"] and l["result"]["content"][0]["text"] == "contents of /q3.txt" and l["http_status"] == 200 and l["error"] is None)
    expect("call-is-error", 3, lambda l: not l["ok"] and l["result"]["isError"] is True and l["error"] is None)
    expect("call-jsonrpc-error", 4, lambda l: not l["ok"] and l["error"] == {"code": -32003, "message": "denied by policy", "data": {"reason": "sensitivity"}}
           and [e["method"] for e in l["http"]] == ["tools/call"])
    # JSON answers have no room for progress notifications; SSE ones carry them.
    progress = [[1.0, 2.0, "reading"]] if stateful else []
    expect("call-progress", 5, lambda l: l["ok"] and l["result"]["progress"] == progress)
    for offset, (op, extra, reason) in enumerate(REFUSED):
        expect("refused-" + reason, 6 + offset, lambda l, r=reason: not l["ok"] and l["http_status"] == 401
               and l["error"]["code"] == -32001 and l["error"]["message"] == "unauthorized: " + r)
    raw = 6 + len(REFUSED)
    if protocol == "2026-07-28":
        expect("raw-header-mismatch", raw, lambda l: not l["ok"] and l["http_status"] == 400 and l["error"]["code"] == -32020)
    elif stateful:
        expect("raw-with-session", raw, lambda l: l["ok"] and l["http_status"] == 200 and l["result"]["headers"]["content-type"].startswith("text/event-stream"))
    else:
        expect("raw-stateless", raw, lambda l: l["ok"] and l["http_status"] == 200)
    expect("raw-without-auth", raw + 1, lambda l: not l["ok"] and l["http_status"] == 401 and l["error"]["code"] == -32001
           and l["result"]["headers"]["www-authenticate"].startswith("DPoP "))
    expect("complete", raw + 2, lambda l: l["ok"] and l["result"] == {"status": "completed", "task_id": "task-1"} and l["http_status"] == 200)
    expect("session-survives-refusals", raw + 3, lambda l: l["ok"])
    expect("disconnect", raw + 4, lambda l: l["ok"])
    expect("reconnect", raw + 5, lambda l: l["ok"] and (protocol == "2026-07-28" or l["http"][0]["method"] == "initialize"))
    expect("all-lines", raw + 5, lambda l: len(lines) == raw + 6)
    return checks


def run_agent(args):
    return subprocess.run([sys.executable, os.path.join(HERE, "mcp_agent.py"), *args], capture_output=True, text=True, timeout=120)


def main():
    logging.disable(logging.CRITICAL)  # the upstream's own tracebacks for files.fail are expected
    failures = 0
    with tempfile.TemporaryDirectory() as directory:
        grant, grant_file, key_file = credentials(directory)
        for stateful in (True, False):
            gateway = Gateway(grant, upstream().streamable_http_app(stateless_http=not stateful, json_response=not stateful))
            server, port = serve(gateway)
            try:
                for protocol in ("2025-11-25", "2026-07-28"):
                    label = "%s %s" % ("stateful-sse" if stateful else "stateless-json", protocol)
                    steps_file = os.path.join(directory, "steps.json")
                    with open(steps_file, "w") as out:
                        json.dump(script(protocol, stateful), out)
                    gateway.log.clear()
                    base = "http://127.0.0.1:%d" % port
                    run = run_agent(["--mcp", base + "/mcp", "--protocol", protocol, "--script", steps_file,
                                     "--grant-file", grant_file, "--key-file", key_file, "--http", base])
                    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
                    checks = expectations(protocol, stateful, lines)
                    checks.append(("exit-0", run.returncode == 0, run.stderr[-2000:]))
                    checks.append(("grant-never-printed", grant not in run.stdout and grant not in run.stderr, None))
                    refusals = sorted(v for _, _, _, v in gateway.log if v != "ok")
                    expected = sorted([r for _, _, r in REFUSED] + ["no authorization"])
                    checks.append(("gateway-saw-exactly-the-bad-proofs", refusals == expected, refusals))
                    if protocol == "2025-11-25" and stateful:
                        verbs = {(m, v) for m, _, _, v in gateway.log}
                        checks.append(("get-and-delete-carry-proofs", ("GET", "ok") in verbs and ("DELETE", "ok") in verbs, sorted(verbs)))
                    for name, passed, detail in checks:
                        if not passed:
                            failures += 1
                            print("FAIL [%s] %s: %s" % (label, name, json.dumps(detail, default=str)[:1500]))
            finally:
                server.should_exit = True
        # Harness errors exit 2: an unknown op, and a missing key file.
        bad = os.path.join(directory, "bad.json")
        with open(bad, "w") as out:
            json.dump([{"op": "dance"}], out)
        for name, args in (("unknown-op", ["--grant-file", grant_file, "--key-file", key_file, "--script", bad]),
                           ("missing-key", ["--grant-file", grant_file, "--key-file", os.path.join(directory, "nope"), "--script", steps_file])):
            run = run_agent(["--mcp", "http://127.0.0.1:9/mcp", "--protocol", "2026-07-28", *args])
            if run.returncode != 2 or run.stdout or grant in run.stderr:
                failures += 1
                print("FAIL harness-error %s: exit %d %r" % (name, run.returncode, run.stderr[-500:]))
    print("mcp_agent self-test: %s" % ("ok" if failures == 0 else "%d failed checks" % failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
