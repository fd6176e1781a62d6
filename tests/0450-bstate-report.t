#!/bin/sh
# bstate report: a self-contained HTML page whose charts show what
# bstate stats counts, with every string escaped.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
export LC_ALL=C
tab=$(printf '\t')
DB=$T/state.tdb
CHECK=$FIX/report/check.pl
bs() { "$BIN/bstate" -d "$DB" "$@"; }
check() { perl "$CHECK" "$@"; }
data() { perl "$CHECK" --data "$1"; }

# Two weeks of bounces of every class over a few domains, an address
# and a reason with markup in them; then two changes by hand, one with
# a note full of markup and a control byte.
"$BIN/bscore" -d "$DB" "$FIX/report/records.tsv" >bscore.out
is "bscore builds the state file" "$?" 0
odd='"it'"'"'s"@x.example'
note=$(printf 'checked by hand: <b>bold</b> & "quoted" '"'"'x'"'"'\001')
from1=$(bs list | awk -F'\t' '$1 == "it'"'"'s@x.example" { print $2 }')
from2=$(bs list | awk -F'\t' '$1 == "bert@example.net" { print $2 }')
bs -t 2024-03-13T10:00:00Z set "$odd" onhold "$note" &&
    bs -t 2024-03-14T10:00:00Z set bert@example.net persistent
is "two changes by hand" "$?" 0
sum_before=$(cksum <"$DB")

title='March <bounces> & "more"'
bs report -n 20 -T "$title" >page.html 2>err
is "report: exit 0, nothing on stderr" "$? $(cat err)" "0 "
ok "report: well-formed, self-contained, SVG well-formed XML" \
    check page.html
is "report: four SVG charts" "$(check page.html)" "page ok, 4 svg"
is "report: the file is not changed" "$(cksum <"$DB")" "$sum_before"

# ---- the sections ----

for h in "Bounces per day" "Top reasons" "Top recipient domains" \
    "Addresses per state" "Latest transitions"; do
	is "section: $h" "$(grep -c "^<h2>$h</h2>\$" page.html)" 1
done
is "five sections in order" "$(grep -o '<section id="[a-z]*">' page.html |
    cut -d'"' -f2 | tr '\n' ' ')" "days reasons domains states transitions "
is "no script anywhere" "$(grep -ci '<script' page.html)" 0
is "no address but the SVG namespace" \
    "$(grep -o 'https*://[^"]*' page.html | sort -u)" \
    "http://www.w3.org/2000/svg"
is "one stacked bar per day, first to last" \
    "$(data page.html | grep -c '^day')" 14

# ---- the numbers are those of bstate stats ----

data page.html >data.txt
bs stats | sort >stats.txt
grep -v '^card\|^trans' data.txt | sort >shown.txt
ok "the charts show what stats counts" cmp stats.txt shown.txt
is "and every section of stats is compared" \
    "$(cut -f1 stats.txt | sort -u | tr '\n' ' ')" "class day domain reason state "
card() { awk -F'\t' -v n="$2" '$1 == "card" && $2 == n { print $3 }' "$1"; }
total() { awk -F'\t' -v s="$1" '$1 == s { n += $3 } END { print n + 0 }' \
    stats.txt; }
muted=$(awk -F'\t' '$1 == "state" && $2 ~ /^(unreachable|invalid|complained|unsubscribed|onhold)$/ { n += $3 } END { print n }' stats.txt)
is "card: addresses" "$(card data.txt addresses)" "$(total state)"
is "card: events" "$(card data.txt events)" "$(total class)"
is "card: muted" "$(card data.txt muted)" "$muted"
is "card: mailable" "$(card data.txt mailable)" "$(($(total state) - muted))"

# ---- the latest transitions ----

# What bscore printed, and the two changes by hand, newest first.
{
	cut -f1-6 bscore.out
	printf '2024-03-13T10:00:00Z\tit'"'"'s@x.example\t%s\tonhold\t0\tmanual: %s\n' \
	    "$from1" 'checked by hand: <b>bold</b> & "quoted" '"'"'x'"'"'\x01'
	printf '2024-03-14T10:00:00Z\tbert@example.net\t%s\tpersistent\t0\tmanual\n' \
	    "$from2"
} | sort -t "$tab" -k1,1r -k2,2 | head -n 20 >want.txt
grep '^trans' data.txt | cut -f2- |
    sed -E 's/ [245]\.[0-9]{1,3}\.[0-9]{1,3}$//' >got.txt
ok "transitions: the newest 20 changes, as bscore and set made them" \
    diff want.txt got.txt
is "card: the changes of state" "$(card data.txt changes)" \
    "$(($(wc -l <bscore.out) + 2))"

# ---- escaping ----

esc_addr='&quot;o&amp;&lt;b&gt;&quot;@x.example'
esc_note='checked by hand: &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; &#39;x&#39;\x01'
ok "escaped: an address with markup" grep -qF "$esc_addr" page.html
ok "escaped: a note with markup and a control byte" \
    grep -qF "$esc_note" page.html
ok "escaped: a reason with markup" \
    grep -qF 'odd&lt;reason&gt;&amp;&quot;&#39;' page.html
ok "escaped: the title" grep -qF \
    '<title>March &lt;bounces&gt; &amp; &quot;more&quot;</title>' page.html
is "nothing unescaped" "$(grep -cF -e '"o&<b>"' -e '<b>bold' \
    -e 'odd<reason>' -e '<bounces>' page.html)" 0
bs report -T "$(printf 'bad \377 byte <é>')" >bytes.html
ok "not UTF-8: the page still is" check bytes.html
ok "not UTF-8: a replacement character" \
    grep -qF '<h1>bad '"$(printf '\357\277\275')"' byte &lt;é&gt;</h1>' bytes.html
ok "a long domain is cut in the chart" \
    grep -qF '>lists.a-rather-long-sub…</text>' page.html
ok "and whole in its tooltip" grep -qF \
    '<title>lists.a-rather-long-subdomain-name.example.co.uk: 2 addresses' \
    page.html

# ---- the checker itself finds what it must ----

sed 's/&lt;b&gt;bold&lt;\/b&gt;/<b>bold<\/b> <i>/' page.html >bad.html
ok "checker: unbalanced tags are found" eval '! check bad.html >/dev/null'
sed 's/&quot;o&amp;&lt;b&gt;/"o\&<b>/' page.html >bad.html
ok "checker: a raw & and < are found" eval '! check bad.html >/dev/null'
sed '0,/height="16"\/>/s//height="16">/' page.html >bad.html
ok "checker: an unclosed SVG element is found" \
    eval '! check bad.html >/dev/null'
sed 's|<footer>|<img src="https://cdn.example/x.png"><footer>|' page.html \
    >bad.html
ok "checker: an outside address is found" eval '! check bad.html >/dev/null'

# ---- options ----

bs report >top.html
nreasons=$(grep -c '^reason' stats.txt)
rest=$(grep '^reason' stats.txt | sort -t "$tab" -k3,3nr -k2,2 |
    tail -n +11 | awk -F'\t' '{ n += $3 } END { print n }')
is "report: ten reasons by default" "$(data top.html | grep -c '^reason')" 10
unit=events; [ "$rest" = 1 ] && unit=event
ok "report: the others summed up" \
    grep -q "And $((nreasons - 10)) more reason (${rest} $unit)" top.html
bs report -n 3 -l 5 >small.html
is "-n 3: three reasons, three domains" \
    "$(data small.html | grep -c '^reason\|^domain')" 6
is "-l 5: the newest five transitions" \
    "$(data small.html | grep '^trans')" "$(grep '^trans' data.txt | head -n 5)"
ok "-l 5: and how many there are" grep -q \
    "The newest 5 of $(card data.txt changes) changes of state" small.html
bs report -l 0 >none.html
ok "-l 0: no transitions listed, still valid" check none.html
is "-l 0: no table" "$(grep -c '<table' none.html)" 0

bs report -S 2024-03-10 -D 2 >range.html
ok "-S -D: valid" check range.html
is "-S 2024-03-10 -D 2: those two days, as stats counts them" \
    "$(data range.html | grep '^day')" \
    "$(grep '^day' stats.txt | grep "${tab}2024-03-1[01]${tab}")"
in_range=$(bs export | awk -F'\t' '$1 == "event" && $4 >= "2024-03-10" &&
    $4 < "2024-03-12" { print $2 }' | sort -u | wc -l | tr -d ' ')
data range.html >range.txt
is "-S -D: the addresses with events in the range" \
    "$(card range.txt addresses)" "$in_range"
bs -t 2024-03-12T05:00:00Z report --days=3 >days.html
is "--days 3: the three days up to today (-t)" \
    "$(data days.html | grep '^day' | cut -f2 | tr '\n' ' ')" \
    "2024-03-10 2024-03-11 2024-03-12 "
bs report --since=2023-06-01 >weeks.html
ok "a long range: valid" check weeks.html
is "a long range: a bar per week" "$(grep -c '<h2>Bounces per week</h2>' weeks.html)" 1
is "a long range: the classes still add up" \
    "$(data weeks.html | grep '^class' | sort)" "$(grep '^class' stats.txt)"
bs report -S 2030-01-01 >later.html
ok "a range without events: valid" check later.html
ok "a range without events: says so" \
    grep -q 'No events in this range' later.html

# ---- an empty state file ----

"$BIN/bstate" -d empty.tdb expire
"$BIN/bstate" -d empty.tdb report >empty.html
is "empty file: exit 0" "$?" 0
ok "empty file: valid" check empty.html
ok "empty file: says there is nothing yet" grep -q 'Nothing yet' empty.html

# ---- errors ----

bs report >/dev/full 2>err
is "a full disk: exit 2" "$?" 2
is "a full disk: said so" "$(cat err)" "bstate: stdout: No space left on device"
for args in "-n 0" "-S not-a-date" "-D 0" "-l x" "extra"; do
	bs report $args >out 2>/dev/null
	is "report $args: usage error, exit 2, no page" "$? $(wc -c <out)" "2 0"
done
"$BIN/bstate" -d missing.tdb report >out 2>err
is "a missing state file: exit 2, no page" "$? $(wc -c <out)" "2 0"
is "the file is still not changed" "$(cksum <"$DB")" "$sum_before"

done_testing
