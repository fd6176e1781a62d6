#!/bin/sh
# demo.sh BINDIR - run the pipeline over the bundled sample mbox and show
# what comes out: the records as a table, a count by action (and by
# reason), and, once the state tools are built, the decisions they make.
set -u
BIN=${1:?usage: demo.sh BINDIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
SAMPLE=$TOP/tests/fixtures/sample.mbox
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bounce-demo.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

[ -x "$BIN/bparse" ] || { echo "demo: $BIN/bparse not built" >&2; exit 2; }

# table [WIDTH]: records on stdin as aligned columns, the diagnostic
# cut to WIDTH characters.  Bytes, not characters, are counted, which
# is close enough for a demo.
table() {
	awk -F '\t' -v OFS='\t' -v w="${1:-48}" '
	BEGIN { n = split("source date recipient action status smtp " \
	    "mta id detector diag class reason", name, " ") }
	{
		sub(/^.*:/, "@", $1)	# an mbox offset is enough here
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

pipe="bparse"
if [ -x "$BIN/bclassify" ]; then
	pipe="bparse | bclassify"
	"$BIN/bparse" "$SAMPLE" | "$BIN/bclassify" >"$TMP/records"
else
	"$BIN/bparse" "$SAMPLE" >"$TMP/records"
fi
st=$?
[ $st -eq 0 ] || { echo "demo: $pipe failed (exit $st)" >&2; exit 1; }
nmsg=$(cut -f1 "$TMP/records" | uniq | wc -l)
echo "== $pipe $(basename "$SAMPLE"): $nmsg messages, $(wc -l <"$TMP/records") records"
echo
table 48 <"$TMP/records"
echo
count 4 action <"$TMP/records"
[ -x "$BIN/bclassify" ] && count 12 reason <"$TMP/records"

if [ -x "$BIN/bscore" ] && [ -x "$BIN/bstate" ]; then
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
else
	echo
	echo "(bscore/bstate are not built yet: no state shown)"
fi
exit 0
