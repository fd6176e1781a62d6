/*
 * bscore - apply classified bounce records to the state file and print
 * one line for every change of state.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"

static const char usage_text[] =
    "usage: bscore [-nPSh] [-b records] [-d file] [-p policy] "
    "[-w seconds]\n"
    "              [-x program [-a arg ...]] [file ...]\n";

#define EX_TEMPFAIL 75

extern char **environ;

/* What -x gives a program: the transition line's seven fields as
 * arguments, and these in the environment, in this order. */
static const char *const exec_vars[] = {
	"BOUNCE_DATE", "BOUNCE_ADDRESS", "BOUNCE_OLD", "BOUNCE_NEW",
	"BOUNCE_SCORE", "BOUNCE_REASON", "BOUNCE_SOURCE", "BOUNCE_CLASS",
	"BOUNCE_STATUS", "BOUNCE_SMTP",
};
#define EXEC_ARGS 7
#define EXEC_NVARS (sizeof exec_vars / sizeof exec_vars[0])

/* -x: a program run once for every transition, after its batch is
 * committed.  The transitions of the open batch wait in queue, each as
 * EXEC_NVARS NUL-terminated strings. */
struct exec {
	const char *prog;
	char **argv;		/* prog, the -a arguments, the fields, NULL */
	int nfixed;		/* prog and the -a arguments */
	char **envp;		/* environ without our names, ours, NULL */
	int nenv;		/* the entries kept from environ */
	posix_spawn_file_actions_t fa;
	struct bbuf queue;
	size_t nqueued;
	struct bbuf vars;	/* NAME=value strings of one call */
	struct barena ar;
};

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
	struct exec *x;		/* -x, or NULL */
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

/* Is path a file that this user may execute?  0, or -1 with errno set. */
static int
executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return access(path, X_OK);
}

/*
 * Would posix_spawnp() find prog?  Searched as execvp(3) does, so that
 * a misspelt program stops bscore before the first record rather than
 * at the first transition.  0, or -1 with errno set.
 */
static int
exec_find(const char *prog)
{
	const char *path, *p, *end;
	struct bbuf b = { 0 };
	int denied = 0, rv = -1;

	if (*prog == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strchr(prog, '/') != NULL)
		return executable(prog);
	if ((path = getenv("PATH")) == NULL)
		path = "/bin:/usr/bin";
	for (p = path; rv < 0; p = end + 1) {
		end = strchrnul(p, ':');
		bbuf_reset(&b);
		if (end == p)
			bbuf_addc(&b, '.');
		else
			bbuf_add(&b, p, (size_t)(end - p));
		bbuf_addc(&b, '/');
		bbuf_adds(&b, prog);
		if ((rv = executable(b.s)) < 0 && errno == EACCES)
			denied = 1;
		if (*end == '\0')
			break;
	}
	bbuf_free(&b);
	if (rv < 0)
		errno = denied ? EACCES : ENOENT;
	return rv;
}

static int
is_exec_var(const char *s)
{
	size_t n;

	for (size_t i = 0; i < EXEC_NVARS; i++) {
		n = strlen(exec_vars[i]);
		if (strncmp(s, exec_vars[i], n) == 0 && s[n] == '=')
			return 1;
	}
	return strncmp(s, "BOUNCE_DB=", 10) == 0;
}

/* The arguments and the environment that stay the same for every call;
 * the program's standard input is /dev/null and its standard output
 * goes to standard error, which keeps ours for the transition lines. */
static struct exec *
exec_new(const char *prog, char **args, int nargs, const char *db)
{
	struct exec *x = b_malloc(sizeof *x);
	size_t n = 0;

	memset(x, 0, sizeof *x);
	x->prog = prog;
	x->argv = b_malloc((size_t)(nargs + 1 + EXEC_ARGS + 1) *
	    sizeof *x->argv);
	x->argv[x->nfixed++] = (char *)prog;
	for (int i = 0; i < nargs; i++)
		x->argv[x->nfixed++] = args[i];
	while (environ[n] != NULL)
		n++;
	x->envp = b_malloc((n + EXEC_NVARS + 2) * sizeof *x->envp);
	for (size_t i = 0; i < n; i++)
		if (!is_exec_var(environ[i]))
			x->envp[x->nenv++] = environ[i];
	/* A program that asks bstate sees the file bscore updates. */
	x->envp[x->nenv] = barena_printf(&x->ar, "BOUNCE_DB=%s", db);
	x->nenv++;
	posix_spawn_file_actions_init(&x->fa);
	posix_spawn_file_actions_addopen(&x->fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&x->fa, 2, 1);
	return x;
}

static void
exec_free(struct exec *x)
{
	if (x == NULL)
		return;
	posix_spawn_file_actions_destroy(&x->fa);
	bbuf_free(&x->queue);
	bbuf_free(&x->vars);
	barena_free(&x->ar);
	free(x->argv);
	free(x->envp);
	free(x);
}

/* Keep a transition for the program until its batch is committed. */
static void
exec_queue(struct exec *x, const struct btransition *t,
    const struct bpolicy_in *in)
{
	char date[21], score[24];
	const char *v[EXEC_NVARS];

	b_isoformat(t->date, date);
	snprintf(score, sizeof score, "%ld", t->score);
	v[0] = date;
	v[1] = t->addr;
	v[2] = bstate_name(t->from);
	v[3] = bstate_name(t->to);
	v[4] = score;
	v[5] = t->reason;
	v[6] = t->source;
	v[7] = bev_classname(in->cls);
	v[8] = in->status ? in->status : "";
	v[9] = in->smtp ? in->smtp : "";
	for (size_t i = 0; i < EXEC_NVARS; i++)
		bbuf_add(&x->queue, v[i], strlen(v[i]) + 1);
	x->nqueued++;
}

/* Run the program for one transition (its fields in v) and wait for it.
 * Returns 0, or 1 when it could not be run or failed. */
static int
exec_one(struct exec *x, const char *const v[EXEC_NVARS])
{
	size_t off[EXEC_NVARS];
	pid_t pid;
	int e, st;

	bbuf_reset(&x->vars);
	for (size_t i = 0; i < EXEC_NVARS; i++) {
		off[i] = x->vars.len;
		bbuf_adds(&x->vars, exec_vars[i]);
		bbuf_addc(&x->vars, '=');
		bbuf_add(&x->vars, v[i], strlen(v[i]) + 1);
	}
	for (size_t i = 0; i < EXEC_NVARS; i++)
		x->envp[x->nenv + i] = x->vars.s + off[i];
	x->envp[x->nenv + EXEC_NVARS] = NULL;
	for (int i = 0; i < EXEC_ARGS; i++)
		x->argv[x->nfixed + i] = (char *)v[i];
	x->argv[x->nfixed + EXEC_ARGS] = NULL;

	if ((e = posix_spawnp(&pid, x->prog, &x->fa, NULL, x->argv,
	    x->envp)) != 0) {
		fprintf(stderr, "bscore: %s: %s: %s\n", x->prog, v[1],
		    strerror(e));
		return 1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "bscore: %s: %s: %s\n", x->prog, v[1],
			    strerror(errno));
			return 1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		fprintf(stderr, "bscore: %s: %s: exit %d\n", x->prog, v[1],
		    WEXITSTATUS(st));
	else
		fprintf(stderr, "bscore: %s: %s: killed by signal %d\n",
		    x->prog, v[1], WTERMSIG(st));
	return 1;
}

/* The batch is in the file: run the program for each of its
 * transitions, one after the other.  Returns 1 if any call failed. */
static int
exec_run(struct exec *x)
{
	const char *p = x->queue.s, *v[EXEC_NVARS];
	int rv = 0;

	for (size_t n = 0; n < x->nqueued; n++) {
		for (size_t i = 0; i < EXEC_NVARS; i++) {
			v[i] = p;
			p += strlen(p) + 1;
		}
		rv |= exec_one(x, v);
	}
	bbuf_reset(&x->queue);
	x->nqueued = 0;
	return rv;
}

static int
fail_db(struct ctx *c)
{
	fprintf(stderr, "bscore: %s: %s\n", c->path, bsdb_error(c->db));
	bsdb_cancel(c->db);
	if (c->x != NULL) {	/* none of its transitions happened */
		bbuf_reset(&c->x->queue);
		c->x->nqueued = 0;
	}
	c->fatal = 2;
	return -1;
}

static int
commit(struct ctx *c)
{
	int rv = 0;

	if (c->pending == 0 || c->dryrun)
		return 0;
	if (bsdb_commit(c->db) < 0)
		return fail_db(c);
	c->pending = 0;
	if (flush_out(c) < 0) {
		fprintf(stderr, "bscore: stdout: %s\n", strerror(errno));
		c->fatal = 2;
		rv = -1;
	}
	/* The changes are in the file whatever stdout did: tell -x. */
	if (c->x != NULL && exec_run(c->x) != 0)
		c->status = 1;
	return rv;
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
		if ((addr = baddr_norm(&c->ar, rcpt)) == NULL) {
			warn_rec(file, lineno, "recipient '%s' is not a mail "
			    "address", rcpt);
			c->status = 1;
		}
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

/* A record's date; one without a date is dated now.  -1 when the
 * date cannot be read. */
static time_t
record_date(const char *s)
{
	time_t t;

	if (*s == '\0')
		return time(NULL);
	if (b_isoparse(s, &t) == 0 && t != 0)
		return t;
	return b_parsedate(s);
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
	if (strcmp(r->f[BF_CLASS], "info") == 0)
		return 0;
	cls = bev_classbyname(r->f[BF_CLASS]);
	if (cls < 0 || cls > BEV_UNSUB) {
		if (*r->f[BF_CLASS] == '\0')
			warn_rec(file, lineno, "empty class");
		else
			warn_rec(file, lineno, "unknown class '%s'",
			    r->f[BF_CLASS]);
		c->status = 1;
		return 0;
	}
	if ((in.date = record_date(r->f[BF_DATE])) == -1) {
		warn_rec(file, lineno, "bad date '%s'", r->f[BF_DATE]);
		c->status = 1;
		return 0;
	}
	if ((in.addr = record_addr(c, r, file, lineno)) == NULL)
		return c->fatal ? -1 : 0;
	if (begin(c) < 0)
		return -1;
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
		if (c->x != NULL && !c->dryrun)
			exec_queue(c->x, &t, &in);
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
		{ "exec", required_argument, NULL, 'x' },
		{ "exec-arg", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c;
	const char *dbarg = NULL, *polfile = NULL, *prog = NULL, *e;
	char *why, **xargs;
	int ch, rv = 0, print = 0, flags = BSDB_RDWR, nxargs = 0;
	long lineno;

	memset(&c, 0, sizeof c);
	/* On a large file nearly every record of a batch changes a page of
	 * its own, and a commit costs about the same for each page it
	 * writes: records that fall on a page already changed in the same
	 * batch come free, and there are more of them in larger batches. */
	c.batch = 75000;
	xargs = b_malloc((size_t)argc * sizeof *xargs);
#ifdef M_TRIM_THRESHOLD
	/* TDB keeps a copy of every page a transaction changes, and a
	 * commit gathers the old contents in one buffer of up to a few
	 * hundred megabytes: take them from the heap (not fresh mmap
	 * memory, all page faults) and keep them between batches. */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_MAX, 0);
#endif
	while ((ch = getopt_long(argc, argv, "a:b:d:np:PSw:x:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			xargs[nxargs++] = optarg;
			break;
		case 'b':
			c.batch = (long)b_strtonum(optarg, 1, 100000000, &e);
			if (e != NULL) {
				fprintf(stderr, "bscore: -b %s: %s\n", optarg,
				    e);
				c.fatal = 2;
				goto done;
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
				c.fatal = 2;
				goto done;
			}
			break;
		case 'x':
			if (prog != NULL) {
				fprintf(stderr, "bscore: -x: only one program "
				    "can be given\n");
				c.fatal = 2;
				goto done;
			}
			prog = optarg;
			break;
		case 'h':
			usage(stdout);
			goto done;
		default:
			usage(stderr);
			c.fatal = 2;
			goto done;
		}
	}
	argc -= optind;
	argv += optind;
	if (nxargs > 0 && prog == NULL) {
		fprintf(stderr, "bscore: -a needs -x\n");
		usage(stderr);
		c.fatal = 2;
		goto done;
	}

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
	if (prog != NULL && exec_find(prog) < 0) {
		fprintf(stderr, "bscore: %s: %s\n", prog, strerror(errno));
		c.fatal = 2;
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
	if (prog != NULL)
		c.x = exec_new(prog, xargs, nxargs, c.path);

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
	exec_free(c.x);
	free(xargs);
	bpolicy_free(c.pol);
	barena_free(&c.ar);
	bbuf_free(&c.out);
	bbuf_free(&c.line);
	free((char *)c.path);
	if (c.fatal)
		return c.fatal;
	return c.status || rv == 1 ? 1 : 0;
}
