#!/bin/sh
# make demo's script: the whole pipeline over the bundled sample, from
# bfetch to bstate report, with nothing but the built programs.
. "$(dirname "$0")/lib.sh"

TMPDIR=$T sh "$TOP/tests/demo.sh" "$BIN" >"$T/out" 2>"$T/err"
is "demo: exit status" "$?" 0
ok "demo: nothing on stderr" test ! -s "$T/err"
ok "demo: bfetch spooled the sample" grep -q '^== bfetch -s spool sample.mbox: 12 messages spooled' "$T/out"
ok "demo: records made" grep -q '^== bparse | bclassify: 12 messages, 13 records' "$T/out"
ok "demo: transitions shown" grep -q 'carol.jones@example.net.*send.*invalid' "$T/out"
ok "demo: stats shown" grep -q 'state.*invalid' "$T/out"
ok "demo: a decision explained" grep -q '^== bstate -d state.tdb why' "$T/out"
ok "demo: a report written" test -s "$BIN/demo-report.html"
ok "demo: the report is HTML with SVG" grep -q '<svg' "$BIN/demo-report.html"
ok "demo: its temporary files are gone" sh -c "! ls '$T'/bounce-demo.* >/dev/null 2>&1"
done_testing
