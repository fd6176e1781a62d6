#!/bin/sh
# bparse errors: an input that cannot be read or is not mail is named on
# stderr as "bparse: PATH: why", the other inputs are still processed,
# and the exit status is 1; a failed write is exit 2 with a message.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
cp "$FIX/dsn-delayed.eml" good1.eml
cp "$FIX/dsn-mixed.eml" good2.eml
: >empty.eml
printf '   \n' >blank.eml
printf 'This is just a note to myself.\nNo headers here.\n' >note.txt
printf '\211PNG\r\n\032\n\000\000\000\rIHDR' >image.png
mkdir plaindir
mkfifo fifo 2>/dev/null
if [ "$(id -u)" != 0 ]; then
	cp "$FIX/dsn-qp.eml" unreadable.eml
	chmod 000 unreadable.eml
fi

# alone NAME PATH WHY: bparse PATH alone: exit 1, no records, one line
alone() {
	"$BIN/bparse" "$2" >out 2>err
	is "$1: exit status 1" "$?" 1
	ok "$1: no records" test ! -s out
	is "$1: the message" "$(cat err)" "bparse: $2: $3"
}
# between NAME PATH: the same PATH between two good files: both good
# files give their records, in order, and the exit status is 1
between() {
	"$BIN/bparse" good1.eml "$2" good2.eml >out 2>err
	is "$1 between good files: exit status 1" "$?" 1
	is "$1 between good files: the good ones still parsed" \
	    "$(cut -f1 out | uniq | tr '\n' ' ')" "good1.eml good2.eml "
	is "$1 between good files: one line on stderr" "$(wc -l <err)" 1
}

alone "a missing file" missing.eml "No such file or directory"
between "a missing file" missing.eml
alone "a directory that is not a Maildir" plaindir \
    "is a directory, not a Maildir (no cur/ or new/)"
between "a directory" plaindir
if [ -p fifo ]; then
	alone "a FIFO" fifo "not a regular file"
	between "a FIFO" fifo
fi
alone "an empty file" empty.eml "empty file, not a mail message"
between "an empty file" empty.eml
alone "blank lines only" blank.eml "not a mail message (no header at the start)"
alone "a text file" note.txt "not a mail message (no header at the start)"
between "a text file" note.txt
alone "a binary file" image.png "not a mail message (no header at the start)"
if [ -f unreadable.eml ]; then
	alone "an unreadable file" unreadable.eml "Permission denied"
	between "an unreadable file" unreadable.eml
fi

# Several bad inputs: each one named, in order.
"$BIN/bparse" missing.eml good1.eml empty.eml note.txt >out 2>err
is "several bad inputs: exit status 1" "$?" 1
is "several bad inputs: each named in order" \
    "$(cut -d: -f2 err | sed 's/^ //' | tr '\n' ' ')" \
    "missing.eml empty.eml note.txt "
is "several bad inputs: the good one parsed" "$(cut -f1 out | sort -u)" \
    good1.eml

# A bad path in a path list on stdin.
printf 'good1.eml\nmissing.eml\ngood2.eml\n' | "$BIN/bparse" >out 2>err
is "path list with a missing path: exit status 1" "$?" 1
is "path list with a missing path: the message" "$(cat err)" \
    "bparse: missing.eml: No such file or directory"
is "path list with a missing path: the others parsed" \
    "$(cut -f1 out | uniq | tr '\n' ' ')" "good1.eml good2.eml "

# A bad message inside a Maildir, and a Maildir file that is not mail.
mkdir -p md/cur md/new
cp good1.eml md/cur/1
cp note.txt md/cur/2
cp good2.eml md/new/3
"$BIN/bparse" md >out 2>err
is "Maildir with a file that is not mail: exit status 1" "$?" 1
is "Maildir with a file that is not mail: the message" "$(cat err)" \
    "bparse: md/cur/2: not a mail message (no header at the start)"
is "Maildir with a file that is not mail: the others parsed" \
    "$(cut -f1 out | uniq | tr '\n' ' ')" "md/cur/1 md/new/3 "

# An empty stdin for "-".
"$BIN/bparse" - </dev/null >out 2>err
is "empty stdin for -: exit status 1" "$?" 1
is "empty stdin for -: the message" "$(cat err)" \
    "bparse: -: empty file, not a mail message"

# ---- write errors ----
"$BIN/bparse" good1.eml >/dev/full 2>err
is "write error: exit status 2" "$?" 2
is "write error: the message" "$(cat err)" \
    "bparse: stdout: No space left on device"
"$BIN/bparse" - <good1.eml >/dev/full 2>err
is "write error with -: exit status 2" "$?" 2
printf 'good1.eml\n' | "$BIN/bparse" >/dev/full 2>err
is "write error with a path list: exit status 2" "$?" 2
ok "write error with a path list: a message" grep -q '^bparse: ' err

# A reader that goes away ends bparse quietly (SIGPIPE, no message).
# The output is far bigger than a pipe buffer, so bparse must still be
# writing when head exits.
i=0
while [ $i -lt 300 ]; do echo good1.eml; echo good2.eml; i=$((i + 1)); done \
    >paths
{ "$BIN/bparse" <paths 2>err; echo $? >rc; } | head -n 1 >first
is "closed pipe: the first record arrived" "$(cut -f1 first)" good1.eml
ok "closed pipe: nothing on stderr" test ! -s err
is "closed pipe: killed by SIGPIPE" "$(cat rc)" 141

# ---- usage ----
"$BIN/bparse" -h >out 2>err
is "-h: exit status 0" "$?" 0
ok "-h: usage on stdout" grep -q '^usage: bparse' out
"$BIN/bparse" --no-such-option good1.eml >out 2>err
is "unknown option: exit status 2" "$?" 2
ok "unknown option: usage on stderr" grep -q '^usage: bparse' err
ok "unknown option: no records" test ! -s out

done_testing
