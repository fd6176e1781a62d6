#!/bin/sh
# A kill -9 in the middle of a fetch of hundreds of messages loses
# nothing: after a rerun every message is in the spool (some perhaps
# twice), every spooled file is whole, and with --delete the server
# ends empty.  The kills land after a given number of paths has been
# read from bfetch's output, wherever bfetch is by then (fetching,
# saving its state, deleting), so the tests do not depend on timing.
# This server announces none of ESEARCH, MOVE and UIDPLUS, so bfetch
# takes its other ways: UID SEARCH in chunks of message numbers, COPY
# and STORE for a move, and a plain EXPUNGE.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/dovecot.sh"

dovecot_require
DV_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+"
dovecot_start || { echo "1..0 # SKIP dovecot would not start"; exit 0; }
cd "$T" || exit 1

H=127.0.0.1
IMAPS=imaps://$H:$DV_IMAPS/INBOX
POP3S=pop3s://$H:$DV_POP3S/
N=400

ids() { find "$1/new" -type f -exec grep -hi '^Message-ID:' {} + |
    sed 's/^[^:]*: *//' | sort; }
want() { i=1; while [ $i -le "$1" ]; do echo "<$2.$i@test.invalid>"
	i=$((i + 1)); done | sort; }
# Every file in SPOOL/new is a whole message (the last line is there).
whole() { for f in "$1"/new/*; do
	[ "$(tail -n 1 "$f")" = "The end." ] || { echo "$f: partial"; return 1; }
done; }

# killrun AT SPOOL ARGS...: run bfetch, kill -9 it once AT paths have
# come out; prints how many paths were read in all.
killrun() {
	_at=$1 _sp=$2
	shift 2
	rm -f fifo && mkfifo fifo
	"$BIN/bfetch" -s "$_sp" --cacert "$DV_CA" --netrc-file "$DV_NETRC" \
	    "$@" >fifo 2>>killerr &
	_pid=$!
	_i=0
	while read -r _line; do
		_i=$((_i + 1))
		[ "$_i" -eq "$_at" ] && kill -9 "$_pid"
	done <fifo
	wait "$_pid" 2>/dev/null
	echo "$? $_i"
}
bf() { _s=$1; shift
	"$BIN/bfetch" -s "$_s" --cacert "$DV_CA" --netrc-file "$DV_NETRC" "$@"; }

# ---- IMAP, --delete: two kills, then a run to the end; more messages
# than one UID SEARCH asks for ----
dovecot_fill 1100 k
set -- $(killrun 37 sp1 -d "$IMAPS")
is "imaps --delete, first run: killed" "$1" 137
set -- $(killrun 500 sp1 -d "$IMAPS")
is "imaps --delete, second run: killed" "$1" 137
bf sp1 -d "$IMAPS" >out 2>err
is "imaps --delete, the rerun: exit 0" "$?" 0
is "imaps --delete: every message arrived" "$(ids sp1 | sort -u)" \
    "$(want 1100 k)"
is "imaps --delete: the server is empty" "$(dovecot_count)" 0
ok "imaps --delete: every spooled file is whole" whole sp1
echo "# imaps: $(ids sp1 | wc -l | tr -d ' ') files for 1100 messages"

# ---- IMAP --move without MOVE: COPY, then a deletion ----
mkdir -p "$DV_MAILDIR/.Done/cur" "$DV_MAILDIR/.Done/new" \
    "$DV_MAILDIR/.Done/tmp" && dv_own
dovecot_fill 60 n
bf sp4 -m Done "$IMAPS" >out 2>err
is "imaps --move without MOVE: exit 0" "$?" 0
is "imaps --move without MOVE: all spooled" "$(ids sp4)" "$(want 60 n)"
is "imaps --move without MOVE: INBOX is empty" "$(dovecot_count)" 0
is "imaps --move without MOVE: all in Done" \
    "$(find "$DV_MAILDIR/.Done/cur" "$DV_MAILDIR/.Done/new" -type f |
    wc -l | tr -d ' ')" 60

# ---- IMAP, no --delete: the state is saved as it goes ----
dovecot_fill 300 m
set -- $(killrun 120 sp2 "$IMAPS")
is "imaps, keep: killed" "$1" 137
bf sp2 "$IMAPS" >out 2>err
is "imaps, keep, the rerun: exit 0" "$?" 0
is "imaps, keep: every message arrived" "$(ids sp2 | sort -u)" \
    "$(want 300 m)"
ok "imaps, keep: at most one batch fetched twice" \
    test "$(ids sp2 | wc -l)" -le $((300 + 50))
is "imaps, keep: the server keeps all" "$(dovecot_count)" 300
bf sp2 "$IMAPS" >out 2>err
is "imaps, keep, a third run: nothing more" "$(wc -l <out | tr -d ' ')" 0
bf sp2 -d "$IMAPS" >out 2>err
is "imaps, keep, then --delete: nothing fetched again" \
    "$(wc -l <out | tr -d ' ')" 0
is "imaps, keep, then --delete: the server is empty" "$(dovecot_count)" 0

# ---- POP3, --delete: deletions only count at QUIT, which a killed
# session never sends ----
dovecot_fill $N p
set -- $(killrun 50 sp3 -d "$POP3S")
is "pop3s --delete, first run: killed" "$1" 137
set -- $(killrun 260 sp3 -d "$POP3S")
is "pop3s --delete, second run: killed" "$1" 137
bf sp3 -d "$POP3S" >out 2>err
is "pop3s --delete, the rerun: exit 0" "$?" 0
is "pop3s --delete: every message arrived" "$(ids sp3 | sort -u)" \
    "$(want $N p)"
is "pop3s --delete: the server is empty" "$(dovecot_count)" 0
ok "pop3s --delete: every spooled file is whole" whole sp3
echo "# pop3s: $(ids sp3 | wc -l | tr -d ' ') files for $N messages"

done_testing
