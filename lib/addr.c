/* addr.c - mail address normalisation and VERP decoding. */
#include <ctype.h>
#include <string.h>

#include "bounce.h"

int
baddr_atext(int c)
{
	static const char more[] = "!#$%&'*+-/=?^_`{|}~.";

	return isalnum(c) || (c != '\0' && memchr(more, c, sizeof more - 1));
}

/* A local part's byte: atext, or UTF-8 (RFC 6531). */
static int
atext(int c)
{
	return baddr_atext(c) || c >= 0x80;
}

static int
dtext(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80 ||
	    c == '[' || c == ']' || c == ':';
}

int
baddr_valid(const char *s)
{
	const char *at = strrchr(s, '@'), *dot;

	if (at == NULL || at == s || at[1] == '\0')
		return 0;
	if (at[1] == '[')	/* address literal */
		return strchr(at, ']') != NULL;
	dot = strchr(at + 1, '.');
	if (dot == NULL || dot[1] == '\0' || dot == at + 1)
		return 0;
	for (const char *p = at + 1; *p; p++)
		if (!dtext((unsigned char)*p))
			return 0;
	if (s[0] == '"')
		return at > s + 1 && at[-1] == '"';
	for (const char *p = s; p < at; p++)
		if (!atext((unsigned char)*p))
			return 0;
	return 1;
}

/*
 * Take the address out of a report value.  Accepted shapes:
 *   rfc822; user@example.com      RFC 3464 address-type prefix
 *   <user@example.com>            angle brackets, also inside a phrase
 *   "a b"@example.com             quoted local part (kept quoted unless
 *                                 the quotes are needless)
 *   <"user@example.com">          the whole address quoted
 *   user@example.com (comment)    trailing comment or junk
 * The domain is lower-cased; so is the local part, as the toolset keys
 * its state on addresses and senders rarely rely on local-part case.
 */
char *
baddr_norm(struct barena *a, const char *s)
{
	const char *p, *lt, *start, *end;
	char *out, *w;
	int needq = 0, squote = 0;

	if (s == NULL)
		return NULL;
	while (isspace((unsigned char)*s))
		s++;
	/* "rfc822;" / "RFC822:" and other address types. */
	p = s;
	while (isalnum((unsigned char)*p) || *p == '-')
		p++;
	if (p > s && (*p == ';' || (*p == ':' && p[1] != ':')) &&
	    (b_startcase(s, "rfc822") || b_startcase(s, "utf-8") ||
	    b_startcase(s, "x-") || b_startcase(s, "smtp")))
		s = p + 1;
	while (isspace((unsigned char)*s))
		s++;
	if ((lt = strchr(s, '<')) != NULL && strchr(lt, '>') != NULL &&
	    memchr(lt, '@', (size_t)(strchr(lt, '>') - lt)) != NULL) {
		start = lt + 1;
		end = strchr(start, '>');
	} else {
		start = s;
		if (*start == '\'')	/* 'user@example.com' */
			start++, squote = 1;
		if (*start == '"') {
			/* quoted local part: find the closing quote */
			for (end = start + 1; *end && *end != '"'; end++)
				if (*end == '\\' && end[1])
					end++;
			if (*end == '"')
				end++;
		} else
			end = start;
		/* An apostrophe is an ordinary local-part character
		 * (o'hara@example.com); only a quote that opened the
		 * address closes it. */
		while (*end && !isspace((unsigned char)*end) &&
		    !strchr("<>(),;\"", *end) &&
		    !(squote && *end == '\'' && end > start &&
		    memchr(start, '@', (size_t)(end - start)) != NULL))
			end++;
	}
	while (start < end && isspace((unsigned char)*start))
		start++;
	/* Trailing blanks and punctuation; a quote after the domain, which
	 * cannot hold one. */
	while (end > start && (isspace((unsigned char)end[-1]) ||
	    end[-1] == '.' || end[-1] == ',' || (end[-1] == '\'' &&
	    memchr(start, '@', (size_t)(end - start)) != NULL &&
	    memrchr(start, '@', (size_t)(end - start)) > (const void *)start)))
		end--;
	if (end - start >= 2 && *start == '\'' && end[-1] == '\'') {
		start++;
		end--;
	}
	/* The whole address in quotes ("user@example.com"), not only its
	 * local part. */
	if (end - start >= 2 && *start == '"' && end[-1] == '"' &&
	    memchr(start + 1, '"', (size_t)(end - start - 2)) == NULL &&
	    memchr(start + 1, '@', (size_t)(end - start - 2)) != NULL) {
		start++;
		end--;
	}
	if (end <= start)
		return NULL;
	out = w = barena_alloc(a, (size_t)(end - start) + 3);
	if (*start == '"') {
		/* Drop needless quotes around an all-atext local part. */
		const char *q = start + 1;
		for (; q < end && *q != '"'; q++)
			if (!atext((unsigned char)*q) || *q == '.')
				needq = 1;
		if (needq)
			*w++ = '"';
		for (q = start + 1; q < end && *q != '"'; q++)
			*w++ = (char)tolower((unsigned char)*q);
		if (needq)
			*w++ = '"';
		start = q < end ? q + 1 : q;
	}
	for (p = start; p < end; p++)
		*w++ = (char)tolower((unsigned char)*p);
	*w = '\0';
	if (!baddr_valid(out))
		return NULL;
	return out;
}

char *
baddr_verp(struct barena *a, const char *addr, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *at, *enc, *eq;
	char *local, *out;

	if (addr == NULL || strncasecmp(addr, prefix, n) != 0)
		return NULL;
	enc = addr + n;
	if (*enc != '+' && *enc != '-' && *enc != '=')
		return NULL;
	enc++;
	if ((at = strrchr(enc, '@')) == NULL)
		return NULL;
	/* The last '=' separates the local part from the domain. */
	for (eq = at - 1; eq > enc && *eq != '='; eq--)
		;
	if (eq <= enc)
		return NULL;
	local = barena_strndup(a, enc, (size_t)(eq - enc));
	out = barena_printf(a, "%s@%.*s", local, (int)(at - eq - 1), eq + 1);
	b_lower(out);
	return baddr_valid(out) ? out : NULL;
}

/* Does a header's value name more than one address: a comma outside
 * quotes, comments and angle brackets ("Doe, John" <j@x> names one)? */
int
baddr_several(const char *v)
{
	int quoted = 0, comment = 0, angle = 0;

	for (; *v; v++) {
		if (*v == '\\' && v[1] != '\0' && (quoted || comment))
			v++;
		else if (quoted)
			quoted = *v != '"';
		else if (*v == '"' && comment == 0)
			quoted = 1;
		else if (*v == '(')
			comment++;
		else if (*v == ')' && comment > 0)
			comment--;
		else if (comment > 0)
			;
		else if (*v == '<')
			angle = 1;
		else if (*v == '>')
			angle = 0;
		else if (*v == ',' && !angle)
			return 1;
	}
	return 0;
}
