#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/demo.sh: see linkyd decode real meter data, from a fresh Debian 12 machine (as root or
# with sudo, from any directory). Installs what the build needs, builds linkyd (Release,
# build/release, the same configuration as scripts/test.sh) and decodes two bundled captures:
# a Linky in standard mode, then an older meter in historique mode.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

captures=(tests/data/standard-mono-base-01.tic tests/data/historique-hchp-mono-03.tic)
linkyd=$LINKYD_ROOT/$LINKYD_RELEASE_DIR/linkyd

section "packages"
linkyd_install_packages "${LINKYD_BUILD_PACKAGES[@]}"

section "build ($LINKYD_RELEASE_DIR)"
linkyd_configure_release
linkyd_build "$LINKYD_RELEASE_DIR" linkyd

# One JSON object per frame and line; python3 indents them when it is there (it is optional, so
# that the demo needs nothing the build does not).
pretty()
{
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool --json-lines
	else
		cat
	fi
}

# linkyd writes its counters to standard error once the input is decoded: keep them aside and
# show them under the frames, rather than wherever they land while python3 is still printing.
counters=$(mktemp)
trap 'rm -f "$counters"' EXIT
for capture in "${captures[@]}"; do
	section "linkyd --decode $capture"
	if ! "$linkyd" --decode "$capture" 2>"$counters" | pretty; then
		cat "$counters" >&2
		die "linkyd --decode $capture failed"
	fi
	cat "$counters" >&2
done

section "done"
echo "Decoded ${#captures[@]} captures with $LINKYD_RELEASE_DIR/linkyd. Next:"
echo "  $LINKYD_RELEASE_DIR/linkyd --help"
printf '  %-66s %s\n' "$LINKYD_RELEASE_DIR/linkyd --decode tests/data/FILE.tic --format raw" \
	"(the meter's exact strings)" \
	"scripts/test.sh" "(the whole test suite)"
