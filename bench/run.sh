#!/bin/sh
# SPDX-License-Identifier: MIT
# Build linkyd_bench in Release, time every stage on every capture, then count each stage's
# instructions per byte under callgrind, and print one markdown table (for the README) with the
# targets. Instruction counts do not depend on the machine's load, unlike the timings.
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
cmake --build "$build" --target linkyd_bench >>"$tmp/cmake.log" 2>&1 ||
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
