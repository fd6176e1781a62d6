/*
 * ses.c - Amazon SES notifications: a JSON document (delivered by SNS
 * as mail) instead of a report.  Only the few keys that matter are read:
 * notificationType, the recipients with their action, status and
 * diagnosticCode, the complaint type, and the reporting MTA.
 */
#include <string.h>

#include "parse.h"

/* The string value of "key" within [s, e), unescaped (arena), or NULL. */
static char *
json_str(struct barena *a, const char *s, const char *e, const char *key)
{
	char pat[64];
	const char *p, *q;
	struct bbuf b = { 0 };
	char *out;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	if ((p = b_memcasemem(s, (size_t)(e - s), pat)) == NULL)
		return NULL;
	p += strlen(pat);
	while (p < e && (*p == ' ' || *p == ':'))
		p++;
	if (p >= e || *p != '"')
		return NULL;
	for (q = p + 1; q < e && *q != '"'; q++) {
		if (*q == '\\' && q + 1 < e) {
			q++;
			bbuf_addc(&b, *q == 'n' ? ' ' : *q == 't' ? ' ' : *q);
			continue;
		}
		bbuf_addc(&b, *q);
	}
	out = barena_strndup(a, b.s ? b.s : "", b.len);
	bbuf_free(&b);
	return out;
}

/* The end of the JSON value (object or array) that opens at p. */
static const char *
json_end(const char *p, const char *e)
{
	int depth = 0, str = 0;

	for (; p < e; p++) {
		if (str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				str = 0;
			continue;
		}
		if (*p == '"')
			str = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
	}
	return e;
}

/* The [start, end) of the value of "key" (an array or object). */
static const char *
json_value(const char *s, const char *e, const char *key, const char **end)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	if ((p = b_memcasemem(s, (size_t)(e - s), pat)) == NULL)
		return NULL;
	p += strlen(pat);
	while (p < e && *p != '[' && *p != '{' && *p != ',')
		p++;
	if (p >= e || *p == ',')
		return NULL;
	*end = json_end(p, e);
	return p;
}

static char *
ses_doc(struct bctx *c, const char **endp)
{
	const char *p = b_strcasestr(c->body, "notificationType");
	struct bbuf b = { 0 };
	const char *e;
	char *doc;
	int quoted = 0;

	if (p == NULL)
		return NULL;
	/* Inside an SNS envelope the document is itself a JSON string. */
	if (p - c->body < 2 || p[-1] != '"')
		return NULL;
	quoted = p[-2] == '\\';
	while (p > c->body && *p != '{')
		p--;
	/* Mail transport may have folded the long line: unfold it, and
	 * undo one level of escaping for an enveloped document. */
	for (e = p; *e; e++) {
		if (*e == '\n')
			continue;
		if (quoted && *e == '\\' && e[1] != '\0')
			e++;
		bbuf_addc(&b, *e);
	}
	doc = barena_strndup(c->a, b.s ? b.s : "", b.len);
	bbuf_free(&b);
	*endp = json_end(doc, doc + strlen(doc));
	return doc;
}

static int
ses_each(struct bctx *c, const char *arr, const char *end, const char *action,
    const char *diag, const char *mta)
{
	int n = 0;

	for (const char *p = arr; p < end;) {
		const char *o = memchr(p, '{', (size_t)(end - p)), *oe;
		char *addr;
		struct bres *r;

		if (o == NULL) {
			/* an array of plain strings (delivery recipients) */
			const char *q = memchr(p, '"', (size_t)(end - p)), *qe;
			if (q == NULL || (qe = memchr(q + 1, '"',
			    (size_t)(end - q - 1))) == NULL)
				break;
			addr = baddr_norm(c->a, barena_strndup(c->a, q + 1,
			    (size_t)(qe - q - 1)));
			p = qe + 1;
			if (addr == NULL || (r = bp_add(c, "amazonses")) == NULL)
				continue;
			r->rcpt = addr;
			r->action = (char *)action;
			r->diag = (char *)diag;
			r->mta = (char *)mta;
			bp_codes(c, r);
			n++;
			continue;
		}
		oe = json_end(o, end);
		p = oe;
		addr = baddr_norm(c->a, json_str(c->a, o, oe, "emailAddress"));
		if (addr == NULL || (r = bp_add(c, "amazonses")) == NULL)
			continue;
		r->rcpt = addr;
		r->action = (char *)action;
		r->status = json_str(c->a, o, oe, "status");
		r->diag = json_str(c->a, o, oe, "diagnosticCode");
		if (r->diag == NULL)
			r->diag = (char *)diag;
		else if (b_startcase(r->diag, "smtp;"))
			r->diag = b_trim(r->diag + 5);
		r->mta = (char *)mta;
		bp_codes(c, r);
		n++;
	}
	return n;
}

int
bp_ses(struct bctx *c)
{
	const char *e, *arr, *arrend;
	char *doc, *type, *mta;

	if (c->body == NULL || (doc = ses_doc(c, &e)) == NULL)
		return 0;
	type = json_str(c->a, doc, e, "notificationType");
	if (type == NULL)
		return 0;
	mta = json_str(c->a, doc, e, "reportingMTA");
	if (mta != NULL && b_startcase(mta, "dsn;"))
		mta = b_trim(mta + 4);
	if (strcasecmp(type, "Bounce") == 0 &&
	    (arr = json_value(doc, e, "bouncedRecipients", &arrend)) != NULL) {
		/* SES tells of a bounce once it has given up, a soft one
		 * ("Transient") after retrying for a while: every bounce
		 * notice is a failure, and never a delay warning. */
		return ses_each(c, arr, arrend, "failed", NULL, mta);
	}
	if (strcasecmp(type, "Complaint") == 0 &&
	    (arr = json_value(doc, e, "complainedRecipients", &arrend)) != NULL) {
		char *ft = json_str(c->a, doc, e, "complaintFeedbackType");
		return ses_each(c, arr, arrend, "complaint",
		    ft ? b_lower(ft) : "abuse", mta);
	}
	if (strcasecmp(type, "Delivery") == 0 &&
	    (arr = json_value(doc, e, "recipients", &arrend)) != NULL) {
		char *resp = json_str(c->a, doc, e, "smtpResponse");
		mta = json_str(c->a, doc, e, "reportingMTA");
		return ses_each(c, arr, arrend, "delivered", resp, mta);
	}
	return 0;
}
