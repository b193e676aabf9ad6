#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/fuzz.sh [SECONDS]: fuzz the TIC parser and the JSON encoder (tests/fuzz/fuzz_tic.c),
# then what follows them, anonymisation, index guard, derived values, policy and per-label
# payloads (tests/fuzz/fuzz_publish.c), the D2L frame decoder (tests/fuzz/fuzz_d2l.c: frames,
# decryption, the JSON payload rebuilt into a TIC frame), the HTTP API's request path, routing,
# Basic credentials and pages (tests/fuzz/fuzz_http.c), and the configuration loader
# (tests/fuzz/fuzz_config.c: the file read, @include, libconfig, the checks, printed and read
# back), with libFuzzer under AddressSanitizer + UndefinedBehaviorSanitizer (build/fuzz) for
# SECONDS each (default 60). This is CI's run (scripts/test.sh step (d)).
#
# scripts/fuzz.sh --long [EXECUTIONS]: outside CI, EXECUTIONS inputs in all (default 10^8),
# each target running its share of them (SHARES below, from their speeds: the HTTP target is the
# fastest by far). These runs use a build with UndefinedBehaviorSanitizer alone
# (build/fuzz-long), 1.5 to 10 times as fast as with ASan; what they found is then merged into
# tests/fuzz/corpus/TARGET/ (-merge=1: the fewest inputs reaching the same edges), and that
# corpus is replayed under ASan + UBSan (build/fuzz), as CI builds it: memory errors and leaks
# show there. Prints the executions of each
# target and the total. 10^8 took 44 minutes on one shared core under nice; commit the corpora
# after.
#
# The seeds: the kept corpora, tests/fuzz/corpus/TARGET/, and what this script makes from
# tests/data/ (captures, D2L payloads, requests, configuration files), all copied into a
# temporary directory: only --long writes to the tree.
# Fails on any crash, broken invariant (abort), leak, timeout or sanitizer report; the input
# that triggered it is kept in build/fuzz/artifacts/DATE/ (reproduce: build/fuzz/tests/fuzz_tic
# FILE).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

# Thousandths of the executions of --long, by target, from their speeds (inputs a second, UBSan
# build, one shared core): fuzz_tic 3,500 and fuzz_publish 1,000 (whole captures, every frame
# encoded and parsed back), fuzz_config 10,000, fuzz_d2l 20,000, fuzz_http 240,000. Of 10^8,
# each gets 4 to 18 minutes.
declare -A SHARES=([fuzz_tic]=15 [fuzz_publish]=10 [fuzz_config]=40 [fuzz_d2l]=85 [fuzz_http]=850)
TARGETS=(fuzz_tic fuzz_publish fuzz_d2l fuzz_http fuzz_config)

long=0
if [ "${1:-}" = --long ]; then
	long=1
	total=${2:-100000000}
	case $total in
	'' | *[!0-9]*) die "usage: $0 --long [EXECUTIONS] (a whole number, got '$total')" ;;
	esac
	[ "$total" -ge 1000 ] || die "EXECUTIONS must be at least 1000"
else
	seconds=${1:-60}
	case $seconds in
	'' | *[!0-9]*) die "usage: $0 [SECONDS] | --long [EXECUTIONS] (got '$seconds')" ;;
	esac
	[ "$seconds" -gt 0 ] || die "SECONDS must be at least 1"
fi

dir=build/fuzz
long_dir=build/fuzz-long
# One directory per run, so that a reproducer is never mixed up with an older run's.
artifacts=$LINKYD_ROOT/$dir/artifacts/$(date +%Y%m%d-%H%M%S)

section "fuzz: packages"
linkyd_install_packages "${LINKYD_BUILD_PACKAGES[@]}" "${LINKYD_FUZZ_PACKAGES[@]}"

# -fsanitize=fuzzer links clang's libFuzzer runtime; say which package is missing rather than
# letting the link fail with "cannot find libclang_rt.fuzzer".
runtime=$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)
if [ "$(uname -m)" = x86_64 ] && [ ! -e "$runtime" ]; then
	die "clang's libFuzzer runtime is missing: install libclang-rt-$(clang -dumpversion |
		cut -d. -f1)-dev"
fi

# fuzz_build DIR SANITIZERS: configure and build the targets in DIR. CC for a fresh directory
# and CMAKE_C_COMPILER so that the cache cannot hold another compiler. -fsanitize=fuzzer-no-link
# on everything: tests/CMakeLists.txt instruments the targets alone, and without coverage of the
# parser and the encoder libFuzzer would mutate blind.
fuzz_build()
{
	section "fuzz: build ($1, clang, $2)"
	CC=clang linkyd_configure "$1" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" -DBUILD_TESTING=ON -DLINKYD_FUZZ=ON \
		-DLINKYD_SANITIZE="$2"
	linkyd_build "$1" "${TARGETS[@]}"
}

fuzz_build "$dir" "address;undefined"
[ "$long" -eq 0 ] || fuzz_build "$long_dir" undefined
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

# fuzz_config's seeds: the sample configuration and the test suite's files, good and bad.
mkdir "$corpus/config-seeds"
cp etc/linkyd.conf tests/data/config/*.conf "$corpus/config-seeds/"

# check TARGET LOG STATUS: exit unless the run that wrote LOG passed.
check()
{
	local target=$1 log=$2 status=$3

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
}

# fuzz TARGET SEEDS LIMIT: run TARGET's build in $build on a copy of its kept corpus and of
# SEEDS until LIMIT (a libFuzzer flag); exit on any finding. Sets runs to its executions.
fuzz()
{
	local target=$1 seeds=$2 limit=$3 fuzzer=$LINKYD_ROOT/$build/tests/$1
	local log=$LINKYD_ROOT/$build/$1.log work=$corpus/$1 kept=tests/fuzz/corpus/$1 status=0

	[ -x "$fuzzer" ] || die "$fuzzer was not built"
	cp -r "$corpus/$seeds" "$work"
	if [ -d "$kept" ]; then
		find "$kept" -type f -exec cp -t "$work" {} +
	fi
	mkdir -p "$artifacts"
	section "fuzz: $target ($limit, $build)"
	"$fuzzer" "$limit" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$work" 2>&1 | tee "$log" || status=$?
	check "$target" "$log" "$status"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
}

# keep TARGET: merge the kept corpus and what the run added into tests/fuzz/corpus/TARGET/, the
# fewest inputs that reach the same edges, then replay it under ASan + UBSan. -use_counters=0:
# counting how often each edge runs as well kept a thousand captures for fuzz_tic alone.
keep()
{
	local target=$1 kept=tests/fuzz/corpus/$1 merged=$corpus/$1.merged status=0
	local log=$LINKYD_ROOT/$dir/$1.replay.log

	mkdir -p "$kept" "$merged"
	section "fuzz: $target: merge into $kept"
	"$LINKYD_ROOT/$long_dir/tests/$target" -merge=1 -use_counters=0 -max_len=8192 \
		-timeout=10 -rss_limit_mb=2048 "$merged" "$kept" "$corpus/$target" 2>&1 | tail -n 3
	find "$kept" -type f -delete
	cp "$merged"/* "$kept/"
	echo "fuzz: $target: $(find "$kept" -type f | wc -l) inputs kept, $(du -sh "$kept" | cut -f1)"
	mkdir -p "$artifacts"
	section "fuzz: $target: the kept corpus under ASan + UBSan"
	"$LINKYD_ROOT/$dir/tests/$target" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/" "$kept"/* >"$log" 2>&1 || status=$?
	check "$target" "$log" "$status"
}

declare -A SEEDS=([fuzz_tic]=seeds [fuzz_publish]=seeds [fuzz_d2l]=d2l [fuzz_http]=http-seeds
	[fuzz_config]=config-seeds)
declare -A executed=()
sum=0
for target in "${TARGETS[@]}"; do
	if [ "$long" -eq 1 ]; then
		build=$long_dir
		fuzz "$target" "${SEEDS[$target]}" -runs=$((total * SHARES[$target] / 1000))
		keep "$target"
	else
		build=$dir
		fuzz "$target" "${SEEDS[$target]}" -max_total_time="$seconds"
	fi
	executed[$target]=${runs:-0}
	sum=$((sum + ${runs:-0}))
	echo "fuzz: $target OK, ${runs:-?} inputs, no crash, leak or sanitizer report"
done

section "fuzz: executions"
for target in "${TARGETS[@]}"; do
	printf '%-14s %12s\n' "$target" "${executed[$target]}"
done
printf '%-14s %12s\n' total "$sum"
