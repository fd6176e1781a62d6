#!/bin/sh
# bfetch against a real IMAP and POP3 server: a private Dovecot started
# for this test (tests/dovecot.sh).  imaps, imap with STARTTLS, pop3s and
# pop3: fetch, no refetch without --delete, --limit, --delete, --move,
# credentials (netrc, BFETCH_PASSWORD, wrong password), TLS refused
# without the right CA, a missing folder, a spool that cannot be written,
# a stdout that cannot be written.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/dovecot.sh"

dovecot_require
dovecot_start || { echo "1..0 # SKIP dovecot would not start"; exit 0; }
cd "$T" || exit 1

H=127.0.0.1
IMAPS=imaps://$H:$DV_IMAPS/INBOX
IMAP=imap://$H:$DV_IMAP/INBOX
POP3S=pop3s://$H:$DV_POP3S/
POP3=pop3://$H:$DV_POP3/
# bf SPOOL ARGS...: bfetch with the test's CA and credentials.
bf() { _s=$1; shift
	"$BIN/bfetch" -s "$_s" --cacert "$DV_CA" --netrc-file "$DV_NETRC" "$@"; }
# The Message-IDs of the files named in FILE, sorted.
ids() { [ -s "$1" ] || return 0; tr '\n' '\0' <"$1" |
    xargs -0 grep -hi '^Message-ID:' | sed 's/^[^:]*: *//' | sort; }
# The Message-IDs dovecot_fill N P wrote: <P.1@test.invalid> ...
want() { i=1; while [ $i -le "$1" ]; do echo "<$2.$i@test.invalid>"
	i=$((i + 1)); done | sort; }
lines() { wc -l <"$1" | tr -d ' '; }
nfiles() { find "$1" -type f | wc -l | tr -d ' '; }

# ---- imaps ----
dovecot_fill 30 a
bf sp "$IMAPS" >out 2>err
is "imaps: exit 0" "$?" 0
ok "imaps: nothing on stderr" test ! -s err
is "imaps: every message, once" "$(ids out)" "$(want 30 a)"
is "imaps: the server keeps them without --delete" "$(dovecot_count)" 30
p=$(head -n 1 out)
ok "imaps: spooled in new/" test -f "$p" -a "${p#sp/new/}" != "$p"
ok "imaps: CRLF from the wire is LF in the spool" \
    sh -c "! grep -q \"\$(printf '\r')\" $p"
ok "imaps: dot lines intact" grep -qx '\.\.a line that starts with a dot' "$p"
bf sp "$IMAPS" >out 2>err
is "imaps again: exit 0" "$?" 0
is "imaps again: nothing refetched" "$(lines out)" 0
dovecot_fill 5 b
bf sp "$IMAPS" >out 2>err
is "imaps, 5 new: only the new ones" "$(ids out)" "$(want 5 b)"
dovecot_fill 10 c
bf sp -n 4 "$IMAPS" >out 2>err
is "imaps -n 4: four" "$(lines out)" 4
bf sp --limit 100 "$IMAPS" >out2 2>err
is "imaps --limit 100: the other six" "$(lines out2)" 6
cat out out2 >out3
is "imaps, -n then the rest: each once" "$(ids out3)" "$(want 10 c)"
ok "imaps: the state names the source" \
    grep -q "^imaps://$DV_USER@$H:$DV_IMAPS/INBOX	" sp/.bfetch-state

# ---- imaps --delete, in batches ----
bf sp -d "$IMAPS" >out 2>err
is "imaps --delete: exit 0" "$?" 0
is "imaps --delete: nothing refetched" "$(lines out)" 0
is "imaps --delete: the server is empty" "$(dovecot_count)" 0
dovecot_fill 120 d
bf sp --delete "$IMAPS" >out 2>err
is "imaps --delete, 120 new: exit 0" "$?" 0
is "imaps --delete, 120 new: all spooled" "$(ids out)" "$(want 120 d)"
is "imaps --delete, 120 new: the server is empty" "$(dovecot_count)" 0

# ---- imap:// with STARTTLS, and --move ----
mkdir -p "$DV_MAILDIR/.Done/cur" "$DV_MAILDIR/.Done/new" \
    "$DV_MAILDIR/.Done/tmp" && dv_own
dovecot_fill 7 e
bf sp2 -m Done "$IMAP" >out 2>err
is "imap STARTTLS --move: exit 0" "$?" 0
is "imap STARTTLS --move: all spooled" "$(ids out)" "$(want 7 e)"
is "imap --move: INBOX is empty" "$(dovecot_count)" 0
is "imap --move: they are in Done" \
    "$(find "$DV_MAILDIR/.Done/cur" "$DV_MAILDIR/.Done/new" -type f |
    wc -l | tr -d ' ')" 7
dovecot_fill 2 f
bf sp2 -m Nowhere "$IMAP" >out 2>err
is "imap --move to a missing folder: exit 76" "$?" 76
ok "imap --move to a missing folder: says what the server said" \
    grep -q 'UID MOVE.*server:' err
is "imap --move to a missing folder: nothing deleted" "$(dovecot_count)" 2
bf sp2 -m Nowhere "$IMAP" >out 2>err
is "... and the next run does not fetch them again" "$(lines out)" 0
bf sp2 -d "$IMAP" >out 2>err
is "... but --delete deletes them" "$(dovecot_count)" 0
bf sp2 "imaps://$H:$DV_IMAPS/Missing" >out 2>err
is "a missing folder: exit 76" "$?" 76
ok "a missing folder: says so" grep -q 'cannot open the folder Missing' err

# ---- credentials ----
dovecot_fill 3 g
BFETCH_PASSWORD=wrong "$BIN/bfetch" -s sp3 --cacert "$DV_CA" \
    "imaps://$DV_USER@$H:$DV_IMAPS/" >out 2>err
is "imaps, wrong password: exit 77" "$?" 77
ok "imaps, wrong password: says login" grep -qi 'login' err
ok "imaps, wrong password: nothing spooled" test ! -s out
BFETCH_PASSWORD=wrong "$BIN/bfetch" -s sp3 --cacert "$DV_CA" \
    "pop3s://$DV_USER@$H:$DV_POP3S/" >out 2>err
is "pop3s, wrong password: exit 77" "$?" 77
printf 'machine localhost login %s password "%s"\n' "$DV_USER" "$DV_PASS" \
    >netrc2
chmod 600 netrc2
"$BIN/bfetch" -s sp3 --cacert "$DV_CA" --netrc-file netrc2 "$IMAPS" \
    >out 2>err
is "netrc for another host name: exit 77" "$?" 77
ok "netrc for another host name: says so" \
    grep -q "no netrc entry for machine $H in netrc2" err
BFETCH_PASSWORD=$DV_PASS "$BIN/bfetch" -s sp3 --cacert "$DV_CA" \
    "imaps://$DV_USER@$H:$DV_IMAPS/" >out 2>err
is "BFETCH_PASSWORD: exit 0" "$?" 0
is "BFETCH_PASSWORD: fetched" "$(ids out)" "$(want 3 g)"
# Comments in the netrc file, as libcurl reads them: a word starting
# with # ends the line.
{ printf '# old: machine %s login %s password oldpw\n' "$H" "$DV_USER"
  printf 'machine %s login %s password "%s" # was: password oldpw\n' \
    "$H" "$DV_USER" "$DV_PASS"; } >netrc3
chmod 600 netrc3
"$BIN/bfetch" -s sp3b --cacert "$DV_CA" --netrc-file netrc3 "$IMAPS" \
    >out 2>err
is "netrc with comments: exit 0" "$?" 0
is "netrc with comments: fetched" "$(ids out)" "$(want 3 g)"

# ---- TLS ----
"$BIN/bfetch" -s sp4 --netrc-file "$DV_NETRC" "$IMAPS" >out 2>err
is "imaps without the CA: exit 78" "$?" 78
ok "imaps without the CA: says certificate" grep -qi 'certificate' err
"$BIN/bfetch" -s sp4 --netrc-file "$DV_NETRC" --cacert "$DV_OTHERCA" \
    "$POP3S" >out 2>err
is "pop3s with another CA: exit 78" "$?" 78
"$BIN/bfetch" -s sp4 --netrc-file "$DV_NETRC" --cacert "$DV_OTHERCA" \
    "$IMAP" >out 2>err
is "imap STARTTLS with another CA: exit 78" "$?" 78
ok "TLS refused: nothing spooled" test ! -s out
"$BIN/bfetch" -s sp4 --netrc-file "$DV_NETRC" --insecure "$IMAPS" \
    >out 2>err
is "imaps --insecure: exit 0" "$?" 0
is "imaps --insecure: fetched" "$(lines out)" 3
"$BIN/bfetch" -s sp4 --netrc-file "$DV_NETRC" "imaps://$H:$DV_IMAP/" \
    >out 2>err
is "imaps to a plain port: exit 78" "$?" 78

# ---- pop3s ----
bf sp5 "$POP3S" >out 2>err
is "pop3s: exit 0" "$?" 0
is "pop3s: every message" "$(ids out)" "$(want 3 g)"
ok "pop3s: dot lines unstuffed" grep -qx '\.\.a line that starts with a dot' \
    "$(head -n 1 out)"
ok "pop3s: a lone dot line kept" grep -qx '\.' "$(head -n 1 out)"
bf sp5 "$POP3S" >out 2>err
is "pop3s again: nothing refetched" "$(lines out)" 0
dovecot_fill 40 h
bf sp5 -n 15 "$POP3S" >out 2>err
is "pop3s -n 15: fifteen" "$(lines out)" 15
bf sp5 -d "$POP3S" >out2 2>err
is "pop3s --delete: exit 0" "$?" 0
cat out out2 >out3
is "pop3s --delete: the rest, each once" "$(ids out3)" "$(want 40 h)"
is "pop3s --delete: the server is empty (QUIT committed)" "$(dovecot_count)" 0
dovecot_fill 4 i
bf sp5 -d "$POP3" >out 2>err
is "pop3 STARTTLS --delete: exit 0" "$?" 0
is "pop3 STARTTLS --delete: fetched" "$(ids out)" "$(want 4 i)"
is "pop3 STARTTLS --delete: the server is empty" "$(dovecot_count)" 0
bf sp5 -m Done "$POP3" >out 2>err
is "pop3 --move: exit 2" "$?" 2

# ---- a spool that cannot be written: nothing is deleted ----
dovecot_fill 5 j
: >afile
bf afile/sp -d "$IMAPS" >out 2>err
is "imaps, spool cannot be created: exit 73" "$?" 73
is "imaps, spool cannot be created: nothing deleted" "$(dovecot_count)" 5
bf afile/sp -d "$POP3S" >out 2>err
is "pop3s, spool cannot be created: exit 73" "$?" 73
is "pop3s, spool cannot be created: nothing deleted" "$(dovecot_count)" 5
big=$T/big
{ printf 'From: x@test.invalid\nSubject: big\nMessage-ID: <big@test.invalid>\n\n'
  i=0; while [ $i -lt 3000 ]; do
	echo "filler line $i filler filler filler filler filler filler"
	i=$((i + 1)); done; } >"$big"
cp "$big" "$DV_MAILDIR/new/1.big.test" && dv_own
( trap '' XFSZ; ulimit -f 64 &&
    exec "$BIN/bfetch" -s sp6 --cacert "$DV_CA" --netrc-file "$DV_NETRC" \
    -d "$IMAPS" ) >out 2>err
is "imaps, a file too large for the disk: exit 75" "$?" 75
is "imaps, a file too large: nothing deleted" "$(dovecot_count)" 6
is "imaps, a file too large: nothing left in tmp/" "$(nfiles sp6/tmp)" 0
( trap '' XFSZ; ulimit -f 64 &&
    exec "$BIN/bfetch" -s sp7 --cacert "$DV_CA" --netrc-file "$DV_NETRC" \
    -d "$POP3S" ) >out 2>err
is "pop3s, a file too large for the disk: exit 75" "$?" 75
is "pop3s, a file too large: nothing deleted" "$(dovecot_count)" 6
if [ "$(id -u)" = 0 ] && mkdir tiny &&
    mount -t tmpfs -o size=64k tmpfs tiny 2>/dev/null; then
	bf tiny/sp -d "$IMAPS" >out 2>err
	is "imaps, disk full (tmpfs): exit 75" "$?" 75
	ok "imaps, disk full: says no space" grep -q 'No space left' err
	is "imaps, disk full: nothing deleted" "$(dovecot_count)" 6
	umount tiny
fi
bf sp6 -d "$IMAPS" >out 2>err
is "with room again: exit 0" "$?" 0
find sp6/new -type f >all
is "with room again: all arrive" "$(ids all | sort -u)" \
    "$( (want 5 j; echo '<big@test.invalid>') | sort)"
is "with room again: the server is empty" "$(dovecot_count)" 0

# ---- a stdout that cannot be written: what was not printed is neither
# remembered nor deleted, and the next run prints it ----
for u in "$IMAPS" "$POP3S"; do
	s=${u%%:*}
	dovecot_fill 3 "o$s"
	bf "spo$s" -d "$u" >/dev/full 2>err
	is "$s --delete, stdout full: exit 2" "$?" 2
	ok "$s --delete, stdout full: says so" grep -q '^bfetch: stdout: ' err
	is "$s --delete, stdout full: nothing deleted" "$(dovecot_count)" 3
	bf "spo$s" -d "$u" >out 2>err
	is "$s --delete, then stdout back: exit 0" "$?" 0
	is "$s --delete, then stdout back: every message printed" "$(ids out)" \
	    "$(want 3 "o$s")"
	is "$s --delete, then stdout back: the server is empty" \
	    "$(dovecot_count)" 0
	dovecot_fill 2 "k$s"
	bf "spk$s" "$u" >/dev/full 2>err
	is "$s, stdout full: exit 2" "$?" 2
	bf "spk$s" "$u" >out 2>err
	is "$s, then stdout back: every message printed" "$(ids out)" \
	    "$(want 2 "k$s")"
	bf "spk$s" -d "$u" >out 2>err
	is "$s, then --delete: nothing printed twice" "$(lines out)" 0
	is "$s, then --delete: the server is empty" "$(dovecot_count)" 0
done
# stdout fails part of the way through a batch (a file that reaches its
# size limit): the paths printed count, the others are fetched again.
dovecot_fill 40 q
( trap '' XFSZ; ulimit -f 1 &&
    exec "$BIN/bfetch" -s spq --cacert "$DV_CA" --netrc-file "$DV_NETRC" \
    -d "$IMAPS" ) >out 2>err
is "imaps --delete, stdout fails part-way: exit 2" "$?" 2
# Only whole lines were printed; the last may be cut short.
head -n "$(lines out)" out >printed
ok "imaps --delete, stdout fails part-way: some printed" \
    test "$(lines printed)" -gt 0 -a "$(lines printed)" -lt 40
is "imaps --delete, stdout fails part-way: nothing deleted" \
    "$(dovecot_count)" 40
bf spq -d "$IMAPS" >out2 2>err
is "imaps --delete, the next run: exit 0" "$?" 0
is "imaps --delete, the next run: the others, so each printed once" \
    "$(cat printed out2 >out3 && ids out3)" "$(want 40 q)"
is "imaps --delete, the next run: the server is empty" "$(dovecot_count)" 0

done_testing
