#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The Node-RED example flow (examples/node-red/linkyd-flow.json): that Node-RED can import it
(valid JSON, unique ids, wires and broker references that point at nodes of the flow, core node
types only), and that it does what its README says on real frames: every capture of tests/data
decoded by `linkyd --decode` (typed and raw), fed as MQTT messages through the flow's nodes with
Node.js (node_red_runner.js runs the function nodes' JavaScript, the switch and change rules),
and what reaches each debug node compared with values worked out here from the typed frames.

Usage: LINKYD=build/linkyd test_node_red_flow.py (CTest sets LINKYD). Exits 77 (skipped) when
Node.js is not installed. Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FLOW = ROOT / "examples" / "node-red" / "linkyd-flow.json"
DATA = ROOT / "tests" / "data"
RUNNER = HERE / "node_red_runner.js"

# Node types of a plain Node-RED install (node-red/nodes/core), plus the editor's own.
CORE_TYPES = {
    "tab", "group", "junction", "subflow",
    "inject", "debug", "complete", "catch", "status", "link in", "link out", "link call",
    "comment", "function", "switch", "change", "range", "template", "delay", "trigger", "exec",
    "rbe", "filter", "split", "join", "sort", "batch", "csv", "html", "json", "xml", "yaml",
    "file", "file in", "watch", "tcp in", "tcp out", "tcp request", "udp in", "udp out",
    "http in", "http response", "http request", "websocket in", "websocket out",
    "websocket-listener", "websocket-client", "mqtt in", "mqtt out", "mqtt-broker",
    "tls-config", "http proxy",
}
# Nodes that live outside any tab and have no wires.
CONFIG_TYPES = {"mqtt-broker", "tls-config", "http proxy", "websocket-listener",
                "websocket-client"}
# Nodes without outputs; function and switch nodes say how many they have, the others have one.
NO_OUTPUT_TYPES = {"debug", "comment", "link out", "mqtt out", "http response", "file"}

HISTORIQUE_INDEXES = ["BASE", "HCHC", "HCHP", "EJPHN", "EJPHPM", "BBRHCJB", "BBRHPJB",
                      "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"]
SUPPLIER_INDEXES = [f"EASF{i:02d}" for i in range(1, 11)]
HIGH_POWER_VA = 2000

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def check_structure(flow):
    """What Node-RED's import needs, and what this flow promises."""
    check(isinstance(flow, list) and all(isinstance(n, dict) for n in flow),
          "the flow is not a list of objects")
    ids = [n.get("id") for n in flow]
    check(all(isinstance(i, str) and i for i in ids), "a node has no id")
    check(len(ids) == len(set(ids)), "ids are not unique")
    by_id = {n["id"]: n for n in flow}
    tabs = {n["id"] for n in flow if n["type"] == "tab"}
    check(len(tabs) == 1, f"{len(tabs)} tabs, expected 1")
    for n in flow:
        what = f"node {n['id']} ({n['type']} {n.get('name', '')!r})"
        check(n["type"] in CORE_TYPES, f"{what}: not a core node type")
        if n["type"] == "tab":
            continue
        if n["type"] in CONFIG_TYPES:
            check("z" not in n and "wires" not in n, f"{what}: a config node in a tab")
            continue
        check(n.get("z") in tabs, f"{what}: not in the flow's tab")
        check(isinstance(n.get("x"), int) and isinstance(n.get("y"), int),
              f"{what}: no position")
        wires = n.get("wires")
        check(isinstance(wires, list) and all(isinstance(w, list) for w in wires),
              f"{what}: wires is not a list of lists")
        if n["type"] in NO_OUTPUT_TYPES:
            outputs = 0
        elif n["type"] in ("function", "switch"):
            outputs = n.get("outputs")
        else:
            outputs = 1
        check(len(wires) == outputs, f"{what}: {len(wires)} wire lists for {outputs} outputs")
        for target in (t for w in wires for t in w):
            node = by_id.get(target)
            check(node is not None and node.get("z") == n["z"]
                  and node["type"] not in CONFIG_TYPES | {"tab", "comment", "mqtt in"},
                  f"{what}: wired to {target}, which is not a node with an input")
        if n["type"] == "switch":
            check(len(n["rules"]) == n["outputs"], f"{what}: rules and outputs differ")
        if n["type"].startswith("mqtt "):
            broker = by_id.get(n.get("broker"))
            check(broker is not None and broker["type"] == "mqtt-broker",
                  f"{what}: its broker is not an mqtt-broker node of the flow")
    brokers = [n for n in flow if n["type"] == "mqtt-broker"]
    check([(b["broker"], str(b["port"])) for b in brokers] == [("localhost", "1883")],
          "expected one broker, localhost:1883")
    subscriptions = {(n["topic"], n["datatype"]) for n in flow if n["type"] == "mqtt in"}
    check(subscriptions == {("teleinfo", "json"), ("teleinfo/status", "utf8"),
                            ("teleinfo/PAPP", "utf8")},
          f"subscriptions: {sorted(subscriptions)}")


def run_flow(messages):
    """What reaches each debug node: {name: [(message index, value), ...]}."""
    request = json.dumps({"flow": str(FLOW), "messages": messages})
    result = subprocess.run(["node", str(RUNNER)], input=request, capture_output=True,
                            text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"node_red_runner.js failed:\n{result.stderr}")
    shown = {}
    for e in json.loads(result.stdout)["events"]:
        shown.setdefault(e["debug"], []).append((e["message"], e["value"]))
    return shown


def decode(capture, fmt):
    linkyd = os.environ.get("LINKYD")
    if not linkyd or not os.access(linkyd, os.X_OK):
        raise RuntimeError("set LINKYD to the linkyd executable (CTest does it)")
    out = subprocess.run([linkyd, "--decode", str(capture), "--format", fmt],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def expected(frames):
    """What the debug nodes should show for typed frames, worked out from the labels."""
    want = {"Power (VA)": [], "High power": [], "Energy (kWh)": []}
    for i, line in enumerate(frames):
        f = json.loads(line)
        power = f.get("PAPP", f.get("SINSTS"))
        if power is not None:
            want["Power (VA)"].append((i, power))
            if power > HIGH_POWER_VA:
                want["High power"].append((i, power))
        indexes = [label for label in HISTORIQUE_INDEXES if label in f]
        if "EAST" in f:
            total = f["EAST"]
        elif indexes:
            total = sum(f[label] for label in indexes)
        else:
            continue
        periods = {label: f[label] / 1000 for label in indexes + SUPPLIER_INDEXES
                   if label in f}
        want["Energy (kWh)"].append((i, {"topic": "energy_kwh", "payload": total / 1000,
                                         "periods": periods}))
    return {k: v for k, v in want.items() if v}


def energy_payloads(shown):
    """The energy debug node shows the whole message: keep what the flow sets."""
    return [(i, {k: v[k] for k in ("topic", "payload", "periods")})
            for i, v in shown.get("Energy (kWh)", [])]


def check_captures():
    totals = {"Power (VA)": 0, "High power": 0, "Energy (kWh)": 0}
    for capture in sorted(DATA.glob("*.tic")):
        typed = decode(capture, "typed")
        want = expected(typed)
        for fmt, frames in (("typed", typed), ("raw", decode(capture, "raw"))):
            shown = run_flow([{"topic": "teleinfo", "payload": line} for line in frames])
            shown["Energy (kWh)"] = energy_payloads(shown)
            shown = {k: v for k, v in shown.items() if v}
            check(shown == want, f"{capture.name} ({fmt}): got {shown}, expected {want}")
        for k in totals:
            totals[k] += len(want.get(k, []))
    # The captures do exercise every path.
    check(all(totals.values()), f"some debug node never shown anything: {totals}")


def check_by_hand():
    """Values read off the captures by hand, so that a wrong oracle above cannot hide a bug."""
    hist = decode(DATA / "historique-hchp-mono-03.tic", "typed")
    std = decode(DATA / "standard-mono-base-01.tic", "typed")
    tri = decode(DATA / "historique-hchp-tri-adir-01.tic", "typed")
    shown = run_flow([{"topic": "teleinfo", "payload": line} for line in hist + std + tri])
    check(shown["Power (VA)"][:2] == [(0, 1090), (1, 263)], f"power: {shown['Power (VA)']}")
    # Three ADIR1 short frames in the triphasé capture: no power, no energy for them.
    check(len(shown["Power (VA)"]) == 4, f"power: {shown['Power (VA)']}")
    energy = shown["Energy (kWh)"]
    check(energy[0][1]["payload"] == 10509.181
          and energy[0][1]["periods"] == {"HCHC": 4070.29, "HCHP": 6438.891},
          f"historique energy: {energy[0]}")
    check(energy[1][1]["payload"] == 3519.702 and energy[1][1]["periods"]["EASF01"] == 3519.702,
          f"standard energy: {energy[1]}")


def check_status_and_per_label():
    shown = run_flow([
        {"topic": "teleinfo/status", "payload": "online"},
        {"topic": "teleinfo/status", "payload": "offline"},
        {"topic": "teleinfo/status", "payload": "something else"},
        # Per-label topics: the typed value bare.
        {"topic": "teleinfo/PAPP", "payload": "1090"},
        {"topic": "teleinfo/PTEC", "payload": "HP.."},
        {"topic": "teleinfo/PAPP", "payload": "not a number"},
        # Neither is a frame: no power, no energy.
        {"topic": "teleinfo/mode", "payload": "historique"},
        {"topic": "teleinfo/diagnostics", "payload": '{"mode":"historique","speed":1200}'},
    ])
    check(shown == {"linkyd available": [(0, True), (1, False)],
                    "PAPP (VA, per-label topic)": [(3, 1090)]},
          f"status and per-label topics: {shown}")


def main():
    if not shutil.which("node"):
        print("node (Node.js) not found: skipped")
        return 77
    check_structure(json.loads(FLOW.read_text(encoding="utf-8")))
    if not failures:
        check_captures()
        check_by_hand()
        check_status_and_per_label()
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    if failures:
        return 1
    print("node-red flow: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
