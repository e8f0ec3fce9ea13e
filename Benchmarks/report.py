#!/usr/bin/env python3
"""Reads cedar-bench's and cedarpy_bench.py's JSON lines (files given as arguments) and prints the comparison."""
import json
import sys


def load(path):
    with open(path) as f:
        return {json.loads(line)["policies"]: json.loads(line) for line in f if line.strip()}


def main():
    swift, cedar = load(sys.argv[1]), load(sys.argv[2])
    sizes = sorted(set(swift) & set(cedar))
    ok = True
    print()
    print("Agent tool-call workload, one thread, decisions per second (median of rounds)")
    print()
    header = f"{'policies':>8} | {'swift':>11} | {'cedarpy batch':>13} | {'cedarpy call':>12} | " \
             f"{'swift/batch':>11} | {'swift/call':>10} | {'allocs/dec':>10} | {'ns/dec':>7} | decisions agree"
    print(header)
    print("-" * len(header))
    for n in sizes:
        s, c = swift[n], cedar[n]
        agree = s["decisions"] == c["decisions"]
        ok = ok and agree
        allows = s["decisions"].count("A")
        print(f"{n:>8} | {s['decisions_per_sec']:>11,} | {c['batch_decisions_per_sec']:>13,} | {c['per_call_decisions_per_sec']:>12,} | "
              f"{s['decisions_per_sec'] / c['batch_decisions_per_sec']:>10.1f}x | "
              f"{s['decisions_per_sec'] / c['per_call_decisions_per_sec']:>9.1f}x | {str(s['allocs_per_decision']):>10} | "
              f"{s['ns_per_decision']:>7,} | {'yes' if agree else 'NO'} ({allows}/{len(s['decisions'])} allow)")
    if 50 in sizes and 1000 in sizes:
        s50, s1k, c50, c1k = swift[50], swift[1000], cedar[50], cedar[1000]
        swift_cost = s50["decisions_per_sec"] / s1k["decisions_per_sec"]
        cedar_cost = c50["batch_decisions_per_sec"] / c1k["batch_decisions_per_sec"]
        ratio50 = s50["decisions_per_sec"] / c50["batch_decisions_per_sec"]
        print()
        print(f"swift / cedarpy at 50 policies:    {ratio50:.1f}x   (target >= 20x)   {'MET' if ratio50 >= 20 else 'MISSED'}")
        print(f"swift / cedarpy at 1000 policies:  {s1k['decisions_per_sec'] / c1k['batch_decisions_per_sec']:.1f}x")
        print(f"cost at 1000 / cost at 50, swift:   {swift_cost:.2f}x  (target <= 2x)   {'MET' if swift_cost <= 2 else 'MISSED'}")
        print(f"cost at 1000 / cost at 50, cedarpy: {cedar_cost:.2f}x")
    print()
    if not ok:
        print("WARNING: the two engines' decisions differ on this workload; the numbers are not comparable.")
        sys.exit(1)


if __name__ == "__main__":
    main()
