#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
linkyd --doctor against each failure it claims to detect, made real: a bad configuration, a
missing device, a regular file, a pty its user cannot read, another program and a running daemon
holding it, valid captures, garbage, noise, odd parity, silence, a mode the meter does not send,
a TCP bridge, a D2L port free and taken, a broker down, with a password and with TLS (right and
wrong), Home Assistant's birth message, discovery off and configs a real daemon published. What
cannot be made real here (the kernel's console, a getty, ModemManager, the installed unit, the
drivers) comes from fixtures through the doctor's test-only environment variables
(src/doctor/doctor.h). Exits 77 (skipped) without mosquitto.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

EX_CONFIG = 78
LISTEN_MS = 800  # each speed: the frames are written before the doctor starts
BIRTH_MS = 300  # Home Assistant's birth message: a retained one comes at once

# A stand-in for systemctl: "is-active UNIT" succeeds when $FAKE_SYSTEMD/active/UNIT exists,
# "cat UNIT" prints $FAKE_SYSTEMD/units/UNIT.
FAKE_SYSTEMCTL = """#!/bin/sh
case "$1" in
is-active) [ -e "$FAKE_SYSTEMD/active/$2" ] && { echo active; exit 0; }; echo inactive; exit 3;;
cat) [ -e "$FAKE_SYSTEMD/units/$2" ] && { cat "$FAKE_SYSTEMD/units/$2"; exit 0; }; exit 1;;
esac
exit 1
"""

BROKER = None
PKI = None


def setUpModule():
    global BROKER, PKI
    tmp = tempfile.TemporaryDirectory(prefix="linkyd-doctor-")
    unittest.addModuleCleanup(tmp.cleanup)
    BROKER = h.Broker(tmp.name)
    BROKER.start()
    unittest.addModuleCleanup(BROKER.stop)
    PKI = Path(tmp.name) / "pki"
    PKI.mkdir()


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_ca(d, name):
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.crt",
            "-subj", f"/CN=linkyd doctor {name}", "-days", "2")


def make_server_cert(d):
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    Path(f"{d}/server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("req", *key, "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr",
            "-subj", "/CN=linkyd doctor server")
    openssl("x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.crt", "-CAkey",
            f"{d}/ca.key", "-CAcreateserial", "-days", "2", "-extfile", f"{d}/server.ext",
            "-out", f"{d}/server.crt")


def retained_all(broker):
    """Every retained message on the broker, as {topic: payload}."""
    r = subprocess.run([h.tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(broker.port),
                        "-t", "#", "--retained-only", "-W", "1", "-F", "%t %p"],
                       capture_output=True, timeout=10)
    return dict(line.partition(" ")[::2]
                for line in r.stdout.decode(errors="replace").splitlines())


def noisy(frame, every=3):
    """frame with the checksum of every every-th group wrong: damaged groups, frames still
    delivered with the rest."""
    out, n = bytearray(), 0
    for part in re.split(rb"(\n[^\r]*\r)", frame):
        if part.startswith(b"\n"):
            n += 1
            if n % every == 0:
                part = part[:-2] + bytes([0x20 + ((part[-2] - 0x20 + 1) & 0x3F)]) + b"\r"
        out += part
    return bytes(out)


def odd_parity(data):
    """7E1 bytes as a line set to odd parity delivers them: every byte with odd parity."""
    return bytes(b | 0x80 if bin(b).count("1") % 2 == 0 else b for b in data)


class Doctor(unittest.TestCase):

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="linkyd-doctor-"))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.fake = self.dir / "systemd"
        (self.fake / "active").mkdir(parents=True)
        (self.fake / "units").mkdir()
        self.systemctl = self.dir / "systemctl"
        self.systemctl.write_text(FAKE_SYSTEMCTL)
        self.systemctl.chmod(0o755)
        self.cmdline = self.dir / "cmdline"
        self.cmdline.write_text("root=/dev/mmcblk0p2 console=tty1 quiet\n")
        self.env = {}
        self.ptys = []  # their data is written again before each run: a run reads it all

    def pty(self, data=b"", mode=0o644):
        """A pty nobody but the doctor opens, readable by the service's user, with data
        waiting in it."""
        p = h.Pty(self.dir, hold=False)
        self.addCleanup(p.close)
        os.chmod(p.path, mode)
        p.data = data
        self.ptys.append(p)
        return p

    def conf(self, input_, url=None, meter="", extra=""):
        path = self.dir / "linkyd.conf"
        path.write_text(
            f'meters = ( {{ name = "meter"; input = "{input_}"; topic = "linky"; {meter} }} );\n'
            f'mqtt = {{ url = "{url or BROKER.url}"; }};\n' + extra)
        return path

    def doctor(self, conf, *args, rc=None):
        """Run linkyd --doctor -c conf; returns (status, {check: [(level, text, fix)]})."""
        for p in self.ptys:
            if p.data:
                p.write(p.data)
        env = dict(os.environ, LINKYD_DOCTOR_SYSTEMCTL=str(self.systemctl),
                   FAKE_SYSTEMD=str(self.fake), LINKYD_DOCTOR_CMDLINE=str(self.cmdline),
                   LINKYD_DOCTOR_LISTEN_MS=str(LISTEN_MS),
                   **{"LINKYD_DOCTOR_BIRTH_MS": str(BIRTH_MS), **self.env})
        r = subprocess.run([h.linkyd_path(), "--doctor", "-c", str(conf), *args],
                           capture_output=True, env=env, timeout=60)
        self.out = r.stdout.decode(errors="replace")
        err = r.stderr.decode(errors="replace")
        # Under ASan/UBSan a report would hide behind an expected exit status 1.
        self.assertNotRegex(err, r"Sanitizer|runtime error", err)
        checks = {}
        last = None
        for line in self.out.splitlines():
            m = re.match(r"(ok|warning|problem) +([^:]+): (.*)", line)
            if m:
                last = [m.group(1), m.group(3), None]
                checks.setdefault(m.group(2), []).append(last)
            elif line.startswith("         Fix: "):
                last[2] = line[len("         Fix: "):]
            else:
                self.assertTrue(line.startswith("verdict: "), self.out)
        if rc is not None:
            self.assertEqual(r.returncode, rc, self.out + r.stderr.decode(errors="replace"))
        self.assertRegex(self.out.splitlines()[-1], r"^verdict: ")
        return r.returncode, checks

    def check(self, checks, name, level, pattern, fix=None):
        self.assertIn(name, checks, self.out)
        found = [c for c in checks[name] if c[0] == level and re.search(pattern, c[1])]
        self.assertTrue(found, f"no {level} '{pattern}' for {name}:\n{self.out}")
        if fix:
            self.assertRegex(found[0][2] or "", fix)
        return found[0]

    # ---- configuration ---------------------------------------------------------------------

    def test_bad_configuration(self):
        conf = self.dir / "bad.conf"
        conf.write_text('mqtt = {\n\tqos = 7;\n};\n')
        r = subprocess.run([h.linkyd_path(), "--doctor", "-c", str(conf)], capture_output=True,
                           timeout=10)
        self.assertEqual(r.returncode, EX_CONFIG)
        out = r.stdout.decode().splitlines()
        self.assertEqual(len(out), 1, out)
        self.assertRegex(out[0], rf"^problem +configuration: {re.escape(str(conf))}:2: ")

    def test_command_line_overrides_the_file(self):
        p = self.pty(h.historique_frame(1) * 4)
        conf = self.conf("/dev/nonexistent", url="mqtt://127.0.0.1:1")
        _, c = self.doctor(conf, "-i", p.link, "--mqtt", BROKER.url, rc=0)
        self.check(c, "device", "ok", re.escape(p.link))
        self.check(c, "broker", "ok", re.escape(BROKER.url))

    # ---- the device ------------------------------------------------------------------------

    def test_missing_device(self):
        dev = self.dir / "dev"
        (dev / "serial" / "by-id").mkdir(parents=True)
        (dev / "ttyUSB0").touch()
        os.symlink("../../ttyUSB0", dev / "serial" / "by-id" / "usb-FTDI_FT232R-if00-port0")
        self.env["LINKYD_DOCTOR_DEV"] = str(dev)
        _, c = self.doctor(self.conf("/dev/ttyUSB9"), rc=1)
        self.check(c, "device", "problem",
                   rf"/dev/ttyUSB9: No such file.*{dev}/ttyUSB0, "
                   rf"{dev}/serial/by-id/usb-FTDI_FT232R-if00-port0 -> \.\./\.\./ttyUSB0",
                   fix="USB adapter.*by-id")
        self.check(c, "line", "warning", "not listened to")
        # A Pi's UART gets the Pi's fix.
        _, c = self.doctor(self.conf("/dev/serial0"), rc=1)
        self.check(c, "device", "problem", "serial0", fix="raspi-config")

    def test_regular_file(self):
        f = self.dir / "ttyUSB0"
        f.write_text("not a tty")
        _, c = self.doctor(self.conf(f), rc=1)
        self.check(c, "device", "problem", "is a regular file, not a serial device")

    def test_pty_its_user_cannot_read(self):
        p = self.pty(h.historique_frame(1) * 4, mode=0o600)
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "access", "problem", rf"cannot read {p.path} \(group \w+, mode 0600\)",
                   fix="socat pty,link=.*group=dialout,perm=0660")
        os.chmod(p.path, 0o604)
        _, c = self.doctor(self.conf(p.link), rc=0)
        self.check(c, "access", "ok", "can read")

    def test_console(self):
        p = self.pty(h.historique_frame(1) * 12)
        rel = p.path[len("/dev/"):]
        self.cmdline.write_text(f"console={rel},115200 console=tty1 root=/dev/mmcblk0p2\n")
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "console", "problem", r"kernel's console", fix="raspi-config")
        self.cmdline.write_text("console=tty1 root=/dev/mmcblk0p2\n")
        unit = f"serial-getty@{rel.replace('/', '-')}.service"
        (self.fake / "active" / unit).touch()
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "console", "problem", f"login prompt: {re.escape(unit)}")
        (self.fake / "active" / unit).unlink()
        _, c = self.doctor(self.conf(p.link), rc=0)
        self.check(c, "console", "ok", "no console")

    def test_another_program_holds_the_line(self):
        p = self.pty(h.historique_frame(1) * 4)
        cat = subprocess.Popen(["cat", p.path], stdout=subprocess.DEVNULL)
        self.addCleanup(cat.wait)
        self.addCleanup(cat.kill)
        h.wait_until(lambda: os.path.exists(f"/proc/{cat.pid}/fd/0") and any(
            os.readlink(f"/proc/{cat.pid}/fd/{fd}") == p.path
            for fd in os.listdir(f"/proc/{cat.pid}/fd")), 5, "cat to open the pty")
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "other programs", "problem", rf"cat \(pid {cat.pid}\)")
        self.check(c, "line", "warning", "not listened to")

    def test_the_running_daemon_holds_the_line(self):
        p = h.Pty(self.dir, hold=False)
        self.addCleanup(p.close)
        os.chmod(p.path, 0o644)
        daemon = h.Daemon(self.dir, p.link, BROKER)
        daemon.start()
        self.addCleanup(daemon.stop)
        daemon.wait_log(r"reading .* at \d+ Bd")
        _, c = self.doctor(daemon.conf, rc=0)
        self.check(c, "other programs", "ok", rf"the running linkyd \(pid {daemon.pid}\)")
        self.check(c, "line", "ok", "not listened to: the running linkyd reads it")

    def test_modemmanager_on_a_ttyacm(self):
        p = self.pty(h.historique_frame(1) * 4)
        devices = self.dir / "devices"
        major = os.major(os.stat(p.path).st_rdev)
        devices.write_text(f"Character devices:\n  1 mem\n{major} ttyACM\n\nBlock devices:\n"
                           f"{major} nope\n")
        self.env["LINKYD_DOCTOR_DEVICES"] = str(devices)
        (self.fake / "active" / "ModemManager.service").touch()
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "device", "ok", "driver ttyACM")
        self.check(c, "ModemManager", "problem", "ModemManager is running",
                   fix="systemctl disable --now ModemManager.*ID_MM_DEVICE_IGNORE")
        (self.fake / "active" / "ModemManager.service").unlink()
        _, c = self.doctor(self.conf(p.link), rc=0)
        self.check(c, "ModemManager", "ok", "not running")

    def test_sandbox(self):
        p = self.pty(h.historique_frame(1) * 8)
        unit = self.fake / "units" / "linkyd.service"
        unit.write_text("[Service]\nDynamicUser=yes\nDevicePolicy=closed\n"
                        "DeviceAllow=char-ttyUSB rw\n")
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "sandbox", "problem", "no DeviceAllow= opens",
                   fix="systemctl edit linkyd.service.*DeviceAllow=char-pts r")
        unit.write_text(unit.read_text() + "DeviceAllow=char-pts rw\n")
        _, c = self.doctor(self.conf(p.link), rc=0)
        self.check(c, "sandbox", "ok", "lets the service open")

    # ---- the line --------------------------------------------------------------------------

    def test_historique_capture(self):
        p = self.pty(h.capture("historique-hchp-mono-01.tic")[:8000])
        _, c = self.doctor(self.conf(p.link), rc=0)
        self.check(c, "line", "ok", r"historique mode, \d+ valid frame\(s\) at 1200 Bd \(a "
                   r"pseudo-terminal")

    def test_standard_capture(self):
        p = self.pty(h.capture("standard-mono-base-01.tic") * 4)
        _, c = self.doctor(self.conf(p.link), rc=0)
        self.check(c, "line", "ok", r"standard mode, \d+ valid frame\(s\)")

    def test_garbage(self):
        p = self.pty(bytes(0x20 + (i * 37) % 90 for i in range(3000)))
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "line", "problem", r"3000 bytes but no valid frame in .* at 1200 Bd and "
                   r".* at 9600 Bd: the wrong speed, or no TIC signal", fix="1200 Bd historique")

    def test_noise(self):
        p = self.pty(b"".join(noisy(h.historique_frame(i)) for i in range(6)))
        _, c = self.doctor(self.conf(p.link), rc=0)
        self.check(c, "line", "warning", r"historique mode, \d+ frame\(s\).* but \d+ of \d+ "
                   r"groups damaged \(checksum [1-9]", fix="noise")

    def test_odd_parity(self):
        p = self.pty(odd_parity(b"".join(h.historique_frame(i) for i in range(6))))
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "line", "problem", r"bytes with bad parity.*: a 7E1/8N1 mismatch",
                   fix="7E1")

    def test_silence(self):
        p = self.pty()
        _, c = self.doctor(self.conf(p.link), rc=1)
        self.check(c, "line", "problem", r"not a byte in .*: no TIC signal", fix="I1 and I2")

    def test_configured_mode_the_meter_does_not_send(self):
        frames = h.historique_frame(1) * 4
        p = self.pty(frames)
        _, c = self.doctor(self.conf(p.link, meter='mode = "standard";'), rc=0)
        self.check(c, "line", "warning", "the configuration says mode standard, the meter "
                   "sends historique", fix='mode = "auto"')
        # On a real UART (the driver says so) the daemon would read at the wrong speed.
        devices = self.dir / "devices"
        devices.write_text(f"Character devices:\n{os.major(os.stat(p.path).st_rdev)} ttyAMA\n")
        self.env["LINKYD_DOCTOR_DEVICES"] = str(devices)
        _, c = self.doctor(self.conf(p.link, meter='mode = "standard";'), rc=1)
        self.check(c, "line", "problem", "the configuration says mode standard")

    # ---- network inputs --------------------------------------------------------------------

    def test_tcp_bridge(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        self.addCleanup(srv.close)

        def serve():
            conn, _ = srv.accept()
            try:
                for i in range(20):
                    conn.sendall(h.standard_frame(i))
                    time.sleep(0.02)
            except OSError:
                pass
            conn.close()
        threading.Thread(target=serve, daemon=True).start()
        _, c = self.doctor(self.conf(f"tcp:127.0.0.1:{srv.getsockname()[1]}"), rc=0)
        self.check(c, "line", "ok", r"standard mode, 3 valid frame\(s\)")
        self.assertNotIn("device", c)
        # Nobody listens: refused.
        _, c = self.doctor(self.conf(f"tcp:127.0.0.1:{h.refused_port(self)}"), rc=1)
        self.check(c, "line", "problem", "cannot open tcp:127.0.0.1:\\d+: Connection refused",
                   fix="bridge's address and port")

    def test_d2l_port(self):
        port = h.free_port()
        d2l = (f'd2l_id = "011601000001"; key = "{"00" * 16}"; iv = "{"11" * 16}";')
        _, c = self.doctor(self.conf(f"d2l:127.0.0.1:{port}", meter=d2l), rc=0)
        self.check(c, "line", "ok", f"port {port} is free")
        taker = subprocess.Popen([sys.executable, "-c",
                                  "import socket, sys, time\n"
                                  "s = socket.socket()\n"
                                  f"s.bind(('127.0.0.1', {port}))\n"
                                  "s.listen(1)\nprint('ready', flush=True)\ntime.sleep(60)\n"],
                                 stdout=subprocess.PIPE)
        self.addCleanup(taker.stdout.close)
        self.addCleanup(taker.wait)
        self.addCleanup(taker.kill)
        self.assertEqual(taker.stdout.readline().strip(), b"ready")
        _, c = self.doctor(self.conf(f"d2l:127.0.0.1:{port}", meter=d2l), rc=1)
        self.check(c, "line", "problem",
                   rf"cannot serve port {port}: Address already in use, held by python3? "
                   rf"\(pid {taker.pid}\)", fix="another port")
        taker.kill()
        taker.wait()
        # The running daemon serving it is no problem.
        daemon = h.Daemon(self.dir, f"d2l:127.0.0.1:{port}", BROKER, meter=d2l)
        daemon.start()
        self.addCleanup(daemon.stop)
        daemon.wait_log(r"listening for D2L modules")
        _, c = self.doctor(self.conf(f"d2l:127.0.0.1:{port}", meter=d2l), rc=0)
        self.check(c, "line", "ok", rf"port {port} is served by the running linkyd, linkyd "
                   rf"\(pid {daemon.pid}\)")

    # ---- the broker ------------------------------------------------------------------------

    def test_broker_down(self):
        p = self.pty(h.historique_frame(1) * 4)
        _, c = self.doctor(self.conf(p.link, url=f"mqtt://127.0.0.1:{h.refused_port(self)}"), rc=1)
        self.check(c, "broker", "problem", r"\(network\): connection refused",
                   fix="host and port")
        self.assertNotIn("Home Assistant", c)

    def secure_broker(self, lines):
        b = h.Broker(self.dir, secure=lines)
        b.start()
        self.addCleanup(b.stop)
        return b

    def test_password(self):
        subprocess.run([h.tool("mosquitto_passwd"), "-b", "-c", str(self.dir / "passwd"),
                        "meter", "s3cret"], check=True)
        b = self.secure_broker(["allow_anonymous false", f"password_file {self.dir}/passwd"])
        p = self.pty(h.historique_frame(1) * 8)
        url = f"mqtt://127.0.0.1:{b.secure_port}"
        extra = 'mqtt = { username = "meter"; password = "%s"; };\n'
        conf = self.dir / "linkyd.conf"
        conf.write_text(f'meters = ( {{ name = "m"; input = "{p.link}"; topic = "linky"; }} );\n'
                        + (extra % "s3cret").replace("mqtt = {", f'mqtt = {{ url = "{url}";'))
        _, c = self.doctor(conf, rc=0)
        self.check(c, "broker", "ok", r"authenticated; a test message came back in \d+ ms")
        conf.write_text(conf.read_text().replace("s3cret", "wrong"))
        _, c = self.doctor(conf, rc=1)
        self.check(c, "broker", "problem", r"\(authentication\): .*(bad user name or password|not authori)",
                   fix="mqtt.username")

    def test_tls(self):
        make_ca(PKI, "ca")
        make_server_cert(PKI)
        make_ca(PKI, "other")
        b = self.secure_broker([f"cafile {PKI}/ca.crt", f"certfile {PKI}/server.crt",
                                f"keyfile {PKI}/server.key", "allow_anonymous true"])
        p = self.pty(h.historique_frame(1) * 8)
        url = f"mqtts://127.0.0.1:{b.secure_port}"
        conf = self.dir / "linkyd.conf"
        conf.write_text(f'meters = ( {{ name = "m"; input = "{p.link}"; topic = "linky"; }} );\n'
                        f'mqtt = {{ url = "{url}"; ca_file = "{PKI}/ca.crt"; }};\n')
        _, c = self.doctor(conf, rc=0)
        self.check(c, "broker", "ok", r"\(TLS verified\); a test message came back")
        conf.write_text(conf.read_text().replace("ca.crt", "other.crt"))
        _, c = self.doctor(conf, rc=1)
        self.check(c, "broker", "problem", r"\(TLS\): TLS handshake failed", fix="ca_file")

    # ---- Home Assistant --------------------------------------------------------------------

    def test_home_assistant_birth(self):
        p = self.pty(h.historique_frame(1) * 8)
        prefix = f"ha{os.getpid()}"
        conf = self.conf(p.link, extra=f'homeassistant = {{ prefix = "{prefix}"; }};\n')
        _, c = self.doctor(conf, rc=0)
        self.check(c, "Home Assistant", "warning", f"no birth message on {prefix}/status .*not "
                   "retain it by default",
                   fix="linkyd publishes its configs again")
        subprocess.run([h.tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(BROKER.port),
                        "-t", f"{prefix}/status", "-m", "online", "-r"], check=True)
        self.addCleanup(subprocess.run, [h.tool("mosquitto_pub"), "-h", "127.0.0.1", "-p",
                                         str(BROKER.port), "-t", f"{prefix}/status", "-r",
                                         "-n"])
        _, c = self.doctor(conf, rc=0)
        self.check(c, "Home Assistant", "ok",
                   rf"prefix '{prefix}': Home Assistant is online \(retained")

    def test_home_assistant_birth_live(self):
        # Home Assistant starting while the doctor waits: its birth message, not retained.
        p = self.pty(h.historique_frame(1) * 8)
        prefix = f"halive{os.getpid()}"
        conf = self.conf(p.link, extra=f'homeassistant = {{ prefix = "{prefix}"; }};\n')
        self.env["LINKYD_DOCTOR_BIRTH_MS"] = "10000"
        done = threading.Event()

        def starting():
            while not done.wait(0.2):
                h.publish(BROKER, f"{prefix}/status", "online")
        t = threading.Thread(target=starting, daemon=True)
        t.start()
        try:
            _, c = self.doctor(conf, rc=0)
        finally:
            done.set()
            t.join(5)
        self.check(c, "Home Assistant", "ok",
                   rf"prefix '{prefix}': Home Assistant is online \(seen on {prefix}/status")

    def test_discovery_off(self):
        p = self.pty(h.historique_frame(1) * 8)
        conf = self.conf(p.link, extra="homeassistant = { discovery = false; };\n")
        _, c = self.doctor(conf, rc=0)
        self.check(c, "Home Assistant", "ok", "discovery off")

    def test_configs_of_a_real_daemon_and_nothing_retained_changed(self):
        # A daemon publishes its discovery configs, then stops; the doctor counts them, on
        # another line, and leaves the broker's retained messages as they were.
        p = h.Pty(self.dir, name="daemon")
        self.addCleanup(p.close)
        daemon = h.Daemon(self.dir, p.link, BROKER, topic="linkydoc")
        daemon.start()
        self.addCleanup(daemon.stop)
        daemon.wait_log(r"reading .* at \d+ Bd")
        sub = h.Subscriber(BROKER, self.dir, topics=("homeassistant/#", "linkyd-test/#"))
        sub.start()
        self.addCleanup(sub.stop)
        p.write(b"".join(h.historique_frame(i) for i in range(4)))
        sub.wait_for(lambda msgs: sum(m.topic.endswith("/config") for m in msgs) >= 5, 10,
                     "discovery configs")
        daemon.stop()
        before = retained_all(BROKER)
        configs = sum(1 for t in before if t.startswith("homeassistant/")
                      and t.endswith("/config") and "linkydoc" in before[t])
        self.assertGreater(configs, 0)
        q = self.pty(h.historique_frame(1) * 8)
        conf = self.dir / "doctor.conf"
        conf.write_text(f'meters = ( {{ name = "meter"; input = "{q.link}"; '
                        f'topic = "linkydoc"; }} );\nmqtt = {{ url = "{BROKER.url}"; }};\n')
        _, c = self.doctor(conf, rc=0)
        self.check(c, "Home Assistant", "ok",
                   rf"meter 'meter': {configs} discovery config\(s\) retained")
        self.assertEqual(retained_all(BROKER), before)


if __name__ == "__main__":
    h.main()
