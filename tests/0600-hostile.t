#!/bin/sh
# Hostile input: huge lines, deep nesting, NUL bytes, broken encodings,
# truncated files, and paths that are not files.  Each must end in a
# clear message or in records -- never a crash or a hang -- with memory
# bounded and the records valid UTF-8.  Big inputs are made here, not
# kept in the tree.
. "$(dirname "$0")/lib.sh"

# Under ASan or valgrind the programs are slower and bigger.
checked=0
[ "${SAN:-0}" = 1 ] || [ "${VALGRIND:-0}" = 1 ] && checked=1
TIME=
if [ -x /usr/bin/time ] && [ $checked = 0 ]; then
	TIME=/usr/bin/time	# ASan's shadow memory would blur the figure
fi
MAXKB=1048576			# 1 GiB

# run NAME FILE: bparse FILE into $T/out and $T/err, exit status in $rc
run() {
	if [ -n "$TIME" ]; then
		timeout 60 "$TIME" -q -f %M -o "$T/rss" \
		    "$BIN/bparse" "$2" >"$T/out" 2>"$T/err"
	else
		timeout 60 "$BIN/bparse" "$2" >"$T/out" 2>"$T/err"
	fi
	rc=$?
	ok "$1: no crash, no hang (exit $rc)" test "$rc" -ne 124 -a "$rc" -le 128
	if [ -n "$TIME" ] && [ -s "$T/rss" ]; then
		kb=$(tail -n 1 "$T/rss")
		ok "$1: peak RSS ${kb} KiB below $MAXKB" test "$kb" -lt "$MAXKB"
	fi
}

# Every line has the parser's ten columns, and the whole is UTF-8.
records_ok() {
	[ -s "$1" ] &&
	awk -F '\t' 'NF < 10 { exit 1 }' "$1" &&
	iconv -f UTF-8 -t UTF-8 "$1" >/dev/null
}

# No sanitizer report and no GLib complaint: just the tool's own words.
quiet_err() {
	! grep -q 'Sanitizer\|runtime error\|CRITICAL\|WARNING' "$T/err"
}

# expect_records NAME FILE: exit 0, records, nothing on stderr
expect_records() {
	run "$1" "$2"
	is "$1: exit status" "$rc" 0
	ok "$1: records with ten columns, valid UTF-8" records_ok "$T/out"
	ok "$1: nothing on stderr" test ! -s "$T/err"
}

# expect_error NAME FILE WHY: exit 1, one "bparse: FILE: WHY..." line
expect_error() {
	run "$1" "$2"
	is "$1: exit status" "$rc" 1
	ok "$1: no records" test ! -s "$T/out"
	is "$1: the message" "$(cat "$T/err")" "bparse: $2: $3"
}

field() {	# field N RECORDFILE: column N of the first record
	head -n 1 "$2" | cut -f"$1"
}

HDR='From: Mail Delivery System <mailer-daemon@mx.example.net>
To: news-bounces@example.com
Date: Thu, 1 Jan 2015 00:00:00 +0000
MIME-Version: 1.0'

# A 50 MB header line.  GMime grows its header buffer in small steps,
# which costs a copy each time under ASan's allocator (not glibc's), so
# the sanitizer build (and valgrind) gets a 4 MB line.
mb=50
[ $checked = 1 ] && mb=4
{ printf '%s\nSubject: ' "$HDR"
  head -c $((mb * 1048576)) /dev/zero | tr '\0' x
  printf '\nX-After: 1\n\nbody\n'; } >"$T/longheader.eml"
expect_records "$mb MB header line" "$T/longheader.eml"
rm -f "$T/longheader.eml"

# Nested multiparts around a DSN: 20 levels are walked; at 5000 the
# report is too deep to be walked, but the message still gives its
# record.
nest() {
	perl -e '
	my $n = $ARGV[1];
	print "$ARGV[0]\nSubject: nested\n";
	print "Content-Type: multipart/mixed; boundary=\"b0\"\n\n";
	for my $i (0 .. $n - 1) {
		printf "--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n",
		    $i, $i + 1;
	}
	print "--b$n\nContent-Type: message/delivery-status\n\n",
	    "Final-Recipient: rfc822; deep\@example.org\n",
	    "Action: failed\nStatus: 5.1.1\n\n";
	print "--b$_--\n" for reverse 0 .. $n;
	' "$HDR" "$1"
}
nest 20 >"$T/nested.eml"
expect_records "20 nested multiparts" "$T/nested.eml"
is "20 nested multiparts: the report is read" \
    "$(field 3 "$T/out")" "deep@example.org"
nest 5000 >"$T/nested.eml"
expect_records "5000 nested multiparts" "$T/nested.eml"

# 5000 messages nested in each other.
perl -e '
	print "$ARGV[0]\nSubject: level $_\nContent-Type: message/rfc822\n\n"
	    for 1 .. 5000;
	print "From: x\@example.org\nSubject: inside\n\nbody\n";
' "$HDR" >"$T/nestedmsg.eml"
expect_records "5000 nested messages" "$T/nestedmsg.eml"

# NUL bytes in the headers, in the text and in the report.
perl -e '
	print "$ARGV[0]\nSubject: Undelivered\0Mail\nX-Nul: a\0b\n";
	print "Content-Type: multipart/report; report-type=delivery-status;",
	    " boundary=\"nul\"\n\n";
	print "--nul\nContent-Type: text/plain\n\nThe\0mail\0system\n\n";
	print "--nul\nContent-Type: message/delivery-status\n\n",
	    "Reporting-MTA: dns; mx.example.net\n\n",
	    "Final-Recipient: rfc822; nul\@example.org\nAction: failed\n",
	    "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no\0such user\n\n",
	    "--nul--\n";
' "$HDR" >"$T/nul.eml"
expect_records "NUL bytes" "$T/nul.eml"
is "NUL bytes: the recipient is still found" \
    "$(field 3 "$T/out")" "nul@example.org"

# Invalid UTF-8 in a UTF-8 part and in the report, and a charset that
# does not exist: the text must survive, escaped.
perl -e '
	print "$ARGV[0]\nSubject: =?utf-8?b?/w==?= \xff\xfe bad\n";
	print "Content-Type: multipart/report; report-type=delivery-status;",
	    " boundary=\"u\"\n\n";
	print "--u\nContent-Type: text/plain; charset=x-no-such-charset\n\n",
	    "\xe9t\xe9 \x80\x81\n\n";
	print "--u\nContent-Type: text/plain; charset=utf-8\n\n",
	    "\xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80\n\n";
	print "--u\nContent-Type: message/delivery-status\n\n",
	    "Reporting-MTA: dns; mx.example.net\n\n",
	    "Final-Recipient: rfc822; utf8\@example.org\nAction: failed\n",
	    "Status: 5.2.2\n",
	    "Diagnostic-Code: smtp; 552 5.2.2 bo\xeete \xc0\xaf pleine\n\n",
	    "--u--\n";
' "$HDR" >"$T/badutf8.eml"
expect_records "invalid UTF-8, unknown charset" "$T/badutf8.eml"
is "invalid UTF-8: the recipient is still found" \
    "$(field 3 "$T/out")" "utf8@example.org"
ok "invalid UTF-8: the bad bytes are kept as escapes" \
    grep -q 'bo\\xeete \\xc0\\xaf pleine' "$T/out"

# A base64 report cut in the middle of a quantum, with no closing
# boundary.
{ printf '%s\nSubject: cut\n' "$HDR"
  printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="c"\n\n'
  printf -- '--c\nContent-Type: message/delivery-status\n'
  printf 'Content-Transfer-Encoding: base64\n\n'
  printf 'Final-Recipient: rfc822; cut@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 unknown user here\n' |
      base64 | tr -d '\n' | head -c 101
  printf '\n'; } >"$T/b64.eml"
expect_records "truncated base64" "$T/b64.eml"
is "truncated base64: the recipient is still found" \
    "$(field 3 "$T/out")" "cut@example.org"

# A mailbox cut in the middle of a message: every message that begins
# in it is accounted for.
if [ -f "$FIX/sample.mbox" ]; then
	size=$(wc -c <"$FIX/sample.mbox")
	head -c $((size / 2 + 17)) "$FIX/sample.mbox" >"$T/cut.mbox"
	expect_records "truncated mbox" "$T/cut.mbox"
	is "truncated mbox: one record source per message" \
	    "$(cut -f1 "$T/out" | uniq | wc -l)" \
	    "$(grep -c '^From ' "$T/cut.mbox")"
fi

# Not messages at all.
: >"$T/empty.eml"
expect_error "0-byte file" "$T/empty.eml" "empty file, not a mail message"
mkdir "$T/dir"
expect_error "a directory" "$T/dir" \
    "is a directory, not a Maildir (no cur/ or new/)"
if mkfifo "$T/fifo" 2>/dev/null; then
	expect_error "a FIFO" "$T/fifo" "not a regular file"
fi
expect_error "a missing file" "$T/nonexistent" "No such file or directory"

# A part whose header block holds more than the 4 MiB kept of it, in
# fields of 20 KB that end just past the bound (the header text is cut
# there, nothing is written past it).
{ printf '%s\nContent-Type: multipart/mixed; boundary="BB"\n\n' "$HDR"
  printf -- '--BB\nContent-Type: text/plain\n\nfailed.\n\n--BB\nReceived: x\n'
  line=$(head -c 19966 /dev/zero | tr '\0' a)
  i=0
  while [ $i -lt 211 ]; do printf 'X-P: %s\n' "$line"; i=$((i + 1)); done
  printf '\nbody\n--BB--\n'; } >"$T/bighdrs.eml"
run "a part with 4 MB of header fields" "$T/bighdrs.eml"
is "a part with 4 MB of header fields: exit status" "$rc" 0
ok "a part with 4 MB of header fields: no sanitizer or GLib report" quiet_err
rm -f "$T/bighdrs.eml"

# charset="" is no charset: the text is read as it is (and no converter
# is opened, and lost, for each such part).
dsn_part() {	# dsn_part CHARSET-PARAMETER TEXT: a DSN with that text part
	printf '%s\nContent-Type: multipart/report; report-type=delivery-status; boundary="BB"\n\n' "$HDR"
	printf -- '--BB\nContent-Type: text/plain%s\n\n%s\n\n' "$1" "$2"
	printf -- '--BB\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n'
	printf 'Final-Recipient: rfc822; anna@example.de\nAction: failed\nStatus: 5.0.0\n\n--BB--\n'
}
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	printf 'From MAILER-DAEMON Thu Jan  1 00:00:00 2015\n'
	dsn_part '; charset=""' '<anna@example.de>: host mx.example.de said: 550 5.1.1 unknown user'
done >"$T/nocharset.mbox"
expect_records 'charset=""' "$T/nocharset.mbox"
ok 'charset="": no sanitizer report (no converter lost)' quiet_err
is 'charset="": the text is read' "$(cut -f5,6 "$T/out" | sort -u)" "5.1.1	550"

# A NUL byte in a Latin-1 part does not end its text.
dsn_part '; charset=iso-8859-1' "$(printf 'Ung\374ltig.\001\n<anna@example.de>: host mx.example.de said: 550 5.1.1 Benutzer unbekannt')" |
    tr '\001' '\000' >"$T/nul-latin1.eml"
expect_records "a NUL in a Latin-1 part" "$T/nul-latin1.eml"
is "a NUL in a Latin-1 part: the text after it is read" \
    "$(field 10 "$T/out")" "host mx.example.de said: 550 5.1.1 Benutzer unbekannt"

# A multipart whose only delimiter-like line is "--" another boundary
# and a control character: parsed again once with that boundary, then
# read as text, not parsed again and again (each time a copy).
{ printf '%s\nContent-Type: multipart/mixed; boundary="AAA"\n\n' "$HDR"
  printf -- '--B\001\n<anna@example.de>: 550 5.1.1 unknown user\n'
  head -c $((20 * 1048576)) /dev/zero | tr '\0' x | fold -w 70
  printf '\n--AAA--\n'; } >"$T/lostbnd.eml"
run "a lost boundary that parses to nothing" "$T/lostbnd.eml"
is "a lost boundary that parses to nothing: exit status" "$rc" 0
is "a lost boundary that parses to nothing: the text is read" \
    "$(field 3 "$T/out")" "anna@example.de"
rm -f "$T/lostbnd.eml"

# A reply line of 2 MB quoting 80,000 addresses: read in one pass over
# the line, not once per address (which took minutes).
{ printf '%s\nSubject: Undelivered Mail Returned to Sender\nContent-Type: text/plain\n\n' "$HDR"
  printf 'The mail system\n\n<anna@example.org>: host mx said: 550 5.1.1 unknown '
  awk 'BEGIN { for (i = 0; i < 80000; i++) printf "postmaster@example%d.net, ", i }'
  printf '\n'; } >"$T/longline.eml"
run "a line of 80,000 addresses" "$T/longline.eml"
is "a line of 80,000 addresses: exit status" "$rc" 0
is "a line of 80,000 addresses: the one recipient" "$(cut -f3 "$T/out")" \
    "anna@example.org"
rm -f "$T/longline.eml"

# Long text on both sides of the address: the diagnostic made of the
# words before it and after it still holds at most 1200 bytes, cut
# between characters.
{ printf '%s\nSubject: Undelivered Mail Returned to Sender\nContent-Type: text/plain; charset=utf-8\n\n' "$HDR"
  printf 'Your message could not be delivered'
  awk 'BEGIN { for (i = 0; i < 60; i++) printf " because of a probl\303\251m" }'
  printf ' to <user@example.org>'
  awk 'BEGIN { for (i = 0; i < 60; i++) printf " for a r\303\251ason that is long" }'
  printf '\n'; } >"$T/longdiag.eml"
expect_records "a diagnostic of more than 1200 bytes" "$T/longdiag.eml"
field 10 "$T/out" >"$T/diag"
ok "a diagnostic of more than 1200 bytes: cut at 1200 bytes at most" \
    test "$(tr -d '\n' <"$T/diag" | wc -c)" -le 1200 -a "$(wc -c <"$T/diag")" -gt 1000

# Inputs that once broke the parser (found by fuzzing) stay fixed.
for f in "$FIX"/hostile/*; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	run "hostile/$n" "$f"
	ok "hostile/$n: exit 0 or 1" test "$rc" -le 1
	ok "hostile/$n: no sanitizer or GLib report" quiet_err
	ok "hostile/$n: every message gives a record" records_ok "$T/out"
done

done_testing
