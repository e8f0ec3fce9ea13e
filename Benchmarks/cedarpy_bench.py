#!/usr/bin/env python3
"""Times cedarpy (the Rust Cedar engine) on the benchmark workloads, the same files cedar-bench reads.

    cedarpy_bench.py DIR...

Policies and entities are parsed once into cedarpy handles (PolicySet, Entities), as the Swift side parses
them once; requests are decoded from JSON once. Then, single-threaded:
  - per call: is_authorized(request, policies, entities) for each request;
  - batch:    is_authorized_batch(all requests, policies, entities), one call per pass;
  - engine:   the Rust engine's own authorization time, summed from each batch answer's
              metrics["authz_duration_micros"]. Kept in the JSON only: it is wall-clock time in whole
              microseconds, so on a busy machine it swings wildly; report.py does not use it.
Times are this thread's CPU time (time.thread_time), as on the Swift side, so that other processes on the
machine do not count: decisions per second per core. Prints one JSON line per workload.
"""
import json
import os
import statistics
import sys
import time

import cedarpy


def rounds_of(fn, count, rounds, seconds):
    rates = []
    for _ in range(rounds):
        done = 0
        start = time.thread_time()
        while True:
            fn()
            done += count
            elapsed = time.thread_time() - start
            if elapsed >= seconds:
                break
        rates.append(done / elapsed)
    return statistics.median(rates), max(rates)


def measure(d, rounds, seconds):
    with open(os.path.join(d, "policies.cedar")) as f:
        policy_text = f.read()
    with open(os.path.join(d, "entities.json")) as f:
        entities_text = f.read()
    with open(os.path.join(d, "requests.jsonl")) as f:
        requests = [json.loads(line) for line in f if line.strip()]
    policies = cedarpy.PolicySet.from_str(policy_text)
    entities = cedarpy.Entities.from_json_str(entities_text)

    results = cedarpy.is_authorized_batch(requests, policies, entities)
    decisions = "".join("A" if r.allowed else "D" for r in results)

    def per_call():
        for r in requests:
            cedarpy.is_authorized(r, policies, entities)

    def batch():
        cedarpy.is_authorized_batch(requests, policies, entities)

    per_call_rate, per_call_best = rounds_of(per_call, len(requests), rounds, seconds)
    batch_rate, batch_best = rounds_of(batch, len(requests), rounds, seconds)
    engine_rates = []
    for _ in range(rounds):
        micros = sum(r.metrics.get("authz_duration_micros", 0) for r in cedarpy.is_authorized_batch(requests, policies, entities))
        engine_rates.append(len(requests) / max(micros, 1) * 1e6)
    return {
        "engine": "cedarpy",
        "dir": d,
        "policies": len(policies),
        "requests": len(requests),
        "per_call_decisions_per_sec": int(per_call_rate),
        "batch_decisions_per_sec": int(batch_rate),
        "batch_best_decisions_per_sec": int(batch_best),
        "engine_only_decisions_per_sec": int(statistics.median(engine_rates)),
        "decisions": decisions,
    }


def main():
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    seconds = float(os.environ.get("BENCH_ROUND_SECONDS", "0.3"))
    for d in sys.argv[1:]:
        print(json.dumps(measure(d, rounds, seconds)), flush=True)


if __name__ == "__main__":
    main()
