#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/test.sh: the whole test suite in one command, on a fresh Debian 12 machine, as root or
# with sudo, from any directory.
#
#   packages  the missing Debian packages are installed (apt-get only when something is missing)
#   (a)       release build with -Werror (build/release), ctest with every label
#   (b)       AddressSanitizer + UndefinedBehaviorSanitizer build (build/asan): the unit and the
#             integration tests (the daemon itself runs instrumented against the real broker)
#   (c)       the clang-format style test (ctest -L style in build/release)
#   (d)       scripts/fuzz.sh: libFuzzer on the parser and the JSON encoder, then on what follows
#             them (anonymisation, index guard, derived values, policy), then on the D2L frame
#             decoder, the HTTP API's request path and the configuration loader, each for the
#             time given, from the corpora kept in tests/fuzz/corpus/
#   (e)       the portable build (build/portable): the decoder's SSE2 code off (-U__SSE2__), so
#             that swar.h's generic code, which targets with neither SSE2 nor NEON run, is built
#             and unit-tested natively (arm64's NEON and armhf's byte-by-byte scan run in (f))
#   (f)       scripts/cross-test.sh: arm64 and armhf cross-built, the unit tests under qemu-user,
#             every capture decoded byte for byte as by (a)'s build
#   (g)       scripts/package.sh for amd64, arm64 and armhf (lintian: no error or warning), then
#             scripts/package-test.sh: the amd64 package installed, run, upgraded and purged in
#             a fresh Debian 12 root (debootstrap'ed once, about 2 minutes, then cached)
#   (h)       scripts/faults.sh --short: fault injection (docs/faults.md), shortened: noise on
#             the line, the device unplugged, the broker killed and frozen (a queue below the
#             window in flight), SIGKILL while the state file is written, a full disk, the TCP
#             and D2L inputs, a soak under ASan; about 2 minutes
#
# Every step runs even when an earlier one failed, so that one run shows everything that is
# wrong; the last line is the verdict and the exit status is non-zero on any failure.
# LINKYD_FUZZ_SECONDS (default 60) shortens or lengthens (d).
# shellcheck disable=SC2317 # the step functions are called through step()
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

fuzz_seconds=${LINKYD_FUZZ_SECONDS:-60}
asan_dir=build/asan
# The sanitizers' defaults stop at the first error already (-fno-sanitize-recover=all); these
# add leak checking explicitly and stack traces for UBSan's reports.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# A per-test limit for tests that set none: a test that hangs (say, a daemon started by mistake
# and waiting for a meter) fails in minutes instead of holding CI for include(CTest)'s 25.
ctest_timeout=300

results=()
failed=()
started=$SECONDS

duration()
{
	printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# step NAME COMMAND...: run COMMAND in a subshell with set -e and record its verdict. A subshell
# and not "if COMMAND": bash ignores set -e inside a function run as a condition, which would let
# a step go on after its first failing command.
step()
{
	local name=$1 start=$SECONDS rc

	shift
	section "$name"
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		results+=("$(printf 'PASS  %-50s %s' "$name" "$(duration $((SECONDS - start)))")")
	else
		results+=("$(printf 'FAIL  %-50s %s' "$name" "$(duration $((SECONDS - start)))")")
		failed+=("$name")
	fi
}

release()
{
	linkyd_configure_release
	linkyd_build "$LINKYD_RELEASE_DIR"
	ctest --test-dir "$LINKYD_RELEASE_DIR" --output-on-failure -j2 --timeout "$ctest_timeout"
}

# Debug: assert() stays on and the reports point at the right lines.
asan()
{
	linkyd_configure "$asan_dir" -DCMAKE_BUILD_TYPE=Debug -DLINKYD_SANITIZE="address;undefined"
	linkyd_build "$asan_dir"
	ctest --test-dir "$asan_dir" --output-on-failure -j2 --timeout "$ctest_timeout" -LE style
}

# CTest only has a style test when CMake found clang-format: make sure it exists rather than
# pass without it. It already ran in (a); running it alone (a second) gives it its own verdict.
style()
{
	local listed

	# Into a variable, not "| grep -q": with pipefail, grep quitting early could fail ctest.
	listed=$(ctest --test-dir "$LINKYD_RELEASE_DIR" -N -L style)
	if ! grep -q 'Total Tests: [1-9]' <<<"$listed"; then
		echo "no test labelled 'style' in $LINKYD_RELEASE_DIR: is clang-format installed?" >&2
		return 1
	fi
	ctest --test-dir "$LINKYD_RELEASE_DIR" --output-on-failure --timeout "$ctest_timeout" -L style
}

# swar.h's generic code instead of SSE2: test_swar checks its helpers, the rest of the unit tests
# check the decoder built on them.
portable()
{
	linkyd_configure build/portable -DCMAKE_BUILD_TYPE=Release -DLINKYD_WERROR=ON \
		-DCMAKE_C_FLAGS=-U__SSE2__
	linkyd_build build/portable
	ctest --test-dir build/portable --output-on-failure -j2 --timeout "$ctest_timeout" -L unit
}

# The native package's build skips the unit tests (nocheck): (a) ran them on the same code.
packages()
{
	local arch

	DEB_BUILD_OPTIONS=nocheck "$LINKYD_ROOT/scripts/package.sh"
	for arch in arm64 armhf; do
		"$LINKYD_ROOT/scripts/package.sh" "$arch"
	done
	"$LINKYD_ROOT/scripts/package-test.sh"
}

section "packages"
linkyd_install_packages "${LINKYD_TEST_PACKAGES[@]}"

step "(a) release build (-Werror) + ctest, all labels" release
step "(b) ASan+UBSan build + ctest: unit and integration" asan
step "(c) style (clang-format)" style
step "(d) fuzz_tic, fuzz_publish, fuzz_d2l, fuzz_http, fuzz_config, ${fuzz_seconds}s each" "$LINKYD_ROOT/scripts/fuzz.sh" "$fuzz_seconds"
step "(e) portable build (-U__SSE2__) + unit tests" portable
step "(f) arm64 + armhf: cross build, unit tests, decoder" "$LINKYD_ROOT/scripts/cross-test.sh"
step "(g) Debian packages + fresh-root package test" packages
step "(h) fault injection, short" as_root "$LINKYD_ROOT/scripts/faults.sh" --short

section "summary"
printf '%s\n' "${results[@]}"
total=$(duration $((SECONDS - started)))
if [ "${#failed[@]}" -eq 0 ]; then
	echo "test.sh: PASSED, all ${#results[@]} steps ($total)"
	exit 0
fi
list=$(printf '; %s' "${failed[@]}")
echo "test.sh: FAILED, ${#failed[@]} of ${#results[@]} steps: ${list#; } ($total)"
exit 1
