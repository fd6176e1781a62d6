#!/bin/sh
# The whole pipeline, bparse | bclassify | bscore, over Postfix bounces:
# an unknown user is muted, a greylisted address stays mailable, and
# bstate why explains each.  Then the same over the real Postfix bounces
# of the corpus, when it is there.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
tab=$(printf '\t')
S=$FIX/state

pipeline() {	# pipeline STATEFILE MESSAGE...
	db=$1
	shift
	"$BIN/bparse" "$@" | "$BIN/bclassify" | "$BIN/bscore" -d "$db"
}

pipeline fix.tdb "$S/postfix-userunknown.eml" "$S/postfix-greylist-delayed.eml" \
    "$S/postfix-greylist-failed.eml" >out
is "pipeline: exit 0" "$?" 0
is "pipeline: one change, the unknown user muted" "$(cut -f2-7 out)" \
    "dave@example.com${tab}send${tab}invalid${tab}50${tab}userunknown${tab}$S/postfix-userunknown.eml"
"$BIN/bstate" -d fix.tdb check dave@example.com
is "the unknown user: muted" "$?" 1
"$BIN/bstate" -d fix.tdb check carol@example.net
is "the greylisted address: mailable" "$?" 0
printf 'Dave <dave@example.com>\nCarol <carol@example.net>\n' | "$BIN/bstate" -d fix.tdb filter >out
is "filter keeps the greylisted address only" "$(cat out)" "Carol <carol@example.net>"

"$BIN/bstate" -d fix.tdb why dave@example.com >why
ok "why, unknown user: invalid and muted" grep -q '^dave@example.com: invalid (muted) since 2024-03-04T08:12:40Z$' why
ok "why, unknown user: the bounce, its points and the policy line" \
    grep -q '^  2024-03-04T08:12:40Z  hard 5.1.1 550 userunknown: 50 points, counted (policy: status 5.1.1 50) -> invalid$' why
ok "why, unknown user: the message it came from" grep -q "^      source $S/postfix-userunknown.eml$" why
"$BIN/bstate" -d fix.tdb why carol@example.net >why
ok "why, greylisted: mailable" grep -q '^carol@example.net: send (mailable) since 2024-03-09T08:12:40Z$' why
ok "why, greylisted: the failure scored nothing" \
    grep -q '^  2024-03-09T08:12:40Z  soft 4.7.1 450 blocked: 0 points (policy: status 4.7.1 0) -> send$' why
is "why, greylisted: the delay warning counts for nothing and is not kept" \
    "$(grep -c '^  2024' why)" 1

pipeline fix.tdb "$S"/postfix-*.eml >out
is "the same messages again change nothing" "$(cat out)" ""
is "and add no events" "$("$BIN/bstate" -d fix.tdb export | grep -c '^event')" 2

# The real Postfix bounces of the corpus.
P=$CORPUS/maildir/bsd
if [ -f "$P/lhost-postfix-04.eml" ] && [ -f "$P/lhost-postfix-63.eml" ]; then
	pipeline corpus.tdb "$P"/lhost-postfix-*.eml >out 2>err
	is "corpus: exit 0" "$?" 0
	"$BIN/bstate" -d corpus.tdb check userunknown@example.co.jp
	is "corpus: an unknown user (lhost-postfix-02) is muted" "$?" 1
	"$BIN/bstate" -d corpus.tdb why userunknown@example.co.jp >why
	ok "corpus: why names the bounce and the policy line" \
	    grep -q 'hard 5.1.1 550 userunknown: 50 points, counted (policy: status 5.1.1 50) -> invalid$' why
	"$BIN/bstate" -d corpus.tdb check neko@nyaaan.example.org
	is "corpus: a full mailbox (lhost-postfix-63) is still mailable" "$?" 0
	"$BIN/bstate" -d corpus.tdb why neko@nyaaan.example.org >why
	ok "corpus: why says it is counting" grep -q '^neko@nyaaan.example.org: counting (mailable)' why
	pipeline corpus.tdb "$P"/lhost-postfix-*.eml >out 2>/dev/null
	is "corpus: a second run changes nothing" "$(cat out)" ""
	command -v tdbtool >/dev/null && is "corpus: the file checks out" "$(tdbtool corpus.tdb check | sed "s/has [0-9]* records/has N records/")" \
	    "Database integrity is OK and has N records."
else
	echo "ok $((_n + 1)) # SKIP the corpus is not there"
	_n=$((_n + 1))
fi

done_testing
