#!/usr/bin/env python3
"""Regenerates est-mutations.json: policy JSON (EST) from est-fixtures.json with one random
structural change each, and whether the Rust Cedar engine (cedarpy) accepts it; for accepted
ones, the policy text the engine prints for it.

Run after generate_est_fixtures.py:  /work/.venv-cedar/bin/python generate_est_mutations.py
"""
import copy, json, os, random
import cedarpy

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(4242)
COUNT = 2000

REPLACEMENTS = [None, True, 0, -1, 2**63 - 1, 1.5, "", "x", "Wildcard", "?principal", "?resource", "principal", "All", "==", "in",
                "is", "User", "Action", [], {}, {"Value": 1}, {"Var": "context"}, {"Slot": "?principal"}, {"type": "User", "id": "a"},
                {"type": "Action", "id": "a"}, {"__entity": {"type": "User", "id": "a"}}, {"__extn": {"fn": "decimal", "arg": "1.0"}},
                {"Literal": "a"}, {"Literal": "ab"}, {"Value": [1, {"a": 2}]}, {"decimal": [{"Value": "1.0"}]},
                {"lessThan": [{"Value": 1}]}, {"Record": {"k": {"Value": 1}}}, {"Set": []}, {"entity": {"type": "User", "id": "a"}},
                {"slot": "?principal"}, {"op": "All"}, {"op": "is", "entity_type": "A::B"}, {"kind": "when", "body": {"Value": True}}]
KEYS = ["op", "left", "right", "arg", "attr", "body", "kind", "entity", "entities", "slot", "entity_type", "in", "pattern", "if",
        "then", "else", "Value", "Var", "Slot", "!", "neg", "&&", "||", "==", "has", ".", "like", "is", "Set", "Record", "ip",
        "decimal", "isEmpty", "contains", "getTag", "annotations", "conditions", "effect", "zz", "Unknown"]


EXPR_KEYS = {"Value", "Var", "Slot", "!", "neg", "&&", "||", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "in", "has", ".",
             "like", "is", "if-then-else", "Set", "Record", "contains", "containsAll", "containsAny", "hasTag", "getTag", "isEmpty",
             "decimal", "ip", "datetime", "duration", "lessThan", "isInRange", "offset", "toDays"}
POOL = []


def collect(v):
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)) in EXPR_KEYS and len(json.dumps(v)) < 300:
            POOL.append(v)
        for x in v.values():
            collect(x)
    elif isinstance(v, list):
        for x in v:
            collect(x)


def replacement():
    if POOL and rng.random() < 0.6:
        return copy.deepcopy(rng.choice(POOL))
    return copy.deepcopy(rng.choice(REPLACEMENTS))


def mutate(v, depth=0):
    stop = depth > 1 and rng.random() < 0.25 or depth > 12
    if isinstance(v, dict) and v and not stop:
        v = dict(v)
        k = rng.choice(sorted(v))
        if depth == 0 and "conditions" in v and v["conditions"] and rng.random() < 0.7:
            v["conditions"] = mutate(v["conditions"], depth + 1)
            return v
        r = rng.random()
        if r < 0.15:
            del v[k]
        elif r < 0.3:
            v[rng.choice(KEYS)] = v.pop(k)
        elif r < 0.38:
            v[rng.choice(KEYS)] = replacement()
        else:
            v[k] = mutate(v[k], depth + 1)
        return v
    if isinstance(v, list) and v and not stop:
        v = list(v)
        i = rng.randrange(len(v))
        r = rng.random()
        if r < 0.2:
            del v[i]
        elif r < 0.35:
            v.append(copy.deepcopy(v[i]))
        else:
            v[i] = mutate(v[i], depth + 1)
        return v
    return replacement()


def main():
    with open(os.path.join(HERE, "est-fixtures.json"), encoding="utf-8") as f:
        fixtures = json.load(f)
    policies = []
    for c in fixtures:
        for section in ("staticPolicies", "templates"):
            for p in c["est"][section].values():
                collect(p)
                if len(json.dumps(p)) < 1500:
                    policies.append((section, p))
    out = []
    for _ in range(COUNT):
        section, p = rng.choice(policies)
        m = mutate(p)
        ps = {"staticPolicies": {}, "templates": {}, "templateLinks": []}
        ps[section]["p"] = m
        try:
            text = cedarpy.policies_from_json_str(json.dumps(ps))
            ok = True
        except Exception:
            text, ok = None, False
        out.append({"section": section, "policy": m, "accepted": ok, "text": text})
    with open(os.path.join(HERE, "est-mutations.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(len(out), "mutations,", sum(c["accepted"] for c in out), "accepted")


main()
