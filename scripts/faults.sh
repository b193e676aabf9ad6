#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/faults.sh [--short] [--only NAME]...: the fault-injection suite (tests/faults/faults.py,
# docs/faults.md), as root (the full disk is a tmpfs mount). Builds what it needs: the release
# build (build/release), the ASan+UBSan build (build/asan) for the soak, and the LD_PRELOAD shim
# tests/faults/faultshim.c; then runs the experiments and writes the markdown report to
# build/faults/report.md. --short is the shortened form scripts/test.sh runs (step h, about two
# minutes); without it, the full run takes about half an hour.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

[ "$(id -u)" -eq 0 ] || die "run as root: the disk-full experiment mounts a tmpfs"
linkyd_install_packages "${LINKYD_BUILD_PACKAGES[@]}" mosquitto mosquitto-clients python3 openssl

section "builds"
linkyd_configure_release
linkyd_build "$LINKYD_RELEASE_DIR" linkyd
linkyd_configure build/asan -DCMAKE_BUILD_TYPE=Debug -DLINKYD_SANITIZE="address;undefined"
linkyd_build build/asan linkyd
mkdir -p build/faults
cc -O2 -Wall -Wextra -Werror -shared -fPIC -o build/faults/faultshim.so \
	tests/faults/faultshim.c -ldl

section "experiments"
export LINKYD="$LINKYD_ROOT/$LINKYD_RELEASE_DIR/linkyd"
export LINKYD_ASAN="$LINKYD_ROOT/build/asan/linkyd"
export FAULTSHIM="$LINKYD_ROOT/build/faults/faultshim.so"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
python3 tests/faults/faults.py --report build/faults/report.md "$@"
