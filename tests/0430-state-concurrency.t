#!/bin/sh
# Writers at once lose nothing; kill -9 in the middle of a large batch
# leaves a file that checks out and holds whole batches only; a held
# lock makes writers wait (or give up with -w) but not readers.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
command -v tdbtool >/dev/null 2>&1 || skip_all "tdbtool (tdb-tools) is not installed"
DB=$T/state.tdb

# gen PREFIX DAY COUNT: soft bounces of 25 points for u1..uCOUNT.
gen() {
	awk -v p="$1" -v d="$2" -v n="$3" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "%s:%d\t2024-03-%02dT10:00:00Z\tu%d@c.example\tfailed\t4.2.2\t452\tmx\t-\tdsn\tfull\tsoft\tmailboxfull\n", p, i, d, i
	}'
}
addrs() { "$BIN/bstate" -d "$1" stats state | awk -F '\t' '{ n += $3 } END { print n + 0 }'; }
events() { "$BIN/bstate" -d "$1" export | grep -c '^event'; }

# ---- two writers at once ----

gen a 1 3000 >a.tsv
gen b 2 3000 >b.tsv
"$BIN/bscore" -b 50 -d "$DB" a.tsv >a.out &
pa=$!
"$BIN/bscore" -b 50 -d "$DB" b.tsv >b.out &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
is "two writers: both exit 0" "$ra $rb" "0 0"
is "two writers: every address has both bounces" "$(events "$DB")" 6000
is "two writers: every address is unreachable" "$("$BIN/bstate" -d "$DB" stats state)" \
    "$(printf 'state\tunreachable\t3000')"
is "two writers: each change printed once" "$(cat a.out b.out | wc -l)" 6000
# One record per address: both events fit in its entry.
is "two writers: the file checks out" "$(tdbtool "$DB" check)" \
    "Database integrity is OK and has 3001 records."

# ---- kill -9 in the middle of a large batch ----

gen k 1 20000 >k.tsv
for after in 1 2500 7000; do
	K=$T/kill-$after.tdb
	# Commits come every 1000 records, each followed by its lines;
	# kill once the first AFTER lines are out: bscore is then working
	# on a later batch, or committing one.
	{ "$BIN/bscore" -b 1000 -d "$K" k.tsv & echo $! >pid; wait; } 2>/dev/null |
	    { head -n "$after" >/dev/null; kill -9 "$(cat pid)"; cat >/dev/null; }
	n=$(addrs "$K")
	ok "kill after $after lines: the file opens again" test -n "$n"
	is "kill after $after lines: whole batches only" "$((n % 1000)) $((n >= 1000))" "0 1"
	is "kill after $after lines: the file checks out" \
	    "$(tdbtool "$K" check)" "Database integrity is OK and has $((n + 1)) records."
	"$BIN/bscore" -b 1000 -d "$K" k.tsv >again
	is "kill after $after lines: the same input again completes the work" \
	    "$(addrs "$K") $(events "$K") $(wc -l <again)" "20000 20000 $((20000 - n))"
done

# ---- a held lock ----

mkfifo to from
stdbuf -o0 tdbtool "$DB" <to >from 2>&1 &
tp=$!
exec 5>to 6<from
# Once tdbtool shows a record, its transaction has started.
echo transaction_start >&5
echo 'show bounce:format' >&5
while IFS= read -r line <&6; do
	case $line in *'[000]'*) break ;; esac
done
gen w 9 1 >w.tsv
"$BIN/bscore" -w 1 -d "$DB" w.tsv >out 2>err
is "a held lock: -w 1 gives up with 75" "$?" 75
is "a held lock: and says why" "$(cat err)" "bscore: $DB: still locked by another writer after 1 s"
"$BIN/bstate" -w 1 -d "$DB" set u1@c.example onhold 2>err
is "a held lock: bstate -w 1 gives up with 75" "$?" 75
timeout 60 "$BIN/bstate" -d "$DB" check u1@c.example
is "a held lock: readers still answer" "$?" 1
"$BIN/bscore" -d "$DB" w.tsv >out &
pw=$!
ok "a held lock: without -w, bscore waits" kill -0 $pw
echo transaction_cancel >&5
echo quit >&5
exec 5>&- 6<&-
wait $tp
wait $pw
is "a held lock: once it is free, the waiting bscore goes on" "$?" 0
is "a held lock: and applies its record" "$(events "$DB")" 6001

# ---- a pause in the input commits ----

# bscore reads a pipe that stays open: each record must be committed
# (and its line printed) without waiting for more input, and no lock
# may be held while bscore waits.  timeout ends a hanging bscore.
mkfifo rin rout
timeout 60 "$BIN/bscore" -d "$T/pipe.tdb" <rin >rout &
pp=$!
exec 7>rin 8<rout
gen p1 1 1 >&7
IFS= read -r line <&8
is "a pause in the input: the record is committed and printed" \
    "$(echo "$line" | cut -f2-4 | tr '\t' ' ')" "u1@c.example send counting"
"$BIN/bstate" -w 10 -d "$T/pipe.tdb" set other@c.example onhold
is "a pause in the input: no lock is held meanwhile" "$?" 0
gen p2 2 1 >&7
IFS= read -r line <&8
is "a pause in the input: the next record too" \
    "$(echo "$line" | cut -f2-4 | tr '\t' ' ')" "u1@c.example counting unreachable"
exec 7>&- 8<&-
wait $pp
is "a pause in the input: bscore ends at the end of its input" "$?" 0

done_testing
