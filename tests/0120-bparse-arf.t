#!/bin/sh
# bparse over RFC 5965 feedback reports: action complaint, the recipient
# from Original-Rcpt-To or else from the enclosed message.
. "$(dirname "$0")/lib.sh"

# col N COL FILE: column COL of line N of FILE
col() { awk -F '\t' -v n="$1" -v c="$2" 'NR == n { print $c }' "$3"; }

"$BIN/bparse" "$FIX/arf-rcpt.eml" >"$T/out" 2>"$T/err"
is "with Original-Rcpt-To: exit status" "$?" 0
ok "with Original-Rcpt-To: nothing on stderr" test ! -s "$T/err"
is "with Original-Rcpt-To: one record" "$(wc -l <"$T/out")" 1
is "with Original-Rcpt-To: recipient, action, detector" \
    "$(cut -f3,4,9 "$T/out")" "paula@example.net	complaint	arf"
is "with Original-Rcpt-To: no status, smtp or mta" "$(cut -f5-7 "$T/out")" \
    "-	-	-"
is "with Original-Rcpt-To: diag is the feedback type" "$(col 1 10 "$T/out")" \
    abuse
is "with Original-Rcpt-To: id is the enclosed Message-ID" \
    "$(col 1 8 "$T/out")" deals-46@example.org
is "with Original-Rcpt-To: date" "$(col 1 2 "$T/out")" 2014-11-12T07:15:00Z

# Original-Rcpt-To wins over the enclosed To.
sed 's/^To: paula@example.net/To: someone-else@example.net/' \
    "$FIX/arf-rcpt.eml" >"$T/other-to.eml"
"$BIN/bparse" "$T/other-to.eml" >"$T/other-to.out"
is "Original-Rcpt-To wins over the enclosed To" "$(col 1 3 "$T/other-to.out")" \
    paula@example.net

"$BIN/bparse" "$FIX/arf-norcpt.eml" >"$T/out" 2>"$T/err"
is "without Original-Rcpt-To: exit status" "$?" 0
is "without Original-Rcpt-To: recipient from the enclosed To" \
    "$(cut -f3,4,9 "$T/out")" "quentin@example.com	complaint	arf"
is "without Original-Rcpt-To: feedback type lower-cased" \
    "$(col 1 10 "$T/out")" fraud
is "without Original-Rcpt-To: id" "$(col 1 8 "$T/out")" deals-47@example.org
is "without Original-Rcpt-To: date from -0800" "$(col 1 2 "$T/out")" \
    2014-11-14T06:40:10Z

# An enclosed message sent to several people names no one recipient.
sed 's/^To: Quentin Doe <Quentin@Example.COM>/To: a@example.com, b@example.com/' \
    "$FIX/arf-norcpt.eml" >"$T/many.eml"
"$BIN/bparse" "$T/many.eml" >"$T/many.out"
is "enclosed To with two addresses: no recipient guessed" \
    "$(cut -f3,4 "$T/many.out")" "-	complaint"

# Opt-out reports of the ARF drafts name the address in
# Removal-Recipient; the header part may be labelled rfc822-header.
"$BIN/bparse" "$FIX/arf-removal.eml" >"$T/out" 2>"$T/err"
is "Removal-Recipient: exit status" "$?" 0
is "Removal-Recipient: recipient, action, detector, type" \
    "$(cut -f3,4,9,10 "$T/out")" "rosa.ortiz@isp.example.net	complaint	arf	opt-out"
is "Removal-Recipient: id from a text/rfc822-header part" \
    "$(col 1 8 "$T/out")" deals-51@example.org

# An address named in both fields is one record.
sed 's/^Removal-Recipient: Rosa.Ortiz@isp.example.net$/Original-Rcpt-To: rosa.ortiz@isp.example.net\
&/' "$FIX/arf-removal.eml" >"$T/both.eml"
"$BIN/bparse" "$T/both.eml" >"$T/both.out"
is "the same address in Original-Rcpt-To and Removal-Recipient: one record" \
    "$(cut -f3,4 "$T/both.out")" "rosa.ortiz@isp.example.net	complaint"

done_testing
