#!/bin/sh
# bparse -U: requests sent to a List-Unsubscribe address.
. "$(dirname "$0")/lib.sh"

"$BIN/bparse" -U 'unsubscribe+*@lists.example.com' "$FIX/unsub-token.eml" >"$T/a"
is "token that encodes an address" "$(cut -f3,4,8,9 "$T/a")" \
    "jane.doe@example.org	unsubscribe	jane.doe=example.org	unsubscribe"

"$BIN/bparse" -U '*@unsub.example.com' "$FIX/unsub-pmta.eml" >"$T/b"
is "opaque token: the sender, token as id" "$(cut -f3,4,8 "$T/b")" \
    "reader@example.net	unsubscribe	4711.weekly.2024-10"

"$BIN/bparse" "$FIX/unsub-token.eml" "$FIX/unsub-pmta.eml" >"$T/c"
is "without -U: not requests" "$(cut -f4 "$T/c" | tr '\n' ' ')" "none none "

"$BIN/bparse" -U 'other+*@lists.example.com' "$FIX/unsub-token.eml" >"$T/d"
is "another pattern does not match" "$(cut -f4 "$T/d")" none

"$BIN/bparse" -U 1 -U 2 -U 3 -U 4 -U 5 -U 6 -U 7 -U 8 -U 9 \
    "$FIX/unsub-token.eml" >/dev/null 2>"$T/e"
is "too many patterns: usage error" "$?" 2
# The whole way: the request mutes the address as unsubscribed.
"$BIN/bparse" -U 'unsubscribe+*@lists.example.com' "$FIX/unsub-token.eml" |
    "$BIN/bclassify" | "$BIN/bscore" -d "$T/state.tdb" >"$T/trans"
is "pipeline: the transition" "$(cut -f2,3,4 "$T/trans")" \
    "jane.doe@example.org	send	unsubscribed"
"$BIN/bstate" -d "$T/state.tdb" check jane.doe@example.org
is "pipeline: no longer mailable" "$?" 1
done_testing
