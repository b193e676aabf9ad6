#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
What is published and when, end to end against a real mosquitto and a real subscriber: per-label
topics, the on-change policy with its alarms sent at once, and two meters on two pseudo-terminals
with policies of their own, one of them unplugged while the other carries on. Run by CTest, or by
hand: LINKYD=build/linkyd python3 tests/integration/test_publish.py [-k NAME]. Exits 77 (skipped)
when mosquitto is not installed.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def bare(value):
    """A label topic's payload for a typed value: strings without quotes, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class Publish(unittest.TestCase):

    def test_label_topics(self):
        rig = h.Rig(self, conf='publish = { label_topics = true; label_retain = true; };\n')
        got, expected = rig.feed(h.capture("standard-mono-base-01.tic"))
        self.assertEqual(got, expected)
        frames = [json.loads(p) for p in got]
        for label in frames[-1]:
            if label.startswith("_"):
                continue
            with self.subTest(label=label):
                # One message per frame carrying the label (every frame is the default)...
                want = [bare(f[label]) for f in frames if label in f]
                # '+' is a wildcard, which no published topic may hold.
                level = label.replace("+", "_")
                got_label = rig.sub.wait_count(f"{rig.topic}/{level}", len(want), 5)
                self.assertEqual(got_label, want)
        # ... retained, so that a flow started later gets the last value at once.
        self.assertEqual(h.retained(rig.broker, f"{rig.topic}/SINSTS"),
                         bare(frames[-1]["SINSTS"]))
        self.assertEqual(h.retained(rig.broker, f"{rig.topic}/NGTF"), frames[-1]["NGTF"])

    def test_on_change_and_alarms(self):
        # A dead-band no value of the capture moves by: only the first frame and the ADIR short
        # frames (overload alarms, sent at once) go out, however often they come.
        rig = h.Rig(self, conf='publish = { policy = "on_change"; deadband = 5000; '
                               'heartbeat = 60; label_topics = true; };\n')
        data = h.capture("historique-hchp-tri-adir-01.tic")
        every = h.decode(data * 2)
        rig.pty.write(data * 2, chunk=64, pace=0.001)
        alarms = [f for f in every if '"ADIR1"' in f]
        want = [every[0]] + alarms
        self.assertEqual(len(want), 7)
        got = rig.sub.wait_count(rig.topic, len(want), 10)
        time.sleep(1)  # nothing more comes
        self.assertEqual(rig.frames(), want)
        self.assertEqual(len(rig.sub.payloads(f"{rig.topic}/ADIR1")), len(alarms))
        self.assertEqual(rig.sub.payloads(f"{rig.topic}/HCHC"), ["15558379"])
        self.assertEqual(got[0], every[0])
        rig.daemon.wait_log(r"alarm in a frame, published at once")

    def test_heartbeat(self):
        """Nothing changes, yet a frame goes out every heartbeat: "unchanged" is not "dead"."""
        rig = h.Rig(self, conf='publish = { policy = "on_change"; heartbeat = 1; };\n'
                               'homeassistant = { discovery = false; };\n')
        frame = h.historique_frame(1000)
        start = time.monotonic()
        while time.monotonic() - start < 3.5:
            rig.pty.write(frame)
            time.sleep(0.1)
        time.sleep(0.3)
        times = [m.time for m in rig.sub.messages(rig.topic)]
        # The first frame, then one per second of the 3.5 s: 4 (the first may land a little
        # after the writer's start, the last just before its end).
        self.assertIn(len(times), (3, 4, 5))
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertTrue(all(0.9 <= g <= 1.6 for g in gaps), gaps)

    def test_reload_applies_policy(self):
        """SIGHUP with new publish settings restarts the meter with them."""
        rig = h.Rig(self)
        data = h.capture("historique-hchp-mono-03.tic")
        rig.feed(data)
        self.assertEqual(rig.sub.payloads(f"{rig.topic}/PAPP"), [])
        mark = rig.daemon.mark()
        rig.daemon.conf_extra = "publish = { label_topics = true; };\n"
        rig.daemon.write_config(rig.topic)
        rig.daemon.signal(h.signal.SIGHUP)
        rig.daemon.wait_log(r"configuration reloaded \(1 meter\(s\), 1 restarted\)", 10,
                            after=mark)
        rig.daemon.wait_log(r"reading .* at \d+ Bd", 5, after=mark)
        # Label topics go out while connected only.
        rig.daemon.wait_log(r"connected to ", 5, after=mark)
        rig.line_reopened()
        got, _ = rig.feed(data)
        self.assertEqual(rig.sub.wait_count(f"{rig.topic}/PAPP", 1, 5),
                         [str(json.loads(got[-1])["PAPP"])])

    def test_anonymise(self):
        """No trace of the meter's identifiers in anything published or logged (-vv logs the
        raw bytes too), and the same pseudonym after a restart: HA keeps its device."""
        real = "811775412275"
        conf = ('publish = { anonymise = true; anonymise_key = "it-secret"; '
                'label_topics = true; };\n')
        rig = h.Rig(self, conf=conf, args=["-vv"])
        got, expected = rig.feed(h.capture("historique-hchp-mono-03.tic"))
        frame = json.loads(got[-1])
        pseudonym = frame["ADCO"]
        self.assertRegex(pseudonym, r"^\d{12}$")
        self.assertNotEqual(pseudonym, real)
        # Everything else as the meter said.
        self.assertEqual(dict(json.loads(expected[-1]), ADCO=pseudonym), frame)
        rig.sub.wait_count(f"homeassistant/sensor/linkyd_{pseudonym}/hchc/config", 1, 10)
        rig.sub.wait_count(f"{rig.topic}/ADCO", 1, 5)
        self.assertEqual(rig.sub.payloads(f"{rig.topic}/ADCO"), [pseudonym])
        rig.daemon.wait_log(r"read \d+ bytes: .*ADCO")
        for m in rig.sub.messages():
            self.assertNotIn(real, m.topic + m.payload)
        self.assertNotIn(real, rig.daemon.log())
        # Restarted: the same pseudonym.
        rig.daemon.stop()
        rig.daemon.start()
        rig.line_reopened()
        rig.daemon.wait_ready()
        got, _ = rig.feed(h.capture("historique-hchp-mono-03.tic"))
        self.assertEqual(json.loads(got[-1])["ADCO"], pseudonym)
        self.assertNotIn(real, rig.daemon.log())

    def test_guard_and_derived(self):
        """The index guard and the derived values with their defaults: indexes held back until
        three frames agree, a jump (the capture joins two sessions) never published, derived
        values on their own topics, and the energy per period resumed after a restart."""
        rig = h.Rig(self, guard=True, conf="homeassistant = { discovery = false; };\n")
        data = h.capture("historique-hchp-mono-01.tic")
        every = [json.loads(f) for f in h.decode(data)]
        rig.pty.write(data, pace=0.0005)
        got = [json.loads(f) for f in rig.sub.wait_count("linky", len(every), 20)]
        self.assertEqual(len(got), len(every))
        indexes = ("HCHC", "HCHP")
        for i, (g, e) in enumerate(zip(got, every)):
            held = i < 2 or i == len(every) - 1   # a cold start; the other session's jump
            want = {k: v for k, v in e.items() if not (held and k in indexes)}
            self.assertEqual(g, want, f"frame {i}")
        rig.daemon.wait_log(r"HCH[CP] \d+ not published: implausibly far above the last accepted")
        derived = [json.loads(p) for p in rig.sub.wait_count("linky/derived", 1, 5)]
        self.assertTrue(all(d["_derived"] for d in derived))
        self.assertIn("load_pct", derived[-1])
        # The retained energy goes out at most once a minute, and on stop.
        energy = json.loads(h.retained(rig.broker, "linky/energy"))
        self.assertTrue(energy["_derived"])
        self.assertEqual(energy["day"]["total"], 0)
        status, _ = rig.daemon.stop()
        self.assertEqual(status, 0)
        energy = json.loads(h.retained(rig.broker, "linky/energy"))
        # 14795091 -> 14795091 HC and 11927521 -> 11927533 HP while watched: 12 Wh.
        self.assertEqual(energy["day"]["total"], 12)
        self.assertEqual(energy["day"]["registers"], {"HCHC": 0, "HCHP": 12})
        # Saved on shutdown, resumed on start.
        self.assertTrue(os.path.exists(os.path.join(rig.dir, "meter.state")))
        mark = rig.daemon.mark()
        rig.daemon.start()
        rig.daemon.wait_log(r"derived values resumed from", 5, after=mark)

    def test_stalled_broker_keeps_frames(self):
        """A broker that hangs with its TCP connection up (SIGSTOP): the daemon still thinks it
        is connected until the keep-alive expires, and the label topics it queues meanwhile
        must never push a frame out of a small queue."""
        rig = h.Rig(self, mqtt="queue = 100; keepalive = 5;",
                    conf="publish = { label_topics = true; };\n"
                         "homeassistant = { discovery = false; };\n")
        rig.feed(h.frames(h.historique_frame, 1000, 3))
        mark = rig.daemon.mark()
        os.kill(rig.broker.proc.pid, h.signal.SIGSTOP)
        try:
            for i in range(40):
                rig.pty.write(h.historique_frame(2000 + i))
                time.sleep(0.05)
            rig.daemon.wait_log(r"connection to \S+ lost", 20, after=mark)
        finally:
            os.kill(rig.broker.proc.pid, h.signal.SIGCONT)
        rig.daemon.wait_log(r"connected to ", 20, after=mark)
        rig.sub.wait_for(lambda _: 2039 in map(h.frame_index, rig.frames()), 15,
                         "the last frame")
        late = sorted({h.frame_index(p) for p in rig.frames()} & set(range(2000, 2040)))
        self.assertEqual(late, list(range(2000, 2040)))
        self.assertNotRegex(rig.daemon.log(), r"dropped")

    def test_two_meters(self):
        """Two meters, each with its own line, mode, topic and policy; the second unplugged and
        back while the first goes on undisturbed."""
        tmp = self.enterContext(h.tempfile.TemporaryDirectory(prefix="linkyd-it-"))
        broker = h.Broker(tmp)
        broker.start()
        self.addCleanup(broker.stop)
        sub = h.Subscriber(broker, tmp)
        sub.start()
        self.addCleanup(sub.stop)
        home, shed = h.Pty(tmp, "home"), h.Pty(tmp, "shed")
        self.addCleanup(home.close)
        self.addCleanup(shed.close)
        conf = ("meters = (\n"
                f'  {{ name = "home"; input = "{home.link}"; topic = "linky/home";\n'
                '    publish = { label_topics = true; index_guard = false; }; },\n'
                f'  {{ name = "shed"; input = "{shed.link}"; mode = "historique";'
                ' topic = "linky/shed";\n'
                '    publish = { policy = "on_change"; deadband = 5000; index_guard = false; };'
                ' }\n'
                ");\n")
        daemon = h.Daemon(tmp, None, broker, conf=conf)
        daemon.start()
        self.addCleanup(daemon.terminate)
        daemon.wait_log(r"meter 'home': reading")
        daemon.wait_log(r"meter 'shed': reading")
        h.wait_until(lambda: sum("connected to " in t for _, t in daemon.lines()) == 2, 10,
                     "both meters connected")

        std = h.capture("standard-mono-base-01.tic")
        hist = h.capture("historique-hchp-tri-adir-01.tic")
        home_frames, shed_frames = h.decode(std), h.decode(hist)
        home.write(std, pace=0.001)
        shed.write(hist, pace=0.001)
        self.assertEqual(sub.wait_count("linky/home", len(home_frames), 10), home_frames)
        # The shed's policy: its first frame, then only the alarms (ADIR short frames).
        shed_want = [f for i, f in enumerate(shed_frames) if i == 0 or '"ADIR1"' in f]
        self.assertEqual(len(shed_want), 4)
        self.assertEqual(sub.wait_count("linky/shed", 4, 10), shed_want)
        self.assertEqual(sub.wait_count("linky/home/NGTF", len(home_frames), 5),
                         [json.loads(f)["NGTF"] for f in home_frames])
        self.assertEqual(sub.payloads("linky/shed/PTEC"), [])

        # Unplug the shed: the home meter carries on, frame for frame.
        mark = daemon.mark()
        shed.unplug()
        daemon.wait_log(r"meter 'shed'.*(gone|closed|lost|hang)", after=mark)
        home.write(std, pace=0.001)
        want = home_frames + h.decode(std * 2)[len(home_frames):]
        self.assertEqual(sub.wait_count("linky/home", len(want), 10), want)
        self.assertEqual(sub.payloads("linky/home/status"), ["online"])
        # The shed comes back by itself.
        shed.plug()
        daemon.wait_log(r"meter 'shed': reading", timeout=15, after=mark)
        shed.write(hist, pace=0.001)
        self.assertEqual(sub.wait_count("linky/shed", 7, 10), shed_want + shed_want[1:])
        self.assertEqual(daemon.at_most(h.LOG_ERR), [])


if __name__ == "__main__":
    h.main()
