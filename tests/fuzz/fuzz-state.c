/*
 * fuzz-state.c - libFuzzer target: the values of a state file.
 *
 * The input is up to five values separated by 0xff bytes: the entry of
 * an address, its event records 1 to 3, and a sent-mail log entry.
 * They are stored under their keys in a state file, in place of the
 * last input's, which is then opened and read as bstate and bscore read
 * it.  Whatever the values are, every call must either work or fail
 * with an error in words.
 * When they read as valid, three things must hold:
 *   - an entry loaded, saved and loaded again gives the same summary and
 *     events (what the file says survives a rewrite);
 *   - an export line read back and written again is the same line;
 *   - a bounce applied to the address leaves an entry that loads.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tdb.h>
#include <unistd.h>

#include "bounce.h"

#define ADDR	"a@x.example"

static char path[4096];
static struct bpolicy *policy;

static void
cleanup(void)
{
	char dir[4096];

	unlink(path);
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	struct tdb_context *t;
	char tmpl[4096];

	snprintf(tmpl, sizeof tmpl, "%s/fuzz-state.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		perror("fuzz-state: mkdtemp");
		abort();
	}
	snprintf(path, sizeof path, "%s/state.tdb", tmpl);
	atexit(cleanup);
	if ((policy = bpolicy_new()) == NULL)
		abort();
	/* One file for all inputs, with a small hash table, so that each
	 * input does not pay for a new file of a million buckets. */
	t = tdb_open(path, 31, TDB_INCOMPATIBLE_HASH, O_RDWR | O_CREAT |
	    O_EXCL, 0600);
	if (t == NULL || tdb_store(t, (TDB_DATA){ (unsigned char *)
	    "bounce:format", 13 }, (TDB_DATA){ (unsigned char *)
	    "bounce-state 3", 14 }, TDB_INSERT) != 0 || tdb_close(t) != 0) {
		perror("fuzz-state: a new state file");
		abort();
	}
}

/* An error must be said. */
static void
said(struct bsdb *db)
{
	const char *e = bsdb_error(db);

	if (e == NULL || *e == '\0')
		abort();
}

/* A field that a rewrite changed: say which, and stop. */
#define SAME(what, cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-state: a rewrite changed %s\n",	\
		    what);						\
		abort();						\
	}								\
} while (0)

static void
same_event(const struct bsdb_event *x, const struct bsdb_event *y)
{
	SAME("an event's date", x->date == y->date);
	SAME("an event's class", x->cls == y->cls);
	SAME("an event's points", x->points == y->points);
	SAME("an event's flag", x->flag == y->flag);
	SAME("an event's state", x->state == y->state);
	SAME("an event's rule", strcmp(x->rule, y->rule) == 0);
	SAME("an event's status", strcmp(x->status, y->status) == 0);
	SAME("an event's smtp", strcmp(x->smtp, y->smtp) == 0);
	SAME("an event's reason", strcmp(x->reason, y->reason) == 0);
	SAME("an event's source", strcmp(x->source, y->source) == 0);
	SAME("an event's note", strcmp(x->note, y->note) == 0);
	SAME("an event's key", x->key == y->key);
}

static void
same_entry(const struct bsdb_entry *x, const struct bsdb_entry *y)
{
	const struct bsdb_addr *a = &x->a, *b = &y->a;

	SAME("the state", a->state == b->state);
	SAME("the score", a->score == b->score);
	SAME("since", a->since == b->since);
	SAME("first", a->first == b->first);
	SAME("last", a->last == b->last);
	SAME("the horizon", a->horizon == b->horizon);
	SAME("the counts", a->nevents == b->nevents &&
	    a->ncounted == b->ncounted && a->nhard == b->nhard &&
	    a->nsoft == b->nsoft && a->ncomplaint == b->ncomplaint &&
	    a->nunsub == b->nunsub);
	SAME("the status", strcmp(a->status, b->status) == 0);
	SAME("the reason", strcmp(a->reason, b->reason) == 0);
	SAME("lo and hi", a->lo == b->lo && a->hi == b->hi);
	SAME("the number of events", x->n == y->n);
	for (size_t i = 0; i < x->n; i++) {
		SAME("an event's number", x->seq[i] == y->seq[i]);
		same_event(&x->e[i], &y->e[i]);
	}
}

/* Each export line, read back and written again, is the same line. */
static int
walk_fn(void *arg, const struct bsdb_item *it)
{
	struct bbuf *b = arg, again = { 0 };
	struct bsdb_item back;
	const char *why;
	char *line;

	bbuf_reset(b);
	bsdb_format_item(b, it);
	if (b->len == 0 || b->s[b->len - 1] != '\n')
		abort();
	if ((line = strndup(b->s, b->len - 1)) == NULL)
		abort();
	if (bsdb_parse_item(line, &back, &why) < 0) {
		fprintf(stderr, "fuzz-state: export line: %s: %.*s", why,
		    (int)b->len, b->s);
		abort();
	}
	bsdb_format_item(&again, &back);
	if (again.len != b->len || memcmp(again.s, b->s, b->len) != 0)
		abort();
	bbuf_free(&again);
	free(line);
	return 0;
}

/* Everything but the file's header goes. */
static int
clear_fn(struct tdb_context *t, TDB_DATA k, TDB_DATA v, void *arg)
{
	(void)v;
	(void)arg;
	if (k.dsize == 13 && memcmp(k.dptr, "bounce:format", 13) == 0)
		return 0;
	return tdb_delete(t, k) == 0 ? 0 : -1;
}

/* Write the values under their keys, straight through TDB, in place
 * of what the last input left. */
static int
plant(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "addr:" ADDR, "event:" ADDR ":1",
	    "event:" ADDR ":2", "event:" ADDR ":3", "sent:id@x.example" };
	struct tdb_context *t;
	size_t i = 0, k = 0;

	if ((t = tdb_open(path, 0, 0, O_RDWR, 0)) == NULL)
		return -1;
	if (tdb_traverse(t, clear_fn, NULL) < 0) {
		tdb_close(t);
		return -1;
	}
	while (k < sizeof keys / sizeof keys[0] && i <= size) {
		const uint8_t *end = memchr(data + i, 0xff, size - i);
		size_t n = end != NULL ? (size_t)(end - data) - i : size - i;
		TDB_DATA key = { (unsigned char *)keys[k],
		    strlen(keys[k]) };
		TDB_DATA val = { (unsigned char *)data + i, n };

		if (n > 0 && tdb_store(t, key, val, TDB_REPLACE) != 0)
			break;
		i += n + 1;
		k++;
	}
	return tdb_close(t);
}

static void
apply(struct bsdb *db, struct barena *ar)
{
	struct bpolicy_in in = { ADDR, 1700000000, BEV_SOFT, "4.2.2", "452",
	    "mailboxfull", "fuzz", 0 };
	struct bsdb_entry x;
	struct btransition t;

	in.key = bpolicy_key(in.source, in.addr, "2023-11-14T22:13:20Z");
	if (bsdb_begin(db, 0) != 0) {
		said(db);
		return;
	}
	if (bpolicy_apply(policy, db, &in, &t, ar) < 0) {
		said(db);
		bsdb_cancel(db);
		return;
	}
	/* What was written reads back. */
	if (bsdb_load(db, ADDR, &x, 0, ar) != 1) {
		fprintf(stderr, "fuzz-state: after a bounce: %s\n",
		    bsdb_error(db));
		abort();
	}
	if (bsdb_commit(db) != 0)
		said(db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct barena ar = { 0 };
	struct bbuf line = { 0 };
	struct bsdb_entry x, y;
	struct bsdb_event ev;
	struct bsdb_addr a;
	struct bsdb *db;
	char *why = NULL, *sent;
	time_t date;
	int rv;

	if (policy == NULL)
		setup();
	if (plant(data, size) != 0)
		abort();

	if ((db = bsdb_open(path, BSDB_RDWR | BSDB_NOSYNC, &why)) == NULL) {
		/* A damaged file may be refused, but in words. */
		if (why == NULL || *why == '\0')
			abort();
		free(why);
		return 0;
	}
	if (bsdb_state(db, ADDR) < 0)
		said(db);
	if (bsdb_get(db, ADDR, &a) < 0)
		said(db);
	if (bsdb_sent_get(db, "id@x.example", &sent, &date, &ar) < 0)
		said(db);
	if (bsdb_walk(db, walk_fn, &line) < 0)
		said(db);
	for (unsigned long sq = 1; sq <= 3; sq++)
		if (bsdb_event_get(db, ADDR, sq, &ev, &ar) < 0)
			said(db);

	/* Load, save, load: the same summary and events. */
	if (bsdb_begin(db, 0) != 0)
		abort();
	if ((rv = bsdb_load(db, ADDR, &x, 0, &ar)) < 0)
		said(db);
	else if (rv == 1) {
		if (bsdb_save(db, ADDR, &x) < 0)
			said(db);
		else if (bsdb_load(db, ADDR, &y, 0, &ar) != 1)
			abort();
		else
			same_entry(&x, &y);
	}
	bsdb_cancel(db);

	apply(db, &ar);
	if (bsdb_close(db) != 0)
		abort();
	bbuf_free(&line);
	barena_free(&ar);
	return 0;
}
