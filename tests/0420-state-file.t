#!/bin/sh
# The state file: where it is, its format header, what tdbdump shows,
# and files that are not state files or are damaged: a clear error and
# exit 2, never a crash.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
command -v tdbdump >/dev/null 2>&1 && command -v tdbtool >/dev/null 2>&1 &&
    command -v tdbrestore >/dev/null 2>&1 ||
    skip_all "tdb-tools (tdbdump, tdbtool, tdbrestore) are not installed"

rec() {	# rec SOURCE RCPT: a hard bounce
	printf '%s\t2024-03-01T10:00:00Z\t%s\tfailed\t5.1.1\t550\tmx\t-\tdsn\tdiag\thard\tuserunknown\n' "$1" "$2"
}
rec m1 anna@f.example >one.tsv

# Every way to fail: exit 2 and one line on stderr naming the file.
fails() {	# fails DESCRIPTION FILE MESSAGE
	"$BIN/bscore" -d "$2" one.tsv >out 2>err
	is "$1: bscore exits 2" "$?" 2
	is "$1: bscore says why" "$(cat err)" "bscore: $2: $3"
	"$BIN/bstate" -d "$2" check anna@f.example >out 2>err
	is "$1: bstate check exits 2" "$?" 2
	is "$1: bstate says why" "$(cat err)" "bstate: $2: $3"
}

# ---- where the file is ----

mkdir home state
HOME=$T/home XDG_STATE_HOME= BOUNCE_DB= "$BIN/bscore" one.tsv >/dev/null
ok "default: ~/.local/state/bounce/state.tdb, directory created" \
    test -f home/.local/state/bounce/state.tdb
HOME=$T/home XDG_STATE_HOME=$T/state BOUNCE_DB= "$BIN/bscore" one.tsv >/dev/null
ok "default: \$XDG_STATE_HOME/bounce/state.tdb" test -f state/bounce/state.tdb
BOUNCE_DB=$T/env.tdb "$BIN/bscore" one.tsv >/dev/null
ok "BOUNCE_DB names the file" test -f env.tdb
BOUNCE_DB=$T/env.tdb "$BIN/bstate" check anna@f.example
is "BOUNCE_DB: bstate reads the same file" "$?" 1
BOUNCE_DB=$T/env.tdb "$BIN/bstate" -d "$T/home/.local/state/bounce/state.tdb" check anna@f.example
is "-d wins over BOUNCE_DB" "$?" 1

# ---- what is in it ----

"$BIN/bscore" -d s.tdb one.tsv >/dev/null
tdbdump s.tdb >dump
ok "tdbdump: the format header" grep -q '^data(14) = "bounce-state 3"$' dump
ok "tdbdump: the address key" grep -q '^key(19) = "addr:anna@f.example"$' dump
# Format 3: dates in seconds since 1970, '=' for the date of the last
# event, and empty fields in the event line for what the summary says.
ok "tdbdump: a readable summary" grep -q '^data([0-9]*) = "3\\09invalid\\0950\\09=\\09=\\091709287200\\091\\091\\091\\090\\090\\090\\095\.1\.1\\09userunknown\\09-\\091\\092\\091\\09[0-9]*\\0A' dump
ok "tdbdump: the event, a line of the address's entry" \
    grep -q '\\0A1\\09=\\09h\\0950\\09c\\09\\09status\\09\\09550\\09\\09m1\\09- *"$' dump
is "tdbdump: no event record for it" "$(grep -c '"event:' dump)" 0
is "tdbtool: the file checks out" "$(tdbtool s.tdb check)" \
    "Database integrity is OK and has 2 records."

# ---- a file of format 1 ----

# Format 1 kept every event in an event record of its own and padded
# summaries to 192 bytes: read as it is, made format 3 by a writer.
restore() {	# restore KEY VALUE PADDED-SIZE: one entry for tdbrestore
	while [ "${#2}" -lt "$3" ]; do set -- "$1" "$2 " "$3"; done
	printf '{\nkey(%d) = "%s"\ndata(%d) = "%s"\n}\n' "${#1}" "$1" "${#2}" \
	    "$(printf '%s' "$2" | sed 's/\t/\\09/g')"
}
{
	restore bounce:format "bounce-state 1" 14
	restore addr:olga@f.example "$(printf '1\tinvalid\t50\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t1\t1\t1\t0\t0\t0\t5.1.1\tuserunknown\t-\t1\t2')" 192
	restore event:olga@f.example:1 "$(printf '1\t2024-03-01T10:00:00Z\thard\t50\tcounted\tinvalid\tstatus\t5.1.1\t550\tuserunknown\tm1\t-\t0123456789abcdef')" 128
} | tdbrestore v1.tdb
"$BIN/bstate" -d v1.tdb check olga@f.example
is "format 1: read" "$?" 1
is "format 1: its event" "$("$BIN/bstate" -d v1.tdb export | grep -c '^event	olga@f.example	1	2024-03-01T10:00:00Z	hard')" 1
is "format 1: readers leave it as it is" "$(tdbdump v1.tdb | grep -c 'bounce-state 1')" 1
printf 'm2\t2024-03-02T10:00:00Z\tolga@f.example\tfailed\t4.2.2\t452\tmx\t-\tdsn\tdiag\tsoft\tmailboxfull\n' |
    "$BIN/bscore" -d v1.tdb >out
is "format 1: bscore applies a bounce" "$? $(cat out)" "0 "
is "format 1: a writer makes it format 3" "$(tdbdump v1.tdb | grep -c 'bounce-state 3')" 1
is "format 1: both events" "$("$BIN/bstate" -d v1.tdb export | cut -f1-5 | sed -n '3,$p')" \
    "$(printf 'event\tolga@f.example\t1\t2024-03-01T10:00:00Z\thard\nevent\tolga@f.example\t2\t2024-03-02T10:00:00Z\tsoft')"
is "format 1: the summary" "$("$BIN/bstate" -d v1.tdb export | sed -n 2p | cut -f3,8,11,18)" \
    "$(printf 'invalid\t2\t1\t3')"
# The old event stays an event record; the new one is a line of the
# entry, which is rewritten in its place.
is "format 1: the new event is a line of the entry" \
    "$(tdbdump v1.tdb | grep -c '^key([0-9]*) = "event:')" 1
is "format 1: the entry is now format 3" \
    "$(tdbdump -k addr:olga@f.example v1.tdb | cut -c1-14)" '3\09invalid\09'
is "format 1: the file checks out" "$(tdbtool v1.tdb check)" \
    "Database integrity is OK and has 3 records."

# ---- a file of format 2 ----

# Format 2 kept the newest events in the entry, with ISO dates and
# every field spelled out: read as it is, rewritten as format 3.
{
	restore bounce:format "bounce-state 2" 14
	restore addr:pia@f.example "$(printf '2\tinvalid\t50\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t2024-03-01T10:00:00Z\t1\t1\t1\t0\t0\t0\t5.1.1\tuserunknown\t-\t1\t2\t1\n1\t2024-03-01T10:00:00Z\thard\t50\tcounted\tinvalid\tstatus\t5.1.1\t550\tuserunknown\tm1\t-\t0123456789abcdef')" 384
} | sed 's/\\n/\\0A/' | tdbrestore v2.tdb
"$BIN/bstate" -d v2.tdb export >v2.exp
is "format 2: read" "$(sed -n '2,$p' v2.exp | cut -f1-5)" \
    "$(printf 'addr\tpia@f.example\tinvalid\t50\t2024-03-01T10:00:00Z\nevent\tpia@f.example\t1\t2024-03-01T10:00:00Z\thard')"
is "format 2: its key as it was" "$(sed -n 3p v2.exp | cut -f15)" 0123456789abcdef
printf 'm2\t2024-03-02T10:00:00Z\tpia@f.example\tfailed\t4.2.2\t452\tmx\t-\tdsn\tdiag\tsoft\tmailboxfull\n' |
    "$BIN/bscore" -d v2.tdb >out
is "format 2: bscore applies a bounce" "$? $(cat out)" "0 "
is "format 2: a writer makes it format 3" "$(tdbdump v2.tdb | grep -c 'bounce-state 3')" 1
is "format 2: the entry is rewritten in place, in format 3" \
    "$(tdbdump -k addr:pia@f.example v2.tdb | cut -c1-14) $(tdbdump v2.tdb | grep -c '^key')" '3\09invalid\09 2'
"$BIN/bstate" -d v2.tdb export >v2.exp2
is "format 2: the old event is unchanged, its key too" "$(sed -n 3p v2.exp2)" "$(sed -n 3p v2.exp)"
is "format 2: the new event" "$(sed -n 4p v2.exp2 | cut -f1-5)" \
    "$(printf 'event\tpia@f.example\t2\t2024-03-02T10:00:00Z\tsoft')"
is "format 2: the file checks out" "$(tdbtool v2.tdb check)" \
    "Database integrity is OK and has 2 records."

# A record's identity is a hash of its source, recipient and date as
# written: an entry leaves it out when the ISO date gives the same, and
# keeps it when the record had its date in another form.
printf 'm9\tFri, 01 Mar 2024 10:00:00 +0000\tzed@f.example\tfailed\t4.2.2\t452\tmx\t-\tdsn\tdiag\tsoft\tmailboxfull\n' >rfc.tsv
"$BIN/bscore" -d k.tdb rfc.tsv >/dev/null
"$BIN/bscore" -d k.tdb rfc.tsv >out
is "a date in another form: the same record again changes nothing" "$? $(cat out)" "0 "
lastfield() {	# lastfield KEY FILE: the last field of a value, unpadded
	tdbdump -k "$1" "$2" | sed 's/ *$//; s/.*\\09//'
}
is "a date in another form: the entry keeps the identity" \
    "$(lastfield addr:zed@f.example k.tdb | grep -Ec '^[0-9a-f]{16}$')" 1
is "an ISO date: the entry leaves the identity out" \
    "$(lastfield addr:anna@f.example s.tdb)" "-"
"$BIN/bstate" -d k.tdb export >k.exp
"$BIN/bstate" -d k2.tdb import k.exp
is "a date in another form: export, import and export again" \
    "$("$BIN/bstate" -d k2.tdb export)" "$(cat k.exp)"

# ---- not state files ----

echo "just some text" >text.tdb
fails "a text file" "$T/text.tdb" "not a bounce state file (not a TDB file)"
is "a text file is left alone" "$(cat text.tdb)" "just some text"

printf '{\nkey(5) = "hello"\ndata(5) = "world"\n}\n' | tdbrestore foreign.tdb
fails "a TDB of someone else's" "$T/foreign.tdb" "not a bounce state file"
is "a foreign TDB is left alone" "$(tdbdump foreign.tdb | grep -c key)" 1

printf '{\nkey(13) = "bounce:format"\ndata(14) = "bounce-state 7"\n}\n' | tdbrestore newer.tdb
fails "a newer format" "$T/newer.tdb" "state file format 7 is newer than this program's (3)"
printf '{\nkey(13) = "bounce:format"\ndata(9) = "something"\n}\n' | tdbrestore other.tdb
fails "another header" "$T/other.tdb" "not a bounce state file"

mkdir dir.tdb
fails "a directory" "$T/dir.tdb" "Is a directory"

: >empty.tdb
"$BIN/bscore" -d empty.tdb one.tsv >/dev/null
is "an empty file becomes a state file" "$?" 0
"$BIN/bstate" -d empty.tdb check anna@f.example
is "and answers" "$?" 1
printf '' | tdbrestore blank.tdb
"$BIN/bstate" -d blank.tdb check anna@f.example
is "an empty TDB reads as an empty state" "$?" 0
"$BIN/bscore" -d blank.tdb one.tsv >/dev/null
is "an empty TDB gets the header" "$(tdbdump blank.tdb | grep -c 'bounce-state 3')" 1

# ---- damaged files ----

"$BIN/bscore" -d s.tdb one.tsv >/dev/null
for i in 1 2 3 4 5 6 7 8; do rec "m$i" "u$i@f.example"; done | "$BIN/bscore" -d d.tdb >/dev/null

cp d.tdb bad1.tdb
tdbtool bad1.tdb store addr:u1@f.example garbage >/dev/null
"$BIN/bstate" -d bad1.tdb check u1@f.example 2>err
is "a damaged summary: check exits 2" "$?" 2
is "a damaged summary: named" "$(cat err)" "bstate: bad1.tdb: damaged entry addr:u1@f.example"
"$BIN/bstate" -d bad1.tdb check u2@f.example
is "a damaged summary: other addresses still answer" "$?" 1
"$BIN/bstate" -d bad1.tdb export >/dev/null 2>err
is "a damaged summary: export exits 2" "$? $(cat err)" \
    "2 bstate: bad1.tdb: damaged entry addr:u1@f.example"
rec again u1@f.example | "$BIN/bscore" -d bad1.tdb >/dev/null 2>err
is "a damaged summary: bscore exits 2" "$? $(cat err)" \
    "2 bscore: bad1.tdb: damaged entry addr:u1@f.example"

# An event in the address's entry, and one that moved out of it into
# an event record.
cp d.tdb bad2.tdb
sum=$("$BIN/bstate" -d bad2.tdb get u3@f.example | sed -n '1s/^addr\tu3@f\.example\t//p')
tdbtool bad2.tdb store addr:u3@f.example "$(printf '2\t%s\t1\n1\tnot\tan\tevent' "$sum")" >/dev/null
"$BIN/bstate" -d bad2.tdb check u3@f.example
is "a damaged event in an entry: the state still answers" "$?" 1
"$BIN/bstate" -d bad2.tdb why u3@f.example >/dev/null 2>err
is "a damaged event in an entry: why exits 2 naming the entry" "$? $(cat err)" \
    "2 bstate: bad2.tdb: damaged entry addr:u3@f.example"
# Format 3: an event line with a class that is not one of its letters,
# and a summary whose size is not a number.
v=$(tdbdump -k addr:u4@f.example bad2.tdb | sed 's/ *$//; s/\\09/\t/g; s/\\0A/\n/g')
tdbtool bad2.tdb store addr:u4@f.example "$(printf '%s' "$v" | sed '2s/^\(1\t=\t\)h/\1x/')" >/dev/null
"$BIN/bstate" -d bad2.tdb why u4@f.example >/dev/null 2>err
is "format 3: a bad class letter is damage" "$? $(cat err)" \
    "2 bstate: bad2.tdb: damaged entry addr:u4@f.example"
tdbtool bad2.tdb store addr:u5@f.example "$(printf '%s' "$v" | sed '1s/\t[0-9]*$/\tbig/')" >/dev/null
"$BIN/bstate" -d bad2.tdb why u5@f.example >/dev/null 2>err
is "format 3: a bad size is damage" "$? $(cat err)" \
    "2 bstate: bad2.tdb: damaged entry addr:u5@f.example"
# A date before 1970, which no export line could say, and more events
# than a policy may keep (an entry could claim billions, and have them
# all looked for): damage.
tdbtool bad2.tdb store addr:u6@f.example "$(printf '%s' "$v" | sed '1s/^\(3\t[^\t]*\t[^\t]*\t[^\t]*\t[^\t]*\t\)[0-9]*/\1-1704189600/')" >/dev/null
tdbtool bad2.tdb store addr:u7@f.example "$(printf '%s' "$v" | sed '1s/\t1\t2\t1\t\([0-9]*\)$/\t1\t20001\t1\t\1/')" >/dev/null
for i in 6 7; do
	"$BIN/bstate" -d bad2.tdb why u$i@f.example >/dev/null 2>err
	echo "$? $(cat err)"
	rec "again$i" u$i@f.example | "$BIN/bscore" -d bad2.tdb >/dev/null 2>err
	echo "$? $(cat err)"
done >out
is "format 3: a date before 1970, too many events: damage" "$(cat out)" \
    "$(for i in 6 7; do
	echo "2 bstate: bad2.tdb: damaged entry addr:u$i@f.example"
	echo "2 bscore: bad2.tdb: damaged entry addr:u$i@f.example"
    done)"
# A size beyond the value (the value was padded to its size) is wrong,
# and costs room, not data: the entry is rewritten to fit, not padded to
# the size it claims.
tdbtool bad2.tdb store addr:u8@f.example "$(printf '%s' "$v" | sed '1s/\t[0-9]*$/\t100000/')" >/dev/null
rec again8 u8@f.example | "$BIN/bscore" -d bad2.tdb >/dev/null 2>err
is "format 3: a size beyond the value: bscore applies" "$? $(cat err)" "0 "
is "format 3: a size beyond the value: not padded to it" \
    "$(tdbdump -k addr:u8@f.example bad2.tdb | wc -c | awk '{ print ($1 < 1000) }') $("$BIN/bstate" -d bad2.tdb get u8@f.example | grep -c '^event')" "1 2"
for i in 1 2 3 4 5 6; do rec "many-$i" w@f.example; done | "$BIN/bscore" -d bad2.tdb >/dev/null
# The entry had room for the next event and TDB's own slack: it keeps
# the newest three, the three before are event records.
is "six events: the oldest are event records" \
    "$(tdbdump bad2.tdb | grep -c '^key([0-9]*) = "event:w@f.example:[0-9]*"$')" 3
tdbtool bad2.tdb store event:w@f.example:1 "$(printf '1\tnot\tan\tevent')" >/dev/null
"$BIN/bstate" -d bad2.tdb why w@f.example >/dev/null 2>err
is "a damaged event record: why exits 2 naming it" "$? $(cat err)" \
    "2 bstate: bad2.tdb: damaged entry event:w@f.example:1"

# An entry whose events skip numbers (bstate expire keeps the event that
# set a state and drops the older ones), and an event record under a
# skipped number, which only damage leaves: as the entry's events move
# out into event records, that record must not come back as an event.
tdbtool bad2.tdb store addr:x@f.example "$(printf '%s' "$v" | sed '1s/\t1\t2\t1\t\([0-9]*\)$/\t1\t4\t1\t\1/; 2s/^1\t/3\t/')" >/dev/null
tdbtool bad2.tdb store event:x@f.example:2 "$(printf '1\t2024-01-01T10:00:00Z\tsoft\t25\tcounted\tcounting\tstatus\t4.2.2\t452\tmailboxfull\tstray\t-\t0123456789abcdef')" >/dev/null
is "numbers skipped: the entry's events" \
    "$("$BIN/bstate" -d bad2.tdb get x@f.example | awk -F'\t' '$1 == "event" { printf "%s ", $3 }')" "3 "
for i in 1 2 3; do rec "gap-$i" x@f.example; done | "$BIN/bscore" -d bad2.tdb >/dev/null
is "numbers skipped: events moved out, the stray record is gone" \
    "$("$BIN/bstate" -d bad2.tdb get x@f.example | awk -F'\t' '$1 == "event" { printf "%s ", $3 }')$(tdbdump bad2.tdb | grep -c '^key([0-9]*) = "event:x@f.example:2"$')" \
    "3 4 5 6 0"

# Overwrite the record header in front of a key: TDB's own check fails.
# The file may also hold an old copy of the record, kept for crash
# recovery: damage every copy.
cp d.tdb bad3.tdb
for off in $(grep -boa 'addr:u5@f.example' bad3.tdb | sed 's/:.*//'); do
	printf 'XXXXXXXXXXXXXXXXXXXXXXXX' | dd of=bad3.tdb bs=1 seek=$((off - 24)) conv=notrunc 2>/dev/null
done
"$BIN/bstate" -d bad3.tdb export >/dev/null 2>err
rc=$?
is "a damaged record header: export exits 2" "$rc" 2
ok "a damaged record header: reported as damage" grep -q '^bstate: bad3.tdb: damaged state file (' err
rec again u5@f.example | "$BIN/bscore" -d bad3.tdb >/dev/null 2>err
is "a damaged record header: bscore exits 2" "$?" 2

# A header of garbage, and a file cut short.
cp d.tdb bad4.tdb
printf 'TDB file\n\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377' |
    dd of=bad4.tdb bs=1 conv=notrunc 2>/dev/null
"$BIN/bstate" -d bad4.tdb check u1@f.example 2>err
rc=$?
is "a damaged TDB header: exit 2" "$rc" 2
ok "a damaged TDB header: reported as damage" grep -q '^bstate: bad4.tdb: damaged state file (' err
cp d.tdb bad5.tdb
truncate -s 4100000 bad5.tdb
"$BIN/bstate" -d bad5.tdb export >/dev/null 2>err
is "a file cut short: export exits 2" "$?" 2
"$BIN/bscore" -d bad5.tdb one.tsv >/dev/null 2>err
is "a file cut short: bscore exits 2" "$?" 2
cp d.tdb bad6.tdb
truncate -s 100 bad6.tdb
"$BIN/bstate" -d bad6.tdb check u1@f.example 2>err
is "a file cut to 100 bytes: exit 2" "$?" 2

# A file that cannot be written: readers work, writers say so.
if [ "$(id -u)" != 0 ]; then
	cp d.tdb ro.tdb && chmod 444 ro.tdb
	"$BIN/bstate" -d ro.tdb check u1@f.example
	is "a read-only file: bstate check works" "$?" 1
	"$BIN/bscore" -d ro.tdb one.tsv 2>err
	is "a read-only file: bscore exits 2" "$? $(cat err)" "2 bscore: ro.tdb: Permission denied"
fi

# ---- a full disk (needs root for a small tmpfs) ----

# A file that cannot be made whole is not made at all: a partial hash
# table would read as a damaged file ever after.
if [ "$(id -u)" = 0 ] && mkdir tiny && mount -t tmpfs -o size=1m tmpfs tiny \
    2>/dev/null; then
	"$BIN/bscore" -d tiny/s.tdb one.tsv >out 2>err
	is "full disk, new file: exit 2" "$?" 2
	is "full disk, new file: says so" "$(cat err)" \
	    "bscore: tiny/s.tdb: No space left on device"
	is "full disk, new file: nothing left behind" "$(ls tiny)" ""
	umount tiny
fi

# A disk that fills up in the middle of a run: the batches before are
# in the file and printed, the one that failed is neither, and the
# same input again, with room, finishes the job.
if [ "$(id -u)" = 0 ] && mkdir -p small && mount -t tmpfs -o size=9m tmpfs small \
    2>/dev/null; then
	awk 'BEGIN { for (i = 0; i < 20000; i++)
		printf "f%d\t2024-03-01T10:00:00Z\tu%d@full.example\tfailed\t5.1.1\t550\tmx\t-\tdsn\tdiag\thard\tuserunknown\n", i, i }' >many.tsv
	"$BIN/bscore" -d small/s.tdb one.tsv >/dev/null
	is "full disk: the first run fits" "$?" 0
	"$BIN/bscore" -b 500 -d small/s.tdb many.tsv >out1 2>err
	is "full disk: exit 2" "$?" 2
	is "full disk: says so" "$(cat err)" \
	    "bscore: small/s.tdb: writing: No space left on device"
	is "full disk: the file checks out" "$(tdbtool small/s.tdb check)" \
	    "$(printf 'Database integrity is OK and has %d records.' \
	    $(($(wc -l <out1) + 2)))"
	n=$(wc -l <out1)
	ok "full disk: some batches went in ($n)" test "$n" -gt 0 -a "$n" -lt 20000
	is "full disk: what was printed is what is in the file" \
	    "$("$BIN/bstate" -d small/s.tdb list -s invalid | grep -c full.example)" "$n"
	cp small/s.tdb room.tdb
	umount small
	"$BIN/bscore" -b 500 -d room.tdb many.tsv >out2
	is "full disk: the same input again finishes" "$?" 0
	is "full disk: every transition once" \
	    "$(cat out1 out2 | cut -f2 | sort -u | wc -l) $(cat out1 out2 | wc -l)" \
	    "20000 20000"
fi

done_testing
