/* rec.c - the record format: escaping, writing, reading, the record loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

const char *const brec_names[BF_NFIELDS] = {
	"source", "date", "recipient", "action", "status", "smtp",
	"mta", "id", "detector", "diag", "class", "reason",
};

static const char hexdig[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void
add_hex(struct bbuf *b, unsigned char c)
{
	char e[4] = { '\\', 'x', hexdig[c >> 4], hexdig[c & 15] };

	bbuf_add(b, e, 4);
}

/*
 * TAB, LF, CR and backslash get their C escapes; other control bytes and
 * bytes that are not valid UTF-8 become \xHH, so the output is always
 * valid UTF-8 and the original bytes come back on reading.  An empty
 * value is "-"; a value that is "-" itself, or that starts with '#' (a
 * comment line) in the first column, is written with \x2d / \x23.
 */
void
brec_escape(struct bbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (s == NULL || *s == '\0') {
		bbuf_addc(b, '-');
		return;
	}
	if (strcmp(s, "-") == 0) {
		bbuf_adds(b, "\\x2d");
		return;
	}
	n = strlen(s);
	while (n > 0) {
		size_t k;
		/* A run of printable ASCII goes as it is. */
		for (k = 0; k < n && p[k] >= 0x20 && p[k] < 0x7f &&
		    p[k] != '\\'; k++)
			;
		if (k > 0) {
			bbuf_add(b, p, k);
			p += k;
			n -= k;
			continue;
		}
		switch (*p) {
		case '\t': bbuf_add(b, "\\t", 2); k = 1; break;
		case '\n': bbuf_add(b, "\\n", 2); k = 1; break;
		case '\r': bbuf_add(b, "\\r", 2); k = 1; break;
		case '\\': bbuf_add(b, "\\\\", 2); k = 1; break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				add_hex(b, *p);
				k = 1;
			} else if ((k = utf8_len(p, n)) == 0) {
				add_hex(b, *p);
				k = 1;
			} else
				bbuf_add(b, p, k);
		}
		p += k;
		n -= k;
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
brec_unescape(char *s)
{
	char *w = s;

	if (strcmp(s, "-") == 0) {
		*s = '\0';
		return 0;
	}
	for (char *r = s; *r; r++) {
		int h, l;

		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		switch (*++r) {
		case 't': *w++ = '\t'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case '\\': *w++ = '\\'; break;
		case 'x':
			if ((h = hexval(r[1])) < 0 || (l = hexval(r[2])) < 0)
				return -1;
			/* A NUL would cut the field short: refuse it. */
			if (h == 0 && l == 0)
				return -1;
			*w++ = (char)(h << 4 | l);
			r += 2;
			break;
		default:
			return -1;
		}
	}
	*w = '\0';
	return 0;
}

static void
json_string(struct bbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	bbuf_addc(b, '"');
	while (n > 0) {
		size_t k = 1;
		if (*p == '"' || *p == '\\') {
			bbuf_addc(b, '\\');
			bbuf_addc(b, *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			char e[7];
			snprintf(e, sizeof e, "\\u%04x", *p);
			bbuf_adds(b, e);
		} else if ((k = utf8_len(p, n)) == 0) {
			/* JSON strings are Unicode: a stray byte becomes
			 * U+FFFD, the only faithful-enough choice. */
			bbuf_adds(b, "\xef\xbf\xbd");
			k = 1;
		} else
			bbuf_add(b, p, k);
		p += k;
		n -= k;
	}
	bbuf_addc(b, '"');
}

void
brec_format(struct bbuf *b, const struct brec *r, int mode)
{
	bbuf_reset(b);
	if (mode == BREC_JSON) {
		bbuf_addc(b, '{');
		for (int i = 0; i < r->n; i++) {
			char name[16];
			const char *key = name;
			if (i < BF_NFIELDS)
				key = brec_names[i];
			else
				snprintf(name, sizeof name, "col%d", i + 1);
			if (i > 0)
				bbuf_addc(b, ',');
			json_string(b, key);
			bbuf_addc(b, ':');
			if (r->f[i] == NULL || r->f[i][0] == '\0')
				bbuf_adds(b, "null");
			else
				json_string(b, r->f[i]);
		}
		bbuf_adds(b, "}\n");
		return;
	}
	for (int i = 0; i < r->n; i++) {
		if (i > 0)
			bbuf_addc(b, '\t');
		if (i == 0 && r->f[0] != NULL && r->f[0][0] == '#') {
			bbuf_adds(b, "\\x23");
			brec_escape(b, r->f[0] + 1);
			if (r->f[0][1] == '\0')
				b->s[--b->len] = '\0';	/* drop the "-" */
			continue;
		}
		brec_escape(b, r->f[i]);
	}
	bbuf_addc(b, '\n');
}

int
brec_write(FILE *fp, const struct brec *r, int mode)
{
	static struct bbuf b;

	brec_format(&b, r, mode);
	if (fwrite(b.s, 1, b.len, fp) != b.len)
		return -1;
	return 0;
}

int
brec_replace(FILE *fp, const char *raw, int first, int n,
    const char *const vals[])
{
	static struct bbuf b;
	const char *p = raw, *tab;
	int col = 0;

	bbuf_reset(&b);
	/* The columns before first, as they came. */
	for (; col < first; col++) {
		if (col > 0)
			bbuf_addc(&b, '\t');
		if (p == NULL) {
			bbuf_addc(&b, '-');
			continue;
		}
		tab = strchr(p, '\t');
		bbuf_add(&b, p, tab ? (size_t)(tab - p) : strlen(p));
		p = tab ? tab + 1 : NULL;
	}
	for (int i = 0; i < n; i++, col++) {
		if (col > 0)
			bbuf_addc(&b, '\t');
		brec_escape(&b, vals[i]);
		if (p != NULL) {	/* skip the column replaced */
			tab = strchr(p, '\t');
			p = tab ? tab + 1 : NULL;
		}
	}
	if (p != NULL) {		/* the columns after, as they came */
		bbuf_addc(&b, '\t');
		bbuf_adds(&b, p);
	}
	bbuf_addc(&b, '\n');
	return fwrite(b.s, 1, b.len, fp) == b.len ? 0 : -1;
}

int
brec_parse(char *line, struct brec *r, const char **why)
{
	char *p = line;

	r->n = 0;
	for (;;) {
		char *tab = strchr(p, '\t');
		if (tab != NULL)
			*tab = '\0';
		if (r->n < BREC_MAXCOLS) {
			if (brec_unescape(p) < 0) {
				*why = "bad escape sequence";
				return -1;
			}
			r->f[r->n++] = p;
		}
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	if (r->n < BREC_PARSE_FIELDS) {
		*why = "too few columns for a record";
		return -1;
	}
	return 0;
}

static int
line_file(FILE *fp, const char *name, b_line_fn fn, void *arg)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rv = 0;

	while (rv == 0 && (n = b_getline(&line, &cap, fp, NULL)) != -1) {
		lineno++;
		rv = fn(arg, line, (size_t)n, name, lineno);
	}
	free(line);
	return rv;
}

int
b_lineloop(int argc, char **argv, b_line_fn fn, b_err_fn err, void *arg)
{
	int status = 0, rv = 0;

	for (int i = 0; rv == 0 && i < (argc ? argc : 1); i++) {
		const char *name = argc ? argv[i] : "-";
		FILE *fp = stdin;

		if (strcmp(name, "-") != 0 && (fp = fopen(name, "r")) == NULL) {
			err(arg, name, strerror(errno));
			status = 1;
			continue;
		}
		rv = line_file(fp, name, fn, arg);
		if (ferror(fp)) {
			err(arg, name, strerror(errno));
			status = 1;
		}
		if (fp != stdin)
			fclose(fp);
	}
	return rv ? rv : status;
}

/* brec_loop's per-line step: the record, parsed from a copy so that the
 * line as read reaches the callback too. */
struct recloop {
	brec_fn fn;
	b_err_fn err;
	void *arg;
	char *copy;
	size_t ccap;
};

static int
rec_line(void *arg, char *line, size_t n, const char *name, long lineno)
{
	struct recloop *l = arg;
	struct brec r;
	const char *why = NULL;

	if (memchr(line, '\0', n) != NULL) {
		/* No field holds a NUL byte (it is escaped as \x00), and
		 * the callbacks take the line as a string: the line goes
		 * on with its NULs spelled \x00, reported. */
		size_t k = 0;
		if (4 * n + 1 > l->ccap) {
			l->ccap = 4 * n + 1;
			l->copy = b_realloc(l->copy, l->ccap);
		}
		for (size_t i = 0; i < n; i++)
			if (line[i] == '\0') {
				memcpy(l->copy + k, "\\x00", 4);
				k += 4;
			} else
				l->copy[k++] = line[i];
		l->copy[k] = '\0';
		return l->fn(l->arg, NULL, l->copy,
		    "NUL byte in the line", name, lineno);
	}
	if (n + 1 > l->ccap) {
		l->ccap = n + 1;
		l->copy = b_realloc(l->copy, l->ccap);
	}
	memcpy(l->copy, line, n + 1);
	if (line[0] == '#')
		return l->fn(l->arg, NULL, l->copy, NULL, name, lineno);
	if (brec_parse(line, &r, &why) < 0)
		return l->fn(l->arg, NULL, l->copy, why, name, lineno);
	return l->fn(l->arg, &r, l->copy, NULL, name, lineno);
}

static void
rec_err(void *arg, const char *what, const char *why)
{
	struct recloop *l = arg;

	l->err(l->arg, what, why);
}

int
brec_loop(int argc, char **argv, brec_fn fn, b_err_fn err, void *arg)
{
	struct recloop l = { .fn = fn, .err = err, .arg = arg };
	int rv;

	rv = b_lineloop(argc, argv, rec_line, rec_err, &l);
	free(l.copy);
	return rv;
}
