#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The HTTP API end to end: the daemon reading real captures through a pty, a real mosquitto, and
HTTP clients on 127.0.0.1. The Eco-Devices XML is read the way each consumer reads it:

  - Domoticz (hardware/EcoDevices.cpp): every "T1_" ("T2_") substring of the body removed, then
    /response/LABEL/text(), strings condensed, numbers through atoi();
  - pyecodevices (Home Assistant's ecodevices integration): xmltodict over expat, status.xml then
    teleinfo1.xml then teleinfo2.xml merged with dict.update(), float() on the index keys.

What they must read is worked out here from `linkyd --decode` of the same bytes and the rules of
docs/ecodevice.md (the standard-mode projection of its §5 written again, independently).
Also: Basic authentication, keep-alive, /status.json, and clients that misbehave while a meter
streams. Exits 77 (skipped) when mosquitto is not installed.
"""
import base64
import http.client
import json
import os
import re
import select
import socket
import sys
import threading
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

FIELDS = ("ADCO OPTARIF ISOUSC BASE HCHC HCHP EJPHN EJPHPM BBRHCJB BBRHPJB BBRHCJW BBRHPJW "
          "BBRHCJR BBRHPJR PEJP PTEC DEMAIN IINST IINST1 IINST2 IINST3 ADPS IMAX IMAX1 IMAX2 "
          "IMAX3 PPAP PAPP HHPHC MOTDETAT PPOT").split()
TEXTS = {"ADCO", "OPTARIF", "PTEC", "DEMAIN", "HHPHC", "MOTDETAT", "PPOT"}
# What the real device serves for an input without a meter (Aohzan/ecodevices #35).
EMPTY = {"ADCO": "----", "OPTARIF": "----", "PTEC": "----", "DEMAIN": "----", "HHPHC": "-",
         "MOTDETAT": "----", "PPOT": "-"}
# Domoticz: the strings it reads, and the numbers it reads through atoi().
DOMOTICZ_STRINGS = ("OPTARIF", "PTEC", "DEMAIN")
DOMOTICZ_NUMBERS = ("ISOUSC PAPP BASE HCHC HCHP EJPHN EJPHPM BBRHCJB BBRHPJB BBRHCJW BBRHPJW "
                    "BBRHCJR BBRHPJR PEJP IINST IINST1 IINST2 IINST3 PPOT ADPS").split()
# The integration reads these with data[...] and float(): always present and numeric.
HA_FLOATS = "BASE HCHC HCHP BBRHCJB BBRHPJB BBRHCJW BBRHPJW BBRHCJR BBRHPJR".split()


# ---- HTTP ------------------------------------------------------------------------------------

def get(port, path, auth=None, source="127.0.0.1", conn=None, timeout=5):
    """GET path; returns (status, headers dict lower-cased, body bytes)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                          source_address=(source, 0))
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(
            f"{auth[0]}:{auth[1]}".encode()).decode()
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        if own:
            conn.close()


def http_conf(port, extra=""):
    return f'http = {{ listen = "127.0.0.1:{port}"; {extra} }};\n'


# ---- the two consumers -------------------------------------------------------------------------

def atoi(s):
    """C's atoi(): leading blanks, a sign, digits; 0 when there are none."""
    m = re.match(r"\s*([+-]?\d+)", s or "")
    return int(m.group(1)) if m else 0


def domoticz(body, n):
    """{LABEL: text} as Domoticz reads teleinfoN.xml (TinyXML forces UTF-8)."""
    root = ET.fromstring(body.decode("utf-8").replace(f"T{n}_", ""))
    assert root.tag == "response"
    out = {}
    for label in FIELDS:
        node = root.find(label)
        out[label] = " ".join((node.text or "").split()) if node is not None else None
    return out


def xmltodict(body):
    """xmltodict.parse(body)["response"]: children by tag, text stripped, None when empty,
    repeated tags as lists. expat under both, so what one refuses the other does too."""
    root = ET.fromstring(body)
    assert root.tag == "response" and len(root) > 0
    out = {}
    for child in root:
        assert len(child) == 0, f"nested element in {child.tag}"
        text = (child.text or "").strip() or None
        if child.tag in out:
            prev = out[child.tag]
            out[child.tag] = (prev if isinstance(prev, list) else [prev]) + [text]
        else:
            out[child.tag] = text
    return out


def pyecodevices_poll(port, auth=None, conn=None):
    """global_get(): status.xml, teleinfo1.xml, teleinfo2.xml merged in that order."""
    data = {}
    for path in ("/status.xml", "/protect/settings/teleinfo1.xml",
                 "/protect/settings/teleinfo2.xml"):
        status, headers, body = get(port, path, auth, conn=conn)
        assert status == 200, (path, status)
        body.decode("ascii")  # aiohttp decodes with the charset; ASCII suits any
        part = xmltodict(body)
        if "teleinfo2" in path:
            assert all(k.startswith("T2_") for k in part), "a T1_ key in teleinfo2.xml"
        data.update(part)
    return data


# ---- what they must read -----------------------------------------------------------------------

def last_complete(frames):
    """The last decoded frame that is not a three-phase meter's short ADIR frame."""
    return next(f for f in reversed(frames) if not any(k.startswith("ADIR") for k in f))


def expected_historique(f):
    e = {k: (EMPTY[k] if k in TEXTS else 0) for k in FIELDS}
    e.update({"OPTARIF": "BASE", "PTEC": "TH..", "HHPHC": "A", "MOTDETAT": "000000",
              "PPOT": "00"})
    for k in FIELDS:
        if k in f:
            e[k] = f[k] if k in TEXTS else int(f[k])
    e["PPAP"] = int(f.get("PAPP", 0))
    if "IINST1" in f:
        e["IINST"] = 0
    elif "IINST" in f:
        e["IINST1"] = int(f["IINST"])
    return e


def expected_standard(f, category=None):
    """docs/ecodevice.md §5, written from the table."""
    ngtf = f.get("NGTF", "").strip().upper()
    if category is None:
        if "TEMPO" in ngtf:
            category = "tempo"
        elif "EJP" in ngtf:
            category = "ejp"
        elif (any(s in ngtf for s in ("H PLEINE/CREUSE", "H SUPER CREUSES", "HC SEM ET HC WE",
                                      "CREUSE")) or re.search(r"\bH[CP]\b", ngtf)) \
                and "EASF02" in f:
            category = "hc"
        else:
            category = "base"
    tri = "IRMS2" in f or "IRMS3" in f
    e = {k: (EMPTY[k] if k in TEXTS else 0) for k in FIELDS}
    e.update({"HHPHC": "A", "MOTDETAT": "000000", "PPOT": "00", "DEMAIN": "----"})
    e["ADCO"] = f["ADSC"]
    e["OPTARIF"] = {"base": "BASE", "hc": "HC..", "ejp": "EJP.", "tempo": "BBR("}[category]
    e["BASE"] = f.get("EAST", 0)
    easf = [f.get(f"EASF{i:02d}", 0) for i in range(1, 7)]
    ntarf = f.get("NTARF", 0)
    if category == "hc":
        e["HCHC"], e["HCHP"] = easf[0], easf[1]
        e["PTEC"] = {1: "HC..", 2: "HP.."}[ntarf]
    elif category == "ejp":
        e["EJPHN"], e["EJPHPM"] = easf[0], easf[1]
        e["PTEC"] = {1: "HN..", 2: "PM.."}[ntarf]
    elif category == "tempo":
        for i, k in enumerate("BBRHCJB BBRHPJB BBRHCJW BBRHPJW BBRHCJR BBRHPJR".split()):
            e[k] = easf[i]
        e["PTEC"] = ["HCJB", "HPJB", "HCJW", "HPJW", "HCJR", "HPJR"][ntarf - 1]
        e["DEMAIN"] = {"none": "----", "bleu": "BLEU", "blanc": "BLAN", "rouge": "ROUG"}[
            f["STGE"]["tempo_tomorrow"]]
    else:
        e["PTEC"] = "TH.."
    e["PAPP"] = e["PPAP"] = f.get("SINSTS", 0)
    e["ISOUSC"] = round(f["PREF"] * 5 / 3) if tri else f["PREF"] * 5
    e["IINST1"] = f.get("IRMS1", 0)
    if tri:
        e["IINST2"], e["IINST3"] = f.get("IRMS2", 0), f.get("IRMS3", 0)
    else:
        e["IINST"] = f.get("IRMS1", 0)
    return e


class Consumers(unittest.TestCase):
    """Every field each consumer reads, for historique and standard captures."""

    def rig(self, extra="", meter=""):
        self.port = h.free_port()
        return h.Rig(self, conf=http_conf(self.port, extra), meter=meter)

    def check_domoticz(self, expected, n=1):
        """Domoticz's sequence: status.xml, then teleinfoN.xml while TN_PTEC is not ----."""
        status, _, body = get(self.port, "/status.xml")
        self.assertEqual(status, 200)
        root = ET.fromstring(body)
        version = [atoi(p) for p in root.find("version").text.split(".")]
        self.assertGreaterEqual(version, [1, 5, 12])
        self.assertTrue(root.find("config_hostname").text.strip())
        for counter in ("count0", "count1", "meter2", "meter3"):
            self.assertEqual(atoi(root.find(counter).text), 0)
        ptec = root.find(f"T{n}_PTEC").text
        self.assertNotEqual(ptec, "----", "a known meter's PTEC gates teleinfoN.xml")
        status, _, body = get(self.port, f"/protect/settings/teleinfo{n}.xml")
        self.assertEqual(status, 200)
        got = domoticz(body, n)
        for label in DOMOTICZ_STRINGS:
            self.assertEqual(got[label], expected[label], label)
        for label in DOMOTICZ_NUMBERS:
            self.assertEqual(atoi(got[label]), expected[label] if label != "PPOT"
                             else atoi(expected[label]), label)
        # What Domoticz then does with them.
        opt = got["OPTARIF"]
        self.assertTrue(opt in ("BASE", "HC..", "EJP.") or opt.startswith("BBR"), opt)
        self.assertIn(got["PTEC"][:2], ("TH", "HC", "HP", "HN", "PM"))
        if opt.startswith("BBR"):
            self.assertIn(got["PTEC"][3], "BWR")
        self.assertIn(got["DEMAIN"], ("----", "BLEU", "BLAN", "ROUG"))
        self.assertGreater(atoi(got["ISOUSC"]), 0)
        self.assertGreater(atoi(got["PAPP"]) + 1, 0)
        return got

    def check_pyecodevices(self, expected):
        info = xmltodict(get(self.port, "/status.xml")[2])  # get_info()
        self.assertIn("version", info)
        self.assertRegex(info["config_mac"], r"^([0-9A-F]{2}:){5}[0-9A-F]{2}$")
        data = pyecodevices_poll(self.port)
        for label in FIELDS:
            key = "T1_" + label
            self.assertIn(key, data)
            want = expected[label]
            if label in TEXTS:
                self.assertEqual(data[key], want, key)
            else:
                self.assertEqual(float(data[key]), float(want), key)
        for label in HA_FLOATS:
            float(data["T1_" + label])
        self.assertEqual(data["T2_PTEC"], "----")
        self.assertEqual(data["T2_ADCO"], "----")
        self.assertEqual(data["T2_PPOT"], "-")
        return data

    def check_capture(self, rig, name, expect):
        rig.feed(h.capture(name))
        frames = [json.loads(x) for x in h.decode(bytes(rig.line))]
        e = expect(last_complete(frames))
        self.check_domoticz(e)
        data = self.check_pyecodevices(e)
        # Idempotent: the same answer again, to every client.
        self.assertEqual(pyecodevices_poll(self.port), data)
        return data

    def test_historique(self):
        rig = self.rig()
        data = self.check_capture(rig, "historique-hchp-mono-01.tic", expected_historique)
        self.assertTrue(data["T1_PTEC"].startswith("HP") or data["T1_PTEC"].startswith("HC"))
        data = self.check_capture(rig, "historique-tempo-mono-01.tic", expected_historique)
        self.assertIn(data["T1_PTEC"][-2:], ("JB", "JW", "JR"))
        # Three-phase, its short ADIR frames last: the complete frame's values stay served.
        data = self.check_capture(rig, "historique-hchp-tri-adir-01.tic", expected_historique)
        self.assertEqual(data["T1_IINST"], "0")
        self.assertEqual(data["T1_HCHC"], "15558379")

    def test_standard(self):
        rig = self.rig()
        data = self.check_capture(rig, "standard-mono-base-01.tic", expected_standard)
        self.assertEqual(data["T1_OPTARIF"], "BASE")
        data = self.check_capture(rig, "standard-mono-prod-hchp-noise-01.tic", expected_standard)
        self.assertEqual((data["T1_OPTARIF"], data["T1_PTEC"]), ("HC..", "HP.."))
        data = self.check_capture(rig, "standard-tri-tempo-noise-01.tic", expected_standard)
        self.assertEqual((data["T1_OPTARIF"], data["T1_PTEC"], data["T1_DEMAIN"],
                          data["T1_ISOUSC"]), ("BBR(", "HCJW", "BLEU", "50"))

    def test_category_setting(self):
        # A contract whose NGTF the guess does not know: the meter's optarif says.
        rig = self.rig(meter='optarif = "hc";')
        rig.feed(h.capture("standard-mono-base-01.tic"))
        frames = [json.loads(x) for x in h.decode(bytes(rig.line))]
        e = expected_standard(last_complete(frames), "hc")
        self.check_domoticz(e)
        self.check_pyecodevices(e)

    def test_before_any_frame(self):
        rig = self.rig()
        self.assertIsNotNone(rig)
        data = pyecodevices_poll(self.port)
        # No frame yet: input 1 is an empty input too, so Domoticz asks for neither.
        self.assertEqual(data["T1_PTEC"], "----")
        for label in HA_FLOATS:
            self.assertEqual(float(data["T1_" + label]), 0.0)


class Inputs(unittest.TestCase):
    """Two meters: inputs 1 and 2 in the configuration's order, or as http.teleinfoN says."""

    def two_meters(self, http_extra=""):
        self.port = h.free_port()

        def conf(d):
            self.pty2 = h.Pty(d, "tic2")
            self.addCleanup(self.pty2.close)
            return (http_conf(self.port, http_extra) +
                    f'meters = ( {{ name = "conso"; input = "{d}/tic"; topic = "linky"; '
                    f'publish = {{ index_guard = false; }}; }},\n'
                    f'  {{ name = "prod"; input = "{self.pty2.link}"; topic = "prod"; }} );\n')
        rig = h.Rig(self, conf=conf, ready=False)
        rig.daemon.wait_log(r"reading .*/tic at \d+ Bd", 10)
        rig.daemon.wait_log(r"reading .*/tic2 at \d+ Bd", 10)
        rig.feed(h.capture("historique-hchp-mono-01.tic"))
        prod = h.capture("standard-mono-prod-hchp-noise-01.tic")
        self.pty2.write(prod)
        rig.sub.wait_count("prod", len(h.decode(prod)), 10)
        return rig

    def inputs(self):
        data = pyecodevices_poll(self.port)
        return data["T1_ADCO"], data["T2_ADCO"], data

    def test_configuration_order(self):
        self.two_meters()
        t1, t2, data = self.inputs()
        self.assertEqual((t1[:2], len(t2)), (t1[:2], 12))
        self.assertEqual(data["T1_OPTARIF"], "HC..")  # the historique meter
        self.assertEqual(data["T2_OPTARIF"], "HC..")  # the standard one, projected
        self.assertNotEqual(data["T2_PTEC"], "----")  # Domoticz reads teleinfo2.xml too
        got = domoticz(get(self.port, "/protect/settings/teleinfo2.xml")[2], 2)
        self.assertEqual(atoi(got["HCHP"]), int(data["T2_HCHP"]))

    def test_named(self):
        self.two_meters('teleinfo1 = "prod";')
        _, _, data = self.inputs()
        self.assertEqual(data["T1_PTEC"], "HP..")  # the standard meter: NTARF 2
        self.assertEqual(data["T1_ISOUSC"], "60")  # PREF 12 kVA
        self.assertEqual(data["T2_ISOUSC"], "45")  # the historique meter's own


class Auth(unittest.TestCase):
    """Basic authentication: the challenge Domoticz's curl needs, the preemptive header
    pyecodevices sends, wrong and malformed credentials."""

    def setUp(self):
        self.port = h.free_port()
        self.rig = h.Rig(self, conf=http_conf(self.port, 'username = "eco"; password = "s3cr:t";'
                                              ' realm = "Eco Devices";'))

    def test_challenge(self):
        for path in ("/status.xml", "/protect/settings/teleinfo1.xml", "/metrics",
                     "/status.json", "/nowhere"):
            status, headers, body = get(self.port, path)
            self.assertEqual(status, 401, path)
            self.assertRegex(headers["www-authenticate"], r'^Basic realm="Eco Devices"')
            self.assertTrue(body)

    def test_preemptive(self):
        data = pyecodevices_poll(self.port, auth=("eco", "s3cr:t"))
        self.assertEqual(data["T2_PTEC"], "----")

    def test_wrong(self):
        for auth in (("eco", "wrong"), ("ECO", "s3cr:t"), ("eco", "s3cr:t "), ("eco", ""),
                     ("", "s3cr:t")):
            status, headers, _ = get(self.port, "/status.xml", auth)
            self.assertEqual(status, 401, auth)
            self.assertIn("www-authenticate", headers)
        for header in ("Basic", "Basic !!!!", "Bearer abc", "Basic ZWNvOnMzY3I6dA== x",
                       "basic " + base64.b64encode(b"eco").decode()):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/status.xml", headers={"Authorization": header})
            self.assertEqual(conn.getresponse().status, 401, header)
            conn.close()

    def test_curl_like_domoticz(self):
        """curl with CURLAUTH_BASIC|CURLAUTH_DIGEST: no credentials, then Basic after the 401."""
        import shutil
        import subprocess
        if not shutil.which("curl"):
            self.skipTest("curl not installed")
        r = subprocess.run(["curl", "-sS", "--anyauth", "-u", "eco:s3cr:t", "-o", "-",
                            "-w", "%{http_code}", f"http://127.0.0.1:{self.port}/status.xml"],
                           capture_output=True, timeout=10)
        self.assertTrue(r.stdout.endswith(b"200"), r.stdout + r.stderr)
        self.assertIn(b"<config_mac>", r.stdout)


class Transport(unittest.TestCase):
    """Keep-alive with Content-Length, HEAD, methods, unknown paths, /status.json."""

    def setUp(self):
        self.port = h.free_port()
        self.rig = h.Rig(self, conf=http_conf(self.port))
        self.rig.feed(h.capture("standard-tri-tempo-noise-01.tic"))

    def test_keep_alive(self):
        # aiohttp's session: the three requests of a poll, and the next poll, on one socket.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        self.addCleanup(conn.close)
        first = pyecodevices_poll(self.port, conn=conn)
        sock = conn.sock
        for path in ("/status.xml", "/protect/settings/teleinfo1.xml",
                     "/protect/settings/teleinfo2.xml", "/metrics", "/status.json"):
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            self.assertEqual(r.status, 200)
            self.assertEqual(int(r.getheader("Content-Length")), len(body), path)
            self.assertFalse(r.will_close, path)
            self.assertIs(conn.sock, sock, "the connection was reopened")
        self.assertEqual(pyecodevices_poll(self.port, conn=conn), first)

    def test_methods_and_paths(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        self.addCleanup(conn.close)
        conn.request("HEAD", "/status.xml")
        r = conn.getresponse()
        self.assertEqual((r.status, r.read()), (200, b""))
        self.assertGreater(int(r.getheader("Content-Length")), 0)
        conn.request("DELETE", "/status.xml")
        r = conn.getresponse()
        r.read()
        self.assertEqual((r.status, r.getheader("Allow")), (405, "GET, HEAD"))
        self.assertEqual(get(self.port, "/status.xml?x=1&y")[0], 200)
        for path in ("/protect/settings/teleinfo3.xml", "/status.xml/", "/STATUS.XML", "//"):
            self.assertEqual(get(self.port, path)[0], 404, path)
        # A body: dropped with its connection (no route takes one).
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        self.addCleanup(conn.close)
        conn.request("POST", "/status.xml", body=b"x" * 100000)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse().read()
        self.assertEqual(get(self.port, "/status.xml")[0], 200)

    def test_status_json(self):
        status, headers, body = get(self.port, "/status.json")
        self.assertEqual((status, headers["content-type"]), (200, "application/json"))
        doc = json.loads(body)
        (m,) = doc["meters"]
        self.assertEqual(m["name"], "meter")
        self.assertEqual(json.dumps(m["frame"], separators=(",", ":")),
                         h.decode(bytes(self.rig.line))[-1])
        self.assertEqual(m["line"]["state"], "ok")
        self.assertEqual((m["line"]["mode"], m["line"]["baud"]), ("standard", 9600))
        self.assertGreater(m["line"]["frames"], 0)
        self.assertEqual(m["line"]["errors"]["checksum"] + m["line"]["errors"]["format"] > 0,
                         True)  # the capture's noise
        self.assertTrue(m["mqtt"]["connected"])
        self.assertTrue(m["derived"]["_derived"])
        self.assertLess(m["line"]["last_frame_age"], 10)


def connect(port, source, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    return s


def closed_by_peer(sock, timeout):
    """Whether the server closes sock (EOF or reset) within timeout s; what it sent first."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True, data
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return True, data
    except socket.timeout:
        return False, data


class Misbehaving(unittest.TestCase):
    """Slow and hostile clients while a meter streams faster than any real one: not one frame
    lost or late on MQTT, and an honest client still served."""

    def test_hostile_clients(self):
        port = h.free_port()
        rig = h.Rig(self, conf=http_conf(port, "max_connections = 24; max_per_ip = 4; "
                                         "timeout = 2;"))
        stream = h.Stream(rig.pty, h.standard_frame, interval=0.02)
        stream.start()
        self.addCleanup(stream.stop)
        stop = threading.Event()
        errors = []
        served = []

        def slowloris():
            # Four connections from one address, a header byte every 0.3 s: never idle for the
            # timeout, never complete.
            socks = [connect(port, "127.0.0.2") for _ in range(4)]
            for s in socks:
                s.sendall(b"GET /status.xml HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            while not stop.wait(0.3):
                for s in socks:
                    try:
                        s.sendall(b"a")
                    except OSError:
                        pass
            for s in socks:
                s.close()

        def honest():
            while not stop.wait(0.1):
                t0 = time.monotonic()
                try:
                    status, _, body = get(port, "/status.xml", timeout=3)
                    served.append((status, time.monotonic() - t0))
                except OSError as e:
                    errors.append(e)

        threads = [threading.Thread(target=f, daemon=True) for f in (slowloris, honest)]
        for t in threads:
            t.start()

        # 1 MB of headers: refused once the connection's memory is full, and closed.
        big = connect(port, "127.0.0.3")
        try:
            big.sendall(b"GET /status.xml HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20))
        except (ConnectionResetError, BrokenPipeError):
            pass
        closed, answer = closed_by_peer(big, 5)
        self.assertTrue(closed, "a 1 MB header was kept open")
        self.assertTrue(answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:80])
        big.close()

        # Silent connections: closed after the timeout.
        idle = [connect(port, "127.0.0.4") for _ in range(2)]
        # A thousand connections from one address: all but max_per_ip closed at once.
        flood = []
        for _ in range(1000):
            try:
                flood.append(connect(port, "127.0.0.5", timeout=2))
            except OSError:
                pass
        self.assertGreater(len(flood), 0)
        refused = sum(closed_by_peer(s, 0.01)[0] for s in flood)
        self.assertGreaterEqual(refused, len(flood) - 4)
        for s in flood:
            s.close()
        for s in idle:
            closed, _ = closed_by_peer(s, 5)
            self.assertTrue(closed, "an idle connection outlived the timeout")
            s.close()

        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(10)
        written = stream.stop()
        expected = h.decode(bytes(stream.data))
        rig.sub.wait_for(lambda _: len(rig.frames()) >= len(expected), 10, "every frame")
        self.assertEqual(rig.frames(), expected)
        arrived = rig.arrivals()
        late = [(i, arrived[i] - when) for i, when in stream.written if arrived[i] - when > 1.0]
        self.assertEqual(late, [], "frames late on MQTT")
        self.assertGreater(len(written), 100)
        self.assertEqual(errors, [])
        self.assertGreater(len(served), 10)
        self.assertTrue(all(status == 200 for status, _ in served))
        self.assertLess(max(t for _, t in served), 1.0)

    def test_connection_limit(self):
        port = h.free_port()
        rig = h.Rig(self, conf=http_conf(port, "max_connections = 8; timeout = 2;"))
        # Eight idle connections from eight addresses fill the server.
        held = [connect(port, f"127.0.0.{10 + i}") for i in range(8)]
        time.sleep(0.3)
        cpu = rig.daemon.cpu_seconds()
        t0 = time.monotonic()
        # The ninth waits (or is refused) until the idle ones time out, then is served.
        status = None
        while status is None and time.monotonic() - t0 < 8:
            try:
                status, _, _ = get(port, "/status.xml", timeout=8)
            except OSError:
                time.sleep(0.1)
        self.assertEqual(status, 200)
        self.assertGreater(time.monotonic() - t0, 1.0, "served over the connection limit")
        # Full, the server does not spin: a busy loop would burn the whole wait.
        self.assertLess(rig.daemon.cpu_seconds() - cpu, 0.5)
        for s in held:
            self.assertTrue(closed_by_peer(s, 5)[0])
            s.close()


class Reload(unittest.TestCase):
    """SIGHUP applies the http group without restarting a meter: authentication on, a new
    address; a port another process holds keeps the running server."""

    def test_reload(self):
        import signal
        port, port2 = h.free_port(), h.free_port()
        rig = h.Rig(self, conf=http_conf(port))
        rig.feed(h.capture("historique-tempo-mono-01.tic"))
        self.assertEqual(get(port, "/status.xml")[0], 200)

        def reload(extra):
            mark = rig.daemon.mark()
            rig.daemon.conf_extra = extra
            rig.daemon.write_config(rig.topic)
            rig.daemon.signal(signal.SIGHUP)
            return rig.daemon.wait_log(r"configuration reloaded \(1 meter\(s\), (\d+) restarted",
                                       10, after=mark)

        secret = os.path.join(rig.dir, "http.secret")
        with open(secret, "w") as f:
            f.write("from-file\n")
        restarted = reload(http_conf(port, f'username = "eco"; password_file = "{secret}";'))
        self.assertEqual(restarted.group(1), "0")
        self.assertEqual(get(port, "/status.xml")[0], 401)
        self.assertEqual(get(port, "/status.xml", ("eco", "from-file"))[0], 200)

        reload(http_conf(port2))
        self.assertEqual(get(port2, "/status.xml")[0], 200)
        with self.assertRaises(ConnectionRefusedError):
            get(port, "/status.xml")

        # A port taken: said, and the running server carries on.
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        rig.allowed_errors += [r"cannot listen on", r"HTTP API could not take"]
        reload(http_conf(taken.getsockname()[1]))
        self.assertEqual(get(port2, "/status.xml")[0], 200)
        self.assertIn("Address already in use", rig.daemon.log())

        reload("")
        with self.assertRaises(ConnectionRefusedError):
            get(port2, "/status.xml")
        self.assertTrue(rig.daemon.alive())


class Startup(unittest.TestCase):
    def test_port_taken(self):
        """A taken port stops the start with the configuration's status, before any meter."""
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        rig = h.Rig(self, conf=http_conf(taken.getsockname()[1]), ready=False)
        rig.allowed_errors += [r"cannot listen on"]
        rig.daemon.proc.wait(10)
        self.assertEqual(rig.daemon.proc.returncode, h.EX_CONFIG)
        self.assertRegex(rig.daemon.log(), r"cannot listen on 127\.0\.0\.1:\d+ \(http\.listen, "
                         r"\S+linkyd\.conf:\d+\): Address already in use")
        self.assertIsNone(h.retained(rig.broker, rig.topic + "/status", timeout=1))


if __name__ == "__main__":
    h.main()
