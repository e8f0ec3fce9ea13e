#!/usr/bin/env python3
"""Regenerates est-fixtures.json: Cedar policy texts with the JSON (EST) form that the Rust Cedar
engine produces for them, as the oracle for the Swift policy JSON reader and writer.

Run with the cedarpy venv:  /work/.venv-cedar/bin/python generate_est_fixtures.py [corpus-dir]
The corpus dir defaults to a temporary unpack of shared/cedar-integration-tests/corpus-tests.tar.gz.
"""
import json, os, subprocess, sys, tempfile
import cedarpy

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, *[".."] * 5))
SAMPLE_EVERY = 4  # about 1,950 corpus files before removing duplicates

HANDWRITTEN = [
    '@id("x") @empty("")\npermit(principal == User::"a", action in [Action::"a", Action::"b"], resource is Photo in Album::"x")\n'
    'when { !(1 == 2) && -context.n < 3 || principal.x.y has z }\n'
    'unless { resource like "a*b\\\\*c" && principal is User && principal is User in Group::"g" && (if true then 1 else 2) == 1 };',
    'forbid(principal in ?principal, action == Action::"v", resource == ?resource) when { [1, "a", {x: 1}].contains(decimal("1.0")) '
    '&& ip("1.2.3.4").isInRange(ip("1.0.0.0/8")) && context.a.containsAll([1]) && context.b.containsAny([1]) && principal.hasTag("t") '
    '&& principal.getTag("t") == 1 && [].isEmpty() && context["a b"] == 1 && -5 == 1 && 2 * 3 - 1 + 1 > 0 && 1 != 2 && 1 <= 2 '
    '&& 1 >= 2 && principal in resource && datetime("2024-01-01").offset(duration("1h")) > datetime("2024-01-01") && context.d.toDate() == context.d };',
    'permit(principal is User, action, resource) when { -(5) == 1 && -(-5) == 5 && !!true && principal has "a b" };',
    'permit(principal, action, resource) when { context like "abc*\\u{0}def**" && principal has a.b.c };',
    'permit(principal, action == Action::"x", resource in ?resource);',
    'permit(principal is User in ?principal, action in Action::"x", resource);',
    'permit(principal, action, resource) when { "\\0\\n\\"\\u{1F600}" == "é" && {"a b": 1, c: 2} == {} && 1 in [principal] };',
    'permit(principal, action, resource) when { ip("::1").isLoopback() && ip("10.0.0.1").isIpv4() && ip("::1").isIpv6() '
    '&& ip("224.0.0.1").isMulticast() && decimal("1.0").lessThan(decimal("2.0")) && decimal("1.0").lessThanOrEqual(decimal("2.0")) '
    '&& decimal("1.0").greaterThan(decimal("2.0")) && decimal("1.0").greaterThanOrEqual(decimal("2.0")) };',
    'permit(principal, action, resource) when { datetime("2024-01-01").durationSince(datetime("2023-01-01")).toDays() > 1 '
    '&& datetime("2024-01-01T00:00:00Z").toTime().toMilliseconds() == 0 && duration("1d2h").toSeconds() > 0 '
    '&& duration("1m").toMinutes() == 1 && duration("1h").toHours() == 1 };',
    'forbid(principal == User::"a\\"b", action, resource == Doc::"x") unless { context.tags.getTag("k") like "*" || principal is A::B::C };',
    'permit(principal, action, resource in Folder::"f") when { resource has owner && resource.owner == principal && principal.age * -2 < 100 };',
]


def corpus_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    tmp = tempfile.mkdtemp()
    tarball = os.path.join(REPO, "..", "shared", "cedar-integration-tests", "corpus-tests.tar.gz")
    subprocess.run(["tar", "xzf", tarball, "-C", tmp], check=True)
    return os.path.join(tmp, "corpus-tests")


def main():
    cases = [{"name": f"handwritten-{i}", "text": t} for i, t in enumerate(HANDWRITTEN)]
    cdir = corpus_dir()
    names = sorted(n for n in os.listdir(cdir) if n.endswith(".cedar"))
    for n in names[::SAMPLE_EVERY]:
        with open(os.path.join(cdir, n), encoding="utf-8") as f:
            cases.append({"name": n, "text": f.read()})
    out, seen = [], set()
    for c in cases:
        if c["text"] in seen:
            continue
        seen.add(c["text"])
        try:
            est = json.loads(cedarpy.policies_to_json_str(c["text"]))
        except Exception as e:  # cedarpy rejects the text: not a fixture
            print("skipped", c["name"], e, file=sys.stderr)
            continue
        back = cedarpy.policies_from_json_str(json.dumps(est))
        out.append({"name": c["name"], "text": c["text"], "est": est, "fromJSON": back})
    with open(os.path.join(HERE, "est-fixtures.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(len(out), "fixtures")


main()
