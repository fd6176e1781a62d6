#!/bin/sh
# bench-state.sh BIN [ADDRESSES] - speed of bscore and bstate filter on a
# state file of many addresses (default a million).
#
#   1. bscore loads one record per address into a new state file;
#   2. bscore applies a further 20% of records to addresses drawn at
#      random, half of them known, half new (the usual daily run), first
#      just after the load and then once more with other addresses, as
#      on the next day;
#   3. bstate filter reads every address of the file plus as many
#      unknown ones and prints the mailable ones.
# Records are generated with awk; every figure is wall-clock time.  A
# million addresses need about 1 GB of disk under $BENCHDIR or $TMPDIR.
# BENCH_BATCH=N runs bscore with -b N instead of its default batch size
# (fewer commits, each waiting for the disk, for more memory).
set -eu
BIN=${1:?usage: bench-state.sh BIN [ADDRESSES]}
N=${2:-1000000}
B=${BENCH_BATCH:+-b $BENCH_BATCH}
T=$(mktemp -d "${BENCHDIR:-${TMPDIR:-/tmp}}/bounce-state.XXXXXX")
trap 'rm -rf "$T"' EXIT
DB=$T/state.tdb

# gen FIRST COUNT MODE [SEED]: records for user FIRST.. (MODE seq) or
# random users below 2*N (MODE rand), dated over a hundred days; their
# sources are bench:MODE[SEED]:I.
gen() {
	awk -v first="$1" -v count="$2" -v mode="$3" -v seed="${4:-}" -v n="$N" 'BEGIN {
		srand(seed == "" ? 42 : seed)
		for (i = 0; i < count; i++) {
			u = mode == "seq" ? first + i : int(rand() * 2 * n)
			d = 1 + (i % 28); m = 1 + int(i / 28) % 3
			hard = u % 3 == 0
			printf "bench:%s:%d\t2024-%02d-%02dT%02d:%02d:00Z\tuser%d@d%d.example\tfailed\t%s\t%s\tmx.example\t-\tdsn\t%s\t%s\t%s\n",
			    mode seed, i, m, d, i % 24, i % 60, u, u % 5000,
			    hard ? "5.1.1" : "4.2.2", hard ? "550" : "452",
			    hard ? "user unknown" : "mailbox full",
			    hard ? "hard" : "soft",
			    hard ? "userunknown" : "mailboxfull"
		}
	}'
}

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%d", n / (b - a) }'; }
# score FILE COUNT WHAT: time bscore over FILE and say how fast it went.
# Each timed run starts with nothing dirty in the page cache, so that it
# does not pay for writing out the bench's own input files or an earlier
# step's state file.
score() {
	sync
	t0=$(now)
	"$BIN/bscore" $B -d "$DB" "$1" >/dev/null
	t1=$(now)
	echo "bscore: $3: $(rate "$2" "$t0" "$t1") records/s"
}

gen 0 "$N" seq >"$T/load.tsv"
M=$((N / 5))
gen 0 "$M" rand >"$T/more.tsv"
gen 0 "$M" rand 43 >"$T/next.tsv"
awk -v n="$N" 'BEGIN { for (i = 0; i < 2 * n; i++) printf "User %d <user%d@d%d.example>\n", i, i, i % 5000 }' >"$T/list.txt"

[ -z "$B" ] || echo "bscore: $BENCH_BATCH records per batch (-b)"
score "$T/load.tsv" "$N" "$N records into a new state file"
score "$T/more.tsv" "$M" "$M records into a state of $N addresses"
score "$T/next.tsv" "$M" "$M more records, as on the next day"

sync
t0=$(now)
"$BIN/bstate" -d "$DB" filter "$T/list.txt" >"$T/mailable.txt"
t1=$(now)
echo "bstate filter: $((2 * N)) addresses: $(rate $((2 * N)) "$t0" "$t1") addresses/s ($(wc -l <"$T/mailable.txt") mailable)"
echo "state file: $(du -k "$DB" | cut -f1) KiB for $("$BIN/bstate" -d "$DB" stats state | awk '{ n += $3 } END { print n }') addresses"
