/*
 * fuzz-parse.c - libFuzzer target: bounce recognition on arbitrary bytes.
 *
 * The input is one message as the message loop would hand it over.  The
 * bytes are copied into a buffer of exactly their length (no terminating
 * NUL), so a read past the end is caught.  Every message must give at
 * least one record, and every record must have the parser's columns;
 * this holds with and without the options (tracking header, VERP,
 * unsubscribe addresses).
 * A GLib critical (a GMime function given what it refuses) is a bug in
 * the caller: it aborts here, so that it is caught like a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bounce.h"

/* One parser with the defaults, one with every option. */
static struct bparse *parsers[2];
static const struct bparse_opts opts[2] = {
	{ .idheader = NULL },
	{ .idheader = "X-Campaign-Id", .verp = "bounces",
	  .unsub = { "unsubscribe+*@lists.example.com" }, .nunsub = 1 },
};
static struct bbuf out;

static void
on_glib_log(const char *domain, GLogLevelFlags level, const char *msg,
    void *arg)
{
	(void)arg;
	if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
	    G_LOG_LEVEL_WARNING)) == 0)
		return;
	fprintf(stderr, "%s: %s\n", domain ? domain : "glib", msg);
	abort();
}

static int
emit(void *arg, const struct brec *r)
{
	int *n = arg;

	if (r->n != BREC_PARSE_FIELDS || r->f[BF_ACTION] == NULL ||
	    r->f[BF_ACTION][0] == '\0')
		abort();
	/* Formatting touches every byte of every field. */
	brec_format(&out, r, BREC_TSV);
	brec_format(&out, r, BREC_JSON);
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bmsg m = { .source = "fuzz" };
	char *buf;

	if (parsers[0] == NULL) {
		for (int i = 0; i < 2; i++)
			parsers[i] = bparse_new(&opts[i]);
		g_log_set_default_handler(on_glib_log, NULL);
		g_log_set_handler("gmime", G_LOG_LEVEL_CRITICAL |
		    G_LOG_LEVEL_WARNING, on_glib_log, NULL);
	}
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	m.data = buf;
	m.len = size;
	if (size > 5 && memcmp(buf, "From ", 5) == 0)
		m.envelope = "From MAILER-DAEMON Thu Jan  1 00:00:00 2015";
	for (int i = 0; i < 2; i++) {
		int n = 0;
		if (bparse_message(parsers[i], &m, emit, &n) != 0 || n < 1)
			abort();
	}
	free(buf);
	return 0;
}
