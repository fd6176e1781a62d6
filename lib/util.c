/* util.c - allocation, strings, buffers, arenas, dates. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

/* Sync a directory, so that the names just made in it last. */
int
b_fsyncdir(const char *path)
{
	int fd, rv, e;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rv = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rv;
}

static void
b_oom(void)
{
	static const char msg[] = "bounce: out of memory\n";

	/* Nothing else is safe here; write(2) needs no memory. */
	if (write(2, msg, sizeof msg - 1) < 0)
		abort();
	abort();
}

void *
b_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		b_oom();
	return p;
}

void *
b_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		b_oom();
	return p;
}

char *
b_strndup(const char *s, size_t n)
{
	char *p = b_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
b_strdup(const char *s)
{
	return b_strndup(s, strlen(s));
}

size_t
b_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

long long
b_strtonum(const char *s, long long min, long long max, const char **errstr)
{
	char *end;
	long long v;

	*errstr = NULL;
	if (s == NULL || *s == '\0') {
		*errstr = "invalid";
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || end == s)
		*errstr = "invalid";
	else if (errno == ERANGE || v < min)
		*errstr = v < min ? "too small" : "too large";
	else if (v > max)
		*errstr = "too large";
	return *errstr ? 0 : v;
}

/*
 * How common a byte is in the text of bounces, roughly: letters by
 * their frequency in English, then digits; 0 for the rest.  The search
 * below looks for the needle's least common byte.
 */
static const unsigned char *
commonness(void)
{
	static unsigned char tab[256];
	static const char order[] = "etaoinsrhldcumfpgwybvkxjqz";

	if (tab[' '] == 0) {
		for (int i = 0; order[i] != '\0'; i++) {
			tab[(unsigned char)order[i]] = (unsigned char)(38 - i);
			tab[(unsigned char)order[i] - 'a' + 'A'] =
			    (unsigned char)(38 - i);
		}
		for (int c = '0'; c <= '9'; c++)
			tab[c] = 12;
		tab[' '] = 40;
	}
	return tab;
}

const char *
b_memcasemem(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), k = 0;
	const char *p, *first, *last, *lo, *up;
	int c0, c1;

	if (m == 0)
		return hay;
	if (m > n)
		return NULL;
	/* memchr finds the candidates fast, for the needle's least common
	 * byte (at offset k); keep the next place of each case of it so
	 * that neither is searched twice.  Candidates come in order, so
	 * the first that matches is the leftmost match. */
	const unsigned char *freq = commonness();
	int h0 = tolower((unsigned char)needle[0]);

	for (size_t i = 1; i < m; i++)
		if (freq[(unsigned char)needle[i]] <
		    freq[(unsigned char)needle[k]])
			k = i;
	c0 = tolower((unsigned char)needle[k]);
	c1 = toupper((unsigned char)needle[k]);
	first = hay + k;		/* where the byte can first stand */
	last = hay + n - m + k + 1;	/* and the end of that range */
	lo = memchr(first, c0, (size_t)(last - first));
	up = c1 != c0 ? memchr(first, c1, (size_t)(last - first)) : NULL;
	while (lo != NULL || up != NULL) {
		const char *q = up == NULL || (lo != NULL && lo < up) ? lo : up;
		p = q - k;
		if (tolower((unsigned char)*p) == h0 &&
		    strncasecmp(p, needle, m) == 0)
			return p;
		if (q == lo)
			lo = q + 1 < last ? memchr(q + 1, c0,
			    (size_t)(last - q - 1)) : NULL;
		else
			up = q + 1 < last ? memchr(q + 1, c1,
			    (size_t)(last - q - 1)) : NULL;
	}
	return NULL;
}

unsigned long
b_strhash(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

const char *
b_strcasestr(const char *hay, const char *needle)
{
	return b_memcasemem(hay, strlen(hay), needle);
}

int
b_startcase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

char *
b_lower(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return s;
}

char *
b_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* ---- bbuf ---- */

static void
bbuf_grow(struct bbuf *b, size_t n)
{
	size_t need = b->len + n + 1;

	if (need <= b->cap)
		return;
	if (need < b->len)
		b_oom();
	b->cap = b->cap ? b->cap : 256;
	while (b->cap < need)
		b->cap *= 2;
	b->s = b_realloc(b->s, b->cap);
}

void
bbuf_add(struct bbuf *b, const void *p, size_t n)
{
	bbuf_grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
bbuf_addc(struct bbuf *b, int c)
{
	bbuf_grow(b, 1);
	b->s[b->len++] = (char)c;
	b->s[b->len] = '\0';
}

void
bbuf_adds(struct bbuf *b, const char *s)
{
	bbuf_add(b, s, strlen(s));
}

void
bbuf_reset(struct bbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void
bbuf_free(struct bbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* ---- arena ---- */

struct barena_blk {
	struct barena_blk *next;
	size_t used, size;
	max_align_t data[];
};

#define BARENA_BLK 16384

void *
barena_alloc(struct barena *a, size_t n)
{
	struct barena_blk *b = a->head;
	size_t al = sizeof(max_align_t);

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	/* Reuse a kept block with room, else add one in front. */
	for (; b != NULL; b = b->next)
		if (b->size - b->used >= n)
			break;
	if (b == NULL) {
		size_t sz = n > BARENA_BLK ? n : BARENA_BLK;
		b = b_malloc(sizeof *b + sz);
		b->size = sz;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	b->used += n;
	return (char *)b->data + b->used - n;
}

char *
barena_strndup(struct barena *a, const char *s, size_t n)
{
	char *p = barena_alloc(a, n + 1);

	/* s may be NULL when n is 0 (an empty GByteArray's data). */
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
barena_strdup(struct barena *a, const char *s)
{
	return barena_strndup(a, s, strlen(s));
}

char *
barena_printf(struct barena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return barena_strdup(a, "");
	p = barena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
barena_reset(struct barena *a)
{
	struct barena_blk *b, *next, *keep = NULL;

	/* Keep ordinary blocks for reuse; give back oversized ones so one
	 * huge message does not pin memory for the rest of the run. */
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		if (b->size > BARENA_BLK) {
			free(b);
			continue;
		}
		b->used = 0;
		b->next = keep;
		keep = b;
	}
	a->head = keep;
}

void
barena_free(struct barena *a)
{
	struct barena_blk *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/* ---- dates ---- */

void
b_isotime(time_t t, char buf[21])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		b_strlcpy(buf, "-", 21);
}

static int
month_index(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, months + 3 * i, 3) == 0)
			return i;
	return -1;
}

/* Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
zone_offset(const char *z)
{
	static const struct { const char *n; int off; } zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "UTC", 0 }, { "Z", 0 },
		{ "EST", -500 }, { "EDT", -400 }, { "CST", -600 },
		{ "CDT", -500 }, { "MST", -700 }, { "MDT", -600 },
		{ "PST", -800 }, { "PDT", -700 }, { "JST", 900 },
		{ "CET", 100 }, { "CEST", 200 }, { "BST", 100 },
	};
	int sign, v;

	if (*z == '+' || *z == '-') {
		sign = *z == '-' ? -1 : 1;
		z++;
		if (!isdigit((unsigned char)z[0]) ||
		    !isdigit((unsigned char)z[1]))
			return 0;
		v = (z[0] - '0') * 1000 + (z[1] - '0') * 100;
		z += 2;
		if (*z == ':')
			z++;
		if (isdigit((unsigned char)z[0]) &&
		    isdigit((unsigned char)z[1]))
			v += (z[0] - '0') * 10 + (z[1] - '0');
		return sign * v;
	}
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		size_t n = strlen(zones[i].n);
		if (strncasecmp(z, zones[i].n, n) == 0 &&
		    !isalpha((unsigned char)z[n]))
			return zones[i].off;
	}
	return 0;
}

/* The decimal at p if it has 1 to 4 digits, else -1: date fields are
 * small, and a long run of digits must not overflow the arithmetic. */
static int
date_num(const char *p)
{
	int v = 0, n;

	for (n = 0; isdigit((unsigned char)p[n]); n++) {
		if (n == 4)
			return -1;
		v = v * 10 + (p[n] - '0');
	}
	return n > 0 ? v : -1;
}

/*
 * Tolerant RFC 5322 date parsing: "[Day,] DD Mon YYYY HH:MM[:SS] zone",
 * also the asctime order of mbox "From " lines ("Mon Jan  2 15:04:05
 * 2006") and ISO "YYYY-MM-DD HH:MM:SS".  Missing zone means UTC.  The
 * first complete date wins: what follows it (another header glued on by
 * a broken mailer) is not read.
 */
time_t
b_parsedate(const char *s)
{
	long long y = -1, days;
	int mon = -1, d = -1, hh = 0, mm = 0, ss = 0, off = 0, timed = 0;
	const char *p = s;
	char word[16];
	time_t t;

	if (s == NULL)
		return -1;
	while (*p) {
		size_t n = 0;
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n' ||
		    *p == '\r')
			p++;
		if (*p == '\0')
			break;
		if (isdigit((unsigned char)*p)) {
			const char *q = p;
			while (isdigit((unsigned char)*q))
				q++;
			if (*q == ':' && isdigit((unsigned char)q[1])) {
				/* a time: a second one is past the date */
				if (timed)
					break;
				timed = 1;
				hh = date_num(p);
				mm = date_num(q + 1);
				q++;
				while (isdigit((unsigned char)*q))
					q++;
				if (*q == ':') {
					ss = date_num(q + 1);
					q++;
					while (isdigit((unsigned char)*q))
						q++;
				}
				if (*q == '.')	/* fractions */
					for (q++; isdigit((unsigned char)*q);)
						q++;
				p = q;
				continue;
			}
			if (*q == '-' && q - p == 2 && !timed && y >= 0 &&
			    mon >= 0 && d >= 0 && isdigit((unsigned char)q[1]) &&
			    isdigit((unsigned char)q[2]) && q[3] == '-' &&
			    isdigit((unsigned char)q[4]) &&
			    isdigit((unsigned char)q[5]) &&
			    !isdigit((unsigned char)q[6])) {
				/* a time written HH-MM-SS after the date
				 * (SendGrid's Arrival-Date), not a zone */
				timed = 1;
				hh = date_num(p);
				mm = date_num(q + 1);
				ss = date_num(q + 4);
				p = q + 6;
				continue;
			}
			if (*q == '-' && q - p == 4 && y < 0) {
				/* ISO date YYYY-MM-DD */
				y = atoll(p);
				mon = date_num(q + 1);
				if (mon >= 0)
					mon--;
				q++;
				while (isdigit((unsigned char)*q))
					q++;
				if (*q == '-') {
					d = date_num(q + 1);
					q++;
				}
				while (isdigit((unsigned char)*q))
					q++;
				if (*q == 'T')
					q++;
				p = q;
				continue;
			}
			if (d < 0 && q - p <= 2)
				d = date_num(p);
			else if (y < 0)
				y = atoll(p);
			p = q;
			continue;
		}
		if (*p == '+' || *p == '-') {
			off = zone_offset(p);
			if (timed && y >= 0 && mon >= 0 && d >= 0)
				break;	/* the zone ends a complete date */
			p++;
			while (isdigit((unsigned char)*p) || *p == ':')
				p++;
			continue;
		}
		if (*p == '(') {	/* comment */
			while (*p && *p != ')')
				p++;
			if (*p)
				p++;
			continue;
		}
		while (p[n] && !isspace((unsigned char)p[n]) && p[n] != ',' &&
		    n < sizeof word - 1) {
			word[n] = p[n];
			n++;
		}
		word[n] = '\0';
		if (n == 0) {
			p++;
			continue;
		}
		if (mon < 0 && n >= 3 && month_index(word) >= 0)
			mon = month_index(word);
		else if (isupper((unsigned char)word[0]) && n <= 4 &&
		    (word[n - 1] == 'T' || strcmp(word, "Z") == 0 ||
		    strcmp(word, "UT") == 0)) {
			off = zone_offset(word);
			if (timed && y >= 0 && mon >= 0 && d >= 0)
				break;
		}
		p += n;
		while (*p && !isspace((unsigned char)*p) && *p != ',')
			p++;
	}
	if (y < 0 || mon < 0 || mon > 11 || d < 1 || d > 31 || hh < 0 ||
	    hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return -1;
	if (y < 100)
		y += y < 50 ? 2000 : 1900;
	if (y < 1970 || y > 9999)
		return -1;
	days = days_from_civil(y, mon + 1, d);
	t = (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss -
	    ((off / 100) * 3600 + (off % 100) * 60));
	return t < 0 || t > B_TIME_MAX ? -1 : t;
}

ssize_t
b_getline(char **linep, size_t *capp, FILE *fp, size_t *raw)
{
	ssize_t n = getline(linep, capp, fp);

	if (n < 0)
		return -1;
	if (raw != NULL)
		*raw = (size_t)n;
	if (n > 0 && (*linep)[n - 1] == '\n')
		(*linep)[--n] = '\0';
	if (n > 0 && (*linep)[n - 1] == '\r')
		(*linep)[--n] = '\0';
	return n;
}

/*
 * The text of an HTML document, roughly: tags go, those that end a line
 * or a block (br, p, div, tr, li, h1-h6, table) become line ends, the
 * contents of style, script and head go, comments go, and the common
 * entities are decoded.  Enough to read what a bounce's HTML part says.
 */
char *
b_html_text(struct barena *a, const char *s, size_t n, size_t *lenp)
{
	static const char *blocks[] = { "br", "p", "div", "tr", "li", "h1",
	    "h2", "h3", "h4", "h5", "h6", "table", "hr", "blockquote", NULL };
	static const struct { const char *name; const char *text; } ents[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" },
		{ "quot;", "\"" }, { "apos;", "'" }, { "nbsp;", " " },
		{ "#39;", "'" }, { NULL, NULL } };
	char *out = barena_alloc(a, n + 1), *o = out;
	const char *p = s, *e = s + n;

	while (p < e) {
		if (*p == '<') {
			const char *q = p + 1, *name;
			size_t nl;
			int close = 0;
			if (e - p >= 4 && memcmp(p, "<!--", 4) == 0) {
				const char *end = b_memcasemem(p + 4,
				    (size_t)(e - p - 4), "-->");
				p = end ? end + 3 : e;
				continue;
			}
			if (q < e && *q == '/') {
				close = 1;
				q++;
			}
			name = q;
			while (q < e && isalnum((unsigned char)*q))
				q++;
			nl = (size_t)(q - name);
			if (!close && ((nl == 5 && strncasecmp(name, "style", 5) == 0) ||
			    (nl == 6 && strncasecmp(name, "script", 6) == 0) ||
			    (nl == 4 && strncasecmp(name, "head", 4) == 0))) {
				char endtag[10];
				const char *end;
				snprintf(endtag, sizeof endtag, "</%.*s", (int)nl,
				    name);
				end = b_memcasemem(q, (size_t)(e - q), endtag);
				p = end ? end : e;
				continue;
			}
			while (q < e && *q != '>')
				q++;
			p = q < e ? q + 1 : e;
			for (int i = 0; nl > 0 && blocks[i] != NULL; i++)
				if (strlen(blocks[i]) == nl &&
				    strncasecmp(name, blocks[i], nl) == 0) {
					*o++ = '\n';
					break;
				}
			continue;
		}
		if (*p == '&') {
			int i;
			for (i = 0; ents[i].name != NULL; i++) {
				size_t l = strlen(ents[i].name);
				if ((size_t)(e - p - 1) >= l &&
				    strncasecmp(p + 1, ents[i].name, l) == 0) {
					*o++ = ents[i].text[0];
					p += 1 + l;
					break;
				}
			}
			if (ents[i].name != NULL)
				continue;
		}
		/* Line ends inside running HTML text are blanks. */
		*o++ = *p == '\n' ? ' ' : *p;
		p++;
	}
	*o = '\0';
	*lenp = (size_t)(o - out);
	return out;
}
