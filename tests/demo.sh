#!/bin/sh
# demo.sh BINDIR - run the pipeline over the bundled sample mbox and show
# what comes out: bfetch copies the sample into a temporary spool, then
# bparse | bclassify make records (shown as a table, with counts by
# action and reason), bscore decides into a temporary state file, and
# bstate shows the counts, explains one decision and writes a report.
set -u
BIN=${1:?usage: demo.sh BINDIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
SAMPLE=$TOP/tests/fixtures/sample.mbox
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bounce-demo.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

for p in bfetch bparse bclassify bscore bstate; do
	[ -x "$BIN/$p" ] || { echo "demo: $BIN/$p not built" >&2; exit 2; }
done

# table [WIDTH]: records on stdin as aligned columns, the diagnostic
# cut to WIDTH characters.  Bytes, not characters, are counted, which
# is close enough for a demo.
table() {
	awk -F '\t' -v OFS='\t' -v w="${1:-48}" '
	BEGIN { n = split("source date recipient action status smtp " \
	    "mta id detector diag class reason", name, " ") }
	{
		sub(/^.*\//, "", $1)	# the file name is enough here
		sub(/^.*:/, "@", $1)
		$2 = substr($2, 1, 10)
		if (length($10) > w) $10 = substr($10, 1, w - 3) "..."
		rows[NR] = $0; nf = (NF > nf ? NF : nf)
		for (i = 1; i <= NF; i++)
			if (keep(i) && length($i) > wid[i]) wid[i] = length($i)
	}
	function keep(i) { return i != 7 && i != 8 }	# mta, id: too wide
	END {
		for (i = 1; i <= nf; i++) {
			if (!keep(i)) continue
			if (length(name[i]) > wid[i]) wid[i] = length(name[i])
			printf "%-*s  ", wid[i], toupper(name[i])
		}
		printf "\n"
		for (r = 1; r <= NR; r++) {
			split(rows[r], f, "\t")
			for (i = 1; i <= nf; i++)
				if (keep(i)) printf "%-*s  ", wid[i], f[i]
			printf "\n"
		}
	}' | sed 's/ *$//'
}

# align: TAB-separated lines on stdin as aligned columns, paths cut to
# their last component.
align() {
	awk -F '\t' '
	{
		for (i = 1; i <= NF; i++) {
			sub(/^.*\//, "", $i)
			cell[NR, i] = $i
			if (length($i) > wid[i]) wid[i] = length($i)
		}
		nf[NR] = NF
	}
	END {
		for (r = 1; r <= NR; r++) {
			line = ""
			for (i = 1; i <= nf[r]; i++)
				line = line sprintf("%-*s  ", wid[i], cell[r, i])
			sub(/ +$/, "", line)
			print "   " line
		}
	}'
}

count() {	# count COLUMN TITLE
	echo "-- by $2:"
	cut -f"$1" | sort | uniq -c | sort -rn | sed 's/^/   /'
}

# bfetch: the sample mbox into a spool, one spooled path per line.
"$BIN/bfetch" -s "$TMP/spool" "$SAMPLE" >"$TMP/paths" ||
    { echo "demo: bfetch failed" >&2; exit 1; }
echo "== bfetch -s spool $(basename "$SAMPLE"): $(wc -l <"$TMP/paths") messages spooled"
echo

"$BIN/bparse" <"$TMP/paths" | "$BIN/bclassify" >"$TMP/records"
st=$?
[ $st -eq 0 ] || { echo "demo: bparse | bclassify failed (exit $st)" >&2; exit 1; }
nmsg=$(cut -f1 "$TMP/records" | uniq | wc -l)
echo "== bparse | bclassify: $nmsg messages, $(wc -l <"$TMP/records") records"
echo
table 48 <"$TMP/records"
echo
count 4 action <"$TMP/records"
count 12 reason <"$TMP/records"

if true; then
	db=$TMP/state.tdb
	echo
	echo "== bscore -d state.tdb (transitions)"
	"$BIN/bscore" -d "$db" <"$TMP/records" >"$TMP/trans" ||
	    { echo "demo: bscore failed" >&2; exit 1; }
	if [ -s "$TMP/trans" ]; then
		align <"$TMP/trans"
	else
		echo "   (no transitions)"
	fi
	echo
	echo "== bstate -d state.tdb stats"
	"$BIN/bstate" -d "$db" stats >"$TMP/stats" ||
	    { echo "demo: bstate stats failed" >&2; exit 1; }
	align <"$TMP/stats"
	# Explain one decision, if this bstate can: the address that
	# bounced most often.
	addr=$(cut -f3 "$TMP/records" | grep '@' | sort | uniq -c |
	    sort -k1,1nr -k2 | awk '{ print $2; exit }')
	if [ -n "$addr" ] && "$BIN/bstate" -h 2>&1 | grep -q why; then
		echo
		echo "== bstate -d state.tdb why $addr"
		"$BIN/bstate" -d "$db" why "$addr" | sed 's/^/   /'
	fi
	if "$BIN/bstate" -h 2>&1 | grep -q report; then
		"$BIN/bstate" -d "$db" report >"$BIN/demo-report.html" ||
		    { echo "demo: bstate report failed" >&2; exit 1; }
		echo
		echo "== bstate -d state.tdb report > $BIN/demo-report.html"
		echo "   (open it in a browser)"
	fi
fi
exit 0
