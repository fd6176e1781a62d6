/*
 * text.c - bounces written in an MTA's or a provider's own words.
 *
 * Most such bounces share one shape: some words that say which software
 * wrote it, a part of the text that lists the failed addresses, each
 * followed by what went wrong, and then the returned message.  So a
 * format is data (struct btext_fmt in formats.c): how to recognise it,
 * where its error section starts and where it ends.  This file holds the
 * one engine that reads every format.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "formats.h"


/* Does any of the '|'-separated alternatives occur in s? */
int
bt_any(const char *s, const char *alts)
{
	char buf[256];

	if (s == NULL || alts == NULL)
		return 0;
	while (*alts) {
		const char *bar = strchr(alts, '|');
		size_t n = bar ? (size_t)(bar - alts) : strlen(alts);
		if (n > 0 && n < sizeof buf) {
			memcpy(buf, alts, n);
			buf[n] = '\0';
			if (b_strcasestr(s, buf) != NULL)
				return 1;
		}
		alts += n;
		if (*alts == '|')
			alts++;
	}
	return 0;
}

/* The earliest position of any alternative in [s, e), or NULL; *len
 * gets the length of the alternative found there. */
static const char *
first_of(const char *s, const char *e, const char *alts, size_t *len)
{
	const char *best = NULL;
	char buf[256];

	while (alts != NULL && *alts) {
		const char *bar = strchr(alts, '|');
		size_t n = bar ? (size_t)(bar - alts) : strlen(alts);
		if (n > 0 && n < sizeof buf) {
			const char *p;
			memcpy(buf, alts, n);
			buf[n] = '\0';
			/* Only an earlier match can win: search up to the
			 * best one so far. */
			const char *lim = best ? best + n - 1 : e;
			if (lim > e)
				lim = e;
			p = b_memcasemem(s, (size_t)(lim - s), buf);
			if (p != NULL && (best == NULL || p < best)) {
				best = p;
				*len = n;
			}
		}
		alts += n;
		if (*alts == '|')
			alts++;
	}
	return best;
}

static int
header_line(const char *l, const char *e)
{
	const char *colon;
	static const char *names[] = { "Return-Path:", "Received:",
	    "DKIM-Signature:", "X-Received:", "Message-ID:", "Date:",
	    "From:", "To:", "Subject:", "MIME-Version:", "Content-Type:",
	    "Return-path:", "Authentication-Results:", "Delivered-To:",
	    "X-Original-To:", "Reply-To:", NULL };

	/* Most lines are not headers: a name is short and ends in ':'. */
	colon = memchr(l, ':', (size_t)(e - l) < 32 ? (size_t)(e - l) : 32);
	if (colon == NULL || !isalpha((unsigned char)*l))
		return 0;
	for (int i = 0; names[i] != NULL; i++) {
		size_t n = strlen(names[i]);
		if ((size_t)(e - l) > n && strncasecmp(l, names[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * Where the returned message starts inside [s, e) when no marker says
 * so: a paragraph that opens with three header lines (continuation
 * lines aside).  Two could be a summary such as "Subject: ...".
 */
static const char *
headers_start(const char *s, const char *e)
{
	for (const char *l = s; l < e;) {
		const char *nl = memchr(l, '\n', (size_t)(e - l)), *q;
		int n = 0;

		if (nl == NULL)
			break;
		if (l == s || l[-2] == '\n') {
			for (q = l; q < e && n < 3;) {
				const char *qe = memchr(q, '\n',
				    (size_t)(e - q));
				if (header_line(q, e))
					n++;
				else if (*q != ' ' && *q != '\t')
					break;
				if (qe == NULL)
					break;
				q = qe + 1;
			}
			if (n >= 3)
				return l;
		}
		l = nl + 1;
	}
	return NULL;
}

/* The start of the line that holds p. */
static const char *
line_start(const char *base, const char *p)
{
	while (p > base && p[-1] != '\n')
		p--;
	return p;
}

/* The first mention of addr in [s, s + n) as an address of its own, not
 * inside a longer one ("bob@x" in "jimbob@x" or "bob@x.example"). */
static const char *
addr_in(const char *s, size_t n, const char *addr)
{
	const char *e = s + n, *p = s;
	size_t len = strlen(addr);

	while (p < e && (p = b_memcasemem(p, (size_t)(e - p), addr)) !=
	    NULL) {
		const char *q = p + len;
		/* atext, but not what opens an address in quotes
		 * ('bob@x') or X.400 ("SMTP=bob@x", "/bob@x") */
		int before = p > s && ((baddr_atext((unsigned char)p[-1]) &&
		    p[-1] != '\'' && p[-1] != '=' && p[-1] != '/') ||
		    (unsigned char)p[-1] >= 0x80);
		int after = q < e && (isalnum((unsigned char)*q) ||
		    *q == '-' || *q == '_' || (unsigned char)*q >= 0x80 ||
		    (*q == '.' && q + 1 < e &&
		    isalnum((unsigned char)q[1])));
		if (!before && !after)
			return p;
		p++;
	}
	return NULL;
}

/* line_start() for the addresses of a text, which come in order: from
 * the start found for the one before, so that a long line with many
 * of them is not walked back over for each. */
static const char *
line_of(struct bctx *c, const char *base, const char *p)
{
	if (c->ls_base == base && c->ls_at != NULL && p >= c->ls_at) {
		const char *nl = memrchr(c->ls_at, '\n',
		    (size_t)(p - c->ls_at));
		if (nl != NULL)
			c->ls = nl + 1;
	} else
		c->ls = line_start(base, p);
	c->ls_base = base;
	c->ls_at = p;
	return c->ls;
}

/* Are the bytes of [p, e) all in set? */
static int
only_of(const char *p, const char *e, const char *set)
{
	for (; p < e; p++)
		if (*p == '\0' || strchr(set, *p) == NULL)
			return 0;
	return 1;
}

/*
 * Does the address at a (n bytes) stand alone on its line, as in a list
 * of failed addresses ("  <user@example.com>:"), rather than in a
 * sentence such as a greeting?
 */
static int
alone_on_line(const char *ls, const char *a, size_t n)
{
	const char *p;

	if (!only_of(ls, a, " \t<\"*-"))
		return 0;
	for (p = a + n; *p && *p != '\n'; p++)
		if (!strchr(" \t>\":,.", *p))
			return 0;
	return 1;
}

/*
 * Does the address at a (n bytes) lead its line as the subject of what
 * follows, as Postfix and qmail list failed recipients
 * ("<user@example.com>: host mx.example.com said: ...")?
 */
static int
leads_line(const char *ls, const char *a, size_t n)
{
	const char *p;

	if (!only_of(ls, a, " \t<\""))
		return 0;
	for (p = a + n; *p == '>' || *p == '"'; p++)
		;
	return *p == ':';
}

/* Is the address at [a, b) one that must never be taken as failed? */
static int
excluded(struct bctx *c, const char *addr, const char *ls, const char *at)
{
	static const char *locals[] = { "postmaster@", "mailer-daemon@",
	    "mailer_daemon@", "mail-daemon@", NULL };
	static const char *ctx[] = { "message-id:", "message id:", "msgid",
	    "envelope-from", "envelope-id", "mail from", "from:",
	    "return-path", "sender", "reply-to", "references:", "in-reply-to",
	    " id <", "errors-to", "message from", "contact", "assistance",
	    "write to", "reply to", "questions", "help", "generated from",
	    "expanded from", NULL };
	char line[512];
	size_t n = (size_t)(at - ls);

	for (int i = 0; locals[i] != NULL; i++)
		if (b_startcase(addr, locals[i]))
			return 1;
	for (int i = 0; i < c->nexcl; i++)
		if (strcmp(addr, c->excl[i]) == 0 &&
		    !(c->listed && (alone_on_line(ls, at, strlen(addr)) ||
		    leads_line(ls, at, strlen(addr)))))
			return 1;
	/* The words before the address on its line tell what it is. */
	if (n >= sizeof line)
		ls = at - (n = sizeof line - 1);
	memcpy(line, ls, n);
	line[n] = '\0';
	for (int i = 0; ctx[i] != NULL; i++)
		if (b_strcasestr(line, ctx[i]) != NULL)
			return 1;
	return 0;
}

/* Can addr be a failed recipient, as far as X-Failed-Recipients says? */
static int
failed_one(const struct bctx *c, const char *addr)
{
	if (!c->xfr_only)
		return 1;
	for (int i = 0; i < c->nxfr; i++)
		if (strcmp(c->xfr[i], addr) == 0)
			return 1;
	return 0;
}

/*
 * The next failed-recipient address in [p, e): returns a normalised
 * address (arena) and sets *where and *end to its bytes in the text.
 */
static char *
next_addr(struct bctx *c, const char *base, const char *p, const char *e,
    const char **where, const char **end)
{
	while (p < e) {
		const char *at = memchr(p, '@', (size_t)(e - p));
		const char *a, *b;
		char *addr;

		if (at == NULL)
			return NULL;
		/* The local part in ASCII only: an address in running text
		 * in other scripts is written next to words with no blank
		 * in between. */
		for (a = at; a > base && baddr_atext((unsigned char)a[-1]) &&
		    a[-1] != '/'; a--)
			;
		for (b = at + 1; b < e && (isalnum((unsigned char)*b) ||
		    *b == '-' || *b == '.' || *b == '_'); b++)
			;
		while (b > at + 1 && b[-1] == '.')
			b--;
		/* 'user@example.com' quoted in single quotes, and X.400's
		 * "SMTP=user@example.com" or "RFC-822=user@example.com" */
		if (a < at && *a == '\'' && b < e && *b == '\'')
			a++;
		if (at - a > 5 && strncasecmp(a, "smtp=", 5) == 0)
			a += 5;
		else if (at - a > 8 && strncasecmp(a, "rfc-822=", 8) == 0)
			a += 8;
		p = at + 1;
		if (a == at || b == at + 1)
			continue;
		addr = barena_strndup(c->a, a, (size_t)(b - a));
		b_lower(addr);
		if (!baddr_valid(addr) || excluded(c, addr,
		    line_of(c, base, a), a) || !failed_one(c, addr))
			continue;
		*where = a;
		*end = b;
		return addr;
	}
	return NULL;
}

/*
 * The remote MTA named in a text diagnostic: "host mx.example.com
 * [192.0.2.1]", "mx.example.com[192.0.2.1] said", "remote host
 * mx.example.com said".  Returns arena memory or NULL.
 */
static char *
text_mta(struct bctx *c, const char *diag)
{
	const char *p = diag, *q;

	while ((p = b_strcasestr(p, "host ")) != NULL) {
		p += 5;
		while (*p == ' ' || *p == ':')
			p++;
		for (q = p; isalnum((unsigned char)*q) || *q == '-' ||
		    *q == '.'; q++)
			;
		/* a host name with a dot, not an IP address alone */
		if (q - p > 3 && memchr(p, '.', (size_t)(q - p)) != NULL &&
		    !isdigit((unsigned char)q[-1]))
			return b_lower(barena_strndup(c->a, p,
			    (size_t)(q - p)));
	}
	return NULL;
}

/* Is there a letter or a digit (or any non-ASCII byte) in [s, e)? */
static int
has_words(const char *s, const char *e)
{
	for (; s < e; s++)
		if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

static int
is_rule(char ch)
{
	return ch == '-' || ch == '_' || ch == '=' || ch == '*' || ch == '|' ||
	    ch == '+';
}

/* Do four rule characters start at p ("----", "****")? */
static int
rule4(const char *p)
{
	return is_rule(p[0]) && is_rule(p[1]) && is_rule(p[2]) &&
	    is_rule(p[3]);
}

static char *
clip(struct bctx *c, const char *s, const char *e)
{
	const char *p, *q;

	if (e < s)
		e = s;
	/* An opening banner between rules ("****** Message from
	 * InterScan E-Mail VirusWall NT ******") names the software, not
	 * what happened. */
	for (p = s; p < e && isspace((unsigned char)*p); p++)
		;
	if (e - p > 8 && rule4(p) &&
	    (q = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		const char *r = q;

		while (r > p && isspace((unsigned char)r[-1]))
			r--;
		if (r - p > 8 && rule4(r - 4) && has_words(p, r))
			s = q + 1;
	}
	if (e - s > DIAG_MAX)
		e = s + DIAG_MAX;
	/* A line that is nothing but a rule, after some words, ends the
	 * text: what follows it is a footer, a signature or the next
	 * part.  One that opens the text may head what it says, and one
	 * under a first line of words underlines a heading ("Reason:"). */
	for (p = s; p < e; p = q + 1) {
		const char *r, *pl;

		for (r = p; r < e && (*r == ' ' || *r == '\t'); r++)
			;
		if ((q = memchr(p, '\n', (size_t)(e - p))) == NULL)
			q = e;
		if (q - r >= 4 && rule4(r)) {
			const char *t = r;

			while (t < q && (is_rule(*t) ||
			    isspace((unsigned char)*t)))
				t++;
			pl = p > s ? line_start(s, p - 1) : s;
			if (t == q && has_words(s, pl)) {
				e = p;
				break;
			}
		}
	}
	/* A rule of dashes or the like (four or more) that closes the
	 * text is no part of what it says, nor is a closing banner
	 * between two rules ("*****  End of message  *****"). */
	for (q = e; q > s && isspace((unsigned char)q[-1]); q--)
		;
	for (p = q; p > s && is_rule(p[-1]); p--)
		;
	if (q - p >= 4 && (p == s || isspace((unsigned char)p[-1]))) {
		const char *ls = p, *r;

		e = p;
		while (ls > s && ls[-1] != '\n')
			ls--;
		for (r = ls; r < p && (*r == ' ' || *r == '\t'); r++)
			;
		if (ls > s && p - r >= 4 && rule4(r))
			e = ls;
	}
	return bp_oneline(barena_strndup(c->a, s, (size_t)(e - s)));
}

/*
 * The diagnostic for the address at [w, we): the words before it on its
 * line ("Unknown user: someone@example.com", "Unable to deliver message
 * to <someone@example.com>") and the text after it.
 */
static char *
with_reason(struct bctx *c, const char *w, const char *we, char *after)
{
	const char *ls = line_start(c->body, w);
	char *d, *p;
	size_t n;

	(void)we;
	/* Past what closes the address, and the address it came from
	 * ("(expanded from <list@example.org>)", Exim's "(generated from
	 * ...)"), which says nothing about the failure. */
	for (;;) {
		while (*after && strchr(">:;,.)]\" ", *after) != NULL)
			after++;
		if (*after != '(' || (p = strchr(after, ')')) == NULL)
			break;
		n = (size_t)(p - after);
		if (!b_memcasemem(after, n, "expanded from") &&
		    !b_memcasemem(after, n, "generated from"))
			break;
		after = p + 1;
	}
	d = clip(c, ls, w);
	/* Up to the opening of the address or a name before it, past the
	 * arrows of a transcript ("<-- 550 5.1.1 <user@example.org>"). */
	p = d + strcspn(d, "<\"(");
	while (strncmp(p, "<--", 3) == 0 || strncmp(p, "<<<", 3) == 0)
		p += 3 + strcspn(p + 3, "<\"(");
	*p = '\0';
	b_trim(d);
	if (strlen(d) <= 3)
		return after;
	return *after ? barena_printf(c->a, "%s %s", d, after) : d;
}

/* Addresses never reported as failed: the bounce's own sender and
 * recipient, and the returned message's sender. */
static void
exclusions(struct bctx *c)
{
	const char *hdr[] = { "From", "Return-Path", "Sender", NULL };
	char *v;

	c->nexcl = 0;
	if (c->from != NULL && (v = baddr_norm(c->a, c->from)) != NULL)
		c->excl[c->nexcl++] = v;
	v = bmime_header(c->a, c->msg, "To");
	if (v != NULL && !baddr_several(v) &&
	    (v = baddr_norm(c->a, v)) != NULL)
		c->excl[c->nexcl++] = v;
	for (int i = 0; hdr[i] != NULL && c->orighdr != NULL; i++)
		if ((v = bp_field(c->a, c->orighdr, hdr[i])) != NULL &&
		    (v = baddr_norm(c->a, v)) != NULL &&
		    c->nexcl < (int)(sizeof c->excl / sizeof c->excl[0]))
			c->excl[c->nexcl++] = v;
}

/*
 * Exim's X-Failed-Recipients lists the failed addresses: any other in
 * the error section [s, e) ("Message rejected by abuse@example.org")
 * belongs to a diagnostic.  A list that the section does not name at
 * all restricts nothing.
 */
static void
failed_list(struct bctx *c, const char *s, const char *e)
{
	char **xfr;
	int n = bp_xfr(c, &xfr);

	c->xfr_only = 0;
	for (int i = 0; i < n && !c->xfr_only; i++)
		c->xfr_only = addr_in(s, (size_t)(e - s), xfr[i]) != NULL;
}

int
bp_reply_line(const char *l)
{
	return l[0] >= '2' && l[0] <= '5' && isdigit((unsigned char)l[1]) &&
	    isdigit((unsigned char)l[2]) && (l[3] == ' ' || l[3] == '-');
}

/* The reply that the line at l, before stop, quotes after a transcript
 * arrow ("Tue 2024-06-04 09:41:11.289: <-- 550 5.1.1 ..."), or NULL. */
static const char *
arrow_reply(const char *l, const char *stop)
{
	const char *nl = memchr(l, '\n', (size_t)(stop - l));
	const char *a = b_memcasemem(l, (size_t)((nl ? nl : stop) - l), "<-- ");

	return a != NULL && a + 8 <= stop && bp_reply_line(a + 4) ? a + 4 :
	    NULL;
}

/*
 * In a session transcript each entry is one reply ("554 <addr>... Remote
 * protocol error"), and the lines after it are other entries: replies
 * about hosts ("550 example.org (smtp)... Host unknown"), the commands
 * and answers of the next connection (">>> ", "<<< ", "While talking
 * to").  When the address's line ls is such a reply, the end of the
 * reply before stop: its last line, with the lines of a multi-line
 * reply ("550-" lines, then the "550 " one).
 */
static const char *
reply_end(const char *ls, const char *stop)
{
	const char *l = ls, *nl, *r;

	/* A reply quoted after an arrow ends with its last line ("550 "
	 * after any "550-" ones): the next line is the client's next
	 * command, or another reply. */
	if ((r = arrow_reply(ls, stop)) != NULL) {
		while ((nl = memchr(l, '\n', (size_t)(stop - l))) != NULL) {
			const char *q;

			l = nl + 1;
			if (r[3] != '-' || (q = arrow_reply(l, stop)) == NULL ||
			    strncmp(q, r, 3) != 0)
				return l;
			r = q;
		}
		return stop;
	}

	/* An entry that starts with the command ("RCPT To:<addr>") goes on
	 * with the answer ("<<< ") to the summary line. */
	while (strncmp(ls, ">>> ", 4) == 0 || strncmp(ls, "<<< ", 4) == 0) {
		if ((nl = memchr(ls, '\n', (size_t)(stop - ls))) == NULL)
			return stop;
		ls = nl + 1;
	}
	l = ls;
	if (!bp_reply_line(ls))
		return stop;
	while ((nl = memchr(l, '\n', (size_t)(stop - l))) != NULL) {
		int more = bp_reply_line(l) && l[3] == '-';

		l = nl + 1;
		if (l >= stop)
			break;
		if (more && strncmp(l, ls, 3) == 0 && bp_reply_line(l))
			continue;
		if (bp_reply_line(l) || strncmp(l, ">>> ", 4) == 0 ||
		    strncmp(l, "<<< ", 4) == 0 ||
		    strncasecmp(l, "While talking to", 16) == 0)
			return l;
	}
	return stop;
}

/*
 * Do the transcript entries at a and b say the same after their
 * addresses ("554 <x@example.org>... Remote protocol error")?  Sendmail
 * writes one such line for each recipient of a session that failed.
 */
static int
same_summary(const char *a, const char *b)
{
	const char *ae = strchr(a, '\n'), *be = strchr(b, '\n'), *x, *y;

	if (ae == NULL || be == NULL ||
	    (x = b_memcasemem(a, (size_t)(ae - a), ">... ")) == NULL ||
	    (y = b_memcasemem(b, (size_t)(be - b), ">... ")) == NULL)
		return 0;
	return ae - x == be - y && memcmp(x, y, (size_t)(ae - x)) == 0;
}

/*
 * The remote server's answer that a transcript entry at ls reports, as
 * sendmail quotes it above its own summary:
 *
 *	>>> MAIL From:<sender@example.com>
 *	<<< 550 Insecure mail relay
 *	554 <user@example.org>... Remote protocol error
 *
 * Summaries about hosts ("550 example.org (smtp)... Host unknown") may
 * stand between; another address's entry, a command or anything else
 * means the answer was not about this one.  Returns the answer on one
 * line (arena) or NULL.
 */
static char *
remote_reply(struct bctx *c, const char *s, const char *ls)
{
	const char *l = ls, *end = NULL, *nl;
	struct bbuf b = { 0 };
	char *r;

	if (!bp_reply_line(ls))
		return NULL;
	while (l > s) {
		const char *pl = line_start(s, l - 1);

		if (strncmp(pl, "<<< ", 4) == 0) {
			if (end == NULL)
				end = l;
		} else if (end != NULL || !bp_reply_line(pl) ||
		    (memchr(pl, '@', (size_t)(l - pl)) != NULL &&
		    !same_summary(pl, ls)))
			break;
		l = pl;
	}
	if (end == NULL)
		return NULL;
	for (; l < end; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(end - l));
		if (nl == NULL)
			nl = end;
		if (b.len > 0)
			bbuf_addc(&b, ' ');
		bbuf_add(&b, l + 4, (size_t)(nl - l - 4));
	}
	r = clip(c, b.s, b.s + b.len);
	bbuf_free(&b);
	return r;
}

/* The blanks that open the line at ls. */
static size_t
indent(const char *ls)
{
	return strspn(ls, " \t");
}

/*
 * Where the indented part of an entry ends: the entry's first line is
 * head, its text has reached p, and it goes on over the lines indented
 * deeper than head, up to a blank line, a line indented no deeper, or e.
 * Postfix indents the lines it wraps a reply onto, and Exim the lines
 * under each address of its list.
 */
static const char *
dedent(const char *head, const char *p, const char *e)
{
	const char *l, *t;

	for (l = memchr(p, '\n', (size_t)(e - p)); l != NULL && l + 1 < e;
	    l = memchr(l + 1, '\n', (size_t)(e - l - 1))) {
		t = l + 1;
		if (t[indent(t)] == '\n' || indent(t) <= indent(head))
			return t;
	}
	return e;
}

/*
 * Where the text about addr, mentioned at [w, from), ends: at the line of
 * the next other address (*next, at [*nw, *nwe), NULL for none) or at e,
 * and at the end of its reply in a transcript.
 */
static const char *
entry_end(struct bctx *c, const char *addr, const char *w, const char *from,
    const char *e, char **next, const char **nw, const char **nwe)
{
	const char *stop, *la = line_start(c->body, w), *deep = NULL;

	/* An entry whose address leads its line ("<a@example.org>: host
	 * ... said: 550 5.7.1\n    <b@example.net>: Sender address
	 * rejected"): an address on its deeper lines is one its reply
	 * quotes, not the next entry's. */
	if (leads_line(la, w, (size_t)(from - w)))
		deep = dedent(la, w, e);
	*next = next_addr(c, c->body, from, e, nw, nwe);
	while (*next != NULL && (strcmp(*next, addr) == 0 ||
	    (deep != NULL && *nw < deep && line_start(c->body, *nw) != la)))
		*next = next_addr(c, c->body, *nwe, e, nw, nwe);
	stop = *next ? line_start(c->body, *nw) : e;
	if (stop < from)
		stop = from;
	return reply_end(line_start(c->body, w), stop);
}

/* Does the line that holds p carry an SMTP failure reply (4xx, 5xx)? */
static int
failure_line(const char *base, const char *p, const char *e)
{
	const char *ls = line_start(base, p), *nl;
	char line[512], sm[4];
	size_t n;

	nl = memchr(p, '\n', (size_t)(e - p));
	n = (size_t)((nl ? nl : e) - ls);
	if (n >= sizeof line)
		n = sizeof line - 1;
	memcpy(line, ls, n);
	line[n] = '\0';
	return bsmtp_find(line, sm) && (sm[0] == '4' || sm[0] == '5');
}

/*
 * A transcript may name the address first in a summary of the message
 * ("*  To: user@example.org") and again in the reply that refused it
 * ("<-- 552 5.2.2 <user@example.org>: Mailbox full"), with the whole
 * session between.  When the refusal is too far on for the diagnostic
 * to reach it, the mention on its line, before any other address, is
 * the one to start from; nearer, the lines before it are kept, as they
 * often say which command it answered.
 */
static void
failing_mention(struct bctx *c, const char *addr, const char **w,
    const char **we, const char *e)
{
	const char *nw, *nwe, *from = *we;
	char *next;

	while ((next = next_addr(c, c->body, from, e, &nw, &nwe)) != NULL &&
	    strcmp(next, addr) == 0) {
		if (nwe - *w > DIAG_MAX && failure_line(c->body, nw, e)) {
			if (!failure_line(c->body, *w, e)) {
				*w = nw;
				*we = nwe;
			}
			return;
		}
		from = nwe;
	}
}

/* Every address in the section, each with the text after it (up to the
 * next one) as its diagnostic. */
static int
section_results(struct bctx *c, const struct btext_fmt *f, const char *s,
    const char *e)
{
	const char *w, *we, *nw, *nwe;
	char *addr, *next, *rr;
	int n = 0;

	addr = next_addr(c, c->body, s, e, &w, &we);
	while (addr != NULL) {
		struct bres *r;
		const char *stop;
		int dup = 0;

		/* Further mentions of the same address are skipped. */
		failing_mention(c, addr, &w, &we, e);
		stop = entry_end(c, addr, w, we, e, &next, &nw, &nwe);
		for (int i = c->nres - n; i < c->nres; i++)
			if (strcmp(c->res[i].rcpt, addr) == 0)
				dup = 1;
		if (!dup && (r = bp_add(c, f->name)) != NULL) {
			r->rcpt = addr;
			r->action = (char *)(c->delay ? "delayed" : "failed");
			r->diag = with_reason(c, w, we, clip(c, we, stop));
			if ((rr = remote_reply(c, s, line_start(c->body, w)))
			    != NULL)
				r->diag = barena_printf(c->a, "%s %s", rr,
				    r->diag);
			r->mta = text_mta(c, r->diag);
			bp_codes(c, r);
			n++;
		}
		addr = next;
		w = nw;
		we = nwe;
	}
	return n;
}

/* Exim's X-Failed-Recipients, when the text named nobody. */
static int
failed_header(struct bctx *c, const struct btext_fmt *f, const char *s,
    const char *e)
{
	char **xfr;
	int nx = bp_xfr(c, &xfr), n = 0;

	for (int i = 0; i < nx; i++) {
		struct bres *r;

		if ((r = bp_add(c, f->name)) == NULL)
			continue;
		r->rcpt = xfr[i];
		r->action = (char *)(c->delay ? "delayed" : "failed");
		r->diag = bp_text_diag(c, xfr[i]);
		if (r->diag == NULL)
			r->diag = clip(c, s, e);
		bp_codes(c, r);
		n++;
	}
	return n;
}

/* The bounce's own text: the body before a returned message in it (up
 * to a generic end marker, or a paragraph of header lines). */
static const char *
own_text(struct bctx *c)
{
	const char *s = c->body, *e, *p;
	size_t len;

	if (c->own != NULL || s == NULL)
		return c->own != NULL ? c->own : s;
	e = s + strlen(s);
	if ((p = first_of(s, e, BT_END, &len)) != NULL)
		e = p + len;	/* the marker says the format too */
	if ((p = headers_start(s, e)) != NULL)
		e = p;
	c->own = barena_strndup(c->a, s, (size_t)(e - s));
	return c->own;
}

static int
fmt_matches(struct bctx *c, const struct btext_fmt *f)
{
	if (f->from == NULL && f->subject == NULL && f->body == NULL &&
	    f->header == NULL)
		return 0;
	if (f->from != NULL && !bt_any(c->from, f->from))
		return 0;
	/* A provider known by its domain alone: its bounces come from
	 * its mail system (MAILER-DAEMON, postmaster), and its users'
	 * own mail from the same domain is no bounce. */
	if (f->from != NULL && f->subject == NULL && f->body == NULL &&
	    f->header == NULL && !f->anysender && !bt_any(c->from, BT_MAILER))
		return 0;
	if (f->subject != NULL && !bt_any(c->subject, f->subject))
		return 0;
	/* Words in the returned message (a link to Google Groups) say
	 * nothing of the bounce's format. */
	if (f->body != NULL && !bt_any(own_text(c), f->body))
		return 0;
	if (f->header != NULL && !bt_any(c->tophdr, f->header))
		return 0;
	return 1;
}

/*
 * Some bounces state the reason once, before the list of addresses: the
 * last n results take their diagnostic and codes from that text when
 * their own hold none.
 */
static int
from_preamble(struct bctx *c, const char *s, const char *e, int n)
{
	const char *first = e;
	char st[12], sm[4];
	char *pre;

	for (int i = c->nres - n; i < c->nres; i++) {
		const char *p = addr_in(s, (size_t)(e - s), c->res[i].rcpt);
		if (p != NULL && p < first)
			first = line_start(c->body, p);
	}
	if (first < s)		/* the address shares the marker's line */
		first = s;
	/* A format whose reason comes first: its first paragraph. */
	for (const char *q = s; c->before && q + 1 < first; q++)
		if (q[0] == '\n' && q[1] == '\n' && q > s) {
			first = q;
			break;
		}
	pre = clip(c, s, first);
	for (int i = c->nres - n; i < c->nres; i++) {
		struct bres *r = &c->res[i];
		if (c->before && *pre) {
			r->diag = pre;
			r->status = r->smtp = NULL;
			bp_codes(c, r);
		} else if ((r->diag == NULL || !*r->diag) && *pre)
			r->diag = pre;
		if ((r->status == NULL || !*r->status) && bstatus_find(pre, st))
			r->status = barena_strdup(c->a, st);
		if ((r->smtp == NULL || !*r->smtp) && bsmtp_find(pre, sm))
			r->smtp = barena_strdup(c->a, sm);
	}
	return n;
}

/*
 * Is the bounce a delay warning?  Its words are looked for in the text
 * before the returned message (which ends at e) and in the Subject,
 * unless the Subject opens as a failure's does and goes on with the
 * returned message's ("Undeliverable: Kickoff delayed to Monday").
 */
static int
is_delay(struct bctx *c, const struct btext_fmt *f, const char *e)
{
	static const char *const failed[] = { "undeliverable",
	    "undelivered", "returned mail", "failure notice",
	    "mail delivery failed", "delivery status notification (failure)",
	    "non remis", "unzustellbar", NULL };
	int subj = c->subject != NULL;

	for (int i = 0; subj && failed[i] != NULL; i++)
		if (b_startcase(c->subject, failed[i]))
			subj = 0;
	return f->delayed || (subj && bt_any(c->subject, BT_DELAY_SUBJECT)) ||
	    bt_any(barena_strndup(c->a, c->body, (size_t)(e - c->body)),
	    BT_DELAY_BODY);
}

/* The error section of format f in the bounce's text; the returned
 * message found past it becomes the returned headers if none are yet. */
static void
find_section(struct bctx *c, const struct btext_fmt *f, const char **sp,
    const char **ep)
{
	const char *s = c->body, *e = c->body + strlen(c->body), *p, *h;
	size_t len = 0;

	if (f != NULL && f->start != NULL &&
	    (p = first_of(s, e, f->start, &len)) != NULL)
		s = p + len;
	while (s < e && (*s == '\n' || *s == ' ' || *s == '\t'))
		s++;
	if ((p = first_of(s, e, f && f->end ? f->end : BT_END, &len)) != NULL) {
		if (c->orighdr == NULL)
			c->orighdr = barena_strdup(c->a, p + len);
		e = p;
	}
	if ((h = headers_start(s, e)) != NULL) {
		if (c->orighdr == NULL)
			c->orighdr = barena_strdup(c->a, h);
		e = h;
	}
	if ((p = first_of(s, e, BT_FOOT, &len)) != NULL)
		e = p;
	*sp = s;
	*ep = e;
}

/* A local part alone on a line of [s, e), at the domain of the From
 * (a provider naming its own users), or NULL. */
static char *
bare_local(struct bctx *c, const char *s, const char *e)
{
	const char *dom = c->from ? strrchr(c->from, '@') : NULL;
	const char *p, *q, *t, *w;
	size_t dl;

	if (dom == NULL)
		return NULL;
	for (dl = 1; isalnum((unsigned char)dom[dl]) || dom[dl] == '.' ||
	    dom[dl] == '-'; dl++)
		;
	for (p = s; p < e; p = q + 1) {
		if ((q = memchr(p, '\n', (size_t)(e - p))) == NULL)
			q = e;
		while (p < q && (*p == ' ' || *p == '\t'))
			p++;
		for (t = p; t < q && (isalnum((unsigned char)*t) ||
		    *t == '.' || *t == '_' || *t == '-'); t++)
			;
		for (w = t; w < q && (*w == ' ' || *w == '\t'); w++)
			;
		if (t > p && t - p <= 64 && w == q)
			return baddr_norm(c->a, barena_printf(c->a, "%.*s%.*s",
			    (int)(t - p), p, (int)dl, dom));
	}
	return NULL;
}

/* The address in "(generated from ADDR)" in [s, e), or NULL. */
static char *
generated_from(struct bctx *c, const char *s, const char *e)
{
	const char *p = b_memcasemem(s, (size_t)(e - s), "generated from ");
	const char *q;

	if (p == NULL)
		return NULL;
	p += 15;
	while (p < e && (*p == ' ' || *p == '<'))
		p++;
	for (q = p; q < e && *q > ' ' && *q != '>' && *q != ')'; q++)
		;
	return q > p ? baddr_norm(c->a, barena_strndup(c->a, p,
	    (size_t)(q - p))) : NULL;
}

static int
run_format(struct bctx *c, const struct btext_fmt *f)
{
	const char *s, *e;
	struct bres *r;
	int n;

	find_section(c, f, &s, &e);
	c->delay = is_delay(c, f, e);
	c->before = f->before;
	exclusions(c);
	failed_list(c, s, e);
	if ((n = section_results(c, f, s, e)) > 0)
		return from_preamble(c, s, e, n);
	if ((n = failed_header(c, f, s, e)) > 0)
		return n;
	/* The sender's own address may be the failed one (mail sent to
	 * oneself): it is taken where it stands alone in a list or leads
	 * its line's error ("<user@example.com>: ..."), never from running
	 * text, where it is most often the greeting's ("Sorry
	 * user@example.com, your mail ..."). */
	c->listed = 1;
	n = section_results(c, f, s, e);
	c->listed = 0;
	if (n > 0)
		return from_preamble(c, s, e, n);
	/* A notice from a mail system that names no address, returns no
	 * message, says nothing failed (a mailbox quota warning to a local
	 * user) and is not labelled a delivery report is no bounce. */
	if (c->orighdr == NULL &&
	    !bt_any(c->body, BT_FAILED) && !bt_any(c->subject, BT_FAILED) &&
	    !bt_any(c->tophdr, BT_DSN_REPORT))
		return 0;
	/* No address in the text: Exim's "(generated from ADDR)" under an
	 * undisclosed address names the address that was sent to; else
	 * the recipient comes from the fallbacks (VERP, the returned
	 * message).  The diagnostic comes from the text. */
	if ((r = bp_add(c, f->name)) == NULL)
		return 0;
	r->action = (char *)(c->delay ? "delayed" : "failed");
	r->rcpt = generated_from(c, s, e);
	if (r->rcpt == NULL && f->bare)
		r->rcpt = bare_local(c, s, e);
	r->diag = clip(c, s, e);
	bp_codes(c, r);
	return 1;
}

/* The format of this bounce, looked up once per message. */
static const struct btext_fmt *
find_format(struct bctx *c)
{
	if (c->fmt_done)
		return c->fmt;
	c->fmt_done = 1;
	for (const struct btext_fmt *f = bt_formats; f->name != NULL; f++)
		if (fmt_matches(c, f))
			return c->fmt = f;
	return NULL;
}

/* The bounce's header block as it came (arena memory): what GMime keeps
 * of it leaves out the MIME headers of the body. */
static char *
raw_headers(struct bctx *c)
{
	const char *d = c->m->data, *e;
	size_t n = c->m->len > BP_MAXTEXT ? BP_MAXTEXT : c->m->len;

	e = b_memcasemem(d, n, "\n\n");
	return barena_strndup(c->a, d, e ? (size_t)(e - d) : n);
}

int
bp_text(struct bctx *c)
{
	const struct btext_fmt *f;

	/* A bounce with no text part can still name its recipients in
	 * X-Failed-Recipients (the exim entry). */
	if (c->body == NULL)
		c->body = barena_strdup(c->a, "");
	if (c->tophdr == NULL)
		c->tophdr = raw_headers(c);
	if ((f = find_format(c)) == NULL)
		return 0;
	return run_format(c, f);
}

void
bp_text_section(struct bctx *c)
{
	if (c->sec_s != NULL || c->body == NULL)
		return;
	if (c->tophdr == NULL)
		c->tophdr = raw_headers(c);
	find_section(c, find_format(c), &c->sec_s, &c->sec_e);
}

/*
 * Where the text says something about addr, first mentioned at p: a
 * mention alone on its line, followed only by section rules, is a list
 * entry whose reason comes at the next mention, as in sendmail's
 *
 *	   ----- The following addresses had permanent fatal errors -----
 *	<user@example.org>
 *
 *	   ----- Transcript of session follows -----
 *	554 5.4.6 user@example.org... aliasing/forwarding loop broken
 */
static const char *
said_at(struct bctx *c, const char *p, const char *addr, const char *e)
{
	size_t n = strlen(addr);
	const char *q, *l;

	while (alone_on_line(line_start(c->body, p), p, n) &&
	    (q = addr_in(p + n, (size_t)(e - p - n), addr)) != NULL) {
		/* the lines between: blank, or rules and banners, and at
		 * least one (the next line is the list going on) */
		int between = 0;

		for (l = strchr(p + n, '\n'); l != NULL && l < q;
		    l = strchr(l + 1, '\n')) {
			const char *t = l + 1;

			while (t < q && (*t == ' ' || *t == '\t'))
				t++;
			if (t >= line_start(c->body, q))
				break;
			if (*t != '\n' && strncmp(t, "---", 3) != 0)
				return p;
			between = 1;
		}
		if (!between)
			return p;
		p = q;
	}
	return p;
}

/*
 * When addr is met at p as the address an entry was made from, the
 * entry's text, which may name the address made, ends at a blank line,
 * at the next line indented no deeper than the entry's first, or at e.
 * The entry's first line is the mention's own when an address opens it
 * (Postfix: "<user@example.net> (expanded from <addr>): host ..."),
 * else the line above (Exim: "  user@example.net\n    (generated from
 * addr)\n    SMTP error ... <user@example.net>: 550 ...\n  an
 * undisclosed address").  NULL when p is no such mention.
 */
static const char *
parent_end(struct bctx *c, const char *p, const char *e)
{
	const char *ls = line_start(c->body, p), *head = ls, *f;

	if ((f = b_memcasemem(ls, (size_t)(p - ls), "generated from")) ==
	    NULL && (f = b_memcasemem(ls, (size_t)(p - ls),
	    "expanded from")) == NULL)
		return NULL;
	if (only_of(ls, f, " \t(")) {
		if (ls == c->body)
			return NULL;
		head = line_start(c->body, ls - 1);
	}
	return dedent(head, p, e);
}

/*
 * What the bounce's text says about addr: the text after its first
 * mention in the error section, up to the next address.  For reports
 * whose fields leave the diagnostic out.
 */
char *
bp_text_diag(struct bctx *c, const char *addr)
{
	const char *s, *e, *p, *pe, *w, *we, *stop;
	char *next, *d;

	if (c->body == NULL || addr == NULL)
		return NULL;
	bp_text_section(c);
	s = c->sec_s;
	e = c->sec_e;
	if ((p = addr_in(s, (size_t)(e - s), addr)) == NULL)
		return NULL;
	p = said_at(c, p, addr, e);
	pe = p + strlen(addr);
	failing_mention(c, addr, &p, &pe, e);
	if ((stop = parent_end(c, p, e)) == NULL)
		stop = entry_end(c, addr, p, pe, e, &next, &w, &we);
	/* A reply that names the address is said whole, with its codes
	 * ("550 5.1.2 <addr>... Host unknown"), also when a transcript
	 * quotes it after an arrow. */
	w = line_start(c->body, p);
	if (bp_reply_line(w) || arrow_reply(w, stop) != NULL)
		return clip(c, w, stop);
	d = clip(c, pe, stop);
	/* what closed the address: "<addr>:", "'<addr>'", "\"addr\"",
	 * "(generated from addr)", sendmail's "addr... " */
	while (*d == '>' || *d == ':' || *d == ' ' || *d == '\'' ||
	    *d == '"' || *d == ')')
		d++;
	if (strncmp(d, "... ", 4) == 0)
		d += 4;
	/* Nothing after the address but punctuation: the address ends
	 * the sentence that says what happened, which is its line (when
	 * the line has words before it). */
	if (*d == '\0' || has_words(d, d + strlen(d)))
		return *d ? d : NULL;
	w = line_start(c->body, p);
	if (!has_words(w, p))
		return NULL;
	return clip(c, w, stop);
}

/*
 * The SMTP command a refusal answered, as the bounce's text tells it:
 * Postfix's "(in reply to RCPT TO command)" or Exim's "after end of data"
 * next to addr, or in a quoted transcript the command before a failing
 * reply (">>> DATA" then "<<< 554 ...") when that reply names addr or is
 * the diagnostic diag itself.  Returns a phrase in Postfix's words
 * (arena) or NULL.
 */
char *
bp_command(struct bctx *c, const char *addr, const char *diag)
{
	static const char *exim[] = { "after RCPT TO", "after MAIL FROM",
	    "after end of data", "after DATA", "after EHLO", "after HELO",
	    "after initial connection", NULL };
	const char *t, *p, *q, *pick = NULL;

	/* Most bounces tell no command: look for the words once. */
	if (c->cmd_hint == 0)
		c->cmd_hint = c->body != NULL && (strstr(c->body, ">>> ") ||
		    b_strcasestr(c->body, "command") ||
		    b_strcasestr(c->body, "error from remote")) ? 1 : -1;
	if (c->cmd_hint < 0)
		return NULL;
	t = bp_text_diag(c, addr);
	if (t != NULL && (p = b_strcasestr(t, "in reply to ")) != NULL &&
	    (q = b_strcasestr(p, " command")) != NULL && q - p < 40)
		return barena_strndup(c->a, p, (size_t)(q - p + 8));
	for (int i = 0; t != NULL && exim[i] != NULL; i++)
		if ((p = b_strcasestr(t, exim[i])) != NULL)
			return barena_strdup(c->a, exim[i]);
	if (c->body == NULL)
		return NULL;
	/* A transcript: ">>> CMD" lines each followed by "<<< NNN ...". */
	for (p = c->body; pick == NULL && (p = strstr(p, "\n>>> ")); p++) {
		const char *nl = strchr(p + 1, '\n'), *re, *ee;
		if (nl == NULL || strncmp(nl + 1, "<<< ", 4) != 0 ||
		    (nl[5] != '4' && nl[5] != '5'))
			continue;
		re = nl + 5;
		ee = strchr(re, '\n');
		if (ee == NULL)
			ee = re + strlen(re);
		if (addr_in(re, (size_t)(ee - re), addr) != NULL ||
		    (diag != NULL && strlen(diag) > 8 &&
		    (size_t)(ee - re) >= strlen(diag) &&
		    strncasecmp(re, diag, strlen(diag)) == 0))
			pick = p + 5;
	}
	if (pick == NULL)
		return NULL;
	if (b_startcase(pick, "RCPT"))
		return barena_strdup(c->a, "in reply to RCPT TO command");
	if (b_startcase(pick, "MAIL"))
		return barena_strdup(c->a, "in reply to MAIL FROM command");
	if (b_startcase(pick, "DATA"))
		return barena_strdup(c->a, "in reply to DATA command");
	if (pick[0] == '.')
		return barena_strdup(c->a, "in reply to end of DATA command");
	return NULL;
}
