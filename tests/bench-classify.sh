#!/bin/sh
# bench-classify.sh - how many records per second bclassify handles.
#
# usage: sh tests/bench-classify.sh BINDIR [RECORDS]
#
# The sample is bparse's output over the development corpus when it is
# there, else over the project's own fixtures; it is repeated up to
# RECORDS lines (default 1000000) and classified once.  The figure is
# records per second of CPU time (one core), with the wall time beside
# it.
set -u
BIN=${1:?usage: bench-classify.sh BINDIR [RECORDS]}
N=${2:-1000000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${CORPUS:-$TOP/../shared/corpus/sisimai}
T=$(mktemp -d "${TMPDIR:-/tmp}/bounce-bench.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT

if [ -f "$CORPUS/expected.tsv" ]; then
	what="the corpus"
	(cd "$CORPUS" && grep -v '^#' expected.tsv | cut -f1 | sort -u |
	    "$BIN/bparse") >"$T/sample" 2>/dev/null
else
	what="the fixtures"
	{
		"$BIN/bparse" "$TOP"/tests/fixtures/*.eml \
		    "$TOP"/tests/fixtures/classify/*.eml 2>/dev/null
		grep -hv '^#' "$TOP"/tests/fixtures/classify/*.tsv | cut -f1-10
	} >"$T/sample"
fi
n=$(wc -l <"$T/sample")
if [ "$n" -eq 0 ]; then
	echo "bench-classify: no sample records" >&2
	exit 2
fi

# Double the sample until it is big enough, then cut it to size.
cp "$T/sample" "$T/big"
while [ "$(wc -l <"$T/big")" -lt "$N" ]; do
	cat "$T/big" "$T/big" >"$T/big2" && mv "$T/big2" "$T/big"
done
head -n "$N" "$T/big" >"$T/in"
rm -f "$T/big"

perl -MTime::HiRes=time -e '
	my ($n, $what, $prog, $in) = @ARGV;
	my $t = time;
	system("\"$prog\" \"$in\" >/dev/null") == 0
	    or die "bench-classify: $prog failed\n";
	my $wall = time - $t;
	my (undef, undef, $cu, $cs) = times;
	my $cpu = $cu + $cs;
	printf "bclassify: %d records (%s) in %.2f s CPU, %.2f s wall: " .
	    "%.0f records/s on one core\n", $n, $what, $cpu, $wall,
	    $cpu > 0 ? $n / $cpu : 0;
' "$N" "$what" "$BIN/bclassify" "$T/in"
