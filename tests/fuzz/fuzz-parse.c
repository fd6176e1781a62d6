/*
 * fuzz-parse.c - libFuzzer target: bounce recognition on arbitrary bytes.
 *
 * The input is one message as the message loop would hand it over.  The
 * bytes are copied into a buffer of exactly their length (no terminating
 * NUL), so a read past the end is caught.  Every message must give at
 * least one record, and every record must have the parser's columns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

static struct bparse *parser;

static int
emit(void *arg, const struct brec *r)
{
	int *n = arg;

	if (r->n != BREC_PARSE_FIELDS || r->f[BF_ACTION] == NULL ||
	    r->f[BF_ACTION][0] == '\0')
		abort();
	/* Formatting touches every byte of every field. */
	{
		static struct bbuf b;
		brec_format(&b, r, BREC_TSV);
		brec_format(&b, r, BREC_JSON);
	}
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bmsg m = { .source = "fuzz" };
	char *buf;
	int n = 0;

	if (parser == NULL)
		parser = bparse_new(NULL);
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	m.data = buf;
	m.len = size;
	if (size > 5 && memcmp(buf, "From ", 5) == 0)
		m.envelope = "From MAILER-DAEMON Thu Jan  1 00:00:00 2015";
	if (bparse_message(parser, &m, emit, &n) != 0 || n < 1)
		abort();
	free(buf);
	return 0;
}
