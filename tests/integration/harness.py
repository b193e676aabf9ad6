# SPDX-License-Identifier: MIT
"""
Harness for linkyd's integration tests: real parts only. A mosquitto broker on a free
127.0.0.1 port, mosquitto_sub as the subscriber, a pseudo-terminal pair standing in for the
meter's serial line (behind a symlink, so that it can be unplugged and replugged), the daemon
itself with a generated configuration, and a generator of valid TIC frames whose index values
increase so that every frame can be told apart.

Every wait is a bounded wait for a condition; the only sleeps are the pace of the simulated
meter and the short poll interval of wait_until().
"""
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tty
from collections import namedtuple
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"

# mosquitto lives in /usr/sbin, which is not on every user's PATH.
_TOOL_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin",
                              "/sbin"])

# syslog priorities, as the daemon writes them when it believes stderr is the journal.
LOG_ERR = 3
LOG_WARNING = 4

EX_CONFIG = 78


def tool(name):
    return shutil.which(name, path=_TOOL_PATH)


def missing_tools():
    """The external programs these tests need and cannot find."""
    return [t for t in ("mosquitto", "mosquitto_sub", "mosquitto_pub") if not tool(t)]


def linkyd_path():
    path = os.environ.get("LINKYD")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set LINKYD to the linkyd executable (CTest does it)")
    return path


def wait_until(predicate, timeout, what, interval=0.02):
    """Poll predicate until it returns something true, which is returned; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def refused_port(test):
    """A 127.0.0.1 port that refuses connections until the test ends: bound but not listening,
    so that nothing else takes it meanwhile, as another test or a parallel run could take a
    free_port() left free (seen: a doctor test's "broker down" found something there)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    test.addCleanup(s.close)
    return s.getsockname()[1]


def _stop_process(proc, sig=signal.SIGTERM, timeout=5):
    """Stop a child we started (by its Popen object, never by name); returns its status."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


# ---- TIC frames ------------------------------------------------------------------------------

STX, ETX = b"\x02", b"\x03"


def _check(body):
    return bytes([(sum(body) & 0x3F) + 0x20])


def historique_group(label, value):
    # Historique: the checksum covers label SP value, not the SP before it.
    body = f"{label} {value}".encode("ascii")
    return b"\n" + body + b" " + _check(body) + b"\r"


def standard_group(label, value, horodate=None):
    # Standard: the checksum covers everything up to and including the last HT.
    date = f"{horodate}\t" if horodate else ""
    body = f"{label}\t{date}{value}\t".encode("ascii")
    return b"\n" + body + _check(body) + b"\r"


def historique_frame(index):
    """A valid historique (BASE, mono) frame whose BASE index is index Wh."""
    groups = [("ADCO", "012345678910"), ("OPTARIF", "BASE"), ("ISOUSC", "30"),
              ("BASE", f"{index:09d}"), ("PTEC", "TH.."), ("IINST", "001"), ("IMAX", "090"),
              ("PAPP", "00230"), ("HHPHC", "A"), ("MOTDETAT", "000000")]
    return STX + b"".join(historique_group(*g) for g in groups) + ETX


def standard_frame(index):
    """A valid standard (BASE, mono) frame whose EAST and EASF01 indexes are index Wh."""
    return (STX + standard_group("ADSC", "012345678910") + standard_group("VTIC", "02")
            + standard_group("DATE", "", "H240210121355") + standard_group("LTARF", "BASE")
            + standard_group("EAST", f"{index:09d}") + standard_group("EASF01", f"{index:09d}")
            + standard_group("IRMS1", "001") + standard_group("URMS1", "242")
            + standard_group("PREF", "06") + standard_group("SINSTS", "00263")
            + standard_group("STGE", "003A0000") + ETX)


def frames(frame, first, n):
    """n generated frames (historique_frame or standard_frame), indexes first to first+n-1."""
    return b"".join(frame(i) for i in range(first, first + n))


def frame_index(payload):
    """The index a generated frame carries, from its JSON (typed or raw)."""
    obj = json.loads(payload)
    return int(obj["EAST"] if "EAST" in obj else obj["BASE"])


def decode(data, fmt="typed"):
    """What `linkyd --decode` prints for these bytes: the reference for what must arrive."""
    with tempfile.NamedTemporaryFile(suffix=".tic") as f:
        f.write(data)
        f.flush()
        r = subprocess.run([linkyd_path(), "--decode", f.name, "--format", fmt],
                           capture_output=True, timeout=30, check=True)
    return r.stdout.decode().splitlines()


def capture(name):
    return (DATA / name).read_bytes()


# ---- the broker ------------------------------------------------------------------------------

class Broker:
    """mosquitto on 127.0.0.1:port, logging to a file; the port is kept across restarts."""

    def __init__(self, workdir, persistence=False, secure=None):
        """secure: mosquitto settings of a second listener (TLS, passwords) on secure_port,
        for the daemon; the test's subscriber keeps the plain anonymous one."""
        self.dir = Path(workdir) / "broker"
        self.dir.mkdir()
        self.port = free_port()
        self.secure_port = free_port() if secure else None
        self.conf = self.dir / "mosquitto.conf"
        self.logfile = self.dir / "mosquitto.log"
        lines = ["per_listener_settings true"] if secure else []
        lines += [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                  # As root mosquitto would switch to user "mosquitto", who cannot write here.
                  f"user {pwd.getpwuid(os.getuid()).pw_name}"]
        if secure:
            lines += [f"listener {self.secure_port} 127.0.0.1"] + list(secure)
        if persistence:
            # SIGKILL skips the save at exit: autosave every second so that the subscriber's
            # persistent session (and what is queued for it) survives a kill.
            lines += ["persistence true", f"persistence_location {self.dir}/",
                      "autosave_interval 1"]
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc = None

    @property
    def url(self):
        return f"mqtt://127.0.0.1:{self.port}"

    def log(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def start(self, timeout=10):
        # A port just released by a killed broker can still be busy for a moment: retry.
        deadline = time.monotonic() + timeout
        while True:
            mark = len(self.log())
            with open(self.logfile, "ab") as log:
                self.proc = subprocess.Popen([tool("mosquitto"), "-c", str(self.conf)],
                                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            wait_until(lambda: self.proc.poll() is not None or " running" in self.log()[mark:],
                       timeout, "mosquitto to start")
            if self.proc.poll() is None:
                return
            if time.monotonic() >= deadline:
                raise AssertionError("mosquitto did not start:\n" + self.log()[mark:])
            time.sleep(0.1)

    def saves(self):
        """How many times the broker wrote its database (persistence)."""
        return self.log().count("Saving in-memory database")

    def kill(self):
        """SIGKILL: no database save, no will messages sent, sockets reset."""
        self.proc.kill()
        self.proc.wait(5)

    def stop(self):
        _stop_process(self.proc)


# ---- the subscriber --------------------------------------------------------------------------

Message = namedtuple("Message", "time retain topic payload")


class Subscriber:
    """mosquitto_sub on every topic, recording each message with its arrival time."""

    def __init__(self, broker, workdir, client_id=None, persistent=False, topics=("#",)):
        self.broker = broker
        self.errfile = Path(workdir) / f"sub-{client_id or 'anon'}.err"
        self.args = [tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                     # retain flag, topic, payload: topics have no spaces, payloads may.
                     "-F", "%r %t %p"]
        if client_id:
            self.args += ["-i", client_id]
        if persistent:
            self.args += ["-c"]
        for t in topics:
            self.args += ["-t", t]
        self.cond = threading.Condition()
        self.msgs = []
        self.proc = None
        self.thread = None

    def start(self):
        with open(self.errfile, "ab") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self._wait_subscribed()

    def _read(self):
        for line in self.proc.stdout:
            retain, topic, payload = line.rstrip(b"\n").decode(errors="replace").split(" ", 2)
            with self.cond:
                self.msgs.append(Message(time.monotonic(), retain == "1", topic, payload))
                self.cond.notify_all()

    def _wait_subscribed(self, timeout=10):
        # mosquitto_sub says nothing when its subscription is in place: publish probes until
        # one comes back, so that no frame published afterwards can be missed.
        probe = f"linkyd-test/probe/{os.getpid()}-{id(self)}"
        deadline = time.monotonic() + timeout
        while True:
            publish(self.broker, probe, "probe")
            try:
                self.wait_for(lambda msgs: any(m.topic == probe for m in msgs), 0.5,
                              "a probe")
                return
            except AssertionError:
                if time.monotonic() >= deadline or self.proc.poll() is not None:
                    raise AssertionError("mosquitto_sub did not subscribe: "
                                         + self.errfile.read_text(errors="replace"))

    def messages(self, topic=None):
        with self.cond:
            return [m for m in self.msgs if topic is None or m.topic == topic]

    def payloads(self, topic):
        return [m.payload for m in self.messages(topic)]

    def wait_for(self, predicate, timeout, what):
        """Wait until predicate(all messages so far) is true; returns its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(self.msgs)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                         f"{len(self.msgs)} message(s) received")
                self.cond.wait(left)

    def wait_count(self, topic, n, timeout):
        self.wait_for(lambda msgs: sum(m.topic == topic for m in msgs) >= n, timeout,
                      f"{n} message(s) on {topic}")
        return self.payloads(topic)

    def wait_payload(self, topic, payload, timeout):
        return self.wait_for(
            lambda msgs: any(m.topic == topic and m.payload == payload for m in msgs), timeout,
            f"'{payload}' on {topic}")

    def stop(self):
        _stop_process(self.proc)
        if self.thread:
            self.thread.join(5)
        if self.proc:
            self.proc.stdout.close()


def publish(broker, topic, payload):
    subprocess.run([tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                    "-t", topic, "-m", payload], check=True, timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def retained(broker, topic, timeout=3):
    """The payload the broker retains on topic, as a new subscriber gets it, or None."""
    r = subprocess.run([tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(broker.port),
                        "-t", topic, "--retained-only", "-C", "1", "-W", str(timeout),
                        "-F", "%r %p"], capture_output=True, timeout=timeout + 5)
    flag, _, payload = r.stdout.decode(errors="replace").rstrip("\n").partition(" ")
    return payload if flag == "1" else None


# ---- the serial line -------------------------------------------------------------------------

class Pty:
    """A pseudo-terminal pair in place of the meter's serial port. The daemon opens `link`, a
    symlink to the slave; unplug() closes the pair (the daemon sees a hang-up) and plug() makes
    a new one behind the same link, like a USB adapter coming back."""

    def __init__(self, workdir, name="tic", hold=True):
        """hold=False: the test keeps the master only, so that it is not seen holding the
        device (linkyd --doctor looks for such programs); what is written before the daemon
        opens the slave still waits in the tty, up to a few kilobytes."""
        self.link = str(Path(workdir) / name)
        self.hold = hold
        self.master = self.slave = None
        self.path = None
        self.plug()

    def plug(self):
        self.master, self.slave = os.openpty()
        # Raw before the daemon opens it: with the default cooked mode, bytes written early
        # would be echoed and CRs turned into LFs. The slave stays open here so that what is
        # written while the daemon has it closed (reopen, reload) waits in the tty.
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        tmp = self.link + ".new"
        os.symlink(self.path, tmp)
        os.replace(tmp, self.link)
        if not self.hold:
            os.close(self.slave)
            self.slave = None

    def unplug(self, remove_link=True):
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None
        if remove_link and os.path.lexists(self.link):
            os.unlink(self.link)

    def write(self, data, chunk=64, pace=0.0, timeout=10):
        """Write data in chunks of chunk bytes, pace seconds apart (a UART's pace)."""
        for off in range(0, len(data), chunk):
            part = data[off:off + chunk]
            deadline = time.monotonic() + timeout
            while part:
                left = max(0, deadline - time.monotonic())
                _, ready, _ = select.select([], [self.master], [], left)
                if not ready:
                    raise AssertionError(f"the pty stayed full for {timeout} s (nobody reads it)")
                part = part[os.write(self.master, part):]
            if pace:
                time.sleep(pace)

    def close(self):
        self.unplug(remove_link=False)


class Stream(threading.Thread):
    """A meter in the background: frame(i) for i = first, first+1, ... every interval seconds,
    until stop(). `written` lists (index, time written) for each complete frame."""

    def __init__(self, pty, frame, first=0, interval=0.05, chunk=64):
        super().__init__(daemon=True)
        self.pty, self.frame, self.interval, self.chunk = pty, frame, interval, chunk
        self.next = first
        self.written = []
        self.data = bytearray()
        self.error = None
        self._halt = threading.Event()

    def run(self):
        try:
            while not self._halt.is_set():
                data = self.frame(self.next)
                self.pty.write(data, self.chunk)
                self.data += data
                self.written.append((self.next, time.monotonic()))
                self.next += 1
                self._halt.wait(self.interval)
        except Exception as e:  # reported by stop(), in the test's thread
            self.error = e

    def wait_written(self, n, timeout):
        wait_until(lambda: len(self.written) >= n or self.error, timeout, f"{n} frames written")

    def stop(self):
        self._halt.set()
        self.join(10)
        if self.error:
            raise self.error
        return [i for i, _ in self.written]


# ---- the daemon ------------------------------------------------------------------------------

class Daemon:
    """linkyd run from a generated configuration file, its stderr in a file that it takes for
    the journal (JOURNAL_STREAM names that file), so that each line carries its priority."""

    def __init__(self, workdir, device, broker, topic="linky", args=(), url=None, mqtt="",
                 env=None, conf="", guard=False, meter="", state_dir=None):
        """url, mqtt: the broker URL (default: the broker's plain listener) and more settings
        of the mqtt group, e.g. 'ca_file = "...";'; env: more environment variables; conf: more
        settings for the file (with its own "meters = ...", the only meter is not written);
        meter: more settings of the only meter; state_dir: where the state files go (default:
        workdir)."""
        self.dir = Path(workdir)
        self.conf = self.dir / "linkyd.conf"
        self.logfile = self.dir / "linkyd.log"
        self.device, self.broker, self.args = device, broker, list(args)
        self.url, self.mqtt, self.env = url or broker.url, mqtt, env or {}
        self.conf_extra, self.guard, self.meter = conf, guard, meter
        self.state_dir = state_dir or self.dir
        self.write_config(topic)
        self.proc = None

    def write_config(self, topic):
        self.topic = topic
        # The index guard holds a meter's indexes back for its first frames (there is nothing
        # yet to check them against): off unless asked for, for the tests that compare every
        # frame with `linkyd --decode`. The state files stay in the test's directory.
        guard = "" if self.guard else " publish = { index_guard = false; };"
        meters = "" if re.search(r"^meters\s*=", self.conf_extra, re.M) else (
            f'meters = ( {{ name = "meter"; input = "{self.device}"; topic = "{topic}";'
            f'{guard} {self.meter} }} );\n')
        self.conf.write_text(
            "# Generated by tests/integration/harness.py\n" + meters +
            f'mqtt = {{ url = "{self.url}"; qos = 1; {self.mqtt} }};\n'
            f'log = {{ level = "info"; }};\nstate_dir = "{self.state_dir}";\n' + self.conf_extra)

    def start(self):
        with open(self.logfile, "ab") as err:
            st = os.fstat(err.fileno())
            env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}", **self.env)
            self.proc = subprocess.Popen([linkyd_path(), "-c", str(self.conf)] + self.args,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, env=env)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def lines(self):
        """[(priority, text)] of what the daemon logged so far."""
        out = []
        for line in self.log().splitlines():
            m = re.match(r"<(\d)>(.*)", line)
            out.append((int(m.group(1)), m.group(2)) if m else (LOG_ERR, line))
        return out

    def at_most(self, priority):
        """Lines at this priority or more severe (a smaller number)."""
        return [f"<{p}>{t}" for p, t in self.lines() if p <= priority]

    def wait_log(self, pattern, timeout=10, after=0):
        """Wait for a line matching pattern among the lines after the first `after` ones."""
        rx = re.compile(pattern)

        def found():
            if not self.alive():
                raise AssertionError(f"linkyd exited ({self.proc.returncode}):\n{self.log()}")
            return next((rx.search(t) for _, t in self.lines()[after:] if rx.search(t)), None)

        try:
            return wait_until(found, timeout, f"linkyd to log /{pattern}/")
        except AssertionError as e:
            tail = "\n".join(self.log().splitlines()[-10:])
            raise AssertionError(f"{e}; its log ends with:\n{tail}") from None

    def mark(self):
        """The number of lines logged so far, for wait_log(after=...)."""
        return len(self.lines())

    def wait_ready(self, timeout=10):
        """The line is open and the broker connected; returns the MQTT client id."""
        self.wait_log(r"reading .* at \d+ Bd", timeout)
        return self.wait_log(r"connected to \S+ as '([^']+)'", timeout).group(1)

    def cpu_seconds(self):
        """CPU time of all the daemon's threads (paho's included), in seconds."""
        total = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # a thread that just ended
        return total / 1e9

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=5):
        """SIGTERM; returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        return self.proc.poll(), time.monotonic() - t0

    def terminate(self):
        """Whatever state it is in: SIGTERM, then SIGKILL if it lingers."""
        _stop_process(self.proc)


# ---- a whole set-up --------------------------------------------------------------------------

class Rig:
    """Broker, subscriber, pty and daemon for one test, torn down by the test's cleanups (in
    reverse order) whatever happens."""

    def __init__(self, test, persistence=False, persistent_subscriber=False, topic="linky",
                 args=(), secure=None, url=None, mqtt="", ready=True, env=None, conf="",
                 guard=False, meter="", state_dir=None):
        """secure, url, mqtt, meter, state_dir: see Broker and Daemon (url may be a function of the broker,
        which picks its ports; conf one of the test's directory, for paths in it); ready=False
        does not wait for the daemon to connect (for tests where it must not)."""
        self.test = test
        self.allowed_errors = []
        tmp = tempfile.TemporaryDirectory(prefix="linkyd-it-")
        test.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.broker = Broker(self.dir, persistence, secure)
        self.broker.start()
        test.addCleanup(self.broker.stop)
        self.sub = Subscriber(self.broker, self.dir, client_id="linkyd-it-sub" if
                              persistent_subscriber else None, persistent=persistent_subscriber)
        self.sub.start()
        test.addCleanup(self.sub.stop)
        self.pty = Pty(self.dir)
        test.addCleanup(self.pty.close)
        self.line = bytearray()  # written since the daemon opened the line
        if callable(url):
            url = url(self.broker)
        if callable(conf):
            conf = conf(self.dir)
        self.daemon = Daemon(self.dir, self.pty.link, self.broker, topic, args, url, mqtt, env,
                             conf, guard, meter, state_dir)
        test.addCleanup(self._check_daemon)
        self.daemon.start()
        test.addCleanup(self.daemon.terminate)
        self.client_id = self.daemon.wait_ready() if ready else None

    def _check_daemon(self):
        # Runs after daemon.terminate(): whatever the test did, nothing may have been logged at
        # error level or above, but for the errors the test provoked (allowed_errors: regexes).
        errors = [line for line in self.daemon.at_most(LOG_ERR)
                  if not any(re.search(rx, line) for rx in self.allowed_errors)]
        self.test.assertEqual(errors, [], "linkyd logged errors")

    @property
    def topic(self):
        return self.daemon.topic

    def frames(self):
        """The frames received so far, on the daemon's current topic."""
        return self.sub.payloads(self.topic)

    def arrivals(self):
        """{frame index: when it first arrived} for generated frames."""
        out = {}
        for m in self.sub.messages(self.topic):
            out.setdefault(frame_index(m.payload), m.time)
        return out

    def line_reopened(self):
        """The daemon closed the line and opened it again: its parser starts afresh."""
        self.line = bytearray()

    def unplug(self):
        self.pty.unplug()
        self.line_reopened()

    def plug(self):
        self.pty.plug()

    def feed(self, data, fmt="typed", chunk=64, pace=0.001, timeout=10):
        """Write data, wait for the frames it completes and return (what arrived, what
        `linkyd --decode` prints for it). The reference decodes everything written on this
        line, as the daemon's parser sees it: a capture that ends mid-frame runs into the next."""
        done = len(decode(bytes(self.line), fmt))
        self.line += data
        expected = decode(bytes(self.line), fmt)[done:]
        before = len(self.frames())
        self.pty.write(data, chunk, pace)
        got = self.sub.wait_count(self.topic, before + len(expected), timeout)[before:]
        return got, expected


def main():
    """Run the calling test file's tests; exit 77 (CTest's "skipped") without the tools."""
    import sys
    import unittest
    missing = missing_tools()
    if missing:
        print(f"skipped: {', '.join(missing)} not installed", file=sys.stderr)
        sys.exit(77)
    unittest.main(module="__main__", verbosity=2)
