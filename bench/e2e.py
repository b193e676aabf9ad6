#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
End-to-end benchmark of linkyd: TIC bytes into a pseudo-terminal, JSON out of a real mosquitto,
measured in one run beside a reference MQTT client (mosquitto_pub -l publishing the same JSON
lines). Python 3 standard library only; everything on 127.0.0.1. Prints one markdown table.

What runs (tests/integration/harness.py provides every part):
  - mosquitto on a free port (no limit on messages queued for a slow subscriber: its default of
    1000 drops QoS 1 messages in a burst); mosquitto_sub on "#" printing its own receive time
    (-F '%U ...', CLOCK_REALTIME with nanoseconds, taken in its message callback, so pipe and
    Python delays do not count);
  - linkyd, started fresh: `linkyd -i <pty symlink> --mqtt mqtt://127.0.0.1:PORT --topic bench`
    (typed JSON, QoS 1, the defaults; the harness's generated -c file says the same, so that no
    installed /etc/linkyd.conf is read);
  - the reference: `mosquitto_pub -h 127.0.0.1 -p PORT -t ref -l -q 1`, fed on its standard input
    the lines `linkyd --decode` prints for the very bytes linkyd is sent.
Frames: the real standard-mode capture tests/data/standard-mono-base-01.tic (865 bytes, 38 groups),
its EAST/EASF01/EASD01 indexes set to a counter (checksums recomputed), so that every frame is
told apart and each JSON received is checked against what `linkyd --decode` makes of the bytes.

Phases, in this order, with one daemon:
  1. warm-up: a few frames (connection up, speed locked, frame length known); then --idle seconds
     with nothing on the line (CPU and wake-ups of an idle daemon, paho's threads included); then
     what one bare wake-up costs on this machine (`cat` copying a byte from a pipe every --pace
     seconds), to read the line-rate numbers against: on a VM it can be tens of microseconds;
  2. line rate: --line-frames frames at 9600 Bd 7E1 (960 bytes/s) delivered like a USB adapter:
     --chunk bytes every --pace seconds (default 16 bytes every 16.7 ms, an FTDI latency timer),
     the last, partial chunk of a frame one pace later, --gap seconds between frames. Measured:
     daemon CPU per frame (all threads, /proc/PID/task/*/schedstat, from the first chunk to the
     last frame received); wake-ups per frame (voluntary context switches of the loop thread,
     and of all threads, /proc/PID/task/TID/status); latency from the write of the chunk holding
     a frame's ETX to mosquitto_sub's receive time: p50, p99 (nearest rank), max. The reference
     gets each frame's JSON line half a frame period after the ETX (so the two never share the
     broker at the same instant); its latency runs from that write;
  3. burst: --frames frames written as fast as the pty takes them; daemon CPU from just before
     the first byte until the subscriber has the last frame; then the same JSON lines written
     at once to the reference, measured the same way (until the subscriber has them all);
  4. memory: VmHWM (peak RSS) of both processes at the end, and linkyd's before the burst (the
     burst queues frames, which is the queue doing its job); linkyd's RSS split into anonymous
     and file-backed pages, and its largest mappings.
Profiling (the numbers of such a run are distorted, and say so): --attach CMD runs a command
during one phase ({pid} = linkyd's), e.g. --attach 'strace -c -f -p {pid} -o /tmp/s.txt'
--attach-phase line; --wrap CMD starts linkyd under a command, e.g. valgrind --tool=callgrind
(with --attach "callgrind_control -z {pid}; ..." to count one phase only).
Exit status: 0 whether targets are met or not (MISSED is printed); 2 when the run itself failed
(frames lost or corrupted, a process died): its numbers would mean nothing.

Under systemd ($NOTIFY_SOCKET set) linkyd loads libsystemd, outside it does not: --notify gives
linkyd a $NOTIFY_SOCKET (a socket the benchmark reads), to measure it as the service runs.

Usage: bench/e2e.py [--frames 1000] [--line-frames 30] [--chunk 16] [--pace SECONDS] [--gap 0.02]
       [--notify] [--linkyd PATH]   (default: configure and build Release in build-e2e/, then measure that)
"""
import argparse
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import harness  # noqa: E402

CAPTURE = "standard-mono-base-01.tic"
INDEX_LABELS = ("EAST", "EASF01", "EASD01")  # 9-digit indexes in the real frame
INDEX_BASE = 3519702  # their value in the capture
GUARD_FRAMES = 2  # frames whose indexes the index guard holds back after a start
TOPIC, REF_TOPIC = "bench", "ref"
BAUD_BYTES = 960  # 9600 Bd, 7E1: 10 bits per character

# The targets, as ratios to the client floor measured in the same run where a VM's noise would
# make absolute figures meaningless: the burst at most 1.5x mosquitto_pub's CPU per frame, the
# line rate 1.2x, at most 2 loop-thread wake-ups a frame at line rate (a wake-up is most of the
# cost there), none when idle; absolute ones for latency and memory.
TARGETS = {"burst_x": 1.5, "line_x": 1.2, "wakeups": 2.0, "idle_wakeups": 0.0, "rss_mib": 4.0,
           "p99_ms": 2.0}


# ---- frames ----------------------------------------------------------------------------------

class FrameMaker:
    """The real standard frame with its indexes set to INDEX_BASE + i, checksums recomputed."""

    def __init__(self):
        data = harness.capture(CAPTURE)
        if data[:1] != harness.STX or data[-1:] != harness.ETX:
            raise SystemExit(f"{CAPTURE}: expected exactly one STX...ETX frame")
        self.groups = []  # bytes of a group, or a label whose value is the index
        for g in data[1:-1].split(b"\r")[:-1]:
            label = g[1:].split(b"\t", 1)[0].decode()
            if label in INDEX_LABELS:
                if harness.standard_group(label, f"{INDEX_BASE:09d}") != g + b"\r":
                    raise SystemExit(f"{CAPTURE}: unexpected {label} group {g!r}")
                self.groups.append(label)
            else:
                self.groups.append(g + b"\r")
        if self.frame(0) != data:
            raise SystemExit(f"{CAPTURE}: cannot rebuild the frame")

    def frame(self, i):
        value = f"{INDEX_BASE + i:09d}"
        return (harness.STX + b"".join(harness.standard_group(g, value) if isinstance(g, str)
                                       else g for g in self.groups) + harness.ETX)

    def number(self, payload):
        """i for a JSON frame of frame(i)."""
        return harness.frame_index(payload) - INDEX_BASE


# ---- processes -------------------------------------------------------------------------------

class StampedSubscriber(harness.Subscriber):
    """The harness's subscriber, but each Message.time is mosquitto_sub's own receive time
    (CLOCK_REALTIME, integer nanoseconds, from -F %U) instead of when Python read the line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.args[self.args.index("-F") + 1] = "%U %r %t %p"

    def _read(self):
        for line in self.proc.stdout:
            stamp, retain, topic, payload = line.rstrip(b"\n").decode(
                errors="replace").split(" ", 3)
            sec, _, frac = stamp.partition(".")
            ns = int(sec) * 10**9 + int(frac.ljust(9, "0")[:9])
            with self.cond:
                self.msgs.append(harness.Message(ns, retain == "1", topic, payload))
                self.cond.notify_all()


def read_status(pid, tid=None):
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def kib(status, key):
    return int(status.get(key, "0 kB").split()[0])


def sample(pid):
    """{tid: (name, cpu ns, voluntary switches, involuntary switches)} of a live process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            st = read_status(pid, tid)
            out[int(tid)] = (st["Name"], ns, int(st["voluntary_ctxt_switches"]),
                             int(st["nonvoluntary_ctxt_switches"]))
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just ended
    return out


class Delta:
    """CPU and context switches of a process between two samples, per thread and in total."""

    def __init__(self, pid, before, after):
        self.threads = []
        for tid, (name, ns, vol, invol) in sorted(after.items()):
            b = before.get(tid, (name, 0, 0, 0))
            self.threads.append((tid, name, ns - b[1], vol - b[2], invol - b[3], tid == pid))
        self.cpu_ns = sum(t[2] for t in self.threads)
        self.vol = sum(t[3] for t in self.threads)
        self.main_vol = sum(t[3] for t in self.threads if t[5])


def wake_floor(pace, n=60):
    """What one wake-up costs on this machine, whatever the program: CPU per wake-up of `cat`
    copying one byte at a time from a pipe to /dev/null, a byte every pace seconds."""
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.1)
        b = sample(cat.pid)
        for _ in range(n):
            os.write(cat.stdin.fileno(), b"x")
            time.sleep(pace)
        d = Delta(cat.pid, b, sample(cat.pid))
    finally:
        cat.stdin.close()
        cat.wait(5)
    return d.cpu_ns / max(d.vol, 1) / 1e3, d.vol / n  # µs per wake-up, wake-ups per byte


def percentile(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def smaps_top(pid, n=8):
    """The n mappings (by file, or [heap], [stack], anonymous) with the most resident KiB."""
    rss, dirty = {}, {}
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = fields[5] if len(fields) > 5 else "[anonymous]"
                name = os.path.basename(name) if name.startswith("/") else name
            elif fields[0] == "Rss:":
                rss[name] = rss.get(name, 0) + int(fields[1])
            elif fields[0] in ("Private_Dirty:",):
                dirty[name] = dirty.get(name, 0) + int(fields[1])
    top = sorted(rss.items(), key=lambda kv: -kv[1])[:n]
    return [(k, v, dirty.get(k, 0)) for k, v in top]


class WrappedDaemon(harness.Daemon):
    """The harness's daemon, optionally started under a wrapper command (valgrind ...): the
    harness runs $LINKYD, which points at a script exec'ing the wrapper only while it starts."""

    def __init__(self, wrap, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wrap = wrap

    def start(self):
        if not self.wrap:
            super().start()
            return
        script = self.dir / "wrapped-linkyd"
        script.write_text(f'#!/bin/sh\nexec {self.wrap} "{harness.linkyd_path()}" "$@"\n')
        script.chmod(0o755)
        saved = os.environ["LINKYD"]
        os.environ["LINKYD"] = str(script)
        try:
            super().start()
        finally:
            os.environ["LINKYD"] = saved


class Attached:
    """--attach: a command (e.g. strace -c -f -p {pid}) run for one phase, stopped by SIGINT."""

    def __init__(self, args, phase, pid):
        self.proc = None
        if args.attach and args.attach_phase == phase:
            cmd = args.attach.format(pid=pid)
            print(f"{phase}: attaching `{cmd}` (the numbers of this run are distorted)",
                  file=sys.stderr)
            self.proc = subprocess.Popen(cmd, shell=True, start_new_session=True)
            time.sleep(args.attach_delay)

    def stop(self):
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


class Reference:
    """mosquitto_pub -l -q 1 on REF_TOPIC, lines written to its standard input."""

    def __init__(self, broker):
        self.broker = broker
        self.id = f"linkyd-bench-ref-{os.getpid()}"
        self.proc = None

    def start(self, timeout=10):
        mark = len(self.broker.log())
        self.proc = subprocess.Popen(
            [harness.tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(self.broker.port),
             "-t", REF_TOPIC, "-l", "-q", "1", "-i", self.id],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # The broker logs each connection with the client's id.
        harness.wait_until(lambda: self.proc.poll() is not None
                           or f"as {self.id}" in self.broker.log()[mark:], timeout,
                           "mosquitto_pub to connect")
        if self.proc.poll() is not None:
            raise RuntimeError("mosquitto_pub exited: " + self.proc.stderr.read().decode())

    @property
    def pid(self):
        return self.proc.pid

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # EOF: it publishes what is left and exits
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ---- the run ---------------------------------------------------------------------------------

class Failed(Exception):
    """The run itself went wrong: its numbers mean nothing."""


def check_received(sub, topic, maker, numbers, expected):
    """Every frame numbered in numbers arrived once on topic with the expected JSON; returns
    {number: receive time ns}."""
    got = {}
    wanted = set(numbers)
    want_json = dict(zip(numbers, expected))
    for m in sub.messages(topic):
        try:
            k = maker.number(m.payload)
        except (ValueError, KeyError):
            continue  # not a benchmark frame
        if k not in wanted:
            continue
        if k in got:
            raise Failed(f"frame {k} arrived twice on {topic}")
        want = want_json[k]
        if m.payload != want:
            raise Failed(f"frame {k} on {topic} differs from `linkyd --decode`:\n"
                         f"  got  {m.payload[:200]}\n  want {want[:200]}")
        got[k] = m.time
    missing = wanted - got.keys()
    if missing:
        raise Failed(f"{len(missing)} frame(s) never arrived on {topic}, e.g. {min(missing)}")
    return got


def wait_numbers(sub, topic, maker, numbers, timeout, what):
    wanted = set(numbers)

    def done(msgs):
        seen = set()
        for m in msgs:
            if m.topic == topic:
                try:
                    seen.add(maker.number(m.payload))
                except (ValueError, KeyError):
                    pass
        return wanted <= seen

    try:
        sub.wait_for(done, timeout, what)
    except AssertionError as e:
        raise Failed(str(e)) from None


def line_schedule(frames, chunk, pace, gap):
    """[(seconds from start, 'tic' | 'ref', bytes, frame k)]: frame k's chunks as a USB adapter
    hands them over (a chunk as soon as it is full, the partial last one at the next tick of its
    latency timer), and the reference's JSON line for frame k half a period after its ETX."""
    events = []
    t = 0.0
    period = len(frames[0]) / BAUD_BYTES + gap
    for k, f in enumerate(frames):
        parts = [f[o:o + chunk] for o in range(0, len(f), chunk)]
        for c, part in enumerate(parts):
            events.append((t + (c + 1) * pace, "tic", part, k if c == len(parts) - 1 else None))
        events.append((t + len(parts) * pace + period / 2, "ref", None, k))
        t += len(f) / BAUD_BYTES + gap
    events.sort(key=lambda e: e[0])
    return events, period


def notify_socket(workdir, cleanups):
    """--notify: a datagram socket standing for systemd's, read by socat (not by a thread of
    this process, which would compete with the writer); its path."""
    path = os.path.join(workdir, "notify")
    proc = subprocess.Popen(["socat", "-u", f"UNIX-RECV:{path}", "/dev/null"])
    cleanups.append(lambda: proc.kill() or proc.wait(5))
    harness.wait_until(lambda: os.path.exists(path), 5, "socat to bind the notify socket")
    return path


def run(args, linkyd):
    os.environ["LINKYD"] = linkyd
    maker = FrameMaker()
    frame_len = len(maker.frame(0))
    res = {"frame_len": frame_len}
    tmp = tempfile.TemporaryDirectory(prefix="linkyd-e2e-")
    cleanups = [tmp.cleanup]
    try:
        broker = harness.Broker(tmp.name)
        # mosquitto drops QoS 1 messages beyond 1000 queued for a subscriber (a burst is faster
        # than mosquitto_sub): no limit here.
        broker.conf.write_text(broker.conf.read_text() + "max_queued_messages 0\n")
        broker.start()
        cleanups.append(broker.stop)
        sub = StampedSubscriber(broker, tmp.name)
        sub.start()
        cleanups.append(sub.stop)
        pty = harness.Pty(tmp.name)
        cleanups.append(pty.close)
        # The default queue (4096 frames) holds any burst up to that; beyond, make room (the
        # harness's `mqtt` settings).
        more = {"mqtt": f"queue = {args.frames + 100};"} if args.frames + 100 > 4096 else {}
        if args.notify:
            more["env"] = {"NOTIFY_SOCKET": notify_socket(tmp.name, cleanups)}
        daemon = WrappedDaemon(args.wrap, tmp.name, pty.link, broker, TOPIC, **more, args=[
            "-i", pty.link, "--mqtt", broker.url, "--topic", TOPIC])
        daemon.start()
        cleanups.append(daemon.terminate)
        daemon.wait_ready(timeout=60 if args.wrap else 10)
        ref = Reference(broker)
        ref.start()
        cleanups.append(ref.stop)
        res["rss_start_kib"] = kib(read_status(daemon.pid), "VmRSS")
        res["ref_rss_start_kib"] = kib(read_status(ref.pid), "VmRSS")

        # 1. Warm-up, then idle. The index guard holds a cold meter's indexes back until
        # GUARD_FRAMES + 1 frames agree: those first frames are sent, and counted, apart.
        cold = b"".join(maker.frame(k) for k in range(-GUARD_FRAMES, 0))
        pty.write(cold, chunk=64, pace=0.001)
        try:
            sub.wait_count(TOPIC, GUARD_FRAMES, 10)
        except AssertionError as e:
            raise Failed(str(e)) from None
        n = 0
        warm = list(range(n, n + args.warmup))
        data = b"".join(maker.frame(k) for k in warm)
        pty.write(data, chunk=64, pace=0.001)
        wait_numbers(sub, TOPIC, maker, warm, 10, "the warm-up frames")
        check_received(sub, TOPIC, maker, warm, harness.decode(data))
        n += args.warmup
        time.sleep(0.2)
        b = sample(daemon.pid)
        time.sleep(args.idle)
        res["idle"] = Delta(daemon.pid, b, sample(daemon.pid))
        res["floor"] = wake_floor(args.pace)

        # 2. Line rate, the reference interleaved.
        nums = list(range(n, n + args.line_frames))
        n += args.line_frames
        frames = [maker.frame(k) for k in nums]
        lines = [s.encode() + b"\n" for s in harness.decode(b"".join(frames))]
        events, period = line_schedule(frames, args.chunk, args.pace, args.gap)
        etx_ns, ref_ns = {}, {}
        late = 0.0
        print(f"line rate: {len(nums)} frames, {len(events)} writes over "
              f"{events[-1][0]:.1f} s", file=sys.stderr)
        attached = Attached(args, "line", daemon.pid)
        b, rb = sample(daemon.pid), sample(ref.pid)
        t0 = time.monotonic() + 0.05
        for t, kind, part, k in events:
            left = t0 + t - time.monotonic()
            if left > 0:
                time.sleep(left)
            late = max(late, time.monotonic() - (t0 + t))
            stamp = time.time_ns()
            if kind == "tic":
                pty.write(part, chunk=len(part))
                if k is not None:
                    etx_ns[nums[k]] = stamp
            else:
                ref.write(lines[k])
                ref_ns[nums[k]] = stamp
        wait_numbers(sub, TOPIC, maker, nums, 10, "the line-rate frames")
        wait_numbers(sub, REF_TOPIC, maker, nums, 10, "the reference's line-rate frames")
        line = Delta(daemon.pid, b, sample(daemon.pid))
        rline = Delta(ref.pid, rb, sample(ref.pid))
        attached.stop()
        got = check_received(sub, TOPIC, maker, nums, [s.decode()[:-1] for s in lines])
        rgot = check_received(sub, REF_TOPIC, maker, nums, [s.decode()[:-1] for s in lines])
        res["line"] = line
        res["ref_line"] = rline
        res["line_n"] = len(nums)
        res["chunks_per_frame"] = math.ceil(frame_len / args.chunk)
        res["lat_ms"] = [(got[k] - etx_ns[k]) / 1e6 for k in nums]
        res["ref_lat_ms"] = [(rgot[k] - ref_ns[k]) / 1e6 for k in nums]
        res["late_ms"] = late * 1e3
        res["period"] = period
        res["json_len"] = len(lines[0]) - 1
        st = read_status(daemon.pid)
        res["rss_line_kib"] = (kib(st, "VmHWM"), kib(st, "VmRSS"))

        # 3. Burst: linkyd, then the reference on the same JSON lines.
        nums = list(range(n, n + args.frames))
        n += args.frames
        data = b"".join(maker.frame(k) for k in nums)
        lines = harness.decode(data)
        print(f"burst: {len(nums)} frames, {len(data)} bytes", file=sys.stderr)
        timeout = 30 + args.frames * (0.1 if args.wrap or args.attach else 0.01)
        attached = Attached(args, "burst", daemon.pid)
        b = sample(daemon.pid)
        w0 = time.monotonic()
        pty.write(data, chunk=4096, timeout=timeout)
        wait_numbers(sub, TOPIC, maker, nums, timeout, "the burst")
        res["burst_wall"] = time.monotonic() - w0
        res["burst"] = Delta(daemon.pid, b, sample(daemon.pid))
        attached.stop()
        check_received(sub, TOPIC, maker, nums, lines)
        payload = "".join(s + "\n" for s in lines).encode()
        b = sample(ref.pid)
        w0 = time.monotonic()
        writer = threading.Thread(target=ref.write, args=(payload,), daemon=True)
        writer.start()
        wait_numbers(sub, REF_TOPIC, maker, nums, timeout, "the reference's burst")
        res["ref_burst_wall"] = time.monotonic() - w0
        res["ref_burst"] = Delta(ref.pid, b, sample(ref.pid))
        writer.join(5)
        check_received(sub, REF_TOPIC, maker, nums, lines)
        res["burst_n"] = len(nums)

        # 4. Memory.
        time.sleep(0.2)
        st, rst = read_status(daemon.pid), read_status(ref.pid)
        res["rss"] = {k: kib(st, k) for k in ("VmHWM", "VmRSS", "RssAnon", "RssFile",
                                              "RssShmem", "VmSize", "Threads")}
        res["rss"]["Threads"] = int(st["Threads"])  # a count, not KiB
        res["ref_rss"] = {k: kib(rst, k) for k in ("VmHWM", "VmRSS", "RssAnon", "RssFile")}
        res["smaps"] = smaps_top(daemon.pid)
        if not daemon.alive():
            raise Failed(f"linkyd exited:\n{daemon.log()}")
        res["warnings"] = daemon.at_most(harness.LOG_WARNING)
        return res
    finally:
        for c in reversed(cleanups):
            try:
                c()
            except Exception as e:  # keep cleaning up
                print(f"cleanup: {e}", file=sys.stderr)


# ---- the report ------------------------------------------------------------------------------

def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return (f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {model}, "
            f"Linux {os.uname().release}, load average {load}")


def report(args, res, linkyd):
    version = subprocess.run([linkyd, "--version"], capture_output=True, text=True).stdout
    mosq = re.search(r"version (\S+)", subprocess.run(
        [harness.tool("mosquitto_pub"), "--help"], capture_output=True, text=True).stdout)
    burst, rburst = res["burst"], res["ref_burst"]
    line, rline = res["line"], res["ref_line"]
    bn, ln = res["burst_n"], res["line_n"]
    b_us, rb_us = burst.cpu_ns / bn / 1e3, rburst.cpu_ns / bn / 1e3
    l_ms, rl_ms = line.cpu_ns / ln / 1e6, rline.cpu_ns / ln / 1e6
    lat, rlat = res["lat_ms"], res["ref_lat_ms"]
    rss, rrss = res["rss"]["VmHWM"] / 1024, res["ref_rss"]["VmHWM"] / 1024
    rss_line = res["rss_line_kib"][0] / 1024
    missed = []

    def row(name, ours, ref, target="", met=""):
        print(f"| {name} | {ours} | {ref} | {target} | {met} |")
        if "MISSED" in met:
            missed.append(name)

    def verdict(value, target):
        return "met" if value <= target else "**MISSED**"

    print(f"linkyd {version.split()[-1] if version else '?'} ({linkyd}) beside mosquitto_pub "
          f"{mosq.group(1) if mosq else '?'} -l -q 1; broker mosquitto on 127.0.0.1; QoS 1, "
          f"typed JSON ({res['json_len']} bytes a frame); "
          + ("as under systemd ($NOTIFY_SOCKET set: libsystemd loaded)." if args.notify else
             "outside systemd ($NOTIFY_SOCKET unset: libsystemd not loaded)."))
    print(f"Machine: {machine()}.")
    floor_us, _ = res["floor"]
    print(f"A bare wake-up here (cat copying a byte from a pipe every {args.pace * 1e3:.1f} ms) "
          f"costs {floor_us:.1f} µs of CPU.")
    print(f"Frames: {CAPTURE} ({res['frame_len']} bytes, 38 groups), indexes counting. Line rate: "
          f"9600 Bd 7E1 as {args.chunk}-byte chunks every {args.pace * 1e3:.1f} ms, "
          f"{args.gap * 1e3:.0f} ms between frames ({res['period']:.3f} s a frame).\n")
    print("| measure | linkyd | reference (mosquitto_pub -l) | target | met? |")
    print("|---|---:|---:|---|---|")
    row(f"CPU per frame, burst of {bn}", f"{b_us:.1f} µs ({b_us / rb_us:.2f}x the floor)",
        f"{rb_us:.1f} µs", f"≤ {TARGETS['burst_x']}x", verdict(b_us / rb_us, TARGETS["burst_x"]))
    row(f"CPU per frame, line rate ({ln} frames)", f"{l_ms:.3f} ms ({l_ms / rl_ms:.2f}x)",
        f"{rl_ms:.3f} ms", f"≤ {TARGETS['line_x']}x", verdict(l_ms / rl_ms, TARGETS["line_x"]))
    row("wake-ups per frame, line rate: loop (main) thread / all threads",
        f"{line.main_vol / ln:.1f} / {line.vol / ln:.1f}",
        f"{rline.main_vol / ln:.1f} / {rline.vol / ln:.1f}",
        f"loop ≤ {TARGETS['wakeups']:g} (vs {res['chunks_per_frame']} chunks a frame)",
        verdict(line.main_vol / ln, TARGETS["wakeups"]))
    idle_main = sum(vol for _, _, _, vol, _, main in res["idle"].threads if main) / args.idle
    row("loop-thread wake-ups a second, idle", f"{idle_main:.1f}", "",
        f"{TARGETS['idle_wakeups']:g} (but watchdog)", verdict(idle_main, TARGETS["idle_wakeups"]))
    row("latency ETX → subscriber, p50", f"{percentile(lat, 50):.3f} ms",
        f"{percentile(rlat, 50):.3f} ms")
    row("latency ETX → subscriber, p99", f"{percentile(lat, 99):.3f} ms",
        f"{percentile(rlat, 99):.3f} ms", f"≤ {TARGETS['p99_ms']:g} ms",
        verdict(percentile(lat, 99), TARGETS["p99_ms"]))
    row("latency ETX → subscriber, max", f"{max(lat):.3f} ms", f"{max(rlat):.3f} ms")
    row("peak RSS (VmHWM), whole run", f"{rss:.2f} MiB", f"{rrss:.2f} MiB",
        f"≤ {TARGETS['rss_mib']:g} MiB", verdict(rss, TARGETS["rss_mib"]))
    row("peak RSS (VmHWM) before the burst", f"{rss_line:.2f} MiB", "",
        f"≤ {TARGETS['rss_mib']:g} MiB", verdict(rss_line, TARGETS["rss_mib"]))
    print()
    print("- Reference: the same JSON lines on mosquitto_pub's standard input, so no serial "
          "line, parser or encoder; its latency runs from writing the line to its pipe. "
          "Wake-ups: voluntary context switches (each one a sleep ended by a wake-up).")
    print(f"- Latency over {ln} frames; p99 is the nearest rank (with fewer than 100 frames, "
          f"the max). The writer ran up to {res['late_ms']:.1f} ms late on its schedule.")
    print(f"- Slowest frames (ms): linkyd " + ", ".join(f"{v:.2f}" for v in sorted(lat)[-5:][::-1])
          + "; reference " + ", ".join(f"{v:.2f}" for v in sorted(rlat)[-5:][::-1]) + ".")
    print(f"- Burst wall time, first byte to last frame at the subscriber: linkyd "
          f"{res['burst_wall']:.2f} s ({bn / res['burst_wall']:.0f} frames/s), reference "
          f"{res['ref_burst_wall']:.2f} s.")
    idle = res["idle"]
    print(f"- Idle linkyd ({args.idle:g} s, nothing on the line): {idle.cpu_ns / args.idle / 1e3:.0f}"
          f" µs CPU and {idle.vol / args.idle:.1f} wake-ups a second: " + ", ".join(
              f"{name}{' (main)' if main else ''} {ns / args.idle / 1e3:.0f} µs/s "
              f"{vol / args.idle:.1f}/s" for _, name, ns, vol, _, main in idle.threads) + ".")
    for phase, d, n in (("line rate", line, ln), ("burst", burst, bn)):
        print(f"- linkyd threads, {phase}, per frame (CPU, voluntary / involuntary switches): "
              + ", ".join(f"{name}{' (main)' if main else ''} {ns / n / 1e3:.1f} µs "
                          f"{vol / n:.1f}/{invol / n:.1f}"
                          for _, name, ns, vol, invol, main in d.threads) + ".")
    r = res["rss"]
    print(f"- linkyd RSS: {res['rss_start_kib']} KiB once connected, VmHWM "
          f"{res['rss_line_kib'][0]} KiB after the line-rate phase, {r['VmHWM']} KiB at the end "
          f"(VmRSS {r['VmRSS']} = anonymous {r['RssAnon']} + files {r['RssFile']}); "
          f"{r['Threads']} threads, VmSize {r['VmSize'] / 1024:.0f} MiB. Reference VmHWM "
          f"{res['ref_rss']['VmHWM']} KiB (anonymous {res['ref_rss']['RssAnon']} + files "
          f"{res['ref_rss']['RssFile']}).")
    print("- linkyd's largest mappings at the end (RSS / private dirty, KiB): " + ", ".join(
        f"{name} {kb}/{dirty}" for name, kb, dirty in res["smaps"]) + ".")
    if res["warnings"]:
        print("- linkyd logged: " + "; ".join(res["warnings"][:5]))
    print()
    print("MISSED: " + "; ".join(missed) if missed else "All targets met.")


def build():
    build_dir = ROOT / "build-e2e"
    for cmd in (["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release"],
                ["cmake", "--build", str(build_dir), "-j2", "--target", "linkyd"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return str(build_dir / "linkyd")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--linkyd", help="the linkyd to measure (default: build Release in "
                   "build-e2e/ and use that)")
    p.add_argument("--frames", type=int, default=1000, help="burst frames (1000)")
    p.add_argument("--line-frames", type=int, default=30, help="line-rate frames (30)")
    p.add_argument("--chunk", type=int, default=16, help="bytes per USB chunk (16)")
    p.add_argument("--pace", type=float, default=None,
                   help="seconds between chunks (default: chunk / 960 B/s)")
    p.add_argument("--gap", type=float, default=0.02, help="seconds between frames (0.02)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up frames (3)")
    p.add_argument("--idle", type=float, default=2.0, help="idle seconds measured (2)")
    p.add_argument("--notify", action="store_true", help="run linkyd as under systemd: "
                   "$NOTIFY_SOCKET set to a socket the benchmark reads (linkyd then loads "
                   "libsystemd)")
    p.add_argument("--attach", metavar="CMD", help="profiling: a shell command run during one "
                   "phase, {pid} replaced by linkyd's, stopped by SIGINT after it, e.g. "
                   "'strace -c -f -p {pid}' or 'perf record -g -p {pid} -o /tmp/perf.data'")
    p.add_argument("--attach-phase", choices=("line", "burst"), default="burst")
    p.add_argument("--attach-delay", type=float, default=1.0,
                   help="seconds given the attached command to start (1)")
    p.add_argument("--wrap", metavar="CMD", help="profiling: run linkyd under this command, "
                   "e.g. 'valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%%p'")
    args = p.parse_args()
    if args.pace is None:
        args.pace = args.chunk / BAUD_BYTES
    if args.frames < 1 or args.line_frames < 1 or args.chunk < 1 or args.warmup < 1:
        p.error("counts must be positive")
    missing = harness.missing_tools()
    if missing:
        sys.exit(f"missing: {', '.join(missing)} (apt-get install mosquitto mosquitto-clients)")
    linkyd = os.path.abspath(args.linkyd) if args.linkyd else build()
    try:
        res = run(args, linkyd)
    except (Failed, AssertionError, RuntimeError) as e:
        print(f"e2e: the run failed, no numbers: {e}", file=sys.stderr)
        sys.exit(2)
    if args.attach or args.wrap:
        print("NOTE: linkyd ran under --wrap or with --attach: not a plain run, the numbers are "
              "not comparable.\n")
    report(args, res, linkyd)


if __name__ == "__main__":
    main()
