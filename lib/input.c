/*
 * input.c - the message loop: files, mbox files, Maildirs, stdin.
 *
 * Everything is read as a stream with a bounded buffer, so memory stays
 * flat however large an mbox grows: one message at a time is held.
 * Line ends are normalised to LF while reading (CRLF and CR-only).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

struct reader {
	int fd;
	char buf[65536];
	size_t pos, end;
	off_t base;		/* bytes of the input before buf */
	off_t limit;		/* bytes to read at most, or -1 */
	off_t linestart;	/* input offset of the line rd_line read */
	int eof, err;
	int lastcr;		/* previous byte was a CR (CRLF pairs) */
};

static int
rd_fill(struct reader *r)
{
	ssize_t n;
	size_t want = sizeof r->buf;

	if (r->eof)
		return 0;
	if (r->limit >= 0) {
		off_t left = r->limit - r->base - (off_t)r->end;
		if (left <= 0) {
			r->eof = 1;
			return 0;
		}
		if (left < (off_t)want)
			want = (size_t)left;
	}
	do
		n = read(r->fd, r->buf, want);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->err = errno;
		r->eof = 1;
		return 0;
	}
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->base += (off_t)r->end;
	r->pos = 0;
	r->end = (size_t)n;
	return 1;
}

/*
 * Append the next line (with its LF) to line, translating CRLF and lone
 * CR into LF.  Returns 0 at end of input.  Lines longer than the message
 * limit are still read whole up to that limit plus one byte, so that the
 * caller notices and refuses the message.  r->linestart gets the byte
 * offset of the line in the input as it is (mbox sources name it).
 */
static int
rd_line(struct reader *r, struct bbuf *line)
{
	size_t start = line->len;
	int first = 1;

	for (;;) {
		if (r->pos == r->end && !rd_fill(r))
			return line->len > start;
		if (r->lastcr) {
			/* The LF of a CRLF belongs to the line that ended. */
			r->lastcr = 0;
			if (r->buf[r->pos] == '\n') {
				r->pos++;
				continue;
			}
		}
		if (first) {
			r->linestart = r->base + (off_t)r->pos;
			first = 0;
		}
		char *p = r->buf + r->pos, *e = r->buf + r->end;
		char *q, *cr;
		/* Copy up to the next LF, or a CR before it. */
		q = memchr(p, '\n', (size_t)(e - p));
		if (q == NULL)
			q = e;
		if ((cr = memchr(p, '\r', (size_t)(q - p))) != NULL)
			q = cr;
		if (q > p && line->len - start <= BMSG_MAX)
			bbuf_add(line, p, (size_t)(q - p));
		r->pos = (size_t)(q - r->buf);
		if (q == e)
			continue;
		r->pos++;
		/* A CR ends the line too; a following LF is swallowed. */
		if (*q == '\r')
			r->lastcr = 1;
		bbuf_addc(line, '\n');
		return 1;
	}
}

struct loopctx {
	bmsg_fn fn;
	b_err_fn err;
	void *arg;
	struct bbuf msg, line, src, env;
	/* In a worker (jobs > 1), every message and every failure is a
	 * slot, and slot i is worker i % jobs's: the others only count it. */
	int jobs, me;
	unsigned long slot;
	/* And reads each regular file given only up to its size when the
	 * workers started (-1: to its end), so that all of them see the
	 * same messages even while mail is being added to an mbox. */
	const off_t *sizes;
};

/* Will the next slot be this process's?  (A message is one slot
 * whatever becomes of it, so a worker need not keep the others.) */
static int
next_is_mine(const struct loopctx *c)
{
	return c->jobs <= 1 ||
	    c->slot % (unsigned long)c->jobs == (unsigned long)c->me;
}

/* Take the next slot: is it this process's to handle? */
static int
take_slot(struct loopctx *c)
{
	int mine = next_is_mine(c);

	c->slot++;
	return mine;
}

/* A worker ends each of its slots with a NUL on its output, which no
 * record contains, so that the parent can put them back in order. */
static int
end_slot(struct loopctx *c)
{
	if (c->jobs <= 1)
		return 0;
	return putchar('\0') == EOF ? -1 : 0;
}

#define TOTALS	'\001'	/* begins a worker's last frame: its totals */
#define FAILURE	'\002'	/* begins a frame "what", then a frame "why" */
#define RECORDS	256	/* next_frame(): a frame of records went out */

/* An input that cannot be read: one slot.  A worker hands the report to
 * the parent, which prints it in its place among the others. */
static void
fail(struct loopctx *c, const char *what, const char *why, int *bad)
{
	if (!take_slot(c))
		return;
	*bad = 1;
	if (c->jobs <= 1) {
		c->err(c->arg, what, why);
		return;
	}
	printf("%c%s", FAILURE, what);
	putchar('\0');
	fputs(why, stdout);
	end_slot(c);
}

/*
 * Does the message start with a header field ("Name:")?  Every mail
 * message does; a text file, a binary or a fragment does not, and is
 * reported rather than turned into a record.
 */
static int
starts_with_header(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] > ' ' && s[i] < 0x7f && s[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && s[i] == ':';
}

/* The length of what some programs save before a message's header:
 * blank lines (empty, or spaces and tabs only), and an older envelope
 * line quoted under the mbox separator (">From sender date"). */
static size_t
leading_junk(const char *s, size_t n)
{
	size_t i = 0, start = 0;

	for (;;) {
		while (i < n && (s[i] == '\n' || s[i] == ' ' || s[i] == '\t'))
			if (s[i++] == '\n')
				start = i;
		if (i != start || n - i < 6 || memcmp(s + i, ">From ", 6) != 0)
			return start;
		while (i < n && s[i] != '\n')
			i++;
		if (i == n)
			return start;
		start = ++i;
	}
}

static int
deliver(struct loopctx *c, const char *source, const char *env, int *bad)
{
	struct bmsg m = { .kind = BMSG_MAIL };
	size_t skip = leading_junk(c->msg.s, c->msg.len);
	int rv;

	if (c->msg.len > BMSG_MAX) {
		fail(c, source, "message too large (over 64 MiB), skipped",
		    bad);
		return 0;
	}
	if (!starts_with_header(c->msg.s + skip, c->msg.len - skip)) {
		fail(c, source, "not a mail message (no header at the start)",
		    bad);
		return 0;
	}
	if (!take_slot(c))
		return 0;
	m.source = source;
	m.data = c->msg.s ? c->msg.s + skip : "";
	m.len = c->msg.len - skip;
	m.envelope = env;
	if ((rv = c->fn(c->arg, &m)) != 0)
		return rv;
	return end_slot(c);
}

/* Is a double quote left open in s (an RFC 4180 field spanning lines)? */
static int
quote_open(const char *s, size_t n)
{
	int open = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '"')
			open = !open;
	return open;
}

static int
deliver_acct(struct loopctx *c, const char *name, off_t off,
    const char *header, int *bad)
{
	struct bmsg m = { .kind = BMSG_ACCT };
	char num[32];
	int rv;

	while (c->msg.len > 0 && c->msg.s[c->msg.len - 1] == '\n')
		c->msg.s[--c->msg.len] = '\0';
	if (c->msg.len == 0)
		return 0;
	if (c->msg.len > BMSG_MAX) {
		fail(c, name, "accounting record too large, skipped", bad);
		return 0;
	}
	if (!take_slot(c))
		return 0;
	bbuf_reset(&c->src);
	bbuf_adds(&c->src, name);
	snprintf(num, sizeof num, ":%lld", (long long)off);
	bbuf_adds(&c->src, num);
	m.source = c->src.s;
	m.data = c->msg.s;
	m.len = c->msg.len;
	m.header = header;
	if ((rv = c->fn(c->arg, &m)) != 0)
		return rv;
	return end_slot(c);
}

/*
 * The rest of an accounting file after its header line: one record per
 * line, or per several lines while a quoted field is open.
 */
static int
read_acct(struct loopctx *c, struct reader *r, const char *name, int *bad)
{
	char *header = b_strndup(c->line.s, c->line.len - 1);
	off_t off = 0;
	int rv = 0;

	bbuf_reset(&c->msg);
	for (;;) {
		bbuf_reset(&c->line);
		if (!rd_line(r, &c->line))
			break;
		if (c->msg.len == 0)
			off = r->linestart;
		bbuf_add(&c->msg, c->line.s, c->line.len);
		if (quote_open(c->msg.s, c->msg.len) && c->msg.len <= BMSG_MAX)
			continue;
		if ((rv = deliver_acct(c, name, off, header, bad)) != 0)
			break;
		bbuf_reset(&c->msg);
	}
	if (rv == 0 && c->msg.len > 0)
		rv = deliver_acct(c, name, off, header, bad);
	free(header);
	return rv;
}

/*
 * Is this (LF-terminated) line an mbox separator?  "From " then the
 * envelope sender and a date with a time of day, as every mbox writer
 * puts it.  Body lines that start with "From " (unescaped by careless
 * writers) rarely have that shape.
 */
static int
is_from_line(const char *s, size_t n)
{
	const char *p, *e = s + n;

	if (n < 6 || memcmp(s, "From ", 5) != 0)
		return 0;
	for (p = s + 5; p + 5 <= e; p++)
		if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
		    p[2] == ':' && p[3] >= '0' && p[3] <= '9' &&
		    p[4] >= '0' && p[4] <= '9')
			return 1;
	return 0;
}

static int
read_stream(struct loopctx *c, int fd, const char *name, off_t limit,
    int *bad)
{
	struct reader *r = b_malloc(sizeof *r);
	int mbox = -1, rv = 0, mine = next_is_mine(c);
	size_t nmsg = 0, lineno = 0;
	off_t msgoff = 0;

	r->fd = fd;
	r->pos = r->end = 0;
	r->base = r->linestart = 0;
	r->limit = limit;
	r->eof = r->err = r->lastcr = 0;
	bbuf_reset(&c->msg);
	bbuf_reset(&c->env);
	for (;;) {
		/* Lines go straight into the message; past the size limit,
		 * or in a worker whose message this is not, they are only
		 * looked at, for the next separator. */
		struct bbuf *into = c->msg.len <= BMSG_MAX &&
		    (mine || lineno == 0) ? &c->msg : &c->line;
		size_t start, len;
		const char *l;

		if (into == &c->line)
			bbuf_reset(&c->line);
		start = into->len;
		if (!rd_line(r, into))
			break;
		l = into->s + start;
		len = into->len - start;
		if (lineno++ > 0 && (len < 5 || l[0] != 'F'))
			continue;	/* the common case: a plain line */
		/* A file is an mbox when its first line says "From ", an
		 * accounting file when it names accounting columns. */
		if (mbox < 0 && bacct_is_header(l, len)) {
			bbuf_reset(&c->line);
			bbuf_add(&c->line, l, len);
			rv = read_acct(c, r, name, bad);
			goto out;
		}
		if (mbox < 0)
			mbox = len > 5 && memcmp(l, "From ", 5) == 0;
		/* In an mbox, a separator line begins the next message. */
		if (mbox == 1 && ((nmsg == 0 && start == 0) ||
		    is_from_line(l, len))) {
			if (into == &c->msg) {
				bbuf_reset(&c->line);
				bbuf_add(&c->line, l, len);
				c->msg.len = start;
				c->msg.s[start] = '\0';
			}
			if (nmsg > 0 || c->msg.len > 0) {
				bbuf_reset(&c->src);
				bbuf_adds(&c->src, name);
				char num[32];
				snprintf(num, sizeof num, ":%lld",
				    (long long)msgoff);
				bbuf_adds(&c->src, num);
				if ((rv = deliver(c, c->src.s, c->env.s, bad)))
					goto out;
			}
			nmsg++;
			mine = next_is_mine(c);
			msgoff = r->linestart;
			bbuf_reset(&c->msg);
			bbuf_reset(&c->env);
			bbuf_add(&c->env, c->line.s, c->line.len - 1);
		}
	}
	if (r->err) {
		fail(c, name, strerror(r->err), bad);
		goto out;
	}
	if (mbox == 1) {
		bbuf_reset(&c->src);
		bbuf_adds(&c->src, name);
		char num[32];
		snprintf(num, sizeof num, ":%lld", (long long)msgoff);
		bbuf_adds(&c->src, num);
		rv = deliver(c, c->src.s, c->env.s, bad);
	} else if (c->msg.len == 0)
		fail(c, name, "empty file, not a mail message", bad);
	else
		rv = deliver(c, name, NULL, bad);
out:
	free(r);
	return rv;
}

static int
read_path(struct loopctx *c, const char *path, off_t limit, int *bad);

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The subfolders of a Maildir that hold messages, in reading order. */
static const char *const maildir_subs[] = { "cur", "new" };

/* A growable list of strings. */
struct strv {
	char **v;
	size_t n, cap;
};

static void
strv_add(struct strv *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = b_realloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = s;
}

static void
strv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/*
 * The paths of the files of one Maildir subfolder, in name order
 * (stable output), added to l.  -1 with errno when the subfolder cannot
 * be read; one that does not exist has none.  *subp is its own path.
 */
static int
list_maildir_sub(const char *dir, const char *sub, struct strv *l,
    struct bbuf *subp)
{
	DIR *d;
	struct dirent *de;
	size_t first = l->n;

	bbuf_reset(subp);
	bbuf_adds(subp, dir);
	if (subp->len == 0 || subp->s[subp->len - 1] != '/')	/* "md/" */
		bbuf_addc(subp, '/');
	bbuf_adds(subp, sub);
	if ((d = opendir(subp->s)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		struct bbuf f = { 0 };
		if (de->d_name[0] == '.')
			continue;
		bbuf_adds(&f, subp->s);
		bbuf_addc(&f, '/');
		bbuf_adds(&f, de->d_name);
		strv_add(l, f.s);
	}
	closedir(d);
	if (l->n - first > 1)	/* qsort may not be given NULL */
		qsort(l->v + first, l->n - first, sizeof *l->v, cmpstr);
	return 0;
}

/* The files of a Maildir, cur/ then new/. */
static int
read_maildir(struct loopctx *c, const char *dir, int *bad)
{
	struct strv l = { 0 };
	struct bbuf p = { 0 };
	int rv = 0;

	for (int i = 0; rv == 0 && i < 2; i++) {
		size_t from = l.n;
		if (list_maildir_sub(dir, maildir_subs[i], &l, &p) < 0) {
			fail(c, p.s, strerror(errno), bad);
			continue;
		}
		for (size_t k = from; rv == 0 && k < l.n; k++)
			rv = read_path(c, l.v[k], -1, bad);
	}
	strv_free(&l);
	bbuf_free(&p);
	return rv;
}

static int
is_maildir(const char *path)
{
	struct stat st;

	for (int i = 0; i < 2; i++) {
		struct bbuf p = { 0 };
		int ok;
		bbuf_adds(&p, path);
		bbuf_addc(&p, '/');
		bbuf_adds(&p, maildir_subs[i]);
		ok = stat(p.s, &st) == 0 && S_ISDIR(st.st_mode);
		bbuf_free(&p);
		if (ok)
			return 1;
	}
	return 0;
}

static int
read_path(struct loopctx *c, const char *path, off_t limit, int *bad)
{
	struct stat st;
	int fd, rv;

	/* O_NONBLOCK so that a FIFO without a writer cannot hang us. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		fail(c, path, strerror(errno), bad);
		return 0;
	}
	if (fstat(fd, &st) < 0) {
		fail(c, path, strerror(errno), bad);
		close(fd);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		if (!is_maildir(path)) {
			fail(c, path,
			    "is a directory, not a Maildir (no cur/ or new/)",
			    bad);
			return 0;
		}
		return read_maildir(c, path, bad);
	}
	if (!S_ISREG(st.st_mode)) {
		fail(c, path, "not a regular file", bad);
		close(fd);
		return 0;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	rv = read_stream(c, fd, path, limit, bad);
	close(fd);
	return rv;
}

/*
 * Accounting records on stdin (PowerMTA's pipe accounting), the first
 * line already read: a header line, or a record in PowerMTA's default
 * fields.  The source of each record is "-:offset".
 */
static int
pipe_acct(struct loopctx *c, char **linep, size_t *capp, ssize_t n, int *bad)
{
	char *header = NULL;
	off_t pos = n + 1, off = 0;
	int rv = 0;

	bbuf_reset(&c->msg);
	if (bacct_is_header(*linep, (size_t)n))
		header = b_strdup(*linep);
	else
		bbuf_add(&c->msg, *linep, (size_t)n);
	for (;;) {
		if (c->msg.len > 0 && !quote_open(c->msg.s, c->msg.len)) {
			if ((rv = deliver_acct(c, "-", off, header, bad)) != 0)
				break;
			bbuf_reset(&c->msg);
		}
		size_t raw;
		if ((n = b_getline(linep, capp, stdin, &raw)) == -1)
			break;
		if (c->msg.len == 0)
			off = pos;
		pos += (off_t)raw;
		if (c->msg.len > 0)
			bbuf_addc(&c->msg, '\n');
		bbuf_add(&c->msg, *linep, (size_t)n);
	}
	if (rv == 0 && c->msg.len > 0)
		rv = deliver_acct(c, "-", off, header, bad);
	free(header);
	return rv;
}

static int
read_pathlist(struct loopctx *c, int *bad)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rv = 0;

	while (rv == 0 && (n = b_getline(&line, &cap, stdin, NULL)) != -1) {
		if (n == 0)
			continue;
		/* PowerMTA piping accounting records to us ("<acct-file
		 * |bparse>"): a header line, or records right away. */
		if (lineno++ == 0 && (bacct_is_header(line, (size_t)n) ||
		    bacct_is_record(line, (size_t)n))) {
			rv = pipe_acct(c, &line, &cap, n, bad);
			break;
		}
		rv = read_path(c, line, -1, bad);
	}
	if (ferror(stdin)) {
		c->err(c->arg, "stdin", strerror(errno));
		*bad = 1;
	}
	free(line);
	return rv;
}

/* The loop over the arguments (or the path list on stdin), here. */
static int
run(struct loopctx *c, int argc, char **argv)
{
	int bad = 0, rv = 0;

	if (argc == 0) {
		if (isatty(0)) {
			c->err(c->arg, "stdin", "is a terminal; give files, "
			    "or - for a message on stdin");
			return 1;
		}
		rv = read_pathlist(c, &bad);
	}
	for (int i = 0; rv == 0 && i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			rv = read_stream(c, 0, "-", -1, &bad);
		else
			rv = read_path(c, argv[i], c->sizes != NULL ?
			    c->sizes[i] : -1, &bad);
	}
	return rv ? rv : bad;
}

/* ---- workers ---- */

struct worker {
	pid_t pid;
	int fd;
	int eof;
	size_t pos, end;
	char buf[65536];
};

/*
 * Worker w's next frame, into t (without its NUL): TOTALS or FAILURE
 * when it begins so, or FAILURE when whole is set (the second frame of
 * a failure); else a frame of records, written to stdout once it is
 * whole (RECORDS), so that a worker that dies never leaves half a
 * record behind.  -1 when the worker's output ended (it died), -2 when
 * stdout failed.
 */
static int
next_frame(struct worker *w, struct bbuf *t, int whole)
{
	int kind = whole ? FAILURE : -1;
	size_t from = t->len;

	for (;;) {
		if (w->pos == w->end) {
			ssize_t n = -1;
			if (!w->eof)
				do
					n = read(w->fd, w->buf, sizeof w->buf);
				while (n < 0 && errno == EINTR);
			if (n <= 0) {
				w->eof = 1;
				return -1;
			}
			w->pos = 0;
			w->end = (size_t)n;
		}
		char *p = w->buf + w->pos;
		size_t n = w->end - w->pos;
		char *z = memchr(p, '\0', n);
		size_t take = z != NULL ? (size_t)(z - p) : n;

		if (kind < 0)
			kind = take > 0 && (p[0] == TOTALS ||
			    p[0] == FAILURE) ? p[0] : RECORDS;
		bbuf_add(t, p, take);
		w->pos += take;
		if (z == NULL)
			continue;
		w->pos++;
		if (kind == RECORDS) {
			size_t len = t->len - from;
			if (len > 0 && fwrite(t->s + from, 1, len, stdout) != len)
				return -2;
			t->len = from;
		}
		return kind;
	}
}

/* A worker: the loop over every argument, handling its own slots; its
 * records go to the pipe, then its totals.  Never returns. */
static void
work(struct loopctx *c, const struct bmsg_jobs *j, int fd, int argc,
    char **argv)
{
	struct bbuf t = { 0 };
	int rv;

	if (dup2(fd, 1) < 0) {
		c->err(c->arg, "worker", strerror(errno));
		_exit(3);
	}
	close(fd);
	/* Big writes; a worker that is ahead fills its pipe and waits. */
	setvbuf(stdout, NULL, _IOFBF, 65536);
	rv = run(c, argc, argv);
	bbuf_addc(&t, TOTALS);
	if (j->save != NULL)
		j->save(c->arg, &t);
	bbuf_addc(&t, '\0');
	if (fwrite(t.s, 1, t.len, stdout) != t.len || fflush(stdout) == EOF)
		_exit(3);
	_exit(rv == 0 ? 0 : rv == 1 ? 1 : 3);
}

/* Wait for a worker to end; its status. */
static int
reap(struct worker *w)
{
	int st = 0;

	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Say how worker k ended, when it did not end well. */
static void
why_died(struct loopctx *c, int k, int st)
{
	char why[128];

	if (WIFSIGNALED(st))
		snprintf(why, sizeof why, "worker %d killed by signal %d; "
		    "records are missing", k + 1, WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) > 1)
		snprintf(why, sizeof why, "worker %d failed (exit status %d); "
		    "records are missing", k + 1, WEXITSTATUS(st));
	else	/* it ended well, where the others did not: it saw
		 * another number of messages */
		snprintf(why, sizeof why, "worker %d found other messages "
		    "than the others: the input changed while it was read; "
		    "records are missing", k + 1);
	c->err(c->arg, "workers", why);
}

/* Stop and reap workers 0..n-1 after a failure. */
static void
stop_workers(struct worker *w, int n)
{
	for (int k = 0; k < n; k++) {
		close(w[k].fd);
		if (w[k].pid > 0) {
			kill(w[k].pid, SIGTERM);
			reap(&w[k]);
		}
	}
}

/*
 * The loop in j->n worker processes, each reading every input and
 * handling every n-th slot, while this process copies their output to
 * stdout slot by slot, in the order one process would have written it.
 * Returns as run() does, or -2 when workers could not be started (the
 * caller runs the loop itself).
 */
static int
run_workers(struct loopctx *c, const struct bmsg_jobs *j, int argc,
    char **argv)
{
	struct worker *w = b_malloc((size_t)j->n * sizeof *w);
	struct bbuf t = { 0 };
	int n = j->n, rv = 0, f, k, died;
	unsigned long s;

	memset(w, 0, (size_t)n * sizeof *w);
	if (fflush(stdout) == EOF) {
		free(w);
		return -1;
	}
	for (k = 0; k < n; k++) {
		int fds[2];
		if (pipe(fds) < 0) {
			stop_workers(w, k);
			free(w);
			return -2;
		}
		w[k].fd = fds[0];
		if ((w[k].pid = fork()) < 0) {
			close(fds[1]);
			stop_workers(w, k + 1);
			free(w);
			return -2;
		}
		if (w[k].pid == 0) {
			for (int i = 0; i <= k; i++)
				close(w[i].fd);
			c->jobs = n;
			c->me = k;
			work(c, j, fds[1], argc, argv);
		}
		close(fds[1]);
	}
	/* Slot s is worker s % n's.  The first worker to give its totals
	 * where a slot was due has seen the last slot go by; the others'
	 * totals come next. */
	for (s = 0;; s++) {
		struct worker *x = &w[s % (unsigned long)n];
		if ((f = next_frame(x, &t, 0)) == FAILURE) {
			/* "what" is in t after the FAILURE byte; "why"
			 * follows. */
			size_t why = t.len + 1;
			bbuf_addc(&t, '\0');
			if ((f = next_frame(x, &t, 1)) != FAILURE)
				break;
			c->err(c->arg, t.s + 1, t.s + why);
			bbuf_reset(&t);
		} else if (f != RECORDS)
			break;
	}
	died = (int)(s % (unsigned long)n);
	for (k = 0; f == TOTALS && k < n; k++)
		if (k != died && (f = next_frame(&w[k], &t, 0)) != TOTALS)
			died = k;
	if (f == -2) {
		int e = errno;
		stop_workers(w, n);
		errno = e;
		rv = -1;
		goto out;
	}
	if (f != TOTALS) {
		/* Worker died's output ended before its totals: the
		 * others are stopped, and only its end is told. */
		int st = reap(&w[died]);
		w[died].pid = -1;
		stop_workers(w, n);
		why_died(c, died, st);
		rv = BMSG_FATAL;
		goto out;
	}
	for (k = 0; k < n; k++) {
		int st;
		close(w[k].fd);
		st = reap(&w[k]);
		if (WIFEXITED(st) && WEXITSTATUS(st) <= 1) {
			if (WEXITSTATUS(st) == 1 && rv == 0)
				rv = 1;
		} else {
			why_died(c, k, st);
			rv = BMSG_FATAL;
		}
	}
	/* Each worker's totals: TOTALS, its text, and so on. */
	if (j->merge != NULL)
		for (size_t i = 0; i < t.len; ) {
			size_t e = i + 1;
			while (e < t.len && t.s[e] != TOTALS)
				e++;
			j->merge(c->arg, t.s + i + 1, e - i - 1);
			i = e;
		}
out:
	bbuf_free(&t);
	free(w);
	return rv;
}

/*
 * The arguments with each Maildir replaced by its files, listed once
 * here for every worker: were each to list them, a message delivered,
 * or moved from new/ to cur/ by a mail reader, between two listings
 * would give the workers different slots for the same messages.  A
 * Maildir that cannot be listed stays as it is, for the workers to
 * report.
 */
static void
expand_maildirs(int argc, char **argv, struct strv *l)
{
	struct bbuf p = { 0 };
	struct stat st;

	for (int i = 0; i < argc; i++) {
		size_t before = l->n;
		int ok = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) &&
		    is_maildir(argv[i]);
		for (int k = 0; ok && k < 2; k++)
			ok = list_maildir_sub(argv[i], maildir_subs[k], l,
			    &p) == 0;
		if (ok)
			continue;
		while (l->n > before)
			free(l->v[--l->n]);
		strv_add(l, b_strdup(argv[i]));
	}
	bbuf_free(&p);
}

int
bmsg_loop_jobs(const struct bmsg_jobs *j, int argc, char **argv,
    bmsg_fn fn, b_err_fn err, void *arg)
{
	struct loopctx c = { .fn = fn, .err = err, .arg = arg };
	int rv = -2;

	if (j != NULL && j->n > 1 && argc > 0) {
		int i;
		for (i = 0; i < argc && strcmp(argv[i], "-") != 0; i++)
			;
		if (i == argc) {
			struct strv l = { 0 };
			off_t *sizes;
			struct stat st;
			expand_maildirs(argc, argv, &l);
			sizes = b_malloc((l.n + 1) * sizeof *sizes);
			for (size_t k = 0; k < l.n; k++)
				sizes[k] = stat(l.v[k], &st) == 0 &&
				    S_ISREG(st.st_mode) ? st.st_size : -1;
			c.sizes = sizes;
			rv = l.n > INT_MAX ? -2 :
			    run_workers(&c, j, (int)l.n, l.v);
			c.sizes = NULL;
			free(sizes);
			strv_free(&l);
		}
	}
	if (rv == -2)
		rv = run(&c, argc, argv);
	bbuf_free(&c.msg);
	bbuf_free(&c.line);
	bbuf_free(&c.src);
	bbuf_free(&c.env);
	return rv;
}

int
bmsg_loop(int argc, char **argv, bmsg_fn fn, b_err_fn err, void *arg)
{
	return bmsg_loop_jobs(NULL, argc, argv, fn, err, arg);
}
