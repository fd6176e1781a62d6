# lib.sh - a tiny TAP library for the shell tests.
# Tests source it; $BIN is the directory of the programs under test.
: "${BIN:?BIN must name the directory of the built programs}"
TOP=$(cd "$(dirname "$0")/.." && pwd)
FIX=$TOP/tests/fixtures
CORPUS=${CORPUS:-$TOP/../shared/corpus/sisimai}
T=$(mktemp -d "${TMPDIR:-/tmp}/bounce-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
_n=0
_fail=0

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
ok() {	# ok DESCRIPTION COMMAND...
	_d=$1; shift
	_n=$((_n + 1))
	if "$@" >"$T/.out" 2>&1; then
		echo "ok $_n - $_d"
	else
		echo "not ok $_n - $_d"
		sed 's/^/# /' "$T/.out"
		_fail=1
	fi
}
is() {	# is DESCRIPTION GOT WANT
	_n=$((_n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $_n - $1"
	else
		echo "not ok $_n - $1"
		printf '# got:  %s\n# want: %s\n' "$2" "$3"
		_fail=1
	fi
}
done_testing() { echo "1..$_n"; exit $_fail; }
