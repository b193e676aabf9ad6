#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
CPU per HTTP request, route by route, and what the HTTP API costs in memory. Python 3 standard
library only; everything on 127.0.0.1 (tests/integration/harness.py provides every part).

A linkyd with two meters (a three-phase historique one and a three-phase standard Tempo one,
fed the real captures of tests/data through pseudo-terminals) and a local mosquitto. For each
route, --requests GETs on one keep-alive connection (Home Assistant's aiohttp session), then
--fresh GETs of /status.xml each on a connection of its own (Domoticz's curl), with the daemon's
CPU time (all threads, /proc/PID/task/*/schedstat) before and after: CPU per request is what the
daemon spent, libmicrohttpd, the kernel's TCP and the page together. Nothing else happens on the
line meanwhile: the meters' frames were all sent before.

Memory: VmRSS and VmHWM of the same daemon started without http (libmicrohttpd never loaded),
then with http before any request, then after the requests.

Usage: LINKYD=build/release/linkyd bench/bench_http.py [--requests N] [--fresh N]
"""
import argparse
import http.client
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness as h  # noqa: E402

ROUTES = ["/status.xml", "/protect/settings/teleinfo1.xml", "/protect/settings/teleinfo2.xml",
          "/metrics", "/status.json"]


def status(pid):
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[k] = int(v.split()[0])
    return out


def start(workdir, broker, http_port):
    """The daemon with two meters on two ptys, every capture frame read; returns it."""
    ptys = [h.Pty(workdir, "tic"), h.Pty(workdir, "tic2")]
    conf = (f'meters = ( {{ name = "hist"; input = "{ptys[0].link}"; topic = "hist"; }},\n'
            f'  {{ name = "std"; input = "{ptys[1].link}"; topic = "std"; }} );\n')
    if http_port:
        conf += f'http = {{ listen = "127.0.0.1:{http_port}"; }};\n'
    d = h.Daemon(workdir, ptys[0].link, broker, conf=conf)
    d.start()
    sub = h.Subscriber(broker, workdir)
    try:
        sub.start()
        d.wait_log(r"reading .*/tic2? at", 10)
        for pty, name, topic in ((ptys[0], "historique-hchp-tri-adir-01.tic", "hist"),
                                 (ptys[1], "standard-tri-tempo-noise-01.tic", "std")):
            data = h.capture(name)
            pty.write(data)
            sub.wait_count(topic, len(h.decode(data)), 20)
    except BaseException:
        d.terminate()
        raise
    finally:
        sub.stop()
    return d, ptys


def per_request(d, port, path, n, fresh):
    conn = None
    before = d.cpu_seconds()
    t0 = time.monotonic()
    size = 0
    for _ in range(n):
        if conn is None or fresh:
            if conn:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, (path, r.status)
        size = len(body)
    conn.close()
    wall = time.monotonic() - t0
    return (d.cpu_seconds() - before) / n * 1e6, wall / n * 1e6, size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--fresh", type=int, default=500)
    args = ap.parse_args()
    if h.missing_tools():
        sys.exit(f"missing: {', '.join(h.missing_tools())}")

    with tempfile.TemporaryDirectory(prefix="linkyd-bench-http-") as tmp:
        broker = h.Broker(tmp)
        broker.start()
        try:
            mem = {}
            plain = Path(tmp) / "plain"
            plain.mkdir()
            d, ptys = start(plain, broker, None)
            time.sleep(1)
            mem["without http"] = status(d.pid)
            d.stop()
            served = Path(tmp) / "http"
            served.mkdir()
            port = h.free_port()
            d, ptys2 = start(served, broker, port)
            time.sleep(1)
            mem["with http, before any request"] = status(d.pid)
            rows = []
            try:
                for path in ROUTES:
                    cpu, wall, size = per_request(d, port, path, args.requests, False)
                    rows.append((path, "keep-alive", args.requests, size, cpu, wall))
                cpu, wall, size = per_request(d, port, "/status.xml", args.fresh, True)
                rows.append(("/status.xml", "new connection each", args.fresh, size, cpu, wall))
                mem["with http, after the requests"] = status(d.pid)
            finally:
                d.terminate()
        finally:
            broker.stop()

    cpu_model = next((line.split(":", 1)[1].strip() for line in
                      Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "?")
    print(f"{cpu_model}, load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}\n")
    print("| route | connection | requests | body bytes | daemon CPU µs/request "
          "| client wall µs/request |")
    print("|---|---|---:|---:|---:|---:|")
    for path, how, n, size, cpu, wall in rows:
        print(f"| `{path}` | {how} | {n} | {size} | {cpu:.1f} | {wall:.0f} |")
    print("\n| daemon | VmRSS KiB | RssAnon KiB | RssFile KiB | VmHWM KiB |")
    print("|---|---:|---:|---:|---:|")
    for what, m in mem.items():
        print(f"| {what} | {m['VmRSS']} | {m['RssAnon']} | {m['RssFile']} | {m['VmHWM']} |")


if __name__ == "__main__":
    main()
