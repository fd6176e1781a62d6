#!/bin/sh
# The whole way from a real IMAP server: bfetch --delete | bparse |
# bclassify | bscore, against a private Dovecot (tests/dovecot.sh) that
# holds real-looking Postfix bounces.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/dovecot.sh"

dovecot_require
dovecot_start || { echo "1..0 # SKIP dovecot would not start"; exit 0; }

# Deliver the fixtures into the account's Maildir as an MTA would.
n=0
for f in dsn-postfix.eml dsn-delayed.eml exim.eml arf-rcpt.eml; do
	n=$((n + 1))
	cp "$FIX/$f" "$DV_MAILDIR/tmp/$n.fixture" &&
	    mv "$DV_MAILDIR/tmp/$n.fixture" "$DV_MAILDIR/new/$n.fixture"
done
dv_own

"$BIN/bfetch" -s "$T/spool" -d --cacert "$DV_CA" --netrc-file "$DV_NETRC" \
    "imaps://127.0.0.1:$DV_IMAPS/INBOX" | "$BIN/bparse" | "$BIN/bclassify" |
    "$BIN/bscore" -d "$T/state.tdb" >"$T/trans" 2>"$T/err"
is "pipeline: exit status" "$?" 0
ok "pipeline: nothing on stderr" test ! -s "$T/err"
is "every message fetched, the server empty" "$(dovecot_count)" 0
is "every message spooled" "$(find "$T/spool/new" -type f | wc -l | tr -d ' ')" "$n"

# What the fixtures say, as the state file now holds it.
"$BIN/bparse" "$FIX/dsn-postfix.eml" | "$BIN/bclassify" |
    awk -F '\t' '$11 == "hard" { print $3 }' >"$T/hard"
ok "the fixtures hold hard bounces" test -s "$T/hard"
for a in $(cat "$T/hard"); do
	"$BIN/bstate" -d "$T/state.tdb" check "$a"
	is "hard bounce muted: $a" "$?" 1
	ok "why explains $a" sh -c "'$BIN/bstate' -d '$T/state.tdb' why '$a' |
	    grep -q 'invalid'"
done
# The delay warning counts for nothing: its address stays mailable.
d=$("$BIN/bparse" "$FIX/dsn-delayed.eml" | cut -f3 | head -n 1)
"$BIN/bstate" -d "$T/state.tdb" check "$d"
is "delayed address still mailable: $d" "$?" 0
# Running the pipeline again over the spool changes nothing.
"$BIN/bparse" "$T/spool" | "$BIN/bclassify" |
    "$BIN/bscore" -d "$T/state.tdb" >"$T/again"
is "a second run over the same mail: no transition" "$(wc -l <"$T/again" | tr -d ' ')" 0
done_testing
