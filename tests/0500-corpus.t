#!/bin/sh
# The corpus check: agreement with the labelled Sisimai samples, which
# must not fall below the floors in tests/corpus-floors.
. "$(dirname "$0")/lib.sh"
[ -f "$CORPUS/expected.tsv" ] || skip_all "corpus not found at $CORPUS"
perl "$TOP/tests/corpus-check.pl" -f "$TOP/tests/corpus-floors" \
	"$BIN" "$CORPUS" >"$T/figures"
rc=$?
sed 's/^/# /' "$T/figures"
is "agreement at or above the floors" "$rc" 0
done_testing
