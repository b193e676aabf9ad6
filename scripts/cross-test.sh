#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/cross-test.sh [ARCH...]: the Raspberry Pi's architectures, arm64 and armhf by default.
# For each: cross-build linkyd and its tests with Debian's cross toolchain and multiarch -dev
# packages (build/cross-ARCH, Release, -Werror), run the unit tests under qemu-user, then
# decode every capture of tests/data with the ARM linkyd and compare the output with the native
# build's byte for byte: `--decode FILE` and `--decode --format raw FILE`, standard output and
# the counters on standard error, and ha_dump's Home Assistant messages and derived values
# (the energy per period does date arithmetic, where a 32-bit time_t would show).
#
# The native build is build/release, the one scripts/test.sh builds (built here if missing).
# As root or with sudo on a fresh Debian 12 machine: the packages are installed if missing.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

[ $# -gt 0 ] || set -- arm64 armhf
native_dir=$LINKYD_RELEASE_DIR
data=$LINKYD_ROOT/tests/data

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

section "packages"
packages=("${LINKYD_BUILD_PACKAGES[@]}")
for arch in "$@"; do
	mapfile -t -O "${#packages[@]}" packages < <(linkyd_cross_packages "$arch")
done
linkyd_install_packages "${packages[@]}"

if [ ! -x "$native_dir/linkyd" ] || [ ! -x "$native_dir/tests/ha_dump" ]; then
	section "native build ($native_dir)"
	linkyd_configure_release
	linkyd_build "$native_dir" linkyd ha_dump
fi

# compare ARCH NAME COMMAND...: run COMMAND (words after the program) with the native and the
# ARM program, and compare standard output and standard error byte for byte.
compare()
{
	local arch=$1 name=$2 prog=$3 qemu=$4 native=$5 cross=$6

	shift 6
	"$native" "$@" >"$tmp/native.out" 2>"$tmp/native.err" || true
	"$qemu" "$cross" "$@" >"$tmp/cross.out" 2>"$tmp/cross.err" || true
	checks=$((checks + 1))
	if ! cmp -s "$tmp/native.out" "$tmp/cross.out" ||
		! cmp -s "$tmp/native.err" "$tmp/cross.err"; then
		echo "DIFFERS on $arch: $prog $name" >&2
		diff "$tmp/native.out" "$tmp/cross.out" | head -n 10 >&2 || true
		diff "$tmp/native.err" "$tmp/cross.err" | head -n 10 >&2 || true
		differ=$((differ + 1))
	fi
}

status=0
for arch in "$@"; do
	dir=build/cross-$arch
	qemu=$(sed -n 's/^set(LINKYD_CROSS_QEMU \(.*\))$/\1/p' "cmake/toolchain-$arch.cmake")-static
	[ -n "$qemu" ] || die "no cmake/toolchain-$arch.cmake"

	section "$arch: cross build ($dir)"
	linkyd_configure "$dir" -DCMAKE_TOOLCHAIN_FILE="$LINKYD_ROOT/cmake/toolchain-$arch.cmake" \
		-DCMAKE_BUILD_TYPE=Release -DLINKYD_WERROR=ON
	nice -n 10 cmake --build "$LINKYD_ROOT/$dir" -j 2
	"$qemu" "$dir/linkyd" --version

	section "$arch: unit tests under $qemu"
	if ! PYTHONDONTWRITEBYTECODE=1 nice -n 10 ctest --test-dir "$dir" -L unit \
		--output-on-failure -j 2 --timeout 300; then
		status=1
	fi

	section "$arch: every capture, native and $arch byte for byte"
	checks=0
	differ=0
	(
		# The summary names the file as given: bare names, from the data directory. ha_dump's
		# periods are in local time.
		cd "$data"
		export TZ=Europe/Paris
		for tic in *.tic; do
			compare "$arch" "--decode $tic" linkyd "$qemu" "$LINKYD_ROOT/$native_dir/linkyd" \
				"$LINKYD_ROOT/$dir/linkyd" --decode "$tic"
			compare "$arch" "--decode --format raw $tic" linkyd "$qemu" \
				"$LINKYD_ROOT/$native_dir/linkyd" "$LINKYD_ROOT/$dir/linkyd" \
				--decode --format raw "$tic"
			compare "$arch" "$tic 3" ha_dump "$qemu" \
				"$LINKYD_ROOT/$native_dir/tests/ha_dump" "$LINKYD_ROOT/$dir/tests/ha_dump" \
				"$tic" 3
		done
		echo "$arch: $((checks - differ)) of $checks outputs identical to the native build's"
		[ "$differ" -eq 0 ] && [ "$checks" -ge 30 ]
	) || status=1
done
exit "$status"
