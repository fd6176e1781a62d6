#!/bin/sh
# bparse over RFC 3464 delivery status notifications: every per-recipient
# block, Original- before Final-Recipient, the most specific status,
# reports outside multipart/report or labelled text/plain, transfer
# encodings, charsets, broken MIME.
. "$(dirname "$0")/lib.sh"

# col N COL FILE: column COL of line N of FILE
col() { awk -F '\t' -v n="$1" -v c="$2" 'NR == n { print $c }' "$3"; }
# run FIXTURE: bparse it into $T/out, $T/err; exit status in $rc
run() {
	"$BIN/bparse" "$FIX/$1" >"$T/out" 2>"$T/err"
	rc=$?
}
# clean NAME: exit 0, nothing on stderr, ten columns on every line
clean() {
	is "$1: exit status" "$rc" 0
	ok "$1: nothing on stderr" test ! -s "$T/err"
	ok "$1: ten columns" awk -F '\t' 'NF != 10 { exit 1 }' "$T/out"
}
# rec NAME N RCPT ACTION STATUS SMTP MTA: columns 3-7 of record N
rec() {
	is "$1: record $2 recipient, action, status, smtp, mta" \
	    "$(col "$2" 3 "$T/out") $(col "$2" 4 "$T/out") $(col "$2" 5 "$T/out") $(col "$2" 6 "$T/out") $(col "$2" 7 "$T/out")" \
	    "$3 $4 $5 $6 $7"
}

# ---- Postfix: two recipients, Original-Recipient, generic Status ----
run dsn-postfix.eml
clean postfix
is "postfix: one record per recipient block" "$(wc -l <"$T/out")" 2
# Staff@Example.ORG was expanded to alice.smith@example.net: the sender
# wrote the first, so it is the one that must stop getting mail.
rec postfix 1 staff@example.org failed 5.7.1 550 mx1.example.net
rec postfix 2 bob@example.com failed 5.1.1 550 mx.example.com
is "postfix: Status 5.0.0 gives way to 5.7.1 of the Diagnostic-Code" \
    "$(col 1 5 "$T/out")" 5.7.1
is "postfix: date of the report in UTC" "$(cut -f2 "$T/out" | sort -u)" \
    2014-11-04T15:01:16Z
is "postfix: id is the returned message's Message-ID, no brackets" \
    "$(cut -f8 "$T/out" | sort -u)" news-2014-11.17@app.example.org
is "postfix: detector" "$(cut -f9 "$T/out" | sort -u)" dsn
# The text part says which command was refused; the report does not.
# The first entry names Staff@ as the address it was expanded from.
is "postfix: folded Diagnostic-Code on one line, type prefix gone, with the refused command" \
    "$(col 1 10 "$T/out")" \
    "550 5.7.1 <Alice.Smith@example.net>: Recipient address rejected: Access denied (in reply to RCPT TO command)"
is "postfix: second diagnostic, with the refused command" "$(col 2 10 "$T/out")" \
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"

# Final-Recipient alone when there is no Original-Recipient.
sed '/^Original-Recipient:/d' "$FIX/dsn-postfix.eml" >"$T/final.eml"
"$BIN/bparse" "$T/final.eml" >"$T/final.out"
is "without Original-Recipient: Final-Recipient, lower-cased" \
    "$(cut -f3 "$T/final.out" | tr '\n' ' ')" \
    "alice.smith@example.net bob@example.com "
# An Original-Recipient that is no address does not hide the final one.
sed 's/^Original-Recipient: rfc822;Staff@Example.ORG/Original-Recipient: rfc822;staff/' \
    "$FIX/dsn-postfix.eml" >"$T/badorig.eml"
"$BIN/bparse" "$T/badorig.eml" >"$T/badorig.out"
is "an Original-Recipient without a domain: Final-Recipient used" \
    "$(col 1 3 "$T/badorig.out")" alice.smith@example.net

# ---- Sendmail: three recipients, text/rfc822-headers ----
run dsn-sendmail.eml
clean sendmail
is "sendmail: three records" "$(wc -l <"$T/out")" 3
rec sendmail 1 carol@example.co.jp failed 5.2.1 550 mx.example.co.jp
rec sendmail 2 dave@example.ne.jp failed 5.2.2 552 mx.example.ne.jp
# 5.0.0 stays when the diagnostic has no better code; the MTA name
# "DNS; MX.Example.CO.JP" loses its type and its capitals.
rec sendmail 3 erin@example.or.jp failed 5.0.0 554 mx.example.or.jp
is "sendmail: date from -0500" "$(col 1 2 "$T/out")" 2014-11-04T15:01:16Z
is "sendmail: id from text/rfc822-headers" "$(cut -f8 "$T/out" | sort -u)" \
    order-8812@shop.example.jp

# No Date header: the report's own dates.  Last-Attempt-Date is when
# the report was made; Arrival-Date is when the message came in, which
# may be days earlier.
sed '/^Date: Tue, 4 Nov 2014 10:01:16 -0500$/d' "$FIX/dsn-sendmail.eml" \
    >"$T/nodate.eml"
"$BIN/bparse" "$T/nodate.eml" >"$T/nodate.out"
ok "no Date header: still dated" grep -q '	2014-11-04T15:01:1[06]Z	' \
    "$T/nodate.out"
is "no Date header: dated by Last-Attempt-Date" \
    "$(col 1 2 "$T/nodate.out")" 2014-11-04T15:01:16Z

# No Status field: the status comes from the diagnostic.
sed '/^Status: 5.2.2/d' "$FIX/dsn-sendmail.eml" >"$T/nostatus.eml"
"$BIN/bparse" "$T/nostatus.eml" >"$T/nostatus.out"
is "no Status: the diagnostic's code" "$(col 2 5 "$T/nostatus.out")" 5.2.2

# ---- a delay warning ----
run dsn-delayed.eml
clean delayed
is "delayed: one record" "$(wc -l <"$T/out")" 1
# "mx.example.info[203.0.113.99]:25" holds no reply code.
rec delayed 1 frank@example.info delayed 4.4.1 - -
# A diagnostic type other than smtp stays: the MTA itself said it.
is "delayed: X-Postfix diagnostic" "$(col 1 10 "$T/out")" \
    "X-Postfix; connect to mx.example.info[203.0.113.99]:25: Connection timed out"
is "delayed: date" "$(col 1 2 "$T/out")" 2014-11-05T04:12:40Z
sed '/^Action: delayed/d' "$FIX/dsn-delayed.eml" >"$T/noaction.eml"
"$BIN/bparse" "$T/noaction.eml" >"$T/noaction.out"
is "no Action field, status 4.x.x: delayed" "$(col 1 4 "$T/noaction.out")" \
    delayed

# ---- the report labelled text/plain ----
run dsn-textplain.eml
clean textplain
rec textplain 1 grace@example.jp failed 5.1.1 550 -
is "textplain: detector" "$(col 1 9 "$T/out")" dsn
is "textplain: one record" "$(wc -l <"$T/out")" 1

# ---- message/delivery-status inside multipart/mixed ----
run dsn-mixed.eml
clean mixed
rec mixed 1 heidi@example.net failed 5.2.2 552 store.example.net
is "mixed: detector" "$(col 1 9 "$T/out")" dsn

# ---- transfer encodings ----
run dsn-base64.eml
clean base64
is "base64: two records" "$(wc -l <"$T/out")" 2
rec base64 1 ivan@example.com failed 5.1.1 550 in.example.com
rec base64 2 judy@example.com failed 5.7.1 554 in.example.com
is "base64: id from base64 headers with CRLF" "$(col 1 8 "$T/out")" \
    offer-2014-11@example.org
run dsn-qp.eml
clean qp
rec qp 1 karl@example.de failed 5.2.2 552 mail.example.de
is "quoted-printable: =3D and the soft line break undone" \
    "$(col 1 10 "$T/out")" \
    "552 5.2.2 <karl@example.de>: quota=100% mailbox is full, user over storage allocation"

# ---- charsets: the diag column is UTF-8 ----
run dsn-latin1.eml
clean latin1
rec latin1 1 louise@example.fr failed 5.1.1 550 mx.example.fr
is "latin-1: diagnostic converted to UTF-8" "$(col 1 10 "$T/out")" \
    "550 5.1.1 <louise@example.fr>: adresse résiliée, destinataire inconnu"
run dsn-iso2022jp.eml
clean iso2022jp
rec iso2022jp 1 oscar@example.ne.jp failed 5.1.1 550 -
is "ISO-2022-JP: diagnostic converted to UTF-8" "$(col 1 10 "$T/out")" \
    "550 5.1.1 このメールアドレスは存在しません"
# 8-bit bytes with no charset: kept, escaped, the output stays UTF-8.
sed 's/^Content-Type: message\/delivery-status; charset=iso-8859-1/Content-Type: message\/delivery-status/' \
    "$FIX/dsn-latin1.eml" >"$T/8bit.eml"
"$BIN/bparse" "$T/8bit.eml" >"$T/8bit.out"
ok "undeclared 8-bit: the output is valid UTF-8" \
    iconv -f UTF-8 -t UTF-8 "$T/8bit.out"
ok "undeclared 8-bit: the bytes are not lost" \
    grep -q 'r\\xe9sili\\xe9e\|résiliée' "$T/8bit.out"
is "undeclared 8-bit: the recipient" "$(col 1 3 "$T/8bit.out")" \
    louise@example.fr

# ---- broken MIME ----
run dsn-badboundary.eml
clean "boundary that matches no part"
rec "boundary that matches no part" 1 xavier@example.com failed 5.1.1 550 \
    in.example.com
is "boundary that matches no part: one record" "$(wc -l <"$T/out")" 1
run dsn-truncated.eml
clean "no closing boundary"
rec "no closing boundary" 1 yvonne@example.com failed 4.2.2 452 -

# ---- a report naming no address ----
run dsn-x400.eml
clean x400
rec x400 1 - failed 5.1.1 - -
is "x400: the To: list of the returned message gives no recipient" \
    "$(wc -l <"$T/out")" 1

# A transcript's ">>> DATA" then "<<< 550 ..." tells which command the
# recipient whose diagnostic that reply is was refused at; only that one.
"$BIN/bparse" "$FIX/dsn-sendmail.eml" >"$T/cmd"
is "transcript: the refused command joins the matching diagnostic" \
    "$(col 1 10 "$T/cmd")" \
    "550 5.2.1 Mailbox disabled for this recipient (in reply to DATA command)"
is "transcript: not the others'" "$(col 2 10 "$T/cmd")" "552 5.2.2 Mailbox full"
# A reply after the message's final dot answered the end of DATA.
sed 's/^>>> DATA$/>>> ./' "$FIX/dsn-sendmail.eml" >"$T/dot.eml"
"$BIN/bparse" "$T/dot.eml" >"$T/dot"
is "transcript: a reply to the final dot is to the end of DATA" \
    "$(col 1 10 "$T/dot")" \
    "550 5.2.1 Mailbox disabled for this recipient (in reply to end of DATA command)"
# Remote-MTA: a comment after the host goes unless it is the address;
# so does the root's dot.
sed -e 's/^Remote-MTA: dns; mx1.example.net$/Remote-MTA: dns; mx1.example.net. (mx01. -- server lmtp [Example Server 6.1])/' \
    -e 's/^Remote-MTA: dns; mx.example.com$/Remote-MTA: dns; mx.example.com (192.0.2.8)/' \
    "$FIX/dsn-postfix.eml" >"$T/mta.eml"
"$BIN/bparse" "$T/mta.eml" >"$T/mta"
is "Remote-MTA: comment and root dot dropped" "$(col 1 7 "$T/mta")" \
    mx1.example.net
is "Remote-MTA: an address in parentheses kept" "$(col 2 7 "$T/mta")" \
    "mx.example.com (192.0.2.8)"
# A report forwarded as an attached message (by a gateway or a person):
# what the attached report says is the bounce.
{
	printf 'From: helpdesk@example.org\nTo: news@example.org\n'
	printf 'Subject: Fwd: Undelivered Mail Returned to Sender\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: multipart/mixed; boundary="fwd"\n\n'
	printf -- '--fwd\nContent-Type: text/plain\n\nSee below.\n\n'
	printf -- '--fwd\nContent-Type: message/rfc822\n\n'
	cat "$FIX/dsn-postfix.eml"
	printf -- '\n--fwd--\n'
} >"$T/fwd.eml"
is "a forwarded report: its records" \
    "$("$BIN/bparse" "$T/fwd.eml" | cut -f3-6,8,9)" \
    "$("$BIN/bparse" "$FIX/dsn-postfix.eml" | cut -f3-6,8,9)"
# A per-recipient block that names no recipient: the address comes from
# X-Failed-Recipients (or stays empty), the block's Action and Status
# hold; the report's own fields, an Action among them, make no record.
dsn_norcpt() {
	printf 'From: MAILER-DAEMON@mx.example.com\nTo: news@example.org\n'
	printf 'Subject: Undelivered Mail Returned to Sender\n%s' "$1"
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
	printf -- '--r\nContent-Type: text/plain\n\nDelivery failed.\n\n'
	printf -- '--r\nContent-Type: message/delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.com\n%s' "$2"
	printf 'Action: failed\nStatus: 5.1.1\n\n--r--\n'
}
dsn_norcpt 'X-Failed-Recipients: gone@example.net
' '
' >"$T/norcpt-xfr.eml"
is "a block without a recipient: the address from X-Failed-Recipients" \
    "$("$BIN/bparse" "$T/norcpt-xfr.eml" | cut -f3-5)" \
    "$(printf 'gone@example.net\tfailed\t5.1.1')"
dsn_norcpt '' '
' >"$T/norcpt.eml"
is "a block without a recipient and nothing to name it: no address" \
    "$("$BIN/bparse" "$T/norcpt.eml" | cut -f3-5)" \
    "$(printf -- '-\tfailed\t5.1.1')"
dsn_norcpt '' 'Action: failed
Arrival-Date: Mon, 15 Nov 2010 05:34:29 -0800

Final-Recipient: rfc822; kept@example.net
Diagnostic-Code: smtp; 550 5.1.1 unknown user
' >"$T/msgaction.eml"
is "an Action among the report's own fields makes no record" \
    "$("$BIN/bparse" "$T/msgaction.eml" | cut -f3-5)" \
    "$(printf 'kept@example.net\tfailed\t5.1.1')"
# Sendmail puts only the first line of a multi-line reply in the report;
# the transcript holds the rest, and the diagnostic gets all of it.
cat >"$T/multiline.eml" <<'MSG'
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>
To: <news@example.org>
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="m"

--m

   ----- Transcript of session follows -----
... while talking to mx.example.net.:
>>> RCPT To:<jane@example.net>
<<< 550-5.1.1 The account you tried to reach does not exist. Please
<<< 550-5.1.1 check the address for typos.
<<< 550 5.1.1 See https://help.example.net/nosuchuser
550 5.1.1 <jane@example.net>... User unknown

--m
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: RFC822; jane@example.net
Action: failed
Status: 5.1.1
Remote-MTA: DNS; mx.example.net
Diagnostic-Code: SMTP; 550-5.1.1 The account you tried to reach does not exist. Please

--m--
MSG
is "a multi-line reply whole from the transcript" \
    "$("$BIN/bparse" "$T/multiline.eml" | cut -f10)" \
    "550-5.1.1 The account you tried to reach does not exist. Please 550-5.1.1 check the address for typos. 550 5.1.1 See https://help.example.net/nosuchuser (in reply to RCPT TO command)"
# No Diagnostic-Code, and the address ends the text's sentence: the
# diagnostic is that sentence, not the full stop after the address.
cat >"$T/sentence.eml" <<'MSG'
From: Mail Delivery Subsystem <mailer-daemon@mail.example.com>
To: news@example.org
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="s"

--s
Content-Type: text/plain

Address not found. Your message wasn't delivered to gone@example.net.

--s
Content-Type: message/delivery-status

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1

--s--
MSG
is "the sentence the address ends is the diagnostic" \
    "$("$BIN/bparse" "$T/sentence.eml" | cut -f10)" \
    "Address not found. Your message wasn't delivered to gone@example.net."
# ---- the text names the Final-Recipient, the record the Original ----
run dsn-forwarded-text.eml
clean forwarded-text
rec forwarded-text 1 carla@example.net delayed 4.4.2 421 in1.example.net
is "forwarded-text: the diagnostic from the text, found by the final address" \
    "$(col 1 10 "$T/out")" \
    "(timeout while talking to in1.example.net: 421 4.4.2 connection timed out)"
is "forwarded-text: the refused command from the text, found by the final address" \
    "$(col 2 10 "$T/out")" "550 5.1.1 mailbox unknown (in reply to RCPT TO command)"

# ---- a Diagnostic-Code whose further lines have no leading blank ----
run dsn-cut-diag.eml
clean cut-diag
is "cut-diag: a reply cut at a fixed width is joined as it was cut" \
    "$(col 1 10 "$T/out")" \
    "552 5.2.0 2Kx9QrTb7 - gw.mail.example.net This message has been rejected due to content judged to be spam by the community of its users - If you think this is in error, please ask for a review using the following page: <https://example.org/review?id=2Kx9QrTb7>"
is "cut-diag: the lines of a multi-line reply are joined with blanks" \
    "$(col 2 10 "$T/out")" \
    "550-Please turn on SMTP Authentication in your mail client. 550-relay.example.com [192.0.2.7]:25 is not permitted to 550 relay through this server without authentication."
is "cut-diag: the field after the cut lines is still read" \
    "$(col 2 3 "$T/out") $(col 2 4 "$T/out")" "ben@example.com failed"
is "cut-diag: a cut line that starts like a field is not one" \
    "$(col 3 10 "$T/out")" \
    "550-5.7.26 This mail is unauthenticated. For this message, DKIM checks did not pass and SPF check for [example.org] did not pass with ip: [192.0.2.1]. To best protect our users from spam, the message has been blocked."
is "cut-diag: a reply line after a long line is joined with a blank" \
    "$(col 4 10 "$T/out")" \
    "550-5.7.1 Message rejected because the sending server is listed on a reputation blocklist we use 550 5.7.1 Please see https://postmaster.example.net/ for details"

# report FROM SUBJECT: the head of a multipart/report with boundary r,
# up to its first part; made NAME: bparse $T/NAME.eml into $T/out and
# $T/err, and the checks of clean.
report() {
	printf 'From: %s\nTo: news@example.org\n' "$1"
	printf 'Subject: %s\nMIME-Version: 1.0\n' "$2"
	printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
}
made() {
	"$BIN/bparse" "$T/$1.eml" >"$T/out" 2>"$T/err"
	rc=$?
	clean "$1"
}

# ---- recipients' fields with no blank line between them ----
# The first recipient has only a Final-Recipient; the second, in the
# order of RFC 3464, an Original-Recipient first: it starts the second
# block, it is not a second name for the first recipient.
{
	report 'MAILER-DAEMON@mx.example.com' 'Delivery failure'
	printf -- '--r\nContent-Type: text/plain\n\nDelivery failed.\n\n'
	printf -- '--r\nContent-Type: message/delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.com\n\n'
	printf 'Final-Recipient: rfc822; ines@example.net\nAction: failed\nStatus: 5.1.1\n'
	printf 'Diagnostic-Code: smtp; 550 5.1.1 ines: user unknown\n'
	printf 'Original-Recipient: rfc822; otto@example.com\nFinal-Recipient: rfc822; otto@mail.example.com\n'
	printf 'Action: delayed\nStatus: 4.4.1\nDiagnostic-Code: smtp; 451 4.4.1 try later\n\n--r--\n'
} >"$T/noblank.eml"
made noblank
rec noblank 1 ines@example.net failed 5.1.1 550 -
rec noblank 2 otto@example.com delayed 4.4.1 451 -
# A recipient written Final-Recipient first, then Original-Recipient,
# is one recipient.
{
	report 'MAILER-DAEMON@mx.example.com' 'Delivery failure'
	printf -- '--r\nContent-Type: message/delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.com\n\n'
	printf 'Final-Recipient: rfc822; paul@mail.example.com\nOriginal-Recipient: rfc822; paul@example.com\n'
	printf 'Action: failed\nStatus: 5.1.1\n\n--r--\n'
} >"$T/finfirst.eml"
made finfirst
is "finfirst: one record" "$(wc -l <"$T/out")" 1
rec finfirst 1 paul@example.com failed 5.1.1 - -

# ---- no Date: an unreadable Last-Attempt-Date gives way to Arrival-Date ----
{
	report 'MAILER-DAEMON@mx.example.com' 'Delivery failure'
	printf -- '--r\nContent-Type: message/delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.com\nArrival-Date: Tue, 4 Nov 2014 16:01:10 +0100\n\n'
	printf 'Final-Recipient: rfc822; vera@example.net\nAction: failed\nStatus: 5.1.1\n'
	printf 'Last-Attempt-Date: 11/4/2014 4:01:12 PM\n\n--r--\n'
} >"$T/dates.eml"
made dates
is "dates: an unreadable Last-Attempt-Date, then Arrival-Date" \
    "$(col 1 2 "$T/out")" 2014-11-04T15:01:10Z

# ---- a text part that holds the report's fields ----
# Its prose before the fields is the bounce's text, where the reply is.
prose='The mail system\n\n<rosa@example.com>: host mx.example.com[198.51.100.7] said: 550 5.1.1\n    <rosa@example.com>: Recipient address rejected: User unknown (in reply to RCPT\n    TO command)\n\n'
fields='Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; rosa@example.com\nAction: failed\nStatus: 5.1.1\n'
{
	printf 'From: MAILER-DAEMON@mx.example.org\nTo: news@example.org\n'
	printf 'Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/plain\n\n'
	printf "$prose$fields"
} >"$T/textfields.eml"
made textfields
rec textfields 1 rosa@example.com failed 5.1.1 550 -
is "textfields: the reply from the prose before the fields" \
    "$(col 1 10 "$T/out")" \
    "host mx.example.com[198.51.100.7] said: 550 5.1.1 <rosa@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command)"
# Such a text part, then a report part: the report part's fields alone.
{
	report 'MAILER-DAEMON@mx.example.org' 'Undelivered Mail Returned to Sender'
	printf -- '--r\nContent-Type: text/plain\n\n'
	printf "$prose$fields"
	printf -- '\n--r\nContent-Type: message/delivery-status\n\n'
	printf "$fields"
	printf 'Diagnostic-Code: smtp; 550 5.1.1 <rosa@example.com>: user unknown\n\n--r--\n'
} >"$T/textandreport.eml"
made textandreport
is "textandreport: one record" "$(wc -l <"$T/out")" 1
is "textandreport: the report part's diagnostic" "$(col 1 10 "$T/out")" \
    "550 5.1.1 <rosa@example.com>: user unknown (in reply to RCPT TO command)"

# ---- RFC 6533: addresses of type utf-8, with \\x{HHHH} escapes ----
{
	report 'MAILER-DAEMON@mx.example.org' 'Undelivered Mail Returned to Sender'
	printf -- '--r\nContent-Type: message/delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.org\n\n'
	printf 'Original-Recipient: utf-8; j\\x{E9}r\\x{F4}me@example.net\nAction: failed\nStatus: 5.1.1\n\n'
	printf 'Final-Recipient: utf-8; ren\\x{E9}e\\x{2B}news@example.net\nAction: failed\nStatus: 5.1.1\n\n'
	printf -- '--r\nContent-Type: message/global-delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.org\n\n'
	printf 'Final-Recipient: utf-8; zo\303\253\\x{2B}a@ex\303\244mple.net\nAction: failed\nStatus: 5.1.1\n\n--r--\n'
} >"$T/utf8addr.eml"
made utf8addr
is "utf8addr: the escapes decoded, one record each" "$(cut -f3 "$T/out" | tr '\n' ' ')" \
    "$(printf 'j\303\251r\303\264me@example.net ren\303\251e+news@example.net zo\303\253+a@ex\303\244mple.net ')"

# ---- "smtp ;": a blank before the type's semicolon ----
{
	report 'MAILER-DAEMON@mx.example.org' 'Undelivered Mail Returned to Sender'
	printf -- '--r\nContent-Type: message/delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.org\n\n'
	printf 'Final-Recipient: rfc822; ugo@example.net\nAction: failed\nStatus: 5.1.1\n'
	printf 'Diagnostic-Code: SMTP ; 550 5.1.1 No such user\n\n--r--\n'
} >"$T/smtpsemi.eml"
made smtpsemi
is "smtpsemi: the type is not part of the diagnostic" "$(col 1 10 "$T/out")" \
    "550 5.1.1 No such user"

# ---- the text names an address inside a longer one before its own ----
{
	printf 'From: Mail Delivery Subsystem <MAILER-DAEMON@smtp.example.jp>\nTo: <shop@example.jp>\n'
	printf 'Subject: Returned mail: see transcript for details\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
	printf -- '--r\n\n   ----- The following addresses had permanent fatal errors -----\n'
	printf '<jimbob@example.ne.jp>\n    (reason: 552 5.2.2 Mailbox full)\n'
	printf '<bob@example.ne.jp>\n    (reason: 550 5.1.1 User unknown)\n\n'
	printf -- '--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; smtp.example.jp\n\n'
	printf 'Final-Recipient: RFC822; jimbob@example.ne.jp\nAction: failed\nStatus: 5.2.2\n\n'
	printf 'Final-Recipient: RFC822; bob@example.ne.jp\nAction: failed\nStatus: 5.1.1\n\n--r--\n'
} >"$T/substr.eml"
made substr
rec substr 2 bob@example.ne.jp failed 5.1.1 550 -
is "substr: bob's own reason, not jimbob's" "$(col 2 10 "$T/out")" \
    "(reason: 550 5.1.1 User unknown)"

done_testing
