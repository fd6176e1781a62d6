#!/bin/sh
# bclassify over PowerMTA accounting records: bounceCat decides when the
# words do not.
. "$(dirname "$0")/lib.sh"

rec() {	# rec DETECTOR DIAG
	printf 'acct.csv:1\t-\tx@example.net\tfailed\t-\t-\t-\t-\t%s\t%s\n' "$1" "$2"
}
for pair in bad-mailbox:hard:userunknown bad-domain:hard:hostunknown \
    inactive-mailbox:soft:suspend quota-issues:soft:mailboxfull \
    spam-related:soft:spamdetected policy-related:soft:policyviolation \
    message-expired:soft:expired no-answer-from-host:soft:networkerror \
    relaying-issues:soft:norelaying; do
	cat=${pair%%:*}
	want=${pair#*:}
	got=$(rec "pmta:$cat" "a reason we have no words for" | "$BIN/bclassify" |
	    cut -f11,12 | tr '\t' :)
	is "bounceCat $cat" "$got" "$want"
done
# The words still come first.
is "diag beats bounceCat" \
    "$(rec pmta:bad-mailbox '552 5.2.2 Mailbox full' | "$BIN/bclassify" | cut -f12)" \
    mailboxfull
is "unknown category: the status decides" \
    "$(printf 'a\t-\tx@example.net\tfailed\t5.1.1\t-\t-\t-\tpmta:other\tzzz\n' |
    "$BIN/bclassify" | cut -f12)" userunknown
# A report's X-PowerMTA-BounceCategory: "User Unknown" under 5.2.1 (a
# disabled mailbox) is a refused message to bclassify, unless PowerMTA
# says the mailbox is bad.
u521() {
	printf 'a\t-\tx@example.net\tfailed\t5.2.1\t550\t-\t-\t%s\t550 5.2.1 <x@example.net>... User Unknown\n' "$1" |
	    "$BIN/bclassify" | cut -f11,12 | tr '\t' :
}
is "5.2.1 user unknown, no category" "$(u521 dsn)" soft:filtered
is "5.2.1 user unknown, bad-mailbox" "$(u521 pmta:bad-mailbox)" hard:userunknown
is "PowerMTA report: bparse gives the category, bclassify weighs it" \
    "$("$BIN/bparse" "$FIX/families/powermta-1.eml" | "$BIN/bclassify" |
    cut -f9,11,12 | tr '\t' :)" pmta:bad-mailbox:hard:userunknown
if [ -f "$FIX/acct/acct.csv" ]; then
	"$BIN/bparse" "$FIX/acct/acct.csv" 2>/dev/null | "$BIN/bclassify" >"$T/out"
	is "pipeline from an accounting file" "$(cut -f3,11,12 "$T/out" | tr '\t\n' ': ')" \
	    "gone.user@example.net:hard:userunknown full@example.net:soft:mailboxfull angry@example.org:complaint:feedback "
fi
done_testing
