#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
/metrics through Prometheus' own linter: `promtool check metrics` (Debian's prometheus package)
must find nothing to fix, with meters of both modes streaming, and the numbers must be what the
meters sent and what /status.json says. Exits 77 (skipped) without mosquitto or promtool.
"""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from test_http import get, http_conf, last_complete  # noqa: E402


def parse(text):
    """{(name, frozenset(labels)): value} of the exposition format's samples."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-z_]+)\{(.*)\} (\S+)', line)
        assert m, line
        labels = frozenset((k, re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else
                                      e.group(1), v))
                           for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


class Metrics(unittest.TestCase):
    def test_promtool_and_values(self):
        port = h.free_port()

        def conf(d):
            self.pty2 = h.Pty(d, "tic2")
            self.addCleanup(self.pty2.close)
            return (http_conf(port) +
                    f'meters = ( {{ name = "std"; input = "{d}/tic"; topic = "linky"; '
                    f'publish = {{ index_guard = false; }}; }},\n'
                    f'  {{ name = "hist \\"tri\\""; input = "{self.pty2.link}"; '
                    f'topic = "hist"; }} );\n')
        rig = h.Rig(self, conf=conf, ready=False)
        rig.daemon.wait_log(r"reading .*/tic2 at \d+ Bd", 10)
        hist = h.capture("historique-hchp-tri-adir-01.tic")
        self.pty2.write(hist)
        # Generated frames whose index steps 1 Wh each: the derived power appears.
        stream = h.Stream(rig.pty, h.standard_frame, interval=0.1)
        stream.start()
        self.addCleanup(stream.stop)
        rig.sub.wait_count("hist", len(h.decode(hist)), 10)
        rig.sub.wait_for(lambda _: '"power_w"' in "".join(rig.sub.payloads("linky/derived")),
                         30, "a derived power")
        stream.stop()
        rig.sub.wait_count("linky", len(h.decode(bytes(stream.data))), 10)

        status, headers, body = get(port, "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = body.decode("ascii")
        r = subprocess.run([h.tool("promtool"), "check", "metrics"], input=body,
                           capture_output=True, timeout=30)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, b""), "promtool")

        s = parse(text)
        doc = json.loads(get(port, "/status.json")[2])
        meters = {m["name"]: m for m in doc["meters"]}
        for name, m in meters.items():
            self.assertEqual(value(s, "linkyd_meter_frames_total", meter=name),
                             m["line"]["frames"])
            self.assertEqual(value(s, "linkyd_meter_errors_total", meter=name,
                                   cause="checksum"), m["line"]["errors"]["checksum"])
            self.assertEqual(value(s, "linkyd_meter_line_state", meter=name, state="ok"), 1)
            self.assertEqual(value(s, "linkyd_mqtt_connected", meter=name), 1)
            self.assertEqual(value(s, "linkyd_meter_mode", meter=name,
                                   mode=m["line"]["mode"]), 1)
            self.assertEqual(value(s, "linkyd_meter_baud", meter=name), m["line"]["baud"])
            self.assertLess(value(s, "linkyd_meter_last_frame_age_seconds", meter=name), 30)
            self.assertGreaterEqual(value(s, "linkyd_mqtt_queue_messages", meter=name), 0)

        last = json.loads(h.decode(bytes(stream.data))[-1])
        self.assertEqual(value(s, "linkyd_meter_index_wh_total", meter="std", label="EAST"),
                         last["EAST"])
        self.assertEqual(value(s, "linkyd_meter_apparent_power_va", meter="std"),
                         last["SINSTS"])
        self.assertGreater(value(s, "linkyd_meter_active_power_watts", meter="std"), 0)
        self.assertEqual(value(s, "linkyd_meter_voltage_volts", meter="std", phase="1"),
                         last["URMS1"])
        # The three-phase meter: indexes from its last complete frame, currents from its last
        # (short, ADIR) frame.
        hist_frames = [json.loads(x) for x in h.decode(hist)]
        complete = last_complete(hist_frames)
        tri = 'hist "tri"'
        self.assertEqual(value(s, "linkyd_meter_index_wh_total", meter=tri, label="HCHC"),
                         complete["HCHC"])
        self.assertEqual(value(s, "linkyd_meter_current_amperes", meter=tri, phase="2"),
                         hist_frames[-1]["IINST2"])
        self.assertEqual(value(s, "linkyd_meter_apparent_power_va", meter=tri),
                         complete["PAPP"])
        self.assertEqual(len({k for k in s if k[0] == "linkyd_build_info"}), 1)


if __name__ == "__main__":
    if not h.tool("promtool"):
        print("skipped: promtool (Debian's prometheus package) not installed", file=sys.stderr)
        sys.exit(77)
    h.main()
