#!/usr/bin/env python3
"""Regenerates data-fixtures.json: schema-directed entities and requests, original and mutated,
with whether the Rust Cedar engine (cedarpy) accepts them and, for accepted entities, the engine's
own rendering of what it read (explicit `__entity`/`__extn` forms, schema actions added).

Run with the cedarpy venv:  /work/.venv-cedar/bin/python generate_data_fixtures.py [corpus-dir]
"""
import copy, json, os, random, subprocess, sys, tempfile
import cedarpy

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, *[".."] * 5))
SAMPLE_EVERY = 24
rng = random.Random(20261129)


def corpus_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    tmp = tempfile.mkdtemp()
    tarball = os.path.join(REPO, "..", "shared", "cedar-integration-tests", "corpus-tests.tar.gz")
    subprocess.run(["tar", "xzf", tarball, "-C", tmp], check=True)
    return os.path.join(tmp, "corpus-tests")


def entities_result(entities, schema):
    """(accepted, the engine's rendering or None when it cannot render what it read)."""
    try:
        if schema is None:
            parsed = cedarpy.Entities.from_json_str(json.dumps(entities))
        else:
            parsed = cedarpy.Entities.from_json_str(json.dumps(entities), schema=schema)
    except Exception:
        return False, None
    try:
        return True, json.loads(str(parsed))
    except Exception:  # e.g. a record with an `__extn` key reads fine but cannot be written back
        return True, None


def request_accepted(request, schema):
    req = {k: request[k] for k in ("principal", "action", "resource", "context")}
    if schema is None:
        r = cedarpy.is_authorized(req, "permit(principal, action, resource);", [])
    else:
        r = cedarpy.is_authorized(req, "permit(principal, action, resource);", [], schema=schema)
    errors = r.diagnostics.errors
    if any("failed to build request" not in e for e in errors):
        raise RuntimeError(f"unexpected errors {errors}")
    return not errors, errors


OTHER_VALUES = [1, "s", True, [], {}, {"type": "Nope", "id": "x"}, {"__entity": {"type": "Nope", "id": "x"}}, [1, "s"], -7,
                {"__extn": {"fn": "decimal", "arg": "1.0"}}, "1.0", "10.0.0.1", "2024-01-01", "1h", None, 1.5, 2**63,
                {"__entity": {"type": "A::B", "id": "x"}, "extra": 1}, {"__extn": {"fn": "ip", "args": ["::1"]}},
                {"__extn": {"fn": "nope", "arg": "x"}}, {"__extn": {"fn": "decimal"}}, {"__extn": "decimal"},
                {"__entity": {"type": "if", "id": "x"}}, {"__entity": {"type": "A :: B", "id": "x"}}, {"__expr": "1"},
                {"fn": "decimal", "arg": "1.0"}, [[1], [1]], {"a": {"b": None}}]


def other():
    return copy.deepcopy(rng.choice(OTHER_VALUES))


def mutate_value(v):
    """A changed version of an attribute value: another kind, or a change inside it."""
    if isinstance(v, dict) and v and "__entity" not in v and "__extn" not in v and rng.random() < 0.5:
        v = copy.deepcopy(v)
        k = rng.choice(sorted(v))
        choice = rng.random()
        if choice < 0.3:
            del v[k]
        elif choice < 0.5:
            v["zzExtra"] = 1
        else:
            v[k] = mutate_value(v[k])
        return v
    if isinstance(v, list) and v and rng.random() < 0.5:
        v = copy.deepcopy(v)
        v[rng.randrange(len(v))] = other()
        return v
    if isinstance(v, dict) and "type" in v and "id" in v and rng.random() < 0.5:
        return {"type": v["type"], "id": v["id"] + "-other"} if rng.random() < 0.5 else {"type": "Nope", "id": v["id"]}
    return other()


def mutations(entity, types):
    e = copy.deepcopy(entity)
    attrs = e.setdefault("attrs", {})
    choice = rng.randrange(14)
    if choice == 9:
        e["uid"] = {"__entity": e["uid"]}
        return e
    if choice == 10:
        del e[rng.choice(["attrs", "parents", "uid"])]
        return e
    if choice == 11:
        e[rng.choice(["attrs", "parents", "tags", "uid"])] = other()
        return e
    if choice == 12:
        e["extraField"] = 1
        return e
    if choice == 13:
        e["parents"] = e.get("parents", []) + [other()]
        return e
    if choice == 0 and attrs:
        del attrs[rng.choice(sorted(attrs))]
    elif choice == 1:
        attrs["zzUndeclared"] = 1
    elif choice in (2, 3) and attrs:
        k = rng.choice(sorted(attrs))
        attrs[k] = mutate_value(attrs[k])
    elif choice == 4:
        e.setdefault("parents", []).append({"type": rng.choice(types), "id": "p"})
    elif choice == 5:
        e["uid"] = {"type": "Undeclared", "id": e["uid"]["id"]}
    elif choice == 6:
        e["tags"] = {"t": other()}
    elif choice == 7:
        e["uid"] = {"type": e["uid"]["type"], "id": e["uid"]["id"] + "-renamed"}
    else:
        e["parents"] = e.get("parents", [])[:-1]
    return e


def mutate_request(r, types):
    r = copy.deepcopy(r)
    choice = rng.randrange(6)
    ctx = r.setdefault("context", {})
    if choice == 0 and ctx:
        del ctx[rng.choice(sorted(ctx))]
    elif choice == 1:
        ctx["zzUndeclared"] = 1
    elif choice == 2 and ctx:
        k = rng.choice(sorted(ctx))
        ctx[k] = mutate_value(ctx[k])
    elif choice == 3:
        r["principal"] = {"type": rng.choice(types), "id": r["principal"]["id"]}
    elif choice == 4:
        r["resource"] = {"type": rng.choice(types), "id": r["resource"]["id"] + "-x"}
    else:
        r["action"] = {"type": r["action"]["type"], "id": r["action"]["id"] + "-x"}
    return r


def main():
    cdir = corpus_dir()
    root = os.path.dirname(cdir)
    names = sorted(n for n in os.listdir(cdir) if n.endswith(".json") and not n.endswith(".entities.json"))
    schemas, entity_cases, request_cases = [], [], []
    for n in names[::SAMPLE_EVERY]:
        with open(os.path.join(cdir, n)) as f:
            test = json.load(f)
        with open(os.path.join(root, test["schema"])) as f:
            schema = f.read()
        with open(os.path.join(root, test["entities"])) as f:
            entities = json.load(f)
        si = len(schemas)
        schemas.append(schema)
        types = sorted({e["uid"]["type"] for e in entities}) or ["Nope"]
        ok, rendered = entities_result(entities, schema)
        entity_cases.append({"name": n, "schema": si, "entities": entities, "accepted": ok, "rendered": rendered})
        for i in range(10):
            if not entities:
                break
            # Freeze the mutated value as JSON text first, so what is stored is exactly what was checked.
            mutated = json.loads(json.dumps(mutations(rng.choice(entities), types)))
            ok, _ = entities_result([mutated], schema)
            ok_plain, _ = entities_result([mutated], None)
            entity_cases.append({"name": f"{n} mutation {i}", "schema": si, "entities": [mutated], "accepted": ok,
                                 "acceptedWithoutSchema": ok_plain})
        validated = [r for r in test["requests"] if r.get("validateRequest")]
        for r in validated[:1]:
            ok, errs = request_accepted(r, schema)
            request_cases.append({"name": n, "schema": si, "request": r, "accepted": ok})
            for i in range(6):
                m = json.loads(json.dumps(mutate_request(r, types)))
                ok, errs = request_accepted(m, schema)
                ok_plain, _ = request_accepted(m, None)
                request_cases.append({"name": f"{n} mutation {i}", "schema": si, "request": m, "accepted": ok,
                                      "acceptedWithoutSchema": ok_plain})
    out = {"schemas": schemas, "entities": entity_cases, "requests": request_cases}
    with open(os.path.join(HERE, "data-fixtures.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(len(schemas), "schemas,", len(entity_cases), "entity cases,", sum(c["accepted"] for c in entity_cases), "accepted;",
          len(request_cases), "request cases,", sum(c["accepted"] for c in request_cases), "accepted")


main()
