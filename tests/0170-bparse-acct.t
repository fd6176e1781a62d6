#!/bin/sh
# bparse over PowerMTA accounting records: a CSV file with a header line,
# the same piped on stdin, and records piped without a header.
. "$(dirname "$0")/lib.sh"
ACCT=$FIX/acct/acct.csv

"$BIN/bparse" "$ACCT" >"$T/out" 2>"$T/err"
is "file: exit status" "$?" 0
is "file: b and f records only" "$(wc -l <"$T/out")" 3
is "file: bounce columns" "$(sed -n 1p "$T/out" | cut -f2-9)" \
    "2024-03-05T10:00:02Z	gone.user@example.net	failed	5.1.1	550	mx1.example.net	job-77	pmta:bad-mailbox"
is "file: source is path:offset of the record" \
    "$(sed -n 1p "$T/out" | cut -f1)" \
    "$ACCT:$(grep -b '^b,2024-03-05 10:00:02' "$ACCT" | cut -d: -f1)"
is "file: quoted diagnostic with comma and quotes" \
    "$(sed -n 2p "$T/out" | cut -f10)" '552 5.2.2 Mailbox full, "quota" exceeded'
is "file: feedback record is a complaint" \
    "$(sed -n 3p "$T/out" | cut -f3,4,9,10)" "angry@example.org	complaint	pmta	abuse"
ok "file: other types counted on stderr" \
    grep -q 'passed over 2 accounting records of other types (d: 1, t: 1)' "$T/err"

"$BIN/bparse" -H x-bounce-identifier <"$ACCT" >"$T/pipe" 2>/dev/null
is "pipe: same records" "$(cut -f2-7,9- "$T/pipe")" "$(cut -f2-7,9- "$T/out")"
is "pipe: -H names a header column for the id" "$(cut -f8 "$T/pipe" | tr '\n' ' ')" \
    "c1a3 c1a4 c1a6 "
is "pipe: source is -:offset" "$(sed -n 1p "$T/pipe" | cut -f1)" \
    "-:$(grep -b '^b,2024-03-05 10:00:02' "$ACCT" | cut -d: -f1)"

# PowerMTA's default fields, no header line (pipe accounting).
printf '%s\n' \
    'b,2024-03-05 10:00:02+0000,2024-03-05 09:59:58+0000,news@example.com,x@example.net,,failed,5.1.2 (bad destination system: no such domain),"smtp;550 5.1.2 Host unknown, ""no MX""",mx.example.net (192.0.2.1),bad-domain,,,,,,,,vmta1,job-9,,,' \
    'd,2024-03-05 10:00:03+0000,2024-03-05 09:59:58+0000,news@example.com,y@example.net,,relayed,2.0.0 (success),smtp;250 ok,mx.example.net,,,,,,,,,vmta1,job-9,,,' \
    | "$BIN/bparse" >"$T/nohdr" 2>"$T/nohdr.err"
is "no header: one bounce" "$(cut -f3,4,5,6,8,9 "$T/nohdr")" \
    "x@example.net	failed	5.1.2	550	job-9	pmta:bad-domain"
is "no header: diagnostic" "$(cut -f10 "$T/nohdr")" '550 5.1.2 Host unknown, "no MX"'

# A quoted field that spans lines stays one record.
printf 'type,rcpt,dsnStatus,dsnDiag\nb,z@example.net,5.0.0,"smtp;550 line one\nline two"\n' \
    >"$T/multi.csv"
"$BIN/bparse" "$T/multi.csv" >"$T/multi"
is "multi-line field: one record" "$(wc -l <"$T/multi")" 1
is "multi-line field: joined diagnostic" "$(cut -f10 "$T/multi")" "550 line one\nline two"
# Columns in another order and subset (record-fields as an operator may
# set them): read by name.
printf '%s\n' \
    'jobId,dsnDiag,rcpt,bounceCat,dsnStatus,timeLogged,type,dsnMta' \
    'job-5,"smtp;550 5.1.1 <z@example.net>: user unknown",Z@example.net,bad-mailbox,5.1.1 (bad destination mailbox address),2024-03-06 08:00:00+0000,b,mx.example.net (192.0.2.7)' \
    >"$T/reordered.csv"
"$BIN/bparse" "$T/reordered.csv" >"$T/re"
is "reordered columns: read by name" "$(cut -f2-9 "$T/re")" \
    "2024-03-06T08:00:00Z	z@example.net	failed	5.1.1	550	mx.example.net	job-5	pmta:bad-mailbox"
# ... and that 5.1.1 ends muted.
"$BIN/bparse" "$T/reordered.csv" | "$BIN/bclassify" |
    "$BIN/bscore" -d "$T/state.tdb" >"$T/trans"
is "reordered columns: the address is muted" "$(cut -f2,4 "$T/trans")" \
    "z@example.net	invalid"
"$BIN/bstate" -d "$T/state.tdb" check z@example.net
is "reordered columns: check says muted" "$?" 1
done_testing
