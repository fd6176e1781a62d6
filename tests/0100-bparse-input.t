#!/bin/sh
# bparse inputs: a message file, an mbox (source path:offset), a Maildir,
# "-" (a message on stdin), a list of paths on stdin; LF, CRLF and
# CR-only line ends; and the --json output.
. "$(dirname "$0")/lib.sh"

# col N COL FILE: column COL of line N of FILE
col() { awk -F '\t' -v n="$1" -v c="$2" 'NR == n { print $c }' "$3"; }
# Every line of FILE has exactly ten columns.
ten() { [ -s "$1" ] && awk -F '\t' 'NF != 10 { exit 1 }' "$1"; }
# Byte offsets of the mbox separators of FILE ("From " sender date),
# found independently of bparse.
seps() { LC_ALL=C grep -ab '^From [^ ]* *[A-Z][a-z][a-z] ' "$1" | cut -d: -f1; }

cd "$T" || exit 1
cp "$FIX/dsn-postfix.eml" "$FIX/dsn-sendmail.eml" "$FIX/bounces.mbox" .

# ---- one message file ----
"$BIN/bparse" dsn-postfix.eml >out 2>err
is "file: exit status" "$?" 0
ok "file: nothing on stderr" test ! -s err
is "file: one record per recipient" "$(wc -l <out)" 2
ok "file: ten columns" ten out
is "file: source is the path as given" "$(cut -f1 out | sort -u)" \
    dsn-postfix.eml
is "file: recipients in report order" "$(cut -f3 out | tr '\n' ' ')" \
    "staff@example.org bob@example.com "
"$BIN/bparse" "$T/dsn-postfix.eml" >abs
is "file: an absolute path is kept" "$(col 1 1 abs)" "$T/dsn-postfix.eml"

# ---- several files: in argument order ----
"$BIN/bparse" dsn-sendmail.eml dsn-postfix.eml >two
is "two files: exit status" "$?" 0
is "two files: sources in argument order" \
    "$(cut -f1 two | uniq | tr '\n' ' ')" "dsn-sendmail.eml dsn-postfix.eml "
is "two files: all records" "$(wc -l <two)" 5

# ---- "-": one message on stdin ----
"$BIN/bparse" - <dsn-postfix.eml >stdin 2>err
is "-: exit status" "$?" 0
# The source is "-", written \x2d as "-" alone means an empty field.
is "-: source is - (escaped)" "$(cut -f1 stdin | sort -u)" '\x2d'
is "-: same records as the file" "$(cut -f2- stdin)" "$(cut -f2- out)"
"$BIN/bparse" dsn-sendmail.eml - <dsn-postfix.eml >mixed
is "- among files" "$(cut -f1 mixed | uniq | tr '\n' ' ')" \
    'dsn-sendmail.eml \x2d '

# ---- a list of paths on stdin ----
printf 'dsn-sendmail.eml\n\n%s\r\n' "$T/dsn-postfix.eml" |
    "$BIN/bparse" >list 2>err
is "path list: exit status" "$?" 0
ok "path list: nothing on stderr" test ! -s err
is "path list: sources in list order, blank line skipped, CR dropped" \
    "$(cut -f1 list | uniq | tr '\n' ' ')" \
    "dsn-sendmail.eml $T/dsn-postfix.eml "
is "path list: same records as the files" "$(cut -f2- list)" \
    "$(cut -f2- two)"
printf 'bounces.mbox\n' | "$BIN/bparse" >listmbox
is "path list: an mbox in the list is split" \
    "$(cut -f1 listmbox | uniq | wc -l)" 3

# ---- mbox ----
"$BIN/bparse" bounces.mbox >mbox 2>err
is "mbox: exit status" "$?" 0
ok "mbox: nothing on stderr" test ! -s err
ok "mbox: ten columns" ten mbox
is "mbox: three separators in the fixture" "$(seps bounces.mbox | wc -l)" 3
is "mbox: one source per message, path:offset of its From line" \
    "$(cut -f1 mbox | uniq | tr '\n' ' ')" \
    "$(seps bounces.mbox | sed 's/^/bounces.mbox:/' | tr '\n' ' ')"
is "mbox: a body line 'From now on' does not split, '>From' neither" \
    "$(cut -f1 mbox | uniq | wc -l)" 3
is "mbox: records of the first message match the single file" \
    "$(grep '^bounces.mbox:0	' mbox | cut -f2-)" "$(cut -f2- out)"
is "mbox: the second message is the auto-reply" "$(col 3 4 mbox)" autoreply
is "mbox: the third message (no Date) is dated by its From line" \
    "$(col 4 2 mbox)" 2014-11-19T06:07:08Z
is "mbox: the third message's recipient" "$(col 4 3 mbox)" wendy@example.org

# ---- line ends: CRLF and CR-only give the same records ----
sed 's/$/\r/' bounces.mbox >crlf.mbox
tr '\n' '\r' <bounces.mbox >cr.mbox
for le in crlf cr; do
	"$BIN/bparse" $le.mbox >$le.out 2>err
	is "$le mbox: exit status" "$?" 0
	is "$le mbox: same records as LF" "$(cut -f2- $le.out)" \
	    "$(cut -f2- mbox)"
done
is "crlf mbox: offsets are bytes of the file as it is" \
    "$(cut -f1 crlf.out | uniq | tr '\n' ' ')" \
    "$(seps crlf.mbox | sed 's/^/crlf.mbox:/' | tr '\n' ' ')"
# CR-only: the file is one "line" to grep, so find the offsets with perl.
is "cr mbox: offsets are bytes of the file as it is" \
    "$(cut -f1 cr.out | uniq | tr '\n' ' ')" \
    "$(perl -0777 -ne 'print "cr.mbox:$-[1] " while /(?:^|\r)\K(From \S+ +[A-Z][a-z][a-z] )/g' cr.mbox)"
n=0
for f in "$FIX"/dsn-*.eml "$FIX"/arf-*.eml "$FIX"/exim.eml "$FIX"/vacation*.eml; do
	b=$(basename "$f" .eml)
	sed 's/$/\r/' "$f" >"$b.crlf"
	tr '\n' '\r' <"$f" >"$b.cr"
	"$BIN/bparse" "$f" | cut -f2- >"$b.lf.out"
	"$BIN/bparse" "$b.crlf" | cut -f2- >"$b.crlf.out"
	"$BIN/bparse" "$b.cr" | cut -f2- >"$b.cr.out"
	if cmp -s "$b.lf.out" "$b.crlf.out" && cmp -s "$b.lf.out" "$b.cr.out"
	then
		n=$((n + 1))
	else
		echo "# line ends change the records of $b:"
		diff "$b.lf.out" "$b.crlf.out" | sed 's/^/# /'
		diff "$b.lf.out" "$b.cr.out" | sed 's/^/# /'
	fi
done
is "every fixture: CRLF and CR-only give the LF records" "$n" \
    "$(ls "$FIX"/dsn-*.eml "$FIX"/arf-*.eml "$FIX"/exim.eml \
    "$FIX"/vacation*.eml | wc -l)"
sed 's/$/\r/' dsn-postfix.eml | "$BIN/bparse" - >crlf.stdin
is "CRLF on stdin" "$(cut -f2- crlf.stdin)" "$(cut -f2- out)"

# ---- Maildir ----
mkdir -p md/cur md/new md/tmp
cp "$FIX/dsn-sendmail.eml" "md/cur/1416000001.M1P1.host:2,S"
cp "$FIX/exim.eml" "md/cur/1416000000.M1P1.host:2,"
cp "$FIX/arf-rcpt.eml" "md/new/1416000002.M1P1.host"
cp "$FIX/dsn-postfix.eml" "md/tmp/1416000003.M1P1.host"
cp "$FIX/dsn-qp.eml" "md/cur/.hidden"
"$BIN/bparse" md >md.out 2>err
is "Maildir: exit status" "$?" 0
ok "Maildir: nothing on stderr" test ! -s err
is "Maildir: cur/ in name order, then new/; tmp/ and dot files left" \
    "$(cut -f1 md.out | uniq | tr '\n' ' ')" \
    "md/cur/1416000000.M1P1.host:2, md/cur/1416000001.M1P1.host:2,S md/new/1416000002.M1P1.host "
is "Maildir: every record" "$(wc -l <md.out)" 6
is "Maildir: records as for the files" "$(cut -f2- md.out)" \
    "$( ("$BIN/bparse" "$FIX/exim.eml" "$FIX/dsn-sendmail.eml" \
    "$FIX/arf-rcpt.eml") | cut -f2-)"
mkdir -p newonly/new
cp "$FIX/vacation.eml" newonly/new/1
"$BIN/bparse" newonly/ >newonly.out 2>err
is "Maildir with new/ only, named with a trailing /" \
    "$(cut -f1,4 newonly.out)" "newonly/new/1	autoreply"
mkdir -p emptymd/cur emptymd/new
"$BIN/bparse" emptymd >emptymd.out 2>err
is "empty Maildir: exit status" "$?" 0
ok "empty Maildir: no records, no error" test ! -s emptymd.out -a ! -s err

# ---- all kinds at once ----
"$BIN/bparse" dsn-postfix.eml bounces.mbox md - <"$FIX/vacation.eml" \
    >all.out 2>err
is "file, mbox, Maildir and - together: exit status" "$?" 0
is "file, mbox, Maildir and - together: records" "$(wc -l <all.out)" \
    $(( $(wc -l <out) + $(wc -l <mbox) + $(wc -l <md.out) + 1 ))

# ---- JSON ----
"$BIN/bparse" --json dsn-postfix.eml bounces.mbox >json 2>err
is "--json: exit status" "$?" 0
"$BIN/bparse" -j dsn-postfix.eml bounces.mbox >json2
ok "-j is --json" cmp -s json json2
is "--json: one line per record" "$(wc -l <json)" \
    $(( $(wc -l <out) + $(wc -l <mbox) ))
cat out mbox >tsv
# Every JSON line decodes; its values equal the TSV columns ("-" is null).
perl -MJSON::PP -e '
	my @names = qw(source date recipient action status smtp mta id
	    detector diag);
	open my $j, "<", $ARGV[0] or die;
	open my $t, "<", $ARGV[1] or die;
	my $bad = 0;
	while (my $line = <$j>) {
		my $rec = JSON::PP->new->utf8->decode($line);
		chomp(my $tsv = <$t>);
		my @f = split /\t/, $tsv, -1;
		for my $i (0 .. $#names) {
			my $want = $f[$i] eq "-" ? undef : $f[$i];
			my $got = $rec->{$names[$i]};
			utf8::encode($got) if defined $got;
			next if (defined $got ? $got : "\0") eq
			    (defined $want ? $want : "\0");
			print "# $names[$i]: got ", $got // "null",
			    " want ", $want // "null", "\n";
			$bad = 1;
		}
		if (keys %$rec != @names) {
			print "# ", scalar(keys %$rec), " keys\n";
			$bad = 1;
		}
	}
	exit $bad;
' json tsv >json.check
is "--json: every line is an object with the ten named fields" "$?" 0
sed 's/^/# /' json.check
"$BIN/bparse" --json "$FIX/dsn-latin1.eml" "$FIX/dsn-iso2022jp.eml" >json3
ok "--json: non-ASCII text as UTF-8" grep -q 'résiliée' json3
ok "--json: output is valid UTF-8" iconv -f UTF-8 -t UTF-8 json3

# Blank lines (empty, or blanks only) saved before the header are not
# part of the message; the rest parses as without them.
{ printf '\n%s\n\n' '          '; cat "$FIX/dsn-postfix.eml"; } >lead.eml
"$BIN/bparse" "$FIX/dsn-postfix.eml" | cut -f2- >lead.want
"$BIN/bparse" lead.eml >lead.out 2>lead.err
is "blank lines before the header: exit status" "$?" 0
ok "blank lines before the header: nothing on stderr" test ! -s lead.err
is "blank lines before the header: the same records" \
    "$(cut -f2- lead.out)" "$(cat lead.want)"

# An mbox whose separator is followed by an older envelope line, quoted
# (">From sender date"), as some delivery agents save messages.
{ printf 'From MAILER-DAEMON Thu Mar  7 12:56:28 2024\n>From bounce@example.org Thu Mar 07 12:56:28 2024\n'
    cat "$FIX/dsn-postfix.eml"; } >quoted.mbox
"$BIN/bparse" quoted.mbox >quoted.out 2>quoted.err
is "a quoted envelope line under the separator: exit status" "$?" 0
ok "a quoted envelope line under the separator: nothing on stderr" test ! -s quoted.err
is "a quoted envelope line under the separator: the same records" \
    "$(cut -f2- quoted.out)" "$(cat lead.want)"

done_testing
