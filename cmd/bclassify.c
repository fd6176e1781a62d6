/*
 * bclassify - decide what a bounce record means: append its class and
 * reason.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

static const char usage_text[] =
    "usage: bclassify [-jxh] [-r rules] [file ...]\n"
    "       bclassify -p\n";

struct ctx {
	struct bclass *bc;
	int mode;
	int explain;
	int status;		/* 1 once a line could not be read */
	int stream;		/* in a pipeline: flush when input is idle */
};

static void
on_error(void *arg, const char *what, const char *why)
{
	(void)arg;
	fprintf(stderr, "bclassify: %s: %s\n", what, why);
}

static void
explain(const char *file, long lineno, const struct bclass_result *res)
{
	fprintf(stderr, "bclassify: %s:%ld: %s %s: ", file, lineno,
	    res->cls, res->reason);
	if (res->src == NULL)
		fputs("no rule matched\n", stderr);
	else if (res->pattern != NULL)
		fprintf(stderr, "%s:%ld: diag \"%s\"\n", res->src, res->line,
		    res->pattern);
	else
		fprintf(stderr, "%s:%ld\n", res->src, res->line);
}

static int
is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/*
 * In a pipeline that runs for long (bparse reading paths from bfetch,
 * bscore after us), records must not wait in our buffer while the
 * input is quiet: flush when no more input is waiting.  Input already
 * in stdio's buffer is not seen, which only costs a write too early.
 */
static int
flush_if_idle(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	if (poll(&p, 1, 0) > 0)
		return 0;
	return fflush(stdout) == EOF ? -1 : 0;
}

static int
on_record(void *arg, struct brec *r, const char *raw, const char *why,
    const char *file, long lineno)
{
	struct ctx *c = arg;
	struct bclass_result res;

	if (r == NULL) {
		/* Comments and lines we cannot read go through as they
		 * are: dropping them would lose what someone may need. */
		if (why != NULL) {
			fprintf(stderr, "bclassify: %s:%ld: %s\n", file,
			    lineno, why);
			c->status = 1;
		}
		if (fputs(raw, stdout) == EOF || putchar('\n') == EOF)
			return -1;
		return c->stream ? flush_if_idle() : 0;
	}
	bclass_classify(c->bc, r, &res);
	if (c->explain)
		explain(file, lineno, &res);
	if (c->mode == BREC_TSV) {
		/* Columns other than ours keep the bytes the program
		 * before us wrote. */
		const char *vals[2] = { res.cls, res.reason };
		if (brec_replace(stdout, raw, BF_CLASS, 2, vals) < 0)
			return -1;
	} else {
		/* Columns 11 and 12 are ours: a record classified before
		 * gets them replaced, anything after them stays. */
		if (r->n < BF_NFIELDS)
			r->n = BF_NFIELDS;
		r->f[BF_CLASS] = res.cls;
		r->f[BF_REASON] = res.reason;
		if (brec_write(stdout, r, c->mode) < 0)
			return -1;
	}
	return c->stream ? flush_if_idle() : 0;
}

static void
load_rules(struct bclass *bc, int nrules, char **rules)
{
	const char *why;
	long line;

	for (int i = 0; i < nrules; i++) {
		if (bclass_add_file(bc, rules[i], &line, &why) == 0)
			continue;
		if (line > 0)
			fprintf(stderr, "bclassify: %s:%ld: %s\n", rules[i],
			    line, why);
		else
			fprintf(stderr, "bclassify: %s: %s\n", rules[i], why);
		exit(2);
	}
	if (bclass_add(bc, "builtin", bclass_builtin, strlen(bclass_builtin),
	    &line, &why) < 0) {
		fprintf(stderr, "bclassify: builtin:%ld: %s\n", line, why);
		exit(2);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "explain", no_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "print-rules", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { 0 };
	char **rules;
	int ch, nrules = 0, print = 0, rv;

	rules = b_malloc((size_t)argc * sizeof *rules);
	while ((ch = getopt_long(argc, argv, "r:xjph", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			rules[nrules++] = optarg;
			break;
		case 'x':
			c.explain = 1;
			break;
		case 'j':
			c.mode = BREC_JSON;
			break;
		case 'p':
			print = 1;
			break;
		case 'h':
			free(rules);
			fputs(usage_text, stdout);
			return 0;
		default:
			free(rules);
			fputs(usage_text, stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	if (print) {
		free(rules);
		if (fputs(bclass_builtin, stdout) == EOF ||
		    fflush(stdout) == EOF) {
			fprintf(stderr, "bclassify: stdout: %s\n",
			    strerror(errno));
			return 2;
		}
		return 0;
	}
	/* All rules are read before the first record, so a mistake in
	 * them cannot stop the run half way. */
	c.bc = bclass_new();
	load_rules(c.bc, nrules, rules);
	free(rules);
	c.stream = argc == 0 && is_pipe(0) && is_pipe(1);

	rv = brec_loop(argc, argv, on_record, on_error, &c);
	bclass_free(c.bc);
	if (rv < 0 || fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "bclassify: stdout: %s\n", strerror(errno));
		return 2;
	}
	return rv || c.status ? 1 : 0;
}
