#!/bin/sh
# Postfix delivery status notifications, from bparse through bclassify:
# an unknown user and an unknown domain are hard, a greylisted message
# that expired in the queue and a full mailbox are soft, a 4.1.1 is
# soft, and a delay warning counts for nothing.
. "$(dirname "$0")/lib.sh"

# check FIXTURE CLASS REASON
check() {
	"$BIN/bparse" "$FIX/classify/$1" | "$BIN/bclassify" >"$T/out" 2>"$T/err"
	is "$1: exit 0" "$?" 0
	is "$1: one record" "$(wc -l <"$T/out")" 1
	is "$1: $2 $3" "$(cut -f11,12 "$T/out" | tr '\t' ' ')" "$2 $3"
}

check postfix-511.eml hard userunknown
check postfix-512.eml hard hostunknown
check postfix-nxdomain.eml hard hostunknown
check postfix-greylist.eml soft blocked
check postfix-411.eml soft userunknown
check postfix-full.eml soft mailboxfull
check postfix-delay.eml info expired

done_testing
