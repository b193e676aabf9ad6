#!/bin/sh
# SPDX-License-Identifier: MIT
# Build linkyd_bench in Release, time every stage on every capture, then count each stage's
# instructions per byte under callgrind, and print one markdown table (for the README) with the
# targets. Instruction counts do not depend on the machine's load, unlike the timings. Then the
# same for a frame pushed by an Eesmart D2L (linkyd_bench_d2l): instructions per frame of the
# serial path (the parser) beside the D2L path (decryption and CRC, JSON, rebuild, parser).
#
# Environment: BUILD_DIR (default build-bench), FRAMES (timed run, default 200000), REPS (5),
# CG_FRAMES (callgrind runs, default 20000).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
frames=${FRAMES:-200000}
reps=${REPS:-5}
cg_frames=${CG_FRAMES:-20000}
bench=$build/linkyd_bench

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

echo "building $bench" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >"$tmp/cmake.log" ||
	{ cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$build" --target linkyd_bench linkyd_bench_d2l >>"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log" >&2; exit 1; }

echo "timed run: $frames frames per capture, best of $reps" >&2
"$bench" --frames "$frames" --reps "$reps" >"$tmp/timed.md"
# Timings mean little without the machine and its load.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
load=$(cut -d ' ' -f 1-3 /proc/loadavg)

# One stage on one capture under callgrind: prints its total instructions (Ir), the capture's
# size in bytes and its frames.
callgrind() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bench" --stage "$1" \
		--capture "$2" --frames "$cg_frames" >"$tmp/stage.out" 2>"$tmp/valgrind.log" ||
		{ cat "$tmp/valgrind.log" >&2; exit 1; }
	printf '%s %s %s\n' "$(awk '/^totals:/ { print $2 }' "$tmp/cg.out")" \
		"$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' "$tmp/stage.out")" \
		"$(sed -n 's/.* frames=\([0-9]*\).*/\1/p' "$tmp/stage.out")"
}

# Each stage's count minus a run that only generates and verifies the capture.
: >"$tmp/ir"
for capture in hist std tri; do
	echo "callgrind: $capture, $cg_frames frames" >&2
	callgrind none "$capture" >"$tmp/res"
	read -r base _ <"$tmp/res"
	for stage in floor parser frames json publish; do
		callgrind "$stage" "$capture" >"$tmp/res"
		read -r ir bytes frames <"$tmp/res"
		echo "$capture $stage $((ir - base)) $bytes $frames" >>"$tmp/ir"
	done
done

# Append the instruction columns to the timed table, and check the instruction target.
awk -v cg_frames="$cg_frames" -v cpu="$cpu" -v load="$load" '
	FNR == NR {
		ir[$1 " " $2] = $3 / $4
		irf[$1 " " $2] = $3 / $5
		next
	}
	/^\| capture / { print $0 " Ir/byte | Ir/frame | Ir × floor |"; next }
	/^\|---/ { print $0 "---:|---:|---:|"; next }
	/^\| / {
		split($0, f, " *\\| *")
		key = f[2] " " f[3]
		printf "%s %.2f | %.0f | %.2f |\n", $0, ir[key], irf[key], ir[key] / ir[f[2] " floor"]
		next
	}
	FNR == 1 { print "Machine: " cpu ", load average " load " after the timed run.\n" }
	/^- target/ && !done {
		met = 1
		line = ""
		n = split("hist std tri", caps, " ")
		for (i = 1; i <= n; i++) {
			r = ir[caps[i] " parser"] / ir[caps[i] " floor"]
			line = line sprintf("%s %s %.2fx", i > 1 ? "," : "", caps[i], r)
			if (r > 2)
				met = 0
		}
		printf "- target: parser alone <= 2x the floor in instructions per byte:%s, %s\n",
		    line, met ? "met" : "NOT MET"
		done = 1
	}
	{ print }
	END { printf "\nIr: instructions counted by callgrind on %d frames per capture, minus a run " \
	    "that only generates and verifies the capture.\n", cg_frames }
' "$tmp/ir" "$tmp/timed.md"

# ---- D2L ----------------------------------------------------------------------------------------

# One stage of linkyd_bench_d2l on one capture under callgrind: its total instructions.
callgrind_d2l() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$build/linkyd_bench_d2l" \
		--stage "$1" --capture "$root/tests/data/$2.tic" --frames "$cg_frames" \
		>"$tmp/stage.out" 2>"$tmp/valgrind.log" || { cat "$tmp/valgrind.log" >&2; exit 1; }
	awk '/^totals:/ { print $2 }' "$tmp/cg.out"
}

echo "callgrind: D2L frames, $cg_frames frames per capture" >&2
printf '\n| capture | TIC bytes/frame | sealed bytes/frame | serial Ir/frame | D2L Ir/frame | D2L × serial |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for capture in historique-hchp-mono-01 standard-mono-base-01 standard-tri-tempo-noise-01; do
	base=$(callgrind_d2l none "$capture")
	serial=$(callgrind_d2l serial "$capture")
	d2l=$(callgrind_d2l d2l "$capture")
	sizes=$(sed -n 's/.* tic_bytes=\([0-9]*\) sealed_bytes=\([0-9]*\) n=\([0-9]*\).*/\1 \2 \3/p' \
		"$tmp/stage.out")
	echo "$capture $base $serial $d2l $sizes" | awk -v n="$cg_frames" '{
		s = ($3 - $2) / n; d = ($4 - $2) / n
		printf "| %s | %d | %d | %.0f | %.0f | %.1f |\n", $1, $5 / $7, $6 / $7, s, d, d / s }'
done
printf '\nD2L Ir: decryption, CRC, the JSON payload rebuilt into the TIC frame and the parser, per '
printf 'frame, minus a run that only seals the frames; serial: the parser alone on the same frame.\n'
