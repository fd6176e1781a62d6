#!/bin/sh
# The manual: every page is mandoc-clean, every program has a page with
# the usual sections, and each page's SYNOPSIS names exactly the option
# letters of the program's usage text.
. "$(dirname "$0")/lib.sh"

skip() {	# skip REASON
	_n=$((_n + 1))
	echo "ok $_n # SKIP $1"
}

# Silent when the page is clean; otherwise print what mandoc says.
lint() {
	out=$(mandoc -Tlint -W warning "$1" 2>&1)
	[ -z "$out" ] && return 0
	printf '%s\n' "$out"
	return 1
}

# The option letters of a usage text on stdin, sorted, on one line:
# "[-jh] [-H header]" gives "Hhj".
usage_letters() {
	sed -n '/^usage:/,$p' | tr ' \t[]|' '\n\n\n\n\n' |
	    grep '^-[A-Za-z0-9]' | grep -v '^--' | sed 's/^-//' |
	    fold -w1 | LC_ALL=C sort -u | tr -d '\n'
}

# The option letters named by Fl in a page's SYNOPSIS, the same way.
synopsis_letters() {
	awk '/^\.Sh / { s = ($2 == "SYNOPSIS"); next }
	    s && /^\./ {
		for (i = 1; i < NF; i++)
			if (($i == "Fl" || $i == ".Fl") &&
			    $(i + 1) ~ /^[A-Za-z0-9]+$/)
				print $(i + 1)
	    }' "$1" | fold -w1 | LC_ALL=C sort -u | tr -d '\n'
}

has_section() {	# has_section PAGE NAME
	grep -qx "\.Sh $2" "$1"
}

set -- "$TOP"/man/*.[1-8]
ok "there are manual pages" test -f "$1"
if command -v mandoc >/dev/null 2>&1; then
	for m in "$@"; do
		[ -f "$m" ] || continue
		ok "${m##*/}: mandoc -Tlint -W warning is silent" lint "$m"
	done
else
	skip "mandoc is not installed"
fi

for c in "$TOP"/cmd/*.c; do
	[ -f "$c" ] || continue
	prog=${c##*/}
	prog=${prog%.c}
	page=$TOP/man/$prog.1
	ok "$prog: has man/$prog.1" test -f "$page"
	[ -f "$page" ] || continue
	for s in NAME SYNOPSIS DESCRIPTION EXIT_STATUS EXAMPLES SEE_ALSO; do
		s=$(echo "$s" | tr _ ' ')
		ok "$prog.1: has section $s" has_section "$page" "$s"
	done
	ok "$prog -h: exits 0" "$BIN/$prog" -h
	"$BIN/$prog" -h >"$T/usage" 2>&1
	ok "$prog -h: prints a usage line" grep -q "^usage: $prog " "$T/usage"
	want=$(usage_letters <"$T/usage")
	got=$(synopsis_letters "$page")
	ok "$prog: the usage text names options" test -n "$want"
	is "$prog.1: SYNOPSIS names the usage's option letters" "$got" "$want"
done

done_testing
