#!/usr/bin/env python3
"""Generates the agent tool-call benchmark workload (deterministic: the same files on every run).

    gen_workload.py OUT_DIR

writes, for N in 50 and 1000 policies, OUT_DIR/N/policies.cedar, entities.json and requests.jsonl.

The world: agents belong to teams, teams to orgs (Agent -> Team -> Org); tools belong to toolsets, toolsets
to servers (Tool -> Toolset -> Server). Actions: call, list, read (call and read are in the action group
"use"). Agents and tools carry tags (env, clearance, risk) read with hasTag/getTag. Each request has a
context with the caller's IP address and the current datetime.

The 1,000-policy workload is the 50-policy one grown: more orgs, teams, agents, servers, toolsets and
tools, each with its own policies, so that most policies do not apply to any one request. Requests are
drawn the same way in both, so an engine that only evaluates applicable policies costs about the same.
"""
import json
import os
import random
import sys

ACTIONS = ["call", "list", "read"]
CIDRS = ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "10.20.0.0/16"]


def world(scale, rnd):
    orgs = [f"org{i}" for i in range(scale["orgs"])]
    teams = [(f"team{i}", orgs[i % len(orgs)]) for i in range(scale["teams"])]
    agents = [(f"agent{i}", teams[i % len(teams)][0]) for i in range(scale["agents"])]
    servers = [f"server{i}" for i in range(scale["servers"])]
    toolsets = [(f"toolset{i}", servers[i % len(servers)]) for i in range(scale["toolsets"])]
    tools = [(f"tool{i}", toolsets[i % len(toolsets)][0]) for i in range(scale["tools"])]
    return orgs, teams, agents, servers, toolsets, tools


def entities(orgs, teams, agents, servers, toolsets, tools, rnd):
    def uid(t, i):
        return {"type": t, "id": i}

    out = []
    for o in orgs:
        out.append({"uid": uid("Org", o), "attrs": {"name": o}, "parents": []})
    for t, o in teams:
        out.append({"uid": uid("Team", t), "attrs": {"budget": rnd.randint(100, 10000)}, "parents": [uid("Org", o)]})
    for a, t in agents:
        tags = {"env": rnd.choice(["prod", "staging", "dev"])}
        if rnd.random() < 0.5:
            tags["clearance"] = rnd.choice(["high", "low"])
        out.append({
            "uid": uid("Agent", a),
            "attrs": {"level": rnd.randint(0, 5), "owner": f"user{rnd.randint(0, 99)}@example.com",
                      "model": rnd.choice(["small", "large"])},
            "parents": [uid("Team", t)],
            "tags": tags,
        })
    for s in servers:
        out.append({"uid": uid("Server", s), "attrs": {"region": rnd.choice(["eu", "us"])}, "parents": []})
    for ts, s in toolsets:
        out.append({"uid": uid("Toolset", ts), "attrs": {}, "parents": [uid("Server", s)]})
    for tl, ts in tools:
        tags = {"risk": rnd.choice(["low", "low", "medium", "high"])}
        if rnd.random() < 0.3:
            tags["env"] = rnd.choice(["prod", "staging"])
        out.append({
            "uid": uid("Tool", tl),
            "attrs": {"sensitive": rnd.random() < 0.2, "cost": rnd.randint(0, 50)},
            "parents": [uid("Toolset", ts)],
            "tags": tags,
        })
    for a in ACTIONS:
        parents = [uid("Action", "use")] if a in ("call", "read") else []
        out.append({"uid": uid("Action", a), "attrs": {}, "parents": parents})
    out.append({"uid": uid("Action", "use"), "attrs": {}, "parents": []})
    return out


def policies(orgs, teams, agents, servers, toolsets, tools, count, rnd):
    """`count` policies: a fixed set of global ones, then scoped ones cycling over the world."""
    out = [
        # Global guard rails: apply to every request.
        'forbid (principal, action == Action::"call", resource)\n'
        '  when { resource.hasTag("risk") && resource.getTag("risk") == "high" }\n'
        '  unless { principal.hasTag("clearance") && principal.getTag("clearance") == "high" };',
        'forbid (principal, action, resource)\n'
        '  unless { context.ip.isInRange(ip("10.0.0.0/8")) || context.ip.isInRange(ip("192.168.0.0/16")) };',
        'forbid (principal is Agent, action in Action::"use", resource is Tool)\n'
        '  when { principal.hasTag("env") && resource.hasTag("env") && principal.getTag("env") != resource.getTag("env") };',
        'permit (principal is Agent, action == Action::"list", resource is Tool)\n'
        '  when { context.now < datetime("2030-01-01T00:00:00Z") };',
    ]
    i = 0
    while len(out) < count:
        kind = i % 6
        i += 1
        team, org = teams[rnd.randrange(len(teams))]
        agent, _ = agents[rnd.randrange(len(agents))]
        toolset, server = toolsets[rnd.randrange(len(toolsets))]
        tool, _ = tools[rnd.randrange(len(tools))]
        cidr = rnd.choice(CIDRS)
        if kind == 0:
            out.append(
                f'permit (principal in Team::"{team}", action == Action::"call", resource in Toolset::"{toolset}")\n'
                f'  when {{ context.ip.isInRange(ip("{cidr}")) && context.now < datetime("2027-06-01T00:00:00Z") }};')
        elif kind == 1:
            out.append(
                f'permit (principal == Agent::"{agent}", action in [Action::"call", Action::"read"], resource in Server::"{server}")\n'
                f'  when {{ principal.level >= {rnd.randint(0, 3)} }};')
        elif kind == 2:
            out.append(
                f'forbid (principal in Org::"{org}", action, resource in Server::"{server}")\n'
                f'  when {{ context.ip.isInRange(ip("{rnd.choice(["172.16.0.0/12", "10.20.0.0/16"])}")) }};')
        elif kind == 3:
            out.append(
                f'permit (principal is Agent in Org::"{org}", action in Action::"use", resource == Tool::"{tool}")\n'
                f'  when {{ resource.cost <= principal.level * 10 && context.now.toTime() > duration("{rnd.randint(0, 8)}h") }};')
        elif kind == 4:
            out.append(
                f'forbid (principal == Agent::"{agent}", action == Action::"call", resource in Toolset::"{toolset}")\n'
                f'  when {{ resource.sensitive && principal.model == "small" }};')
        else:
            out.append(
                f'permit (principal in Team::"{team}", action == Action::"read", resource is Tool in Server::"{server}")\n'
                f'  when {{ context.now >= datetime("2026-01-01") && principal.hasTag("env") && principal.getTag("env") == "prod" }};')
    return out


def requests(agents, tools, count, rnd):
    ips = ["10.1.2.3", "10.1.2.3", "10.20.5.6", "192.168.1.20", "192.168.1.20", "172.16.3.4", "8.8.8.8"]
    days = ["2026-03-01T09:15:00Z", "2026-11-29T23:59:59Z", "2026-06-15T13:30:00Z", "2027-08-01T12:00:00Z"]
    out = []
    for _ in range(count):
        out.append({
            "principal": {"type": "Agent", "id": rnd.choice(agents)[0]},
            "action": {"type": "Action", "id": rnd.choice(ACTIONS)},
            "resource": {"type": "Tool", "id": rnd.choice(tools)[0]},
            "context": {
                "ip": {"__extn": {"fn": "ip", "arg": rnd.choice(ips)}},
                "now": {"__extn": {"fn": "datetime", "arg": rnd.choice(days)}},
                "session": f"s{rnd.randint(0, 9999)}",
            },
        })
    return out


SCALES = {
    50: {"orgs": 2, "teams": 4, "agents": 8, "servers": 2, "toolsets": 4, "tools": 12},
    1000: {"orgs": 40, "teams": 80, "agents": 160, "servers": 40, "toolsets": 80, "tools": 240},
}


def main():
    out_dir = sys.argv[1]
    for count, scale in SCALES.items():
        rnd = random.Random(20261129 + count)
        w = world(scale, rnd)
        d = os.path.join(out_dir, str(count))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "policies.cedar"), "w") as f:
            f.write("\n".join(policies(*w, count, rnd)) + "\n")
        with open(os.path.join(d, "entities.json"), "w") as f:
            json.dump(entities(*w, rnd), f, indent=1)
        with open(os.path.join(d, "requests.jsonl"), "w") as f:
            for r in requests(w[2], w[5], 2000, rnd):
                f.write(json.dumps(r) + "\n")
    print(f"workload written to {out_dir}")


if __name__ == "__main__":
    main()
