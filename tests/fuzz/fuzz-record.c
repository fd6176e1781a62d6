/*
 * fuzz-record.c - libFuzzer target: the record format round trip.
 *
 * A line that reads as a record is written out again and read back; the
 * second reading must give the same fields.  The written line must be
 * valid UTF-8 with no control byte but its final LF, and have one TAB
 * less than it has columns.  The JSON form must be valid UTF-8 too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

/* Is s[0..n) valid UTF-8 (no overlongs, surrogates, or > U+10FFFF)? */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, len;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += len;
	}
	return 1;
}

static void
check_tsv(const struct bbuf *b, int ncols)
{
	int tabs = 0;

	if (b->len == 0 || b->s[b->len - 1] != '\n')
		abort();
	for (size_t i = 0; i + 1 < b->len; i++) {
		unsigned char c = (unsigned char)b->s[i];
		if (c == '\t')
			tabs++;
		else if (c < 0x20 || c == 0x7f)
			abort();
	}
	if (tabs != ncols - 1 || !valid_utf8((unsigned char *)b->s, b->len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bbuf out, js;
	struct brec r1, r2;
	const char *why = NULL;
	char *line, *line2;
	size_t n;

	/* The reader hands over one line without its LF, as a C string. */
	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (brec_parse(line, &r1, &why) < 0) {
		if (why == NULL)
			abort();
		free(line);
		return 0;
	}
	brec_format(&out, &r1, BREC_TSV);
	check_tsv(&out, r1.n);
	brec_format(&js, &r1, BREC_JSON);
	if (!valid_utf8((unsigned char *)js.s, js.len))
		abort();

	n = out.len - 1;		/* without the LF */
	line2 = malloc(n + 1);
	if (line2 == NULL)
		abort();
	memcpy(line2, out.s, n);
	line2[n] = '\0';
	if (brec_parse(line2, &r2, &why) < 0 || r2.n != r1.n)
		abort();
	for (int i = 0; i < r1.n; i++)
		if (strcmp(r1.f[i], r2.f[i]) != 0)
			abort();
	free(line2);
	free(line);
	return 0;
}
