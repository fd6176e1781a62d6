/* status.c - RFC 3463 enhanced status codes and SMTP reply codes. */
#include <ctype.h>
#include <string.h>

#include "bounce.h"

/* Parse "C.S.D" at p exactly (no bounds checks on the context). */
static int
status_at(const char *p, char out[12], const char **endp)
{
	const char *q = p;
	int sub = 0, det = 0, ns = 0, nd = 0;

	if (*q != '2' && *q != '4' && *q != '5')
		return 0;
	if (q[1] != '.')
		return 0;
	q += 2;
	while (isdigit((unsigned char)*q) && ns < 4)
		sub = sub * 10 + (*q++ - '0'), ns++;
	if (ns == 0 || ns > 3 || *q != '.')
		return 0;
	q++;
	while (isdigit((unsigned char)*q) && nd < 4)
		det = det * 10 + (*q++ - '0'), nd++;
	if (nd == 0 || nd > 3)
		return 0;
	snprintf(out, 12, "%c.%d.%d", *p, sub, det);
	if (endp)
		*endp = q;
	return 1;
}

int
bstatus_parse(const char *s, char out[12])
{
	const char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!status_at(s, out, &end))
		return 0;
	/* "5.1.10" is fine, "5.1.1.3" (an IP) is not a status. */
	if (*end == '.' && isdigit((unsigned char)end[1]))
		return 0;
	return !isdigit((unsigned char)*end);
}

/* Is p just after a multi-line SMTP reply code, as in "550-5.1.1"? */
static int
after_reply_code(const char *text, const char *p)
{
	return p - text >= 4 && p[-1] == '-' &&
	    isdigit((unsigned char)p[-2]) && isdigit((unsigned char)p[-3]) &&
	    isdigit((unsigned char)p[-4]) &&
	    (p - text == 4 || !isalnum((unsigned char)p[-5]));
}

/* Is the word before p one after which a dotted number is a software
 * version rather than a status ("Exim 4.94.2", "version 2.11.3")? */
static int
after_version_word(const char *text, const char *p)
{
	static const char *words[] = { "version", "ver", "release", "exim",
	    "postfix", "dovecot", NULL };
	const char *e = p, *w;

	while (e > text && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (w = e; w > text && isalpha((unsigned char)w[-1]); w--)
		;
	for (int i = 0; words[i] != NULL && w < e; i++)
		if (strlen(words[i]) == (size_t)(e - w) &&
		    strncasecmp(w, words[i], (size_t)(e - w)) == 0)
			return 1;
	return 0;
}

static int status_scan(const char *text, char out[12],
    const char *classes, int replied);
static int after_reply(const char *text, const char *p);

int
bstatus_find(const char *text, char out[12])
{
	/* A code right after a reply code is the answering server's own;
	 * a failure's code beats the 2.x.x of steps that went well, as in
	 * a quoted SMTP transcript. */
	return status_scan(text, out, "45", 1) ||
	    status_scan(text, out, "45", 0) || status_scan(text, out, "2", 0);
}

/*
 * Does an SMTP reply code stand just before p ("550 5.7.1", "550-5.7.1",
 * "550-'5.7.1")?  The code that follows a server's reply code is that
 * server's word; others may be the reporting MTA's summary.
 */
static int
after_reply(const char *text, const char *p)
{
	const char *q = p;

	while (q > text && (q[-1] == ' ' || q[-1] == '-' || q[-1] == '\'' ||
	    q[-1] == '"') && p - q < 3)
		q--;
	if (q == p || q - text < 3)
		return 0;
	if (!strchr("245", q[-3]) || !isdigit((unsigned char)q[-2]) ||
	    !isdigit((unsigned char)q[-1]))
		return 0;
	return q - text == 3 || !isalnum((unsigned char)q[-4]);
}

static int
status_scan(const char *text, char out[12], const char *classes, int replied)
{
	for (const char *p = text; *p; p++) {
		const char *end;
		if (*p == '\0' || strchr(classes, *p) == NULL)
			continue;
		if (p > text && (isalnum((unsigned char)p[-1]) ||
		    p[-1] == '.' || p[-1] == '_' || p[-1] == '/' ||
		    (p[-1] == ':' && p - text >= 2 &&
		    isdigit((unsigned char)p[-2])) ||
		    (p[-1] == '-' && !after_reply_code(text, p))))
			continue;
		if (!status_at(p, out, &end))
			continue;
		/* "5.1.1.3" is an IP address, "4.1.2.tar" a file name. */
		if (isalnum((unsigned char)*end) ||
		    (*end == '.' && isalnum((unsigned char)end[1])) ||
		    *end == '-' || *end == '@')
			continue;
		if (after_version_word(text, p))
			continue;
		if (replied && !after_reply(text, p))
			continue;
		return 1;
	}
	return 0;
}

/* Is an enhanced status code the next word after p (blanks, commas and
 * a short label such as "ERROR_CODE :" may stand between)? */
static int
enhanced_follows(const char *p)
{
	char st[12];

	for (int i = 0; i < 24 && *p; i++, p++) {
		if ((*p == '4' || *p == '5') && p[1] == '.' &&
		    (p[-1] == ' ' || p[-1] == ':'))
			return bstatus_parse(p, st);
	}
	return 0;
}

static int
smtp_scan(const char *text, char out[4], const char *classes)
{
	for (const char *p = text; *p; p++) {
		if (strchr(classes, *p) == NULL || *p == '\0')
			continue;
		if (!isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]))
			continue;
		/* "#550 5.1.1" (Exchange), "(552 5.2.2", "CODE :550,
		 * CODE :5.1.1" are reply codes, "ticket #550" is not:
		 * after '#', ':' or '(' only with an enhanced code near. */
		if (p > text && (p[-1] == '#' || p[-1] == ':' ||
		    p[-1] == '(') && enhanced_follows(p + 3))
			;
		else if (p > text && (isalnum((unsigned char)p[-1]) ||
		    strchr(".,-_/:@#=+[<(", p[-1]) != NULL)) {
			p += 2;
			continue;
		}
		/* The code ends at a blank, a '-' continuation, or the end;
		 * at a ':' only with an enhanced code next ("550: 5.1.1"). */
		if (p[3] != ' ' && p[3] != '-' && p[3] != '\0' &&
		    p[3] != '\t' && p[3] != ',' && p[3] != ']' &&
		    p[3] != ';' && p[3] != ')' &&
		    !(p[3] == ':' && enhanced_follows(p + 4))) {
			p += 2;
			continue;
		}
		/* "550-Text", "550-5.1.1", SES's "550-'Text'" and
		 * "550-\"5.1.1 Text" */
		if (p[3] == '-' && !isalpha((unsigned char)p[4]) &&
		    !isdigit((unsigned char)p[4]) && p[4] != '\'' &&
		    p[4] != '"') {
			p += 2;
			continue;
		}
		/* Reply codes have a second digit 0-5. */
		if (p[1] > '5') {
			p += 2;
			continue;
		}
		out[0] = p[0];
		out[1] = p[1];
		out[2] = p[2];
		out[3] = '\0';
		return 1;
	}
	return 0;
}

int
bsmtp_find(const char *text, char out[4])
{
	return smtp_scan(text, out, "45") || smtp_scan(text, out, "2");
}

int
bstatus_generic(const char *st)
{
	return st != NULL && st[0] != '\0' && strcmp(st + 1, ".0.0") == 0;
}
