#!/usr/bin/env python3
"""Answers Cedar authorization requests with the Rust engine (cedarpy), for the differential tests.

Reads one JSON batch on stdin and prints one JSON document on stdout.

Input:
    {"cases": [{"policies": "<Cedar policy text>",
                "entities": [<entity JSON>...] or "<entities JSON text>",
                "schema": "<Cedar schema text>" (optional),
                "links": [{"template_id": "policy3", "new_id": "link0",
                           "values": {"?principal": {"type": "User", "id": "a"}}}] (optional),
                "requests": [{"principal": {"type": ..., "id": ...}, "action": {...},
                              "resource": {...}, "context": {...}}]}]}

Output:
    {"results": [{"ok": true, "responses": [{"decision": "allow"|"deny"|"error",
                                               "reason": [ids, sorted], "errors": [ids, sorted],
                                               "messages": [cedar's error strings]}]}
                 or {"ok": false, "stage": "policies"|"links"|"entities"|"schema", "error": "..."}]}

A request that Cedar cannot even evaluate (a malformed context, say) answers decision "error".
"validation" (strict validation of the policy text against the schema) is present when the case has a schema.
"""
import json
import re
import sys

import cedarpy

_POLICY_ID = re.compile(r"error while evaluating policy `([^`]*)`")


def _response(result):
    raw = result._authz_resp
    diagnostics = raw.get("diagnostics", {})
    messages = [str(m) for m in diagnostics.get("errors", [])]
    decision = raw.get("decision")
    if decision == "Allow":
        out = "allow"
    elif decision == "Deny":
        out = "deny"
    else:
        out = "error"
    errors = []
    for m in messages:
        found = _POLICY_ID.search(m)
        if found:
            errors.append(found.group(1))
    return {
        "decision": out,
        "reason": sorted(diagnostics.get("reason", [])),
        "errors": sorted(set(errors)),
        "messages": messages,
    }


def answer(case):
    stage = "policies"
    try:
        policies = cedarpy.PolicySet.from_str(case["policies"])
        stage = "links"
        links = case.get("links") or []
        if links:
            policies = policies.with_linked_batch(links)
        stage = "schema"
        schema = case.get("schema")
        if schema is not None:
            schema = cedarpy.Schema.from_str(schema) if hasattr(cedarpy, "Schema") else schema
        stage = "entities"
        entities = case.get("entities", [])
        if not isinstance(entities, str):
            entities = json.dumps(entities)
        if schema is not None:
            handle = cedarpy.Entities.from_json_str(entities, schema=schema)
        else:
            handle = cedarpy.Entities.from_json_str(entities)
    except Exception as error:  # cedarpy raises ValueError (and TypeError on bad shapes)
        return {"ok": False, "stage": stage, "error": str(error)}
    requests = case.get("requests", [])
    results = cedarpy.is_authorized_batch(requests, policies, handle, schema) if requests else []
    out = {"ok": True, "responses": [_response(r) for r in results]}
    if schema is not None and case.get("validate", True):
        checked = cedarpy.validate_policies(case["policies"], schema)
        out["validation"] = {
            "passed": bool(checked.validation_passed),
            "policies": sorted({e.policy_id for e in checked.errors if e.policy_id}),
            "messages": [str(e) for e in checked.errors],
        }
    return out


def main():
    batch = json.load(sys.stdin)
    results = [answer(case) for case in batch.get("cases", [])]
    json.dump({"results": results}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
