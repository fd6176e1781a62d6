/*
 * bstate - ask and edit the state file: is an address mailable, why
 * not, which ones are muted; set states by hand; keep the sent-mail log;
 * expire old events; export and import; statistics.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce.h"

static const char usage_text[] =
    "usage: bstate [-h] [-d file] [-p policy] [-t date] [-w seconds] "
    "command [argument ...]\n"
    "       bstate check address ...\n"
    "       bstate filter [-m] [file ...]\n"
    "       bstate get address\n"
    "       bstate why address\n"
    "       bstate list [-s state] [-S date]\n"
    "       bstate set address state [note]\n"
    "       bstate reset address [note]\n"
    "       bstate sent [file ...]\n"
    "       bstate expire\n"
    "       bstate export\n"
    "       bstate import [file]\n"
    "       bstate stats [state | class | reason | domain | day ...]\n"
    "       bstate report [-D days] [-l count] [-n count] [-S date] "
    "[-T title]\n";

#define EX_TEMPFAIL 75
#define BATCH 10000

/* What every command may need. */
static struct {
	const char *dbarg;
	char *path;
	const char *polfile;
	struct bpolicy *pol;
	time_t now;
	unsigned wait;
	struct bsdb *db;
	struct barena ar;
	struct bbuf line;
} g;

static void
usage(FILE *fp)
{
	fputs(usage_text, fp);
}

static int
usage_error(void)
{
	usage(stderr);
	return 2;
}

static int
db_error(void)
{
	fprintf(stderr, "bstate: %s: %s\n", g.path, bsdb_error(g.db));
	return 2;
}

static int
out_error(void)
{
	fprintf(stderr, "bstate: stdout: %s\n", strerror(errno));
	return 2;
}

static int
open_db(int flags)
{
	char *why;

	if ((g.path = bsdb_path(g.dbarg, flags & BSDB_RDWR)) == NULL) {
		fprintf(stderr, "bstate: cannot find the state file: %s "
		    "(use -d or set BOUNCE_DB)\n", strerror(errno));
		return -1;
	}
	if ((g.db = bsdb_open(g.path, flags, &why)) == NULL) {
		fprintf(stderr, "bstate: %s: %s\n", g.path, why);
		free(why);
		return -1;
	}
	return 0;
}

static int
begin(void)
{
	int rv = bsdb_begin(g.db, g.wait);

	if (rv < 0) {
		db_error();
		return rv == -2 ? EX_TEMPFAIL : 2;
	}
	return 0;
}

static int
commit(void)
{
	return bsdb_commit(g.db) < 0 ? db_error() : 0;
}

/* A date argument: ISO 8601, or anything b_parsedate() reads. */
static int
parse_date(const char *s, time_t *t)
{
	if (b_isoparse(s, t) == 0 && *t != 0)
		return 0;
	return (*t = b_parsedate(s)) == -1 ? -1 : 0;
}

static const char *
norm(const char *s)
{
	return baddr_norm(&g.ar, s);
}

static const char *
need_addr(const char *s)
{
	const char *a = norm(s);

	if (a == NULL)
		fprintf(stderr, "bstate: %s: not a mail address\n", s);
	return a;
}

/* ---- check and filter ---- */

static int
cmd_check(int argc, char **argv)
{
	int muted = 0;

	if (argc < 2)
		return usage_error();
	if (open_db(BSDB_RDONLY) < 0)
		return 2;
	for (int i = 1; i < argc; i++) {
		const char *a = need_addr(argv[i]);
		int st;
		if (a == NULL)
			return 2;
		if ((st = bsdb_state(g.db, a)) < 0)
			return db_error();
		if (bstate_muted(st))
			muted = 1;
	}
	return muted;
}

/* What the line loops of filter and sent carry along. */
struct lines {
	int muted;		/* filter: print the muted addresses */
	long pending;		/* sent: writes not yet committed */
	int status;		/* 1 once a line or file was bad */
};

static void
on_file_error(void *arg, const char *what, const char *why)
{
	struct lines *l = arg;

	fprintf(stderr, "bstate: %s: %s\n", what, why);
	l->status = 1;
}

static int
filter_line(void *arg, char *line, size_t n, const char *name, long lineno)
{
	struct lines *l = arg;
	const char *a;
	int st;

	(void)n;
	if (*(line = b_trim(line)) == '\0')
		return 0;
	barena_reset(&g.ar);
	if ((a = norm(line)) == NULL) {
		fprintf(stderr, "bstate: %s:%ld: no mail address\n", name,
		    lineno);
		l->status = 1;
		return 0;
	}
	if ((st = bsdb_state(g.db, a)) < 0)
		return db_error();
	if (bstate_muted(st) != l->muted)
		return 0;
	/* The line as given, but for blanks around it, so that "Name
	 * <addr>" stays whole. */
	if (fputs(line, stdout) == EOF || putchar('\n') == EOF)
		return out_error();
	return 0;
}

static int
cmd_filter(int argc, char **argv)
{
	struct lines l = { 0 };
	int ch, rv;

	optind = 1;
	while ((ch = getopt(argc, argv, "m")) != -1) {
		if (ch != 'm')
			return usage_error();
		l.muted = 1;
	}
	argc -= optind;
	argv += optind;
	if (open_db(BSDB_RDONLY) < 0)
		return 2;
	rv = b_lineloop(argc, argv, filter_line, on_file_error, &l);
	return rv > 1 ? rv : l.status;
}

/* ---- get and why ---- */

static int
print_item(const struct bsdb_item *it)
{
	bsdb_format_item(&g.line, it);
	return fwrite(g.line.s, 1, g.line.len, stdout) == g.line.len ? 0 : -1;
}

/* Print an address line and its kept events as export lines. */
static int
export_addr(const char *addr, const struct bsdb_addr *a)
{
	struct bsdb_item it;

	memset(&it, 0, sizeof it);
	it.type = BSDB_ADDR;
	it.key = addr;
	it.a = *a;
	if (print_item(&it) < 0)
		return out_error();
	it.type = BSDB_EVENT;
	for (unsigned long s = a->lo; s < a->hi; s++) {
		struct barena ar = { 0 };
		int rv = bsdb_event_get(g.db, addr, s, &it.e, &ar);
		it.seq = s;
		if (rv > 0 && print_item(&it) < 0)
			rv = -2;
		barena_free(&ar);
		if (rv == -1)
			return db_error();
		if (rv == -2)
			return out_error();
	}
	return 0;
}

/*
 * The address that is the one argument of get and why, and its entry:
 * 0 when it has one, -1 when it has none, or the exit status of a
 * failure (said on stderr).
 */
static int
lookup(int argc, char **argv, const char **addrp, struct bsdb_addr *a)
{
	int rv;

	if (argc != 2)
		return usage_error();
	if ((*addrp = need_addr(argv[1])) == NULL)
		return 2;
	if (open_db(BSDB_RDONLY) < 0)
		return 2;
	if ((rv = bsdb_get(g.db, *addrp, a)) < 0)
		return db_error();
	return rv == 0 ? -1 : 0;
}

static int
cmd_get(int argc, char **argv)
{
	struct bsdb_addr a;
	const char *addr;
	int rv;

	if ((rv = lookup(argc, argv, &addr, &a)) != 0)
		return rv < 0 ? 1 : rv;
	return export_addr(addr, &a);
}

static void
duration(char *buf, size_t n, long secs)
{
	if (secs == 0)
		snprintf(buf, n, "off");
	else if (secs % 86400 == 0)
		snprintf(buf, n, "%ldd", secs / 86400);
	else if (secs % 3600 == 0)
		snprintf(buf, n, "%ldh", secs / 3600);
	else
		snprintf(buf, n, "%lds", secs);
}

static const char *
iso(time_t t)
{
	static char buf[4][21];
	static int i;

	i = (i + 1) % 4;
	if (t == 0)
		return "-";
	b_isotime(t, buf[i]);
	return buf[i];
}

static const char *
dash(const char *s)
{
	return s && *s ? s : "-";
}

/* The policy line that gave an event its points. */
static void
rule_text(char *buf, size_t n, const struct bsdb_event *e)
{
	const char *what = "";

	if (strcmp(e->rule, "status") == 0)
		what = e->status;
	else if (strcmp(e->rule, "reason") == 0)
		what = e->reason;
	else if (strcmp(e->rule, "smtp") == 0)
		what = e->smtp;
	else if (strcmp(e->rule, "class") == 0)
		what = bev_classname(e->cls);
	if (*e->rule == '\0')
		snprintf(buf, n, "no policy line");
	else
		snprintf(buf, n, "policy: %s %s %d", e->rule, what, e->points);
}

static void
why_event(const struct bsdb_event *e)
{
	char rule[96];

	printf("  %s  %s", iso(e->date), bev_classname(e->cls));
	if (e->cls > BEV_UNSUB) {
		printf(" -> %s", bstate_name(e->state));
		if (*e->note)
			printf(": %s", e->note);
		putchar('\n');
		return;
	}
	printf(" %s %s %s", dash(e->status), dash(e->smtp), dash(e->reason));
	rule_text(rule, sizeof rule, e);
	switch (e->flag) {
	case BEVF_COUNTED:
		if (e->cls == BEV_COMPLAINT || e->cls == BEV_UNSUB)
			printf(": acted on");
		else
			printf(": %d points, counted (%s)", e->points, rule);
		break;
	case BEVF_ZERO:
		printf(": 0 points (%s)", rule);
		break;
	case BEVF_SAMEDAY:
		printf(": %d points, not counted: a bounce with as many "
		    "points counted that day (%s)", e->points, rule);
		break;
	default:
		printf(": %d points, not counted: older than the window "
		    "(%s)", e->points, rule);
	}
	printf(" -> %s\n", bstate_name(e->state));
	if (*e->source)
		printf("      source %s\n", e->source);
}

static int
cmd_why(int argc, char **argv)
{
	const struct bpolicy *p = g.pol;
	struct bsdb_addr a;
	const char *addr;
	char win[32], rec[32];
	int rv;

	if ((rv = lookup(argc, argv, &addr, &a)) > 0)
		return rv;
	if (rv < 0) {
		printf("%s: send (mailable): no bounces recorded\n", addr);
		return fflush(stdout) == EOF ? out_error() : 1;
	}
	duration(win, sizeof win, p->window);
	duration(rec, sizeof rec, p->recover);
	printf("%s: %s (%s) since %s\n", addr, bstate_name(a.state),
	    bstate_muted(a.state) ? "muted" : "mailable", iso(a.since));
	printf("score %ld in the window; policy: threshold %ld, window %s, "
	    "softmute %ld, perday %d, recover %s\n", a.score, p->threshold,
	    win, p->softmute, p->perday, rec);
	printf("events: %lu seen (%lu hard, %lu soft, %lu complaint, "
	    "%lu unsubscribe), %lu counted, from %s to %s\n", a.nevents,
	    a.nhard, a.nsoft, a.ncomplaint, a.nunsub, a.ncounted,
	    iso(a.first), iso(a.last));
	if (a.horizon != 0)
		printf("records dated up to %s are known and ignored\n",
		    iso(a.horizon));
	printf("kept events, oldest first:\n");
	for (unsigned long s = a.lo; s < a.hi; s++) {
		struct bsdb_event e;
		struct barena ar = { 0 };
		rv = bsdb_event_get(g.db, addr, s, &e, &ar);
		if (rv > 0)
			why_event(&e);
		barena_free(&ar);
		if (rv < 0)
			return db_error();
	}
	return fflush(stdout) == EOF ? out_error() : 0;
}

/* ---- list ---- */

struct list {
	unsigned want;		/* bit per state */
	time_t since;
};

static int
list_fn(void *arg, const struct bsdb_item *it)
{
	struct list *l = arg;
	const struct bsdb_addr *a = &it->a;

	if (it->type != BSDB_ADDR || !(l->want & (1u << a->state)) ||
	    a->since < l->since)
		return 0;
	bbuf_reset(&g.line);
	brec_escape(&g.line, it->key);
	printf("%s\t%s\t%s\t%ld\t", g.line.s, bstate_name(a->state),
	    iso(a->since), a->score);
	bbuf_reset(&g.line);
	brec_escape(&g.line, a->reason);
	printf("%s\n", g.line.s);
	return ferror(stdout) ? 2 : 0;
}

static int
add_states(unsigned *want, char *arg)
{
	for (char *s = strtok(arg, ","); s != NULL; s = strtok(NULL, ",")) {
		int st = bstate_byname(s);
		if (strcmp(s, "muted") == 0 || strcmp(s, "mailable") == 0) {
			for (st = 0; st < BS_NSTATES; st++)
				if (bstate_muted(st) == (s[1] == 'u'))
					*want |= 1u << st;
			continue;
		}
		if (st < 0) {
			fprintf(stderr, "bstate: %s: not a state\n", s);
			return -1;
		}
		*want |= 1u << st;
	}
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct list l = { 0, 0 };
	int ch, rv;

	optind = 1;
	while ((ch = getopt(argc, argv, "s:S:")) != -1) {
		switch (ch) {
		case 's':
			if (add_states(&l.want, optarg) < 0)
				return 2;
			break;
		case 'S':
			if (parse_date(optarg, &l.since) < 0) {
				fprintf(stderr, "bstate: %s: not a date\n",
				    optarg);
				return 2;
			}
			break;
		default:
			return usage_error();
		}
	}
	if (optind != argc)
		return usage_error();
	if (l.want == 0)
		l.want = ~0u;
	if (open_db(BSDB_RDONLY) < 0)
		return 2;
	rv = bsdb_walk(g.db, list_fn, &l);
	if (rv == 2 || fflush(stdout) == EOF)
		return out_error();
	return rv < 0 ? db_error() : 0;
}

/* ---- set and reset ---- */

static int
cmd_set(int argc, char **argv, int reset)
{
	struct btransition t;
	const char *addr, *note = NULL;
	int st = BS_SEND, rv;

	if (reset ? (argc < 2 || argc > 3) : (argc < 3 || argc > 4))
		return usage_error();
	if ((addr = need_addr(argv[1])) == NULL)
		return 2;
	if (!reset && (st = bstate_byname(argv[2])) < 0) {
		fprintf(stderr, "bstate: %s: not a state\n", argv[2]);
		return 2;
	}
	note = argv[reset ? 2 : 3];
	if (open_db(BSDB_RDWR) < 0)
		return 2;
	if ((rv = begin()) != 0)
		return rv;
	if (reset)
		rv = bpolicy_reset(g.pol, g.db, addr, note, g.now, &t, &g.ar);
	else
		rv = bpolicy_set(g.pol, g.db, addr, st, note, g.now, &t,
		    &g.ar);
	if (rv < 0)
		return db_error();
	return commit();
}

/* ---- the sent-mail log ---- */

static int
sent_line(void *arg, char *line, size_t n, const char *name, long lineno)
{
	struct lines *l = arg;
	char *f[4], *s = line, *id;
	const char *addr;
	time_t when = g.now;
	int nf = 0, rv;

	(void)n;
	if (*line == '\0' || *line == '#')
		return 0;
	for (char *tab; nf < 4; s = tab + 1) {
		f[nf++] = s;
		if ((tab = strchr(s, '\t')) == NULL)
			break;
		*tab = '\0';
	}
	barena_reset(&g.ar);
	id = b_trim(f[0]);
	if (nf >= 2 && *id == '<' && id[strlen(id) - 1] == '>') {
		id[strlen(id) - 1] = '\0';
		id++;
	}
	if (nf < 2 || nf > 3 || *id == '\0') {
		fprintf(stderr, "bstate: %s:%ld: expected id TAB "
		    "address [TAB date]\n", name, lineno);
		l->status = 1;
		return 0;
	}
	if ((addr = norm(f[1])) == NULL ||
	    (nf == 3 && parse_date(f[2], &when) < 0)) {
		fprintf(stderr, "bstate: %s:%ld: %s\n", name, lineno,
		    addr == NULL ? "no mail address" : "not a date");
		l->status = 1;
		return 0;
	}
	if (l->pending == 0 && (rv = begin()) != 0)
		return rv;
	if (bsdb_sent_put(g.db, id, addr, when) < 0)
		return db_error();
	if (++l->pending >= BATCH) {
		l->pending = 0;
		return commit();
	}
	return 0;
}

static int
cmd_sent(int argc, char **argv)
{
	struct lines l = { 0 };
	int rv;

	if (open_db(BSDB_RDWR) < 0)
		return 2;
	rv = b_lineloop(argc - 1, argv + 1, sent_line, on_file_error, &l);
	if (rv > 1)
		return rv;
	if (l.pending > 0 && (rv = commit()) != 0)
		return rv;
	return l.status;
}

/* ---- expire ---- */

struct strlist {
	char **v;
	size_t n, cap;
};

static void
strlist_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = b_realloc(l->v, l->cap * sizeof l->v[0]);
	}
	l->v[l->n++] = b_strdup(s);
}

static void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

struct expire {
	struct strlist addrs, sent;
	time_t cutoff;
};

/* Collect what may change, without holding the write lock. */
static int
expire_fn(void *arg, const struct bsdb_item *it)
{
	struct expire *x = arg;

	if (it->type == BSDB_ADDR && (it->a.hi > it->a.lo ||
	    it->a.state == BS_COUNTING || it->a.state == BS_UNREACHABLE))
		strlist_add(&x->addrs, it->key);
	else if (it->type == BSDB_SENT && it->date <= x->cutoff)
		strlist_add(&x->sent, it->key);
	return 0;
}

static int
cmd_expire(int argc, char **argv)
{
	struct expire x;
	struct btransition t;
	struct bbuf out = { 0 };
	int rv = 0;
	(void)argv;

	if (argc != 1)
		return usage_error();
	if (open_db(BSDB_RDWR) < 0)
		return 2;
	memset(&x, 0, sizeof x);
	x.cutoff = g.now - g.pol->window;
	if (bsdb_walk(g.db, expire_fn, &x) < 0)
		return db_error();
	/* Each address and sent entry is read again inside the
	 * transaction, so changes made meanwhile are not lost.  The
	 * transition lines of a batch are printed once it is committed. */
	for (size_t i = 0; i < x.addrs.n && rv == 0; i++) {
		int r;
		if (i % BATCH == 0 && (rv = begin()) != 0)
			break;
		barena_reset(&g.ar);
		r = bpolicy_expire(g.pol, g.db, x.addrs.v[i], g.now, &t,
		    &g.ar);
		if (r < 0)
			rv = db_error();
		else if (r == BAPPLY_CHANGED) {
			btransition_format(&g.line, &t);
			bbuf_add(&out, g.line.s, g.line.len);
		}
		if (rv != 0 || (i % BATCH != BATCH - 1 && i + 1 != x.addrs.n))
			continue;
		if ((rv = commit()) == 0 && out.len > 0 &&
		    fwrite(out.s, 1, out.len, stdout) != out.len)
			rv = out_error();
		bbuf_reset(&out);
	}
	for (size_t i = 0; i < x.sent.n && rv == 0; i++) {
		char *addr;
		time_t when;
		int r;
		if (i % BATCH == 0 && (rv = begin()) != 0)
			break;
		barena_reset(&g.ar);
		r = bsdb_sent_get(g.db, x.sent.v[i], &addr, &when, &g.ar);
		if (r < 0 || (r > 0 && when <= x.cutoff &&
		    bsdb_sent_del(g.db, x.sent.v[i]) < 0))
			rv = db_error();
		if (rv == 0 && (i % BATCH == BATCH - 1 || i + 1 == x.sent.n))
			rv = commit();
	}
	if (rv != 0)
		bsdb_cancel(g.db);
	strlist_free(&x.addrs);
	strlist_free(&x.sent);
	bbuf_free(&out);
	if (rv == 0 && fflush(stdout) == EOF)
		rv = out_error();
	return rv;
}

/* ---- export and import ---- */

static int
export_fn(void *arg, const struct bsdb_item *it)
{
	(void)arg;
	if (it->type == BSDB_ADDR)
		return export_addr(it->key, &it->a) ? 2 : 0;
	if (it->type == BSDB_SENT && print_item(it) < 0)
		return out_error();
	return 0;
}

static int
cmd_export(int argc, char **argv)
{
	int rv;
	(void)argv;

	if (argc != 1)
		return usage_error();
	if (open_db(BSDB_RDONLY) < 0)
		return 2;
	if (puts(BSDB_EXPORT_HEADER) == EOF)
		return out_error();
	if ((rv = bsdb_walk(g.db, export_fn, NULL)) < 0)
		return db_error();
	if (rv == 0 && fflush(stdout) == EOF)
		return out_error();
	return rv;
}

static int
cmd_import(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "-";
	FILE *fp = stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0, pending = 0;
	int rv = 0;
	/* The address of the last addr line, and its events' numbers:
	 * an event line belongs to it. */
	struct bbuf cur = { 0 };
	unsigned long lo = 0, hi = 0;

	if (argc > 2)
		return usage_error();
	if (strcmp(name, "-") != 0 && (fp = fopen(name, "r")) == NULL) {
		fprintf(stderr, "bstate: %s: %s\n", name, strerror(errno));
		return 2;
	}
	/* A new file is made whole or not at all. */
	if (open_db(BSDB_RDWR | BSDB_STAGE) < 0)
		rv = 2;
	else if ((rv = bsdb_used(g.db)) < 0)
		rv = db_error();
	else if (rv > 0) {
		fprintf(stderr, "bstate: %s: not empty: import needs a new "
		    "state file\n", g.path);
		rv = 2;
	}
	while (rv == 0 && (n = getline(&line, &cap, fp)) != -1) {
		struct bsdb_item it;
		const char *why;

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, BSDB_EXPORT_HEADER) != 0) {
				fprintf(stderr, "bstate: %s:1: not a bstate "
				    "export (no '%s' line)\n", name,
				    BSDB_EXPORT_HEADER);
				rv = 2;
			}
			continue;
		}
		if (bsdb_parse_item(line, &it, &why) == 0 &&
		    it.type == BSDB_ADDR) {
			bbuf_reset(&cur);
			bbuf_adds(&cur, it.key);
			lo = it.a.lo;
			hi = it.a.hi;
		} else if (why == NULL && it.type == BSDB_EVENT) {
			if (cur.s == NULL || strcmp(cur.s, it.key) != 0)
				why = "event line not after its address's "
				    "addr line";
			else if (it.seq < lo || it.seq >= hi)
				why = "event number outside its address's "
				    "events";
		}
		if (why != NULL) {
			fprintf(stderr, "bstate: %s:%ld: %s\n", name, lineno,
			    why);
			rv = 2;
			break;
		}
		if (pending == 0 && (rv = begin()) != 0)
			break;
		if (bsdb_put_item(g.db, &it) < 0) {
			rv = db_error();
			break;
		}
		if (++pending >= BATCH) {
			pending = 0;
			rv = commit();
		}
	}
	if (rv == 0 && ferror(fp)) {
		fprintf(stderr, "bstate: %s: %s\n", name, strerror(errno));
		rv = 2;
	}
	if (rv == 0 && lineno == 0) {
		fprintf(stderr, "bstate: %s: empty input\n", name);
		rv = 2;
	}
	if (rv == 0 && pending > 0)
		rv = commit();
	else if (rv != 0 && g.db != NULL)
		bsdb_cancel(g.db);
	if (rv == 0 && bsdb_publish(g.db) < 0)
		rv = db_error();
	free(line);
	bbuf_free(&cur);
	if (fp != stdin)
		fclose(fp);
	return rv;
}

/* ---- stats ---- */

/* A small counting table: string -> count. */
struct counts {
	struct cnt { char *s; unsigned long n; } *v;
	size_t n, cap;
};

static void
count(struct counts *c, const char *s)
{
	size_t i;

	if (c->n * 2 >= c->cap) {
		struct counts old = *c;
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = b_malloc(c->cap * sizeof c->v[0]);
		memset(c->v, 0, c->cap * sizeof c->v[0]);
		c->n = 0;
		for (size_t j = 0; j < old.cap; j++) {
			if (old.v[j].s == NULL)
				continue;
			for (i = b_strhash(old.v[j].s) & (c->cap - 1);
			    c->v[i].s != NULL; i = (i + 1) & (c->cap - 1))
				;
			c->v[i] = old.v[j];
			c->n++;
		}
		free(old.v);
	}
	for (i = b_strhash(s) & (c->cap - 1); c->v[i].s != NULL;
	    i = (i + 1) & (c->cap - 1))
		if (strcmp(c->v[i].s, s) == 0) {
			c->v[i].n++;
			return;
		}
	c->v[i].s = b_strdup(s);
	c->v[i].n = 1;
	c->n++;
}

static int
cnt_cmp(const void *a, const void *b)
{
	const struct cnt *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->s, y->s);
}

enum { ST_STATE, ST_CLASS, ST_REASON, ST_DOMAIN, ST_DAY, ST_N };
static const char *const stat_names[ST_N] = {
	"state", "class", "reason", "domain", "day",
};

static int
stats_fn(void *arg, const struct bsdb_item *it)
{
	struct counts *c = arg;
	char day[21];

	if (it->type == BSDB_ADDR) {
		const char *at = strrchr(it->key, '@');
		count(&c[ST_STATE], bstate_name(it->a.state));
		count(&c[ST_DOMAIN], at ? at + 1 : it->key);
	} else if (it->type == BSDB_EVENT) {
		count(&c[ST_CLASS], bev_classname(it->e.cls));
		if (it->e.cls <= BEV_UNSUB)
			count(&c[ST_REASON], it->e.reason);
		b_isotime(it->e.date, day);
		day[10] = '\0';
		count(&c[ST_DAY], day);
	}
	return 0;
}

static int
cmd_stats(int argc, char **argv)
{
	struct counts c[ST_N];
	int want[ST_N] = { 0 }, any = 0;

	for (int i = 1; i < argc; i++) {
		int k;
		for (k = 0; k < ST_N; k++)
			if (strcmp(argv[i], stat_names[k]) == 0)
				break;
		if (k == ST_N) {
			fprintf(stderr, "bstate: stats: %s: not one of state, "
			    "class, reason, domain, day\n", argv[i]);
			return 2;
		}
		want[k] = any = 1;
	}
	if (open_db(BSDB_RDONLY) < 0)
		return 2;
	memset(c, 0, sizeof c);
	if (bsdb_walk(g.db, stats_fn, c) < 0)
		return db_error();
	for (int k = 0; k < ST_N; k++) {
		size_t m = 0;
		for (size_t i = 0; i < c[k].cap; i++)
			if (c[k].v[i].s != NULL)
				c[k].v[m++] = c[k].v[i];
		/* Days read best in order; the rest by count. */
		if (k == ST_DAY)
			for (size_t i = 1; i < m; i++)
				for (size_t j = i; j > 0 &&
				    strcmp(c[k].v[j - 1].s, c[k].v[j].s) > 0;
				    j--) {
					struct cnt tmp = c[k].v[j];
					c[k].v[j] = c[k].v[j - 1];
					c[k].v[j - 1] = tmp;
				}
		else
			qsort(c[k].v, m, sizeof c[k].v[0], cnt_cmp);
		for (size_t i = 0; i < m; i++) {
			if (!any || want[k]) {
				bbuf_reset(&g.line);
				brec_escape(&g.line, c[k].v[i].s);
				printf("%s\t%s\t%lu\n", stat_names[k],
				    g.line.s, c[k].v[i].n);
			}
			free(c[k].v[i].s);
		}
		free(c[k].v);
	}
	return fflush(stdout) == EOF || ferror(stdout) ? out_error() : 0;
}

/* ---- report ---- */

static int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, 'D' },
		{ "latest", required_argument, NULL, 'l' },
		{ "top", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 'S' },
		{ "title", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct breport_opt o = { .now = g.now, .top = 10, .latest = 20 };
	struct breport *r;
	struct bbuf page = { 0 };
	long long days = 0;
	const char *e = NULL;
	int ch, rv = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "D:l:n:S:T:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'D':
			days = b_strtonum(optarg, 1, 100000, &e);
			break;
		case 'l':
			o.latest = (int)b_strtonum(optarg, 0, 10000, &e);
			break;
		case 'n':
			o.top = (int)b_strtonum(optarg, 1, 1000, &e);
			break;
		case 'S':
			if (parse_date(optarg, &o.from) < 0)
				e = "not a date";
			break;
		case 'T':
			o.title = optarg;
			break;
		default:
			return usage_error();
		}
		if (e != NULL) {
			fprintf(stderr, "bstate: report: -%c %s: %s\n", ch,
			    optarg, e);
			return 2;
		}
	}
	if (optind != argc)
		return usage_error();
	/* -D alone: the days up to today; with -S, the days from then. */
	if (days > 0 && o.from != 0)
		o.until = o.from + (time_t)days * 86400 - 1;
	else if (days > 0) {
		o.until = g.now - g.now % 86400 + 86399;
		o.from = o.until + 1 - (time_t)days * 86400;
	}
	if (open_db(BSDB_RDONLY) < 0)
		return 2;
	o.file = g.path;
	o.pol = g.pol;
	r = breport_new(&o);
	if (breport_read(r, g.db) < 0)
		rv = db_error();
	else {
		breport_html(r, &page);
		if (fwrite(page.s, 1, page.len, stdout) != page.len ||
		    fflush(stdout) == EOF)
			rv = out_error();
	}
	breport_free(r);
	bbuf_free(&page);
	return rv;
}

/* ---- main ---- */

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "policy", required_argument, NULL, 'p' },
		{ "now", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *e, *cmd;
	long lineno;
	int ch, rv;

	g.now = time(NULL);
	while ((ch = getopt_long(argc, argv, "+d:p:t:w:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			g.dbarg = optarg;
			break;
		case 'p':
			g.polfile = optarg;
			break;
		case 't':
			if (parse_date(optarg, &g.now) < 0) {
				fprintf(stderr, "bstate: -t %s: not a date\n",
				    optarg);
				return 2;
			}
			break;
		case 'w':
			g.wait = (unsigned)b_strtonum(optarg, 1, 86400, &e);
			if (e != NULL) {
				fprintf(stderr, "bstate: -w %s: %s\n", optarg,
				    e);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage_error();

	g.pol = bpolicy_new();
	if (g.polfile != NULL &&
	    bpolicy_load(g.pol, g.polfile, &lineno, &e) < 0) {
		if (lineno > 0)
			fprintf(stderr, "bstate: %s:%ld: %s\n", g.polfile,
			    lineno, e);
		else
			fprintf(stderr, "bstate: %s: %s\n", g.polfile, e);
		bpolicy_free(g.pol);
		return 2;
	}
	cmd = argv[0];
	if (strcmp(cmd, "check") == 0)
		rv = cmd_check(argc, argv);
	else if (strcmp(cmd, "filter") == 0)
		rv = cmd_filter(argc, argv);
	else if (strcmp(cmd, "get") == 0)
		rv = cmd_get(argc, argv);
	else if (strcmp(cmd, "why") == 0)
		rv = cmd_why(argc, argv);
	else if (strcmp(cmd, "list") == 0)
		rv = cmd_list(argc, argv);
	else if (strcmp(cmd, "set") == 0)
		rv = cmd_set(argc, argv, 0);
	else if (strcmp(cmd, "reset") == 0)
		rv = cmd_set(argc, argv, 1);
	else if (strcmp(cmd, "sent") == 0)
		rv = cmd_sent(argc, argv);
	else if (strcmp(cmd, "expire") == 0)
		rv = cmd_expire(argc, argv);
	else if (strcmp(cmd, "export") == 0)
		rv = cmd_export(argc, argv);
	else if (strcmp(cmd, "import") == 0)
		rv = cmd_import(argc, argv);
	else if (strcmp(cmd, "stats") == 0)
		rv = cmd_stats(argc, argv);
	else if (strcmp(cmd, "report") == 0)
		rv = cmd_report(argc, argv);
	else {
		fprintf(stderr, "bstate: %s: unknown command\n", cmd);
		rv = usage_error();
	}
	if (g.db != NULL && bsdb_close(g.db) < 0 && rv == 0) {
		fprintf(stderr, "bstate: %s: closing failed\n", g.path);
		rv = 2;
	}
	if (rv != 2 && (fflush(stdout) == EOF || ferror(stdout)))
		rv = out_error();
	bpolicy_free(g.pol);
	barena_free(&g.ar);
	bbuf_free(&g.line);
	free(g.path);
	return rv;
}
