#!/bin/sh
# bench-fetch.sh BINDIR - bfetch's speed over imaps from a private Dovecot
# on 127.0.0.1 (tests/dovecot.sh): N messages (BENCH_FETCH, default
# 2000) fetched into a fresh spool, with and without --delete.
BIN=${1:?usage: bench-fetch.sh BINDIR}
export BIN
. "$(dirname "$0")/lib.sh"
skip_all() { echo "bfetch: skipped: $*"; exit 0; }
. "$TOP/tests/dovecot.sh"
N=${BENCH_FETCH:-2000}

dovecot_require
dovecot_start || skip_all "dovecot would not start"
URL=imaps://127.0.0.1:$DV_IMAPS/INBOX

# run LABEL ARGS...: fetch everything into a new spool and report.
run() {
	label=$1; shift
	rm -rf "$T/spool"
	s=$(date +%s.%N)
	"$BIN/bfetch" -s "$T/spool" --cacert "$DV_CA" --netrc-file "$DV_NETRC" \
	    "$@" "$URL" >"$T/out" || { echo "bfetch: failed" >&2; exit 1; }
	e=$(date +%s.%N)
	n=$(wc -l <"$T/out" | tr -d ' ')
	awk -v n="$n" -v s="$s" -v e="$e" -v l="$label" 'BEGIN {
		printf "bfetch: %d messages over imaps (%s) in %.2f s: %.0f messages/s\n",
		    n, l, e - s, (e > s ? n / (e - s) : 0) }'
}

dovecot_fill "$N" b
# A first pass lets Dovecot build its index, as a busy mailbox has one.
"$BIN/bfetch" -s "$T/warm" --cacert "$DV_CA" --netrc-file "$DV_NETRC" \
    "$URL" >/dev/null || exit 1
run "kept on the server"
run "with --delete" -d
[ "$(dovecot_count)" -eq 0 ] || { echo "bfetch: server not empty" >&2; exit 1; }
exit 0
