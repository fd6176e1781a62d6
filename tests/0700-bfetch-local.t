#!/bin/sh
# bfetch without a server: a message on stdin (the MTA pipe) and its exit
# statuses, an unwritable spool and a full disk, local Maildir and mbox
# sources with and without --delete, --limit, accounting files, the
# lock, and the checks done before connecting (usage, URLs, passwords
# kept out of messages, the netrc file).
. "$(dirname "$0")/lib.sh"

F=$FIX/fetch
cd "$T" || exit 1

# The Message-IDs of the files named in FILE (one path a line), sorted.
ids() { [ -s "$1" ] || return 0; tr '\n' '\0' <"$1" |
    xargs -0 grep -hi '^Message-ID:' | sed 's/^[^:]*: *//' | sort; }
# The number of files in a directory.
nfiles() { find "$1" -type f | wc -l | tr -d ' '; }
# Every path in FILE is a file in DIR/new/.
in_new() { while read -r p; do
	[ -f "$p" ] || return 1
	case $p in "$2"/new/*) ;; *) echo "$p not in $2/new"; return 1;; esac
done <"$1"; }

# ---- usage ----
"$BIN/bfetch" -h >out 2>err
is "-h: exit status" "$?" 0
ok "-h: usage on stdout" grep -q '^usage: bfetch ' out
"$BIN/bfetch" "$F/one.eml" >out 2>err
is "no -s: usage error" "$?" 2
"$BIN/bfetch" -s sp >out 2>err
is "no source: usage error" "$?" 2
"$BIN/bfetch" -s sp -x "$F/one.eml" >out 2>err
is "an unknown option: usage error" "$?" 2
"$BIN/bfetch" -s sp -n 0 "$F/one.eml" >out 2>err
is "-n 0: usage error" "$?" 2

# ---- URLs that are refused before connecting ----
for u in 'ftp://127.0.0.1/' 'imaps://' 'imaps://127.0.0.1/INBOX;UID=3' \
    'pop3s://127.0.0.1/folder' 'imaps://127.0.0.1/INBOX?ALL'; do
	"$BIN/bfetch" -s sp --no-wait "$u" >out 2>err
	is "bad URL $u: exit 2" "$?" 2
	ok "bad URL $u: says so" grep -q "^bfetch: " err
done
BFETCH_PASSWORD=x "$BIN/bfetch" -s sp 'imaps://127.0.0.1:1/' >out 2>err
is "password from the environment without a user in the URL: exit 2" \
    "$?" 2
ok "... and says the URL needs the user" grep -q 'user name in the URL' err
"$BIN/bfetch" -s sp --cacert "$T/nonexistent.pem" 'imaps://127.0.0.1:1/' \
    >out 2>err
is "--cacert naming no file: exit 2" "$?" 2

# ---- URLs with a password: messages never show it ----
for u in 'imaps://bounce:s3cretpw@127.0.0.1/INBOX?ALL' \
    'imaps://bounce:s3cretpw@/' 'ftp://bounce:s3cretpw@127.0.0.1/' \
    'pop3s://bounce:s3cretpw@127.0.0.1/folder' \
    'imaps://bounce:s3cret/pw@127.0.0.1/' 'imaps://bounce:s3cret@pw@127.0.0.1/'
do
	"$BIN/bfetch" -s sp --no-wait "$u" >out 2>err
	is "bad URL with a password $u: exit 2" "$?" 2
	ok "bad URL with a password $u: names the account" \
	    grep -q '^bfetch: [a-z0-9]*://bounce@' err
	ok "bad URL with a password $u: the password is not shown" \
	    sh -c '! grep -q "s3cret" err'
done
"$BIN/bfetch" -s sp -m Done 'pop3s://bounce:s3cretpw@127.0.0.1:1/' >out 2>err
is "-m with POP3 and a password in the URL: exit 2" "$?" 2
is "-m with POP3 and a password in the URL: the password is not shown" \
    "$(cat err)" \
    "bfetch: pop3s://bounce@127.0.0.1:1: --move needs IMAP; POP3 has no folders"

# ---- the netrc file ----
printf 'machine 127.0.0.1 login u password p\n' >netrc
chmod 644 netrc
"$BIN/bfetch" -s sp --netrc-file netrc 'imaps://127.0.0.1:1/' >out 2>err
is "netrc readable by others: exit 77" "$?" 77
is "netrc readable by others: the message" "$(cat err)" \
    "bfetch: netrc: readable by others, refusing"
chmod 620 netrc
"$BIN/bfetch" -s sp --netrc-file netrc 'imaps://127.0.0.1:1/' >out 2>err
is "netrc writable by the group: exit 77" "$?" 77
"$BIN/bfetch" -s sp --netrc-file nonetrc 'imaps://127.0.0.1:1/' >out 2>err
is "--netrc-file naming no file: exit 77" "$?" 77
chmod 600 netrc
mkdir home && cp netrc home/.netrc && chmod 604 home/.netrc
HOME=$T/home "$BIN/bfetch" -s sp 'imaps://127.0.0.1:1/' >out 2>err
is "~/.netrc is checked too" "$?" 77
ok "... naming it" grep -q "home/.netrc: readable by others" err
# A password in the URL: the netrc file is not read, so not refused.
HOME=$T/home "$BIN/bfetch" -s sp --connect-timeout 5 \
    'imaps://u:p@127.0.0.1:1/' >out 2>err
is "~/.netrc readable by others, password in the URL: not refused" "$?" 75
ok "... and not named" sh -c '! grep -q netrc err'
chmod 644 netrc
"$BIN/bfetch" -s sp --netrc-file netrc --connect-timeout 5 \
    'imaps://u:p@127.0.0.1:1/' >out 2>err
is "--netrc-file readable by others, password in the URL: not refused" \
    "$?" 75
HOME=$T/home "$BIN/bfetch" -s sp --connect-timeout 5 \
    'imaps://u:p@127.0.0.1:1/' 'imaps://u@127.0.0.1:1/' >out 2>err
is "~/.netrc readable by others, one URL without a password: exit 77" \
    "$?" 77
chmod 600 netrc
# Entries cut short: a keyword without its value at the end.
printf 'machine 127.0.0.1 password p login' >short && chmod 600 short
"$BIN/bfetch" -s sp --netrc-file short 'imaps://127.0.0.1:1/' >out 2>err
is "netrc entry without a login: exit 77" "$?" 77
is "netrc entry without a login: the message" "$(cat err)" \
    "bfetch: imaps://127.0.0.1:1/: no user name: none in the URL, and the netrc entry for machine 127.0.0.1 in short has no login"
printf 'machine 127.0.0.1 login u password' >short
"$BIN/bfetch" -s sp --netrc-file short 'imaps://127.0.0.1:1/' >out 2>err
is "netrc entry without a password: exit 77" "$?" 77
is "netrc entry without a password: the message" "$(cat err)" \
    "bfetch: imaps://127.0.0.1:1/: no password: none in the URL or BFETCH_PASSWORD, and the netrc entry for machine 127.0.0.1 in short has no password"
# Comments: a word starting with # ends the line, as in libcurl.
printf '# old: machine 127.0.0.1 login old password oldpw\nmachine 127.0.0.1 password p\n' \
    >comment && chmod 600 comment
"$BIN/bfetch" -s sp --netrc-file comment --connect-timeout 5 \
    'imaps://127.0.0.1:1/' >out 2>err
is "netrc: a comment line is no entry: exit 77" "$?" 77
ok "netrc: a comment line is no entry: the entry after it has no login" \
    grep -q 'netrc entry for machine 127.0.0.1 in comment has no login' err

# ---- an unreachable server is a temporary failure ----
"$BIN/bfetch" -s sp --netrc-file netrc --connect-timeout 5 \
    'imaps://127.0.0.1:1/' >out 2>err
is "nothing listening: exit 75" "$?" 75
ok "nothing listening: nothing printed" test ! -s out
ok "nothing listening: says why, naming the account" \
    grep -q "^bfetch: imaps://u@127.0.0.1:1/INBOX: .*onnect" err

# ---- stdin: every failure is 75, the status on which an MTA keeps the
# message and tries again; a mistake in the command line too ----
"$BIN/bfetch" -s spf - "$F/one.eml" <"$F/one.eml" >out 2>err
is "- with another source: exit 75" "$?" 75
ok "- with another source: says so" grep -q 'goes alone' err
"$BIN/bfetch" -s spf - - <"$F/one.eml" >out 2>err
is "- twice: exit 75" "$?" 75
"$BIN/bfetch" -s spf -x - <"$F/one.eml" >out 2>err
is "-, an unknown option: exit 75" "$?" 75
"$BIN/bfetch" - -s spf --no-such-option <"$F/one.eml" >out 2>err
is "-, an unknown option after it: exit 75" "$?" 75
"$BIN/bfetch" -s spf -n 0 - <"$F/one.eml" >out 2>err
is "-, -n 0: exit 75" "$?" 75
"$BIN/bfetch" - <"$F/one.eml" >out 2>err
is "-, no -s: exit 75" "$?" 75
"$BIN/bfetch" -s spf --cacert "$T/nonexistent.pem" - <"$F/one.eml" >out 2>err
is "-, --cacert naming no file: exit 75" "$?" 75
ok "-: nothing spooled by the failures" test ! -e spf
if command -v script >/dev/null 2>&1; then
	script -qec "'$BIN/bfetch' -s sp -" /dev/null </dev/null >out 2>&1
	is "-, stdin a terminal: exit 75" "$?" 75
	ok "-, stdin a terminal: says so" grep -q 'is a terminal' out
fi
# stdout a pipe nobody reads: the message is durable, so it is done.
perl -e '$SIG{PIPE} = "DEFAULT"; pipe(R, W) or die; close R;
    open(STDOUT, ">&", \*W) or die; close W; exec @ARGV or die' \
    "$BIN/bfetch" -s sppipe - <"$F/one.eml" 2>err
is "-, stdout a closed pipe: exit 0, not killed by SIGPIPE" "$?" 0
is "-, stdout a closed pipe: spooled" "$(nfiles sppipe/new)" 1
ok "-, stdout a closed pipe: nothing said" test ! -s err

# ---- stdin: one message from an MTA ----
"$BIN/bfetch" -s sp - <"$F/one.eml" >out 2>err
is "stdin: exit 0" "$?" 0
ok "stdin: nothing on stderr" test ! -s err
is "stdin: one path" "$(wc -l <out | tr -d ' ')" 1
ok "stdin: the path is in the spool's new/" in_new out sp
ok "stdin: the message is copied byte for byte" cmp "$(cat out)" "$F/one.eml"
is "stdin: nothing left in tmp/" "$(nfiles sp/tmp)" 0
ok "stdin: the spool is a Maildir" test -d sp/cur
"$BIN/bfetch" -s sp - <"$F/crlf.eml" >out2
ok "stdin: CRLF kept as it came" cmp "$(cat out2)" "$F/crlf.eml"
ok "stdin: a unique name each time" test "$(cat out)" != "$(cat out2)"
: | "$BIN/bfetch" -s sp - >out 2>err
is "stdin: an empty message is refused with 75" "$?" 75
is "stdin: ... and nothing spooled" "$(nfiles sp/new)" 2

# An unwritable spool: the MTA must keep the message (75), and a
# fetch must say it cannot create the spool (73).
: >afile
"$BIN/bfetch" -s afile/sp - <"$F/one.eml" >out 2>err
is "stdin, spool cannot be created: exit 75" "$?" 75
ok "stdin, spool cannot be created: says so" grep -q '^bfetch: afile/sp: ' err
"$BIN/bfetch" -s afile/sp "$F/one.eml" >out 2>err
is "file, spool cannot be created: exit 73" "$?" 73
if [ "$(id -u)" != 0 ]; then
	mkdir ro && "$BIN/bfetch" -s ro - <"$F/one.eml" >/dev/null &&
	    chmod 500 ro/new ro/tmp
	"$BIN/bfetch" -s ro - <"$F/one.eml" >out 2>err
	is "stdin, read-only spool: exit 75" "$?" 75
	"$BIN/bfetch" -s ro "$F/one.eml" >out 2>err
	is "file, read-only spool: exit 73" "$?" 73
	chmod 700 ro/new ro/tmp
fi

# A full disk: writes fail with a file-size limit (SIGXFSZ ignored so
# that write(2) reports EFBIG, as it reports ENOSPC on a full disk).
big=$T/big.eml
{ cat "$F/one.eml"; i=0; while [ $i -lt 2000 ]; do
	echo "filler line $i filler filler filler filler filler filler"
	i=$((i + 1)); done; } >"$big"
( trap '' XFSZ; ulimit -f 16 && exec "$BIN/bfetch" -s full - ) \
    <"$big" >out 2>err
is "stdin, file too large for the limit: exit 75" "$?" 75
is "stdin, file too large: nothing in new/" "$(nfiles full/new)" 0
is "stdin, file too large: nothing left in tmp/" "$(nfiles full/tmp)" 0
# With a message on stdin, bfetch itself keeps SIGXFSZ from killing it.
( ulimit -f 16 && exec "$BIN/bfetch" -s full - ) <"$big" >out 2>err
is "stdin, file too large, SIGXFSZ not ignored by the caller: exit 75" \
    "$?" 75
is "stdin, file too large, SIGXFSZ: nothing left in tmp/" \
    "$(nfiles full/tmp)" 0
if [ "$(id -u)" = 0 ] && mkdir tiny && mount -t tmpfs -o size=32k tmpfs tiny \
    2>/dev/null; then
	"$BIN/bfetch" -s tiny/sp - <"$big" >out 2>err
	is "stdin, disk full (tmpfs): exit 75" "$?" 75
	ok "stdin, disk full: says no space" grep -q 'No space left' err
	is "stdin, disk full: nothing in new/" "$(nfiles tiny/sp/new)" 0
	is "stdin, disk full: nothing left in tmp/" "$(nfiles tiny/sp/tmp)" 0
	cp "$big" bigsrc.eml
	"$BIN/bfetch" -s tiny/sp -d bigsrc.eml >out 2>err
	is "file --delete, disk full: exit 75" "$?" 75
	ok "file --delete, disk full: the source is kept" cmp bigsrc.eml "$big"
	umount tiny
fi
if [ "$(id -u)" = 0 ] && mkdir rofs &&
    mount -t tmpfs -o ro,size=64k tmpfs rofs 2>/dev/null; then
	"$BIN/bfetch" -s rofs/sp - <"$F/one.eml" >out 2>err
	is "stdin, read-only file system: exit 75" "$?" 75
	ok "stdin, read-only file system: says so" grep -q 'Read-only' err
	cp "$F/one.eml" rosrc.eml
	"$BIN/bfetch" -s rofs/sp -d rosrc.eml >out 2>err
	is "file --delete, read-only file system: exit 73" "$?" 73
	ok "file --delete, read-only file system: the source is kept" \
	    cmp rosrc.eml "$F/one.eml"
	umount rofs
fi

# ---- a local Maildir ----
mkdir -p md/cur md/new md/tmp
cp "$F/one.eml" "md/cur/1000.1.host:2,S"
cp "$F/crlf.eml" "md/new/1001.1.host"
cp "$F/notmail.txt" "md/new/1002.1.host"
"$BIN/bfetch" -s sp2 md >out 2>err
is "Maildir: exit 1 (one file is not a message)" "$?" 1
ok "Maildir: names the bad file" grep -q 'md/new/1002.1.host: not a mail message' err
is "Maildir: the messages are spooled" "$(ids out | tr '\n' ' ')" \
    "<fetch-crlf@mail.example.net> <fetch-one@mail.example.org> "
ok "Maildir: paths are in the spool" in_new out sp2
ok "Maildir: CRLF becomes LF" sh -c "! grep -q \"\$(printf '\r')\" \$(cat out)"
is "Maildir: the source is untouched" "$(nfiles md)" 3
"$BIN/bfetch" -s sp2 md >out 2>err
is "Maildir again: nothing new" "$(wc -l <out | tr -d ' ')" 0
rm md/new/1002.1.host
cp "$F/one.eml" md/new/1003.1.host
mv "md/cur/1000.1.host:2,S" "md/cur/1000.1.host:2,RS"
"$BIN/bfetch" -s sp2 md >out 2>err
is "Maildir, a message added: exit 0" "$?" 0
is "Maildir, a message added: only it (flags changes do not count)" \
    "$(wc -l <out | tr -d ' ')" 1
cp "$F/one.eml" md/new/1004.1.host
cp "$F/one.eml" md/new/1005.1.host
"$BIN/bfetch" -s sp2 -n 1 md >out 2>err
is "Maildir -n 1: one message" "$(wc -l <out | tr -d ' ')" 1
"$BIN/bfetch" -s sp2 -d md >out 2>err
is "Maildir --delete: exit 0" "$?" 0
is "Maildir --delete: the one not yet spooled" "$(wc -l <out | tr -d ' ')" 1
is "Maildir --delete: the source is empty" "$(nfiles md)" 0
is "Maildir: spooled in all" "$(nfiles sp2/new)" 5

# A Maildir file that holds several messages (an mbox) counts as spooled
# only once all of them are.
mkdir -p mdm/cur mdm/new
cp "$F/three.mbox" mdm/new/1001.1.host
"$BIN/bfetch" -s spm -d -n 1 mdm >out 2>err
is "Maildir, an mbox in a file, -n 1 --delete: one message" \
    "$(wc -l <out | tr -d ' ')" 1
ok "Maildir, an mbox in a file, -n 1 --delete: the file is kept" \
    cmp mdm/new/1001.1.host "$F/three.mbox"
ok "Maildir, an mbox in a file, -n 1 --delete: says so" \
    grep -q 'mdm/new/1001.1.host: not removed' err
"$BIN/bfetch" -s spm -d mdm >out 2>err
is "Maildir, an mbox in a file, --delete: all its messages" \
    "$(ids out | tr '\n' ' ')" \
    "<fetch-mbox-1@a.example> <fetch-mbox-2@b.example> <fetch-mbox-3@c.example> "
is "Maildir, an mbox in a file, --delete: then removed" "$(nfiles mdm)" 0
cp "$F/three.mbox" mdm/new/1002.1.host
"$BIN/bfetch" -s spm -n 2 mdm >out 2>err
is "Maildir, an mbox in a file, -n 2: two messages" \
    "$(wc -l <out | tr -d ' ')" 2
"$BIN/bfetch" -s spm mdm >out 2>err
is "Maildir, an mbox in a file, the next run: all of it again" \
    "$(wc -l <out | tr -d ' ')" 3
"$BIN/bfetch" -s spm mdm >out 2>err
is "Maildir, an mbox in a file, once all spooled: nothing more" \
    "$(wc -l <out | tr -d ' ')" 0
rm mdm/new/1002.1.host
cp "$F/three.mbox" mdm/new/1003.1.host
"$BIN/bfetch" -s spm -d -n 3 mdm >out 2>err
is "Maildir, an mbox in a file, -n 3 --delete: three" \
    "$(wc -l <out | tr -d ' ')" 3
is "Maildir, an mbox in a file, -n 3 --delete: removed" "$(nfiles mdm)" 0

# File names with a blank (or a %): each message spooled once.
mkdir -p mdb/cur mdb/new
cp "$F/one.eml" "mdb/new/1001.a b.host"
cp "$F/one.eml" "mdb/cur/1002.a%20b.host:2,S"
cp "$F/one.eml" "mdb/new/1003.plain.host"
"$BIN/bfetch" -s spb mdb >out 2>err
is "Maildir, a blank in a name: all spooled" "$(wc -l <out | tr -d ' ')" 3
"$BIN/bfetch" -s spb mdb >out 2>err
is "Maildir, a blank in a name: not spooled again" \
    "$(wc -l <out | tr -d ' ')" 0
mv "mdb/new/1001.a b.host" "mdb/cur/1001.a b.host:2,S"
"$BIN/bfetch" -s spb mdb >out 2>err
is "Maildir, a blank in a name, then flagged: not spooled again" \
    "$(wc -l <out | tr -d ' ')" 0
# A state written before names were escaped still counts.
mkdir -p mdo/cur mdo/new spo
cp "$F/one.eml" mdo/new/1001.old.host
cp "$F/one.eml" mdo/new/1002.new.host
printf '# bfetch state 1\nmaildir:mdo\t1001.old.host\n' >spo/.bfetch-state
"$BIN/bfetch" -s spo mdo >out 2>err
is "Maildir, an older state file: what it names is not spooled again" \
    "$(cat out)" "$(ls spo/new | sed 's|^|spo/new/|')"
is "Maildir, an older state file: the new one only" \
    "$(wc -l <out | tr -d ' ')" 1

# ---- an mbox ----
cp "$F/three.mbox" box
"$BIN/bfetch" -s sp3 box >out 2>err
is "mbox: exit 0" "$?" 0
is "mbox: one path per message" "$(ids out | tr '\n' ' ')" \
    "<fetch-mbox-1@a.example> <fetch-mbox-2@b.example> <fetch-mbox-3@c.example> "
ok "mbox: the envelope line is not copied" sh -c "! grep -q '^From MAILER' \$(cat out)"
ok "mbox: untouched without --delete" cmp box "$F/three.mbox"
"$BIN/bfetch" -s sp3 -n 2 -d box >out 2>err
is "mbox -n 2 --delete: two messages" "$(wc -l <out | tr -d ' ')" 2
ok "mbox -n 2 --delete: not emptied, as one is left" cmp box "$F/three.mbox"
ok "mbox -n 2 --delete: says so" grep -q 'not emptied' err
"$BIN/bfetch" -s sp3 -d box >out 2>err
is "mbox --delete: exit 0" "$?" 0
is "mbox --delete: all messages" "$(wc -l <out | tr -d ' ')" 3
ok "mbox --delete: emptied" test ! -s box
ok "mbox --delete: no dot-lock left" test ! -e box.lock
"$BIN/bfetch" -s sp3 -d box >out 2>err
is "mbox --delete, now empty: exit 0" "$?" 0
ok "mbox --delete, now empty: nothing said" test ! -s err -a ! -s out
# A limit reached with the last message: everything was spooled.
cp "$F/three.mbox" box
"$BIN/bfetch" -s sp3 -n 3 -d box >out 2>err
is "mbox -n 3 --delete, three in it: three messages" \
    "$(wc -l <out | tr -d ' ')" 3
ok "mbox -n 3 --delete, three in it: emptied" test ! -s box
ok "mbox -n 3 --delete, three in it: nothing said" test ! -s err
cp "$F/three.mbox" box
"$BIN/bfetch" -s sp3 -n 1 -d box >out 2>err
"$BIN/bfetch" -s sp3 -n 2 -d box >out 2>err
is "mbox -n 1, then -n 2 --delete: two (all three, as it was not emptied)" \
    "$(wc -l <out | tr -d ' ')" 2
ok "mbox -n 1, then -n 2 --delete: not emptied" cmp box "$F/three.mbox"
cp "$F/one.eml" single.eml
cp "$F/one.eml" single2.eml
"$BIN/bfetch" -s sp3 -n 1 -d single.eml single2.eml >out 2>err
is "two message files, -n 1 --delete: one message" \
    "$(wc -l <out | tr -d ' ')" 1
ok "two message files, -n 1 --delete: the first is removed" \
    test ! -e single.eml
ok "two message files, -n 1 --delete: the second is kept" test -e single2.eml
rm single2.eml
cp "$F/three.mbox" box
: >box.lock
"$BIN/bfetch" -s sp3 -d box >out 2>err &
pid=$!
# It waits while the dot-lock is there, and goes on once it is gone.
rm box.lock
wait $pid
is "mbox --delete after the dot-lock went: exit 0" "$?" 0
ok "mbox --delete after the dot-lock went: emptied" test ! -s box
cp "$F/one.eml" single.eml
"$BIN/bfetch" -s sp3 -d single.eml >out 2>err
is "a message file --delete: exit 0" "$?" 0
ok "a message file --delete: removed" test ! -e single.eml
"$BIN/bfetch" -s sp3 nosuchfile >out 2>err
is "a missing file: exit 1" "$?" 1
ok "a missing file: says so" grep -q '^bfetch: nosuchfile: No such file' err

# ---- a PowerMTA accounting file is for bparse: none of it is spooled ----
cp "$FIX/acct/acct.csv" acct.csv
"$BIN/bfetch" -s spa -d acct.csv >out 2>err
is "accounting file --delete: exit 1" "$?" 1
is "accounting file --delete: says what it is" "$(cat err)" \
    "bfetch: acct.csv: an accounting file, not mail messages: give it to bparse"
ok "accounting file --delete: nothing printed" test ! -s out
is "accounting file --delete: nothing spooled" "$(nfiles spa/new)" 0
ok "accounting file --delete: kept as it was" cmp acct.csv "$FIX/acct/acct.csv"
mkdir -p mda/cur mda/new
cp "$FIX/acct/acct.csv" mda/new/1001.1.host
cp "$F/one.eml" mda/new/1002.1.host
"$BIN/bfetch" -s spa -d mda >out 2>err
is "accounting file in a Maildir --delete: exit 1" "$?" 1
ok "accounting file in a Maildir --delete: says so" \
    grep -q '^bfetch: mda/new/1001.1.host: an accounting file' err
is "accounting file in a Maildir --delete: only the message spooled" \
    "$(ids out)" "<fetch-one@mail.example.org>"
ok "accounting file in a Maildir --delete: kept" \
    cmp mda/new/1001.1.host "$FIX/acct/acct.csv"

# ---- the lock: one bfetch per spool ----
mkfifo release
flock sp3/.bfetch.lock sh -c 'read x <release' &
holder=$!
# The holder has the lock once flock -n fails.
while flock -n sp3/.bfetch.lock true; do :; done
"$BIN/bfetch" -s sp3 --no-wait "$F/three.mbox" >out 2>err
is "locked, --no-wait: exit 75" "$?" 75
is "locked, --no-wait: says so" "$(cat err)" \
    "bfetch: sp3: locked by another bfetch"
ok "locked, --no-wait: nothing spooled" test ! -s out
"$BIN/bfetch" -s sp3 "$F/three.mbox" >out 2>err &
waiter=$!
echo go >release
wait $holder
wait $waiter
is "locked, waiting: exit 0 once the lock is free" "$?" 0
is "locked, waiting: then it copies" "$(wc -l <out | tr -d ' ')" 3
# stdin mode takes no lock: an MTA must not wait for a long fetch.
flock sp3/.bfetch.lock sh -c 'read x <release' &
holder=$!
while flock -n sp3/.bfetch.lock true; do :; done
timeout 60 "$BIN/bfetch" -s sp3 - <"$F/one.eml" >out 2>err
is "stdin mode does not wait for the lock: exit 0" "$?" 0
ok "stdin mode does not wait for the lock: spooled" test -s out
echo go >release
wait $holder

# ---- what a killed writer left in tmp/ goes after 36 hours ----
: >sp3/tmp/old.1.host
: >sp3/tmp/new.1.host
touch -d '40 hours ago' sp3/tmp/old.1.host
touch -d '30 hours ago' sp3/tmp/new.1.host
"$BIN/bfetch" -s sp3 md >out 2>err
ok "tmp/: a file older than 36 hours is removed" test ! -e sp3/tmp/old.1.host
ok "tmp/: a younger one is kept" test -e sp3/tmp/new.1.host

# ---- the state file is the spool's ----
printf 'garbage\n' >sp3/.bfetch-state
"$BIN/bfetch" -s sp3 md >out 2>err
is "a damaged state file: exit 73" "$?" 73
ok "a damaged state file: says so" grep -q 'not a bfetch state file' err

done_testing
