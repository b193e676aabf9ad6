#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The raw TCP input (input = "tcp:HOST:PORT"): the daemon against a serial bridge played by this
test on 127.0.0.1 (one client at a time, raw bytes, as ESPEasy's serial server or ser2net), a
real mosquitto and mosquitto_sub. The bridge replays the real captures, drops the connection
mid-frame, refuses, goes silent, sends garbage; what is published must be exactly what
`linkyd --decode` finds in the bytes each connection carried: nothing intact lost, nothing
corrupt published. Exits 77 (skipped) without mosquitto.
"""
import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


class Bridge:
    """A serial bridge on 127.0.0.1: accepts one client at a time (a new one replaces the old,
    as ESPEasy does) and sends it what the test says."""

    def __init__(self, port=0):
        self.port = port
        self.sock = None
        self.client = None
        self.accepted = 0
        self.cond = threading.Condition()
        self.listen()

    def listen(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(4)
        threading.Thread(target=self._accept, args=(self.sock,), daemon=True).start()

    def _accept(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed
            with self.cond:
                if self.client:
                    self.client.close()
                self.client = conn
                self.accepted += 1
                self.cond.notify_all()

    def wait_client(self, n, timeout=10):
        """Wait for the n-th connection since the bridge started."""
        with self.cond:
            if not self.cond.wait_for(lambda: self.accepted >= n, timeout):
                raise AssertionError(f"no connection #{n} within {timeout} s "
                                     f"({self.accepted} so far)")

    def send(self, data, chunk=64, pace=0.001):
        for off in range(0, len(data), chunk):
            self.client.sendall(data[off:off + chunk])
            time.sleep(pace)

    def drop(self):
        with self.cond:
            if self.client:
                self.client.close()
                self.client = None

    def refuse(self):
        """Stop listening: connections are refused. shutdown() first: close() alone leaves the
        socket listening while the accept thread is blocked in it."""
        self.drop()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def close(self):
        self.refuse()


class Tcp(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="linkyd-tcp-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.broker = h.Broker(self.dir)
        self.broker.start()
        self.addCleanup(self.broker.stop)
        self.sub = h.Subscriber(self.broker, self.dir)
        self.sub.start()
        self.addCleanup(self.sub.stop)

    def start(self, bridge, silence=15):
        meter = (f'meters = ( {{ name = "garage"; input = "tcp:127.0.0.1:{bridge.port}"; '
                 f'topic = "linky"; silence = {silence}; '
                 f'publish = {{ index_guard = false; }}; }} );\n')
        self.daemon = h.Daemon(self.dir, None, self.broker, conf=meter)
        self.daemon.start()
        self.addCleanup(self.daemon.terminate)
        self.daemon.wait_log(r"connected to \S+ as")
        return self.daemon

    def frames(self, n, timeout=10):
        return self.sub.wait_count("linky", n, timeout)

    def diagnostics(self, predicate, timeout=10):
        msgs = self.sub.wait_for(
            lambda ms: [json.loads(m.payload) for m in ms if m.topic == "linky/diagnostics"
                        and predicate(json.loads(m.payload))], timeout, "diagnostics")
        return msgs[-1]

    def test_replay_and_drop_mid_frame(self):
        bridge = Bridge()
        self.addCleanup(bridge.close)
        daemon = self.start(bridge)
        bridge.wait_client(1)
        first = h.capture("historique-hchp-mono-01.tic")
        cut = h.capture("historique-tempo-mono-01.tic")
        cut = cut[:cut.rindex(h.STX) + 40]  # into the last frame's second group
        bridge.send(first + cut)
        expected = h.decode(first + cut)
        self.assertEqual(self.frames(len(expected)), expected)
        # The bridge drops the client; the cut frame must never come out, even joined to what
        # the next connection brings.
        mark = daemon.mark()
        bridge.drop()
        daemon.wait_log(r"lost tcp:127\.0\.0\.1:\d+", after=mark)
        bridge.wait_client(2)
        more = h.capture("historique-hchp-mono-03.tic") * 3
        bridge.send(more)
        expected += h.decode(more)
        self.assertEqual(self.frames(len(expected)), expected)
        time.sleep(0.5)
        self.assertEqual(len(self.sub.payloads("linky")), len(expected))

    def test_refused_then_listening(self):
        bridge = Bridge()
        bridge.refuse()
        daemon = self.start(bridge)
        daemon.wait_log(r"cannot open tcp:127\.0\.0\.1:\d+.*Connection refused")
        time.sleep(2.5)
        # Said once, however many times it was tried.
        refused = [t for _, t in daemon.lines() if "Connection refused" in t]
        self.assertEqual(len(refused), 1, refused)
        bridge.listen()
        self.addCleanup(bridge.close)
        bridge.wait_client(1, timeout=20)
        data = h.capture("standard-mono-base-01.tic") * 3
        bridge.send(data)
        expected = h.decode(data)
        self.assertEqual(self.frames(len(expected)), expected)

    def test_silent_bridge_reconnected(self):
        # Connected but silent: a bridge whose Wi-Fi dropped without a word.
        bridge = Bridge()
        self.addCleanup(bridge.close)
        daemon = self.start(bridge, silence=2)
        bridge.wait_client(1)
        data = h.capture("standard-mono-base-01.tic")
        bridge.send(data)
        self.frames(1)
        daemon.wait_log(r"no valid frame from tcp:127\.0\.0\.1:\d+ for 2 s, reconnecting")
        bridge.wait_client(2, timeout=5)
        bridge.wait_client(3, timeout=10)
        # Said once while it lasts.
        said = [t for _, t in daemon.lines() if "reconnecting" in t]
        self.assertEqual(len(said), 1, said)
        bridge.send(data * 2)
        self.frames(3)
        diag = self.diagnostics(lambda d: d["line"] == "ok" and d["reconnects"] >= 2)
        self.assertEqual(diag["speed"], 0)

    def test_garbage_from_a_bridge_at_the_wrong_speed(self):
        # A bridge reading a 1200 Bd meter at 9600 Bd hands over bytes that never frame.
        bridge = Bridge()
        self.addCleanup(bridge.close)
        daemon = self.start(bridge)
        bridge.wait_client(1)
        noise = bytes((b * 37 + 11) & 0xff for b in range(512))
        for _ in range(12):
            bridge.send(noise, chunk=128, pace=0.05)
        daemon.wait_log(r"bytes but no valid frame from tcp:127\.0\.0\.1:\d+: noise, or the "
                        r"bridge reads the meter at the wrong speed")
        diag = self.diagnostics(lambda d: d["line"] == "garbage")
        self.assertEqual(diag["mode"], "detecting")
        self.assertEqual(self.sub.payloads("linky"), [])
        self.assertEqual(bridge.accepted, 1)


if __name__ == "__main__":
    h.main()
