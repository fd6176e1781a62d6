#!/bin/sh
# bclassify as a filter: two columns appended, columns 1-10 (and any
# after 12) kept byte for byte, lines that are not records passed
# through with a warning, errors and exit codes.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
tab=$(printf '\t')

# rec DIAG [STATUS [SMTP]]: a bparse record for jane@example.org
rec() {
	printf 'a.eml\t2024-05-01T10:00:00Z\tjane@example.org\tfailed\t%s\t%s\tmx.example.org\tid-1@example.com\tdsn\t%s\n' \
	    "${2:--}" "${3:--}" "$1"
}

# Ten columns in, twelve out, the first ten untouched.
rec '550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown' 5.1.1 550 >one.tsv
"$BIN/bclassify" one.tsv >out 2>err
is "a record: exit 0" "$?" 0
is "a record: nothing on stderr" "$(cat err)" ""
is "a record: twelve columns" "$(awk -F '\t' '{ print NF }' out)" 12
is "a record: class and reason" "$(cut -f11,12 out)" "hard${tab}userunknown"
is "a record: columns 1-10 kept" "$(cut -f1-10 out)" "$(cat one.tsv)"

# Escapes that a reader decodes are copied as they came, not rewritten.
printf 'b\\x2eeml\t-\tjane@example.org\tfailed\t5.2.2\t552\t-\t-\tdsn\tMailbox full\\tquota \\\\ 100%%\n' >esc.tsv
"$BIN/bclassify" esc.tsv >out
is "escaped fields: columns 1-10 byte for byte" "$(cut -f1-10 out)" "$(cat esc.tsv)"
is "escaped fields: classified from the decoded text" "$(cut -f11,12 out)" \
    "soft${tab}mailboxfull"

# A record classified before: 11 and 12 replaced, later columns kept.
printf '%s\tinfo\tundefined\tcol13\tcol14\n' "$(rec 'User unknown' 5.1.1 550)" >old.tsv
"$BIN/bclassify" old.tsv >out
is "twelve columns: 11-12 replaced, 13-14 kept" "$(cut -f11-14 out)" \
    "hard${tab}userunknown${tab}col13${tab}col14"
is "twelve columns: 1-10 kept" "$(cut -f1-10 out)" "$(cut -f1-10 old.tsv)"
printf '%s\tstale\n' "$(rec 'User unknown' 5.1.1 550)" >eleven.tsv
"$BIN/bclassify" eleven.tsv >out
is "eleven columns: the eleventh replaced" "$(cut -f11- out)" "hard${tab}userunknown"

# Lines that are not records go through unchanged, with a warning.
{
	echo '# records of May'
	rec 'Mailbox full' 5.2.2 552
	printf 'only\tthree\tcolumns\n'
	rec 'bad \q escape' 5.1.1 550
	rec 'User unknown' 5.1.1 550
} >mixed.tsv
"$BIN/bclassify" mixed.tsv >out 2>err
is "unreadable lines: exit 1" "$?" 1
is "unreadable lines: every line comes out" "$(wc -l <out)" 5
is "unreadable lines: the comment as it was" "$(sed -n 1p out)" '# records of May'
is "unreadable lines: the short line as it was" "$(sed -n 3p out)" \
    "$(sed -n 3p mixed.tsv)"
is "unreadable lines: the bad escape as it was" "$(sed -n 4p out)" \
    "$(sed -n 4p mixed.tsv)"
is "unreadable lines: the records around them classified" \
    "$(sed -n '2p;5p' out | cut -f12 | tr '\n' ' ')" "mailboxfull userunknown "
is "unreadable lines: one warning each, with file and line" "$(cat err)" \
"bclassify: mixed.tsv:3: too few columns for a record
bclassify: mixed.tsv:4: bad escape sequence"

# A NUL byte cuts no line short: the line goes on, the NUL spelled \x00.
{ printf 'garbage\0hidden tail\n'; rec 'Mailbox full' 5.2.2 552 | tr -d '\n'; printf '\0\tEXTRA\n'; } >nul.tsv
"$BIN/bclassify" nul.tsv >out 2>err
is "NUL bytes: exit 1" "$?" 1
is "NUL bytes: the lines whole, NULs spelled out" "$(grep -o '\\x00.*' out)" \
    '\x00hidden tail
\x00	EXTRA'
is "NUL bytes: one warning each" "$(cat err)" \
"bclassify: nul.tsv:1: NUL byte in the line
bclassify: nul.tsv:2: NUL byte in the line"

# A comment alone is no error.
echo '# nothing yet' | "$BIN/bclassify" >out 2>err
is "a comment: exit 0" "$?" 0
is "a comment: passed through" "$(cat out)" '# nothing yet'

# Standard input, "-", several files, a missing file.
rec 'Mailbox full' 5.2.2 552 | "$BIN/bclassify" >out
is "stdin: classified" "$(cut -f12 out)" mailboxfull
rec 'Mailbox full' 5.2.2 552 | "$BIN/bclassify" one.tsv - >out
is "a file and -: both, in order" "$(cut -f12 out | tr '\n' ' ')" \
    "userunknown mailboxfull "
"$BIN/bclassify" one.tsv missing.tsv one.tsv >out 2>err
is "a missing file: exit 1" "$?" 1
is "a missing file: named" "$(cat err)" \
    "bclassify: missing.tsv: No such file or directory"
is "a missing file: the others read" "$(wc -l <out)" 2
: | "$BIN/bclassify" >out
is "no input: no output" "$(wc -c <out)" 0

# JSON lines.
"$BIN/bclassify" -j one.tsv >out
ok "json: class and reason as keys" \
    grep -q '"class":"hard","reason":"userunknown"}$' out
ok "json: the other keys" grep -q '^{"source":"a.eml","date":' out
"$BIN/bclassify" --json old.tsv >out
ok "json: columns after the twelfth as colN" grep -q '"col13":"col13"' out

# Options and exit codes.
"$BIN/bclassify" -h >out
is "-h: exit 0" "$?" 0
ok "-h: usage on stdout" grep -q '^usage: bclassify' out
"$BIN/bclassify" -Z one.tsv >out 2>err
is "a bad option: exit 2" "$?" 2
ok "a bad option: usage on stderr" grep -q '^usage: bclassify' err
is "a bad option: no records" "$(wc -c <out)" 0

# -p: the built-in rules, readable again as a rules file.
"$BIN/bclassify" -p >rules.bcr
is "-p: exit 0" "$?" 0
ok "-p: the rules text" grep -q '^rule userunknown' rules.bcr
"$BIN/bclassify" -r rules.bcr one.tsv >out 2>err
is "-p output read back with -r: exit 0" "$?" 0
is "-p output read back with -r: same result" "$(cut -f12 out)" userunknown

# Between two pipes, a record comes out before the input ends (a
# long-running pipeline must not wait for a full buffer).  The timeout
# only keeps a failure from hanging the test.
if mkfifo in.fifo out.fifo 2>/dev/null && command -v timeout >/dev/null; then
	"$BIN/bclassify" <in.fifo >out.fifo &
	pid=$!
	exec 3>in.fifo 4<out.fifo
	rec 'Mailbox full' 5.2.2 552 >&3
	first=$(timeout 20 head -n 1 <&4)
	is "between pipes: the record comes out while the input is open" \
	    "$(printf '%s\n' "$first" | cut -f12)" mailboxfull
	exec 3>&- 4<&-
	wait $pid
	# A record and a comment line after it in one write: both come out.
	"$BIN/bclassify" <in.fifo >out.fifo &
	pid=$!
	exec 3>in.fifo 4<out.fifo
	printf '%s\n# a note\n' "$(rec 'Mailbox full' 5.2.2 552)" >&3
	got=$(timeout 20 head -n 2 <&4)
	is "between pipes: a record before a comment comes out whole" \
	    "$(printf '%s\n' "$got" | sed -n 1p | cut -f12) $(printf '%s\n' "$got" | sed -n 2p)" \
	    "mailboxfull # a note"
	exec 3>&- 4<&-
	wait $pid
fi

# A full disk is an error, not a short file.
if [ -w /dev/full ]; then
	"$BIN/bclassify" one.tsv >/dev/full 2>err
	is "write error: exit 2" "$?" 2
	ok "write error: said on stderr" grep -q '^bclassify: stdout: ' err
fi

done_testing
