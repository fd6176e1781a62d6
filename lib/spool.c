/*
 * spool.c - the local spool of bfetch: a Maildir written durably, a lock
 * for one writer at a time, and the small fetched-state.
 *
 * A message goes to tmp/ under a unique name, is written, flushed and
 * fsync'ed, then renamed into new/, and new/ is fsync'ed: once
 * bspool_commit returns 0 the message survives a crash or a power cut,
 * and only then may a caller delete it at its source.  The state file is
 * replaced the same way (temporary file, fsync, rename, fsync of the
 * directory), so it is always either the old or the new one.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

#define STATE_NAME ".bfetch-state"
#define STATE_MAGIC "# bfetch state 1"
#define LOCK_NAME ".bfetch.lock"

struct bstate_ent {
	char *key, *val;
};

struct bspool {
	char *dir;		/* as given, without trailing slashes */
	int newfd;		/* new/, kept open for fsync */
	int lockfd;
	char host[256];		/* hostname, made safe for file names */
	unsigned long count;	/* deliveries by this process */
	int defer;		/* new/ is synced by bspool_sync() */
	int pending;		/* renames into new/ not yet synced */
	/* the message being written */
	FILE *fp;
	struct bbuf tmp, path;
	/* the fetched-state */
	struct bstate_ent *st;
	size_t nst;
};

static int
mkdir_one(const char *path)
{
	struct stat sb;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST || stat(path, &sb) < 0)
		return -1;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* mkdir -p: every missing component of path, mode 0700. */
static int
mkdir_p(const char *path)
{
	char *p = b_strdup(path), *s;
	int rv = 0;

	for (s = p + 1; *s != '\0' && rv == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		rv = mkdir_one(p);
		*s = '/';
	}
	if (rv == 0)
		rv = mkdir_one(p);
	free(p);
	return rv;
}

/* The host name as the Maildir specification wants it in a file name:
 * '/' and ':' written as octal escapes. */
static void
safe_host(char *out, size_t size)
{
	char h[200];
	size_t o = 0;

	if (gethostname(h, sizeof h) < 0 || h[0] == '\0')
		b_strlcpy(h, "localhost", sizeof h);
	h[sizeof h - 1] = '\0';
	for (char *p = h; *p && o + 5 < size; p++) {
		if (*p == '/' || *p == ':')
			o += (size_t)snprintf(out + o, size - o, "\\%03o",
			    (unsigned char)*p);
		else
			out[o++] = *p;
	}
	out[o] = '\0';
}

static char *
subpath(const struct bspool *s, const char *sub)
{
	struct bbuf b = { 0 };

	bbuf_adds(&b, s->dir);
	bbuf_addc(&b, '/');
	bbuf_adds(&b, sub);
	return b.s;
}

struct bspool *
bspool_open(const char *dir)
{
	static const char *subs[] = { "tmp", "new", "cur" };
	struct bspool *s = b_malloc(sizeof *s);
	size_t n = strlen(dir);
	int created = 0;

	memset(s, 0, sizeof *s);
	s->newfd = s->lockfd = -1;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	s->dir = b_strndup(dir, n);
	safe_host(s->host, sizeof s->host);
	for (int i = 0; i < 3; i++) {
		char *p = subpath(s, subs[i]);
		struct stat sb;
		int rv = 0;
		if (stat(p, &sb) < 0) {
			created = 1;
			rv = mkdir_p(p);
		} else if (!S_ISDIR(sb.st_mode)) {
			errno = ENOTDIR;
			rv = -1;
		}
		free(p);
		if (rv < 0)
			goto fail;
	}
	/* New directories must survive a crash before anything in them. */
	if (created && b_fsyncdir(s->dir) < 0)
		goto fail;
	char *p = subpath(s, "new");
	s->newfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(p);
	if (s->newfd < 0)
		goto fail;
	return s;
fail:
	n = (size_t)errno;
	bspool_close(s);
	errno = (int)n;
	return NULL;
}

const char *
bspool_dir(const struct bspool *s)
{
	return s->dir;
}

int
bspool_lock(struct bspool *s, int wait)
{
	char *p = subpath(s, LOCK_NAME);
	int rv;

	if (s->lockfd < 0)
		s->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (s->lockfd < 0)
		return -1;
	do
		rv = flock(s->lockfd, LOCK_EX | (wait ? 0 : LOCK_NB));
	while (rv < 0 && errno == EINTR);
	return rv;
}

/* Files in tmp/ older than 36 hours were left by a writer that died:
 * the Maildir rules say they may go. */
int
bspool_tidy(struct bspool *s)
{
	char *p = subpath(s, "tmp");
	time_t old = time(NULL) - 36 * 3600;
	struct dirent *de;
	struct stat sb;
	int dfd, n = 0;
	DIR *d;

	d = opendir(p);
	free(p);
	if (d == NULL)
		return 0;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && sb.st_mtime < old &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

void
bspool_close(struct bspool *s)
{
	if (s == NULL)
		return;
	bspool_abort(s);
	if (s->newfd >= 0)
		close(s->newfd);
	if (s->lockfd >= 0)
		close(s->lockfd);	/* releases the lock */
	for (size_t i = 0; i < s->nst; i++) {
		free(s->st[i].key);
		free(s->st[i].val);
	}
	free(s->st);
	bbuf_free(&s->tmp);
	bbuf_free(&s->path);
	free(s->dir);
	free(s);
}

/* ---- one message ---- */

int
bspool_begin(struct bspool *s)
{
	struct timeval tv;
	char name[512];
	int fd;

	bspool_abort(s);
	for (int tries = 0; tries < 100; tries++) {
		gettimeofday(&tv, NULL);
		/* time.MusecPpidQn.host: unique per host, per Maildir rules. */
		snprintf(name, sizeof name, "%lld.M%ldP%ldQ%lu.%s",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		    ++s->count, s->host);
		bbuf_reset(&s->tmp);
		bbuf_adds(&s->tmp, s->dir);
		bbuf_adds(&s->tmp, "/tmp/");
		bbuf_adds(&s->tmp, name);
		fd = open(s->tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	if ((s->fp = fdopen(fd, "w")) == NULL) {
		int e = errno;
		close(fd);
		unlink(s->tmp.s);
		errno = e;
		return -1;
	}
	bbuf_reset(&s->path);
	bbuf_adds(&s->path, s->dir);
	bbuf_adds(&s->path, "/new/");
	bbuf_adds(&s->path, name);
	return 0;
}

int
bspool_write(struct bspool *s, const void *p, size_t n)
{
	if (s->fp == NULL) {
		errno = EBADF;
		return -1;
	}
	if (n > 0 && fwrite(p, 1, n, s->fp) != n)
		return -1;
	return 0;
}

void
bspool_defer(struct bspool *s, int on)
{
	s->defer = on;
}

int
bspool_sync(struct bspool *s)
{
	if (!s->pending)
		return 0;
	if (fsync(s->newfd) < 0)
		return -1;
	s->pending = 0;
	return 0;
}

int
bspool_commit(struct bspool *s, const char **path)
{
	FILE *fp = s->fp;
	int e;

	if (fp == NULL) {
		errno = EBADF;
		return -1;
	}
	s->fp = NULL;
	if (fflush(fp) == EOF || fsync(fileno(fp)) < 0) {
		e = errno;
		fclose(fp);
		goto fail;
	}
	if (fclose(fp) == EOF) {
		e = errno;
		goto fail;
	}
	if (rename(s->tmp.s, s->path.s) < 0) {
		e = errno;
		goto fail;
	}
	if (s->defer)
		s->pending = 1;
	else if (fsync(s->newfd) < 0)
		return -1;	/* in new/ but maybe not durable: say so */
	if (path != NULL)
		*path = s->path.s;
	return 0;
fail:
	unlink(s->tmp.s);
	errno = e;
	return -1;
}

void
bspool_abort(struct bspool *s)
{
	if (s->fp == NULL)
		return;
	fclose(s->fp);
	s->fp = NULL;
	unlink(s->tmp.s);
}

/* ---- the fetched-state ---- */

static struct bstate_ent *
state_find(struct bspool *s, const char *key)
{
	for (size_t i = 0; i < s->nst; i++)
		if (strcmp(s->st[i].key, key) == 0)
			return &s->st[i];
	return NULL;
}

const char *
bspool_state_get(struct bspool *s, const char *key)
{
	struct bstate_ent *e = state_find(s, key);

	return e ? e->val : NULL;
}

void
bspool_state_set(struct bspool *s, const char *key, const char *val)
{
	struct bstate_ent *e = state_find(s, key);

	if (e != NULL) {
		free(e->val);
		e->val = b_strdup(val);
		return;
	}
	s->st = b_realloc(s->st, (s->nst + 1) * sizeof *s->st);
	s->st[s->nst].key = b_strdup(key);
	s->st[s->nst].val = b_strdup(val);
	s->nst++;
}

int
bspool_state_load(struct bspool *s, const char **why)
{
	char *p = subpath(s, STATE_NAME), *line = NULL, *tab;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	FILE *fp;
	int rv = 0;

	*why = NULL;
	fp = fopen(p, "re");
	free(p);
	if (fp == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				*why = "not a bfetch state file";
				rv = -1;
				break;
			}
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((tab = strchr(line, '\t')) == NULL) {
			*why = "malformed line in the state file";
			rv = -1;
			break;
		}
		*tab++ = '\0';
		if (brec_unescape(line) < 0 || brec_unescape(tab) < 0) {
			*why = "malformed escape in the state file";
			rv = -1;
			break;
		}
		bspool_state_set(s, line, tab);
	}
	if (rv == 0 && ferror(fp))
		rv = -1;
	free(line);
	fclose(fp);
	return rv;
}

int
bspool_state_save(struct bspool *s)
{
	char *tmp = subpath(s, STATE_NAME ".tmp");
	char *dst = subpath(s, STATE_NAME);
	struct bbuf b = { 0 };
	FILE *fp;
	int fd, e = 0;

	bbuf_adds(&b, STATE_MAGIC "\n");
	for (size_t i = 0; i < s->nst; i++) {
		/* A key starting with '#' would read back as a comment. */
		if (s->st[i].key[0] == '#')
			bbuf_adds(&b, "\\x23");
		brec_escape(&b, s->st[i].key + (s->st[i].key[0] == '#'));
		bbuf_addc(&b, '\t');
		brec_escape(&b, s->st[i].val);
		bbuf_addc(&b, '\n');
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		e = errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (fwrite(b.s, 1, b.len, fp) != b.len || fflush(fp) == EOF ||
	    fsync(fd) < 0)
		e = errno;
	if (fclose(fp) == EOF && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, dst) < 0)
		e = errno;
	if (e == 0 && b_fsyncdir(s->dir) < 0)
		e = errno;
	if (e != 0)
		unlink(tmp);
out:
	bbuf_free(&b);
	free(tmp);
	free(dst);
	errno = e;
	return e ? -1 : 0;
}
