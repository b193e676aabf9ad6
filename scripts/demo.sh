#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/demo.sh: see linkyd at work without a meter, on a fresh Debian 12 machine (as root or
# with sudo, from any directory). Installs what it needs, builds linkyd (build/release, the same
# configuration as scripts/test.sh), starts a local mosquitto on 127.0.0.1:1883 unless one
# already answers there, and replays bundled real meter captures through a pseudo-terminal into
# linkyd, paced like a meter's line: a Linky in standard mode, then an older meter in historique
# mode. What a subscriber sees on teleinfo/# is printed as it arrives.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

port=1883
linkyd=$LINKYD_ROOT/$LINKYD_RELEASE_DIR/linkyd
work=$(mktemp -d)
pids=()

cleanup()
{
	local pid

	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

broker_answers()
{
	mosquitto_sub -h 127.0.0.1 -p "$port" -t linkyd/demo/probe -W 1 >/dev/null 2>&1 ||
		[ $? -eq 27 ] # 27: connected, timed out waiting for a message
}

# wait_for WHAT COMMAND...: poll COMMAND for up to 10 s.
wait_for()
{
	local what=$1 i

	shift
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	die "timed out waiting for $what"
}

section "packages"
linkyd_install_packages "${LINKYD_DEMO_PACKAGES[@]}"

section "build ($LINKYD_RELEASE_DIR)"
linkyd_configure_release
linkyd_build "$LINKYD_RELEASE_DIR" linkyd

section "broker"
if broker_answers; then
	echo "Using the mosquitto already answering on 127.0.0.1:$port."
else
	printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto.conf"
	mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
	pids+=($!)
	wait_for "mosquitto on 127.0.0.1:$port" broker_answers
	echo "Started mosquitto on 127.0.0.1:$port (stopped at the end)."
fi

section "meter line"
# A pseudo-terminal pair: linkyd reads one end as it would read /dev/serial0, the replay
# writes the meter's bytes into the other.
socat pty,raw,echo=0,link="$work/tic" pty,raw,echo=0,link="$work/meter" 2>"$work/socat.log" &
pids+=($!)
wait_for "the pseudo-terminal pair" test -e "$work/meter"
echo "linkyd reads $work/tic"

section "linkyd and a subscriber (mosquitto_sub -v -t 'teleinfo/#')"
mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'teleinfo/#' &
pids+=($!)
# The derived values' state (energy per period) stays in the demo's directory, not in
# /var/lib/linkyd; everything else is the built-in defaults.
echo "state_dir = \"$work\";" >"$work/linkyd.conf"
"$linkyd" --config "$work/linkyd.conf" --input "$work/tic" --mqtt "mqtt://127.0.0.1:$port" &
linkyd_pid=$!
pids+=("$linkyd_pid")
sleep 1

# At 9600 Bd a meter sends about 960 bytes a second, at 1200 Bd 120; the replay keeps that pace
# (sped up 4x for historique, so that the demo stays short).
replay()
{
	python3 - "$1" "$2" "$work/meter" <<'PY'
import sys, time
capture, rate, tty = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(capture, "rb").read()
with open(tty, "wb", buffering=0) as out:
    for i in range(0, len(data), 32):
        out.write(data[i:i + 32])
        time.sleep(32 / rate)
PY
}
for i in 1 2 3; do
	replay tests/data/standard-mono-base-01.tic 960
done
replay tests/data/historique-hchp-mono-03.tic 480
replay tests/data/historique-hchp-mono-03.tic 480
sleep 1

section "stopping linkyd (it publishes offline)"
kill -TERM "$linkyd_pid"
wait "$linkyd_pid" || true
sleep 0.5
echo
echo "That was linkyd: each frame of the meter became one JSON message on 'teleinfo'."
echo "Next: README.md, 'Raspberry Pi + PiTInfo', to read a real meter."
