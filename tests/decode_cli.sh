#!/bin/sh
# SPDX-License-Identifier: MIT
# `linkyd --decode` end to end: the real binary on every capture of the data directory, in both
# formats, from a file and from standard input, against the expected files that
# tests/unit/test_captures.c also checks; then the command line's errors and exit statuses.
#
# Usage: decode_cli.sh LINKYD DATADIR
set -u
# strerror() in the messages checked below.
LC_ALL=C
export LC_ALL

if [ $# -ne 2 ]; then
	echo "usage: $0 LINKYD DATADIR" >&2
	exit 2
fi
case $1 in
/*) linkyd=$1 ;;
*) linkyd=$(pwd)/$1 ;;
esac
data=$(cd "$2" && pwd) || exit 1

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# same WHAT GOT WANT: the two files must be identical.
same() {
	checks=$((checks + 1))
	if ! diff -u "$3" "$2" >"$tmp/diff"; then
		fail "$1"
		head -n 20 "$tmp/diff" >&2
	fi
}

# status WHAT GOT WANT
status() {
	checks=$((checks + 1))
	[ "$2" -eq "$3" ] || fail "$1: exit status $2, expected $3"
}

# The summary names the file as given on the command line, so run from the data directory
# with bare names: that is how the .summary files were produced.
cd "$data" || exit 1
found=0
for tic in *.tic; do
	[ -f "$tic" ] || continue
	found=$((found + 1))
	name=${tic%.tic}
	for format in typed raw; do
		"$linkyd" --decode "$tic" --format "$format" >"$tmp/out" 2>"$tmp/err"
		status "$name $format" $? 0
		same "$name: --format $format, standard output" "$tmp/out" "$name.$format.json"
		same "$name: --format $format, standard error" "$tmp/err" "$name.summary"
	done

	# typed is the default.
	"$linkyd" --decode "$tic" >"$tmp/out" 2>/dev/null
	same "$name: default format" "$tmp/out" "$name.typed.json"

	# Standard input: the same frames; the summary names "<stdin>".
	sed "s|^linkyd: $tic: |linkyd: <stdin>: |" "$name.summary" >"$tmp/summary"
	for format in typed raw; do
		"$linkyd" --decode - --format "$format" <"$tic" >"$tmp/out" 2>"$tmp/err"
		status "$name stdin $format" $? 0
		same "$name: --decode - --format $format, standard output" "$tmp/out" \
			"$name.$format.json"
		same "$name: --decode - --format $format, standard error" "$tmp/err" "$tmp/summary"
	done
done
[ "$found" -ge 10 ] || fail "only $found captures in $data"
cd "$tmp" || exit 1

# A missing file: one line that names it, nothing on standard output, EX_NOINPUT.
"$linkyd" --decode does-not-exist.tic >out 2>err
status "missing file" $? 66
checks=$((checks + 1))
[ -s out ] && fail "missing file: something on standard output"
[ "$(wc -l <err)" -eq 1 ] || fail "missing file: $(wc -l <err) lines on standard error, expected 1"
grep -q "does-not-exist.tic" err || fail "missing file: the message does not name the file"
grep -q "No such file" err || fail "missing file: the message does not say why: $(cat err)"

# An unknown format: EX_USAGE, a message naming it, no decoding.
"$linkyd" --decode "$data/standard-mono-base-01.tic" --format bogus >out 2>err
status "--format bogus" $? 64
checks=$((checks + 1))
[ -s out ] && fail "--format bogus: something on standard output"
grep -q "bogus" err || fail "--format bogus: the message does not name the format: $(cat err)"

# Options in any order, as getopt_long() permutes them: --decode is a flag and the file its
# operand, wherever it stands; --decode=FILE, the first spelling, still works.
raw=$data/historique-hchp-mono-01
for args in "--decode --format raw $raw.tic" "--format raw $raw.tic --decode" \
	"$raw.tic -F raw -d" "-dFraw $raw.tic" "--decode=$raw.tic --format=raw" \
	"--decode --format raw -- $raw.tic"; do
	# shellcheck disable=SC2086 # the words of $args are the arguments
	"$linkyd" $args >out 2>/dev/null
	status "$args" $? 0
	same "$args: standard output" out "$raw.raw.json"
done

# --decode without a file: EX_USAGE, saying what is missing, nothing decoded.
"$linkyd" --format raw --decode >out 2>err
status "--decode without a file" $? 64
checks=$((checks + 1))
[ -s out ] && fail "--decode without a file: something on standard output"
grep -q "FILE" err || fail "--decode without a file: the message does not say so: $(cat err)"

# One file at a time: the second is named as unexpected.
"$linkyd" --decode "$raw.tic" second.tic >out 2>err
status "--decode with two files" $? 64
checks=$((checks + 1))
[ -s out ] && fail "--decode with two files: something on standard output"
grep -q "second.tic" err || fail "--decode with two files: the message does not name it: $(cat err)"

# A stray argument (not an option): EX_USAGE, naming it. (No arguments at all runs the daemon.)
"$linkyd" stray >out 2>err
status "stray argument" $? 64
grep -q "stray" err || fail "stray argument: the message does not name it: $(cat err)"

"$linkyd" --help >out 2>err
status "--help" $? 0
checks=$((checks + 1))
grep -q -- "--decode" out || fail "--help does not mention --decode"
[ -s err ] && fail "--help: something on standard error"

"$linkyd" --version >out 2>err
status "--version" $? 0
printf 'linkyd 0.1.0\n' >want
same "--version" out want

if [ "$failures" -ne 0 ]; then
	echo "$failures of $checks checks failed" >&2
	exit 1
fi
echo "decode_cli: $checks checks passed on $found captures"
