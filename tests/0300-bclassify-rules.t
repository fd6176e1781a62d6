#!/bin/sh
# User rules (-r): the format, their precedence over the built-in rules
# and over each other, every kind of condition, --explain, and errors in
# a rules file (exit 2 before any record is read).
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
tab=$(printf '\t')

# rec NAME STATUS SMTP MTA DETECTOR DIAG [RCPT [ACTION]]
rec() {
	printf '%s\t-\t%s\t%s\t%s\t%s\t%s\t-\t%s\t%s\n' "$1" \
	    "${7:-jane@example.org}" "${8:-failed}" "$2" "$3" "$4" "$5" "$6"
}
# classify RULES... < records: "name class reason" per record
classify() {
	args=
	for r; do args="$args -r $r"; done
	"$BIN/bclassify" $args | cut -f1,11,12 | tr '\t' ' '
}

rec full 5.2.2 552 mx.example.org dsn '552 5.2.2 Mailbox full' >full.tsv

# ---- precedence ----
cat >first.bcr <<'EOF'
# A site whose "mailbox full" means the account was closed.
rule suspend
	diag mailbox full
EOF
cat >second.bcr <<'EOF'
rule systemfull
	diag mailbox
EOF
is "without -r: the built-in rule" "$(classify <full.tsv)" "full soft mailboxfull"
is "-r: a user rule comes before the built-in ones" \
    "$(classify first.bcr <full.tsv)" "full soft suspend"
is "-r twice: the first file comes first" \
    "$(classify first.bcr second.bcr <full.tsv)" "full soft suspend"
is "-r twice, other order" \
    "$(classify second.bcr first.bcr <full.tsv)" "full soft systemfull"

# ---- conditions ----
cat >cond.bcr <<'EOF'
# Every field, alternatives, "and", "!", wildcards and anchors.
rule blocked
	mta .relay.example.net
	diag 554
rule hasmoved
	domain old.example.com
rule mailererror
	detector acme
rule policyviolation
	status 5.7.*
	smtp 55x
	diag ^policy
	!diag policy ok
rule rejected
	status 4
	diag try again
	and
	diag later
	diag tomorrow
rule syntaxerror
	diag "  spaced  "
rule contenterror
	diag bad * header$
rule toomanyconn
	diag a\*b
rule undefined info
	diag -
	smtp -
rule hostunknown
	diag ^exactly this$
rule mailererror
	smtp 599
	diag -
	diag odd
rule expired hard
	diag never gives up
EOF
{
	rec mta1 5.0.0 554 mx1.relay.example.net dsn '554 no'
	rec mta2 5.0.0 554 relay.example.net dsn '554 no'
	rec mta3 5.0.0 554 xrelay.example.net dsn '554 no'
	rec domain 5.0.0 550 - dsn 'gone' joe@old.example.com
	rec subdomain 5.0.0 550 - dsn 'gone' joe@mail.old.example.com
	rec detector - - - acme 'whatever'
	rec policy 5.7.3 553 - dsn 'Policy says no'
	rec policy-ok 5.7.3 553 - dsn 'Policy ok but no'
	rec policy-421 5.7.3 421 - dsn 'Policy says no'
	rec policy-late 5.7.3 553 - dsn 'no: Policy'
	rec later 4.3.0 451 - dsn 'Try again later'
	rec tomorrow 4.7.0 451 - dsn 'try again TOMORROW'
	rec again 4.3.0 451 - dsn 'try again'
	rec again-5 5.3.0 451 - dsn 'try again later'
	rec spaced 5.0.0 550 - dsn 'x  spaced  y'
	rec unspaced 5.0.0 550 - dsn 'xspaced y'
	rec header 5.0.0 550 - dsn 'Bad From header'
	rec header-not-last 5.0.0 550 - dsn 'Bad From header here'
	rec star 5.0.0 550 - dsn 'a*b'
	rec nostar 5.0.0 550 - dsn 'a-b'
	rec empty 5.0.0 - - dsn ''
	rec exact 5.0.0 550 - dsn 'Exactly  this'
	rec exact-before 5.0.0 550 - dsn 'not exactly this'
	rec exact-after 5.0.0 550 - dsn 'exactly this not'
	rec none-or-odd1 - 599 - dsn ''
	rec none-or-odd2 - 599 - dsn 'odd'
	rec none-or-odd3 - 599 - dsn 'even'
	rec class 5.0.0 550 - dsn 'It never gives up'
	rec class-delayed 4.0.0 450 - dsn 'It never gives up' jane@example.org delayed
} >cond.tsv
"$BIN/bclassify" -r cond.bcr cond.tsv | cut -f1,11,12 | tr '\t' ' ' >got
cat >want <<'EOF'
mta1 soft blocked
mta2 soft blocked
mta3 soft onhold
domain hard hasmoved
subdomain hard hasmoved
detector soft mailererror
policy soft policyviolation
policy-ok soft securityerror
policy-421 soft securityerror
policy-late soft securityerror
later soft rejected
tomorrow soft rejected
again soft systemerror
again-5 soft systemerror
spaced soft syntaxerror
unspaced soft onhold
header soft contenterror
header-not-last soft onhold
star soft toomanyconn
nostar soft onhold
empty info undefined
exact hard hostunknown
exact-before soft onhold
exact-after soft onhold
none-or-odd1 soft mailererror
none-or-odd2 soft mailererror
none-or-odd3 soft onhold
class hard expired
class-delayed hard expired
EOF
is "conditions: each record as the rules say" "$(cat got)" "$(cat want)"

# Actions: without "action" a rule is about failed and delayed records.
cat >act.bcr <<'EOF'
rule mailboxfull
	diag hello
rule vacation info
	action autoreply
	diag hello
EOF
{
	rec failed 5.0.0 550 - dsn 'hello'
	rec delayed 4.0.0 450 - dsn 'hello' jane@example.org delayed
	rec reply - - - autoreply 'hello' jane@example.org autoreply
	rec delivered 2.0.0 250 - dsn 'hello' jane@example.org delivered
} | classify act.bcr >got
is "actions: failed, delayed, autoreply, delivered" "$(cat got)" \
"failed soft mailboxfull
delayed info mailboxfull
reply info vacation
delivered info delivered"

# ---- --explain ----
rec full 5.2.2 552 mx.example.org dsn '552 5.2.2 Mailbox full' >x.tsv
rec nothing - - - dsn '' >>x.tsv
rec code 5.2.2 - - dsn '' >>x.tsv
"$BIN/bclassify" -x -r first.bcr x.tsv >out 2>err
is "--explain: the records unchanged" "$(cut -f12 out | tr '\n' ' ')" \
    "suspend undefined mailboxfull "
line=$("$BIN/bclassify" -p | awk '/^\tstatus \*\.2\.2$/ { print NR - 1 }')
is "--explain: which rule decided, one line per record" "$(cat err)" \
"bclassify: x.tsv:1: soft suspend: first.bcr:2: diag \"mailbox full\"
bclassify: x.tsv:2: soft undefined: no rule matched
bclassify: x.tsv:3: soft mailboxfull: builtin:$line"
"$BIN/bclassify" --explain -r first.bcr x.tsv >out2 2>/dev/null
is "--explain: the long name" "$(cat out2)" "$(cat out)"

# ---- errors ----
# bad NAME TEXT WANT: a rules file TEXT is refused with message WANT
bad() {
	printf '%s\n' "$2" >bad.bcr
	"$BIN/bclassify" -r bad.bcr full.tsv >out 2>err
	is "$1: exit 2" "$?" 2
	is "$1: no record read" "$(wc -c <out)" 0
	is "$1: the message" "$(cat err)" "bclassify: bad.bcr:$3"
}
bad "unknown reason" "rule nosuchreason
	diag x" '1: unknown reason "nosuchreason"'
bad "unknown class" "rule userunknown fatal
	diag x" '1: unknown class "fatal"'
bad "unknown field" "# comment

rule userunknown
	text x" '4: unknown field "text"'
bad "condition first" "	diag x" "1: condition before the first rule"
bad "no value" "rule userunknown
	status" '2: no value for "status"'
bad "bad status" "rule userunknown
	status 5.x.1" '2: bad status pattern "5.x.1"'
bad "bad smtp" "rule userunknown
	smtp 5500" '2: bad smtp pattern "5500"'
bad "bad host" "rule userunknown
	mta exa/mple" '2: bad host name "exa/mple"'
bad "unknown action" "rule userunknown
	action bounced" '2: unknown action "bounced"'
bad "empty pattern" "rule userunknown
	diag *" "2: empty diag pattern"
bad "no conditions" "rule userunknown
rule hostunknown
	diag x" "1: rule without conditions"
bad "dangling and" "rule userunknown
	diag x
	and" '1: "and" without conditions after it'
bad "and first" "rule userunknown
	and" '2: "and" without conditions before it'
bad "no reason" "rule" "1: rule without a reason"
"$BIN/bclassify" -r missing.bcr full.tsv >out 2>err
is "a missing rules file: exit 2" "$?" 2
is "a missing rules file: the message" "$(cat err)" \
    "bclassify: missing.bcr: No such file or directory"
"$BIN/bclassify" -r first.bcr -r bad.bcr full.tsv >out 2>err
is "a bad second file: exit 2 all the same" "$?" 2

done_testing
