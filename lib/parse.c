/*
 * parse.c - recognising a bounce: the MIME walk, the order in which the
 * recognisers are tried, attribution (tracking id, VERP), and records.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

struct bparse {
	struct bparse_opts o;
	struct barena a;
	struct bctx *c;
	struct bparse_acct acct;
};

const struct bparse_acct *
bparse_acct_skipped(const struct bparse *p)
{
	return &p->acct;
}

void
bparse_acct_add(struct bparse *p, const char *type, unsigned long n)
{
	bacct_count(&p->acct, type, n);
}

struct bparse *
bparse_new(const struct bparse_opts *o)
{
	struct bparse *p = b_malloc(sizeof *p);

	bmime_init();
	memset(p, 0, sizeof *p);
	if (o != NULL)
		p->o = *o;
	p->c = b_malloc(sizeof *p->c);
	return p;
}

void
bparse_free(struct bparse *p)
{
	if (p == NULL)
		return;
	barena_free(&p->a);
	free(p->c);
	free(p);
}

char *
bp_oneline(char *s)
{
	char *w = s, *r = s;
	int blank = 0;

	while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
		r++;
	for (; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			blank = 1;
			continue;
		}
		if (blank)
			*w++ = ' ';
		blank = 0;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

char *
bp_field(struct barena *a, const char *text, const char *name)
{
	size_t n = strlen(name), len = 0;
	const char *p = text, *q, *e;
	char *out, *w;

	if (text == NULL)
		return NULL;
	for (; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncasecmp(p, name, n) != 0)
			continue;
		q = p + n;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != ':')
			continue;
		q++;
		/* The value and its continuation lines: measure, then copy
		 * into the arena with the line breaks made blanks. */
		for (e = q;; e++) {
			e = strchr(e, '\n');
			if (e == NULL) {
				e = q + strlen(q);
				break;
			}
			if (e[1] != ' ' && e[1] != '\t')
				break;
		}
		len = (size_t)(e - q);
		out = w = barena_alloc(a, len + 1);
		for (const char *r = q; r < e; r++)
			*w++ = *r == '\n' ? ' ' : *r;
		*w = '\0';
		return bp_oneline(out);
	}
	return NULL;
}

int
bp_xfr(struct bctx *c, char ***addrs)
{
	char *v;
	int cap = 0;

	if (c->nxfr < 0) {
		c->nxfr = 0;
		v = bmime_header(c->a, c->msg, "X-Failed-Recipients");
		for (char *tok = v ? strtok(v, ",") : NULL; tok != NULL;
		    tok = strtok(NULL, ",")) {
			char *a = baddr_norm(c->a, tok), **n;

			if (a == NULL)
				continue;
			if (c->nxfr == cap) {
				cap = cap ? 2 * cap : 4;
				n = barena_alloc(c->a, (size_t)cap * sizeof *n);
				if (c->nxfr > 0)
					memcpy(n, c->xfr,
					    (size_t)c->nxfr * sizeof *n);
				c->xfr = n;
			}
			c->xfr[c->nxfr++] = a;
		}
	}
	*addrs = c->xfr;
	return c->nxfr;
}

struct bres *
bp_add(struct bctx *c, const char *detector)
{
	struct bres *r;

	if (c->nres >= BP_MAXRES)
		return NULL;
	r = &c->res[c->nres++];
	memset(r, 0, sizeof *r);
	r->detector = detector;
	return r;
}

const char *
bp_pmta(struct bctx *c, char *cat, const char *det)
{
	size_t n;

	if (cat == NULL)
		return det;
	n = strlen(cat);
	if (n == 0 || n > 40 || strspn(cat, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
		return det;
	return barena_printf(c->a, "pmta:%s", b_lower(cat));
}

/*
 * The status rule: the Status field of a report is the reporting MTA's
 * summary; an enhanced code in the diagnostic text is the answer of the
 * server that refused the message, and so the more specific of the two.
 * The diagnostic's code wins when it is specific (not X.0.0) and of the
 * same class as the Status, or permanent (5.x.x) where the Status said
 * temporary; otherwise, and
 * when the diagnostic holds no code, the Status stands.  With no Status,
 * the diagnostic's code is used.  The SMTP reply code comes from the
 * diagnostic text.
 */
void
bp_codes(struct bctx *c, struct bres *r)
{
	char st[12], sm[4];

	if (r->diag == NULL || r->diag[0] == '\0')
		return;
	if (bstatus_find(r->diag, st)) {
		if (r->status == NULL || r->status[0] == '\0' ||
		    (!bstatus_generic(st) && (st[0] == r->status[0] ||
		    (st[0] == '5' && r->status[0] == '4'))))
			r->status = barena_strdup(c->a, st);
	}
	if ((r->smtp == NULL || r->smtp[0] == '\0') && bsmtp_find(r->diag, sm))
		r->smtp = barena_strdup(c->a, sm);
}

/* ---- the MIME walk ---- */

static int
ct_is(GMimeContentType *ct, const char *type, const char *sub)
{
	return ct != NULL && g_mime_content_type_is_type(ct, type, sub);
}

static char *
append_text(struct bctx *c, char *old, const char *add)
{
	if (old == NULL)
		return barena_strdup(c->a, add);
	return barena_printf(c->a, "%s\n\n%s", old, add);
}

/* Does this text look like DSN fields (a text/plain-labelled report)? */
static int
looks_dsn(const char *t)
{
	const char *f = b_strcasestr(t, "Final-Recipient:");

	if (f == NULL)
		f = b_strcasestr(t, "Original-Recipient:");
	return f != NULL && (f == t || f[-1] == '\n') &&
	    (b_strcasestr(t, "\nStatus:") || b_strcasestr(t, "\nAction:"));
}

/* Where the report's fields start in a text that looks_dsn(): its
 * first line of a report field. */
static size_t
report_start(const char *t)
{
	static const char *const names[] = { "Reporting-MTA:",
	    "Original-Recipient:", "Final-Recipient:", "Action:", "Status:",
	    NULL };

	for (const char *l = t; l != NULL; l = strchr(l, '\n'),
	    l = l ? l + 1 : l)
		for (int i = 0; names[i] != NULL; i++)
			if (b_startcase(l, names[i]))
				return (size_t)(l - t);
	return strlen(t);
}

/* Does the part's header hold fields only a message has?  (Not the
 * Message-ID: some MTAs give every part of a bounce one.) */
static int
leaked(GMimeObject *o)
{
	static const char *names[] = { "Received", "Return-Path",
	    "DKIM-Signature", "DomainKey-Signature", NULL };
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int count = hl != NULL ? g_mime_header_list_get_count(hl) : 0;

	for (int k = 0; k < count; k++) {
		const char *name = g_mime_header_get_name(
		    g_mime_header_list_get_header_at(hl, k));
		for (int i = 0; names[i] != NULL; i++)
			if (g_ascii_strcasecmp(name, names[i]) == 0)
				return 1;
	}
	return 0;
}

static void walk(struct bctx *c, GMimeObject *o, int depth);

static void walk_part(struct bctx *c, GMimeObject *o, int depth);

/*
 * An attached message is the returned original, unless it is itself a
 * report (a bounce forwarded by a gateway or a person): then its parts
 * are what the bounce says, and only then is it parsed.
 */
static void
returned_message(struct bctx *c, GMimeObject *o, int depth)
{
	GMimeContentType *ct;
	GMimeObject *m;
	char *text, *hdr, *type;
	size_t n;

	text = bmime_part_bytes(c->a, GMIME_PART(o), &n);
	hdr = bmime_header_block(c->a, text, n);
	if (c->dsn == NULL && c->arf == NULL &&
	    (type = bp_field(c->a, hdr, "Content-Type")) != NULL &&
	    (ct = g_mime_content_type_parse(NULL, type)) != NULL) {
		int report = g_mime_content_type_is_type(ct, "multipart",
		    "report");
		g_object_unref(ct);
		if (report && depth < BP_MAXDEPTH &&
		    (m = bmime_parse(text, n)) != NULL) {
			walk_part(c, m, depth + 1);
			g_object_unref(m);
			return;
		}
	}
	if (c->orighdr == NULL)
		c->orighdr = hdr;
}

static void
leaf(struct bctx *c, GMimeObject *o, int inorig)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	GMimeContentDisposition *cd;
	size_t n;
	char *t;

	if (!GMIME_IS_PART(o))
		return;
	if (ct_is(ct, "message", "delivery-status") ||
	    ct_is(ct, "message", "global-delivery-status") ||
	    ct_is(ct, "text", "delivery-status")) {
		t = bmime_part_text(c->a, GMIME_PART(o), &n);
		/* A report part says it better than the text part whose
		 * lines looked like one (the same fields, in prose). */
		c->dsn = c->dsnintext ? t : append_text(c, c->dsn, t);
		c->dsnintext = 0;
		return;
	}
	if (ct_is(ct, "message", "feedback-report")) {
		c->arf = bmime_part_text(c->a, GMIME_PART(o), &n);
		return;
	}
	if (ct_is(ct, "text", "rfc822-headers") ||
	    ct_is(ct, "text", "rfc822-header") ||
	    ct_is(ct, "message", "rfc822-headers") ||
	    ct_is(ct, "message", "global-headers")) {
		if (c->orighdr == NULL)
			c->orighdr = bmime_part_text(c->a, GMIME_PART(o), &n);
		return;
	}
	if (inorig || !ct_is(ct, "text", "*"))
		return;
	cd = g_mime_object_get_content_disposition(o);
	t = bmime_part_text(c->a, GMIME_PART(o), &n);
	if (ct_is(ct, "text", "html"))
		t = b_html_text(c->a, t, n, &n);
	/* A text part that holds the report's fields: they are the
	 * report (unless a report part comes), and the prose before them
	 * is the bounce's text as well. */
	if (looks_dsn(t) && c->dsn == NULL) {
		c->dsn = t;
		c->dsnintext = 1;
		n = report_start(t);
		if (n == 0)
			return;
		t = barena_strndup(c->a, t, n);
	}
	/* An attached text/plain file is usually the returned message. */
	if (cd != NULL && g_mime_content_disposition_is_attachment(cd) &&
	    c->body != NULL)
		return;
	if (ct_is(ct, "text", "html") && c->body != NULL)
		return;
	if (c->bodylen + n > BP_MAXTEXT)
		return;
	c->body = append_text(c, c->body, t);
	c->bodylen += n + 2;
}

/*
 * A multipart whose boundary parameter matches none of its delimiter
 * lines has no parts: GMime keeps everything as the prologue.  If the
 * prologue holds delimiter lines of another boundary, parse it again
 * with that one; otherwise take it as the bounce's text.
 */
static void
lost_boundary(struct bctx *c, GMimeMultipart *mp, int depth)
{
	const char *pro = g_mime_multipart_get_prologue(mp);
	const char *own = g_mime_multipart_get_boundary(mp);
	const char *p, *e = NULL;
	GMimeObject *m;
	char *bnd, *doc;

	if (pro == NULL || *pro == '\0')
		return;
	for (p = pro; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (p[0] == '-' && p[1] == '-' && p[2] > ' ')
			break;
	if (p != NULL)
		for (e = p + 2; *e > ' '; e++)
			;
	/* A delimiter of the multipart's own boundary that GMime did not
	 * take ("--b" and a control character): parsing again with it
	 * would find no parts again. */
	if (p == NULL || depth >= BP_MAXDEPTH || (own != NULL &&
	    strlen(own) == (size_t)(e - p - 2) &&
	    strncmp(own, p + 2, (size_t)(e - p - 2)) == 0)) {
		c->body = barena_strdup(c->a, pro);
		c->bodylen = strlen(c->body);
		/* The report fields may stand in that text too. */
		if (c->dsn == NULL && looks_dsn(c->body))
			c->dsn = c->body;
		return;
	}
	bnd = barena_strndup(c->a, p + 2, (size_t)(e - p - 2));
	doc = barena_printf(c->a, "Content-Type: multipart/mixed; "
	    "boundary=\"%s\"\n\n%s", bnd, pro);
	if ((m = bmime_parse(doc, strlen(doc))) == NULL)
		return;
	walk_part(c, m, depth + 1);
	g_object_unref(m);
}

/* A part by its type: the parts of a multipart, an attached message, a
 * leaf. */
static void
walk_part(struct bctx *c, GMimeObject *o, int depth)
{
	if (o == NULL || depth > BP_MAXDEPTH)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++)
			walk(c, g_mime_multipart_get_part(mp, i), depth + 1);
		if (n == 0)
			lost_boundary(c, mp, depth);
		return;
	}
	if (GMIME_IS_PART(o) &&
	    bmime_is_message(g_mime_object_get_content_type(o))) {
		returned_message(c, o, depth);
		return;
	}
	leaf(c, o, 0);
}

/* A part inside the message. */
static void
walk(struct bctx *c, GMimeObject *o, int depth)
{
	/* A returned message or header block written right after its
	 * part's Content-Type line, with no blank line between, is to a
	 * MIME parser the part's own header (and its Content-Type may be
	 * the returned message's): such a part is the returned message,
	 * not text of the bounce. */
	if (o != NULL && leaked(o)) {
		if (c->orighdr == NULL)
			c->orighdr = bmime_headers(c->a, o);
		return;
	}
	walk_part(c, o, depth);
}

/* ---- attribution and fallbacks ---- */

/* A header of the returned message; the unique header may also be
 * quoted in the bounce's own text (non-MIME bounces). */
static char *
orig_field(struct bctx *c, const char *name)
{
	char *v = bp_field(c->a, c->orighdr, name);

	if (v == NULL && c->body != NULL) {
		/* Look for "Name: value" at a line start in the body. */
		const char *p = c->body;
		size_t n = strlen(name);
		while ((p = b_strcasestr(p, name)) != NULL) {
			if ((p == c->body || p[-1] == '\n' || p[-1] == ' ' ||
			    p[-1] == '>') && p[n] == ':') {
				const char *e = strchr(p, '\n');
				size_t len = e ? (size_t)(e - p) : strlen(p);
				char *line = barena_strndup(c->a, p + n + 1,
				    len - n - 1);
				return b_trim(line);
			}
			p += n;
		}
	}
	return v;
}

static char *
tracking_id(struct bctx *c)
{
	char *v = NULL;

	if (c->acct_id != NULL)
		return c->acct_id;
	/* A bounce written as text quotes the returned headers in it. */
	if (c->orighdr == NULL && c->msg != NULL)
		bp_text_section(c);
	if (c->o->idheader != NULL) {
		v = orig_field(c, c->o->idheader);
		if (v == NULL)
			v = bmime_header(c->a, c->msg,
			    c->o->idheader);
		if (v != NULL)
			return b_trim(v);
	}
	v = bp_field(c->a, c->orighdr, "Message-ID");
	/* An auto-reply names the message it answers in In-Reply-To,
	 * some bounces in References (the last one is the parent). */
	if (v == NULL)
		v = bmime_header(c->a, c->msg, "In-Reply-To");
	if (v == NULL &&
	    (v = bmime_header(c->a, c->msg, "References"))) {
		char *last = strrchr(v, '<');
		if (last != NULL)
			v = last;
	}
	if (v != NULL) {
		char *lt = strchr(v, '<'), *gt;
		if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
			*gt = '\0';
			v = lt + 1;
		}
		v = b_trim(v);
	}
	return v;
}

/* The bounce's own envelope recipient: where a VERP address shows. */
static char *
verp_rcpt(struct bctx *c)
{
	static const char *hdrs[] = { "X-Original-To", "Delivered-To",
	    "Envelope-To", "To", NULL };

	for (int i = 0; hdrs[i] != NULL; i++) {
		char *v = bmime_header(c->a, c->msg, hdrs[i]);
		char *addr, *dec;
		if (v == NULL || (addr = baddr_norm(c->a, v)) == NULL)
			continue;
		if ((dec = baddr_verp(c->a, addr, c->o->verp)) != NULL)
			return dec;
	}
	/* The returned message's Return-Path is the VERP address too. */
	if (c->orighdr != NULL) {
		char *v = bp_field(c->a, c->orighdr, "Return-Path");
		char *addr = v ? baddr_norm(c->a, v) : NULL;
		if (addr != NULL)
			return baddr_verp(c->a, addr, c->o->verp);
	}
	return NULL;
}

/* Is addr the sender's own: the returned message's From, or the
 * bounce's To?  A message sent to oneself with the real recipients in
 * Bcc names no one else in To. */
static int
own_address(struct bctx *c, const char *addr)
{
	char *v = bp_field(c->a, c->orighdr, "From");

	if (v != NULL && (v = baddr_norm(c->a, v)) != NULL &&
	    strcmp(v, addr) == 0)
		return 1;
	v = bmime_header(c->a, c->msg, "To");
	return v != NULL && !baddr_several(v) &&
	    (v = baddr_norm(c->a, v)) != NULL && strcmp(v, addr) == 0;
}

/* Is addr the mailing list that the returned message went through
 * (its List-Post or X-BeenThere)?  List mail names the list in To (and
 * the list server's Delivered-To), not the member it was sent to. */
static int
list_address(struct bctx *c, const char *addr)
{
	static const char *hdrs[] = { "List-Post", "X-BeenThere", NULL };

	for (int i = 0; hdrs[i] != NULL; i++) {
		char *v = bp_field(c->a, c->orighdr, hdrs[i]), *m;
		if (v == NULL)
			continue;
		if ((m = (char *)b_strcasestr(v, "mailto:")) != NULL) {
			v = m + 7;
			v[strcspn(v, ">?")] = '\0';
		}
		if ((v = baddr_norm(c->a, v)) != NULL && strcmp(v, addr) == 0)
			return 1;
	}
	return 0;
}

/* The envelope recipient that the returned message's newest Received
 * field names ("... for <user@example.com>; date"), or NULL. */
static char *
received_for(struct bctx *c)
{
	char *v = bp_field(c->a, c->orighdr, "Received"), *semi, *a;
	const char *p;
	size_t n;

	if (v == NULL)
		return NULL;
	if ((semi = strrchr(v, ';')) != NULL)
		*semi = '\0';
	for (p = v; (p = b_strcasestr(p, "for ")) != NULL; p += 4)
		if (p > v && (p[-1] == ' ' || p[-1] == '\t'))
			break;
	if (p == NULL)
		return NULL;
	p += 4;
	n = strcspn(p, " \t");
	a = baddr_norm(c->a, barena_strndup(c->a, p, n));
	return a;
}

/*
 * Fill recipients that the report did not name: a VERP address first,
 * then the bounce's X-Failed-Recipients, then the returned message's
 * To, X-Original-To or Delivered-To (each only when it names exactly
 * one address), then the recipient its newest Received field names;
 * never the sender's own address or the list the message came through,
 * never any other address in the text.
 */
static void
fallback_rcpt(struct bctx *c, struct bres *r)
{
	static const char *hdrs[] = { "To", "X-Original-To", "Delivered-To",
	    NULL };
	char *v, **xfr;

	if (c->o->verp != NULL && (v = verp_rcpt(c)) != NULL) {
		r->rcpt = v;
		return;
	}
	/* The bounce's own X-Failed-Recipients, when it names just one. */
	if (bp_xfr(c, &xfr) == 1) {
		r->rcpt = xfr[0];
		return;
	}
	for (int i = 0; c->orighdr != NULL && hdrs[i] != NULL; i++) {
		char *h = bp_field(c->a, c->orighdr, hdrs[i]);
		if (h == NULL || baddr_several(h))
			continue;
		if ((v = baddr_norm(c->a, h)) != NULL && !own_address(c, v) &&
		    !list_address(c, v)) {
			r->rcpt = v;
			return;
		}
	}
	if (c->orighdr != NULL && (v = received_for(c)) != NULL &&
	    !own_address(c, v) && !list_address(c, v))
		r->rcpt = v;
}

static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Does an earlier result than i say all that result i says?  (A report
 * may give one recipient's block many times, as after an alias loop.) */
static int
repeated(const struct bctx *c, int i)
{
	const struct bres *r = &c->res[i];

	for (int j = 0; j < i; j++) {
		const struct bres *q = &c->res[j];

		if (same(q->rcpt, r->rcpt) && same(q->action, r->action) &&
		    same(q->status, r->status) && same(q->smtp, r->smtp) &&
		    same(q->mta, r->mta) && same(q->detector, r->detector) &&
		    same(q->diag, r->diag))
			return 1;
	}
	return 0;
}

static int
emit_all(struct bctx *c, bparse_emit_fn emit, void *arg)
{
	char date[21], *id = tracking_id(c);
	int rv;

	if (c->date >= 0)
		b_isotime(c->date, date);
	else
		date[0] = '\0';
	for (int i = 0; i < c->nres; i++) {
		struct bres *r = &c->res[i];
		struct brec rec = { .n = BREC_PARSE_FIELDS };

		if ((r->rcpt == NULL || r->rcpt[0] == '\0') &&
		    c->msg != NULL && strcmp(r->action, "none") != 0) {
			fallback_rcpt(c, r);
			/* A report block with no usable address has no
			 * diagnostic yet either: the text may hold it. */
			if ((r->diag == NULL || r->diag[0] == '\0') &&
			    r->rcpt != NULL) {
				r->diag = bp_text_diag(c, r->rcpt);
				bp_codes(c, r);
			}
		}
		if (repeated(c, i))
			continue;
		/* A diagnostic holds at most DIAG_MAX bytes, cut between
		 * characters. */
		if (r->diag != NULL && strlen(r->diag) > DIAG_MAX) {
			size_t n = DIAG_MAX;
			while (n > 0 && ((unsigned char)r->diag[n] & 0xC0) ==
			    0x80)
				n--;
			r->diag = barena_strndup(c->a, r->diag, n);
		}
		rec.f[BF_SOURCE] = c->m->source;
		rec.f[BF_DATE] = date;
		rec.f[BF_RCPT] = r->rcpt;
		rec.f[BF_ACTION] = r->action;
		rec.f[BF_STATUS] = r->status;
		rec.f[BF_SMTP] = r->smtp;
		rec.f[BF_MTA] = r->mta;
		rec.f[BF_ID] = id;
		rec.f[BF_DETECTOR] = r->detector;
		rec.f[BF_DIAG] = r->diag;
		if ((rv = emit(arg, &rec)) != 0)
			return rv;
	}
	return 0;
}

static time_t
report_date(struct bctx *c)
{
	time_t t = bmime_date(c->msg);

	if (t < 0 && c->dsn != NULL) {
		/* The last attempt is when the report was made; arrival
		 * is when the message came in. */
		t = b_parsedate(bp_field(c->a, c->dsn, "Last-Attempt-Date"));
		if (t < 0)
			t = b_parsedate(bp_field(c->a, c->dsn,
			    "Arrival-Date"));
	}
	if (t < 0 && c->m->envelope != NULL) {
		const char *p = c->m->envelope + 5;	/* "From " */
		while (*p && *p != ' ')
			p++;
		t = b_parsedate(p);
	}
	return t;
}

int
bparse_message(struct bparse *p, const struct bmsg *m, bparse_emit_fn emit,
    void *arg)
{
	struct bctx *c = p->c;
	struct bres *r;
	int rv;

	barena_reset(&p->a);
	/* The results are cleared one by one as bp_add hands them out. */
	memset(c, 0, offsetof(struct bctx, res));
	c->nres = 0;
	c->a = &p->a;
	c->o = &p->o;
	c->m = m;
	c->date = -1;
	c->nxfr = -1;
	if (m->kind == BMSG_ACCT)
		return bp_acct(c, &p->acct) < 0 ? 0 : emit_all(c, emit, arg);
	c->msg = bmime_parse(m->data, m->len);
	if (c->msg != NULL) {
		c->subject = bmime_header(c->a, c->msg,
		    "Subject");
		c->from = bmime_header(c->a, c->msg, "From");
		walk_part(c, c->msg, 0);
		c->date = report_date(c);
		/* The order matters: a report that says what happened beats
		 * a guess from text, and only then is it an auto-reply. */
		/* An unsubscribe request comes first: it is identified by
		 * the address it was sent to, whatever it says. */
		if (bp_unsubscribe(c) == 0 && bp_dsn(c) == 0 &&
		    bp_arf(c) == 0 && bp_ses(c) == 0 && bp_text(c) == 0)
			bp_autoreply(c);
	}
	if (c->nres == 0 && (r = bp_add(c, "none")) != NULL) {
		r->action = "none";
		r->diag = c->subject;
	}
	rv = emit_all(c, emit, arg);
	if (c->msg != NULL)
		g_object_unref(c->msg);
	return rv;
}
