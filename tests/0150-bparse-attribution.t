#!/bin/sh
# bparse attribution: -H NAME (a unique tracking header of the returned
# message fills the id column, else its Message-ID) and -V PREFIX (VERP
# return addresses give the recipient a report does not name).
. "$(dirname "$0")/lib.sh"

# ids FILE...: the id column of every record, space-separated
ids() { "$BIN/bparse" "$@" | cut -f8 | tr '\n' ' '; }

# ---- the id column without -H: the returned message's Message-ID ----
is "no -H: Message-ID from message/rfc822" "$(ids "$FIX/dsn-postfix.eml")" \
    "news-2014-11.17@app.example.org news-2014-11.17@app.example.org "
is "no -H: Message-ID from text/rfc822-headers" \
    "$(ids "$FIX/dsn-delayed.eml")" "news-2014-11.18@app.example.org "
is "no -H: the bounce's own Message-ID is never the id" \
    "$(ids "$FIX/dsn-mixed.eml")" "alert-1@example.org "
is "no -H: returned headers right after the part's Content-Type line" \
    "$(ids "$FIX/dsn-leaked-headers.eml")" "sept-news-15@example.com "
is "no -H: a returned message glued to its part's Content-Type line" \
    "$(ids "$FIX/dsn-leaked-rfc822.eml")" "promo-1128@example.com "
is "a returned message glued to its part's header is not the bounce's text" \
    "$("$BIN/bparse" "$FIX/dsn-leaked-rfc822.eml" | cut -f10)" \
    "Messages without To: fields are not accepted here"
# No returned message: a References header names the original.
sed -e '/^Message-ID: /a\
References: <spring-sale-7@example.com>' -e '/^--- Below this line/,$d' \
    "$FIX/families/qmail-1.eml" >"$T/refs.eml"
is "no -H: no returned message, the original from References" \
    "$(ids "$T/refs.eml" | cut -d' ' -f1)" "spring-sale-7@example.com"
is "no -H: Message-ID from Exim's 'Message header follows' copy" \
    "$(ids "$FIX/families/exim-8.eml")" "weekly-4471@lists.example.com "

# The returned message with an mbox "From " line before its header,
# and one sent quoted-printable: its fields are read all the same.
sed '/^Content-Transfer-Encoding: 8bit$/{n;a\
From bounces@lists.example.org Tue Nov  4 16:01:10 2014
}' "$FIX/dsn-postfix.eml" >"$T/fromline.eml"
is "no -H: a returned message opening with a From line" \
    "$(ids "$T/fromline.eml")" \
    "news-2014-11.17@app.example.org news-2014-11.17@app.example.org "
sed -e 's/^Content-Transfer-Encoding: 8bit$/Content-Transfer-Encoding: quoted-printable/' \
    -e '/^Message-ID: <news/s/@/=40/' "$FIX/dsn-postfix.eml" >"$T/qp.eml"
is "no -H: a returned message sent quoted-printable" \
    "$(ids "$T/qp.eml")" \
    "news-2014-11.17@app.example.org news-2014-11.17@app.example.org "

# ---- -H: the unique header ----
is "-H: from a returned message/rfc822" \
    "$(ids -H x-bounce-identifier "$FIX/dsn-postfix.eml")" \
    "nl-2014-11-17-4711 nl-2014-11-17-4711 "
is "-H: from text/rfc822-headers" \
    "$(ids -H X-Bounce-Identifier "$FIX/dsn-sendmail.eml")" \
    "order-8812-c3f1 order-8812-c3f1 order-8812-c3f1 "
is "-H: from the copy in a plain-text bounce" \
    "$(ids -H x-bounce-identifier "$FIX/exim.eml")" \
    "nl-2014-11-19-0815 nl-2014-11-19-0815 "
is "-H: from the message enclosed in a feedback report" \
    "$(ids --header=X-BOUNCE-IDENTIFIER "$FIX/arf-rcpt.eml")" \
    "deals-46-paula "
is "-H: the header missing, the Message-ID" \
    "$(ids -H x-bounce-identifier "$FIX/dsn-delayed.eml")" \
    "news-2014-11.18@app.example.org "
is "-H: another header name" "$(ids -H Subject "$FIX/dsn-mixed.eml")" \
    "Alert "
"$BIN/bparse" -H x-bounce-identifier "$FIX/dsn-postfix.eml" >"$T/h.out"
"$BIN/bparse" "$FIX/dsn-postfix.eml" >"$T/noh.out"
is "-H changes the id column only" "$(cut -f1-7,9,10 "$T/h.out")" \
    "$(cut -f1-7,9,10 "$T/noh.out")"

# The header quoted in the text of a bounce with no returned message.
cat >"$T/quoted.eml" <<'MSG'
From: postmaster@mx.example.net
To: news@example.org
Subject: Delivery failure
Date: Mon, 24 Nov 2014 10:00:00 +0000
X-Failed-Recipients: zoe@example.net

The following address failed:

  zoe@example.net
    550 5.1.1 mailbox unknown

Original headers:
X-Bounce-Identifier: nl-quoted-77
MSG
is "-H: the header quoted in the bounce text" \
    "$(ids -H x-bounce-identifier "$T/quoted.eml")" "nl-quoted-77 "

# ---- -V: VERP ----
"$BIN/bparse" "$FIX/dsn-x400.eml" >"$T/out"
is "no -V: a report without an address gives no recipient" \
    "$(cut -f3,4 "$T/out")" "-	failed"
"$BIN/bparse" -V bounces "$FIX/dsn-x400.eml" >"$T/out"
is "-V bounces: bounces+john.doe=example.com@... gives john.doe@example.com" \
    "$(cut -f3,4,5 "$T/out")" "john.doe@example.com	failed	5.1.1"
"$BIN/bparse" --verp=bounces "$FIX/dsn-x400.eml" >"$T/long.out"
ok "--verp is -V" cmp -s "$T/out" "$T/long.out"
"$BIN/bparse" -V owner "$FIX/dsn-x400.eml" >"$T/out"
is "-V with a prefix that does not match: no recipient" \
    "$(cut -f3 "$T/out")" "-"
# Only the returned message's Return-Path holds the VERP address.
sed '/^X-Original-To:/d; /^Delivered-To:/d; s/^To: bounces+.*/To: bounces@lists.example.org/' \
    "$FIX/dsn-x400.eml" >"$T/rp.eml"
"$BIN/bparse" -V bounces "$T/rp.eml" >"$T/out"
is "-V: the returned message's Return-Path" "$(cut -f3 "$T/out")" \
    john.doe@example.com
# A report that names the recipient wins over the VERP address.
sed 's/bounces@lists.example.org/bounces+someone=example.net@lists.example.org/' \
    "$FIX/dsn-delayed.eml" >"$T/named.eml"
"$BIN/bparse" -V bounces "$T/named.eml" >"$T/out"
is "-V: the report's own recipient wins" "$(cut -f3 "$T/out")" \
    frank@example.info
# Not a bounce: VERP does not invent a recipient for action none.
sed 's/^To: news@example.org/To: bounces+tina=example.com@lists.example.org/' \
    "$FIX/not-bounce.eml" >"$T/nb.eml"
"$BIN/bparse" -V bounces "$T/nb.eml" >"$T/out"
is "-V: no recipient for a message that is not a bounce" \
    "$(cut -f3,4 "$T/out")" "-	none"

# ---- the returned message's recipient ----
# rcpt FILE: the recipient column of every record, space-separated
rcpt() { "$BIN/bparse" "$@" | cut -f3 | tr '\n' ' '; }
sed 's/^To: undisclosed-recipients:;$/To: Jane Roe <jane@example.net>/' \
    "$FIX/dsn-x400.eml" >"$T/to.eml"
is "no address in the report: the returned message's To" \
    "$(rcpt "$T/to.eml")" "jane@example.net "
# Mail through a list names the list in To, not the member.
sed -e 's/^To: undisclosed-recipients:;$/To: list@lists.example.org\
List-Post: <mailto:list@lists.example.org>/' \
    -e 's/^From: List <list@lists.example.org>$/From: Ann Poster <ann@example.com>/' \
    "$FIX/dsn-x400.eml" >"$T/list.eml"
is "a To that is the list's List-Post address is no recipient" \
    "$(rcpt "$T/list.eml")" "- "
sed -e 's/^To: undisclosed-recipients:;$/To: List@Lists.example.org\
X-BeenThere: list@lists.example.org/' \
    -e 's/^From: List <list@lists.example.org>$/From: Ann Poster <ann@example.com>/' \
    "$FIX/dsn-x400.eml" >"$T/been.eml"
is "a To that is the list's X-BeenThere address is no recipient" \
    "$(rcpt "$T/been.eml")" "- "
sed -e 's/^To: undisclosed-recipients:;$/To: undisclosed-recipients:;\
Delivered-To: list@lists.example.org\
List-Post: <mailto:list@lists.example.org>/' \
    -e 's/^From: List <list@lists.example.org>$/From: Ann Poster <ann@example.com>/' \
    "$FIX/dsn-x400.eml" >"$T/dlv.eml"
is "nor is the list server's Delivered-To" "$(rcpt "$T/dlv.eml")" "- "
sed 's/^To: undisclosed-recipients:;$/To: other@lists.example.org\
List-Post: <mailto:list@lists.example.org>/' \
    "$FIX/dsn-x400.eml" >"$T/other.eml"
is "a To that is not the list's address still counts" \
    "$(rcpt "$T/other.eml")" "other@lists.example.org "
# The newest Received field names the envelope recipient.
sed 's/^From: Ann Poster <ann@example.com>$/Received: from lists.example.org (lists.example.org [192.0.2.7])\
	by mx.example.org (Postfix) with ESMTP id 4XyZ1\
	for <jane@example.net>; Tue, 18 Nov 2014 13:58:00 +0100 (CET)\
Received: from localhost by lists.example.org with SMTP\
	for <list@lists.example.org>; Tue, 18 Nov 2014 13:57:59 +0100\
&/' "$T/list.eml" >"$T/rcvd.eml"
is "the newest Received field's 'for <address>'" \
    "$(rcpt "$T/rcvd.eml")" "jane@example.net "
sed '/^	for <jane@example.net>;/s/.*/	; Tue, 18 Nov 2014 13:58:00 +0100 (CET)/' \
    "$T/rcvd.eml" >"$T/rcvd2.eml"
is "only the newest Received field counts" "$(rcpt "$T/rcvd2.eml")" "- "
sed 's/for <jane@example.net>/for jane@example.net/' "$T/rcvd.eml" \
    >"$T/rcvd3.eml"
is "'for address' without brackets" "$(rcpt "$T/rcvd3.eml")" \
    "jane@example.net "
sed 's/for <jane@example.net>/for <list-owner@lists.example.org> (by the list server)/' \
    "$T/rcvd.eml" >"$T/rcvd4.eml"
sed -i 's/^From: Ann Poster <ann@example.com>$/From: list-owner@lists.example.org/' \
    "$T/rcvd4.eml"
is "a Received field naming the sender gives no recipient" \
    "$(rcpt "$T/rcvd4.eml")" "- "

# ---- the returned message's To, when the report names no recipient ----
# A display name with a comma in it still names one address.
to_rcpt() {	# to_rcpt TO: the recipient bparse gives with that To
	{
	printf 'From: MAILER-DAEMON@mx.example.com\nTo: news@example.org\n'
	printf 'Subject: Delivery failure\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
	printf -- '--r\nContent-Type: message/delivery-status\n\n'
	printf 'Reporting-MTA: dns; mx.example.com\n\nAction: failed\nStatus: 5.1.1\n\n'
	printf -- '--r\nContent-Type: text/rfc822-headers\n\n'
	printf 'From: News <news@example.org>\nTo: %s\nSubject: hi\n\n--r--\n' "$1"
	} >"$T/to.eml"
	"$BIN/bparse" "$T/to.eml" | cut -f3
}
is "To with a quoted name holding a comma: its address" \
    "$(to_rcpt '"Doe, John" <john.doe@example.com>')" john.doe@example.com
is "To with two addresses: none of them" \
    "$(to_rcpt 'john.doe@example.com, jane@example.com')" -

done_testing
