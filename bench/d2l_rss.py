#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
What libcrypto costs in resident memory: linkyd reading a serial meter (a pseudo-terminal fed
with a real capture) and linkyd serving a D2L module (frames pushed by tests/integration's fake
module), each measured from /proc/PID/status (VmRSS, VmHWM) and /proc/PID/smaps (the resident
and private-dirty KiB of every mapping of libcrypto). With a second binary in LINKYD_LINKED
(linkyd linked against libcrypto: cmake -DCMAKE_EXE_LINKER_FLAGS="-Wl,--no-as-needed -lcrypto"),
the serial meter is measured with it too, which is the cost linking would put on every daemon.

    LINKYD=build/linkyd [LINKYD_LINKED=build-linked/linkyd] python3 bench/d2l_rss.py

No broker is needed: linkyd queues its frames while it retries one on a closed port.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import harness as h  # noqa: E402
import test_d2l as fake  # noqa: E402


def memory(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    kib = {k: int(re.search(rf"^{k}:\s+(\d+)", status, re.M).group(1)) for k in
           ("VmRSS", "VmHWM")}
    rss = dirty = 0
    lib = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            lib = "libcrypto" in line
        elif lib and line.startswith("Rss:"):
            rss += int(line.split()[1])
        elif lib and line.startswith("Private_Dirty:"):
            dirty += int(line.split()[1])
    kib.update(crypto_rss=rss, crypto_dirty=dirty)
    return kib


def start(linkyd, conf, d):
    path = Path(d) / "linkyd.conf"
    path.write_text(conf + f'mqtt = {{ url = "mqtt://127.0.0.1:{h.free_port()}"; }};\n'
                    f'state_dir = "{d}";\n')
    return subprocess.Popen([linkyd, "-c", str(path)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serial(linkyd):
    with tempfile.TemporaryDirectory() as d:
        master, slave = os.openpty()
        tty.setraw(slave)
        proc = start(linkyd, f'meters = ( {{ input = "{os.ttyname(slave)}"; }} );\n', d)
        try:
            data = h.capture("standard-mono-base-01.tic")
            for _ in range(6):
                os.write(master, data)
                time.sleep(0.5)
            return memory(proc.pid)
        finally:
            proc.terminate()
            proc.wait(5)
            os.close(master)
            os.close(slave)


def d2l(linkyd):
    port = h.free_port()
    with tempfile.TemporaryDirectory() as d:
        proc = start(linkyd, f'meters = ( {{ input = "d2l:127.0.0.1:{port}"; '
                     f'd2l_id = "{fake.ID_A:012d}"; key = "{fake.KEY_A}"; '
                     f'iv = "{fake.IV_A}"; }} );\n', d)
        try:
            for _ in range(50):
                try:
                    module = fake.Module(port, fake.ID_A, fake.KEY_A, fake.IV_A)
                    break
                except ConnectionRefusedError:
                    time.sleep(0.1)
            frames = fake.capture_frames("standard-mono-base-01.tic", 1) * 6
            for raw, mode, _ in frames:
                module.request(fake.PUSH_JSON, fake.d2l_payload(raw, mode, fake.ID_A))
                module.answer(fake.PUSH_JSON)
            module.close()
            return memory(proc.pid)
        finally:
            proc.terminate()
            proc.wait(5)


def main():
    os.environ.setdefault("LINKYD", str(ROOT / "build" / "linkyd"))
    runs = [("serial meter", serial, os.environ["LINKYD"]),
            ("D2L module", d2l, os.environ["LINKYD"])]
    if os.environ.get("LINKYD_LINKED"):
        runs.insert(1, ("serial meter, libcrypto linked", serial, os.environ["LINKYD_LINKED"]))
    print("| daemon | VmRSS KiB | VmHWM KiB | libcrypto resident KiB | libcrypto private "
          "dirty KiB |\n|---|---:|---:|---:|---:|")
    for name, run, linkyd in runs:
        os.environ["LINKYD"] = linkyd
        m = run(linkyd)
        print(f"| {name} | {m['VmRSS']} | {m['VmHWM']} | {m['crypto_rss']} | "
              f"{m['crypto_dirty']} |")


if __name__ == "__main__":
    main()
