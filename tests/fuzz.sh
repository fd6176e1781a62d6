#!/bin/sh
# fuzz.sh [SECONDS] - build the libFuzzer targets in tests/fuzz/ with
# clang (ASan + UBSan) into build-fuzz/ and run each for SECONDS
# (default 60).  Seeds: the Sisimai corpus beside the checkout (when it
# is there) and tests/fixtures.  A crash, a leak, a timeout or running
# out of memory makes the script exit 1 and say where the input is.
set -u
TIME=${1:-60}
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/build-fuzz
CORPUS=${CORPUS:-$TOP/../shared/corpus/sisimai}
CC=${FUZZCC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra"

die() { echo "fuzz: $*" >&2; exit 2; }

command -v "$CC" >/dev/null 2>&1 || die "$CC not found (apt-get install clang)"
PKG="gmime-3.0 tdb libcurl"
PKGCFLAGS=$(pkg-config --cflags $PKG) || die "pkg-config $PKG failed"
PKGLIBS=$(pkg-config --libs $PKG) || die "pkg-config $PKG failed"

mkdir -p "$OUT/crashes" || exit 2

# The library is built by the Makefile (it knows the generated sources),
# with the sanitizers and the fuzzer's coverage hooks.
echo "== fuzz: building into $OUT"
make -s -C "$TOP" B=build-fuzz SAN=1 CC="$CC" \
    CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" "build-fuzz/libbounce.a" ||
    die "cannot build the library"
targets=""
for src in "$TOP"/tests/fuzz/*.c; do
	t=$(basename "$src" .c)
	$CC $CFLAGS $SAN -fsanitize=fuzzer -I"$TOP/lib" $PKGCFLAGS \
	    -o "$OUT/$t" "$src" "$OUT/libbounce.a" $PKGLIBS ||
	    die "cannot build $t"
	targets="$targets $t"
done

# Seeds.  libFuzzer writes new inputs to the first directory it is given
# and reads the others (recursively).
seeds=""
[ -d "$CORPUS/maildir" ] && seeds="$seeds $CORPUS/maildir"
[ -d "$CORPUS/mailbox" ] && seeds="$seeds $CORPUS/mailbox"
[ -d "$TOP/tests/fixtures" ] && seeds="$seeds $TOP/tests/fixtures"
[ -d "$CORPUS/maildir" ] || echo "fuzz: corpus not found at $CORPUS; seeding from tests/fixtures only"
rseeds=$OUT/seeds-record
mkdir -p "$rseeds"
printf 'a.eml\t2014-11-04T15:01:16Z\tuser@example.com\tfailed\t5.1.1\t550\tmx.example.net\t<id@example.org>\tdsn\t550 5.1.1 user unknown' >"$rseeds/1"
printf 'b.mbox:1234\t-\t-\tnone\t-\t-\t-\t-\tnone\tsome \\\\ text\\twith\\ttabs\\n\\x01\thard\tuserunknown' >"$rseeds/2"
printf '\\x23c\t-\t\\x2d\tdelayed\t4.2.2\t452\t-\t-\tdsn\t\303\251t\303\251 \\xff\tsoft\tmailboxfull\textra' >"$rseeds/3"
printf '{"source":"x"}\t\t\t\t\t\t\t\t\t' >"$rseeds/4"
# The rules target starts from the built-in rules and a few small files.
lseeds=$OUT/seeds-rules
mkdir -p "$lseeds"
cp "$TOP/lib/rules.bcr" "$lseeds/builtin"
printf 'rule userunknown\n\tstatus 5.1.1\n\tdiag user unknown\n' >"$lseeds/1"
printf 'rule hard blocked\n\tdiag blocked\n\tand\n\t!diag greylist\n\tdetector pmta:*\n' >"$lseeds/2"
printf '# comment\n\nrule soft mailboxfull\n\tdiag @*>: quota\n\tdiag ^mailbox full$\n' >"$lseeds/3"

# The state target: values of a state file as bscore and bstate write
# them (formats 3, 2 and 1), separated by 0xff bytes.
sseeds=$OUT/seeds-state
mkdir -p "$sseeds"
printf '3\tunreachable\t125\t1704189600\t1704103200\t1704448800\t5\t5\t0\t5\t0\t0\t4.2.2\tmailboxfull\t-\t1\t6\t4\t152\n4\t1704362400\ts\t25\tc\t\tstatus\t\t452\t\tm04.eml\t-\n5\t=\ts\t25\tc\t\tstatus\t\t452\t\tm05.eml\t-\377'\
'1\t2024-01-01T10:00:00Z\tsoft\t25\tcounted\tcounting\tstatus\t4.2.2\t452\tmailboxfull\tm1.eml\t-\tcd0ec4dd3ab74e52\377'\
'1\t2024-01-02T10:00:00Z\tsoft\t25\tcounted\tunreachable\tstatus\t4.2.2\t452\tmailboxfull\tm02.eml\t-\t6f61f110061afce4\377'\
'1\t2024-01-03T10:00:00Z\tsoft\t25\tcounted\tunreachable\tstatus\t4.2.2\t452\tmailboxfull\tm03.eml\t-\ta50763595df29fbe   \377'\
'1\ta@x.example\t2026-11-21T14:21:00Z   ' >"$sseeds/1"
printf '3\tonhold\t0\t1795270860\t=\t1706745600\t2\t1\t1\t0\t0\t0\t5.1.1\tuserunknown\t-\t1\t3\t1\t152\n1\t=\th\t50\tc\tinvalid\tstatus\t\t550\t\tb.eml\t-\n2\t1795270860\tm\t0\t-\t\t-\t-\t-\t-\t-\tchecked by hand' >"$sseeds/2"
printf '2\tinvalid\t50\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t1\t1\t1\t0\t0\t0\t5.1.1\tuserunknown\t-\t1\t2\t1\n1\t2024-03-01T10:00:00Z\thard\t50\tcounted\tinvalid\tstatus\t5.1.1\t550\tuserunknown\tm1\t-\t0123456789abcdef' >"$sseeds/3"
printf '1\tinvalid\t50\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t1\t1\t1\t0\t0\t0\t5.1.1\tuserunknown\t-\t1\t2\377'\
'1\t2024-03-01T10:00:00Z\thard\t50\tcounted\tinvalid\tstatus\t5.1.1\t550\tuserunknown\tm1\t-\t0123456789abcdef' >"$sseeds/4"

rc=0
for t in $targets; do
	case $t in
	fuzz-record) dirs=$rseeds; dict= ;;
	fuzz-rules) dirs=$lseeds; dict= ;;
	fuzz-state) dirs=$sseeds; dict= ;;
	*) dirs=$seeds; dict=-dict=$TOP/tests/fuzz/parse.dict ;;
	esac
	work=$OUT/corpus/$t
	mkdir -p "$work"
	log=$OUT/$t.log
	echo "== fuzz: $t for ${TIME}s (log: $log)"
	"$OUT/$t" -max_total_time="$TIME" -rss_limit_mb=2048 -timeout=10 \
	    -max_len=262144 -print_final_stats=1 $dict \
	    -artifact_prefix="$OUT/crashes/$t-" "$work" $dirs >"$log" 2>&1
	st=$?
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+[[:space:]]+DONE' "$log" | sed 's/^/   /'
	if [ $st -ne 0 ]; then
		rc=1
		echo "fuzz: $t FAILED (exit $st); the end of its log:" >&2
		tail -n 40 "$log" >&2
		grep -h 'Test unit written to' "$log" | sed 's/^/fuzz: /' >&2
	fi
done
if [ $rc -ne 0 ]; then
	echo "fuzz: crashing inputs are in $OUT/crashes/; reproduce one with" >&2
	echo "fuzz:   $OUT/<target> $OUT/crashes/<file>" >&2
fi
exit $rc
