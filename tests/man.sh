#!/bin/sh
# SPDX-License-Identifier: MIT
# The manual pages: mandoc -Tlint finds nothing in them (errors, warnings, style), and they
# agree with the program: every option of `linkyd --help` is in linkyd(8) and the other way
# round, and every setting `linkyd --check-config` prints is in linkyd.conf(5).
# Exits 77 (skipped) without mandoc.
#
# Usage: man.sh LINKYD DOCDIR
set -u
LC_ALL=C
export LC_ALL

if [ $# -ne 2 ]; then
	echo "usage: $0 LINKYD DOCDIR" >&2
	exit 2
fi
linkyd=$1
man8=$2/linkyd.8
man5=$2/linkyd.conf.5
if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not found (Debian package mandoc): skipped"
	exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# Whether an Xr target exists depends on the pages this machine has installed (mosquitto's,
# systemd's), not on ours: those lines, and mandoc's remarks on its own database, are left out.
mandoc -Tlint "$man8" "$man5" >"$tmp/lint" 2>&1
grep -v -e 'referenced manual not found' -e 'mandoc\.db' "$tmp/lint" >"$tmp/lint.ours"
if [ -s "$tmp/lint.ours" ]; then
	fail "mandoc -Tlint:"
	cat "$tmp/lint.ours" >&2
fi

# Options, long and short: "--decode" and "-d" in --help; ".Fl Fl decode" and ".Fl d" in mdoc.
"$linkyd" --help >"$tmp/help" || fail "linkyd --help: exit status $?"
{
	grep -o -e '--[a-z][a-z-]*' "$tmp/help"
	grep -o -e '^ *-[a-zA-Z],' "$tmp/help" | tr -d ' ,'
} | sort -u >"$tmp/help.options"
{
	grep -o -e 'Fl Fl [a-z][a-z-]*' "$man8" | sed 's/^Fl Fl /--/'
	grep -o -e 'Fl [a-zA-Z]\( \|$\)' "$man8" | sed 's/^Fl /-/; s/ $//'
} | sort -u >"$tmp/man.options"
if ! diff "$tmp/help.options" "$tmp/man.options" >"$tmp/diff"; then
	fail "options of --help (<) and linkyd.8 (>) differ:"
	cat "$tmp/diff" >&2
fi

# Settings: those --check-config prints for a file that sets the lists it leaves out when empty.
cat >"$tmp/all.conf" <<'EOF'
meters = ( { tariff_names = ( "HC" ); distributor_names = ( "HP" ); } );
publish = { labels = ( { label = "PAPP"; } ); };
EOF
"$linkyd" --check-config -c "$tmp/all.conf" >"$tmp/config" ||
	fail "linkyd --check-config: exit status $?"
sed -n 's/^[[:space:]]*\(# \)\{0,1\}\([a-z_]*\)\( = \|: \).*/\2/p' "$tmp/config" | sort -u \
	>"$tmp/settings"
[ "$(wc -l <"$tmp/settings")" -ge 30 ] ||
	fail "only $(wc -l <"$tmp/settings") settings in the output of --check-config"
while read -r key; do
	grep -q -E "Ic ([a-z_]+\.)?$key([ .]|$)" "$man5" || fail "linkyd.conf.5 does not describe '$key'"
done <"$tmp/settings"

if [ "$failures" -ne 0 ]; then
	echo "man: $failures checks failed" >&2
	exit 1
fi
echo "man: mandoc -Tlint clean; $(wc -l <"$tmp/help.options") options and" \
	"$(wc -l <"$tmp/settings") settings documented"
