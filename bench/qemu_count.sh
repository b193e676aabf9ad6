#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/qemu_count.sh [ARCH...]: the instructions per byte of the parser stage against the memchr
# floor, as bench/run.sh counts them under callgrind, but for the ARM builds (arm64, armhf by
# default), which valgrind cannot run here. Each is cross-built (build/bench-ARCH, Release), then
# run under qemu-user in single-step mode with every executed block logged: one line per guest
# instruction, counted. Debian's qemu-user-static has no plugins (its instruction counter), and
# this is as exact: on x86-64 (ARCH x86_64, the native compiler) it gives callgrind's Ir to a few
# instructions in millions. Slow (a few hundred thousand instructions a second), hence few frames,
# over which the parser stage's one-time cost (about 14 000 instructions) still shows: compare
# these figures with each other rather than with bench/run.sh's.
#
# Environment: QC_FRAMES (frames per run, default 100), BUILD_DIR_PREFIX (default build/bench-).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
frames=${QC_FRAMES:-100}
prefix=${BUILD_DIR_PREFIX:-$root/build/bench-}
[ $# -gt 0 ] || set -- arm64 armhf

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Guest instructions of one run of a stage: the blocks logged, each one instruction long (read
# through a pipe: the log takes about 70 bytes per instruction).
count() {
	rm -f "$tmp/stage.out"
	n=$({ "$qemu" -L "$sysroot" -singlestep -d exec,nochain "$bench" --stage "$1" \
		--capture "$2" --frames "$frames" 2>&1 >"$tmp/stage.out"; } | grep -c '^Trace')
	grep -q 'bytes=' "$tmp/stage.out" || { echo "$bench --stage $1 failed" >&2; exit 1; }
	echo "$n"
}

for arch in "$@"; do
	build=$prefix$arch
	if [ "$arch" = x86_64 ]; then
		toolchain=
		qemu="qemu-x86_64-static"
		sysroot=/
	else
		toolchain=-DCMAKE_TOOLCHAIN_FILE=$root/cmake/toolchain-$arch.cmake
		qemu=$(sed -n 's/^set(LINKYD_CROSS_QEMU \(.*\))$/\1/p' \
			"$root/cmake/toolchain-$arch.cmake")-static
		sysroot=/usr/$(sed -n 's/^set(LINKYD_CROSS_TRIPLET \(.*\))$/\1/p' \
			"$root/cmake/toolchain-$arch.cmake")
	fi
	echo "building $build/linkyd_bench" >&2
	# shellcheck disable=SC2086 # toolchain: no argument at all for the native build
	cmake -S "$root" -B "$build" $toolchain -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
		>"$tmp/cmake.log" || { cat "$tmp/cmake.log" >&2; exit 1; }
	nice -n 10 cmake --build "$build" --target linkyd_bench -j 2 >>"$tmp/cmake.log" 2>&1 ||
		{ cat "$tmp/cmake.log" >&2; exit 1; }
	bench=$build/linkyd_bench

	printf '\n%s, %d frames per capture:\n\n' "$arch" "$frames"
	printf '| capture | floor Ir/byte | parser Ir/byte | parser Ir/frame | parser × floor |\n'
	printf '|---|---:|---:|---:|---:|\n'
	for capture in hist std tri; do
		echo "$arch: $capture" >&2
		base=$(count none "$capture")
		floor=$(count floor "$capture")
		parser=$(count parser "$capture")
		bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' "$tmp/stage.out")
		echo "$capture $base $floor $parser $bytes" | awk -v n="$frames" '{
			f = ($3 - $2) / $5; p = ($4 - $2) / $5
			printf "| %s | %.2f | %.2f | %.0f | %.2f |\n", $1, f, p, ($4 - $2) / n, p / f }'
	done
done
printf '\nIr: guest instructions counted under qemu-user -singlestep, minus a run that only '
printf 'generates and verifies the capture.\n'
