"""A scripted MCP agent: the reference client (PyPI `mcp` 2.3.0) talking to Latch's MCP gateway with a
task grant and DPoP proofs (RFC 9449) on every HTTP request.

Run by the gateway interop tests with the interpreter of .ci/run's venv. Self-test (no Latch needed,
a few seconds; runs this agent against the SDK's own MCPServer behind a DPoP-checking wrapper):
  /work/.venv-interop/bin/python Tests/Interop/mcp_agent_selftest.py

Usage:
  mcp_agent.py --mcp URL --protocol 2025-11-25|2026-07-28 --script STEPS.json
               (--grant-file F --key-file K [--http URL | --complete-url URL]
                | --socket PATH --http URL --agent SPIFFE_ID --scope SCOPE [--intent TEXT]
                  [--save-grant F --save-key K])
               [--timeout SECONDS]

  --grant-file/--key-file: a task grant (the token text) and its DPoP key (PEM, P-256, PKCS#8).
  --socket/--http/--agent/--scope/--intent: obtain a grant the way grant_client.py does (JWT-SVID from
      the Workload API, exchanged at the token endpoint named by --http's RFC 8414 metadata) with a
      fresh key; --save-grant/--save-key write both (mode 0600) for later runs.
  --http (or --complete-url) is needed only by the "complete" step.

  2025-11-25 connects with the initialize handshake (Mcp-Session-Id, GET stream, DELETE on close);
  2026-07-28 pins the stateless revision (no handshake: the first POST is the first step's request).
  The connection is made by the first step that needs it (or by "connect"), always with a valid proof.

STEPS.json is a JSON list; step objects (optional keys in brackets):
  {"op": "connect"}                       result {"protocol", "session"}; errors of initialize land here
  {"op": "disconnect"}                    closes the connection (DELETE at 2025-11-25); the next step reconnects
  {"op": "list_tools"}                    result: the tool names
  {"op": "call", "tool": NAME, ["arguments": {...}], ["meta": {...}], ["validate": true], ["progress": false]}
      result: the CallToolResult as JSON (plus "progress": [[progress, total, message], ...] if asked).
      "validate": false sends tools/call alone; by default the SDK's session.call_tool also lists
      tools once per tool to check structured output against the outputSchema.
      ["approval_from": i] sets _meta["dev.latch/approval"] to the approval_id in step i's error data
      (the retry of a call Latch held for approval), or in its input-required result's _meta.
      ["state_from": i] echoes the requestState of step i's input-required result (2026-07-28: the
      multi round-trip retry). A call answered input_required reports ok false and the
      InputRequiredResult as its result (the SDK's session is asked to return it, not to raise).
  {"op": "call_without_proof", ...}       "call" with "auth": "no_proof"
  {"op": "wait_file", "path": PATH, ["timeout": 60]}   waits until PATH exists (a test's signal); result: its text
  {"op": "raw", ["method": "POST"], ["url" | "path"], ["headers": {...}], ["body": TEXT | JSON], ["session": false]}
      an HTTP request with the grant and a proof; Accept/Content-Type default to what the SDK sends
      (a header set to null is left out); "session": true adds the Mcp-Session-Id seen last.
      "path" is resolved against --mcp's origin and may carry a query: {"op": "raw", "method": "GET",
      "path": "/egress/weather/v1/forecast?city=Paris"} calls an HTTP API through Latch's egress.
      result {"headers": {selected response headers}, "body": JSON or text}.
  {"op": "complete"}                      POSTs the issuer's task completion endpoint (as grant_client.py)
  Every step takes ["auth": MODE], how its HTTP requests are authenticated:
      dpop (default), no_proof (Authorization only), bearer ("Bearer <grant>", no proof), none,
      replay (the last valid proof sent again), wrong_key (proof by another key), wrong_htu,
      wrong_htm, no_ath, expired (iat 10 minutes ago).

Output: one JSON line per step:
  {"step": i (0-based), "op", "ok", "result", "error": {"code", "message", "data"} | null,
   "http_status": the status of the step's own request (null when none was answered),
   "http": [{"method": JSON-RPC method or HTTP method, "status"}, ...] every exchange of the step;
   at 2025-11-25 the SDK's background GET stream lands in whichever step is running when it opens}
  ok: the request succeeded, and for "call" the result is not isError; for raw/complete a 2xx.
  error: the JSON-RPC error (MCPError) or, for raw/complete, the body's JSON-RPC or OAuth error;
  other failures as {"code": null, "message": "<Type>: <text>"}.
  Neither the grant nor the key is ever printed. Exit 0 when the script ran (whatever the steps
  did), 2 on a harness error (bad options or script, no grant).
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import urllib.request

import httpx2
import mcp_types as types
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

sys.dont_write_bytecode = True  # importing grant_client must leave no __pycache__ in the source tree
from grant_client import Key, Server, post  # noqa: E402

MODES = {"2025-11-25": "legacy", "2026-07-28": "2026-07-28"}
AUTH_MODES = ("dpop", "no_proof", "bearer", "none", "replay", "wrong_key", "wrong_htu", "wrong_htm", "no_ath", "expired")
OPS = ("connect", "disconnect", "list_tools", "call", "call_without_proof", "raw", "complete", "wait_file")
SDK_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
TARGETS = {"list_tools": "tools/list", "call": "tools/call", "call_without_proof": "tools/call", "connect": "initialize"}
REPORTED_HEADERS = ("content-type", "www-authenticate", "mcp-session-id", "dpop-nonce", "allow", "set-cookie", "latch-decision-id", "location")


class HarnessError(Exception):
    pass


class DPoPAuth(httpx2.Auth):
    """Puts the grant and a fresh DPoP proof on every request the SDK (or a step) sends, and records
    each exchange: the JSON-RPC method (or HTTP method) and the status."""

    def __init__(self, grant, key):
        self.grant = grant
        self.key = key
        self.mode = "dpop"
        self.nonce = None
        self.last_proof = None
        self.stranger = None
        self.session_id = None
        self.exchanges = []

    def headers(self, method, url):
        url = httpx2.URL(url)
        htu = str(url.copy_with(query=None, fragment=None))
        if self.mode == "none":
            return {}
        if self.mode == "bearer":
            return {"Authorization": "Bearer " + self.grant}
        headers = {"Authorization": "DPoP " + self.grant}
        if self.mode == "no_proof":
            return headers
        if self.mode == "replay" and self.last_proof:
            headers["DPoP"] = self.last_proof
            return headers
        key, htm, iat, token = self.key, method, None, self.grant
        if self.mode == "wrong_key":
            self.stranger = self.stranger or Key()
            key = self.stranger
        elif self.mode == "wrong_htu":
            htu = str(url.copy_with(path=url.path.rstrip("/") + "/elsewhere", query=None, fragment=None))
        elif self.mode == "wrong_htm":
            htm = "GET" if method != "GET" else "POST"
        elif self.mode == "no_ath":
            token = None
        elif self.mode == "expired":
            iat = int(time.time()) - 600
        proof = key.proof(htu, htm=htm, iat=iat, token=token, nonce=self.nonce)
        if self.mode in ("dpop", "replay"):
            self.last_proof = proof
        headers["DPoP"] = proof
        return headers

    def record(self, request, status):
        method = request.headers.get("mcp-method")
        if method is None and request.method == "POST":
            try:
                method = json.loads(request.content).get("method")
            except (ValueError, AttributeError, httpx2.RequestNotRead):
                method = None
        self.exchanges.append({"method": method or request.method, "status": status})

    def auth_flow(self, request):
        request.headers.update(self.headers(request.method, request.url))
        response = yield request
        self.record(request, response.status_code)
        if response.headers.get("mcp-session-id"):
            self.session_id = response.headers["mcp-session-id"]
        nonce = response.headers.get("dpop-nonce")
        challenge = response.headers.get("www-authenticate", "")
        if nonce and response.status_code in (400, 401) and "use_dpop_nonce" in challenge and self.mode == "dpop":
            # RFC 9449 §8/§9: the server wants its nonce in the proof; one retry with a new proof.
            self.nonce = nonce
            request.headers.update(self.headers(request.method, request.url))
            response = yield request
            self.record(request, response.status_code)


def leaf(error):
    """The MCPError inside anyio's exception groups, else the first leaf exception."""
    while isinstance(error, BaseExceptionGroup):
        found = [e for e in error.exceptions if isinstance(e, MCPError)]
        error = found[0] if found else error.exceptions[0]
    return error


def error_json(error):
    error = leaf(error)
    if isinstance(error, MCPError):
        return {"code": error.code, "message": error.message, "data": error.data}
    return {"code": None, "message": "%s: %s" % (type(error).__name__, error), "data": None}


def body_error(body):
    """The JSON-RPC or OAuth error of a response body, or None."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return {"code": error.get("code"), "message": error.get("message"), "data": error.get("data")}
    if isinstance(error, str):
        return {"code": error, "message": body.get("error_description"), "data": None}
    return None


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


class Agent:
    def __init__(self, args, grant, key):
        self.args = args
        self.auth = DPoPAuth(grant, key)
        self.client = None
        self.stack = None
        self.reported = []

    async def connect(self):
        if self.client is not None:
            return
        stack = contextlib.AsyncExitStack()
        try:
            http = await stack.enter_async_context(httpx2.AsyncClient(auth=self.auth, timeout=httpx2.Timeout(self.args.timeout)))
            transport = streamable_http_client(self.args.mcp, http_client=http)
            client = Client(transport, mode=MODES[self.args.protocol], cache=None, read_timeout_seconds=self.args.timeout,
                            client_info=types.Implementation(name="latch-mcp-agent", version="1.0"))
            self.client = await stack.enter_async_context(client)
            self.stack = stack
        except BaseException:
            await self.close(stack)
            raise

    async def close(self, stack=None):
        stack = stack or self.stack
        self.client, self.stack = None, None
        if stack is not None:
            with contextlib.suppress(Exception):
                await stack.aclose()

    async def step(self, step):
        """Runs one step: (ok, result, error, the JSON-RPC method or URL whose status is the step's)."""
        op = step["op"]
        if op in ("list_tools", "call", "call_without_proof", "connect"):
            await self.connect()
        self.auth.mode = "no_proof" if op == "call_without_proof" else step.get("auth", "dpop")
        if op == "connect":
            session = self.client.session
            return True, {"protocol": session.protocol_version, "session": self.auth.session_id is not None}, None, "initialize"
        if op == "disconnect":
            await self.close()
            return True, None, None, None
        if op == "list_tools":
            result = await self.client.session.list_tools()
            return True, [tool.name for tool in result.tools], None, "tools/list"
        if op in ("call", "call_without_proof"):
            return await self.call(step)
        if op == "raw":
            return await self.raw(step)
        if op == "wait_file":
            deadline = time.monotonic() + float(step.get("timeout", 60))
            while not os.path.exists(step["path"]):
                if time.monotonic() > deadline:
                    raise HarnessError("timed out waiting for %s" % step["path"])
                await asyncio.sleep(0.05)
            with open(step["path"]) as file:
                return True, file.read(), None, None
        return self.complete()

    async def call(self, step):
        session = self.client.session
        progress = []

        async def on_progress(value, total, message):
            progress.append([value, total, message])

        callback = on_progress if step.get("progress") else None
        meta = step.get("meta")
        if "approval_from" in step:
            earlier = self.reported[step["approval_from"]]
            held = (earlier.get("error") or {}).get("data") or ((earlier.get("result") or {}).get("_meta") or {}).get("dev.latch/approval") or {}
            meta = dict(meta or {}, **{"dev.latch/approval": held.get("approval_id")})
        state = (self.reported[step["state_from"]].get("result") or {}).get("requestState") if "state_from" in step else None
        step = dict(step, meta=meta)
        if step.get("validate", True):
            result = await session.call_tool(
                step["tool"], step.get("arguments"), progress_callback=callback, meta=step.get("meta"), request_state=state,
                allow_input_required=True)
            if isinstance(result, types.InputRequiredResult):
                return False, dump(result), None, "tools/call"
        else:
            request = types.CallToolRequest(params=types.CallToolRequestParams(name=step["tool"], arguments=step.get("arguments"), _meta=step.get("meta")))
            result = await session.send_request(request, types.CallToolResult, progress_callback=callback)
        body = dump(result)
        if step.get("progress"):
            body["progress"] = progress
        return not result.is_error, body, None, "tools/call"

    async def raw(self, step):
        url = step.get("url") or (str(httpx2.URL(self.args.mcp).join(step["path"])) if "path" in step else self.args.mcp)
        headers = dict(SDK_HEADERS)
        for name, value in (step.get("headers") or {}).items():
            headers.pop(name.lower(), None)
            if value is not None:
                headers[name.lower()] = value
        if step.get("session") and self.auth.session_id:
            headers["mcp-session-id"] = self.auth.session_id
        body = step.get("body")
        content = None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
        async with httpx2.AsyncClient(auth=self.auth, timeout=httpx2.Timeout(self.args.timeout)) as http:
            response = await http.request(step.get("method", "POST"), url, headers=headers, content=content)
        text = response.text
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        result = {"headers": {h: response.headers[h] for h in REPORTED_HEADERS if h in response.headers}, "body": parsed}
        return response.is_success, result, body_error(parsed), url

    def complete(self):
        endpoint = self.args.complete_url
        if endpoint is None:
            with urllib.request.urlopen(self.args.http + "/.well-known/oauth-authorization-server", timeout=30) as response:
                endpoint = json.loads(response.read())["latch_task_completion_endpoint"]
        status, body = post(endpoint, [], self.auth.headers("POST", endpoint))
        self.auth.exchanges.append({"method": "POST " + httpx2.URL(endpoint).path, "status": status})
        return 200 <= status < 300, body, body_error(body), "POST " + httpx2.URL(endpoint).path

    async def run(self, steps):
        try:
            for index, step in enumerate(steps):
                self.auth.exchanges = []
                try:
                    ok, result, error, target = await self.step(step)
                except Exception as failure:  # the step failed: report it and go on
                    ok, result, error, target = False, None, error_json(failure), TARGETS.get(step["op"])
                exchanges = self.auth.exchanges
                # The step's own request; when it never got that far (a failed connect), the last exchange.
                matching = [e["status"] for e in exchanges if e["method"] == target]
                status = matching[-1] if matching else (exchanges[-1]["status"] if exchanges and not ok else None)
                if step["op"] == "raw" and exchanges:
                    status = exchanges[-1]["status"]
                line = json.dumps({"step": index, "op": step["op"], "ok": ok, "result": result, "error": error,
                                   "http_status": status, "http": exchanges}, default=str)
                self.reported.append({"error": error, "result": result if isinstance(result, dict) else None})
                print(line.replace(self.auth.grant, "[grant]"), flush=True)
        finally:
            self.auth.mode = "dpop"
            await self.close()


def load_steps(path):
    try:
        with open(path) as file:
            steps = json.load(file)
    except (OSError, ValueError) as error:
        raise HarnessError("cannot read the script: %s" % error)
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise HarnessError("the script must be a JSON list of objects")
    for index, step in enumerate(steps):
        if step.get("op") not in OPS:
            raise HarnessError("step %d: unknown op %r" % (index, step.get("op")))
        if step.get("auth", "dpop") not in AUTH_MODES:
            raise HarnessError("step %d: unknown auth %r" % (index, step.get("auth")))
        if step["op"] in ("call", "call_without_proof") and not isinstance(step.get("tool"), str):
            raise HarnessError("step %d: a call needs a tool name" % index)
    return steps


def write_private(path, data):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def credentials(args):
    """(grant, Key): from the files, or a fresh key and a grant exchanged the way grant_client.py does."""
    if args.grant_file:
        if not args.key_file:
            raise HarnessError("--grant-file needs --key-file")
        try:
            with open(args.grant_file) as file:
                grant = file.read().strip()
            with open(args.key_file, "rb") as file:
                private = serialization.load_pem_private_key(file.read(), password=None)
        except (OSError, ValueError, TypeError) as error:
            raise HarnessError("cannot load the grant or key: %s" % type(error).__name__)
        if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
            raise HarnessError("the key must be a P-256 private key")
        return grant, Key(private)
    missing = [name for name in ("socket", "http", "agent", "scope") if not getattr(args, name)]
    if missing:
        raise HarnessError("without --grant-file, give --" + ", --".join(missing))
    server = Server(args)
    key = Key()
    status, body = server.exchange(key, server.svid(args.agent), args.scope, intent=args.intent)
    if status != 200 or not body or "access_token" not in body:
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        raise HarnessError("token exchange answered %s (%s: %s)" % (status, error, description))
    grant = body["access_token"]
    if args.save_grant:
        write_private(args.save_grant, grant.encode())
    if args.save_key:
        write_private(args.save_key, key.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))
    return grant, key


def main():
    parser = argparse.ArgumentParser(description="Scripted MCP agent with a DPoP-bound task grant")
    parser.add_argument("--mcp", required=True)
    parser.add_argument("--protocol", required=True, choices=sorted(MODES))
    parser.add_argument("--script", required=True)
    parser.add_argument("--grant-file")
    parser.add_argument("--key-file")
    parser.add_argument("--socket")
    parser.add_argument("--http")
    parser.add_argument("--agent")
    parser.add_argument("--scope")
    parser.add_argument("--intent", default="summarize the Q3 pipeline")
    parser.add_argument("--save-grant")
    parser.add_argument("--save-key")
    parser.add_argument("--complete-url")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        steps = load_steps(args.script)
        if any(s["op"] == "complete" for s in steps) and not (args.http or args.complete_url):
            raise HarnessError("the complete step needs --http or --complete-url")
        grant, key = credentials(args)
    except HarnessError as error:
        print("mcp_agent: %s" % error, file=sys.stderr)
        sys.exit(2)
    except Exception as error:  # e.g. the Workload API or the issuer is unreachable
        print("mcp_agent: cannot obtain a grant: %s" % type(error).__name__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(Agent(args, grant, key).run(steps))


if __name__ == "__main__":
    main()
