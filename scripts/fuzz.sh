#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/fuzz.sh [SECONDS]: fuzz the TIC parser and the JSON encoder (tests/fuzz/fuzz_tic.c),
# then what follows them, anonymisation, index guard, derived values, policy and per-label
# payloads (tests/fuzz/fuzz_publish.c), the D2L frame decoder (tests/fuzz/fuzz_d2l.c: frames,
# decryption, the JSON payload rebuilt into a TIC frame), and the HTTP API's request path,
# routing, Basic credentials and pages (tests/fuzz/fuzz_http.c), with libFuzzer under
# AddressSanitizer + UndefinedBehaviorSanitizer for SECONDS each (default 60).
# Fails on any crash, broken invariant (abort), leak, timeout or sanitizer report; the input
# that triggered it is kept in build/fuzz/artifacts/DATE/ (reproduce: build/fuzz/tests/fuzz_tic
# FILE).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*) die "usage: $0 [SECONDS] (a whole number of seconds, got '$seconds')" ;;
esac
[ "$seconds" -gt 0 ] || die "SECONDS must be at least 1"

dir=build/fuzz
# One directory per run, so that a reproducer is never mixed up with an older run's.
artifacts=$LINKYD_ROOT/$dir/artifacts/$(date +%Y%m%d-%H%M%S)
log=$LINKYD_ROOT/$dir/fuzz.log

section "fuzz: packages"
linkyd_install_packages "${LINKYD_BUILD_PACKAGES[@]}" "${LINKYD_FUZZ_PACKAGES[@]}"

# -fsanitize=fuzzer links clang's libFuzzer runtime; say which package is missing rather than
# letting the link fail with "cannot find libclang_rt.fuzzer".
runtime=$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)
if [ "$(uname -m)" = x86_64 ] && [ ! -e "$runtime" ]; then
	die "clang's libFuzzer runtime is missing: install libclang-rt-$(clang -dumpversion |
		cut -d. -f1)-dev"
fi

section "fuzz: build ($dir, clang, address;undefined)"
# CC for a fresh directory and CMAKE_C_COMPILER so that the cache cannot hold another compiler.
# -fsanitize=fuzzer-no-link on everything: tests/CMakeLists.txt instruments fuzz_tic.c alone,
# and without coverage of the parser and the encoder libFuzzer would mutate blind.
CC=clang linkyd_configure "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" -DBUILD_TESTING=ON -DLINKYD_FUZZ=ON \
	-DLINKYD_SANITIZE="address;undefined"
linkyd_build "$dir" fuzz_tic fuzz_publish fuzz_d2l fuzz_http
# A fresh corpus each run, so that the repository is never written to. Each capture goes in as
# it is and behind a few first bytes (fuzz_tic's split selector, fuzz_publish's clock): one
# call, chunks of 8, random chunks of up to 512 bytes, cuts around control bytes, stop after
# every frame.
corpus=$(mktemp -d "${TMPDIR:-/tmp}/linkyd-fuzz.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
mkdir "$corpus/seeds"
for capture in tests/data/*.tic; do
	name=$(basename "$capture" .tic)
	cp "$capture" "$corpus/seeds/$name"
	for selector in 00 39 4a 03 04; do
		{
			printf '%b' "\\x$selector"
			cat "$capture"
		} >"$corpus/seeds/$name-$selector"
	done
done

# fuzz_d2l's seeds: each frame of the captures as a D2L's JSON payload (the raw format with its
# _TYPE_TRAME), behind the selector byte 00 (a payload to seal), and the public test vector's.
mkdir "$corpus/d2l"
for raw in tests/data/*.raw.json; do
	name=$(basename "$raw" .raw.json)
	case $name in
	standard-*) type=STANDARD ;;
	*) type=HISTORIQUE ;;
	esac
	n=0
	while IFS= read -r line && [ "$n" -lt 8 ]; do
		printf '\x00{"_TYPE_TRAME":"%s",%s' "$type" "${line#\{}" >"$corpus/d2l/$name-$n"
		n=$((n + 1))
	done <"$raw"
done
printf '\x00{ "_TYPE_TRAME":"HISTORIQUE", "_ID_D2L":"011601000001", "ADCO":"041068016489", '\
'"OPTARIF":"HC..", "ISOUSC":"80", "IMAX":"", "HCHC":"003820661", "IINST1":"2", '\
'"IINST2":"0", "IINST3":"0", "_HORLOGE":"37537473" }' >"$corpus/d2l/vector"

# -max_len: 8 KiB so that a frame can overflow the 4 KiB frame buffer. -timeout: a TIC input of
# that size decodes in microseconds, so 10 s means a hang. halt_on_error/abort_on_error: any
# sanitizer report ends the run as a crash, and the input is saved.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

# fuzz_http's seeds: a switches byte (1: authentication, 2: frames), then method, path and the
# Authorization header ("eco:s3cr:t", as fuzz_http.c configures it), one per line.
mkdir "$corpus/http-seeds"
i=0
for seed in '\x02GET\n/status.xml' '\x03GET\n/protect/settings/teleinfo1.xml\nBasic ZWNvOnMzY3I6dA==' \
	'\x03GET\n/metrics\nbasic \t ZWNvOnMzY3I6dA' '\x02HEAD\n/status.json' '\x01POST\n/\n' \
	'\x00GET\n/protect/settings/teleinfo2.xml' '\x03GET\n/status.xml\nBasic ZWNvOndyb25n'; do
	printf '%b' "$seed" >"$corpus/http-seeds/$i"
	i=$((i + 1))
done

# fuzz TARGET [SEEDS]: run it for $seconds on a copy of the corpus (default: the captures);
# exit on any finding.
fuzz()
{
	local target=$1 fuzzer=$LINKYD_ROOT/$dir/tests/$1 log=$LINKYD_ROOT/$dir/$1.log status=0
	local runs work seeds=${2:-seeds}

	[ -x "$fuzzer" ] || die "$fuzzer was not built"
	work=$corpus/$target
	cp -r "$corpus/$seeds" "$work"
	mkdir -p "$artifacts"
	section "fuzz: $target for ${seconds}s"
	"$fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/" "$work" 2>&1 | tee "$log" ||
		status=$?
	# Belt and braces: a sanitizer that reported and recovered would leave the status at 0.
	if grep -Eq 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' "$log"; then
		[ "$status" -ne 0 ] || status=1
	fi
	if [ "$status" -ne 0 ]; then
		echo
		echo "fuzz: $target FAILED (exit $status); log: $log; reproducer(s) in $artifacts:"
		ls -1 "$artifacts" || true
		exit 1
	fi
	rmdir "$artifacts" "${artifacts%/*}" 2>/dev/null || true
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	echo "fuzz: $target OK, ${runs:-?} inputs in ${seconds}s, no crash, leak or sanitizer report"
}

fuzz fuzz_tic
fuzz fuzz_publish
fuzz fuzz_d2l d2l
fuzz fuzz_http http-seeds
