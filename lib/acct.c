/*
 * acct.c - PowerMTA accounting records (CSV, RFC 4180 quoting).
 *
 * The first line of an accounting file names its columns
 * ("type,timeLogged,...,rcpt,...,dsnStatus,dsnDiag,..."), in whatever
 * order and subset the operator configured; the columns are read by
 * those names.  "b" (bounce) and "rb" (remote bounce) records are
 * failures, "f" (feedback loop) records complaints; other types are
 * counted and passed over.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* PowerMTA's default accounting fields, for records piped without a
 * header line. */
static const char default_header[] =
    "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,"
    "dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,dlvSourceIp,"
    "dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,"
    "vmtaPool";

#define ACCT_MAXCOLS 128

/*
 * Split one CSV record into at most ACCT_MAXCOLS fields, in arena
 * memory: quoted fields may hold commas, line breaks and "" for a quote.
 * Returns the number of fields.
 */
static int
csv_split(struct barena *a, const char *s, size_t n, char **f)
{
	const char *e = s + n;
	int nf = 0;

	while (nf < ACCT_MAXCOLS) {
		struct bbuf b = { 0 };
		if (s < e && *s == '"') {
			for (s++; s < e; s++) {
				if (*s == '"') {
					if (s + 1 < e && s[1] == '"') {
						bbuf_addc(&b, '"');
						s++;
						continue;
					}
					s++;
					break;
				}
				bbuf_addc(&b, *s);
			}
			/* anything between the closing quote and the comma */
			while (s < e && *s != ',')
				bbuf_addc(&b, *s++);
		} else
			while (s < e && *s != ',' && *s != '\n')
				bbuf_addc(&b, *s++);
		f[nf++] = barena_strndup(a, b.s ? b.s : "", b.len);
		bbuf_free(&b);
		if (s >= e || *s != ',')
			break;
		s++;
	}
	return nf;
}

/*
 * A header line: names only (letters, digits, '_', '-'), separated by
 * commas, among them "type" and "rcpt" or "orcpt", in any order.
 */
int
bacct_is_header(const char *line, size_t n)
{
	int type = 0, rcpt = 0;
	size_t i = 0;

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n < 10)
		return 0;
	while (i < n) {
		size_t j = i;
		while (j < n && (isalnum((unsigned char)line[j]) ||
		    line[j] == '_' || line[j] == '-'))
			j++;
		if (j == i || (j < n && line[j] != ','))
			return 0;
		if (j - i == 4 && strncasecmp(line + i, "type", 4) == 0)
			type = 1;
		if ((j - i == 4 && strncasecmp(line + i, "rcpt", 4) == 0) ||
		    (j - i == 5 && strncasecmp(line + i, "orcpt", 5) == 0))
			rcpt = 1;
		i = j + 1;
	}
	return type && rcpt;
}

int
bacct_is_record(const char *line, size_t n)
{
	size_t commas = 0;

	/* "b,2014-11-04 15:01:16+0000,...": a short type, then fields */
	if (n < 4 || !islower((unsigned char)line[0]))
		return 0;
	if (line[1] != ',' && !(islower((unsigned char)line[1]) &&
	    line[2] == ','))
		return 0;
	for (size_t i = 0; i < n; i++)
		commas += line[i] == ',';
	return commas >= 4 && memchr(line, '@', n) != NULL;
}

/* The value of column name, or NULL when the header has no such column
 * or the record is short of it. */
static char *
col(char **hdr, int nh, char **f, int nf, const char *name)
{
	for (int i = 0; i < nh && i < nf; i++)
		if (strcasecmp(hdr[i], name) == 0)
			return f[i][0] ? f[i] : NULL;
	return NULL;
}

/* "5.1.1 (bad destination mailbox address)" -> "5.1.1" */
static char *
acct_status(struct barena *a, const char *v)
{
	char st[12];

	if (v == NULL || !bstatus_parse(v, st))
		return NULL;
	return barena_strdup(a, st);
}

/* "smtp;550 5.1.1 ..." -> "550 5.1.1 ...", "mx.example.com (192.0.2.1)"
 * -> "mx.example.com" */
static char *
untyped(char *v)
{
	char *p;

	if (v == NULL)
		return NULL;
	for (p = v; isalnum((unsigned char)*p) || *p == '-'; p++)
		;
	if (p > v && *p == ';')
		v = p + 1;
	return b_trim(v);
}

static char *
host_only(struct barena *a, char *v)
{
	size_t n;

	if ((v = untyped(v)) == NULL)
		return NULL;
	n = strcspn(v, " (");
	return b_lower(barena_strndup(a, v, n));
}

void
bacct_count(struct bparse_acct *st, const char *type, unsigned long n)
{
	int i;

	for (i = 0; i < st->ntypes; i++)
		if (strcmp(st->types[i].name, type) == 0)
			break;
	if (i == st->ntypes) {
		if (st->ntypes == BACCT_MAXTYPES)
			i--;	/* lump the rest into the last slot */
		else {
			b_strlcpy(st->types[i].name, type,
			    sizeof st->types[i].name);
			st->ntypes++;
		}
	}
	st->types[i].count += n;
}

int
bp_acct(struct bctx *c, struct bparse_acct *st)
{
	char *hdr[ACCT_MAXCOLS], *f[ACCT_MAXCOLS];
	const char *h = c->m->header ? c->m->header : default_header;
	char *type, *v, *id = NULL;
	struct bres *r;
	int nh, nf;

	nh = csv_split(c->a, h, strlen(h), hdr);
	nf = csv_split(c->a, c->m->data, c->m->len, f);
	if ((type = col(hdr, nh, f, nf, "type")) == NULL)
		type = "?";
	b_lower(type);
	if (strcmp(type, "b") != 0 && strcmp(type, "rb") != 0 &&
	    strcmp(type, "f") != 0) {
		bacct_count(st, type, 1);
		return -1;
	}
	if ((r = bp_add(c, "pmta")) == NULL)
		return 0;
	r->rcpt = baddr_norm(c->a, col(hdr, nh, f, nf, "rcpt"));
	if (r->rcpt == NULL)
		r->rcpt = baddr_norm(c->a, col(hdr, nh, f, nf, "orcpt"));
	if (strcmp(type, "f") == 0) {
		r->action = "complaint";
		v = col(hdr, nh, f, nf, "feedbackType");
		r->diag = v ? b_lower(v) : barena_strdup(c->a, "abuse");
	} else {
		r->action = "failed";
		r->status = acct_status(c->a, col(hdr, nh, f, nf,
		    "dsnStatus"));
		r->diag = untyped(col(hdr, nh, f, nf, "dsnDiag"));
		r->mta = host_only(c->a, col(hdr, nh, f, nf, "dsnMta"));
		/* PowerMTA's own verdict, for bclassify when the status
		 * and the text do not settle it. */
		r->detector = bp_pmta(c, col(hdr, nh, f, nf, "bounceCat"),
		    r->detector);
		bp_codes(c, r);
	}
	/* The tracking id: a configured header column, else the job id. */
	if (c->o->idheader != NULL) {
		char *name = barena_printf(c->a, "header_%s", c->o->idheader);
		id = col(hdr, nh, f, nf, name);
	}
	if (id == NULL)
		id = col(hdr, nh, f, nf, "jobId");
	c->acct_id = id;
	v = col(hdr, nh, f, nf, "timeLogged");
	c->date = b_parsedate(v);
	return 1;
}
