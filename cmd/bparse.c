/*
 * bparse - turn bounce messages into one record per failed recipient.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

static const char usage_text[] =
    "usage: bparse [-jh] [-H header] [-P jobs] [-U pattern] [-V prefix]\n"
    "              [file | mbox | maildir | -] ...\n";

#define MAXJOBS		64
#define AUTOJOBS	8	/* at most, without -P */
#define SMALL		(1L << 20)	/* less input is read by one process */

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

/* A worker's counts of passed-over accounting records, "type count"
 * lines, and back in the parent. */
static void
save_counts(void *arg, struct bbuf *out)
{
	const struct bparse_acct *st = bparse_acct_skipped(
	    ((struct ctx *)arg)->p);
	char num[32];

	for (int i = 0; i < st->ntypes; i++) {
		snprintf(num, sizeof num, " %lu\n", st->types[i].count);
		bbuf_adds(out, st->types[i].name);
		bbuf_adds(out, num);
	}
}

static void
merge_counts(void *arg, const char *s, size_t len)
{
	struct ctx *c = arg;
	char name[16];
	unsigned long n;
	const char *e = s + len;

	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		if (nl == NULL)
			nl = e;
		if (sscanf(s, "%15s %lu", name, &n) == 2)
			bparse_acct_add(c->p, name, n);
		s = nl + 1;
	}
}

/* Without -P: one worker per processor, but one process for a little
 * input (forking would cost more than it saves). */
static int
auto_jobs(int argc, char **argv)
{
	struct stat st;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	off_t total = 0;

	if (n <= 1)
		return 1;
	for (int i = 0; i < argc && total < SMALL; i++) {
		if (stat(argv[i], &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			total = SMALL;
		else if (S_ISREG(st.st_mode))
			total += st.st_size;
	}
	if (total < SMALL)
		return 1;
	return n > AUTOJOBS ? AUTOJOBS : (int)n;
}

/* Order of counts by type name. */
static int
bytype(const void *a, const void *b)
{
	return strcmp(((const struct bacct_type *)a)->name,
	    ((const struct bacct_type *)b)->name);
}

/* Accounting records of other types are not bounces: say how many. */
static void
report_skipped(const struct bparse *p)
{
	struct bparse_acct st = *bparse_acct_skipped(p);
	unsigned long total = 0;

	for (int i = 0; i < st.ntypes; i++)
		total += st.types[i].count;
	if (total == 0)
		return;
	/* By name: the same however the input was shared out. */
	qsort(st.types, (size_t)st.ntypes, sizeof st.types[0], bytype);
	fprintf(stderr, "bparse: passed over %lu accounting records of "
	    "other types (", total);
	for (int i = 0; i < st.ntypes; i++)
		fprintf(stderr, "%s%s: %lu", i ? ", " : "", st.types[i].name,
		    st.types[i].count);
	fputs(")\n", stderr);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "header", required_argument, NULL, 'H' },
		{ "jobs", required_argument, NULL, 'P' },
		{ "verp", required_argument, NULL, 'V' },
		{ "unsubscribe", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bparse_opts o = { 0 };
	struct bmsg_jobs jobs = { 0, save_counts, merge_counts };
	struct ctx c = { 0 };
	const char *e;
	int ch, rv;

	while ((ch = getopt_long(argc, argv, "H:P:U:V:jh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'H':
			o.idheader = optarg;
			break;
		case 'P':
			jobs.n = (int)b_strtonum(optarg, 1, MAXJOBS, &e);
			if (e != NULL) {
				fprintf(stderr, "bparse: -P %s: %s (1 to %d)\n",
				    optarg, e, MAXJOBS);
				return 2;
			}
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

	if (jobs.n == 0)
		jobs.n = auto_jobs(argc, argv);
	c.p = bparse_new(&o);
	c.flush = argc == 0;
	rv = bmsg_loop_jobs(&jobs, argc, argv, on_message, on_error, &c);
	report_skipped(c.p);
	bparse_free(c.p);
	if (rv == BMSG_FATAL) {
		fflush(stdout);
		return 2;
	}
	if (rv < 0 || fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "bparse: stdout: %s\n", strerror(errno));
		return 2;
	}
	return rv ? 1 : 0;
}
