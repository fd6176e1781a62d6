/*
 * dsn.c - standard reports: RFC 3464 delivery status notifications,
 * RFC 5965 feedback reports, unsubscribe requests and RFC 3834
 * auto-replies.
 */
#include <ctype.h>
#include <string.h>

#include "parse.h"
#include "formats.h"

/* Strip an RFC 3464 type prefix ("dns; ", "smtp; ") from a value. */
static char *
untype(char *v)
{
	char *p = v;

	if (v == NULL)
		return NULL;
	while (isalnum((unsigned char)*p) || *p == '-')
		p++;
	if (p > v && *p == ';')
		v = p + 1;
	return b_trim(v);
}

/*
 * A diagnostic field without its type when that is type ("smtp;" of a
 * Diagnostic-Code, "X-str;" of Exim's X-Exim-Diagnostic); other types
 * ("X-Unix;", "X-Postfix;") stay, as they tell that a local program or
 * the MTA itself, not a remote server, gave the answer.
 */
static char *
diag_code(char *v, const char *type)
{
	char *p = v;
	size_t n = strlen(type) - 1;	/* the type without its ';' */

	if (v == NULL)
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	/* "smtp;", and "smtp ;" as a few MTAs write it */
	if (g_ascii_strncasecmp(p, type, n) == 0) {
		char *q = p + n;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == ';')
			return b_trim(q + 1);
	}
	return b_trim(p);
}

/*
 * Sendmail writes only the first line of a multi-line reply ("550-...")
 * into Diagnostic-Code; its transcript in the text part holds them all
 * ("<<< 550-...", and so on to "<<< 550 ..."): the whole reply on one
 * line, or diag as it is.
 */
static char *
whole_reply(struct bctx *c, char *diag)
{
	const char *p, *l;
	char *out;
	size_t len = 0, cap = DIAG_MAX;
	int lines = 0;

	if (diag == NULL || c->body == NULL || strlen(diag) < 6 ||
	    !isdigit((unsigned char)diag[0]) ||
	    !isdigit((unsigned char)diag[1]) ||
	    !isdigit((unsigned char)diag[2]) || diag[3] != '-')
		return diag;
	/* The reply's first line, at a line start or after "<<< ". */
	for (p = c->body; (p = strstr(p, diag)) != NULL; p++) {
		for (l = p; l > c->body && l[-1] != '\n'; l--)
			;
		if (p == l || (p - l == 4 && strncmp(l, "<<< ", 4) == 0))
			break;
	}
	if (p == NULL)
		return diag;
	out = barena_alloc(c->a, cap + 1);
	for (l = p; l != NULL && lines < 20; lines++) {
		const char *e = strchr(l, '\n');
		size_t n = e != NULL ? (size_t)(e - l) : strlen(l);
		int last;
		if (n < 4 || strncmp(l, diag, 3) != 0 ||
		    (l[3] != '-' && l[3] != ' '))
			break;
		last = l[3] == ' ';
		if (len > 0 && len < cap)
			out[len++] = ' ';
		if (n > cap - len)
			n = cap - len;
		memcpy(out + len, l, n);
		len += n;
		if (last || e == NULL)
			break;
		l = e + 1;
		if (strncmp(l, "<<< ", 4) == 0)
			l += 4;
	}
	out[len] = '\0';
	return lines > 0 ? bp_oneline(out) : diag;
}

/*
 * A Remote-MTA value without a comment after the host name, unless the
 * comment is only its address: "mx.example.com (192.0.2.1)" stays,
 * "mx.example.com (mx01. -- server lmtp [Example Server 6.1])" loses
 * everything from the parenthesis.  A trailing root dot goes too.
 */
static char *
mta_name(char *v)
{
	char *p, *q;

	if (v == NULL)
		return v;
	if ((p = strchr(v, '(')) != NULL) {
		for (q = p + 1; *q && *q != ')'; q++)
			if (!isxdigit((unsigned char)*q) &&
			    !strchr(".:[] ", *q))
				break;
		if (*q != ')' || q == p + 1) {
			*p = '\0';
			v = b_trim(v);
		}
	}
	/* the root's dot of a fully qualified name: "mx.example.com." */
	if ((q = strchr(v, ' ')) == NULL)
		q = v + strlen(v);
	if (q > v + 1 && q[-1] == '.')
		memmove(q - 1, q, strlen(q) + 1);
	return v;
}

/* The reply in an X-Supplementary-Info field, or NULL. */
static char *
supplementary(char *v)
{
	char *p;

	if (v == NULL)
		return NULL;
	v = b_trim(v);
	if (*v == '<') {
		size_t n = strlen(v);
		v++;
		if (n > 1 && v[n - 2] == '>')
			v[n - 2] = '\0';
	}
	if ((p = (char *)b_strcasestr(v, "smtp;")) != NULL)
		v = p + 5;
	v = b_trim(v);
	return *v ? v : NULL;
}

static const char *
norm_action(const char *v, const char *status)
{
	static const char *actions[] = { "failed", "delayed", "delivered",
	    "relayed", "expanded", NULL };

	if (v != NULL)
		for (int i = 0; actions[i] != NULL; i++)
			if (b_strcasestr(v, actions[i]) != NULL)
				return actions[i];
	if (v != NULL && b_strcasestr(v, "fail") != NULL)
		return "failed";
	if (status != NULL && status[0] == '4')
		return "delayed";
	if (status != NULL && status[0] == '2')
		return "delivered";
	return "failed";
}

/* The end of one field block: a blank line. */
static const char *
block_end(const char *p)
{
	for (;;) {
		const char *e = strchr(p, '\n');
		if (e == NULL)
			return p + strlen(p);
		/* a line holding only blanks ends the block too */
		const char *q = e + 1;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '\n' || *q == '\0')
			return e + 1;
		p = e + 1;
	}
}

/* Does the line start with a field name and its colon (not a URL)? */
static int
is_field_line(const char *l)
{
	const char *p = l;

	while (*p > ' ' && *p < 127 && *p != ':')
		p++;
	if (p == l)
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == ':' && p[1] != '/';
}

/* A line this long was cut at a fixed width, likely inside a word. */
#define CUT_WIDTH 100

/* Is the line a field of a delivery report (RFC 3464, or an X- one)?
 * After a line cut at a fixed width, "ip: [192.0.2.1]" is not. */
static int
report_field(const char *l)
{
	static const char *const names[] = { "Original-Recipient",
	    "Final-Recipient", "Action", "Status", "Remote-MTA",
	    "Diagnostic-Code", "Last-Attempt-Date", "Final-Log-ID",
	    "Will-Retry-Until", "Reporting-MTA", "DSN-Gateway",
	    "Received-From-MTA", "Arrival-Date", "Original-Envelope-Id",
	    "X-", NULL };

	for (int i = 0; names[i] != NULL; i++)
		if (b_startcase(l, names[i]))
			return 1;
	return 0;
}

/*
 * Some MTAs write the lines of a Diagnostic-Code after the first without
 * the blank that makes a line a continuation: the lines of a multi-line
 * reply ("550-..."), or (Gmail) a long reply cut at a fixed width,
 * wherever that falls.  Such lines, which are not fields of the report,
 * go back onto the field: after a line cut at a fixed width directly
 * (unless they start a reply line), else as a continuation.
 */
static char *
join_cut_lines(struct barena *a, const char *blk)
{
	char *out = barena_alloc(a, strlen(blk) * 2 + 1), *w = out;
	size_t prev = 0;
	int indiag = 0;

	for (const char *l = blk; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl != NULL ? (size_t)(nl - l) + 1 : strlen(l);
		int cut = prev >= CUT_WIDTH && !bp_reply_line(l);
		if (*l == ' ' || *l == '\t' || *l == '\n')
			;
		else if (is_field_line(l) && (!indiag || !cut ||
		    report_field(l)))
			indiag = b_startcase(l, "Diagnostic-Code");
		else if (indiag && w > out && w[-1] == '\n') {
			if (cut)
				w--;
			else
				*w++ = ' ';
		}
		memcpy(w, l, n);
		w += n;
		l += n;
		prev = n;
	}
	*w = '\0';
	return out;
}

/*
 * An address of type utf-8 (RFC 6533) escapes characters as "\x{HHHH}"
 * (all of them that are not ASCII in a message/delivery-status, some in
 * a message/global-delivery-status): the value with them written in
 * UTF-8.  Values of other types are returned as they are.
 */
static char *
utf8_addr(struct barena *a, char *v)
{
	const char *p = v;
	char *out, *w;

	if (v == NULL)
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (g_ascii_strncasecmp(p, "utf-8", 5) != 0 ||
	    strstr(p, "\\x{") == NULL)
		return v;
	out = w = barena_alloc(a, strlen(v) + 1);
	for (p = v; *p;) {
		unsigned long cp = 0;
		int n = 0;
		if (p[0] == '\\' && p[1] == 'x' && p[2] == '{')
			for (; n < 6 && isxdigit((unsigned char)p[3 + n]); n++)
				cp = cp * 16 +
				    (unsigned long)g_ascii_xdigit_value(p[3 + n]);
		/* Four bytes of UTF-8 take no more room than the escape
		 * ("\x{HHHH}" and more). */
		if (n == 0 || p[3 + n] != '}' || cp == 0 || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF)) {
			*w++ = *p++;
			continue;
		}
		w += g_unichar_to_utf8((gunichar)cp, w);
		p += 4 + n;
	}
	*w = '\0';
	return out;
}

static void
dsn_block(struct bctx *c, const char *blk, const char *rmta_default)
{
	char *fr, *or, *st, *addr = NULL, *fin = NULL, *first, *whole;
	char stbuf[12], sm[4];
	struct bres *r;

	blk = join_cut_lines(c->a, blk);
	fr = utf8_addr(c->a, bp_field(c->a, blk, "Final-Recipient"));
	or = utf8_addr(c->a, bp_field(c->a, blk, "Original-Recipient"));
	/* A block that names no recipient is the report's own fields,
	 * unless it says what became of a recipient (an Action and a
	 * Status, no Reporting-MTA): then the address comes from elsewhere
	 * (see fallback_rcpt()). */
	if (fr == NULL && or == NULL &&
	    (bp_field(c->a, blk, "Action") == NULL ||
	    bp_field(c->a, blk, "Status") == NULL ||
	    bp_field(c->a, blk, "Reporting-MTA") != NULL ||
	    bp_field(c->a, blk, "Arrival-Date") != NULL))
		return;
	if (fr != NULL)
		fin = baddr_norm(c->a, fr);
	if (or != NULL)
		addr = baddr_norm(c->a, or);
	if (addr == NULL)
		addr = fin;
	/* The text part names the address the message was last sent to:
	 * look it up by that one too. */
	if (fin != NULL && addr != NULL && strcasecmp(fin, addr) == 0)
		fin = NULL;
	if ((r = bp_add(c, "dsn")) == NULL)
		return;
	r->rcpt = addr;
	st = bp_field(c->a, blk, "Status");
	if (st != NULL && bstatus_parse(st, stbuf))
		r->status = barena_strdup(c->a, stbuf);
	first = diag_code(bp_field(c->a, blk, "Diagnostic-Code"), "smtp;");
	r->diag = whole = whole_reply(c, first);
	/* Exchange puts the remote server's reply in X-Supplementary-Info
	 * ("<mx.example.com #5.1.1 smtp;550 5.1.1 ...>"). */
	if (r->diag == NULL || r->diag[0] == '\0')
		r->diag = supplementary(bp_field(c->a, blk,
		    "X-Supplementary-Info"));
	/* Exim says why in X-Exim-Diagnostic when no remote server did
	 * ("X-str; a TLS session is required, but ..."). */
	if (r->diag == NULL || r->diag[0] == '\0')
		r->diag = diag_code(bp_field(c->a, blk,
		    "X-Exim-Diagnostic"), "x-str;");
	/* Some MTAs put an SMTP reply in the Status field ("553 Exceeded
	 * maximum inbound message size"): it is what the report says. */
	if ((r->diag == NULL || r->diag[0] == '\0') && r->status == NULL &&
	    st != NULL && bsmtp_find(st, sm) && sm[0] != '2' &&
	    strncmp(st, sm, 3) == 0)
		r->diag = st;
	/* Some MTAs leave the diagnostic out of the report and say it
	 * only in the text part, next to the address. */
	if ((r->diag == NULL || r->diag[0] == '\0') && addr != NULL)
		r->diag = bp_text_diag(c, addr);
	if ((r->diag == NULL || r->diag[0] == '\0') && fin != NULL)
		r->diag = bp_text_diag(c, fin);
	/* The report's diagnostic rarely says which command was refused;
	 * the text part often does, and that tells a refused address from
	 * a refused message. */
	if (r->diag != NULL && r->diag[0] != '\0' && addr != NULL &&
	    b_strcasestr(r->diag, "in reply to") == NULL) {
		/* The transcript is matched on the reply's first line. */
		const char *line = r->diag == whole ? first : r->diag;
		char *cmd = bp_command(c, addr, line);
		if (cmd == NULL && fin != NULL)
			cmd = bp_command(c, fin, line);
		if (cmd != NULL && b_strcasestr(r->diag, cmd) == NULL)
			r->diag = barena_printf(c->a, "%s (%s)", r->diag, cmd);
	}
	r->mta = mta_name(untype(bp_field(c->a, blk, "Remote-MTA")));
	if (r->mta == NULL || r->mta[0] == '\0')
		r->mta = (char *)rmta_default;
	bp_codes(c, r);
	r->action = (char *)norm_action(bp_field(c->a, blk, "Action"),
	    r->status);
	if (r->mta != NULL)
		b_lower(r->mta);
	/* PowerMTA adds its own verdict on each recipient, as it does to
	 * its accounting files. */
	r->detector = bp_pmta(c, bp_field(c->a, blk,
	    "X-PowerMTA-BounceCategory"), r->detector);
}

/*
 * Some MTAs write all recipients' fields without the blank lines that
 * should separate them: a recipient field seen a second time starts the
 * next recipient's block, and so does one after the Action or Status
 * that followed the block's recipient field (an Original-Recipient
 * after a block that had only a Final-Recipient).
 */
static void
dsn_blocks(struct bctx *c, const char *p, const char *e)
{
	int fin = 0, orig = 0, said = 0;

	for (const char *l = p; l < e;) {
		const char *nl = memchr(l, '\n', (size_t)(e - l));
		int isfin = b_startcase(l, "Final-Recipient:") ||
		    b_startcase(l, "Final-Recipient :");
		int isorig = b_startcase(l, "Original-Recipient:");
		if ((isfin && fin) || (isorig && orig) ||
		    ((isfin || isorig) && (fin || orig) && said)) {
			dsn_block(c, barena_strndup(c->a, p,
			    (size_t)(l - p)), NULL);
			p = l;
			fin = orig = said = 0;
		}
		fin |= isfin;
		orig |= isorig;
		if ((fin || orig) && (b_startcase(l, "Action:") ||
		    b_startcase(l, "Status:")))
			said = 1;
		l = nl ? nl + 1 : e;
	}
	dsn_block(c, barena_strndup(c->a, p, (size_t)(e - p)), NULL);
}

int
bp_dsn(struct bctx *c)
{
	const char *p = c->dsn;
	int before = c->nres;

	if (p == NULL)
		return 0;
	while (*p) {
		const char *e = block_end(p);
		dsn_blocks(c, p, e);
		p = e;
		while (*p == '\n' || *p == ' ' || *p == '\t')
			p++;
	}
	return c->nres - before;
}

/* ---- feedback reports (RFC 5965) ---- */

/* The header Microsoft's junk mail reports (JMRP) add to the complained
 * of message: the address of the user who complained. */
#define JMRP_RCPT "X-HmXmrOriginalRecipient"

/* Sparse feedback loops (Microsoft's JMRP and the like) send the
 * complained-of message as an attachment with no report part, or,
 * forwarding it, as the message itself with the JMRP header added. */
static int
sparse_feedback(struct bctx *c)
{
	if (bmime_header(c->a, c->msg, JMRP_RCPT) != NULL)
		return 1;
	return c->orighdr != NULL && (bt_any(c->subject,
	    "complaint about message from|Email Feedback Report|"
	    "Abuse Report|feedback loop|Spam report") ||
	    bp_field(c->a, c->orighdr, JMRP_RCPT) != NULL);
}

/* The user who complained, when a JMRP header names one. */
static char *
complainer(struct bctx *c)
{
	char *v = bmime_header(c->a, c->msg, JMRP_RCPT);

	if (v == NULL && c->orighdr != NULL)
		v = bp_field(c->a, c->orighdr, JMRP_RCPT);
	return v != NULL ? baddr_norm(c->a, v) : NULL;
}

/* Has a record of this message already named addr? */
static int
seen(struct bctx *c, const char *addr)
{
	for (int i = 0; i < c->nres; i++)
		if (c->res[i].rcpt != NULL && strcmp(c->res[i].rcpt, addr) == 0)
			return 1;
	return 0;
}

int
bp_arf(struct bctx *c)
{
	static const char *fields[] = { "Original-Rcpt-To",
	    "Removal-Recipient", NULL };
	struct bres *r;
	char *type;
	const char *p;
	int n = 0;

	if (c->arf == NULL) {
		if (!sparse_feedback(c) || (r = bp_add(c, "fbl")) == NULL)
			return 0;
		r->action = "complaint";
		r->diag = barena_strdup(c->a, "abuse");
		r->rcpt = complainer(c);
		return 1;
	}
	type = bp_field(c->a, c->arf, "Feedback-Type");
	type = type ? b_lower(type) : barena_strdup(c->a, "abuse");
	/* One record per Original-Rcpt-To (Removal-Recipient in opt-out
	 * reports of the ARF drafts); with none, the complainer a JMRP
	 * header names, else the enclosed message's To by the common
	 * fallback. */
	for (p = c->arf; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		char *v, *addr;
		int i;
		for (i = 0; fields[i] != NULL; i++)
			if (b_startcase(p, fields[i]) &&
			    p[strlen(fields[i])] == ':')
				break;
		if (fields[i] == NULL)
			continue;
		v = bp_field(c->a, p, fields[i]);
		if ((addr = baddr_norm(c->a, v)) == NULL || seen(c, addr) ||
		    (r = bp_add(c, "arf")) == NULL)
			continue;
		r->action = "complaint";
		r->diag = type;
		r->rcpt = addr;
		n++;
	}
	if (n == 0 && (r = bp_add(c, "arf")) != NULL) {
		r->action = "complaint";
		r->diag = type;
		r->rcpt = complainer(c);
		n = 1;
	}
	return n;
}

/*
 * Match addr against pattern, whose one '*' stands for a token of at
 * least one character; returns the token (arena) or NULL.  Without a
 * '*' the whole address must match.
 */
static char *
unsub_token(struct barena *a, const char *addr, const char *pattern)
{
	const char *star = strchr(pattern, '*');
	size_t n = strlen(addr), pre, post;

	if (star == NULL)
		return strcasecmp(addr, pattern) == 0 ? barena_strdup(a, "") :
		    NULL;
	pre = (size_t)(star - pattern);
	post = strlen(star + 1);
	if (n <= pre + post || strncasecmp(addr, pattern, pre) != 0 ||
	    strcasecmp(addr + n - post, star + 1) != 0)
		return NULL;
	return barena_strndup(a, addr + pre, n - pre - post);
}

/* The unsubscribe address this message was sent to, and its token. */
static char *
unsub_match(struct bctx *c)
{
	static const char *hdrs[] = { "X-Original-To", "Delivered-To",
	    "Envelope-To", "To", NULL };

	for (int i = 0; hdrs[i] != NULL; i++) {
		char *v = bmime_header(c->a, c->msg, hdrs[i]);
		char *addr, *tok;
		if (v == NULL || (addr = baddr_norm(c->a, v)) == NULL)
			continue;
		for (int j = 0; j < c->o->nunsub; j++)
			if ((tok = unsub_token(c->a, addr, c->o->unsub[j])))
				return tok;
	}
	return NULL;
}

/*
 * An unsubscribe request: a message sent to a List-Unsubscribe address
 * (-U), or one that a mail program sent on the reader's behalf (Apple
 * Mail marks it).  The requester is the address the token encodes
 * ("user=example.com"), else the sender; the token is the id.
 */
int
bp_unsubscribe(struct bctx *c)
{
	char *v = bmime_header(c->a, c->msg,
	    "X-Apple-Unsubscribe");
	char *tok = c->o->nunsub > 0 ? unsub_match(c) : NULL;
	struct bres *r;

	if (tok == NULL && (v == NULL || b_strcasestr(v, "true") == NULL))
		return 0;
	if ((r = bp_add(c, "unsubscribe")) == NULL)
		return 0;
	r->action = "unsubscribe";
	if (tok != NULL && *tok != '\0') {
		char *fake = barena_printf(c->a, "x+%s@x", tok);
		r->rcpt = baddr_verp(c->a, fake, "x");
		c->acct_id = tok;
	}
	if (r->rcpt == NULL)
		r->rcpt = c->from ? baddr_norm(c->a, c->from) : NULL;
	r->diag = c->subject;
	return 1;
}

/* ---- auto-replies (RFC 3834 and common vacation programs) ---- */

static int
autoreply_subject(const char *s)
{
	static const char *pfx[] = { "auto:", "automatic reply",
	    "automatic response", "autoreply", "auto-response",
	    "auto response", "autoresponse",
	    "auto-reply", "auto reply", "out of office", "out of the office",
	    "vacation", "abwesenheit", "automatische antwort",
	    "r\xc3\xa9ponse automatique", "respuesta autom",
	    "risposta automatica", "\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94",
	    "away from", "automatyczna odpowied", "automatisch antwoord",
	    "automatiskt svar", "automatisk svar", "resposta autom",
	    "thank you for your e-mail", "thank you for your email",
	    "thank you for your message", NULL };

	if (s == NULL)
		return 0;
	for (int i = 0; pfx[i] != NULL; i++)
		if (b_strcasestr(s, pfx[i]) != NULL)
			return 1;
	return 0;
}

int
bp_autoreply(struct bctx *c)
{
	GMimeObject *o = c->msg;
	char *as = bmime_header(c->a, o, "Auto-Submitted");
	char *prec = bmime_header(c->a, o, "Precedence"), *v;
	int hit = 0;
	struct bres *r;

	if (as != NULL && b_strcasestr(as, "auto-replied") != NULL)
		hit = 1;
	else if (bmime_header(c->a, o, "X-Autoreply") != NULL ||
	    bmime_header(c->a, o, "X-Autorespond") != NULL ||
	    bmime_header(c->a, o, "X-Autoresponder") != NULL)
		hit = 1;
	else if ((v = bmime_header(c->a, o, "X-POST-MessageClass")) != NULL &&
	    b_strcasestr(v, "autoresponder") != NULL)
		hit = 1;	/* Microsoft's POP/MAPI gateway */
	else if (prec != NULL && b_strcasestr(prec, "auto_reply") != NULL)
		hit = 1;
	else if (autoreply_subject(c->subject) &&
	    (as == NULL || b_strcasestr(as, "no") != as))
		hit = 1;
	/* The mail system's own notices are not a person's reply. */
	if (bt_any(c->from, BT_MAILER))
		hit = 0;
	if (!hit || (r = bp_add(c, "autoreply")) == NULL)
		return 0;
	r->action = "autoreply";
	/* The person who is away is the one we wrote to. */
	r->rcpt = c->from ? baddr_norm(c->a, c->from) : NULL;
	r->diag = c->subject;
	return 1;
}
