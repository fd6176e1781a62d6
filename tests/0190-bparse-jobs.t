#!/bin/sh
# bparse -P: several processes give exactly what one gives (records in
# input order, errors in input order, the same exit status and totals);
# a worker that dies is reported and the exit status is 2.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
# A mix of inputs: mboxes, single messages of every family, a Maildir.
for i in 1 2 3 4 5 6 7 8; do
	cat "$FIX/sample.mbox" "$FIX/bounces.mbox"
done >mix.mbox
mkdir -p md/cur md/new md/tmp
cp "$FIX/dsn-postfix.eml" md/cur/1:2,S
cp "$FIX/exim.eml" md/new/2
cp "$FIX/vacation.eml" md/new/3
set -- mix.mbox "$FIX"/families/*.eml md "$FIX/acct/acct.csv" \
    "$FIX/sample.mbox"

"$BIN/bparse" -P 1 "$@" >one 2>one.err
is "one process: exit status 0" "$?" 0
ok "one process: records" test -s one
for n in 2 3 7; do
	"$BIN/bparse" -P "$n" "$@" >many 2>many.err
	is "-P $n: exit status 0" "$?" 0
	ok "-P $n: the same records in the same order" cmp one many
	ok "-P $n: the same report of passed-over accounting records" \
	    cmp one.err many.err
done
"$BIN/bparse" -j -P 1 "$@" >one.json
"$BIN/bparse" -j -P 3 "$@" >many.json
ok "-j -P 3: the same JSON lines" cmp one.json many.json
"$BIN/bparse" -P 1 mix.mbox >one
"$BIN/bparse" --jobs=2 mix.mbox >many
ok "--jobs=2: the same records" cmp one many

# Bad inputs among good ones: the same messages, in the same order.
cp "$FIX/dsn-delayed.eml" good1.eml
: >empty.eml
printf 'no header here\n' >note.txt
mkdir plaindir
set -- missing.eml good1.eml empty.eml mix.mbox plaindir note.txt good1.eml
"$BIN/bparse" -P 1 "$@" >one 2>one.err
is "bad inputs, one process: exit status 1" "$?" 1
is "bad inputs, one process: four messages" "$(wc -l <one.err)" 4
for n in 2 3 4; do
	"$BIN/bparse" -P "$n" "$@" >many 2>many.err
	is "bad inputs, -P $n: exit status 1" "$?" 1
	ok "bad inputs, -P $n: the same records" cmp one many
	ok "bad inputs, -P $n: the same errors in the same order" \
	    cmp one.err many.err
done

# Standard input is read by one process whatever -P says.
"$BIN/bparse" -P 4 - <good1.eml >many 2>many.err
is "- with -P 4: exit status 0" "$?" 0
is "- with -P 4: the message's records" "$(cut -f1 many | sort -u)" '\x2d'
printf '%s\n' good1.eml mix.mbox | "$BIN/bparse" -P 4 >many
"$BIN/bparse" -P 1 good1.eml mix.mbox >one
ok "path list with -P 4: the same records" cmp one many

# Without -P: a big input is shared out, a small one is not; the records
# are the same either way.
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do cat mix.mbox; done \
    >big.mbox
"$BIN/bparse" -P 1 big.mbox >one
"$BIN/bparse" big.mbox >many
is "no -P, big mbox: exit status 0" "$?" 0
ok "no -P, big mbox: the same records" cmp one many

# Usage errors.
for bad in 0 65 x ""; do
	"$BIN/bparse" -P "$bad" good1.eml >out 2>err
	is "-P '$bad': exit status 2" "$?" 2
	ok "-P '$bad': says why" grep -q '^bparse: -P' err
done

# A failed write of the output.
if [ -w /dev/full ]; then
	"$BIN/bparse" -P 2 big.mbox >/dev/full 2>err
	is "-P 2 to a full disk: exit status 2" "$?" 2
	ok "-P 2 to a full disk: says so" grep -q '^bparse: stdout: ' err
fi

# A worker killed while the output waits: the records before its first
# missing one come out, then an error, and exit status 2.
children() {	# the PIDs whose parent is $pid
	for s in /proc/[0-9]*/stat; do
		read -r line <"$s" 2>/dev/null || continue
		# after "(comm) ": the state, then the parent's PID
		set -- ${line##*) }
		[ "$2" = "$pid" ] || continue
		s=${s#/proc/}
		echo "${s%/stat}"
	done
}
if [ -r /proc/self/stat ] && mkfifo ff 2>/dev/null; then
	exec 3<>ff	# holds the FIFO open: bparse blocks on a full pipe
	"$BIN/bparse" -P 2 big.mbox >ff 2>err &
	pid=$!
	kids=
	for i in $(seq 1 100); do
		kids=$(children)
		[ "$(echo $kids | wc -w)" -ge 2 ] && break
		sleep 0.1
	done
	sleep 1
	victim=$(echo "$kids" | sort -n | tail -1)
	kill -9 "$victim" 2>/dev/null
	cat ff >out 3<&- &
	catpid=$!
	exec 3<&-
	wait "$pid"
	is "a worker killed: exit status 2" "$?" 2
	wait "$catpid"
	ok "a worker killed: says so" \
	    grep -q '^bparse: workers: worker 2 killed by signal 9; records are missing$' err
	ok "a worker killed: some records came out" test -s out
	ok "a worker killed: those are the first records, whole" \
	    cmp -n "$(wc -c <out)" out one
	ok "a worker killed: they end at a record's end" \
	    test "$(tail -c 1 out | od -An -c | tr -d ' ')" = '\n'
	ok "a worker killed: not all of them" test "$(wc -c <out)" -lt \
	    "$(wc -c <one)"
fi

# A Maildir that changes while the workers read it: mail comes in, and
# a mail reader moves it from new/ to cur/.  Every message that was
# there all along gives its records once, whatever the timing.
mkdir -p live/cur live/new live/tmp
i=0
while [ $i -lt 1500 ]; do
	cp "$FIX/dsn-postfix.eml" "live/cur/$i.static:2,S"
	i=$((i + 1))
done
(
	i=0
	while [ ! -e live.done ] && [ $i -lt 3000 ]; do
		cp "$FIX/dsn-postfix.eml" "live/tmp/$i.moving"
		mv "live/tmp/$i.moving" "live/new/$i.moving"
		mv "live/new/$i.moving" "live/cur/$i.moving:2,S" 2>/dev/null
		i=$((i + 1))
	done
) &
mover=$!
"$BIN/bparse" -P 2 live >live.out 2>live.err
rv=$?
touch live.done
wait "$mover"
is "a Maildir changing under -P 2: no worker lost" \
    "$(grep -c 'workers:' live.err)" 0
per=$("$BIN/bparse" "$FIX/dsn-postfix.eml" | wc -l)
is "a Maildir changing under -P 2: each message there all along, once" \
    "$(cut -f1 live.out | grep -c 'static:2,S$') $(cut -f1 live.out | grep 'static:2,S$' | sort -u | wc -l)" \
    "$((1500 * per)) 1500"
ok "a Maildir changing under -P 2: exit status 0 or 1 (moved away)" \
    test "$rv" -le 1

# An mbox that grows while the workers read it, as a live mailbox does:
# every worker reads it up to its size at the start, so they agree on
# its messages.  Each message there at the start gives its records once.
{ echo "From MAILER-DAEMON Tue Nov  4 15:01:17 2014"; cat "$FIX/dsn-postfix.eml"; echo; } >one.msg
i=0
while [ $i -lt 2000 ]; do cat one.msg; i=$((i + 1)); done >grow.mbox
start=$(wc -c <grow.mbox)
msg=$(cat one.msg)
(
	i=0
	while [ ! -e grow.done ] && [ $i -lt 30000 ]; do
		printf '%s\n' "$msg" >>grow.mbox
		i=$((i + 1))
	done
) &
grower=$!
while [ "$(wc -c <grow.mbox)" -eq "$start" ]; do sleep 0.01; done
"$BIN/bparse" -P 2 grow.mbox >grow.out 2>grow.err
rv=$?
touch grow.done
wait "$grower"
is "an mbox growing under -P 2: no worker lost" \
    "$(grep -c 'workers:' grow.err)" 0
ok "an mbox growing under -P 2: it grew meanwhile" \
    test "$(wc -c <grow.mbox)" -gt "$start"
is "an mbox growing under -P 2: each message there at the start, once" \
    "$(cut -f1 grow.out | sed 's/.*://' | awk -v s="$start" '$1 < s' | sort | uniq -c | awk '{ print $1 }' | sort | uniq -c | sed 's/^ *//')" \
    "2000 $per"
ok "an mbox growing under -P 2: exit status 0 or 1 (a message cut)" \
    test "$rv" -le 1

done_testing
