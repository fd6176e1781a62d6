/*
 * policy.c - what bounces mean: the scores, the limits, the state
 * machine, and applying events to the state file.  bounce-state(5)
 * describes the policy file and the rules.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

enum { R_STATUS, R_REASON, R_SMTP, R_CLASS, R_NKINDS };
static const char *const kind_names[R_NKINDS] = {
	"status", "reason", "smtp", "class",
};

struct bpolicy_rule {
	int kind;
	char name[32];
	int points;
};

/*
 * The compiled-in scores follow the Drupal Bounce module: a mailbox or
 * domain that does not exist scores the whole threshold at once, a full
 * mailbox half of it, greylisting and other refusals that say nothing
 * about the address nothing.  The first rule that matches decides, in
 * the order status, reason, smtp, class; generic codes (X.0.0) are not
 * listed, so the reason speaks for them.
 */
static const struct { int kind; const char *name; int points; }
defaults[] = {
	{ R_STATUS, "5.1.1", 50 },	/* bad destination mailbox */
	{ R_STATUS, "5.1.2", 50 },	/* bad destination system */
	{ R_STATUS, "5.1.3", 50 },	/* bad mailbox address syntax */
	{ R_STATUS, "5.1.4", 25 },	/* ambiguous mailbox */
	{ R_STATUS, "5.1.6", 50 },	/* mailbox has moved */
	{ R_STATUS, "5.1.10", 50 },	/* null MX */
	{ R_STATUS, "5.2.1", 50 },	/* mailbox disabled */
	{ R_STATUS, "5.2.2", 25 },	/* mailbox full */
	{ R_STATUS, "5.2.3", 0 },	/* message too long */
	{ R_STATUS, "5.3.4", 0 },	/* message too big */
	{ R_STATUS, "5.4.4", 50 },	/* unable to route */
	{ R_STATUS, "5.4.6", 10 },	/* routing loop */
	{ R_STATUS, "5.4.7", 10 },	/* delivery time expired */
	{ R_STATUS, "5.7.1", 10 },	/* delivery not authorised */
	{ R_STATUS, "4.2.1", 10 },	/* mailbox disabled for now */
	{ R_STATUS, "4.2.2", 25 },	/* mailbox full */
	{ R_STATUS, "4.4.7", 10 },	/* delivery time expired */
	{ R_STATUS, "4.7.1", 0 },	/* greylisting, policy */
	{ R_REASON, "userunknown", 50 },
	{ R_REASON, "hostunknown", 50 },
	{ R_REASON, "hasmoved", 50 },
	{ R_REASON, "notaccept", 50 },
	{ R_REASON, "suppressed", 50 },
	{ R_REASON, "suspend", 25 },
	{ R_REASON, "mailboxfull", 25 },
	{ R_REASON, "filtered", 25 },
	{ R_REASON, "rejected", 10 },
	{ R_REASON, "systemfull", 10 },
	{ R_REASON, "systemerror", 10 },
	{ R_REASON, "mailererror", 10 },
	{ R_REASON, "networkerror", 10 },
	{ R_REASON, "expired", 10 },
	{ R_REASON, "norelaying", 10 },
	{ R_REASON, "undefined", 10 },
	{ R_REASON, "greylisting", 0 },
	{ R_REASON, "blocked", 0 },
	{ R_REASON, "spamdetected", 0 },
	{ R_REASON, "virusdetected", 0 },
	{ R_REASON, "contenterror", 0 },
	{ R_REASON, "policyviolation", 0 },
	{ R_REASON, "securityerror", 0 },
	{ R_REASON, "mesgtoobig", 0 },
	{ R_REASON, "exceedlimit", 0 },
	{ R_REASON, "speeding", 0 },
	{ R_REASON, "toomanyconn", 0 },
	{ R_REASON, "syntaxerror", 0 },
	{ R_REASON, "requireptr", 0 },
	{ R_REASON, "badreputation", 0 },
	{ R_REASON, "authfailure", 0 },
	{ R_REASON, "notcompliantrfc", 0 },
	{ R_REASON, "failedstarttls", 0 },
	{ R_SMTP, "421", 0 },
	{ R_SMTP, "450", 0 },
	{ R_SMTP, "451", 0 },
	{ R_SMTP, "452", 10 },
	{ R_SMTP, "550", 50 },
	{ R_SMTP, "551", 50 },
	{ R_SMTP, "552", 25 },
	{ R_SMTP, "553", 50 },
	{ R_SMTP, "554", 10 },
	{ R_CLASS, "hard", 50 },
	{ R_CLASS, "soft", 10 },
	{ R_CLASS, "complaint", 0 },
	{ R_CLASS, "unsubscribe", 0 },
};

#define DAY 86400L

static struct bpolicy_rule *
find_rule(const struct bpolicy *p, int kind, const char *name)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].kind == kind &&
		    strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	return NULL;
}

static void
set_rule(struct bpolicy *p, int kind, const char *name, int points)
{
	struct bpolicy_rule *r = find_rule(p, kind, name);

	if (r == NULL) {
		if (p->nrules == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 64;
			p->rules = b_realloc(p->rules,
			    p->cap * sizeof p->rules[0]);
		}
		r = &p->rules[p->nrules++];
		r->kind = kind;
		b_strlcpy(r->name, name, sizeof r->name);
	}
	r->points = points;
}

struct bpolicy *
bpolicy_new(void)
{
	struct bpolicy *p = b_malloc(sizeof *p);

	memset(p, 0, sizeof *p);
	p->threshold = 50;
	p->window = 100 * DAY;
	p->softmute = 5;
	p->perday = 1;
	p->recover = 0;
	p->keep = 32;
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		set_rule(p, defaults[i].kind, defaults[i].name,
		    defaults[i].points);
	return p;
}

void
bpolicy_free(struct bpolicy *p)
{
	if (p == NULL)
		return;
	free(p->rules);
	free(p);
}

/* ---- the policy file ---- */

/* "100d", "12h", "30m", "45s", "2w"; a bare number is days. */
static int
parse_duration(const char *s, long *v)
{
	char num[24];
	size_t n = strlen(s);
	long mult = DAY;
	const char *e;
	long long x;

	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = DAY; break;
	case 'w': mult = 7 * DAY; break;
	default:
		n++;
	}
	num[n - 1] = '\0';
	x = b_strtonum(num, 0, 100000L * 365 * DAY / mult, &e);
	if (e != NULL)
		return -1;
	*v = (long)(x * mult);
	return 0;
}

static int
valid_status(const char *s)
{
	char canon[12];

	return bstatus_parse(s, canon) && strcmp(canon, s) == 0;
}

static int
valid_smtp(const char *s)
{
	return strlen(s) == 3 && s[0] >= '2' && s[0] <= '5' &&
	    s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

static int
valid_word(const char *s)
{
	if (*s == '\0' || strlen(s) >= sizeof ((struct bpolicy_rule *)0)->name)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* One line of a policy file, split into words; NULL or why. */
static const char *
policy_line(struct bpolicy *p, char **w, int n)
{
	const char *e;
	long long v;
	int kind;

	if (strcmp(w[0], "defaults") == 0) {
		if (n != 2 || strcmp(w[1], "none") != 0)
			return "usage: defaults none";
		p->nrules = 0;
		return NULL;
	}
	for (kind = 0; kind < R_NKINDS; kind++)
		if (strcmp(w[0], kind_names[kind]) == 0)
			break;
	if (kind < R_NKINDS) {
		if (n != 3)
			return "usage: status|reason|smtp|class NAME POINTS";
		if (kind == R_STATUS && !valid_status(w[1]))
			return "not an enhanced status code (like 5.1.1)";
		if (kind == R_SMTP && !valid_smtp(w[1]))
			return "not an SMTP reply code (like 550)";
		if (kind == R_CLASS && (bev_classbyname(w[1]) < 0 ||
		    bev_classbyname(w[1]) > BEV_UNSUB))
			return "not a class (hard, soft, complaint, "
			    "unsubscribe)";
		if (kind == R_REASON && !valid_word(w[1]))
			return "not a reason name";
		v = b_strtonum(w[2], 0, 1000000, &e);
		if (e != NULL)
			return "points must be a number from 0 to 1000000";
		set_rule(p, kind, w[1], (int)v);
		return NULL;
	}
	if (n != 2)
		return "expected a keyword and one value";
	if (strcmp(w[0], "window") == 0 || strcmp(w[0], "recover") == 0) {
		long d;
		if (parse_duration(w[1], &d) < 0)
			return "not a duration (like 100d, 12h, 30m)";
		if (w[0][0] == 'w' && d == 0)
			return "the window cannot be empty";
		*(w[0][0] == 'w' ? &p->window : &p->recover) = d;
		return NULL;
	}
	if (strcmp(w[0], "threshold") == 0) {
		v = b_strtonum(w[1], 1, 1000000000, &e);
		p->threshold = (long)v;
	} else if (strcmp(w[0], "softmute") == 0) {
		v = b_strtonum(w[1], 0, 1000000, &e);
		p->softmute = (long)v;
	} else if (strcmp(w[0], "perday") == 0) {
		v = b_strtonum(w[1], 0, 1, &e);
		p->perday = (int)v;
	} else if (strcmp(w[0], "keep") == 0) {
		v = b_strtonum(w[1], 1, BPOLICY_KEEP_MAX, &e);
		p->keep = (long)v;
	} else
		return "unknown keyword";
	if (e != NULL)
		return strcmp(w[0], "perday") == 0 ? "perday is 0 or 1" :
		    strcmp(w[0], "keep") == 0 ? "keep is from 1 to 10000" :
		    "not a number in range";
	return NULL;
}

int
bpolicy_load(struct bpolicy *p, const char *path, long *lineno,
    const char **why)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	int rv = 0;

	*lineno = 0;
	if ((fp = fopen(path, "r")) == NULL) {
		*why = strerror(errno);
		return -1;
	}
	while (getline(&line, &cap, fp) != -1) {
		char *w[8], *s;
		int n = 0;

		++*lineno;
		if ((s = strchr(line, '#')) != NULL)
			*s = '\0';
		for (s = strtok(line, " \t\r\n"); s != NULL;
		    s = strtok(NULL, " \t\r\n"))
			if (n < 8)
				w[n++] = s;
		if (n == 0)
			continue;
		if ((*why = policy_line(p, w, n)) != NULL) {
			rv = -1;
			break;
		}
	}
	if (rv == 0 && ferror(fp)) {
		*why = strerror(errno);
		*lineno = 0;
		rv = -1;
	}
	free(line);
	fclose(fp);
	return rv;
}

static void
put_duration(FILE *fp, const char *name, long d)
{
	if (d % DAY == 0)
		fprintf(fp, "%s %ldd\n", name, d / DAY);
	else if (d % 3600 == 0)
		fprintf(fp, "%s %ldh\n", name, d / 3600);
	else if (d % 60 == 0)
		fprintf(fp, "%s %ldm\n", name, d / 60);
	else
		fprintf(fp, "%s %lds\n", name, d);
}

int
bpolicy_write(const struct bpolicy *p, FILE *fp)
{
	fprintf(fp, "threshold %ld\n", p->threshold);
	put_duration(fp, "window", p->window);
	fprintf(fp, "softmute %ld\n", p->softmute);
	fprintf(fp, "perday %d\n", p->perday);
	put_duration(fp, "recover", p->recover);
	fprintf(fp, "keep %ld\n", p->keep);
	fprintf(fp, "defaults none\n");
	for (int k = 0; k < R_NKINDS; k++)
		for (size_t i = 0; i < p->nrules; i++)
			if (p->rules[i].kind == k)
				fprintf(fp, "%s %s %d\n", kind_names[k],
				    p->rules[i].name, p->rules[i].points);
	return ferror(fp) ? -1 : 0;
}

int
bpolicy_points(const struct bpolicy *p, int cls, const char *status,
    const char *smtp, const char *reason, const char **rule)
{
	const char *names[R_NKINDS] = { status, reason, smtp,
	    bev_classname(cls) };
	struct bpolicy_rule *r;

	for (int k = 0; k < R_NKINDS; k++) {
		if (names[k] == NULL || *names[k] == '\0')
			continue;
		if ((r = find_rule(p, k, names[k])) != NULL) {
			struct bpolicy_rule *rr;
			/* Hard evidence (the classifier says the address
			 * itself is dead) is worth at least what its reason
			 * is: "550 5.7.1 ... Recipient address rejected" is
			 * an unknown user, whatever 5.7.1 scores alone. */
			if (cls == BEV_HARD && k < R_REASON && reason != NULL &&
			    (rr = find_rule(p, R_REASON, reason)) != NULL &&
			    rr->points > r->points) {
				*rule = kind_names[R_REASON];
				return rr->points;
			}
			*rule = kind_names[k];
			return r->points;
		}
	}
	*rule = "";
	return 0;
}

/* ---- applying events ---- */

unsigned long long
bpolicy_key(const char *source, const char *addr, const char *date)
{
	const char *parts[3] = { source, addr, date };
	unsigned long long h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *s = (const unsigned char *)
		    (parts[i] ? parts[i] : ""); *s; s++) {
			h ^= *s;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff;	/* a separator no UTF-8 text contains */
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * An address's summary and kept events (oldest number first) are read
 * and written at once: the changes below are made in memory, and
 * bsdb_save() writes them, usually as one record rewritten in place.
 */
static int
load(struct bsdb *db, const char *addr, struct bsdb_addr *a,
    struct bsdb_entry *l, size_t extra, struct barena *ar)
{
	int rv = bsdb_load(db, addr, l, extra, ar);

	*a = l->a;
	return rv;
}

static int
save(struct bsdb *db, const char *addr, const struct bsdb_addr *a,
    struct bsdb_entry *l)
{
	l->a = *a;
	return bsdb_save(db, addr, l);
}

static int
is_bounce(int cls)
{
	return cls == BEV_HARD || cls == BEV_SOFT;
}

/*
 * A manual change or a recovery judged the bounces that came before it
 * (in the order they arrived): those no longer count.  The index in l
 * of the newest such event, or -1.
 */
static ssize_t
barrier(const struct bsdb_entry *l)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->e[i].cls > BEV_UNSUB)
			return (ssize_t)i;
	return -1;
}

/* Does counted bounce e, at index i of l, still count at ref? */
static int
in_window(const struct bpolicy *p, const struct bsdb_event *e, ssize_t i,
    time_t ref, ssize_t bar)
{
	return e->flag == BEVF_COUNTED && is_bounce(e->cls) && i > bar &&
	    e->date > ref - p->window && e->date <= ref;
}

/* Score and counted soft bounces within the window ending at ref. */
static void
window_stats(const struct bpolicy *p, const struct bsdb_entry *l, time_t ref,
    long *score, long *softs)
{
	ssize_t bar = barrier(l);

	*score = *softs = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct bsdb_event *e = &l->e[i];
		if (!in_window(p, e, (ssize_t)i, ref, bar))
			continue;
		*score += e->points;
		if (e->cls == BEV_SOFT)
			(*softs)++;
	}
}

static time_t
utc_day(time_t t)
{
	return t >= 0 ? t / DAY : (t - DAY + 1) / DAY;
}

/*
 * Whether the new event e counts, with the window ending at ref.  A
 * bounce older than the window, or one that a manual change or a
 * recovery judged, counts for nothing.  With perday, the one bounce of
 * a day that counts is the one with the most points among those still
 * in the window: a later, stronger bounce takes the place of a weaker
 * one, which is marked sameday and rewritten (*demoted says which).
 */
static int
count_flag(const struct bpolicy *p, const struct bsdb_entry *l,
    const struct bsdb_event *e, time_t ref, ssize_t *demoted)
{
	ssize_t bar = barrier(l);

	*demoted = -1;
	if (!is_bounce(e->cls))
		return BEVF_COUNTED;
	if (e->points == 0)
		return BEVF_ZERO;
	if (e->date <= ref - p->window || e->date > ref)
		return BEVF_NONE;
	if (!p->perday)
		return BEVF_COUNTED;
	for (ssize_t i = bar + 1; i < (ssize_t)l->n; i++) {
		const struct bsdb_event *o = &l->e[i];
		if (!in_window(p, o, i, ref, bar) ||
		    utc_day(o->date) != utc_day(e->date))
			continue;
		if (o->points >= e->points)
			return BEVF_SAMEDAY;
		*demoted = (ssize_t)i;
		return BEVF_COUNTED;
	}
	return BEVF_COUNTED;
}

/* The state after an event, from the state before it (see bounce-state(5)). */
static int
next_state(const struct bpolicy *p, int base, const struct bsdb_event *e,
    long score, long softs)
{
	switch (base) {
	case BS_ONHOLD:
	case BS_PERSISTENT:
	case BS_COMPLAINED:
		return base;
	case BS_UNSUBSCRIBED:
		return e->cls == BEV_COMPLAINT ? BS_COMPLAINED : base;
	}
	if (e->cls == BEV_COMPLAINT)
		return BS_COMPLAINED;
	if (e->cls == BEV_UNSUB)
		return BS_UNSUBSCRIBED;
	if (base == BS_INVALID)
		return base;
	if (e->flag != BEVF_COUNTED)
		return base == BS_COUNTING && score == 0 ? BS_SEND : base;
	if (score >= p->threshold)
		return e->cls == BEV_HARD ? BS_INVALID : BS_UNREACHABLE;
	if (e->cls == BEV_SOFT && p->softmute > 0 && softs >= p->softmute)
		return BS_UNREACHABLE;
	if (base == BS_UNREACHABLE)
		return base;
	return score > 0 ? BS_COUNTING : base;
}

/* Drop the oldest events beyond the limit; bounces dropped move the
 * horizon, so that reading them again changes nothing. */
static void
trim(struct bsdb_addr *a, struct bsdb_entry *l, unsigned long keep)
{
	while (a->hi - a->lo > keep) {
		if (l->n > 0 && l->seq[0] == a->lo) {
			const struct bsdb_event *o = &l->e[0];
			if (o->cls <= BEV_UNSUB && o->date > a->horizon)
				a->horizon = o->date;
			l->n--;
			memmove(l->e, l->e + 1, l->n * sizeof l->e[0]);
			memmove(l->seq, l->seq + 1, l->n * sizeof l->seq[0]);
			memmove(l->dirty, l->dirty + 1, l->n);
		}
		a->lo++;
	}
}

static void
fill_transition(struct btransition *t, const char *addr, time_t date,
    int from, int to, long score, const char *reason, const char *source,
    struct barena *ar)
{
	t->date = date;
	t->addr = barena_strdup(ar, addr);
	t->from = from;
	t->to = to;
	t->score = score;
	t->reason = barena_strdup(ar, reason ? reason : "");
	t->source = barena_strdup(ar, source ? source : "");
}

/* Append event e as number a->hi and update the counts. */
static void
add_event(struct bsdb_addr *a, struct bsdb_entry *l,
    const struct bsdb_event *e)
{
	l->e[l->n] = *e;
	l->dirty[l->n] = 1;
	l->seq[l->n++] = a->hi;
	a->hi++;
	a->nevents++;
}

/* Add a manual or policy event that sets the state. */
static void
own_event(const struct bpolicy *p, const char *addr, struct bsdb_addr *a,
    struct bsdb_entry *l, int cls, int state, const char *note, time_t now)
{
	struct bsdb_event e;

	memset(&e, 0, sizeof e);
	e.date = now;
	e.cls = cls;
	e.state = state;
	e.source = "";
	e.note = note ? note : "";
	e.key = bpolicy_key("", addr, "");
	add_event(a, l, &e);
	a->state = state;
	trim(a, l, (unsigned long)p->keep);
}

int
bpolicy_apply(const struct bpolicy *p, struct bsdb *db,
    const struct bpolicy_in *in, struct btransition *t, struct barena *ar)
{
	struct bsdb_addr a;
	struct bsdb_event e;
	struct bsdb_entry l;
	const char *rule;
	ssize_t demoted;
	long score, softs;
	time_t ref;
	int found, old, before;

	if ((found = load(db, in->addr, &a, &l, 2, ar)) < 0)
		return -1;
	if (found && a.horizon != 0 && in->date <= a.horizon)
		return BAPPLY_KNOWN;
	for (size_t i = 0; i < l.n; i++)
		if (l.e[i].key == in->key && l.e[i].cls <= BEV_UNSUB)
			return BAPPLY_KNOWN;

	/* Quiet for long enough: the address recovered when the quiet
	 * period ended, before this bounce. */
	old = a.state;
	if (a.state == BS_UNREACHABLE && p->recover > 0 && found &&
	    in->date - a.last >= p->recover) {
		time_t when = a.last + p->recover;
		own_event(p, in->addr, &a, &l, BEV_POLICY, BS_SEND,
		    "recovered: no bounces for the quiet period", when);
		a.since = when;
	}
	before = a.state;

	memset(&e, 0, sizeof e);
	e.date = in->date;
	e.cls = in->cls;
	e.points = bpolicy_points(p, in->cls, in->status, in->smtp,
	    in->reason, &rule);
	b_strlcpy(e.rule, rule, sizeof e.rule);
	b_strlcpy(e.status, in->status ? in->status : "", sizeof e.status);
	b_strlcpy(e.smtp, in->smtp ? in->smtp : "", sizeof e.smtp);
	b_strlcpy(e.reason, in->reason ? in->reason : "", sizeof e.reason);
	e.source = in->source ? in->source : "";
	e.note = "";
	e.key = in->key;
	/* The score looks back from the newest event the address has. */
	ref = in->date > a.last ? in->date : a.last;
	e.flag = count_flag(p, &l, &e, ref, &demoted);
	if (demoted >= 0) {
		l.e[demoted].flag = BEVF_SAMEDAY;
		l.dirty[demoted] = 1;
	}
	l.e[l.n] = e;	/* counted in the window, not yet stored */
	l.n++;
	window_stats(p, &l, ref, &score, &softs);
	l.n--;
	e.state = next_state(p, a.state, &e, score, softs);

	add_event(&a, &l, &e);
	switch (e.cls) {
	case BEV_HARD: a.nhard++; break;
	case BEV_SOFT: a.nsoft++; break;
	case BEV_COMPLAINT: a.ncomplaint++; break;
	case BEV_UNSUB: a.nunsub++; break;
	}
	if (e.flag == BEVF_COUNTED)
		a.ncounted++;
	if (a.first == 0 || e.date < a.first)
		a.first = e.date;
	if (e.date >= a.last) {
		a.last = e.date;
		b_strlcpy(a.status, e.status, sizeof a.status);
		b_strlcpy(a.reason, e.reason[0] ? e.reason :
		    bev_classname(e.cls), sizeof a.reason);
	}
	a.score = score;
	a.state = e.state;
	if (a.state != before || !found)
		a.since = e.date;
	trim(&a, &l, (unsigned long)p->keep);
	if (save(db, in->addr, &a, &l) < 0)
		return -1;
	if (a.state == old)
		return BAPPLY_SAME;
	fill_transition(t, in->addr, e.date, old, a.state, score,
	    e.reason[0] ? e.reason : bev_classname(e.cls), e.source, ar);
	return BAPPLY_CHANGED;
}

int
bpolicy_set(const struct bpolicy *p, struct bsdb *db, const char *addr,
    int state, const char *note, time_t now, struct btransition *t,
    struct barena *ar)
{
	struct bsdb_addr a;
	struct bsdb_entry l;
	long softs;
	int old;

	if (load(db, addr, &a, &l, 1, ar) < 0)
		return -1;
	old = a.state;
	own_event(p, addr, &a, &l, BEV_MANUAL, state, note, now);
	window_stats(p, &l, now > a.last ? now : a.last, &a.score, &softs);
	if (old != state)
		a.since = now;
	if (save(db, addr, &a, &l) < 0)
		return -1;
	if (old == state)
		return BAPPLY_SAME;
	fill_transition(t, addr, now, old, state, a.score, "manual", "", ar);
	return BAPPLY_CHANGED;
}

int
bpolicy_reset(const struct bpolicy *p, struct bsdb *db, const char *addr,
    const char *note, time_t now, struct btransition *t, struct barena *ar)
{
	struct bsdb_addr a;
	struct bsdb_entry l;
	int old;

	if (load(db, addr, &a, &l, 1, ar) < 0)
		return -1;
	/* Forget the events, but remember that they were seen. */
	for (size_t i = 0; i < l.n; i++)
		if (l.e[i].cls <= BEV_UNSUB && l.e[i].date > a.horizon)
			a.horizon = l.e[i].date;
	a.lo = a.hi;
	l.n = 0;
	old = a.state;
	a.score = 0;
	own_event(p, addr, &a, &l, BEV_MANUAL, BS_SEND,
	    note && *note ? note : "reset", now);
	if (old != BS_SEND)
		a.since = now;
	if (save(db, addr, &a, &l) < 0)
		return -1;
	if (old == BS_SEND)
		return BAPPLY_SAME;
	fill_transition(t, addr, now, old, BS_SEND, 0, "reset", "", ar);
	return BAPPLY_CHANGED;
}

/*
 * The event that put a muted or manual address into its state stays,
 * however old, so that bstate why can always say why: the oldest of
 * the newest events that all left the address in its state.
 */
static ssize_t
keep_entry(const struct bsdb_addr *a, const struct bsdb_entry *l)
{
	ssize_t i;

	if (!bstate_muted(a->state) && a->state != BS_PERSISTENT)
		return -1;
	for (i = (ssize_t)l->n - 1; i > 0 && l->e[i - 1].state == a->state;)
		i--;
	return i >= 0 && l->e[i].state == a->state ? i : -1;
}

int
bpolicy_expire(const struct bpolicy *p, struct bsdb *db, const char *addr,
    time_t now, struct btransition *t, struct barena *ar)
{
	struct bsdb_addr a;
	struct bsdb_entry l;
	long score, softs;
	ssize_t keepi;
	size_t i, drop;
	time_t ref;
	int found, old;
	const char *why = NULL;

	if ((found = load(db, addr, &a, &l, 1, ar)) <= 0)
		return found < 0 ? -1 : BAPPLY_SAME;

	/* First what changes: the score only looks at the window, so it
	 * is the same before and after the old events go.  A bounce dated
	 * later than now (a clock ahead) is in the window, as it was when
	 * it came. */
	ref = now > a.last ? now : a.last;
	window_stats(p, &l, ref, &score, &softs);
	old = a.state;
	if (old == BS_UNREACHABLE && p->recover > 0 &&
	    now - a.last >= p->recover)
		why = "recovered: no bounces for the quiet period";
	else if (old == BS_COUNTING && score == 0)
		why = "no counted bounces left in the window";
	if (why != NULL)
		a.state = BS_SEND;

	/* Then the old events leave, oldest number first: the first i
	 * are older than the window.  Events are numbered without gaps,
	 * so the one that stays takes the number of the last that goes. */
	keepi = keep_entry(&a, &l);
	for (i = 0; i < l.n && l.seq[i] == a.lo + i; i++)
		if (l.e[i].date > now - p->window)
			break;
	for (size_t k = 0; k < i; k++) {
		const struct bsdb_event *o = &l.e[k];
		if ((ssize_t)k != keepi && o->cls <= BEV_UNSUB &&
		    o->date > a.horizon)
			a.horizon = o->date;
	}
	drop = i;
	if (keepi >= 0 && (size_t)keepi < i) {
		drop = i - 1;
		if ((size_t)keepi != drop) {
			l.e[drop] = l.e[keepi];
			l.dirty[drop] = 1;
		}
	}
	a.lo += drop;
	memmove(l.e, l.e + drop, (l.n - drop) * sizeof l.e[0]);
	memmove(l.seq, l.seq + drop, (l.n - drop) * sizeof l.seq[0]);
	memmove(l.dirty, l.dirty + drop, l.n - drop);
	l.n -= drop;

	if (why != NULL) {
		own_event(p, addr, &a, &l, BEV_POLICY, BS_SEND, why, now);
		a.since = now;
		window_stats(p, &l, ref, &score, &softs);
	}
	/* Nothing to write when nothing changed. */
	if (why == NULL && drop == 0 && score == a.score)
		return BAPPLY_SAME;
	a.score = score;
	if (save(db, addr, &a, &l) < 0)
		return -1;
	if (why == NULL)
		return BAPPLY_SAME;
	fill_transition(t, addr, now, old, BS_SEND, score,
	    old == BS_UNREACHABLE ? "recovered" : "expired", "", ar);
	return BAPPLY_CHANGED;
}

/* brec_escape(), with plain text copied as it is. */
static void
escape(struct bbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			break;
	if (*p == '\0' && p != (const unsigned char *)s && *s != '#' &&
	    strcmp(s, "-") != 0)
		bbuf_add(b, s, (size_t)(p - (const unsigned char *)s));
	else
		brec_escape(b, s);
}

void
btransition_format(struct bbuf *b, const struct btransition *t)
{
	char date[21], score[24];

	bbuf_reset(b);
	b_isoformat(t->date, date);
	snprintf(score, sizeof score, "%ld", t->score);
	bbuf_adds(b, date);
	bbuf_addc(b, '\t');
	escape(b, t->addr);
	bbuf_addc(b, '\t');
	bbuf_adds(b, bstate_name(t->from));
	bbuf_addc(b, '\t');
	bbuf_adds(b, bstate_name(t->to));
	bbuf_addc(b, '\t');
	bbuf_adds(b, score);
	bbuf_addc(b, '\t');
	escape(b, t->reason);
	bbuf_addc(b, '\t');
	escape(b, t->source);
	bbuf_addc(b, '\n');
}
