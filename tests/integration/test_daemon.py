#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
linkyd's integration tests: the daemon against a real mosquitto, a real subscriber
(mosquitto_sub) and a real pseudo-terminal in place of the meter's serial line. What must arrive
is what `linkyd --decode` finds in the same bytes. Run by CTest (label "integration"), or by
hand: LINKYD=build/linkyd python3 tests/integration/test_daemon.py [-k NAME]. Exits 77 (skipped)
when mosquitto is not installed. With LINKYD pointing at a sanitizer build, a sanitizer report
fails the test: any stderr line without a priority prefix counts as an error.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


class Delivery(unittest.TestCase):
    """Case 1: every frame arrives, as `linkyd --decode` prints it, in order; availability."""

    def check_captures(self, rig, captures, fmt):
        for name, repeat, chunk in captures:
            with self.subTest(capture=name, format=fmt):
                got, expected = rig.feed(h.capture(name) * repeat, fmt, chunk)
                self.assertGreater(len(expected), 0)
                self.assertEqual(got, expected)

    def test_standard_typed(self):
        rig = h.Rig(self)
        self.assertEqual(h.retained(rig.broker, rig.topic + "/status"), "online")
        # Odd chunk sizes cut groups anywhere, as USB adapters do.
        self.check_captures(rig, [("standard-mono-base-01.tic", 20, 64),
                                  ("standard-tri-tempo-noise-01.tic", 1, 7)], "typed")
        # The normal case is quiet: nothing at warning level or above.
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])

        # Idle, the daemon sleeps: a busy loop would show as ~2 s of CPU over this window.
        cpu = rig.daemon.cpu_seconds()
        time.sleep(2)
        self.assertLess(rig.daemon.cpu_seconds() - cpu, 0.05, "CPU time over an idle 2 s")

    def test_historique_typed(self):
        rig = h.Rig(self)
        self.check_captures(rig, [("historique-hchp-mono-01.tic", 1, 64),
                                  ("historique-hchp-tri-adir-01.tic", 2, 13)], "typed")
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])

    def test_raw(self):
        rig = h.Rig(self, args=["--format", "raw"])
        self.check_captures(rig, [("standard-tri-tempo-noise-01.tic", 1, 64),
                                  ("historique-hchp-mono-01.tic", 1, 64)], "raw")
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])

    def test_short_frame_not_held_back(self):
        # meter.c sets VMIN to what the previous frame's length says is left: a frame much
        # shorter than the one before it (ADIR short frames, a frame after line noise, the last
        # one before the meter goes quiet) must still come out, through the flush timer.
        rig = h.Rig(self)
        rig.feed(h.frames(h.standard_frame, 0, 3))
        short = h.STX + h.standard_group("ADSC", "012345678910") + h.ETX
        got, expected = rig.feed(short, timeout=3)
        self.assertEqual(got, expected)


class BrokerRestart(unittest.TestCase):
    """Case 2: the broker is SIGKILLed and restarted mid-stream on the same port; QoS 1 and the
    daemon's queue lose nothing, and the order is kept."""

    def test_kill_and_restart(self):
        rig = h.Rig(self, persistence=True, persistent_subscriber=True)
        # The subscriber's session must be on disk before the kill, or the restarted broker
        # would drop what the daemon sends before mosquitto_sub has subscribed again.
        saves = rig.broker.saves()
        h.wait_until(lambda: rig.broker.saves() > saves, 5, "the broker to save its database")

        stream = h.Stream(rig.pty, h.standard_frame, interval=0.05)
        stream.start()
        self.addCleanup(stream.stop)
        rig.sub.wait_count(rig.topic, 10, 10)
        # Live frames are published as soon as they are read, not batched.
        arrived = rig.arrivals()
        for i, when in stream.written[:10]:
            self.assertLess(arrived[i] - when, 0.5, f"frame {i} took too long")
        mark = rig.daemon.mark()
        # Killed right after a frame arrived, the next one being ~50 ms away: no frame is
        # half-way between the daemon and the subscriber when the broker dies.
        rig.broker.kill()
        rig.daemon.wait_log(r"connection to \S+ lost", 5, after=mark)
        down_from = len(stream.written)
        stream.wait_written(down_from + 20, 10)  # a second of frames with no broker
        rig.broker.start()
        queued = rig.daemon.wait_log(r"connected to .*; (\d+) message\(s\) queued", 15,
                                     after=mark)
        self.assertGreaterEqual(int(queued.group(1)), 20)
        stream.wait_written(len(stream.written) + 10, 10)  # and some after the restart
        written = stream.stop()
        self.assertGreater(len(written), down_from + 30)

        expected = h.decode(bytes(stream.data))
        rig.sub.wait_for(lambda _: set(rig.frames()) >= set(expected), 20,
                         "every frame written")
        got = rig.frames()
        # QoS 1 is at least once: a message whose PUBACK the kill swallowed is sent again (by
        # the daemon after its reconnect, or by the broker from its restored session). So a
        # frame may come twice, but the first arrivals must be every frame, in order.
        first = list(dict.fromkeys(got))
        self.assertEqual(first, expected)
        self.assertEqual([h.frame_index(p) for p in first], written)
        self.assertLessEqual(len(got) - len(first), 16, "duplicates beyond one in-flight window")
        self.assertEqual(h.retained(rig.broker, rig.topic + "/status"), "online")
        self.assertTrue(rig.daemon.alive())


class Replug(unittest.TestCase):
    """Case 3: the serial line disappears and comes back; the same process resumes reading."""

    def test_unplug_replug(self):
        rig = h.Rig(self)
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 5))
        self.assertEqual(got, expected)

        mark = rig.daemon.mark()
        rig.unplug()
        rig.daemon.wait_log(r"lost .*tic, waiting for it to come back", 5, after=mark)
        # The first reopen finds nothing (the link is gone).
        rig.daemon.wait_log(r"cannot open .*tic, retrying.*No such file", 5, after=mark)
        rig.plug()
        rig.daemon.wait_log(r"reading .*tic at \d+ Bd", 10, after=mark)
        # The same failure is logged once, not at every attempt.
        self.assertEqual(rig.daemon.log().count("cannot open"), 1)

        got, expected = rig.feed(h.frames(h.standard_frame, 5, 5))
        self.assertEqual(got, expected)
        self.assertEqual([h.frame_index(p) for p in got], list(range(5, 10)))
        self.assertTrue(rig.daemon.alive())
        self.assertEqual(len(re.findall(r"starting", rig.daemon.log())), 1, "restarted")


class ModeSwitch(unittest.TestCase):
    """Case 4: historique then standard frames on one line, one session: both decoded, and
    <topic>/mode follows."""

    def test_historique_then_standard(self):
        rig = h.Rig(self)
        got, expected = rig.feed(h.frames(h.historique_frame, 0, 5))
        self.assertEqual(got, expected)
        self.assertEqual(h.retained(rig.broker, rig.topic + "/mode"), "historique")
        got, expected = rig.feed(h.frames(h.standard_frame, 5, 5))
        self.assertEqual(got, expected)
        self.assertEqual([h.frame_index(p) for p in rig.frames()], list(range(10)))
        self.assertEqual(rig.sub.wait_count(rig.topic + "/mode", 2, 5),
                         ["historique", "standard"])
        self.assertEqual(h.retained(rig.broker, rig.topic + "/mode"), "standard")


class Configuration(unittest.TestCase):
    """Case 5: a bad file stops linkyd with one line naming FILE:LINE and status 78;
    --check-config prints a good one, password masked."""

    # (name, file text, line to blame)
    BAD = [
        ("syntax", 'mqtt = {\n\turl = "mqtt://localhost";\n\tqos = ;\n};\n', 3),
        ("unknown-key", 'mqtt = {\n\turl = "mqtt://localhost";\n\tport = 1883;\n};\n', 3),
        ("bad-qos", '# QoS 3 does not exist\nmqtt = {\n\tqos = 3;\n};\n', 3),
        ("bad-url", 'meters = ( { input = "/dev/ttyUSB0"; } );\n\n'
                    'mqtt = { url = "tcp://localhost:1883"; };\n', 3),
        ("unknown-group", 'log = { level = "info"; };\nbroker = { url = "mqtt://x"; };\n', 2),
        # libconfig's scanner called exit(2) on a directory, with no file or line.
        ("include-dir", 'log = { level = "info"; };\n@include "/tmp"\n', 2),
        # What libconfig would silently cut: "a<NUL>b" was "a", "t\x00u" was "tu".
        ("nul-byte", 'mqtt = {\n\tusername = "a\0b";\n};\n', 2),
        ("nul-escape", 'mqtt = {\n\tusername = "t\\x00u";\n};\n', 2),
        # 42 s of CPU in libconfig for a single 10 MB line; refused at once now.
        ("huge-line", "# " + "a" * 10_000_000 + "\n", 1),
        # Strings MQTT cannot carry, which failed at every connection.
        ("long-topic", 'meters = ( {\n\ttopic = "' + "t" * 70_000 + '"; } );\n', 2),
        # B's frames would land on A's availability topic.
        ("topic-below", 'meters = ( { name = "a"; input = "/dev/a"; topic = "x"; },\n'
                        '\t{ name = "b"; input = "/dev/b"; topic = "x/status"; } );\n', 2),
    ]

    GOOD = ('meters = ( { name = "home"; input = "serial:/dev/ttyUSB0"; mode = "standard";'
            ' topic = "home/linky"; } );\n'
            'mqtt = { url = "mqtt://127.0.0.1:1884"; username = "linky";'
            ' password = "hunter2-secret"; qos = 2; };\n'
            'publish = { format = "raw"; };\n')

    def run_linkyd(self, *args):
        return subprocess.run([h.linkyd_path(), *args], capture_output=True, text=True,
                              timeout=10, stdin=subprocess.DEVNULL)

    def test_bad_files(self):
        with tempfile.TemporaryDirectory(prefix="linkyd-it-") as tmp:
            for name, text, line in self.BAD:
                path = Path(tmp) / f"{name}.conf"
                path.write_text(text)
                for args in (["-c", str(path)], ["--check-config", "-c", str(path)]):
                    with self.subTest(file=name, args=args[:-2]):
                        t0 = time.monotonic()
                        r = self.run_linkyd(*args)
                        self.assertLess(time.monotonic() - t0, 5)
                        self.assertEqual(r.returncode, h.EX_CONFIG, r.stderr)
                        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                        self.assertRegex(r.stderr, rf"^linkyd: {re.escape(str(path))}:{line}: ")
                        self.assertEqual(r.stdout, "")

    def test_check_config(self):
        with tempfile.TemporaryDirectory(prefix="linkyd-it-") as tmp:
            path = Path(tmp) / "good.conf"
            path.write_text(self.GOOD)
            r = self.run_linkyd("--check-config", "-c", str(path))
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            self.assertIn('password = "********";', r.stdout)
            self.assertNotIn("hunter2", r.stdout)
            for s in ('name = "home"', 'input = "serial:/dev/ttyUSB0"', 'mode = "standard"',
                      'topic = "home/linky"', 'url = "mqtt://127.0.0.1:1884"', "qos = 2;",
                      'format = "raw"', '# client_id: "linkyd-'):
                self.assertIn(s, r.stdout)
            # What it prints is a configuration file that says the same thing.
            printed = Path(tmp) / "printed.conf"
            printed.write_text(r.stdout)
            again = self.run_linkyd("--check-config", "-c", str(printed))
            self.assertEqual((again.returncode, again.stdout), (0, r.stdout))


class Signals(unittest.TestCase):
    """Case 6: SIGHUP applies a new topic (the old one goes offline); SIGTERM publishes offline
    and exits 0 within 3 s."""

    def test_reload(self):
        rig = h.Rig(self, topic="linky/old")
        old, new = rig.topic, "linky/new"
        rig.sub.wait_payload(old + "/status", "online", 5)
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 3))
        self.assertEqual(got, expected)

        mark = rig.daemon.mark()
        rig.daemon.write_config(new)
        rig.daemon.signal(signal.SIGHUP)
        rig.daemon.wait_log(r"configuration reloaded", 10, after=mark)
        rig.daemon.wait_log(r"reading .*tic at \d+ Bd", 5, after=mark)
        rig.sub.wait_payload(old + "/status", "offline", 5)
        rig.sub.wait_payload(new + "/status", "online", 5)
        self.assertEqual(h.retained(rig.broker, old + "/status"), "offline")
        # The line was closed and opened again: start on a frame boundary.
        rig.line_reopened()
        got, expected = rig.feed(h.frames(h.standard_frame, 3, 3))
        self.assertEqual(got, expected)
        self.assertEqual(len(rig.sub.payloads(old)), 3, "frames still sent to the old topic")
        self.assertTrue(rig.daemon.alive())
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])

    def test_stop_finishes_the_frame_under_way(self):
        """SIGTERM while a frame is half read: the daemon finishes it (within its 3 s) and
        publishes it before going offline, rather than losing it."""
        rig = h.Rig(self)
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 2))
        self.assertEqual(got, expected)
        frame = h.standard_frame(2)
        rig.pty.write(frame[:len(frame) // 2])
        time.sleep(0.3)  # read by the daemon: the parser is inside the frame
        mark = rig.daemon.mark()
        rig.daemon.signal(signal.SIGTERM)
        rig.daemon.wait_log(r"stopping", 5, after=mark)
        time.sleep(0.2)
        rig.pty.write(frame[len(frame) // 2:])
        status, seconds = rig.daemon.stop(timeout=5)
        self.assertEqual(status, 0)
        self.assertLess(seconds, 3)
        frames = rig.sub.wait_count(rig.topic, 3, 5)
        self.assertEqual([h.frame_index(p) for p in frames], [0, 1, 2])
        rig.sub.wait_payload(rig.topic + "/status", "offline", 5)
        status = [m.topic for m in rig.sub.messages(None)
                  if m.topic in (rig.topic, rig.topic + "/status")]
        self.assertEqual(status[-1], rig.topic + "/status", "the frame after offline")

    def test_reload_broker_away(self):
        """A meter whose broker is unreachable closes at once: a reload that changes the broker
        then, and a stop, must still close every meter exactly once."""
        rig = h.Rig(self)
        mark = rig.daemon.mark()
        rig.broker.kill()
        rig.daemon.wait_log(r"connection to \S+ lost", 5, after=mark)
        rig.daemon.url = f"mqtt://127.0.0.1:{h.free_port()}"
        rig.daemon.write_config(rig.topic)
        rig.daemon.signal(signal.SIGHUP)
        rig.daemon.wait_log(r"configuration reloaded \(1 meter\(s\), 1 restarted\)", 10,
                            after=mark)
        self.assertTrue(rig.daemon.alive())
        status, seconds = rig.daemon.stop(timeout=5)
        self.assertEqual(status, 0)
        self.assertLess(seconds, 3)

    def test_failed_reload_keeps_running_config(self):
        """A reload that keeps the meter, then one that fails: the meter still publishes as
        configured (raw, retained), not with the half-read or zeroed new configuration."""
        rig = h.Rig(self, mqtt="retain = true;", conf='publish = { format = "raw"; };\n')
        rig.allowed_errors = [r"reload failed", r"linkyd\.conf:\d+"]
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 2), "raw")
        self.assertEqual(got, expected)
        mark = rig.daemon.mark()
        good = rig.daemon.conf.read_text().replace('"info"', '"notice"')
        rig.daemon.conf.write_text(good)
        rig.daemon.signal(signal.SIGHUP)
        rig.daemon.wait_log(r"configuration reloaded \(1 meter\(s\), 0 restarted\)", 5,
                            after=mark)
        mark = rig.daemon.mark()
        rig.daemon.conf.write_text(good + "\nbogus = ;\n")
        rig.daemon.signal(signal.SIGHUP)
        rig.daemon.wait_log(r"reload failed", 5, after=mark)
        got, expected = rig.feed(h.frames(h.standard_frame, 2, 2), "raw")
        self.assertEqual(got, expected)
        self.assertEqual(h.retained(rig.broker, rig.topic), got[-1])

    def test_failed_reload_include_directory(self):
        """A reload of a file that libconfig's scanner could not read (an @include of a
        directory: it called exit(2)), or that it would take seconds to read (a 10 MB line),
        fails at once; the daemon carries on with its running configuration."""
        rig = h.Rig(self)
        rig.allowed_errors = [r"reload failed", r"linkyd\.conf:\d+"]
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 2))
        self.assertEqual(got, expected)
        good = rig.daemon.conf.read_text()
        for bad, error in (('@include "/tmp"\n', r"linkyd\.conf:\d+: @include: '/tmp': Is a "
                                                  r"directory"),
                           ("# " + "a" * 10_000_000 + "\n", r"linkyd\.conf:\d+: expected at "
                                                          r"most \d+ bytes")):
            with self.subTest(error=error):
                mark = rig.daemon.mark()
                rig.daemon.conf.write_text(good + bad)
                t0 = time.monotonic()
                rig.daemon.signal(signal.SIGHUP)
                rig.daemon.wait_log(r"reload failed", 5, after=mark)
                self.assertLess(time.monotonic() - t0, 2)
                rig.daemon.wait_log(error, 5, after=mark)
        self.assertTrue(rig.daemon.alive())
        got, expected = rig.feed(h.frames(h.standard_frame, 2, 2))
        self.assertEqual(got, expected)
        mark = rig.daemon.mark()
        rig.daemon.conf.write_text(good)
        rig.daemon.signal(signal.SIGHUP)
        rig.daemon.wait_log(r"configuration reloaded \(1 meter\(s\), 0 restarted\)", 5,
                            after=mark)

    def test_hup_and_term_at_once(self):
        """SIGHUP and SIGTERM in one read of the signalfd, the broker away (the meter closes at
        once): the reload is dropped, nothing starts after "stopping"."""
        rig = h.Rig(self)
        mark = rig.daemon.mark()
        rig.broker.kill()
        rig.daemon.wait_log(r"connection to \S+ lost", 5, after=mark)
        rig.daemon.write_config("other")
        pid = rig.daemon.pid
        os.kill(pid, signal.SIGSTOP)
        os.kill(pid, signal.SIGHUP)
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)
        self.assertEqual(rig.daemon.proc.wait(5), 0)
        log = rig.daemon.log()
        tail = log[log.index("stopping"):]
        self.assertNotIn("configuration reloaded", tail)
        self.assertNotIn("reading", tail)

    def test_terminate(self):
        rig = h.Rig(self)
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 3))
        self.assertEqual(got, expected)
        status, seconds = rig.daemon.stop(timeout=5)
        self.assertEqual(status, 0)
        self.assertLess(seconds, 3)
        rig.sub.wait_payload(rig.topic + "/status", "offline", 5)
        self.assertEqual(h.retained(rig.broker, rig.topic + "/status"), "offline")
        # A clean DISCONNECT, not the last will of a dropped connection.
        self.assertIn(f"Client {rig.client_id} disconnected.", rig.broker.log())
        self.assertNotIn(f"Client {rig.client_id} closed its connection", rig.broker.log())
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])



class QueueBound(unittest.TestCase):
    """While the broker is away the queue is bounded: the oldest frames are dropped, counted and
    logged; the newest are delivered in order when it returns."""

    def test_drop_oldest(self):
        rig = h.Rig(self, persistence=True, persistent_subscriber=True, mqtt="queue = 5;")
        saves = rig.broker.saves()
        h.wait_until(lambda: rig.broker.saves() > saves, 5, "the broker to save its database")
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 2))
        self.assertEqual(got, expected)
        mark = rig.daemon.mark()
        rig.broker.kill()
        rig.daemon.wait_log(r"connection to \S+ lost", 5, after=mark)
        rig.pty.write(h.frames(h.standard_frame, 100, 20))
        rig.daemon.wait_log(r"queue full \(5 frames\), dropping the oldest", 10, after=mark)
        rig.broker.start()
        dropped = rig.daemon.wait_log(r"(\d+) frame\(s\) dropped while the broker was away",
                                      15, after=mark)
        # Room for 5 frames, whatever else waits in the queue (the mode, the diagnostics that
        # a slow run may publish meanwhile): 15 of the 20 dropped, counted as frames; plus,
        # rarely, frames 0 and 1 if the kill swallowed their PUBACKs (in the queue still, they
        # are the oldest).
        self.assertIn(int(dropped.group(1)), (15, 16, 17))
        rig.sub.wait_for(lambda _: 119 in map(h.frame_index, rig.frames()), 15,
                         "the newest frame")
        late = [h.frame_index(p) for p in dict.fromkeys(rig.frames()) if h.frame_index(p) >= 100]
        self.assertEqual(late, list(range(115, 120)), "not the newest, in order")


class Systemd(unittest.TestCase):
    """The service manager's side of Type=notify: READY, STATUS, WATCHDOG, RELOADING and
    STOPPING arrive on $NOTIFY_SOCKET, as systemd would read them."""

    def test_notify(self):
        tmp = tempfile.TemporaryDirectory(prefix="linkyd-notify-")
        self.addCleanup(tmp.cleanup)
        path = os.path.join(tmp.name, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(0.1)
        received = []

        def wait(pattern, timeout=10):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for i, m in enumerate(received):
                    if re.search(pattern, m):
                        del received[:i + 1]
                        return m
                try:
                    received.extend(sock.recv(4096).decode().splitlines())
                except socket.timeout:
                    pass
            self.fail(f"no /{pattern}/ on NOTIFY_SOCKET; got {received}")

        rig = h.Rig(self, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        wait(r"^READY=1$")
        # Half the watchdog interval: several pings a second; the status rides along.
        for _ in range(3):
            wait(r"^WATCHDOG=1$", 2)
        rig.feed(h.frames(h.standard_frame, 0, 3))
        wait(r"^STATUS=meter: standard 9600 Bd, 3 frames, 0 rejected, broker connected")
        rig.daemon.proc.send_signal(signal.SIGHUP)
        wait(r"^RELOADING=1$")
        wait(r"^READY=1$")
        rig.daemon.proc.send_signal(signal.SIGTERM)
        wait(r"^STOPPING=1$")

if __name__ == "__main__":
    h.main()
