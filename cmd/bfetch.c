/*
 * bfetch - copy mail from IMAP, POP3, a Maildir, an mbox or an MTA pipe
 * into a local spool (a Maildir), durably, and print one spooled path
 * per line.
 *
 * The order of things is what makes it safe: a message is written to
 * the spool and fsync'ed, then the fetched-state is saved, and only then
 * is the message deleted at its source.  A crash anywhere at worst
 * spools a message twice.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

static const char usage_text[] =
    "usage: bfetch -s dir [-dhkv] [-m folder] [-n limit] [--cacert file]\n"
    "              [--netrc-file file] [--connect-timeout secs]\n"
    "              [--max-time secs] [--insecure] [--no-tls] [--no-wait]\n"
    "              source ...\n";

/* Exit statuses; see bfetch(1). */
enum {
	XS_OK = 0,
	XS_PARTIAL = 1,		/* some local messages could not be read */
	XS_USAGE = 2,		/* bad option, bad URL */
	XS_SPOOL = 73,		/* the spool cannot be created or written */
	XS_TEMP = 75,		/* try again later */
	XS_PROTO = 76,		/* the server refused a command */
	XS_LOGIN = 77,		/* credentials refused or unsafe */
	XS_TLS = 78,		/* TLS verification or STARTTLS failed */
};

#define BATCH 50		/* messages between state saves/deletions */

/* A message from a server, spooled, its path not yet printed. */
struct queued {
	char *path;
	size_t i;		/* its index in the listing */
};

struct run {
	struct bspool *sp;
	int del;		/* --delete or --move */
	const char *folder;	/* --move FOLDER */
	long limit;		/* at most this many messages, 0: all */
	long fetched;		/* messages spooled in this run */
	int progress;		/* stderr is a terminal */
	int stdinmode;
	int cr;			/* the last chunk ended in a CR */
	int spool_errno;	/* why the spool failed, 0 if it did not */
	int out_failed;		/* stdout failed: nothing more can be told */
	struct bbuf out;	/* a chunk with CRLF turned into LF */
	struct queued *queue;	/* spooled messages waiting for the sync */
	size_t nqueue;
	struct bremote_opts ro;
};

static void
warnx_(const char *what, const char *why)
{
	if (what != NULL)
		fprintf(stderr, "bfetch: %s: %s\n", what, why);
	else
		fprintf(stderr, "bfetch: %s\n", why);
}

/* The status for a spool that failed with errno e: a full disk may be
 * cleared by the next run, a missing permission needs someone.  (With
 * a message on stdin, main() makes every failure 75.) */
static int
spool_status(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
	case ENOMEM:
	case EINTR:
	case EAGAIN:
		return XS_TEMP;
	default:
		return XS_SPOOL;
	}
}

static int
spool_fail(struct run *R, int e)
{
	R->spool_errno = e;
	warnx_(bspool_dir(R->sp), strerror(e));
	return spool_status(e);
}

/* Print a spooled path; the pipeline downstream sees it at once. */
static int
emit(struct run *R, const char *path)
{
	if (printf("%s\n", path) < 0 || fflush(stdout) == EOF) {
		warnx_("stdout", strerror(errno));
		R->out_failed = 1;
		return -1;
	}
	R->fetched++;
	return 0;
}

/*
 * A batch from a server is made durable with one sync of new/ at its
 * end (one per message would cost a disk flush each); its paths are
 * printed then.  A message whose path was not printed is no longer
 * known as fetched: the pipeline downstream never heard of it, so it
 * must be neither remembered nor deleted at the server, and the next
 * run fetches and prints it again.  Returns 0 or an exit status.
 */
static int
flush_queue(struct run *R, char *known)
{
	int rv = 0;

	if (R->nqueue > 0 && bspool_sync(R->sp) < 0)
		rv = spool_fail(R, errno);
	for (size_t i = 0; i < R->nqueue; i++) {
		if (rv == 0 && emit(R, R->queue[i].path) < 0)
			rv = XS_USAGE;
		if (rv != 0)
			known[R->queue[i].i] = 0;
		free(R->queue[i].path);
	}
	R->nqueue = 0;
	return rv;
}

static void
progress(const struct run *R, const char *src, size_t i, size_t n)
{
	if (R->progress)
		fprintf(stderr, "\rbfetch: %s: %zu/%zu", src, i, n);
}

static void
progress_end(const struct run *R, const char *src, size_t i, size_t n)
{
	if (R->progress && n > 0) {
		progress(R, src, i, n);
		fputc('\n', stderr);
	}
}

static int
limit_reached(const struct run *R)
{
	return R->limit > 0 && R->fetched >= R->limit;
}

/* ---- remote sources ---- */

/* Remote data arrives with CRLF line ends; the spool has LF. */
static int
on_data(void *arg, const char *p, size_t n)
{
	struct run *R = arg;

	bbuf_reset(&R->out);
	for (size_t i = 0; i < n; i++) {
		if (R->cr && p[i] != '\n')
			bbuf_addc(&R->out, '\r');
		R->cr = p[i] == '\r';
		if (!R->cr)
			bbuf_addc(&R->out, p[i]);
	}
	if (bspool_write(R->sp, R->out.s, R->out.len) < 0) {
		R->spool_errno = errno;
		return -1;
	}
	return 0;
}

static int
status_exit(int st)
{
	switch (st) {
	case BR_URL:
		return XS_USAGE;
	case BR_LOGIN:
		return XS_LOGIN;
	case BR_TLS:
		return XS_TLS;
	case BR_PROTO:
	case BR_GONE:
		return XS_PROTO;
	default:
		return XS_TEMP;
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Which listed messages are already spooled, from the state value.
 * IMAP: "UIDVALIDITY set" with a sequence set of UIDs; a different
 * UIDVALIDITY makes all of them new.  POP3: the UIDLs, blank-separated.
 */
static void
known_from_state(const char *val, int imap, const char *gen,
    const struct bremote_msg *v, size_t n, char *known)
{
	char *s, *save = NULL, **ids = NULL, *tok;
	size_t nids = 0;

	memset(known, 0, n);
	if (val == NULL)
		return;
	s = b_strdup(val);
	if (imap) {
		size_t k = strcspn(s, " ");
		if (k != strlen(gen) || strncmp(s, gen, k) != 0 || s[k] == '\0')
			goto out;
		char *p = s + k + 1, *e;
		size_t i = 0;
		while (*p >= '0' && *p <= '9') {
			unsigned long a = strtoul(p, &e, 10), b = a;
			if (*e == ':')
				b = strtoul(e + 1, &e, 10);
			/* Both lists ascend: walk them together. */
			while (i < n && v[i].num < a)
				i++;
			while (i < n && v[i].num <= b)
				known[i++] = 1;
			p = *e == ',' ? e + 1 : e;
		}
		goto out;
	}
	for (tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		ids = b_realloc(ids, (nids + 1) * sizeof *ids);
		ids[nids++] = tok;
	}
	if (nids > 1)
		qsort(ids, nids, sizeof *ids, cmp_str);
	for (size_t i = 0; i < n && nids > 0; i++) {
		const char *id = v[i].id;
		known[i] = bsearch(&id, ids, nids, sizeof *ids, cmp_str) != NULL;
	}
out:
	free(ids);
	free(s);
}

/* The state value for the known messages (the inverse of the above).
 * Messages no longer listed drop out, so it stays small. */
static void
state_value(struct bbuf *b, int imap, const char *gen,
    const struct bremote_msg *v, size_t n, const char *known)
{
	char num[48];
	int first = 1;

	bbuf_reset(b);
	if (imap)
		bbuf_adds(b, gen);
	for (size_t i = 0; i < n; i++) {
		if (!known[i])
			continue;
		if (!imap) {
			if (!first)
				bbuf_addc(b, ' ');
			bbuf_adds(b, v[i].id);
			first = 0;
			continue;
		}
		/* A run of known UIDs is one range: a UID between two listed
		 * ones does not exist and never will (UIDs only grow). */
		size_t j = i;
		while (j + 1 < n && known[j + 1])
			j++;
		if (j > i)
			snprintf(num, sizeof num, "%lu:%lu", v[i].num, v[j].num);
		else
			snprintf(num, sizeof num, "%lu", v[i].num);
		bbuf_addc(b, first ? ' ' : ',');
		bbuf_adds(b, num);
		first = 0;
		i = j;
	}
}

static int
save_state(struct run *R, struct bremote *r, const char *gen,
    const struct bremote_msg *v, size_t n, const char *known)
{
	struct bbuf b = { 0 };
	int rv = 0;

	state_value(&b, bremote_is_imap(r), gen, v, n, known);
	bspool_state_set(R->sp, bremote_key(r), b.s ? b.s : "");
	if (bspool_state_save(R->sp) < 0)
		rv = spool_fail(R, errno);
	bbuf_free(&b);
	return rv;
}

/* Fetch message i of the listing into the spool.  Returns 0, 1 when it
 * is gone from the server, or an exit status. */
static int
fetch_one(struct run *R, struct bremote *r, const struct bremote_msg *v,
    size_t i)
{
	const struct bremote_msg *m = &v[i];
	const char *path;
	int st;

	if (bspool_begin(R->sp) < 0)
		return spool_fail(R, errno);
	R->cr = 0;
	R->spool_errno = 0;
	st = bremote_fetch(r, m, on_data, R);
	if (st == BR_OK && R->cr && bspool_write(R->sp, "\r", 1) < 0) {
		R->spool_errno = errno;
		st = BR_WRITE;
	}
	if (st != BR_OK) {
		bspool_abort(R->sp);
		if (st == BR_WRITE && R->spool_errno)
			return spool_fail(R, R->spool_errno);
		if (st == BR_GONE) {
			char what[600];
			snprintf(what, sizeof what, "%s: message %s",
			    bremote_key(r), m->id);
			warnx_(what, "no longer on the server, skipped");
			return 1;
		}
		warnx_(bremote_key(r), bremote_error(r));
		return status_exit(st);
	}
	if (bspool_commit(R->sp, &path) < 0)
		return spool_fail(R, errno);
	R->queue[R->nqueue].path = b_strdup(path);
	R->queue[R->nqueue++].i = i;
	return 0;
}

static int
delete_batch(struct run *R, struct bremote *r,
    const struct bremote_msg **del, size_t ndel)
{
	int st = bremote_delete(r, del, ndel, R->folder);

	if (st != BR_OK) {
		warnx_(bremote_key(r), bremote_error(r));
		return status_exit(st);
	}
	return 0;
}

/* Delete the messages spooled by an earlier run, in batches. */
static int
delete_known(struct run *R, struct bremote *r, const struct bremote_msg *v,
    size_t n, const char *known)
{
	const struct bremote_msg **del = b_malloc(BATCH * sizeof *del);
	size_t ndel = 0;
	int rv = 0;

	for (size_t i = 0; i < n && rv == 0; i++) {
		if (known[i])
			del[ndel++] = &v[i];
		if (ndel == BATCH || (i + 1 == n && ndel > 0)) {
			rv = delete_batch(R, r, del, ndel);
			ndel = 0;
		}
	}
	free(del);
	return rv;
}

static int
fetch_remote(struct run *R, struct bremote *r)
{
	const struct bremote_msg *v, **del = NULL;
	const char *gen, *key = bremote_key(r);
	size_t n, todo = 0, done = 0, ndel = 0;
	char *known;
	int st, rv = 0;

	if ((st = bremote_list(r, &gen, &v, &n)) != BR_OK) {
		warnx_(key, bremote_error(r));
		return status_exit(st);
	}
	known = b_malloc(n + 1);
	known_from_state(bspool_state_get(R->sp, key), bremote_is_imap(r),
	    gen, v, n, known);
	/* First the state loses what the server no longer has. */
	if ((rv = save_state(R, r, gen, v, n, known)) != 0)
		goto out;
	if (R->del && (rv = delete_known(R, r, v, n, known)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		todo += !known[i];
	if (R->limit > 0 && todo > (size_t)(R->limit - R->fetched))
		todo = (size_t)(R->limit - R->fetched);
	del = b_malloc(BATCH * sizeof *del);
	R->queue = b_malloc(BATCH * sizeof *R->queue);
	bspool_defer(R->sp, 1);
	for (size_t i = 0; i < n && done < todo; i++) {
		if (known[i])
			continue;
		if ((rv = fetch_one(R, r, v, i)) > 1)
			break;
		done++;
		progress(R, key, done, todo);
		if (rv == 1) {	/* gone: nothing to delete */
			rv = 0;
		} else {
			known[i] = 1;
			del[ndel++] = &v[i];
		}
		if (ndel < BATCH && done < todo && R->nqueue < BATCH)
			continue;
		/* Spooled and durable; now remembered; only then deleted. */
		if ((rv = flush_queue(R, known)) != 0 ||
		    (rv = save_state(R, r, gen, v, n, known)) != 0)
			break;
		if (R->del && ndel > 0 && (rv = delete_batch(R, r, del, ndel)))
			break;
		ndel = 0;
	}
	/* Whatever was spooled before a failure is made durable and
	 * remembered, as far as its path was printed. */
	if (R->nqueue > 0 && flush_queue(R, known) == 0 && ndel > 0)
		save_state(R, r, gen, v, n, known);
	else if (rv != 0 && ndel > 0 && R->spool_errno == 0)
		save_state(R, r, gen, v, n, known);
	bspool_defer(R->sp, 0);
	free(R->queue);
	R->queue = NULL;
	progress_end(R, key, done, todo);
out:
	free(del);
	free(known);
	return rv;
}

/*
 * Where the password is in a source URL: *len bytes from the ':' that
 * starts it to the '@' that ends the userinfo, or NULL when there is
 * none.  As libcurl sees it, the userinfo is what comes before an '@'
 * in the authority (up to the first '/', '?' or '#'); here it goes to
 * the last such '@', so that an unencoded '@' in the password is
 * covered too.  A password with an unencoded '/', '?' or '#' cuts the
 * authority short where the port would be ("user:pa/ss@host"), which
 * libcurl refuses; a port is a number, so then the password is taken
 * to run to the last '@' of the URL.
 */
static const char *
url_password(const char *url, size_t *len)
{
	const char *a, *e, *at = NULL, *c;

	if ((a = strstr(url, "://")) == NULL)
		return NULL;
	a += 3;
	e = a + strcspn(a, "/?#");
	for (const char *p = a; p < e; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		c = memchr(a, ':', (size_t)(at - a));
	else {
		if (*a == '[' || (at = strrchr(e, '@')) == NULL ||
		    (c = memchr(a, ':', (size_t)(e - a))) == NULL)
			return NULL;
		if (c + 1 < e &&
		    strspn(c + 1, "0123456789") >= (size_t)(e - c - 1))
			return NULL;	/* host:port, then an '@' in the path */
	}
	if (c == NULL)
		return NULL;
	*len = (size_t)(at - c);
	return c;
}

/* A source URL for messages: as given, but never with its password. */
static char *
url_shown(const char *url)
{
	const char *pw;
	size_t n;
	char *s;

	if ((pw = url_password(url, &n)) == NULL)
		return b_strdup(url);
	s = b_malloc(strlen(url) - n + 1);
	memcpy(s, url, (size_t)(pw - url));
	strcpy(s + (pw - url), pw + n);
	return s;
}

static int
do_remote(struct run *R, const char *url)
{
	struct bremote *r;
	int st, rv;

	r = bremote_new(url, &R->ro, &st);
	if (st != BR_OK) {
		/* The URL may not even parse: it is shown as given. */
		char *shown = url_shown(url);
		warnx_(shown, bremote_error(r));
		free(shown);
		bremote_free(r);
		return status_exit(st);
	}
	if (R->folder != NULL && !bremote_is_imap(r)) {
		warnx_(bremote_key(r), "--move needs IMAP; POP3 has no folders");
		bremote_free(r);
		return XS_USAGE;
	}
	rv = fetch_remote(R, r);
	/* For POP3 this is the QUIT that commits the deletions. */
	bremote_free(r);
	return rv;
}

/* ---- local sources ---- */

struct local {
	struct run *R;
	const char *file;	/* the file being read */
	int rv;			/* exit status so far */
	int bad;		/* some message could not be read */
	int mbox;		/* the file turned out to be an mbox */
	int left;		/* the limit left a message of it unspooled */
	long nmsg;		/* messages spooled from this source */
};

static void
on_local_err(void *arg, const char *what, const char *why)
{
	struct local *L = arg;

	warnx_(what, why);
	L->bad = 1;
}

static int
on_local_msg(void *arg, const struct bmsg *m)
{
	struct local *L = arg;
	struct run *R = L->R;
	const char *path;

	if (m->kind != BMSG_MAIL) {
		/* Its records are no messages: spooled, they would be lost to
		 * bparse (which reads such a file itself), and --delete would
		 * remove the file.  A file is all records or all mail, and
		 * this is its first, so nothing of it is spooled. */
		warnx_(L->file, "an accounting file, not mail messages: "
		    "give it to bparse");
		L->bad = 1;
		return 1;
	}
	if (m->envelope != NULL)
		L->mbox = 1;
	if (limit_reached(R)) {
		/* Not the limit reached, but a message left behind, is what
		 * keeps the file: one that ends just at the limit goes. */
		L->left = 1;
		return 1;
	}
	if (bspool_begin(R->sp) < 0 ||
	    bspool_write(R->sp, m->data, m->len) < 0 ||
	    bspool_commit(R->sp, &path) < 0) {
		int e = errno;
		bspool_abort(R->sp);
		L->rv = spool_fail(R, e);
		return -1;
	}
	if (emit(R, path) < 0) {
		L->rv = XS_USAGE;
		return -1;
	}
	L->nmsg++;
	return 0;
}

/* Take the locks an MTA takes to deliver to an mbox: an fcntl lock
 * (open file description lock, so reading through other descriptors
 * does not drop it) and, where the directory allows, a dot-lock. */
static int
mbox_lock(const char *path, int *fdp, char **dotlock)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct bbuf b = { 0 };
	int fd, dfd = -1;

	*dotlock = NULL;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	if (fcntl(fd, F_OFD_SETLKW, &fl) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	bbuf_adds(&b, path);
	bbuf_adds(&b, ".lock");
	for (int i = 0; i < 60; i++) {
		dfd = open(b.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (dfd >= 0 || errno != EEXIST)
			break;
		sleep(1);
	}
	if (dfd >= 0) {
		close(dfd);
		*dotlock = b.s;
	} else {
		if (errno == EEXIST) {
			bbuf_free(&b);
			close(fd);
			errno = EWOULDBLOCK;
			return -1;
		}
		bbuf_free(&b);	/* no right to dot-lock: fcntl alone */
	}
	*fdp = fd;
	return 0;
}

/* A file: one message or an mbox.  --delete removes the message file,
 * or empties the mbox once every message in it is spooled. */
static int
do_file(struct run *R, char *path)
{
	struct local L = { .R = R, .file = path };
	struct stat sb;
	char *dotlock = NULL;
	int fd = -1;

	/* An empty mbox is what --delete leaves: nothing to do. */
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
		return 0;
	if (R->del && mbox_lock(path, &fd, &dotlock) < 0) {
		warnx_(path, errno == EWOULDBLOCK ? "locked by another "
		    "program (dot-lock held)" : strerror(errno));
		return errno == EWOULDBLOCK ? XS_TEMP : XS_PARTIAL;
	}
	if (bmsg_loop(1, &path, on_local_msg, on_local_err, &L) < 0 &&
	    L.rv == 0)
		L.rv = XS_TEMP;
	if (R->del && L.rv == 0 && !L.bad && !L.left) {
		if (!L.mbox) {
			if (unlink(path) < 0)
				warnx_(path, strerror(errno)), L.bad = 1;
		} else if (ftruncate(fd, 0) < 0 || fsync(fd) < 0)
			warnx_(path, strerror(errno)), L.bad = 1;
	} else if (R->del && L.mbox && L.nmsg > 0)
		warnx_(path, "not emptied: not all of its messages were "
		    "spooled");
	if (dotlock != NULL) {
		unlink(dotlock);
		free(dotlock);
	}
	if (fd >= 0)
		close(fd);
	return L.rv ? L.rv : L.bad ? XS_PARTIAL : 0;
}

static int is_maildir(const char *dir);

/*
 * The unique part of a Maildir file name (before the ":2," flags), as
 * the state holds it: the names there are separated by blanks, so a
 * blank in a name is written %20, and the % itself %25.  Other names
 * read as they always did, so state files from before keep working.
 */
static char *
maildir_uniq(const char *name)
{
	struct bbuf b = { 0 };
	size_t n = strcspn(name, ":!");

	for (size_t i = 0; i < n; i++) {
		if (name[i] == ' ')
			bbuf_adds(&b, "%20");
		else if (name[i] == '%')
			bbuf_adds(&b, "%25");
		else
			bbuf_addc(&b, name[i]);
	}
	return b.s ? b.s : b_strdup("");
}

static int
list_dir(const char *dir, const char *sub, char ***names, size_t *n)
{
	struct bbuf p = { 0 };
	struct dirent *de;
	DIR *d;

	bbuf_adds(&p, dir);
	bbuf_addc(&p, '/');
	bbuf_adds(&p, sub);
	if ((d = opendir(p.s)) == NULL) {
		int e = errno;
		bbuf_free(&p);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		*names = b_realloc(*names, (*n + 1) * sizeof **names);
		bbuf_reset(&p);
		bbuf_adds(&p, sub);
		bbuf_addc(&p, '/');
		bbuf_adds(&p, de->d_name);
		(*names)[(*n)++] = b_strdup(p.s);
	}
	closedir(d);
	bbuf_free(&p);
	return 0;
}

/* A Maildir source: every file of cur/ and new/ is copied; without
 * --delete the state remembers the unique names copied. */
static int
do_maildir(struct run *R, const char *dir)
{
	struct local L = { .R = R };
	char **names = NULL, *key, *s, *tok, *save = NULL;
	char **ids = NULL;
	size_t n = 0, nids = 0;
	struct bbuf path = { 0 }, val = { 0 };
	int rv = 0, partial = 0;

	if (!is_maildir(dir)) {
		warnx_(dir, "is a directory, not a Maildir (no cur/ or new/)");
		return XS_PARTIAL;
	}
	if (list_dir(dir, "cur", &names, &n) < 0 ||
	    list_dir(dir, "new", &names, &n) < 0) {
		warnx_(dir, strerror(errno));
		return XS_PARTIAL;
	}
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_str);
	key = b_malloc(strlen(dir) + 9);
	sprintf(key, "maildir:%s", dir);
	s = b_strdup(bspool_state_get(R->sp, key) ? bspool_state_get(R->sp, key) : "");
	for (tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		ids = b_realloc(ids, (nids + 1) * sizeof *ids);
		ids[nids++] = tok;
	}
	if (nids > 1)
		qsort(ids, nids, sizeof *ids, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *u = maildir_uniq(strchr(names[i], '/') + 1);
		int seen = nids > 0 &&
		    bsearch(&u, ids, nids, sizeof *ids, cmp_str) != NULL;
		if (!seen && rv == 0 && !limit_reached(R)) {
			long before = L.nmsg;
			bbuf_reset(&path);
			bbuf_adds(&path, dir);
			bbuf_addc(&path, '/');
			bbuf_adds(&path, names[i]);
			L.bad = L.left = 0;
			char *pp = path.s;
			L.file = pp;
			if (bmsg_loop(1, &pp, on_local_msg, on_local_err, &L) < 0
			    && L.rv == 0)
				L.rv = XS_TEMP;
			rv = L.rv;
			/* A file may hold several messages (an mbox): it
			 * counts as spooled only when all of them were. */
			seen = L.nmsg > before && !L.bad && !L.left && rv == 0;
			if (!seen && L.nmsg > before && rv == 0 && R->del)
				warnx_(path.s, "not removed: not all of its "
				    "messages were spooled");
			partial |= L.bad;
			progress(R, dir, i + 1, n);
		}
		/* Spooled, now or by an earlier run: may go. */
		if (seen && R->del && rv == 0) {
			bbuf_reset(&path);
			bbuf_adds(&path, dir);
			bbuf_addc(&path, '/');
			bbuf_adds(&path, names[i]);
			if (unlink(path.s) == 0)
				seen = 0;
			else if (errno != ENOENT) {
				warnx_(path.s, strerror(errno));
				partial = 1;
			}
		}
		if (seen) {
			if (val.len > 0)
				bbuf_addc(&val, ' ');
			bbuf_adds(&val, u);
		}
		free(u);
	}
	progress_end(R, dir, n, n);
	/* Names no longer in the Maildir drop out of the state. */
	bspool_state_set(R->sp, key, val.s ? val.s : "");
	if (bspool_state_save(R->sp) < 0 && rv == 0)
		rv = spool_fail(R, errno);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(ids);
	free(s);
	free(key);
	bbuf_free(&path);
	bbuf_free(&val);
	return rv ? rv : partial ? XS_PARTIAL : 0;
}

static int
is_maildir(const char *dir)
{
	struct stat sb;
	struct bbuf p = { 0 };
	int ok = 0;

	for (int i = 0; i < 2 && !ok; i++) {
		bbuf_reset(&p);
		bbuf_adds(&p, dir);
		bbuf_adds(&p, i ? "/new" : "/cur");
		ok = stat(p.s, &sb) == 0 && S_ISDIR(sb.st_mode);
	}
	bbuf_free(&p);
	return ok;
}

static int
is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int
is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

/* ---- stdin: one message from an MTA ---- */

static int
do_stdin(struct run *R)
{
	char buf[65536];
	const char *path;
	ssize_t n;
	size_t total = 0;

	if (isatty(0)) {
		warnx_("stdin", "is a terminal; pipe a message in");
		return XS_USAGE;
	}
	if (bspool_begin(R->sp) < 0)
		return spool_fail(R, errno);
	for (;;) {
		n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			warnx_("stdin", strerror(errno));
			bspool_abort(R->sp);
			return XS_TEMP;
		}
		if (n == 0)
			break;
		if (bspool_write(R->sp, buf, (size_t)n) < 0) {
			int e = errno;
			bspool_abort(R->sp);
			return spool_fail(R, e);
		}
		total += (size_t)n;
	}
	if (total == 0) {
		bspool_abort(R->sp);
		warnx_("stdin", "empty message, not spooled");
		return XS_TEMP;
	}
	if (bspool_commit(R->sp, &path) < 0)
		return spool_fail(R, errno);
	/* Durable now: a failure to say where is no reason to retry, and
	 * a reader that went away (EPIPE, SIGPIPE being ignored) is no
	 * reason to say anything. */
	if ((printf("%s\n", path) < 0 || fflush(stdout) == EOF) &&
	    errno != EPIPE)
		warnx_("stdout", strerror(errno));
	return XS_OK;
}

/* ---- setting up ---- */

/* The netrc file: given, or ~/.netrc if there is one.  Credentials that
 * others can read are refused. */
static int
check_netrc(struct run *R, const char *given, char **netrc)
{
	const char *home = getenv("HOME");
	struct stat sb;
	char *p;

	*netrc = NULL;
	if (given != NULL)
		p = b_strdup(given);
	else if (home != NULL && *home != '\0') {
		p = b_malloc(strlen(home) + 8);
		sprintf(p, "%s/.netrc", home);
	} else
		return 0;
	if (stat(p, &sb) < 0) {
		if (given == NULL && errno == ENOENT) {
			free(p);
			return 0;
		}
		warnx_(p, strerror(errno));
		free(p);
		return XS_LOGIN;
	}
	if (sb.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)) {
		warnx_(p, sb.st_mode & (S_IRGRP | S_IROTH) ?
		    "readable by others, refusing" :
		    "writable by others, refusing");
		free(p);
		return XS_LOGIN;
	}
	*netrc = p;
	R->ro.netrc = p;
	return 0;
}

/* A number option; a bad one sets *bad (how bad depends on the
 * operands, which are only known once all options are read). */
static long
number(const char *s, const char *what, long min, int *bad)
{
	const char *errstr;
	long long v = b_strtonum(s, min, 1000000000, &errstr);

	if (errstr != NULL) {
		fprintf(stderr, "bfetch: %s %s: %s\n", what, s, errstr);
		*bad = 1;
		return 0;
	}
	return (long)v;
}

static int
usage(void)
{
	fputs(usage_text, stderr);
	return XS_USAGE;
}

enum { OPT_CACERT = 256, OPT_NETRC, OPT_CTIMEOUT, OPT_MAXTIME, OPT_NOTLS, OPT_NOWAIT };

/* The whole run; *stdinmode is set as soon as the operands show a
 * message on stdin (see main). */
static int
bfetch(int argc, char *argv[], int *stdinmode)
{
	static const struct option longopts[] = {
		{ "spool", required_argument, NULL, 's' },
		{ "delete", no_argument, NULL, 'd' },
		{ "move", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'n' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "netrc-file", required_argument, NULL, OPT_NETRC },
		{ "connect-timeout", required_argument, NULL, OPT_CTIMEOUT },
		{ "max-time", required_argument, NULL, OPT_MAXTIME },
		{ "no-tls", no_argument, NULL, OPT_NOTLS },
		{ "no-wait", no_argument, NULL, OPT_NOWAIT },
		{ NULL, 0, NULL, 0 },
	};
	struct run R = { 0 };
	const char *spool = NULL, *netrc_given = NULL;
	char *netrc = NULL;
	int ch, nowait = 0, nopass = 0, bad = 0, rv = 0;

	R.ro.connect_timeout = 30;
	while ((ch = getopt_long(argc, argv, "s:dm:n:kvh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			spool = optarg;
			break;
		case 'd':
			R.del = 1;
			break;
		case 'm':
			R.del = 1;
			R.folder = optarg;
			break;
		case 'n':
			R.limit = number(optarg, "limit", 1, &bad);
			break;
		case 'k':
			R.ro.insecure = 1;
			break;
		case 'v':
			R.ro.verbose = 1;
			break;
		case 'h':
			if (bad)
				break;
			fputs(usage_text, stdout);
			return 0;
		case OPT_CACERT:
			R.ro.cacert = optarg;
			break;
		case OPT_NETRC:
			netrc_given = optarg;
			break;
		case OPT_CTIMEOUT:
			R.ro.connect_timeout = number(optarg, "timeout", 1,
			    &bad);
			break;
		case OPT_MAXTIME:
			R.ro.max_time = number(optarg, "max-time", 1, &bad);
			break;
		case OPT_NOTLS:
			R.ro.notls = 1;
			break;
		case OPT_NOWAIT:
			nowait = 1;
			break;
		default:
			/* Read on: the operands say how to fail. */
			bad = 1;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	for (int i = 0; i < argc; i++) {
		size_t n;
		if (strcmp(argv[i], "-") == 0)
			*stdinmode = R.stdinmode = 1;
		/* The netrc file is for URLs without a password. */
		if (is_url(argv[i]) && url_password(argv[i], &n) == NULL)
			nopass = 1;
	}
	if (R.stdinmode) {
		/* Any failure must end in exit 75, not in death by a signal:
		 * a pipe that closed (stdout, stderr) gives EPIPE, a file size
		 * limit EFBIG. */
		signal(SIGPIPE, SIG_IGN);
		signal(SIGXFSZ, SIG_IGN);
	}
	if (bad || spool == NULL || argc == 0)
		return usage();
	if (R.stdinmode && argc > 1) {
		warnx_(NULL, "- (a message on stdin) goes alone");
		return XS_USAGE;
	}
	if (R.folder != NULL && strpbrk(R.folder, "\r\n") != NULL) {
		warnx_(R.folder, "not a folder name");
		return XS_USAGE;
	}
	if (R.ro.cacert != NULL && access(R.ro.cacert, R_OK) < 0) {
		warnx_(R.ro.cacert, strerror(errno));
		return XS_USAGE;
	}
	R.ro.password = getenv("BFETCH_PASSWORD");
	if (R.ro.password != NULL && *R.ro.password == '\0')
		R.ro.password = NULL;
	/* Checked (and refused when others may read it) only if it is to
	 * be read: with a password in every URL it is not. */
	if (nopass && R.ro.password == NULL &&
	    (rv = check_netrc(&R, netrc_given, &netrc)) != 0)
		return rv;

	if ((R.sp = bspool_open(spool)) == NULL) {
		warnx_(spool, strerror(errno));
		rv = XS_SPOOL;
		goto out;
	}
	/* An MTA's message needs no lock: Maildir delivery is safe as it
	 * is, and a pipe must not wait for a long fetch. */
	if (R.stdinmode) {
		rv = do_stdin(&R);
		goto out;
	}
	R.progress = isatty(2);
	if (bspool_lock(R.sp, 0) < 0) {
		if (errno != EWOULDBLOCK || nowait) {
			warnx_(spool, errno == EWOULDBLOCK ?
			    "locked by another bfetch" : strerror(errno));
			rv = errno == EWOULDBLOCK ? XS_TEMP : XS_SPOOL;
			goto out;
		}
		if (R.progress)
			warnx_(spool, "waiting for another bfetch");
		if (bspool_lock(R.sp, 1) < 0) {
			rv = spool_fail(&R, errno);
			goto out;
		}
	}
	bspool_tidy(R.sp);
	const char *why;
	if (bspool_state_load(R.sp, &why) < 0) {
		warnx_(spool, why ? why : strerror(errno));
		rv = XS_SPOOL;
		goto out;
	}
	for (int i = 0; i < argc && !limit_reached(&R); i++) {
		int r;
		if (is_url(argv[i]))
			r = do_remote(&R, argv[i]);
		else if (is_dir(argv[i]))
			r = do_maildir(&R, argv[i]);
		else
			r = do_file(&R, argv[i]);
		if (rv == 0 || (rv == XS_PARTIAL && r != 0))
			rv = r;
		/* A broken spool stops everything, and so does a failed
		 * stdout: nothing spooled now could be told of. */
		if (R.spool_errno != 0 || R.out_failed)
			break;
	}
out:
	bspool_close(R.sp);
	bbuf_free(&R.out);
	free(netrc);
	if (fflush(stdout) == EOF && rv == 0 && !R.stdinmode) {
		warnx_("stdout", strerror(errno));
		rv = XS_USAGE;
	}
	return rv;
}

int
main(int argc, char *argv[])
{
	int stdinmode = 0, rv;

	rv = bfetch(argc, argv, &stdinmode);
	/* A mail transfer agent keeps a message for a later try on 75
	 * (EX_TEMPFAIL) only; anything else bounces it, so with a message
	 * on stdin every failure is 75, a mistake in the command line too
	 * (the message is safe while someone puts it right). */
	return stdinmode && rv != 0 ? XS_TEMP : rv;
}
