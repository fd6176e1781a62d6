#!/bin/sh
# The built-in rules, family by family.  Each fixture in
# tests/fixtures/classify/*.tsv holds records with the class and reason
# they must get in columns 11 and 12; those are cut off, the records
# classified again, and the result must give them back.
. "$(dirname "$0")/lib.sh"

for f in "$FIX"/classify/*.tsv; do
	name=${f##*/}
	name=${name%.tsv}
	grep -v '^#' "$f" >"$T/want"
	cut -f1-10 "$T/want" | "$BIN/bclassify" >"$T/got"
	ok "$name: fixture has records" test -s "$T/want"
	# One line per record that came out different, with what it got.
	paste "$T/want" "$T/got" | awk -F '\t' '$11 != $23 || $12 != $24 {
		printf "%s: want %s %s, got %s %s\n", $1, $11, $12, $23, $24
	    }' >"$T/diff"
	ok "$name: every record gets its class and reason" test ! -s "$T/diff"
	[ -s "$T/diff" ] && sed 's/^/# /' "$T/diff"
done

done_testing
