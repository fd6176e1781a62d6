/*
 * bparse - turn bounce messages into one record per failed recipient.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

static const char usage_text[] =
    "usage: bparse [-jh] [-H header] [-U pattern] [-V prefix]\n"
    "              [file | mbox | maildir | -] ...\n";

struct ctx {
	struct bparse *p;
	int mode;
	int flush;		/* flush after every message (path list) */
};

static void
on_error(void *arg, const char *what, const char *why)
{
	(void)arg;
	fprintf(stderr, "bparse: %s: %s\n", what, why);
}

static int
on_record(void *arg, const struct brec *r)
{
	struct ctx *c = arg;

	if (brec_write(stdout, r, c->mode) < 0)
		return -1;
	return 0;
}

static int
on_message(void *arg, const struct bmsg *m)
{
	struct ctx *c = arg;

	if (bparse_message(c->p, m, on_record, c) != 0)
		return -1;
	if (c->flush && fflush(stdout) == EOF)
		return -1;
	return 0;
}

/* Accounting records of other types are not bounces: say how many. */
static void
report_skipped(const struct bparse *p)
{
	const struct bparse_acct *st = bparse_acct_skipped(p);
	unsigned long total = 0;

	for (int i = 0; i < st->ntypes; i++)
		total += st->types[i].count;
	if (total == 0)
		return;
	fprintf(stderr, "bparse: passed over %lu accounting records of "
	    "other types (", total);
	for (int i = 0; i < st->ntypes; i++)
		fprintf(stderr, "%s%s: %lu", i ? ", " : "", st->types[i].name,
		    st->types[i].count);
	fputs(")\n", stderr);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "header", required_argument, NULL, 'H' },
		{ "verp", required_argument, NULL, 'V' },
		{ "unsubscribe", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bparse_opts o = { 0 };
	struct ctx c = { 0 };
	int ch, rv;

	while ((ch = getopt_long(argc, argv, "H:U:V:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			o.idheader = optarg;
			break;
		case 'V':
			o.verp = optarg;
			break;
		case 'U':
			if (o.nunsub == BPARSE_MAXUNSUB) {
				fprintf(stderr, "bparse: -U: at most %d "
				    "patterns\n", BPARSE_MAXUNSUB);
				return 2;
			}
			o.unsub[o.nunsub++] = optarg;
			break;
		case 'j':
			c.mode = BREC_JSON;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	c.p = bparse_new(&o);
	c.flush = argc == 0;
	rv = bmsg_loop(argc, argv, on_message, on_error, &c);
	report_skipped(c.p);
	bparse_free(c.p);
	if (rv < 0 || fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "bparse: stdout: %s\n", strerror(errno));
		return 2;
	}
	return rv ? 1 : 0;
}
