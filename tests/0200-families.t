#!/bin/sh
# Bounce families: for every format bparse recognises, one or two
# messages in tests/fixtures/families/ with the records they must give
# (NAME-N.eml and NAME-N.expect: recipient, action, status, smtp and
# detector; NAME-N.args holds extra options, one a line; NAME-N.diag,
# when there, the diagnostic of each record, one a line).  Then, when
# the development corpus is there, one real sample per family, and the
# corpus's CRLF and CR-only copies against their LF originals.
. "$(dirname "$0")/lib.sh"

FAM=$FIX/families

# Known gaps: the fixtures for which bparse does not yet give the
# expected records, and why.  Their tests are TODO tests: reported, but
# they do not fail the suite.  A TODO test that passes is a gap closed;
# take it off this list.
todo() {
	case $1 in
	*)	return 1 ;;
	esac
}

# Not bounces: whatever else they give, never a failed recipient.
notbounce="autoreply-1 autoreply-2 autoreply-3 autoreply-4 notice-1 challenge-1 challenge-2 human-reply-1"

# tis DESCRIPTION GOT WANT [TODO-REASON]: "is", as a TODO test when a
# reason is given.
tis() {
	[ -n "$4" ] || { is "$1" "$2" "$3"; return; }
	_n=$((_n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $_n - $1 # TODO $4"
	else
		echo "not ok $_n - $1 # TODO $4"
		printf '# got:  %s\n# want: %s\n' "$2" "$3"
	fi
}

# Records as one line: fields joined by ',', records by ' | '.
flat() { tr '\t' ',' | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n/ | /g'; }

# The columns compared: recipient, action, status, smtp, detector.
cols() { cut -f3,4,5,6,9; }

# ---- the fixtures ----
ls "$FAM"/*.eml >"$T/fixtures" 2>/dev/null
ok "fixtures present" test -s "$T/fixtures"
while read -r eml; do
	n=$(basename "$eml" .eml)
	set --
	if [ -f "$FAM/$n.args" ]; then
		while read -r a; do set -- "$@" "$a"; done <"$FAM/$n.args"
	fi
	"$BIN/bparse" "$@" "$eml" >"$T/out" 2>"$T/err"
	rc=$?
	is "$n: exit status" "$rc" 0
	ok "$n: nothing on stderr" test ! -s "$T/err"
	if [ ! -f "$FAM/$n.expect" ]; then
		ok "$n: has an .expect file" false
		continue
	fi
	why=$(todo "$n")
	tis "$n: records" "$(cols <"$T/out" | flat)" \
	    "$(flat <"$FAM/$n.expect")" "$why"
	if [ -f "$FAM/$n.diag" ]; then
		tis "$n: diagnostics" "$(cut -f10 "$T/out")" \
		    "$(cat "$FAM/$n.diag")" "$why"
	fi
	case " $notbounce " in
	*" $n "*)
		tis "$n: no failed record" \
		    "$(cut -f4 "$T/out" | grep -c '^failed$')" 0 "$why" ;;
	esac
done <"$T/fixtures"

# Every format in the table, and every other detector, has a fixture
# that names it.
cut -f5 "$FAM"/*.expect | sort -u >"$T/covered"
{
	sed -n 's/.*\.name = "\([a-z0-9]*\)".*/\1/p' "$TOP/lib/formats.c"
	printf '%s\n' dsn arf fbl unsubscribe autoreply amazonses none
} | sort -u >"$T/detectors"
is "every detector has a fixture" \
    "$(comm -23 "$T/detectors" "$T/covered" | tr '\n' ' ')" ""
ok "the format table was read" test "$(wc -l <"$T/detectors")" -gt 40

# ---- delay words that belong to the returned message ----
# A failure whose returned message says "will keep trying", and one
# whose Subject goes on with the returned message's "delayed", stay
# failures.
sed '/^Spring is here\.$/a\
Your order has not yet been delivered; we will keep trying.' \
    "$FAM/qmail-1.eml" >"$T/qmail-words.eml"
is "a returned message's delay words: still failed" \
    "$("$BIN/bparse" "$T/qmail-words.eml" | cut -f4 | sort -u)" failed
sed 's/^Subject: Undeliverable: Project kickoff$/Subject: Undeliverable: Project kickoff delayed to Monday/' \
    "$FAM/exchange2007-1.eml" >"$T/exch-delayed.eml"
is "Undeliverable: and a subject that says delayed: still failed" \
    "$("$BIN/bparse" "$T/exch-delayed.eml" | cut -f4)" failed

# ---- format words that belong to the returned message ----
sed 's|^The link to the album is in the chat\.$|The album: https://groups.google.com/g/photos|' \
    "$FAM/gmail-1.eml" >"$T/gmail-groups.eml"
is "a Google Groups link in the returned message: still gmail" \
    "$("$BIN/bparse" "$T/gmail-groups.eml" | cols | flat)" "$(flat <"$FAM/gmail-1.expect")"

# ---- the corpus: one real sample per family ----
if [ ! -d "$CORPUS/maildir/bsd" ]; then
	_n=$((_n + 1))
	echo "ok $_n # SKIP corpus not found at $CORPUS"
	done_testing
fi

# file -> the family bparse must name.  Only samples whose family is
# really the one given: some corpus files named after a family are
# standard reports (dsn) or were written by another program.
# lhost-office365-01 is the Exchange text that Microsoft 365 writes.
cat >"$T/pairs" <<'EOF'
lhost-googlegroups-01 googlegroups
lhost-googleworkspace-01 googleworkspace
lhost-gmail-01 gmail
lhost-yahoo-03 yahoo
lhost-gmx-01 gmx
lhost-einsundeins-02 einsundeins
lhost-mailru-01 mailru
lhost-zoho-01 zoho
lhost-mxlogic-01 mxlogic
lhost-biglobe-01 biglobe
lhost-ezweb-01 ezweb
lhost-kddi-01 kddi
lhost-verizon-01 verizon
lhost-qmail-01 qmail
lhost-dragonfly-01 dragonfly
lhost-opensmtpd-01 opensmtpd
lhost-exim-01 exim
lhost-postfix-34 postfix
lhost-sendmail-14 sendmail
lhost-office365-01 exchange2007
lhost-exchange2003-01 exchange2003
lhost-domino-01 domino
lhost-notes-01 notes
lhost-imailserver-01 imailserver
lhost-mailfoundry-01 mailfoundry
lhost-mfilter-01 mfilter
lhost-trendmicro-01 trendmicro
lhost-x2-01 text
rfc3464-01 dsn
arf-01 arf
arf-22 fbl
arf-26 unsubscribe
rfc3834-01 autoreply
lhost-amazonses-09 amazonses
EOF

# Corpus samples whose recipients bparse does not yet get right.
ctodo() {
	case $1 in
	*)	return 1 ;;
	esac
}

while read -r f fam; do
	eml=$CORPUS/maildir/bsd/$f.eml
	if [ ! -f "$eml" ]; then
		ok "corpus $f: present" false
		continue
	fi
	"$BIN/bparse" "$eml" >"$T/out" 2>/dev/null
	is "corpus $f: detector" "$(cut -f9 "$T/out" | sort -u | flat)" "$fam"
	is "corpus $f: a recipient in every record" \
	    "$(awk -F '\t' '$3 == "" || $3 == "-"' "$T/out" | wc -l)" 0
	# The recipients labelled in expected.tsv, where it names them.
	want=$(awk -F '\t' -v f="maildir/bsd/$f.eml" \
	    '$1 == f && $2 != "-" { print $2 }' "$CORPUS/expected.tsv" | sort)
	[ -n "$want" ] && tis "corpus $f: recipients as labelled" \
	    "$(cut -f3 "$T/out" | sort | flat)" "$(echo "$want" | flat)" \
	    "$(ctodo "$f")"
done <"$T/pairs"

# ---- the corpus: CRLF and CR-only copies give the same records ----
# Each copy is compared with the LF file of the same content (line
# ends aside), else with the LF file of the same name; a CR-only copy
# with neither is compared with its CRLF twin.
perl -MDigest::MD5=md5_hex -e '
	my ($c) = @ARGV;
	sub sum { my ($f, $cr) = @_; open(my $h, "<", $f) or return "";
		local $/; my $t = <$h>; $t =~ s/\r\n?/\n/g if $cr;
		$t =~ s/\r\n/\n/g; return md5_hex($t); }
	my %bsd;
	for my $f (glob "$c/maildir/bsd/*.eml") {
		my $s = sum($f, 0); (my $n = $f) =~ s{.*/}{};
		$bsd{$s} //= $n;
	}
	for my $d ("dos", "mac") {
		for my $f (glob "$c/maildir/$d/*.eml") {
			(my $n = $f) =~ s{.*/}{};
			my $m = $bsd{sum($f, 1)} // $n;
			if (-f "$c/maildir/bsd/$m") { print "$f $c/maildir/bsd/$m\n" }
			elsif ($d eq "mac" && -f "$c/maildir/dos/$n") {
				print "$f $c/maildir/dos/$n\n" }
		}
	}' "$CORPUS" >"$T/twins"
ok "CRLF and CR-only copies found" test -s "$T/twins"
# All copies and all originals in two runs; records grouped by file
# (a few samples start with an mbox "From " line: path:offset).
byfile() { cut -f1,3,4,5 | sed 's/^\([^	]*\):[0-9]*	/\1	/'; }
cut -d' ' -f1 "$T/twins" | "$BIN/bparse" 2>/dev/null | byfile >"$T/copies"
cut -d' ' -f2 "$T/twins" | sort -u | "$BIN/bparse" 2>/dev/null |
    byfile >"$T/originals"
is "every copy gave records" "$(cut -f1 "$T/copies" | sort -u | wc -l)" \
    "$(wc -l <"$T/twins")"
recs() { awk -F '\t' -v s="$1" '$1 == s' "$2" | cut -f2- | flat; }
while read -r copy ref; do
	is "corpus ${copy#"$CORPUS"/maildir/}: same records as ${ref#"$CORPUS"/maildir/}" \
	    "$(recs "$copy" "$T/copies")" "$(recs "$ref" "$T/originals")"
done <"$T/twins"

done_testing
