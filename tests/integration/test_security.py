#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
linkyd's broker security, against a real mosquitto: TLS with a CA file, the broker's name
checked by default, client certificates, and user name + password file. The test makes its own
throw-away PKI with the openssl command; the broker gets a second listener with the settings
under test (the subscriber stays on a plain one). Exits 77 when mosquitto or openssl is missing.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PKI = None  # Path of the certificates, made once for the module


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_pki(d):
    """A CA; a server certificate for IP 127.0.0.1 only (so "localhost" is a name mismatch);
    a client certificate. EC keys: quick to make."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt",
            "-subj", "/CN=linkyd test CA", "-days", "2")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"),
                      ("client", "extendedKeyUsage=clientAuth")):
        Path(f"{d}/{name}.ext").write_text(ext + "\n")
        openssl("req", *key, "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr",
                "-subj", f"/CN=linkyd test {name}")
        openssl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/ca.crt",
                "-CAkey", f"{d}/ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", f"{d}/{name}.ext", "-out", f"{d}/{name}.crt")


def setUpModule():
    global PKI
    tmp = tempfile.TemporaryDirectory(prefix="linkyd-pki-")
    unittest.addModuleCleanup(tmp.cleanup)
    PKI = Path(tmp.name)
    make_pki(PKI)


def tls_listener(require_certificate=False):
    lines = ["allow_anonymous true", f"cafile {PKI}/ca.crt", f"certfile {PKI}/server.crt",
             f"keyfile {PKI}/server.key"]
    return lines + (["require_certificate true"] if require_certificate else [])


class Security(unittest.TestCase):

    def delivers(self, rig):
        """Frames written on the line reach the subscriber through the secure listener."""
        got, expected = rig.feed(h.frames(h.standard_frame, 0, 3))
        self.assertEqual(got, expected)
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])

    def refused(self, rig, reason):
        """The daemon cannot connect, says why once, and keeps running (and retrying)."""
        m = rig.daemon.wait_log(r"cannot connect to \S+: (.*);", timeout=15)
        self.assertRegex(m.group(1), reason)
        self.assertTrue(rig.daemon.alive())
        self.assertNotIn(rig.topic + "/status", [m.topic for m in rig.sub.messages()])

    def rig(self, secure, mqtt, scheme="mqtts", host="127.0.0.1", ready=True):
        return h.Rig(self, secure=secure, mqtt=mqtt, ready=ready,
                     url=lambda broker: f"{scheme}://{host}:{broker.secure_port}")

    def test_tls_with_ca_file(self):
        self.delivers(self.rig(tls_listener(), f'ca_file = "{PKI}/ca.crt";'))

    def test_tls_name_checked(self):
        # The certificate names 127.0.0.1, not localhost: refused unless the check is off.
        self.refused(self.rig(tls_listener(), f'ca_file = "{PKI}/ca.crt";', host="localhost",
                              ready=False),
                     "TLS handshake failed")

    def test_tls_name_check_off(self):
        self.delivers(self.rig(tls_listener(), f'ca_file = "{PKI}/ca.crt"; '
                               "verify_hostname = false;", host="localhost"))

    def test_tls_unknown_ca(self):
        # No ca_file: the system's trust store, which does not know the test CA.
        self.refused(self.rig(tls_listener(), "", ready=False),
                     "TLS handshake failed")

    def test_client_certificate(self):
        self.delivers(self.rig(tls_listener(True),
                               f'ca_file = "{PKI}/ca.crt"; cert_file = "{PKI}/client.crt"; '
                               f'key_file = "{PKI}/client.key";'))

    def test_client_certificate_required(self):
        # With TLS 1.3 the broker says so after the client's side of the handshake, as the
        # CONNECT goes out: a handshake failure or a connection closed before CONNACK, by race.
        self.refused(self.rig(tls_listener(True), f'ca_file = "{PKI}/ca.crt";', ready=False),
                     "a client certificate it requires")

    def password_rig(self, password, ready):
        d = Path(tempfile.mkdtemp(prefix="linkyd-pw-"))
        self.addCleanup(shutil.rmtree, d)
        subprocess.run(["mosquitto_passwd", "-b", "-c", str(d / "passwd"), "meter", "s3cret"],
                       check=True)
        secret = d / "secret"
        secret.write_text(password + "\n")
        secret.chmod(0o600)
        secure = ["allow_anonymous false", f"password_file {d}/passwd"]
        return self.rig(secure, f'username = "meter"; password_file = "{secret}";', "mqtt",
                        ready=ready)

    def test_password_file(self):
        self.delivers(self.password_rig("s3cret", True))

    def test_password_file_readable_by_others(self):
        # Checked at start, with the file and line of password_file: exit 78 (EX_CONFIG), as
        # --check-config says too.
        d = Path(tempfile.mkdtemp(prefix="linkyd-pw-"))
        self.addCleanup(shutil.rmtree, d)
        secret = d / "secret"
        secret.write_text("s3cret\n")
        secret.chmod(0o644)
        conf = d / "linkyd.conf"
        conf.write_text(f'mqtt = {{\n\tusername = "meter";\n\tpassword_file = "{secret}";\n}};\n')
        for args in ([], ["--check-config"]):
            run = subprocess.run([h.linkyd_path(), "-c", str(conf)] + args, capture_output=True,
                                 text=True, timeout=10)
            self.assertEqual(run.returncode, 78, run.stderr)
            self.assertEqual(run.stderr,
                             f"linkyd: {conf}:3: mqtt.password_file: '{secret}' has mode 0644: "
                             "expected no access for group and others (chmod 600)\n")

    def test_wrong_password(self):
        self.refused(self.password_rig("wrong", False), "user name or password|not authori")

    def test_tls_port_with_mqtt_scheme(self):
        # mqtt:// to a TLS listener: the broker drops the connection at the CONNECT it cannot
        # read as a TLS record.
        self.refused(self.rig(tls_listener(), "", scheme="mqtt", ready=False),
                     r"closed before the broker's CONNACK: a TLS port reached with mqtt://")

    def test_plain_port_with_mqtts_scheme(self):
        self.refused(h.Rig(self, mqtt=f'ca_file = "{PKI}/ca.crt";', ready=False,
                           url=lambda broker: f"mqtts://127.0.0.1:{broker.port}"),
                     "TLS handshake failed")


class ConnectFailures(unittest.TestCase):
    """What the daemon says when it cannot connect, on real sockets of 127.0.0.1: each cause in
    its own words, soon, once, and the daemon keeps retrying."""

    def rig(self, url):
        return h.Rig(self, ready=False, url=url)

    def reason(self, rig, timeout=15):
        m = rig.daemon.wait_log(r"cannot connect to \S+: (.*); retrying", timeout=timeout)
        self.assertTrue(rig.daemon.alive())
        return m.group(1)

    def test_closed_port(self):
        rig = self.rig(f"mqtt://127.0.0.1:{h.refused_port(self)}")
        self.assertRegex(self.reason(rig, 5), r"^connection refused")

    def test_listener_that_never_answers(self):
        # Accepts TCP, never sends CONNACK: not an MQTT broker (or a TLS one reached with
        # mqtt://, had it waited for a ClientHello).
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            silent.setblocking(False)
            accepted = []

            def accept(n):
                try:
                    accepted.append(silent.accept()[0])
                except BlockingIOError:
                    pass
                return len(accepted) >= n

            t0 = time.monotonic()
            rig = self.rig(f"mqtt://127.0.0.1:{silent.getsockname()[1]}")
            self.addCleanup(lambda: [c.close() for c in accepted])
            reason = self.reason(rig, 15)
            self.assertRegex(reason, r"^no CONNACK within 5 s: not an MQTT broker")
            # One attempt (MQTT 3.1.1 only), not paho's default two.
            self.assertLess(time.monotonic() - t0, 9)
            # Logged once: the second attempt and its probe (connections 3 and 4) fail the
            # same way, quietly.
            h.wait_until(lambda: accept(4), 15, "a second attempt and its probe")
            mark = rig.daemon.mark()
            time.sleep(0.5)
            self.assertEqual(rig.daemon.log().count("cannot connect"), 1)
            self.assertEqual(rig.daemon.mark(), mark)

    def test_oversized_user_name(self):
        rig = h.Rig(self, ready=False, mqtt=f'username = "{"u" * 70000}";')
        # Refused at start, with the file and line, rather than sent for the broker to hang up
        # on: exit 78 (EX_CONFIG).
        rig.allowed_errors = [r"linkyd\.conf:3: mqtt\.username: 70000 bytes: expected at most "
                              r"65535"]
        h.wait_until(lambda: not rig.daemon.alive(), 10, "linkyd to exit")
        self.assertEqual(rig.daemon.proc.returncode, 78)
        self.assertRegex(rig.daemon.log(),
                         r"linkyd\.conf:3: mqtt\.username: 70000 bytes: expected at most 65535")


if __name__ == "__main__":
    h.main()
