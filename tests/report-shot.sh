#!/bin/sh
# report-shot.sh - look at a bstate report page in a real browser: build
# a state file from the report fixtures, write the page, and take a
# screenshot with headless Chromium (Debian: apt-get install chromium).
# Not part of make check.
#
#   tests/report-shot.sh [-w width] [-h height] [BIN [OUT.png]]
#
# BIN is the directory of the built programs (default build); the page
# is kept next to the picture as OUT.html.
set -eu

width=1200
height=1600
while getopts w:h: opt; do
	case $opt in
	w) width=$OPTARG ;;
	h) height=$OPTARG ;;
	*) echo "usage: $0 [-w width] [-h height] [BIN [OUT.png]]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/build}" && pwd)
out=${2:-report.png}
case $out in /*) ;; *) out=$PWD/$out ;; esac
page=${out%.png}.html

browser=$(command -v chromium || command -v chromium-browser ||
    command -v google-chrome || true)
if [ -z "$browser" ]; then
	echo "report-shot.sh: no chromium found (apt-get install chromium)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/report-shot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/state.tdb
"$bin/bscore" -d "$db" "$top/tests/fixtures/report/records.tsv" >/dev/null
"$bin/bstate" -d "$db" -t 2024-03-13T10:00:00Z set '"it'"'"'s"@x.example' \
    onhold 'checked by hand: <b>bold</b> & "quoted"'
"$bin/bstate" -d "$db" -t 2024-03-14T10:00:00Z set bert@example.net \
    persistent
"$bin/bstate" -d "$db" report -T 'Bounces in March <2024> & "more"' >"$page"

# No network, no profile, no GPU: the page must draw from itself alone.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" --screenshot="$out" \
    --window-size="$width,$height" "file://$page" >/dev/null 2>&1
echo "$out"
