#!/bin/sh
# bscore: every transition of the state machine, the scores, the window
# and the one-bounce-a-day rule (with dated records), idempotence, the
# sent-mail log, the transition lines, and bad input.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
tab=$(printf '\t')
DB=$T/state.tdb

# rec SOURCE DATE RCPT CLASS REASON [STATUS [SMTP [ID]]]: one record.
rec() {
	printf '%s\t%s\t%s\tfailed\t%s\t%s\tmx.example.org\t%s\tdsn\tdiag\t%s\t%s\n' \
	    "$1" "$2" "$3" "${6:--}" "${7:--}" "${8:--}" "$4" "$5"
}
# A soft bounce scoring 25 (4.2.2), a hard one scoring 50 (5.1.1), one
# scoring 0 (4.7.1, greylisting), a complaint and an unsubscribe.
full() { rec "full-$2" "$2T10:00:00Z" "$1" soft mailboxfull 4.2.2 452; }
dead() { rec "dead-$2" "$2T11:00:00Z" "$1" hard userunknown 5.1.1 550; }
grey() { rec "grey-$2" "$2T12:00:00Z" "$1" soft blocked 4.7.1 450; }
abuse() { rec "arf-$2" "$2T13:00:00Z" "$1" complaint feedback; }
unsub() { rec "unsub-$2" "$2T14:00:00Z" "$1" unsubscribe feedback; }

score() { "$BIN/bscore" -d "$DB" "$@"; }
# The state and score of an address.
st() { "$BIN/bstate" -d "$DB" get "$1" | sed -n '1p' | cut -f3,4 | tr '\t' ' '; }
# The transitions printed, as "address old>new" words.
moves() { awk -F '\t' '{ printf "%s %s>%s\n", $2, $3, $4 }'; }

# ---- transitions ----

# Hard evidence is worth what its reason is: a refusal of the address
# under a policy code (5.7.1 alone scores 10) still makes it invalid,
# while a soft 5.7.1 scores its 10.
rec h1 2024-02-01T10:00:00Z hx@t.example hard userunknown 5.7.1 550 | score >out
is "hard 5.7.1 userunknown: invalid at once" "$(moves <out)" "hx@t.example send>invalid"
rec s1 2024-02-01T10:00:00Z sx@t.example soft blocked 5.7.1 550 | score >out
is "soft 5.7.1 blocked: counting with its 10 points" "$(st sx@t.example)" "counting 10"

full a@t.example 2024-01-01 | score >out
is "send -> counting: a soft bounce below the limits" \
    "$(moves <out)" "a@t.example send>counting"
is "counting: the score is the bounce's points" "$(st a@t.example)" "counting 25"
full a@t.example 2024-01-02 | score >out
is "counting -> unreachable: the score reaches the threshold" \
    "$(moves <out)" "a@t.example counting>unreachable"
is "unreachable: score 50" "$(st a@t.example)" "unreachable 50"
dead a@t.example 2024-01-03 | score >out
is "unreachable -> invalid: a hard bounce over the threshold" \
    "$(moves <out)" "a@t.example unreachable>invalid"
full a@t.example 2024-01-04 | score >out
is "invalid stays invalid on soft bounces, which still count" \
    "$(st a@t.example) $(cat out)" "invalid 125 "
abuse a@t.example 2024-01-05 | score >out
is "invalid -> complained" "$(moves <out)" "a@t.example invalid>complained"
{ dead a@t.example 2024-01-06; unsub a@t.example 2024-01-07; } | score >out
is "complained stays complained" "$(st a@t.example | cut -d' ' -f1) $(cat out)" \
    "complained "

dead b@t.example 2024-01-01 | score >out
is "send -> invalid: one hard bounce of 50 points" "$(moves <out)" \
    "b@t.example send>invalid"

{ full c@t.example 2024-01-01; rec c2 2024-01-02T09:00:00Z c@t.example hard \
    filtered 5.1.4 550; } | score >out
is "counting -> invalid: a hard bounce brings the score to 50" \
    "$(moves <out | tr '\n' ' ')" "c@t.example send>counting c@t.example counting>invalid "

unsub d@t.example 2024-01-01 | score >out
is "send -> unsubscribed" "$(moves <out)" "d@t.example send>unsubscribed"
abuse d@t.example 2024-01-02 | score >out
is "unsubscribed -> complained" "$(moves <out)" "d@t.example unsubscribed>complained"
{ unsub e@t.example 2024-01-01; dead e@t.example 2024-01-02; } | score >out
is "unsubscribed stays unsubscribed on bounces" \
    "$(moves <out) $(st e@t.example | cut -d' ' -f1)" \
    "e@t.example send>unsubscribed unsubscribed"
abuse f@t.example 2024-01-01 | score >out
is "send -> complained" "$(moves <out)" "f@t.example send>complained"
{ full g@t.example 2024-01-01; abuse g@t.example 2024-01-02; } | score >out
is "counting -> complained" "$(moves <out | sed -n 2p)" "g@t.example counting>complained"
{ full h@t.example 2024-01-01; full h@t.example 2024-01-02
    unsub h@t.example 2024-01-03; } | score >out
is "unreachable -> unsubscribed" "$(moves <out | sed -n 3p)" \
    "h@t.example unreachable>unsubscribed"

grey i@t.example 2024-01-01 | score >out
is "a bounce of 0 points changes nothing" "$(st i@t.example) $(cat out)" "send 0 "
is "it is kept, flagged zero" "$("$BIN/bstate" -d "$DB" get i@t.example | sed -n 2p | cut -f7)" zero

# softmute: soft bounces that count, whatever their points.
printf 'threshold 1000\nsoftmute 3\n' >soft.policy
for d in 01 02 03; do rec "s$d" "2024-02-${d}T10:00:00Z" j@t.example soft systemerror; done |
    score -p soft.policy >out
is "counting -> unreachable: the softmute-th soft bounce" \
    "$(moves <out | tr '\n' ' ')" "j@t.example send>counting j@t.example counting>unreachable "
is "softmute: the score stays below the threshold" "$(st j@t.example)" "unreachable 30"

# recover: unreachable returns to send after a quiet period.
printf 'recover 30d\n' >recover.policy
{ full k@t.example 2024-01-01; full k@t.example 2024-01-02; } | score -p recover.policy >/dev/null
grey k@t.example 2024-01-20 | score -p recover.policy >out
is "recover: no return before the quiet period" "$(st k@t.example) $(cat out)" "unreachable 50 "
grey k@t.example 2024-03-01 | score -p recover.policy >out
is "recover: unreachable -> send after it" "$(moves <out)" "k@t.example unreachable>send"
full k@t.example 2024-03-02 | score -p recover.policy >out
is "recover: the bounces before it no longer count" \
    "$(moves <out) $(st k@t.example)" "k@t.example send>counting counting 25"
is "recover: the recovery is an event of its own" \
    "$("$BIN/bstate" -d "$DB" get k@t.example | awk -F '\t' '$5 == "policy" { print $4, $8 }')" \
    "2024-02-19T12:00:00Z send"
{ full k2@t.example 2024-01-01; full k2@t.example 2024-01-02; full k2@t.example 2024-03-01; } |
    score >out
is "without recover, unreachable stays unreachable" "$(st k2@t.example | cut -d' ' -f1)" unreachable

# counting returns to send when its window holds no counted bounce.
full l@t.example 2024-01-01 | score >/dev/null
grey l@t.example 2024-06-01 | score >out
is "counting -> send: the window emptied" "$(moves <out) $(st l@t.example)" \
    "l@t.example counting>send send 0"

# ---- manual states ----

"$BIN/bstate" -d "$DB" set m@t.example onhold "asked us to pause"
{ full m@t.example 2024-01-01; dead m@t.example 2024-01-02; abuse m@t.example 2024-01-03; } |
    score >out
is "onhold stays onhold, whatever comes" "$(st m@t.example) $(cat out)" "onhold 75 "
"$BIN/bstate" -d "$DB" set n@t.example persistent
{ dead n@t.example 2024-01-01; full n@t.example 2024-01-02; abuse n@t.example 2024-01-03
    unsub n@t.example 2024-01-04; } | score >out
is "persistent is never muted" "$(st n@t.example | cut -d' ' -f1) $(cat out)" "persistent "
"$BIN/bstate" -d "$DB" set n@t.example send
dead n@t.example 2024-01-05 | score >out
is "after a manual send, bounces count again" "$(moves <out)" "n@t.example send>invalid"
"$BIN/bstate" -d "$DB" reset n@t.example
{ dead n@t.example 2024-01-01; dead n@t.example 2024-01-05; } | score >out
is "reset: records seen before change nothing" "$(st n@t.example) $(cat out)" "send 0 "
dead n@t.example 2024-02-01 | score >out
is "reset: a new bounce counts" "$(moves <out)" "n@t.example send>invalid"

# ---- the window and the one-bounce-a-day rule ----

{ full w@t.example 2024-01-01; full w@t.example 2024-05-01; } | score >out
is "window: a bounce 121 days older does not add up" "$(st w@t.example)" "counting 25"
full w@t.example 2024-05-02 | score >out
is "window: two within 100 days do" "$(moves <out)" "w@t.example counting>unreachable"
full w2@t.example 2024-05-01 | score >/dev/null
full w2@t.example 2024-01-01 | score >out
is "window: an older record read later is kept but does not count" \
    "$(st w2@t.example) $("$BIN/bstate" -d "$DB" get w2@t.example | sed -n 3p | cut -f7)" \
    "counting 25 -"

{ full p@t.example 2024-01-01; rec p2 2024-01-01T18:00:00Z p@t.example soft mailboxfull 4.2.2 452
    rec p3 2024-01-01T23:59:59Z p@t.example soft mailboxfull 4.2.2 452; } | score >out
is "one a day: three bounces on one day count once" "$(st p@t.example)" "counting 25"
is "one a day: the others are flagged sameday" \
    "$("$BIN/bstate" -d "$DB" get p@t.example | cut -f7 | sed 1d | tr '\n' ' ')" \
    "counted sameday sameday "
full p@t.example 2024-01-02 | score >out
is "one a day: the next day counts" "$(moves <out)" "p@t.example counting>unreachable"
{ grey q@t.example 2024-01-01; rec q1 2024-01-01T08:00:00Z q@t.example soft systemerror
    dead q@t.example 2024-01-01; } | score >out
is "one a day: a stronger bounce takes the place of a weaker one" \
    "$(st q@t.example) $(moves <out | tr '\n' ' ')" \
    "invalid 50 q@t.example send>counting q@t.example counting>invalid "
# The window's start can fall inside a day: only the bounces of that day
# still in the window compete.  A stronger one older than the window
# leaves the weaker one counted; a weaker one older than the window
# leaves room for the next.
# edge ADDR HOUR1 HOUR2 CLASS2 REASON2 STATUS2 SMTP2: a 25-point soft
# bounce at HOUR1 of 2024-01-01, a 0-point one 100 days later, then one
# more at HOUR2 of the first day; the state, score and flags.
edge() {
	{ rec o1 "2024-01-01T$2:00:00Z" "$1" soft mailboxfull 4.2.2 452
	    grey "$1" 2024-04-10
	    rec o2 "2024-01-01T$3:00:00Z" "$1" "$4" "$5" "$6" "$7"; } | score >/dev/null
	echo "$(st "$1") $("$BIN/bstate" -d "$DB" get "$1" | cut -f7 | sed 1d | tr '\n' ' ')"
}
is "one a day, window edge: the older, stronger bounce does not demote" \
    "$(edge wa@t.example 13 11 hard userunknown 5.1.1 550)" "counting 25 counted zero - "
is "one a day, window edge: a bounce that left the window does not block" \
    "$(edge wb@t.example 01 13 soft mailboxfull 4.2.2 452)" "counting 25 counted zero counted "
printf 'perday 0\n' >perday.policy
{ full r@t.example 2024-01-01; rec r2 2024-01-01T18:00:00Z r@t.example soft mailboxfull 4.2.2 452; } |
    score -p perday.policy >out
is "perday 0: every bounce counts" "$(st r@t.example)" "unreachable 50"

# ---- idempotence ----

{ full x@t.example 2024-03-01; dead y@t.example 2024-03-01; grey z@t.example 2024-03-01; } >batch.tsv
score batch.tsv >first
"$BIN/bstate" -d "$DB" export | sort >before
score batch.tsv >second
score <batch.tsv >third
"$BIN/bstate" -d "$DB" export | sort >after
is "the first run changes states" "$(wc -l <first)" 2
is "the same records again: nothing printed" "$(cat second third)" ""
ok "the same records again: the file is unchanged" cmp before after
sed -n 1p batch.tsv | sed 's/^full-/other-/' | score >out
is "the same bounce from another source is another event" \
    "$("$BIN/bstate" -d "$DB" get x@t.example | sed 1d | cut -f1,7 | tr '\n\t' '  ')" \
    "event counted event sameday "

# ---- the sent-mail log ----

printf 'news-7@app.example\tsent1@t.example\t2024-03-01T00:00:00Z\n<news-8@app.example>\tSent2@T.example\n' |
    "$BIN/bstate" -d "$DB" sent
{ rec s1 2024-03-02T10:00:00Z '' hard userunknown 5.1.1 550 '<news-7@app.example>'
    rec s2 2024-03-02T10:00:00Z '' hard userunknown 5.1.1 550 news-8@app.example
    rec s3 2024-03-02T10:00:00Z '' hard userunknown 5.1.1 550 news-9@app.example
    rec s4 2024-03-02T10:00:00Z '' hard userunknown 5.1.1 550; } >noaddr.tsv
score noaddr.tsv >out 2>err
is "records without a recipient: exit 0" "$?" 0
is "the tracking id gives the address" "$(moves <out | tr '\n' ' ')" \
    "sent1@t.example send>invalid sent2@t.example send>invalid "
is "unknown ids and records without any are reported" "$(cat err)" \
"bscore: noaddr.tsv:3: no recipient, and tracking id news-9@app.example is not in the sent-mail log
bscore: noaddr.tsv:4: no recipient and no tracking id"

# ---- transition lines ----

printf 's\\tpace\t2024-04-01T10:00:00Z\ttab\\x23@t.example\tfailed\t5.1.1\t550\tmx\t-\tdsn\tdiag\thard\tuser\\tunknown\n' |
    score >out
is "a transition line: seven escaped fields" "$(cat out)" \
    "2024-04-01T10:00:00Z${tab}tab#@t.example${tab}send${tab}invalid${tab}50${tab}user\\tunknown${tab}s\\tpace"
rec nr 2024-04-01T10:00:00Z nr@t.example soft '' | score >out
is "a transition line: the class when there is no reason" "$(cut -f6 out)" soft

# ---- dry run, policy printing ----

"$BIN/bstate" -d "$DB" export | sort >before
{ dead dry@t.example 2024-04-02; full a2@t.example 2024-04-02; } | score -n >out
"$BIN/bstate" -d "$DB" export | sort >after
is "-n: the changes are shown" "$(moves <out | tr '\n' ' ')" \
    "dry@t.example send>invalid a2@t.example send>counting "
ok "-n: nothing is written" cmp before after

"$BIN/bscore" -P >p1
ok "-P: the policy has the documented defaults" grep -qx 'status 5.1.1 50' p1
ok "-P: 4.7.1 scores 0" grep -qx 'status 4.7.1 0' p1
"$BIN/bscore" -p p1 -P >p2
ok "-P: a printed policy reads back the same" cmp p1 p2
"$BIN/bscore" -p "$FIX/state/example.policy" -P >p4
is "an example policy file: its limits" \
    "$(sed -n 1,6p p4 | tr '\n' ' ')" \
    "threshold 60 window 182d softmute 4 perday 1 recover 60d keep 40 "
is "an example policy file: its scores replace the defaults" \
    "$(grep -E '^(status 5.7.1|reason mailboxfull|smtp 554|class soft) ' p4 | tr '\n' ' ')" \
    "status 5.7.1 0 reason mailboxfull 20 smtp 554 5 class soft 15 "
printf 'defaults none\nclass hard 7\nwindow 2w\n' >tiny.policy
"$BIN/bscore" -p tiny.policy -P >p3
is "defaults none drops the tables" "$(grep -c '^status' p3) $(grep '^class' p3) $(grep window p3)" \
    "0 class hard 7 window 14d"

# ---- bad input ----

{ dead ok1@t.example 2024-04-03; printf 'only\tthree\tfields\n'; echo '# a comment'
    printf 'a\t2024-04-03T00:00:00Z\tx@t.example\tfailed\t-\t-\t-\t-\tdsn\tbad \\q escape\thard\tuserunknown\n'
    rec u 2024-04-03T00:00:00Z odd@t.example maybe userunknown
    dead ok2@t.example 2024-04-03; } >mixed.tsv
score mixed.tsv >out 2>err
is "unreadable lines: exit 1" "$?" 1
is "unreadable lines: the others are applied" "$(moves <out | tr '\n' ' ')" \
    "ok1@t.example send>invalid ok2@t.example send>invalid "
is "unreadable lines: one message each, with file and line" "$(cat err)" \
"bscore: mixed.tsv:2: too few columns for a record
bscore: mixed.tsv:4: bad escape sequence
bscore: mixed.tsv:5: unknown class 'maybe'"

rec na 2024-04-03T00:00:00Z 'Anna <ANNA@T.example>' hard userunknown >names.tsv
rec na 2024-04-03T00:00:00Z 'no address' hard userunknown >>names.tsv
score names.tsv >out 2>err
is "a recipient that is not an address: exit 1" "$?" 1
is "a recipient is normalised" "$(moves <out)" "anna@t.example send>invalid"
is "a recipient that is not an address is reported" "$(cat err)" \
    "bscore: names.tsv:2: recipient 'no address' is not a mail address"

# Dates: a record without one is dated now; one that cannot be read, or
# is past what four-digit years say, is reported and skipped.
{ rec d1 '' nodate@t.example hard userunknown
    rec d2 'yesterday-ish' baddate@t.example hard userunknown
    rec d3 9999-12-31T23:59:60Z late@t.example hard userunknown
    rec d4 'Fri, 31 Dec 9999 23:00:00 -1200' late2@t.example hard userunknown
    rec d5 'Tue, 2 Apr 2024 10:00:00 +0200' rfc@t.example hard userunknown
    rec d6 2024-04-02T08:00:00Z cls@t.example '' userunknown; } >dates.tsv
score dates.tsv >out 2>err
is "bad dates: exit 1" "$?" 1
is "bad dates: the readable ones are applied" "$(moves <out | tr '\n' ' ')" \
    "nodate@t.example send>invalid rfc@t.example send>invalid "
is "a record without a date is dated now" "$(cut -c1-4 out | sed -n 1p)" "$(date -u +%Y)"
is "an RFC 5322 date is read" "$(cut -f1 out | sed -n 2p)" "2024-04-02T08:00:00Z"
is "bad dates and an empty class: one message each" "$(cat err)" \
"bscore: dates.tsv:2: bad date 'yesterday-ish'
bscore: dates.tsv:3: bad date '9999-12-31T23:59:60Z'
bscore: dates.tsv:4: bad date 'Fri, 31 Dec 9999 23:00:00 -1200'
bscore: dates.tsv:6: empty class"

for i in 1 2 3; do rec u$i 2024-04-03T00:00:00Z nc$i@t.example hard userunknown | cut -f1-10; done >ten.tsv
score ten.tsv >out 2>err
is "records without a class: exit 1" "$?" 1
is "records without a class: the first is reported, then the count" "$(cat err)" \
"bscore: ten.tsv:1: no class column: run the records through bclassify first
bscore: 3 records without a class skipped"
is "records without a class: nothing applied" "$(cat out)" ""

printf 'threshold 50\nwindow 10x\n' >bad.policy
dead never@t.example 2024-04-04 >never.tsv
"$BIN/bscore" -d "$T/new.tdb" -p bad.policy never.tsv >out 2>err
is "a bad policy file: exit 2" "$?" 2
is "a bad policy file: file and line" "$(cat err)" \
    "bscore: bad.policy:2: not a duration (like 100d, 12h, 30m)"
ok "a bad policy file: stops before the state file is made" test ! -e "$T/new.tdb"
for line in 'status 5.1 50' 'smtp 5500 10' 'class medium 5' 'reason Bad! 5' \
    'threshold 0' 'perday 2' 'softmute -1' 'keep 0' 'frobnicate 1' 'status 5.1.1' \
    'smtp 550 x'; do
	echo "$line" >bad.policy
	"$BIN/bscore" -d "$T/new.tdb" -p bad.policy never.tsv >/dev/null 2>err
	is "policy line '$line': exit 2" "$?" 2
	ok "policy line '$line': reported with its line" grep -q '^bscore: bad.policy:1: ' err
done
"$BIN/bscore" -d "$T/new.tdb" -p "$T/missing.policy" never.tsv 2>err
is "a missing policy file: exit 2" "$?" 2
is "a missing policy file: reported" "$(cat err)" \
    "bscore: $T/missing.policy: No such file or directory"
"$BIN/bscore" -x 2>/dev/null
is "an unknown option: exit 2" "$?" 2

done_testing
