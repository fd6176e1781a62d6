#!/bin/sh
# bparse over auto-replies (RFC 3834 and common vacation programs) and
# messages that are not bounces at all (action none).
. "$(dirname "$0")/lib.sh"

# col N COL FILE: column COL of line N of FILE
col() { awk -F '\t' -v n="$1" -v c="$2" 'NR == n { print $c }' "$3"; }

"$BIN/bparse" "$FIX/vacation.eml" >"$T/out" 2>"$T/err"
is "RFC 3834: exit status" "$?" 0
ok "RFC 3834: nothing on stderr" test ! -s "$T/err"
is "RFC 3834: one record" "$(wc -l <"$T/out")" 1
is "RFC 3834: the person away is the recipient" \
    "$(cut -f3,4,9 "$T/out")" "rachel.green@example.com	autoreply	autoreply"
is "RFC 3834: no status, smtp or mta" "$(cut -f5-7 "$T/out")" "-	-	-"
is "RFC 3834: diag is the subject" "$(col 1 10 "$T/out")" \
    "Out of office: November news"
is "RFC 3834: date" "$(col 1 2 "$T/out")" 2014-11-14T08:00:00Z

# Other marks of an auto-reply, each alone on a plain message.
for h in "X-Autoreply: yes" "Precedence: auto_reply" \
    "Auto-Submitted: auto-replied" "X-POST-MessageClass: 9; Autoresponder"; do
	sed "/^Subject:/a $h" "$FIX/not-bounce.eml" >"$T/mark.eml"
	"$BIN/bparse" "$T/mark.eml" >"$T/mark.out"
	is "'$h' makes an auto-reply" "$(cut -f3,4 "$T/mark.out")" \
	    "tina@example.com	autoreply"
done
# Auto-Submitted: auto-generated is a machine's mail, not a vacation.
sed '/^Subject:/a Auto-Submitted: auto-generated' "$FIX/not-bounce.eml" \
    >"$T/gen.eml"
"$BIN/bparse" "$T/gen.eml" >"$T/gen.out"
is "Auto-Submitted: auto-generated alone is no auto-reply" \
    "$(col 1 4 "$T/gen.out")" none

"$BIN/bparse" "$FIX/vacation-jp.eml" >"$T/out" 2>"$T/err"
is "Japanese vacation subject: exit status" "$?" 0
is "Japanese vacation subject: autoreply from the sender" \
    "$(cut -f3,4 "$T/out")" "taro@example.co.jp	autoreply"
is "Japanese vacation subject: diag decoded from ISO-2022-JP" \
    "$(col 1 10 "$T/out")" "自動応答: 11月のお知らせ"

# The original's Message-ID is in In-Reply-To: it attributes the reply.
"$BIN/bparse" "$FIX/vacation.eml" >"$T/out"
is "RFC 3834: id from In-Reply-To" \
    "$(col 1 8 "$T/out")" news-2014-11.17@app.example.org

# ---- not a bounce ----
"$BIN/bparse" "$FIX/not-bounce.eml" >"$T/out" 2>"$T/err"
is "not a bounce: exit status" "$?" 0
ok "not a bounce: nothing on stderr" test ! -s "$T/err"
is "not a bounce: exactly one record" "$(wc -l <"$T/out")" 1
is "not a bounce: action and detector none, no recipient" \
    "$(cut -f3,4,9 "$T/out")" "-	none	none"
is "not a bounce: codes in the text are not a status" \
    "$(cut -f5,6 "$T/out")" "-	-"
is "not a bounce: diag is the decoded subject" "$(col 1 10 "$T/out")" \
    "Question à propos de la lettre"
is "not a bounce: date" "$(col 1 2 "$T/out")" 2014-11-16T13:14:15Z
"$BIN/bparse" "$FIX/not-vacation.eml" >"$T/out" 2>"$T/err"
is "'vacation' in the subject with Auto-Submitted: no is no auto-reply" \
    "$(cut -f3,4 "$T/out")" "-	none"

# A message with only headers and no body is still a message.
printf 'From: a@example.com\nSubject: hi\n' >"$T/hdronly.eml"
"$BIN/bparse" "$T/hdronly.eml" >"$T/out" 2>"$T/err"
is "headers only: exit status" "$?" 0
is "headers only: action none" "$(cut -f4,10 "$T/out")" "none	hi"

sed 's/^Subject: .*/Subject: Automatic Response/' "$FIX/not-bounce.eml" \
    >"$T/subject.eml"
is "'Automatic Response' as the subject makes an auto-reply" \
    "$("$BIN/bparse" "$T/subject.eml" | cut -f3,4)" "tina@example.com	autoreply"
sed 's/^Subject: .*/Subject: Auto-response for your message to the "News" mailing list/' \
    "$FIX/not-bounce.eml" >"$T/subject2.eml"
is "'Auto-response for your message' as the subject makes an auto-reply" \
    "$("$BIN/bparse" "$T/subject2.eml" | cut -f3,4)" "tina@example.com	autoreply"

# A person's mail from a provider whose bounces have a format of their
# own (GMX, Mail.ru) is no bounce when it names no failed address and
# says nothing failed; nor is a provider's report of another kind.
for from in "Anna Berg <anna.berg@gmx.de>" "DMARC <dmarc_support@corp.mail.ru>"; do
	sed "s/^From: .*/From: $from/" "$FIX/not-bounce.eml" >"$T/provider.eml"
	is "a plain message from $from: none" \
	    "$("$BIN/bparse" "$T/provider.eml" | cut -f3,4)" "-	none"
done
# A person's post that quotes a failure, an address, or words that also
# name a filter product is no bounce, whatever the sender's provider.
cat >"$T/post.eml" <<'MSG'
From: Karl Weber <karl.weber@gmx.net>
To: users@lists.example.org
Subject: Re: tests fail on perl 5.6.1
Date: Tue, 13 Aug 2002 10:12:00 +0200
Message-ID: <post-0813-1@gmx.net>

> Craig Hughes <craig@example.org> writes:
> Failed to run the test suite.

The spam-filters here are fine; whitelist mail to list@example.org.
MSG
is "a person's post quoting a failure and addresses: none" \
    "$("$BIN/bparse" "$T/post.eml" | cut -f3,4,9)" "-	none	none"
sed 's/@gmx.net/@example.net/' "$T/post.eml" >"$T/post2.eml"
is "the same post from another provider: none" \
    "$("$BIN/bparse" "$T/post2.eml" | cut -f3,4,9)" "-	none	none"
done_testing
