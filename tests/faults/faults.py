#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Fault injection: linkyd against a damaged line, a dying broker, a frozen broker, a vanishing
serial device, SIGKILL while it writes its state file, a full disk and a long soak, with real
parts only (tests/integration/harness.py: mosquitto on 127.0.0.1, mosquitto_sub, pseudo-
terminals, the daemon). Each experiment measures what the subscriber received against what
`linkyd --decode` (and scripts/tic_reference.py) find in the same bytes, and against the frames
as they were before the damage: intact frames delivered / intact frames sent, corrupt values
published (a value that differs from the intact frame's).

Run by scripts/faults.sh, which builds what is needed and sets LINKYD, LINKYD_ASAN and
FAULTSHIM; by hand: faults.py [--short] [--only NAME]... [--report FILE]. Exits 1 when an
experiment fails. docs/faults.md says what each one does and what was found.
"""
import argparse
import contextlib
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import harness as h  # noqa: E402
from test_d2l import (GET_HORLOGE, ID_A, IV_A, KEY_A, PUSH_JSON, Module,  # noqa: E402
                      d2l_payload)
from test_http import get, http_conf  # noqa: E402
from test_tcp import Bridge  # noqa: E402

REFERENCE = ROOT / "scripts" / "tic_reference.py"
EOT = b"\x04"


class Ctx:
    """What harness.Rig expects of a unittest.TestCase: cleanups, run in reverse order."""

    def __init__(self):
        self.stack = contextlib.ExitStack()

    def addCleanup(self, fn, *args, **kwargs):  # noqa: N802 (unittest's name)
        self.stack.callback(fn, *args, **kwargs)

    def assertEqual(self, a, b, msg=None):  # noqa: N802
        if a != b:
            raise AssertionError(f"{msg}: {a!r} != {b!r}")

    def enterContext(self, cm):  # noqa: N802
        return self.stack.enter_context(cm)


class Result:
    def __init__(self, title, header):
        self.title, self.header, self.rows, self.notes, self.failures = title, header, [], [], []

    def row(self, *cells):
        self.rows.append([str(c) for c in cells])

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok

    def markdown(self, seconds):
        verdict = "PASS" if not self.failures else "FAIL: " + "; ".join(self.failures)
        out = [f"### {self.title}", "", f"{verdict} ({seconds:.0f} s)", ""]
        if self.rows:
            out += ["| " + " | ".join(self.header) + " |",
                    "|" + "---|" * len(self.header)]
            out += ["| " + " | ".join(r) + " |" for r in self.rows]
            out.append("")
        out += [f"- {n}" for n in self.notes]
        return "\n".join(out) + ("\n" if self.notes else "")


# ---- frames and damage --------------------------------------------------------------------

def decode_all(data, fmt="raw"):
    return [json.loads(line) for line in h.decode(data, fmt)]


def reference_decode(data, fmt="raw"):
    """scripts/tic_reference.py's frames for data: the independent decoder's opinion."""
    with tempfile.NamedTemporaryFile(suffix=".tic") as f:
        f.write(data)
        f.flush()
        r = subprocess.run([sys.executable, str(REFERENCE), f.name, "--format", fmt],
                           capture_output=True, timeout=600, check=True)
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def pool(prefix):
    """The frames of the real captures tests/data/PREFIX-*.tic that decode whole, alone."""
    out = []
    for path in sorted(h.DATA.glob(f"{prefix}-*.tic")):
        for m in re.finditer(rb"\x02[^\x02\x03\x04]*\x03", path.read_bytes()):
            frame = m.group(0)
            groups = frame.count(b"\n")
            decoded = decode_all(frame)
            if len(decoded) == 1 and len([k for k in decoded[0] if k[0] != "_"]) == groups:
                out.append(frame)
    return out


def with_parity(frame):
    """The frame as a 7E1 line read 8 bits wide carries it: the parity bit in bit 7."""
    return bytes(c | (0x80 if bin(c).count("1") % 2 else 0) for c in frame)


def hits(n, p, rng):
    """The positions in range(n) a Bernoulli(p) process hits (geometric gaps: fast)."""
    i = -1
    while True:
        i += 1 + int(math.log(1.0 - rng.random()) / math.log(1.0 - p))
        if i >= n:
            return
        yield i


def bit_errors(p, bits):
    def damage(frame, rng):
        b = bytearray(frame)
        for k in hits(len(b) * bits, p, rng):
            b[k // bits] ^= 1 << (k % bits)
        return bytes(b)
    return damage


def bit6_flips(p):
    def damage(frame, rng):
        b = bytearray(frame)
        for k in hits(len(b), p, rng):
            b[k] ^= 0x40
        return bytes(b)
    return damage


def drops(p):
    def damage(frame, rng):
        gone = set(hits(len(frame), p, rng))
        return bytes(c for i, c in enumerate(frame) if i not in gone)
    return damage


def repeats(p):
    def damage(frame, rng):
        twice = set(hits(len(frame), p, rng))
        return b"".join(frame[i:i + 1] * (2 if i in twice else 1) for i in range(len(frame)))
    return damage


def storms(p):
    """A burst of 1 to 16 STX or EOT somewhere in p of the frames (or just before them)."""
    def damage(frame, rng):
        if rng.random() >= p:
            return frame
        at = rng.randrange(len(frame) + 1)
        return frame[:at] + rng.choice((h.STX, EOT)) * rng.randint(1, 16) + frame[at:]
    return damage


def damaged_stream(frames, n, damage, rng, parity=False):
    """n frames cycled from frames, damaged: (bytes, [(intact frame, arrived whole)])."""
    out, sent = [], []
    for i in range(n):
        frame = frames[i % len(frames)]
        if parity:
            frame = with_parity(frame)
        bad = damage(frame, rng)
        out.append(bad)
        sent.append((i % len(frames), bad == frame))
    return b"".join(out), sent


def intact_delivered(published, originals, sent):
    """How many intact frames sent arrived whole: for each frame of the capture, as many as
    were sent intact, if published that many times. By content, not position: a real capture
    repeats its frames, and a damaged frame whose damage fell between groups publishes a whole
    copy, which is the same frame delivered."""
    want = Counter(json.dumps(originals[k], sort_keys=True) for k, ok in sent if ok)
    got = Counter(json.dumps(p, sort_keys=True) for p in published)
    return sum(min(n, got[frame]) for frame, n in want.items())


def compare(published, originals, sent):
    """Match each published frame (raw JSON) to the frame sent it most resembles, in order.
    Returns (intact frames delivered, intact frames sent, values of a neighbouring frame,
    corrupt values, of which a padding space read as a backquote (bit 6), examples). A value
    of a neighbouring frame is one the meter sent, in a frame joined to the next one when an
    ETX and the STX after it were both lost: not counted as corrupt."""
    j, merged, corrupt, spaces, examples = 0, 0, 0, 0, []
    for p in published:
        best, best_score = None, -1
        for k in range(j, min(j + 16, len(sent))):
            o = originals[sent[k][0]]
            score = sum(o.get(key) == v for key, v in p.items())
            if score > best_score:
                best, best_score = k, score
        if best is None:
            corrupt += 1
            continue
        j = best + 1
        o = originals[sent[best][0]]
        for key, v in p.items():
            w = o.get(key)
            if key.startswith("_") or w == v:
                continue
            if any(originals[sent[k][0]].get(key) == v
                   for k in range(max(0, best - 2), min(len(sent), best + 3))):
                merged += 1
                continue
            corrupt += 1
            space = (isinstance(w, str) and len(w) == len(v)
                     and all(a == b or (a, b) == (" ", "`") for a, b in zip(w, v)))
            spaces += space
            if len(examples) < 4 and not space:
                examples.append(f"{key}: {w!r} published as {v!r}")
    intact = sum(ok for _, ok in sent)
    return (intact_delivered(published, originals, sent), intact, merged, corrupt, spaces,
            examples)


def quiet(sub, topic, settle=1.5, timeout=120):
    """Wait until nothing more arrives on topic for settle seconds; returns the payloads."""
    deadline = time.monotonic() + timeout
    n = -1
    while time.monotonic() < deadline:
        now = len(sub.payloads(topic))
        if now == n:
            break
        n = now
        time.sleep(settle)
    return sub.payloads(topic)


def rig(ctx, publish="", **kw):
    """harness.Rig publishing raw JSON (the values as the meter sent them, for compare())."""
    r = h.Rig(ctx, conf=f'publish = {{ format = "raw"; {publish} }};\n' + kw.pop("conf", ""),
              **kw)
    r.allowed_errors.append(r".")  # the experiments judge by what arrives
    return r


# ---- the experiments ------------------------------------------------------------------------

def noise(ctx, short):
    res = Result("Noise on the serial line (the frames of a real standard capture, pty)",
                 ["line", "damage", "frames", "intact sent", "intact delivered", "ratio",
                  "values of a neighbouring frame", "corrupt values", "of which space → `",
                  "daemon = --decode",
                  "= tic_reference.py"])
    # One meter's frames, as a line carries: frames of several meters joined across a lost
    # ETX and STX would mix values no meter sends together.
    originals_bytes = pool("standard-mono-prod")
    originals = [decode_all(f)[0] for f in originals_bytes]
    n = 600 if short else 3000
    conditions = [("1e-5", bit_errors(1e-5, 7)), ("1e-4", bit_errors(1e-4, 7)),
                  ("1e-3", bit_errors(1e-3, 7)), ("1e-2", bit_errors(1e-2, 7)),
                  ("bit-6 flips 1e-4/byte", bit6_flips(1e-4)),
                  ("bit-6 flips 1e-3/byte", bit6_flips(1e-3)),
                  ("dropped bytes 1e-3", drops(1e-3)), ("repeated bytes 1e-3", repeats(1e-3)),
                  ("STX/EOT storms, 10% of frames", storms(0.1))]
    lines = [("7 bits", False), ("7E1", True)]
    if short:
        conditions = [conditions[2], conditions[5], conditions[8]]
        lines = lines[:1]
    res.notes.append("Every published group passed the checksum and the label's format, as "
                     "in --decode and tic_reference.py: a corrupt value is a change that "
                     "passes both (docs/faults.md), counted, not a failure.")
    rng = random.Random(1)
    r = rig(ctx)
    for line, parity in lines:
        for name, damage in (conditions if not parity else
                             [(f"{e}", bit_errors(float(e), 8))
                              for e in ("1e-5", "1e-4", "1e-3", "1e-2")]):
            data, sent = damaged_stream(originals_bytes, n, damage, rng, parity)
            before = len(r.frames())
            expected = [json.loads(x) for x in h.decode(bytes(r.line) + data, "raw")]
            done = len(decode_all(bytes(r.line))) if r.line else 0
            expected = expected[done:]
            r.line += data
            r.pty.write(data, chunk=4096)
            with contextlib.suppress(AssertionError):  # judged below
                r.sub.wait_count(r.topic, before + len(expected), 120)
            got = [json.loads(p) for p in quiet(r.sub, r.topic)[before:]]
            same = got == expected
            ref = reference_decode(data) == expected
            d, intact, merged, corrupt, spaces, ex = compare(got, originals, sent)
            res.row(line, name, n, intact, d, f"{d / intact:.4f}" if intact else "-", merged,
                    corrupt, spaces, "yes" if same else "NO", "yes" if ref else "NO")
            res.check(d == intact, f"{line} {name}: intact frames lost")
            res.check(same, f"{line} {name}: published differs from --decode")
            res.check(ref, f"{line} {name}: --decode differs from tic_reference.py")
            if ex:
                res.notes.append(f"{line}, {name}: corrupt values other than a space, e.g. "
                                 + "; ".join(ex))
    return res


def noise_then_clean(ctx, short):
    res = Result("Heavy noise, then a clean line", ["noise", "speed changes",
                                                    "clean frames 1..199", "delivered"])
    seconds = 8 if short else 40
    r = rig(ctx, meter="silence = 2;")
    rng = random.Random(2)
    mark = r.daemon.mark()
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        r.pty.write(bytes(rng.randrange(256) for _ in range(1024)), chunk=1024)
        time.sleep(0.1)
    searches = sum("trying" in t for _, t in r.daemon.lines()[mark:])
    r.line_reopened()
    clean = h.frames(h.standard_frame, 0, 200)
    before = len(r.frames())
    # The parser may be mid-garbage: the first frame can be cut; the rest must all come.
    r.pty.write(clean, chunk=1024, pace=0.01)
    got = {h.frame_index(p) for p in quiet(r.sub, r.topic)[before:]}
    res.row(f"{seconds} s of random bytes", searches, 199, len(got & set(range(1, 200))))
    res.check(searches > 0, "no speed search")
    res.check(set(range(1, 200)) <= got, "clean frames lost")
    res.notes.append("frame 0 may run into the garbage before it: frames 1..199 must arrive")
    return res


def unplug(ctx, short):
    res = Result("Serial device removed and re-created", ["cycles", "frames sent",
                                                          "delivered", "back after (median)",
                                                          "(max)"])
    cycles = 10 if short else 100
    r = rig(ctx)
    back, sent = [], []
    for c in range(cycles):
        r.unplug()
        time.sleep(0.05 + (c % 5) * 0.1)  # gone for 50 to 450 ms: before or after a retry
        r.plug()
        t0 = time.monotonic()
        idx = list(range(c * 3, c * 3 + 3))
        r.pty.write(b"".join(h.standard_frame(i) for i in idx))
        sent += idx
        r.sub.wait_for(lambda _, i=idx[-1]: i in map(h.frame_index, r.frames()), 60,
                       f"frame {idx[-1]}")
        back.append(r.arrivals()[idx[0]] - t0)
    got = [h.frame_index(p) for p in r.frames()]
    res.row(cycles, len(sent), len(got), f"{statistics.median(back):.2f} s", f"{max(back):.2f} s")
    res.check(got == sent, "frames lost or out of order")
    return res


def broker_kills(ctx, short):
    res = Result("Broker SIGKILLed every few seconds (QoS 1, persistent subscriber)",
                 ["input", "duration", "kills", "frames sent", "delivered (distinct)",
                  "in order", "duplicates"])
    seconds = 12 if short else 60
    r = rig(ctx, persistence=True, persistent_subscriber=True)
    saves = r.broker.saves()
    h.wait_until(lambda: r.broker.saves() > saves, 5, "the broker to save its database")
    stream = h.Stream(r.pty, h.standard_frame, interval=0.05)
    stream.start()
    kills = kill_broker_for(r, seconds, random.Random(3))
    written = stream.stop()
    got = wait_indexes(r, written)
    first = list(dict.fromkeys(got))
    res.row("serial (pty)", f"{seconds} s", kills, len(written), len(set(got) & set(written)),
            "yes" if first == written else "NO", len(got) - len(first))
    res.check(first == written, "frames lost or out of order")
    return res


def kill_broker_for(r, seconds, rng):
    """SIGKILL the broker every 2 to 5 s for seconds, restarting it after 0.2 to 1 s."""
    kills, t_end = 0, time.monotonic() + seconds
    while time.monotonic() < t_end:
        time.sleep(rng.uniform(2, 5) if kills else 1)
        r.broker.kill()
        kills += 1
        time.sleep(rng.uniform(0.2, 1))
        r.broker.start()
    return kills


def wait_indexes(r, written, timeout=60):
    try:
        r.sub.wait_for(lambda _: set(written) <= set(map(h.frame_index, r.frames())),
                       timeout, "every frame written")
    except AssertionError:
        pass  # reported by the caller's comparison
    return [h.frame_index(p) for p in quiet(r.sub, r.topic)]


def metric(port, name):
    _, _, body = get(port, "/metrics")
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\d+)", body.decode(), re.M)
    return int(m.group(1)) if m else None


def broker_freeze(ctx, short):
    res = Result("Broker frozen (SIGSTOP) past the queue bound, then resumed",
                 ["mqtt.queue", "frames while frozen", "delivered after", "dropped (counter)",
                  "never delivered", "in order", "connection lost"])
    for q in ([50] if short else [50, 100, 1000]):
        port = h.free_port()
        r = rig(ctx, mqtt=f"queue = {q}; keepalive = 60;", conf=http_conf(port))
        r.feed(h.frames(h.standard_frame, 0, 3))
        mark = r.daemon.mark()
        n = q + 200
        os.kill(r.broker.proc.pid, signal.SIGSTOP)
        try:
            for i in range(n):
                r.pty.write(h.standard_frame(1000 + i))
                time.sleep(0.002)
            h.wait_until(lambda: (metric(port, "linkyd_meter_frames_total") or 0) >= n + 3, 10,
                         "the daemon to read every frame")
            time.sleep(0.5)
            dropped = metric(port, "linkyd_mqtt_dropped_messages_total")
        finally:
            os.kill(r.broker.proc.pid, signal.SIGCONT)
        late = [i for i in map(h.frame_index, quiet(r.sub, r.topic, 2)) if i >= 1000]
        lost_conn = any("lost" in t for _, t in r.daemon.lines()[mark:])
        distinct = list(dict.fromkeys(late))
        res.row(q, n, len(distinct), dropped, n - len(distinct),
                "yes" if distinct == sorted(distinct) else "NO", "yes" if lost_conn else "no")
        res.check(len(distinct) == q, f"queue {q}: {len(distinct)} frames kept")
        res.check(dropped == n - len(distinct), f"queue {q}: drop counter wrong")
        res.check(distinct == sorted(distinct), f"queue {q}: out of order")
    return res


# ---- the state file ---------------------------------------------------------------------------

STEPS = ("open", "write", "fsync", "rename", "dirfsync", "random")


def clock_env(t0, extra=None):
    """The fast clock of faultshim.so: an hour a second from t0 on, t0 being the first of its
    month 01:00; the same t0 for every run of an experiment, so that the clock goes on."""
    lt = time.localtime(t0)
    base = time.mktime((lt.tm_year, lt.tm_mon, 1, 1, 0, 0, 0, 0, -1))
    env = {"LD_PRELOAD": os.environ["FAULTSHIM"], "FAULTSHIM_CLOCK": f"{t0} {base} 3600"}
    env.update(extra or {})
    return env


def read_state(path):
    """(valid, [words of each line]) of a state file; valid None when there is none."""
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return None, []
    valid = bool(lines) and lines[0] == "linkyd-derive 1" and lines[-1] == "end"
    return valid, [x.split() for x in lines]


def month_baseline(words):
    """The EAST index the month's energy counts from: the last index less the energy so far;
    the same from one state file to the next unless energy was lost or counted twice."""
    reg = [int(w[2]) for w in words if w[:2] == ["register", "EAST"]]
    energy = [int(w[3]) for w in words if w[:3] == ["period_energy", "month", "EAST"]]
    return reg[0] - sum(energy) if reg else None


def sigkill_state(ctx, short):
    res = Result("SIGKILL of linkyd at each step of the state-file write, and at random",
                 ["step", "runs", "SIGKILLed there", "state valid after", "resumed",
                  "month baseline kept"])
    per_step = 2 if short else 32
    t0 = time.time()
    r = rig(ctx, env=clock_env(t0))
    state = Path(r.dir) / "meter.state"
    rng = random.Random(4)
    stream = h.Stream(r.pty, h.standard_frame, first=1000, interval=0.02)
    stream.start()
    baseline = h.wait_until(lambda: month_baseline(read_state(state)[1]), 20,
                            "a first state file with the EAST register")
    # One daemon at a time on the line: two readers would share its bytes.
    r.daemon.proc.kill()
    r.daemon.proc.wait(10)
    for step in STEPS:
        valid = resumed = kept = killed = 0
        for _ in range(per_step):
            if step == "random":
                r.daemon.env = clock_env(t0)
                r.daemon.start()
                time.sleep(rng.uniform(0.3, 3))
                r.daemon.proc.kill()
            else:
                r.daemon.env = clock_env(t0, {"FAULTSHIM_KILL": f"{step} {rng.randint(1, 2)}"})
                r.daemon.start()
            try:
                killed += r.daemon.proc.wait(30) == -signal.SIGKILL
            except subprocess.TimeoutExpired:  # counted: not killed there
                r.daemon.proc.kill()
                r.daemon.proc.wait(10)
            ok, st = read_state(state)
            valid += bool(ok)
            kept += month_baseline(st) == baseline
            mark = r.daemon.mark()
            r.daemon.env = clock_env(t0)
            r.daemon.start()
            r.daemon.wait_log(r"derived values resumed from", 10, after=mark)
            resumed += 1
            r.daemon.proc.kill()
            r.daemon.proc.wait(10)
        res.row(step, per_step, killed, valid, resumed, kept)
        res.check(killed == per_step, f"{step}: not killed there")
        res.check(valid == per_step, f"{step}: state file invalid")
        res.check(kept == per_step, f"{step}: month energy reset or counted twice")
    # A last clean run: the energy adds up to the frames' indexes.
    mark = r.daemon.mark()
    r.daemon.start()
    r.daemon.wait_log(r"derived values resumed from", 10, after=mark)
    time.sleep(2)
    code, _ = r.daemon.stop()
    written = stream.stop()
    ok, st = read_state(state)
    res.check(ok and month_baseline(st) == baseline, "final state: baseline moved")
    reg = [w[2] for w in st if w[:2] == ["register", "EAST"]]
    res.notes.append(f"month baseline {baseline} Wh kept throughout; final EAST {reg} of "
                     f"{written[-1]} written; last exit status {code}")
    # Within one month, what was published never goes down: a restart waits for an index to
    # bring the saved energy up to date before publishing it (derive_energy_current()).
    month = [(j["month"]["start"], j["month"]["total"])
             for j in map(json.loads, r.sub.payloads(r.topic + "/energy"))]
    back = [peak - e for i, (start, e) in enumerate(month)
            if (peak := max((t for s, t in month[:i] if s == start), default=e)) > e]
    res.check(month and not back, "published month energy went down")
    res.notes.append(f"published month energy: {len(month)} messages, {len(back)} below an "
                     f"earlier one (by {max(back, default=0)} Wh at most), the last "
                     f"{month[-1][1] if month else '-'} Wh")
    return res


def sigterm(ctx, short):
    res = Result("SIGTERM and restart while frames flow", ["restarts", "exit 0", "slowest exit",
                                                           "frames sent", "lost",
                                                           "most lost in one restart"])
    n = 4 if short else 30
    r = rig(ctx)
    stream = h.Stream(r.pty, h.standard_frame, interval=0.02)
    stream.start()
    codes, times = [], []
    for _ in range(n):
        time.sleep(random.uniform(0.5, 1.5))
        code, took = r.daemon.stop()
        codes.append(code)
        times.append(took)
        mark = r.daemon.mark()
        r.daemon.start()
        r.daemon.wait_log(r"connected to ", 10, after=mark)
    time.sleep(0.5)
    written = stream.stop()
    got = set(wait_indexes(r, written, timeout=5))
    lost = sorted(set(written) - got)
    runs = [1]
    for a, b in zip(lost, lost[1:]):
        runs[-1:] = [runs[-1] + 1] if b == a + 1 else [runs[-1], 1]
    res.row(n, sum(c == 0 for c in codes), f"{max(times):.2f} s", len(written), len(lost),
            max(runs) if lost else 0)
    res.check(all(c == 0 for c in codes), "an exit status was not 0")
    res.check(max(times) < 1, "an exit took a second or more")
    # The frame under way at SIGTERM is finished (line_finish()), and what follows it is left
    # for the next process: nothing lost.
    res.check(not lost, "a frame lost across a restart")
    return res


def disk_full(ctx, short):
    res = Result("The state directory's disk full (64 KiB tmpfs)",
                 ["'cannot save' warnings", "frames while full", "delivered",
                  "saved again once freed"])
    if os.geteuid() != 0:
        res.check(False, "needs root (a tmpfs mount)")
        return res
    state_dir = Path(ctx.enterContext(tempfile.TemporaryDirectory(prefix="linkyd-full-")))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(state_dir)],
                   check=True)
    ctx.addCleanup(subprocess.run, ["umount", str(state_dir)], check=True)
    t0 = time.time()
    r = rig(ctx, env=clock_env(t0), state_dir=state_dir)
    stream = h.Stream(r.pty, h.standard_frame, interval=0.02)
    stream.start()
    h.wait_until(lambda: (state_dir / "meter.state").exists(), 10, "a state file")
    filler = state_dir / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    with contextlib.suppress(OSError):
        while True:
            os.write(fd, b"\0" * 4096)
    os.close(fd)
    mark = r.daemon.mark()
    first = len(stream.written)
    r.daemon.wait_log(r"cannot save the derived values", 10, after=mark)
    time.sleep(3 if short else 10)  # several hours of the fast clock, a save due each
    full = stream.written[first:]
    filler.unlink()
    r.daemon.wait_log(r"derived values saved again", 10, after=mark)
    written = stream.stop()
    got = set(wait_indexes(r, written))
    warnings = sum("cannot save" in t for _, t in r.daemon.lines()[mark:])
    res.row(warnings, len(full), len(set(i for i, _ in full) & got), "yes")
    res.check(warnings == 1, "the warning was not said once")
    res.check(set(written) <= got, "frames lost")
    valid, _ = read_state(state_dir / "meter.state")
    res.check(valid, "the state file is not valid")
    return res


def tcp(ctx, short):
    res = Result("TCP input (a serial bridge): noise, connections dropped mid-frame, broker "
                 "kills", ["frames", "connections", "broker kills", "intact sent",
                           "intact delivered", "not what --decode finds",
                           "corrupt values"])
    n = 400 if short else 3000
    rng = random.Random(5)
    bridge = Bridge()
    ctx.addCleanup(bridge.close)
    meter = (f'meters = ( {{ name = "bridge"; input = "tcp:127.0.0.1:{bridge.port}"; '
             f'topic = "linky"; publish = {{ index_guard = false; }}; }} );\n')
    r = rig(ctx, conf=meter, persistence=True, persistent_subscriber=True, ready=False)
    r.daemon.wait_log(r"connected to \S+ as")
    frames = [h.standard_frame(i) for i in range(n)]
    originals = [decode_all(f)[0] for f in frames]
    damage = bit_errors(1e-4, 7)
    sent, expected = [], []
    bridge.wait_client(1)
    stop, kills = threading.Event(), []

    def killer():
        while not stop.is_set():
            kills.append(kill_broker_for(r, 4, random.Random(len(kills))))
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    segment = b""
    for i, frame in enumerate(frames):
        bad = damage(frame, rng)
        if rng.random() < 0.01:  # the bridge drops the client mid-frame
            cut = bad[:rng.randrange(1, len(bad))]
            bridge.send(segment + cut, chunk=4096)
            expected += decode_all(segment + cut)
            sent.append((i, False))
            # The next connection, not one the daemon made meanwhile (the broker's kills).
            following = bridge.accepted + 1
            bridge.drop()
            bridge.wait_client(following)
            segment = b""
            continue
        segment += bad
        sent.append((i, bad == frame))
        if len(segment) > 8192:
            bridge.send(segment, chunk=4096)
            expected += decode_all(segment)
            segment = b""
            time.sleep(0.02)
    bridge.send(segment, chunk=4096)
    expected += decode_all(segment)
    stop.set()
    thread.join(30)
    got = [json.loads(p) for p in dict.fromkeys(wait_for_list(r, expected))]
    d, intact, _, corrupt, _, _ = compare(got, originals, sent)
    extra = sum(g not in expected for g in got)
    res.row(n, bridge.accepted, sum(kills), intact, d, extra, corrupt)
    res.check(d == intact, "intact frames lost")
    res.check(extra == 0, "a frame --decode does not find in its connection was published")
    return res


def wait_for_list(r, expected, timeout=60):
    want = [json.dumps(e, separators=(",", ":")) for e in expected]
    with contextlib.suppress(AssertionError):
        r.sub.wait_for(lambda _: set(want) <= set(r.frames()), timeout, "every frame")
    return quiet(r.sub, r.topic)


def d2l(ctx, short):
    res = Result("D2L input: pushes damaged or cut on the way", ["pushes", "intact",
                                                                  "published", "in order",
                                                                  "damaged or cut",
                                                                  "refused"])
    n = 60 if short else 600
    rng = random.Random(6)
    port = h.free_port()
    meter = (f'meters = ( {{ name = "d2l"; input = "d2l:127.0.0.1:{port}"; '
             f'd2l_id = "{ID_A:012d}"; key = "{KEY_A}"; iv = "{IV_A}"; topic = "linky"; '
             f'publish = {{ index_guard = false; }}; }} );\n')
    r = h.Rig(ctx, conf=meter, ready=False)
    r.daemon.wait_log(r"connected to \S+ as")
    data = h.capture("historique-hchp-mono-01.tic")
    typed = decode_all(data, "typed")
    raws = decode_all(data, "raw")
    module, want, bad, refused = None, [], 0, 0
    for i in range(n):
        if module is None:
            module = Module(port, ID_A, KEY_A, IV_A)
            module.request(GET_HORLOGE)
            module.answer(GET_HORLOGE)
        k = i % len(raws)
        fault = rng.random() < 0.2
        if not fault:
            module.request(PUSH_JSON, d2l_payload(raws[k], "historique", ID_A))
            module.answer(PUSH_JSON)
            want.append(typed[k])
            continue
        bad += 1
        damaged_push(module, d2l_payload(raws[k], "historique", ID_A), rng)
        refused += module.closed(timeout=10)
        module.close()
        module = None
    got = [json.loads(p) for p in r.sub.wait_count(r.topic, len(want), 30)]
    time.sleep(1)
    got = [json.loads(p) for p in r.sub.payloads(r.topic)]
    res.row(n, n - bad, len(got), "yes" if got == want else "NO", bad, refused)
    res.check(got == want, "published differs from the intact pushes")
    res.check(refused == bad, "a damaged push was not refused")
    return res


def damaged_push(module, payload, rng):
    """Send a push with a bit of its encrypted part flipped, or cut short (and the connection
    half-closed, as a module that died)."""
    frame = bytearray(module.encode(PUSH_JSON, payload))
    if rng.random() < 0.5:
        frame[rng.randrange(16, len(frame))] ^= 1 << rng.randrange(8)
        module.sock.sendall(bytes(frame))
    else:
        module.sock.sendall(bytes(frame[:rng.randrange(1, len(frame))]))
        module.sock.shutdown(socket.SHUT_WR)


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def soak(ctx, short):
    res = Result("Soak: frames through the daemon as fast as it takes them",
                 ["build", "frames", "delivered", "frames/s", "RSS, 2nd quarter", "RSS, last quarter",
                  "sanitizer report", "exit"])
    runs = [("release", os.environ["LINKYD"], 20000 if short else 1000000)]
    if os.environ.get("LINKYD_ASAN"):
        runs.append(("ASan+UBSan", os.environ["LINKYD_ASAN"], 5000 if short else 100000))
    for build, exe, n in runs:
        with contextlib.ExitStack() as stack:
            sub_ctx = Ctx()
            stack.enter_context(sub_ctx.stack)
            os.environ["LINKYD"] = exe
            r = rig(sub_ctx, mqtt="queue = 100000;", publish="derived = false;",
                    conf="homeassistant = { discovery = false; };\n")
            r.sub.stop()
            counter = FrameCounter(r.broker, r.topic, r.dir)
            sub_ctx.addCleanup(counter.stop)
            samples, t0 = [], time.monotonic()
            for first in range(0, n, 250):
                # Paced by the subscriber: a queue that grows because the broker is slower
                # than the daemon is no leak, and would hide one; and mosquitto drops QoS 1
                # messages beyond 1000 waiting for a subscriber (max_queued_messages).
                h.wait_until(lambda f=first: counter.count >= f - 250 or not counter.alive(),
                             60, "the subscriber to follow")
                r.pty.write(h.frames(h.standard_frame, first, min(250, n - first)),
                            chunk=4096, timeout=60)
                if first % 1000 == 0:
                    samples.append(rss_kib(r.daemon.pid))
            h.wait_until(lambda: counter.count >= n or not counter.alive(), 60,
                         "every frame at the subscriber")
            rate = n / (time.monotonic() - t0)
            code, _ = r.daemon.stop(timeout=30)
            report = re.search(r"(AddressSanitizer|LeakSanitizer|runtime error)", r.daemon.log())
            # After the warm-up (malloc's arenas, paho's buffers, the queue's first burst):
            # the second quarter against the last one.
            quarter = max(1, len(samples) // 4)
            a, b = max(samples[quarter:2 * quarter]), max(samples[-quarter:])
            res.row(build, n, counter.count, f"{rate:.0f}", f"{a} KiB", f"{b} KiB",
                    report.group(1) if report else "none", code)
            res.check(counter.count == n and counter.in_order, f"{build}: frames lost")
            # RSS rises over the first 100k frames, then stays (docs/faults.md): the pages of
            # the queue's 100 000-slot ring become resident as its head first passes over them.
            # A shorter run cannot tell, and LeakSanitizer judges leaks. ASan's quarantine
            # keeps freed memory by design: its RSS says nothing.
            if build == "release" and n >= 400000:
                res.check(b <= a + 256, f"{build}: RSS grew")
            res.check(not report and code == 0, f"{build}: sanitizer report or bad exit")
    return res


class FrameCounter:
    """mosquitto_sub counting the frames on topic and checking that their indexes follow
    each other, keeping nothing else: a million payloads would not fit."""

    def __init__(self, broker, topic, workdir):
        self.count, self.in_order, self.probe = 0, True, f"linkyd-faults/probe/{os.getpid()}"
        self.subscribed = threading.Event()
        self.proc = subprocess.Popen([h.tool("mosquitto_sub"), "-h", "127.0.0.1", "-p",
                                      str(broker.port), "-q", "1", "-t", topic, "-t",
                                      self.probe, "-F", "%t %p"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        # As harness.Subscriber: probes until one comes back, then no frame can be missed.
        h.wait_until(lambda: h.publish(broker, self.probe, "probe") or
                     self.subscribed.wait(0.5), 10, "mosquitto_sub to subscribe")

    def _read(self):
        probe = self.probe.encode()
        for line in self.proc.stdout:
            if line.startswith(probe):
                self.subscribed.set()
                continue
            m = re.search(rb'"EAST":"0*(\d+)"', line)
            if not m or int(m.group(1)) != self.count:
                self.in_order = False
            self.count += 1

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        h._stop_process(self.proc)
        self.thread.join(5)



def main():
    experiments = {"noise": noise, "noise_then_clean": noise_then_clean, "unplug": unplug,
                   "broker_kills": broker_kills, "broker_freeze": broker_freeze,
                   "sigkill_state": sigkill_state, "sigterm": sigterm, "disk_full": disk_full,
                   "tcp": tcp, "d2l": d2l, "soak": soak}
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", action="store_true", help="the shortened form CI runs")
    ap.add_argument("--only", action="append", choices=experiments, help="this experiment")
    ap.add_argument("--report", default="build/faults/report.md")
    args = ap.parse_args()
    missing = h.missing_tools()
    if missing:
        sys.exit(f"faults.py: missing {', '.join(missing)}")
    parts, failed = [], []
    for name in args.only or experiments:
        t0 = time.monotonic()
        print(f"== {name}", flush=True)
        ctx = Ctx()
        try:
            with ctx.stack:
                res = experiments[name](ctx, args.short)
        except Exception:  # an experiment that broke is a failure, reported with its trace
            res = Result(name, [])
            res.failures.append("exception")
            res.notes.append("```\n" + traceback.format_exc() + "```")
        text = res.markdown(time.monotonic() - t0)
        print(text, flush=True)
        parts.append(text)
        if res.failures:
            failed.append(name)
    head = (f"## Fault report ({'short' if args.short else 'full'} run, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n\n"
            f"Verdict: {'FAILED: ' + ', '.join(failed) if failed else 'nothing lost, nothing corrupt beyond the documented bit-6 limit'}\n\n")
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(head + "\n".join(parts))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
