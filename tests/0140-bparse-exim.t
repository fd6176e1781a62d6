#!/bin/sh
# bparse over Exim's plain-text bounces: the recipients of
# X-Failed-Recipients, each with its own diagnostic from the text.
. "$(dirname "$0")/lib.sh"

# col N COL FILE: column COL of line N of FILE
col() { awk -F '\t' -v n="$1" -v c="$2" 'NR == n { print $c }' "$3"; }

"$BIN/bparse" "$FIX/exim.eml" >"$T/out" 2>"$T/err"
is "exim: exit status" "$?" 0
ok "exim: nothing on stderr" test ! -s "$T/err"
ok "exim: ten columns" awk -F '\t' 'NF != 10 { exit 1 }' "$T/out"
is "exim: one record per failed recipient" "$(wc -l <"$T/out")" 2
is "exim: recipients from X-Failed-Recipients, lower-cased" \
    "$(cut -f3 "$T/out" | tr '\n' ' ')" "uma@example.com victor@example.net "
is "exim: action and detector" "$(cut -f4,9 "$T/out" | sort -u)" \
    "failed	exim"
is "exim: status and smtp of the first" "$(cut -f5,6 "$T/out" | head -n 1)" \
    "5.1.1	550"
is "exim: status and smtp of the second" "$(cut -f5,6 "$T/out" | tail -n 1)" \
    "5.3.4	552"
is "exim: the first diagnostic is the first address's block only" \
    "$(col 1 10 "$T/out")" \
    "host mx.example.com [192.0.2.44] SMTP error from remote mail server after RCPT TO:<uma@example.com>: 550 5.1.1 <uma@example.com>: Recipient address rejected: User unknown"
is "exim: the second diagnostic" "$(col 2 10 "$T/out")" \
    "host mx.example.net [198.51.100.45] SMTP error from remote mail server after end of data: 552 5.3.4 Message size exceeds fixed limit"
is "exim: id from the copy of the message in the text" \
    "$(cut -f8 "$T/out" | sort -u)" news-2014-11.19@app.example.org
is "exim: date" "$(col 1 2 "$T/out")" 2014-11-17T08:30:02Z

# A bounce with a diagnostic that has no code.
"$BIN/bparse" "$FIX/bounces.mbox" | grep 'wendy@' >"$T/out"
is "exim without codes: status, smtp empty" "$(cut -f4-6 "$T/out")" \
    "failed	-	-"
is "exim without codes: diagnostic" "$(cut -f10 "$T/out")" \
    "Unrouteable address"

# A delay warning: the reason is the diagnostic; the boilerplate after
# it and a scanner's footer are not.
"$BIN/bparse" "$FIX/exim-delay.eml" >"$T/out" 2>"$T/err"
is "exim delay: exit status" "$?" 0
is "exim delay: recipient, action, status, smtp" "$(cut -f3-6 "$T/out")" \
    "tomas.novak@example.cz	delayed	4.2.2	452"
is "exim delay: the diagnostic is the delay reason only" "$(col 1 10 "$T/out")" \
    "host mx.example.cz [192.0.2.61] Delay reason: SMTP error from remote mail server after RCPT TO:<tomas.novak@example.cz>: 452 4.2.2 Mailbox full, try again later"

# A report without Diagnostic-Code whose text part ends in a footer:
# the footer is no diagnostic.
"$BIN/bparse" "$FIX/dsn-footer.eml" >"$T/out"
is "footer: recipient, action, status" "$(cut -f3-5 "$T/out")" \
    "ines.moreau@example.com	failed	5.1.1"
is "footer: no diagnostic" "$(col 1 10 "$T/out")" "-"

done_testing
