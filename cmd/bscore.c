/*
 * bscore - apply classified bounce records to the state file and print
 * one line for every change of state.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce.h"

static const char usage_text[] =
    "usage: bscore [-nPSh] [-b records] [-d file] [-p policy] "
    "[-w seconds] [file ...]\n";

#define EX_TEMPFAIL 75

struct ctx {
	struct bsdb *db;
	struct bpolicy *pol;
	const char *path;
	int dryrun;
	long batch;		/* records per transaction */
	unsigned wait;		/* seconds to wait for the lock, 0 ever */
	long pending;		/* records in the open transaction */
	time_t started;		/* when it was opened */
	struct bbuf out;	/* transition lines of the open transaction */
	struct bbuf line;
	struct barena ar;
	int status;		/* 1 once a record could not be read */
	int fatal;		/* exit status when the loop was stopped */
	long noclass;		/* records without a class */
};

static void
on_error(void *arg, const char *what, const char *why)
{
	struct ctx *c = arg;

	fprintf(stderr, "bscore: %s: %s\n", what, why);
	c->status = 1;
}

static void warn_rec(const char *file, long lineno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
warn_rec(const char *file, long lineno, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bscore: %s:%ld: ", file, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Does more input come soon?  Only stdin can make the next read wait.
 * glibc's FILE shows what it has buffered; beyond that, wait a quarter
 * of a second for the pipe: committing at every short gap between the
 * bursts of a pipeline would cost a disk sync each time.
 */
static int
input_soon(const char *file)
{
	struct pollfd pfd = { 0, POLLIN, 0 };

	if (strcmp(file, "-") != 0)
		return 1;
#ifdef __GLIBC__
	if (stdin->_IO_read_ptr < stdin->_IO_read_end)
		return 1;
#endif
	return poll(&pfd, 1, 250) != 0;
}

/* Write the transition lines of committed work. */
static int
flush_out(struct ctx *c)
{
	if (c->out.len > 0 && fwrite(c->out.s, 1, c->out.len, stdout) !=
	    c->out.len)
		return -1;
	bbuf_reset(&c->out);
	return fflush(stdout) == EOF ? -1 : 0;
}

static int
fail_db(struct ctx *c)
{
	fprintf(stderr, "bscore: %s: %s\n", c->path, bsdb_error(c->db));
	bsdb_cancel(c->db);
	c->fatal = 2;
	return -1;
}

static int
commit(struct ctx *c)
{
	if (c->pending == 0 || c->dryrun)
		return 0;
	if (bsdb_commit(c->db) < 0)
		return fail_db(c);
	c->pending = 0;
	if (flush_out(c) < 0) {
		fprintf(stderr, "bscore: stdout: %s\n", strerror(errno));
		c->fatal = 2;
		return -1;
	}
	return 0;
}

static int
begin(struct ctx *c)
{
	int rv;

	if (c->pending > 0)
		return 0;
	if ((rv = bsdb_begin(c->db, c->wait)) < 0) {
		fprintf(stderr, "bscore: %s: %s\n", c->path,
		    bsdb_error(c->db));
		c->fatal = rv == -2 ? EX_TEMPFAIL : 2;
		return -1;
	}
	c->started = time(NULL);
	return 0;
}

/* A tracking id as the sent-mail log keeps it: without <>. */
static char *
bare_id(struct barena *ar, const char *id)
{
	size_t n = strlen(id);

	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		return barena_strndup(ar, id + 1, n - 2);
	return barena_strdup(ar, id);
}

/* The address a record is about: its recipient, else the one its
 * tracking id was sent to.  NULL with a warning when neither. */
static const char *
record_addr(struct ctx *c, const struct brec *r, const char *file,
    long lineno)
{
	const char *rcpt = r->f[BF_RCPT], *id = r->f[BF_ID];
	char *addr;
	time_t when;
	int rv;

	if (*rcpt != '\0') {
		if ((addr = baddr_norm(&c->ar, rcpt)) == NULL)
			warn_rec(file, lineno, "recipient '%s' is not a mail "
			    "address", rcpt);
		return addr;
	}
	if (*id == '\0') {
		warn_rec(file, lineno, "no recipient and no tracking id");
		return NULL;
	}
	rv = bsdb_sent_get(c->db, bare_id(&c->ar, id), &addr, &when, &c->ar);
	if (rv < 0) {
		fail_db(c);
		return NULL;
	}
	if (rv == 0) {
		warn_rec(file, lineno, "no recipient, and tracking id %s is "
		    "not in the sent-mail log", id);
		return NULL;
	}
	return b_lower(addr);
}

static time_t
record_date(const char *s)
{
	time_t t;

	if (*s != '\0' && b_isoparse(s, &t) == 0 && t != 0)
		return t;
	if (*s != '\0' && (t = b_parsedate(s)) != -1)
		return t;
	return time(NULL);
}

static int
on_record(void *arg, struct brec *r, const char *raw, const char *why,
    const char *file, long lineno)
{
	struct ctx *c = arg;
	struct bpolicy_in in;
	struct btransition t;
	int cls, rv;

	(void)raw;
	barena_reset(&c->ar);
	if (r == NULL) {
		if (why != NULL) {
			warn_rec(file, lineno, "%s", why);
			c->status = 1;
		}
		return 0;
	}
	if (r->n <= BF_CLASS) {
		if (c->noclass++ == 0)
			warn_rec(file, lineno, "no class column: run the "
			    "records through bclassify first");
		c->status = 1;
		return 0;
	}
	if (strcmp(r->f[BF_CLASS], "info") == 0 || *r->f[BF_CLASS] == '\0')
		return 0;
	cls = bev_classbyname(r->f[BF_CLASS]);
	if (cls < 0 || cls > BEV_UNSUB) {
		warn_rec(file, lineno, "unknown class '%s'", r->f[BF_CLASS]);
		c->status = 1;
		return 0;
	}
	if ((in.addr = record_addr(c, r, file, lineno)) == NULL)
		return c->fatal ? -1 : 0;
	if (begin(c) < 0)
		return -1;
	in.date = record_date(r->f[BF_DATE]);
	in.cls = cls;
	in.status = r->f[BF_STATUS];
	in.smtp = r->f[BF_SMTP];
	in.reason = r->f[BF_REASON];
	in.source = r->f[BF_SOURCE];
	in.key = bpolicy_key(r->f[BF_SOURCE], in.addr, r->f[BF_DATE]);
	if ((rv = bpolicy_apply(c->pol, c->db, &in, &t, &c->ar)) < 0)
		return fail_db(c);
	c->pending++;
	if (rv == BAPPLY_CHANGED) {
		btransition_format(&c->line, &t);
		bbuf_add(&c->out, c->line.s, c->line.len);
	}
	/* Commit full batches, and whenever the input pauses, so that no
	 * lock is held and no change waits while nothing comes in. */
	if (!c->dryrun && (c->pending >= c->batch ||
	    time(NULL) - c->started >= 2 || !input_soon(file)))
		return commit(c);
	return 0;
}

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "policy", required_argument, NULL, 'p' },
		{ "print-policy", no_argument, NULL, 'P' },
		{ "nosync", no_argument, NULL, 'S' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c;
	const char *dbarg = NULL, *polfile = NULL, *e;
	char *why;
	int ch, rv = 0, print = 0, flags = BSDB_RDWR;
	long lineno;

	memset(&c, 0, sizeof c);
	c.batch = 25000;
#ifdef M_TRIM_THRESHOLD
	/* TDB keeps a copy of every page a transaction changes; keep the
	 * memory between batches instead of faulting it in again. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
	while ((ch = getopt_long(argc, argv, "b:d:np:PSw:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			c.batch = (long)b_strtonum(optarg, 1, 100000000, &e);
			if (e != NULL) {
				fprintf(stderr, "bscore: -b %s: %s\n", optarg,
				    e);
				return 2;
			}
			break;
		case 'd':
			dbarg = optarg;
			break;
		case 'n':
			c.dryrun = 1;
			break;
		case 'p':
			polfile = optarg;
			break;
		case 'P':
			print = 1;
			break;
		case 'S':
			flags |= BSDB_NOSYNC;
			break;
		case 'w':
			c.wait = (unsigned)b_strtonum(optarg, 1, 86400, &e);
			if (e != NULL) {
				fprintf(stderr, "bscore: -w %s: %s\n", optarg,
				    e);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	/* Everything that can be wrong with the setup fails here, before
	 * the first record. */
	c.pol = bpolicy_new();
	if (polfile != NULL &&
	    bpolicy_load(c.pol, polfile, &lineno, &e) < 0) {
		if (lineno > 0)
			fprintf(stderr, "bscore: %s:%ld: %s\n", polfile,
			    lineno, e);
		else
			fprintf(stderr, "bscore: %s: %s\n", polfile, e);
		c.fatal = 2;
		goto done;
	}
	if (print) {
		if (bpolicy_write(c.pol, stdout) < 0 || fflush(stdout) == EOF) {
			fprintf(stderr, "bscore: stdout: %s\n",
			    strerror(errno));
			c.fatal = 2;
		}
		goto done;
	}
	if ((c.path = bsdb_path(dbarg, 1)) == NULL) {
		fprintf(stderr, "bscore: cannot find the state file: %s "
		    "(use -d or set BOUNCE_DB)\n", strerror(errno));
		c.fatal = 2;
		goto done;
	}
	if ((c.db = bsdb_open(c.path, flags, &why)) == NULL) {
		fprintf(stderr, "bscore: %s: %s\n", c.path, why);
		free(why);
		c.fatal = 2;
		goto done;
	}

	rv = brec_loop(argc, argv, on_record, on_error, &c);
	if (rv == 0 || rv == 1) {
		if (c.dryrun) {
			bsdb_cancel(c.db);
			c.pending = 0;
			if (flush_out(&c) < 0) {
				fprintf(stderr, "bscore: stdout: %s\n",
				    strerror(errno));
				c.fatal = 2;
			}
		} else
			commit(&c);
	}
	if (c.noclass > 1)
		fprintf(stderr, "bscore: %ld records without a class "
		    "skipped\n", c.noclass);
	if (bsdb_close(c.db) < 0 && c.fatal == 0) {
		fprintf(stderr, "bscore: %s: closing failed\n", c.path);
		c.fatal = 2;
	}
	if (c.fatal == 0 && (fflush(stdout) == EOF || ferror(stdout))) {
		fprintf(stderr, "bscore: stdout: %s\n", strerror(errno));
		c.fatal = 2;
	}
done:
	bpolicy_free(c.pol);
	barena_free(&c.ar);
	bbuf_free(&c.out);
	bbuf_free(&c.line);
	free((char *)c.path);
	if (c.fatal)
		return c.fatal;
	return c.status || rv == 1 ? 1 : 0;
}
