#!/bin/sh
# bench.sh BINDIR - speed and memory of bparse on large mboxes, beside a
# bare GMime parse loop and Sisimai (when its Perl module is installed).
#
# The mboxes are made from the corpus (or tests/fixtures when it is not
# there) under BINDIR/bench: the messages once as a base, repeated to
# 25 MB and to 100 MB.  Runs are pinned to one core when taskset exists,
# and rated per CPU second; bparse is also run as it runs by default, in
# one process per processor, and rated by the wall clock.
# Peak RSS comes from /usr/bin/time, else from polling VmHWM.
set -u
BIN=${1:?usage: bench.sh BINDIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${CORPUS:-$TOP/../shared/corpus/sisimai}
W=${BENCHDIR:-$BIN/bench}
SISIMAI_MAX=180		# seconds Sisimai may take on one input

die() { echo "bench: $*" >&2; exit 2; }
[ -x "$BIN/bparse" ] || die "$BIN/bparse not built"
mkdir -p "$W" || exit 2

PIN=
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
	PIN="taskset -c 0"
fi

# ---- inputs ---------------------------------------------------------------

# The base mbox: every message once, each after a "From " line and
# ending in a blank line (files that are mboxes already are kept whole).
if [ -d "$CORPUS/maildir/bsd" ]; then
	src="$CORPUS/maildir/bsd"
	set -- "$src"/*.eml
else
	src="$TOP/tests/fixtures"
	set -- $(find "$src" -type f \( -name '*.eml' -o -name '*.mbox' \) \
	    ! -path '*/hostile/*' | sort)
fi
[ $# -gt 0 ] && [ -f "$1" ] || die "no messages under $src"
perl -e '
	for my $f (@ARGV) {
		open(my $fh, "<:raw", $f) or die "bench: $f: $!\n";
		local $/;
		my $m = <$fh> // "";
		next if $m eq "";
		print "From MAILER-DAEMON Thu Jan  1 00:00:00 2015\n"
		    unless $m =~ /^From /;
		$m .= "\n" unless $m =~ /\n\z/;
		$m .= "\n" unless $m =~ /\n\r?\n\z/;
		print $m;
	}' "$@" >"$W/base.mbox" || die "cannot write $W/base.mbox"

# grow MB: repeat the base up to at least MB megabytes into $W/MB.mbox
grow() {
	base=$(wc -c <"$W/base.mbox")
	perl -e '
		open(my $fh, "<:raw", $ARGV[0]) or die "bench: $ARGV[0]: $!\n";
		local $/;
		my $d = <$fh>;
		print $d for 1 .. $ARGV[1];
	' "$W/base.mbox" $(( ($1 * 1048576 + base - 1) / base )) \
	    >"$W/$1.mbox" || die "cannot write $W/$1.mbox"
}
grow 25
grow 100

# ---- measuring ------------------------------------------------------------

# measure OUT CMD...: run CMD (pinned by $RUNPIN), stdout to OUT; sets $wall and
# $secs (CPU time, user + system: steadier on a busy machine; the wall
# clock when /usr/bin/time is missing), $kb (peak RSS in KiB) and $st
# (exit status).
measure() {
	out=$1
	shift
	if [ -x /usr/bin/time ]; then
		$RUNPIN /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$@" >"$out"
		st=$?
		set -- $(tail -n 1 "$W/time")
		wall=$1 kb=$4
		secs=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
		return
	fi
	t0=$(date +%s.%N)
	$RUNPIN "$@" >"$out" &
	pid=$!
	kb=0
	while kill -0 $pid 2>/dev/null; do
		v=$(awk '/^VmHWM:/ { print $2 }' /proc/$pid/status 2>/dev/null)
		[ -n "$v" ] && kb=$v
		sleep 0.05
	done
	wait $pid
	st=$?
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	secs=$wall
}

mb() { awk -v b="$(wc -c <"$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
mbs() { awk -v m="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? m / s : 0) }'; }

# line LABEL MSGS RECS FILE: one result line from the last measure
line() {
	printf '   %-10s %6d msgs %6s recs  %6ss CPU %6ss wall  %6s msgs/s  %5s MB/s  RSS %6d KiB\n' \
	    "$1" "$2" "$3" "$secs" "$wall" "$(rate "$2" "$secs")" \
	    "$(mbs "$(mb "$4")" "$secs")" "$kb"
}

# bparse_run SIZE [OPTION...]: bparse over $W/SIZE.mbox, pinned, in one
# process unless told; sets msgs recs secs wall kb
bparse_run() {
	size=$1
	shift
	cat "$W/$size.mbox" >/dev/null	# from the page cache, not the disk
	measure "$W/out" "$BIN/bparse" "${@:--P1}" "$W/$size.mbox"
	[ $st -le 1 ] || die "bparse failed on $size.mbox (exit $st)"
	recs=$(wc -l <"$W/out")
	msgs=$(cut -f1 "$W/out" | uniq | wc -l)
}

echo "== bench: inputs from $src"
echo "   base.mbox $(mb "$W/base.mbox") MB, 25.mbox $(mb "$W/25.mbox") MB," \
    "100.mbox $(mb "$W/100.mbox") MB${PIN:+ (pinned: $PIN)}"

RUNPIN=$PIN
echo "== bparse, one process (-P 1)"
for size in 25 100; do
	bparse_run $size
	eval "b_msgs_$size=$msgs b_secs_$size=$secs b_kb_$size=$kb"
	line "$size MB:" "$msgs" "$recs" "$W/$size.mbox"
done
echo "   memory: $b_kb_25 KiB at 25 MB, $b_kb_100 KiB at 100 MB" \
    "(flat if these are close)"
cp "$W/out" "$W/out.1"
RUNPIN=
bparse_run 100 -P "$NCPU"
RUNPIN=$PIN
cmp -s "$W/out" "$W/out.1" || die "bparse -P $NCPU wrote other records than -P 1"
p_msgs=$msgs p_wall=$wall
echo "== bparse as run by default: $NCPU processes on $NCPU processors, by the wall clock"
printf '   %-10s %6d msgs %6s recs  %6ss CPU %6ss wall  %6s msgs/s  %5s MB/s  RSS %6d KiB each\n' \
    "100 MB:" "$msgs" "$recs" "$secs" "$wall" "$(rate "$msgs" "$wall")" \
    "$(mbs "$(mb "$W/100.mbox")" "$wall")" "$kb"

# ---- a bare GMime parse loop, for reference ---------------------------------

if cc -O2 -o "$W/bench-gmime" "$TOP/tests/bench-gmime.c" \
    $(pkg-config --cflags --libs gmime-3.0) 2>"$W/cc.err"; then
	cat "$W/100.mbox" >/dev/null
	measure "$W/gout" "$W/bench-gmime" "$W/100.mbox"
	g=$(cat "$W/gout")
	echo "== bare GMime parse loop (parse and drop, nothing looked at)"
	line "100 MB:" "$g" - "$W/100.mbox"
else
	echo "== bare GMime parse loop: cannot build (see $W/cc.err)"
fi

# ---- Sisimai ----------------------------------------------------------------

if perl -MSisimai -e 1 2>/dev/null; then
	# A short run on the base mbox tells how long the big ones would
	# take; the largest that fits in SISIMAI_MAX seconds is measured.
	measure "$W/sout" perl "$TOP/tests/bench-sisimai.pl" "$W/base.mbox"
	[ $st -eq 0 ] || die "Sisimai failed on base.mbox"
	set -- $(cat "$W/sout")
	ver=$2 bsecs=$8
	pick=base
	for size in 25 100; do
		est=$(awk -v s="$bsecs" -v a="$(wc -c <"$W/base.mbox")" \
		    -v b="$(wc -c <"$W/$size.mbox")" \
		    'BEGIN { printf "%d", s * b / a }')
		[ "$est" -le $SISIMAI_MAX ] && pick=$size
	done
	echo "== Sisimai $ver (Perl), on $pick.mbox"
	if [ $pick != 100 ]; then
		echo "   (100 MB would take over ${SISIMAI_MAX}s; rates are per" \
		    "message on the smaller file)"
	fi
	cat "$W/$pick.mbox" >/dev/null
	measure "$W/sout" perl "$TOP/tests/bench-sisimai.pl" "$W/$pick.mbox"
	[ $st -eq 0 ] || die "Sisimai failed on $pick.mbox"
	set -- $(cat "$W/sout")
	s_msgs=$4 s_recs=$6 s_secs=$secs s_wall=$wall
	line "$pick.mbox:" "$s_msgs" "$s_recs" "$W/$pick.mbox"
	# bparse on the same file, for a like-for-like ratio.
	if [ $pick = base ]; then
		bparse_run base
	else
		eval "msgs=\$b_msgs_$pick secs=\$b_secs_$pick"
	fi
	awk -v bm="$msgs" -v bs="$secs" -v sm="$s_msgs" -v ss="$s_secs" \
	    -v f="$pick.mbox" 'BEGIN {
		br = (bs > 0 ? bm / bs : 0); sr = (ss > 0 ? sm / ss : 0)
		printf "== bparse -P 1 / Sisimai on %s: %.0f / %.0f msgs/s per CPU second = %.1fx\n",
		    f, br, sr, (sr > 0 ? br / sr : 0) }'
	# Sisimai runs in one process: its wall clock is its CPU time.
	awk -v pm="$p_msgs" -v pw="$p_wall" -v sm="$s_msgs" -v sw="$s_wall" \
	    -v n="$NCPU" 'BEGIN {
		pr = (pw > 0 ? pm / pw : 0); sr = (sw > 0 ? sm / sw : 0)
		printf "== bparse (default, %d processors) / Sisimai, wall clock: %.0f / %.0f msgs/s = %.1fx\n",
		    n, pr, sr, (sr > 0 ? pr / sr : 0) }'
else
	echo "== Sisimai: not installed (apt-get install libsisimai-perl)"
fi

# ---- the other steps, when they have benchmarks -----------------------------

for b in bench-classify.sh bench-state.sh bench-fetch.sh; do
	if [ -f "$TOP/tests/$b" ]; then
		echo "== $b"
		BENCHDIR=$W BENCH_MBOX=$W/100.mbox sh "$TOP/tests/$b" "$BIN" ||
		    die "$b failed"
	fi
done
exit 0
