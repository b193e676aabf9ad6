#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The D2L input end to end: linkyd serving Eesmart D2L modules on 127.0.0.1, a real mosquitto and
a real subscriber. The modules are played by this file: each connects as a D2L does, asks the
time, then pushes the frames of a real capture as a D2L writes them (JSON, encrypted with
AES-128-CBC by Debian's `openssl enc`, CRC-16/MODBUS computed here), reading each answer and
checking that it decrypts to the clock. What must arrive on MQTT is what `linkyd --decode` finds
in the capture itself; Home Assistant discovery announces each meter. A wrong key and a module no
meter has are refused and said once. Run by CTest, or by hand:
LINKYD=build/linkyd python3 tests/integration/test_d2l.py [-k NAME]. Exits 77 (skipped) when
mosquitto or openssl is missing.
"""
import json
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

EPOCH_2016 = 1451606400
PUSH_JSON, GET_HORLOGE = 0x03, 0x05


def crc_modbus(data, crc=0xFFFF):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame_crc(frame):
    """The CRC of a plain frame: every byte but the CRC's own two (32 and 33)."""
    return crc_modbus(frame[34:], crc_modbus(frame[:32]))


def aes(data, key, iv, decrypt=False):
    """AES-128-CBC without padding, by the openssl command."""
    args = ["openssl", "enc", "-aes-128-cbc", "-K", key, "-iv", iv, "-nopad"]
    r = subprocess.run(args + (["-d"] if decrypt else []), input=data, capture_output=True,
                       check=True, timeout=10)
    return r.stdout


class Module:
    """A D2L module: a TCP client of linkyd's listener, sending requests one at a time."""

    def __init__(self, port, d2l_id, key, iv):
        self.id, self.key, self.iv = d2l_id, key, iv
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)

    def request(self, ptype, payload=b""):
        self.sock.sendall(self.encode(ptype, payload))

    def encode(self, ptype, payload):
        """A request as the module sends it: its header in clear, the rest encrypted."""
        size = (38 + len(payload) + 15) // 16 * 16
        frame = bytearray(size)
        struct.pack_into("<BBHQB", frame, 0, 3, 0, size, self.id, 1)
        frame[16:32] = secrets.token_bytes(16)
        struct.pack_into("<HBB", frame, 34, len(payload), ptype, 0)
        frame[38:38 + len(payload)] = payload
        struct.pack_into("<H", frame, 32, frame_crc(frame))
        return bytes(frame[:16]) + aes(bytes(frame[16:]), self.key, self.iv)

    def answer(self, ptype):
        """The answer to a request of ptype, checked: the clock it carries (2016 epoch)."""
        data = b""
        while len(data) < 48:
            chunk = self.sock.recv(48 - len(data))
            if not chunk:
                raise AssertionError("linkyd closed the connection instead of answering")
            data += chunk
        plain = data[:16] + aes(data[16:], self.key, self.iv, decrypt=True)
        version, _, size, d2l_id, method = struct.unpack_from("<BBHQB", plain)
        crc, length, rtype, nxt, clock = struct.unpack_from("<HHBBI", plain, 32)
        assert (version, size, d2l_id, method) == (3, 48, self.id, 1), plain.hex()
        assert crc == frame_crc(plain), "the answer's CRC"
        assert (length, rtype, nxt) == (4, ptype | 0x80, 0), plain.hex()
        return clock

    def closed(self, timeout=5):
        """Whether linkyd closed the connection (without answering) within timeout."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def d2l_payload(raw, mode, d2l_id):
    """The JSON a D2L pushes for a frame whose `linkyd --decode --format raw` is raw: meta keys,
    every label as a string ("horodate|value", DATE's horodate alone), a monophasé meter's IINST
    as IINST1 without its zeros (IINST2 and IINST3 "0"), SINSTSn as SINSTn, and the labels it
    lists for any meter as "" or "|"."""
    hist = mode == "historique"
    out = {"_TYPE_TRAME": "HISTORIQUE" if hist else "STANDARD", "_ID_D2L": f"{d2l_id:012d}",
           "_DATE_FIRMWARE": "Jul 7 2017"}
    for label, value in raw.items():
        if hist and label == "IINST":
            out.update(IINST1=value.lstrip("0") or "0", IINST2="0", IINST3="0")
            continue
        if not hist and label == "DATE":
            value = value.rstrip("|")
        if not hist and label.startswith("SINSTS") and len(label) == 7:
            label = "SINST" + label[6]
        out[label] = value
    for label, value in (("BBRHCJB", ""), ("ADIR1", "")) if hist else (("SMAXSN2", "|"),
                                                                        ("EAIT", "")):
        out.setdefault(label, value)
    out["_HORLOGE"] = str(int(time.time()) - EPOCH_2016)
    return ("{ " + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in out.items())
            + " }").encode()


def capture_frames(name, n):
    """The first n frames of a capture: [(D2L payload maker, expected typed frame)]."""
    data = h.capture(name)
    typed = [json.loads(line) for line in h.decode(data, "typed")][:n]
    raw = [json.loads(line) for line in h.decode(data, "raw")][:n]
    return [(r, t["_mode"], t) for r, t in zip(raw, typed)]


KEY_A, IV_A = "12341234123412341234123412341234", "fc91837fa2bdba1f9fe985452fdb925e"
KEY_B, IV_B = "000102030405060708090a0b0c0d0e0f", "f0e0d0c0b0a090807060504030201000"
ID_A, ID_B = 11601000001, 11601000002


class D2L(unittest.TestCase):

    def rig(self, port):
        def meter(name, d2l_id, key, iv):
            return (f'{{ name = "{name}"; input = "d2l:127.0.0.1:{port}"; '
                    f'd2l_id = "{d2l_id:012d}"; key = "{key}"; iv = "{iv}"; '
                    f'topic = "linky/{name}"; publish = {{ index_guard = false; }}; }}')
        conf = (f"meters = ( {meter('hist', ID_A, KEY_A, IV_A)},\n"
                f"           {meter('std', ID_B, KEY_B, IV_B)} );\n")
        rig = h.Rig(self, conf=conf, ready=False)
        rig.daemon.wait_log(r"listening for D2L modules")
        rig.daemon.wait_log(r"connected to \S+ as")
        return rig

    def push(self, rig, module, topic, frames):
        """Push frames as the module; return (arrived, expected) as dicts."""
        before = len(rig.sub.payloads(topic))
        for raw, mode, _ in frames:
            module.request(PUSH_JSON, d2l_payload(raw, mode, module.id))
            now = int(time.time()) - EPOCH_2016
            self.assertLessEqual(abs(module.answer(PUSH_JSON) - now), 2)
        got = rig.sub.wait_count(topic, before + len(frames), 10)[before:]
        return [json.loads(p) for p in got], [t for _, _, t in frames]

    def test_two_modules_one_port(self):
        port = h.free_port()
        rig = self.rig(port)
        a = Module(port, ID_A, KEY_A, IV_A)
        b = Module(port, ID_B, KEY_B, IV_B)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        # As a D2L starts: the time first, then frames, each answered on the same connection.
        for m in (a, b):
            m.request(GET_HORLOGE)
            self.assertLessEqual(abs(m.answer(GET_HORLOGE) - (int(time.time()) - EPOCH_2016)), 2)
        hist = capture_frames("historique-hchp-mono-01.tic", 5)
        std = capture_frames("standard-tri-tempo-noise-01.tic", 3)
        got, want = self.push(rig, a, "linky/hist", hist)
        self.assertEqual(got, want)
        got, want = self.push(rig, b, "linky/std", std)
        self.assertEqual(got, want)
        rig.daemon.wait_log(r"meter 'hist': historique mode")
        rig.daemon.wait_log(r"meter 'std': standard mode")

        # Home Assistant: one device per meter, an entity per label, on the meter's topic.
        for topic, frame in (("linky/hist", hist[0][2]), ("linky/std", std[0][2])):
            serial = frame.get("ADCO") or frame.get("ADSC")
            for label in ("HCHC", "PAPP") if topic == "linky/hist" else ("EAST", "SINSTS"):
                cfg = f"homeassistant/sensor/linkyd_{serial}/{label.lower()}/config"
                rig.sub.wait_for(lambda msgs, cfg=cfg: any(m.topic == cfg for m in msgs), 10,
                                 cfg)
                c = json.loads(rig.sub.payloads(cfg)[-1])
                self.assertEqual(c["state_topic"], topic)
                self.assertEqual(c["availability_topic"], topic + "/status")
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])

    def test_refused(self):
        port = h.free_port()
        rig = self.rig(port)
        payload = d2l_payload(*capture_frames("standard-mono-base-01.tic", 1)[0][:2], ID_B)
        # The std meter's id with the other key: refused each time, said once.
        for _ in range(3):
            m = Module(port, ID_B, KEY_A, IV_A)
            m.request(PUSH_JSON, payload)
            self.assertTrue(m.closed())
            m.close()
        # A module no meter has.
        for _ in range(2):
            m = Module(port, 11601000099, KEY_A, IV_A)
            m.request(GET_HORLOGE)
            self.assertTrue(m.closed())
            m.close()
        rig.daemon.wait_log(r"refusing D2L module 011601000099")
        warnings = rig.daemon.at_most(h.LOG_WARNING)
        self.assertEqual(sum("do not decrypt" in w for w in warnings), 1, warnings)
        self.assertEqual(sum("011601000099" in w for w in warnings), 1, warnings)
        self.assertEqual(rig.sub.payloads("linky/std"), [])
        # The right key: through.
        m = Module(port, ID_B, KEY_B, IV_B)
        self.addCleanup(m.close)
        m.request(PUSH_JSON, payload)
        m.answer(PUSH_JSON)
        rig.sub.wait_count("linky/std", 1, 10)


if __name__ == "__main__":
    if not h.tool("openssl"):
        print("skipped: openssl not installed", file=sys.stderr)
        sys.exit(77)
    h.main()
