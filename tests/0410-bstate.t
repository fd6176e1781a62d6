#!/bin/sh
# bstate: check, filter, get, why, list, set and reset, the sent-mail
# log, expire, export and import, stats.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
tab=$(printf '\t')
DB=$T/state.tdb

rec() {	# rec SOURCE DATE RCPT CLASS REASON [STATUS [SMTP [ID]]]
	printf '%s\t%s\t%s\tfailed\t%s\t%s\tmx.example.org\t%s\tdsn\tdiag\t%s\t%s\n' \
	    "$1" "$2" "$3" "${6:--}" "${7:--}" "${8:--}" "$4" "$5"
}
bs() { "$BIN/bstate" -d "$DB" "$@"; }

# A small world: one address of each kind.
{
	rec m1 2024-03-01T10:00:00Z dead@s.example hard userunknown 5.1.1 550
	rec m2 2024-03-01T10:00:00Z full@s.example soft mailboxfull 4.2.2 452
	rec m3 2024-03-02T10:00:00Z full@s.example soft mailboxfull 4.2.2 452
	rec m4 2024-03-01T10:00:00Z once@s.example soft mailboxfull 4.2.2 452
	rec m5 2024-03-01T10:00:00Z grey@s.example soft blocked 4.7.1 450
	rec m6 2024-03-03T10:00:00Z angry@s.example complaint feedback
} >world.tsv
"$BIN/bscore" -d "$DB" world.tsv >/dev/null

# ---- check ----

bs check once@s.example grey@s.example nobody@s.example
is "check: mailable addresses: exit 0" "$?" 0
bs check once@s.example dead@s.example
is "check: one muted: exit 1" "$?" 1
bs check 'Dead Person <DEAD@S.Example>'
is "check: names and case do not matter" "$?" 1
bs check not-an-address 2>err
is "check: not an address: exit 2" "$?" 2
is "check: not an address: said so" "$(cat err)" "bstate: not-an-address: not a mail address"
bs check >/dev/null 2>&1
is "check: no address: usage, exit 2" "$?" 2

# ---- filter ----

printf 'Once <once@s.example>\ndead@s.example\n\nnew@s.example\n"Angry" <angry@s.example>\nno address here\nfull@s.example\n' >list.txt
bs filter <list.txt >out 2>err
rc=$?
is "filter: the mailable lines, as they were" "$(cat out)" "Once <once@s.example>
new@s.example"
is "filter: a line without an address: exit 1" "$rc" 1
is "filter: and it is reported" "$(cat err)" "bstate: -:6: no mail address"
bs filter -m list.txt >out 2>err
is "filter -m: the muted lines" "$(cat out)" 'dead@s.example
"Angry" <angry@s.example>
full@s.example'
is "filter -m: a file argument names its lines" "$(cat err)" "bstate: list.txt:6: no mail address"
printf 'a@s.example\n' >l1; printf 'dead@s.example\nb@s.example\n' >l2
is "filter: several files in order" "$(bs filter l1 l2)" "a@s.example
b@s.example"
bs filter missing.txt l1 >out 2>err
is "filter: a missing file: exit 1, the others read" "$? $(cat out)" "1 a@s.example"

# ---- get and why ----

bs get dead@s.example >out
is "get: the address line" "$(sed -n 1p out | cut -f1-4)" "addr${tab}dead@s.example${tab}invalid${tab}50"
is "get: and its event" "$(sed -n 2p out | cut -f1-3,5-9)" \
    "event${tab}dead@s.example${tab}1${tab}hard${tab}50${tab}counted${tab}invalid${tab}status"
bs get nobody@s.example >out
is "get: an unknown address: exit 1, nothing printed" "$? $(cat out)" "1 "

bs why full@s.example >out
is "why: exit 0" "$?" 0
ok "why: the state and since when" grep -q '^full@s.example: unreachable (muted) since 2024-03-02T10:00:00Z$' out
ok "why: the score against the policy" grep -q '^score 50 in the window; policy: threshold 50, window 100d' out
ok "why: each event with its policy line" grep -q '2024-03-01T10:00:00Z  soft 4.2.2 452 mailboxfull: 25 points, counted (policy: status 4.2.2 25) -> counting' out
ok "why: the event that muted it" grep -q 'counted (policy: status 4.2.2 25) -> unreachable' out
ok "why: the source" grep -q '^      source m3$' out
bs why grey@s.example >out
ok "why: a bounce of no points" grep -q 'soft 4.7.1 450 blocked: 0 points (policy: status 4.7.1 0) -> send' out
printf 'status 4.2.2 30\n' >p30.policy
bs -p p30.policy why full@s.example >out
ok "why -p: the limits of the policy given" grep -q 'policy: threshold 50, window 100d' out
ok "why -p: the points as they were given" grep -q '25 points, counted (policy: status 4.2.2 25)' out
bs why nobody@s.example >out
is "why: an unknown address: exit 1" "$?" 1
is "why: an unknown address is mailable" "$(cat out)" "nobody@s.example: send (mailable): no bounces recorded"

# ---- list ----

is "list: every address" "$(bs list | cut -f1,2 | sort | tr '\t\n' ': ')" \
    "angry@s.example:complained dead@s.example:invalid full@s.example:unreachable grey@s.example:send once@s.example:counting "
is "list -s: by state" "$(bs list -s invalid,unreachable | cut -f1 | sort | tr '\n' ' ')" \
    "dead@s.example full@s.example "
is "list -s muted" "$(bs list -s muted | cut -f1 | sort | tr '\n' ' ')" \
    "angry@s.example dead@s.example full@s.example "
is "list -s mailable -s invalid" "$(bs list -s mailable -s invalid | wc -l)" 3
is "list -S: since a date" "$(bs list -S 2024-03-02 | cut -f1 | sort | tr '\n' ' ')" \
    "angry@s.example full@s.example "
is "list: the fields" "$(bs list -s invalid)" \
    "dead@s.example${tab}invalid${tab}2024-03-01T10:00:00Z${tab}50${tab}userunknown"
bs list -s nosuch 2>err
is "list -s: an unknown state: exit 2" "$? $(cat err)" "2 bstate: nosuch: not a state"

# ---- set and reset ----

bs -t 2024-04-01T00:00:00Z set once@s.example onhold "on leave until May"
is "set: the state" "$(bs get once@s.example | sed -n 1p | cut -f3,5)" "onhold${tab}2024-04-01T00:00:00Z"
is "set: the note is kept in the history" \
    "$(bs get once@s.example | awk -F '\t' '$5 == "manual" { print $14 }')" "on leave until May"
ok "set: why shows the note" grep -q 'manual -> onhold: on leave until May' "$(bs why once@s.example >why.out; echo why.out)"
bs check once@s.example
is "set onhold: muted" "$?" 1
bs set once@s.example nosuchstate 2>err
is "set: an unknown state: exit 2" "$? $(cat err)" "2 bstate: nosuchstate: not a state"
bs set once@s.example 2>/dev/null
is "set: no state: exit 2" "$?" 2
bs -t 2024-04-02T00:00:00Z reset full@s.example "mailbox cleaned"
is "reset: send, score 0" "$(bs get full@s.example | sed -n 1p | cut -f3,4)" "send${tab}0"
is "reset: one event left, the reset" \
    "$(bs get full@s.example | sed 1d | cut -f5,8,14 | tr '\t' ' ')" "manual send mailbox cleaned"
"$BIN/bscore" -d "$DB" world.tsv >out
is "reset: the old records change nothing" "$(cat out)" ""

# ---- the sent-mail log ----

printf '# a comment\nid-1\tone@s.example\n<id-2>\tTwo <TWO@s.example>\t2024-01-01T00:00:00Z\nid-3\tno-address\nid-4\n\tnoid@s.example\nid-5\tfive@s.example\tyesterday-ish\n' >sent.txt
bs -t 2024-05-01T00:00:00Z sent sent.txt 2>err
is "sent: bad lines: exit 1" "$?" 1
is "sent: bad lines are reported" "$(cat err)" "bstate: sent.txt:4: no mail address
bstate: sent.txt:5: expected id TAB address [TAB date]
bstate: sent.txt:6: expected id TAB address [TAB date]
bstate: sent.txt:7: not a date"
is "sent: the entries, with their dates" "$(bs export | grep '^sent' | sort)" \
    "sent${tab}id-1${tab}one@s.example${tab}2024-05-01T00:00:00Z
sent${tab}id-2${tab}two@s.example${tab}2024-01-01T00:00:00Z"

# ---- expire ----

printf 'recover 30d\n' >recover.policy
{
	rec e1 2024-01-01T10:00:00Z old@s.example soft mailboxfull 4.2.2 452
	rec e2 2024-01-02T10:00:00Z old@s.example soft mailboxfull 4.2.2 452
	rec e3 2024-04-20T10:00:00Z cnt@s.example soft mailboxfull 4.2.2 452
} | "$BIN/bscore" -d "$DB" >/dev/null
bs -p recover.policy -t 2024-05-01T00:00:00Z expire >out
is "expire: recovery is printed as a transition" "$(cut -f1-5 out)" \
    "2024-05-01T00:00:00Z${tab}old@s.example${tab}unreachable${tab}send${tab}0"
is "expire: the events older than the window are gone" \
    "$(bs get old@s.example | sed 1d | cut -f5,14 | tr '\t' ' ')" \
    "policy recovered: no bounces for the quiet period"
is "expire: a recent event stays" "$(bs get cnt@s.example | sed 1d | wc -l)" 1
is "expire: the sent-log entry older than the window is gone" \
    "$(bs export | grep '^sent' | cut -f2)" "id-1"
bs -t 2024-08-01T00:00:00Z expire >out
is "expire: counting -> send once the window is empty" "$(cut -f2-4 out)" \
    "cnt@s.example${tab}counting${tab}send"
bs -t 2024-08-01T00:00:00Z expire >out
is "expire again: nothing to do" "$(cat out)" ""
is "expire: the event that muted an address stays" \
    "$(bs get dead@s.example | sed 1d | cut -f4,5 | tr '\t' ' ')" "2024-03-01T10:00:00Z hard"
is "expire: the note of a manual state stays" \
    "$(bs get once@s.example | sed 1d | cut -f5,14 | tr '\t' ' ')" "manual on leave until May"
"$BIN/bscore" -d "$DB" world.tsv >out
is "expire: records older than what was dropped change nothing" "$(cat out)" ""
bs expire extra 2>/dev/null
is "expire: an argument is a usage error" "$?" 2

# Of the old events of a muted address only the one that muted it
# stays; it takes the number of the newest dropped, and what was dropped
# stays known.
X=$T/muted.tdb
for d in 02 03 04 05 06; do
	rec h$d 2024-01-${d}T00:00:00Z inv@s.example hard userunknown 5.1.1 550
done >inv.tsv
"$BIN/bscore" -d "$X" inv.tsv >/dev/null
"$BIN/bstate" -d "$X" -t 2025-06-01T00:00:00Z expire >out
is "expire: the old events after the muting one go too" \
    "$("$BIN/bstate" -d "$X" get inv@s.example | sed 1d | cut -f3,4,13 | tr '\t\n' '  ')" \
    "5 2024-01-02T00:00:00Z h02 "
is "expire: the muting event still explains" \
    "$("$BIN/bstate" -d "$X" why inv@s.example | sed -n 1p)" \
    "inv@s.example: invalid (muted) since 2024-01-02T00:00:00Z"
"$BIN/bscore" -d "$X" inv.tsv >out
is "expire: the dropped events stay known" \
    "$(cat out; "$BIN/bstate" -d "$X" get inv@s.example | sed 1d | wc -l)" 1
"$BIN/bstate" -d "$X" export | "$BIN/bstate" -d "$T/muted2.tdb" import
is "expire: the renumbered event goes through export and import" \
    "$("$BIN/bstate" -d "$T/muted2.tdb" export | cksum)" "$("$BIN/bstate" -d "$X" export | cksum)"
# A bounce dated ahead of now (a remote clock ahead) is in the window.
X=$T/ahead.tdb
rec f1 "$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)" ahead@s.example soft mailboxfull 4.2.2 452 |
    "$BIN/bscore" -d "$X" >/dev/null
"$BIN/bstate" -d "$X" expire >out
is "expire: a bounce dated later than now still counts" \
    "$(cat out)$("$BIN/bstate" -d "$X" get ahead@s.example | sed -n 1p | cut -f3,4)" "counting${tab}25"

# ---- export and import ----

bs export >exp1
is "export: the header line" "$(sed -n 1p exp1)" "# bounce-state 1"
"$BIN/bstate" -d "$T/copy.tdb" import exp1
is "import: exit 0" "$?" 0
"$BIN/bstate" -d "$T/copy.tdb" export >exp2
is "export, import, export: the same lines" "$(sort exp1 | cksum)" "$(sort exp2 | cksum)"
is "export, import, export: as many lines" "$(wc -l <exp2)" "$(wc -l <exp1)"
is "the copy answers the same" "$("$BIN/bstate" -d "$T/copy.tdb" why dead@s.example)" \
    "$(bs why dead@s.example)"
"$BIN/bstate" -d "$T/copy.tdb" import exp1 2>err
is "import into a file in use: exit 2" "$? $(cat err)" \
    "2 bstate: $T/copy.tdb: not empty: import needs a new state file"
sed 1d exp1 | "$BIN/bstate" -d "$T/c2.tdb" import 2>err
is "import without the header: exit 2" "$? $(cat err)" \
    "2 bstate: -:1: not a bstate export (no '# bounce-state 1' line)"
{ sed -n 1,3p exp1; printf 'addr\tx@s.example\tsend\n'; } | "$BIN/bstate" -d "$T/c3.tdb" import 2>err
is "import of a malformed line: exit 2 with its line" "$? $(cat err)" "2 bstate: -:4: bad addr line"
is "import of a malformed line: no file is left" "$(ls "$T" | grep -c '^c3\.tdb')" 0
# A bad line after batches went in: a new file is made whole or not at
# all, so the import can be run again once the line is mended.
sed -n 's/^addr\tdead@s.example\t/&/p' exp1 >line
awk -v l="$(cat line)" 'BEGIN { print "# bounce-state 1"
	for (i = 0; i < 25000; i++) { x = l; sub(/dead@/, "d" i "@", x); print x } }' >big.exp
{ cat big.exp; printf 'addr\tx@s.example\tsend\n'; } >bad.exp
"$BIN/bstate" -d "$T/c5.tdb" import bad.exp 2>err
is "import, a bad line at the end: exit 2 with its line" "$? $(cat err)" \
    "2 bstate: bad.exp:25002: bad addr line"
is "import, a bad line at the end: no file is left" "$(ls "$T" | grep -c '^c5\.tdb')" 0
"$BIN/bstate" -d "$T/c5.tdb" import big.exp
is "import again, mended: exit 0" "$?" 0
is "import again, mended: every address" "$("$BIN/bstate" -d "$T/c5.tdb" list | wc -l)" 25000
is "import again, mended: no temporary file is left" "$(ls "$T" | grep -c '^c5\.tdb')" 1
# kill -9 in the middle of an import: the new file is made where it has
# no name until it is whole, so nothing is left behind.  The import
# waits for more input once the pipe has taken most of big.exp, long
# after it began the file.
case $(stat -f -c %T "$T") in
ext2/ext3|tmpfs|xfs|btrfs)
	mkdir kill && mkfifo kill.fifo
	"$BIN/bstate" -d "$T/kill/s.tdb" import - <kill.fifo 2>/dev/null &
	pid=$!
	exec 3>kill.fifo
	cat big.exp >&3
	kill -9 "$pid"
	wait "$pid"
	is "import killed in the middle: killed" "$?" 137
	exec 3>&-
	is "import killed in the middle: no file is left" "$(ls -A kill)" ""
	;;
*)
	echo "# skip: no kill test of import on a $(stat -f -c %T "$T") file system"
esac
{ sed -n 1p exp1; printf 'event\tx@s.example\t1\t2024-01-01T00:00:00Z\thard\t50\tcounted\tinvalid\tstatus\t5.1.1\t550\tuserunknown\tsrc\t-\tnothex\n'; } |
    "$BIN/bstate" -d "$T/c4.tdb" import 2>err
is "import of a bad event: exit 2" "$? $(cat err)" "2 bstate: -:2: bad event line"
# Every event belongs to the addr line above it, within its numbers.
ev=$(grep -m1 "^event${tab}dead@s.example${tab}" exp1)
ad=$(grep -m1 "^addr${tab}dead@s.example${tab}" exp1)
{ sed -n 1p exp1; echo "$ev"; } | "$BIN/bstate" -d "$T/c6.tdb" import 2>err
is "import of an event before any addr line: exit 2" "$? $(cat err)" \
    "2 bstate: -:2: event line not after its address's addr line"
{ sed -n 1p exp1; echo "$ad"; grep -m1 "^addr${tab}full@" exp1; echo "$ev"; } |
    "$BIN/bstate" -d "$T/c6.tdb" import 2>err
is "import of an event under another address: exit 2" "$? $(cat err)" \
    "2 bstate: -:4: event line not after its address's addr line"
{ sed -n 1p exp1; echo "$ad"; echo "$ev" | awk -F '\t' -v OFS='\t' '{ $3 = 99; print }'; } |
    "$BIN/bstate" -d "$T/c6.tdb" import 2>err
is "import of an event outside its address's numbers: exit 2" "$? $(cat err)" \
    "2 bstate: -:3: event number outside its address's events"
{ sed -n 1p exp1; echo "$ad" | awk -F '\t' -v OFS='\t' '{ $8 = 9223372036854775799; print }'; } |
    "$BIN/bstate" -d "$T/c6.tdb" import 2>err
is "import of a count near the limit of the type: exit 2" "$? $(cat err)" \
    "2 bstate: -:2: bad addr line"
is "import of bad lines: no file is left" "$(ls "$T" | grep -c '^c6\.tdb')" 0

# ---- stats ----

bs stats >out
is "stats: addresses by state" "$(grep '^state' out | sort)" \
"state${tab}complained${tab}1
state${tab}invalid${tab}1
state${tab}onhold${tab}1
state${tab}send${tab}4"
is "stats: by domain" "$(grep '^domain' out)" "domain${tab}s.example${tab}7"
is "stats: kept events by class" "$(grep '^class' out | cut -f2 | sort | tr '\n' ' ')" \
    "complaint hard manual policy "
is "stats: kept bounces by reason" "$(grep '^reason' out | cut -f2 | sort | tr '\n' ' ')" \
    "feedback userunknown "
is "stats: days in order" "$(grep '^day' out | cut -f2 | tr '\n' ' ')" \
    "2024-03-01 2024-03-03 2024-04-01 2024-05-01 2024-08-01 "
is "stats state: one section" "$(bs stats state | cut -f1 | sort -u)" state
bs stats nonsense 2>/dev/null
is "stats: an unknown section: exit 2" "$?" 2
rec r1 2024-03-01T10:00:00Z tabs@t.example soft 'odd\treason\nday\t1999-01-01' |
    "$BIN/bscore" -d "$T/odd.tdb" >/dev/null
is "stats: fields are escaped as in records" \
    "$("$BIN/bstate" -d "$T/odd.tdb" stats reason day)" \
    "reason${tab}odd\\treason\\nday\\t1999-01-01${tab}1
day${tab}2024-03-01${tab}1"

# ---- usage ----

bs 2>/dev/null
is "no command: exit 2" "$?" 2
bs frobnicate 2>err
is "an unknown command: exit 2" "$?" 2
ok "an unknown command: said so" grep -q '^bstate: frobnicate: unknown command$' err
"$BIN/bstate" -h >out
is "-h: exit 0" "$?" 0
ok "-h: the usage" grep -q '^usage: bstate ' out
"$BIN/bstate" -d "$T/none.tdb" check a@s.example 2>err
is "a missing state file: exit 2" "$? $(cat err)" "2 bstate: $T/none.tdb: No such file or directory"

done_testing
