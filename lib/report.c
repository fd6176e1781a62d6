/*
 * report.c - a self-contained HTML page about the state file: events
 * per day by class, the top reasons and recipient domains, addresses
 * per state, and the latest changes of state.  The charts are inline
 * SVG drawn here; the page needs no script, font or other file.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

#define DAY 86400L
#define NK 8			/* columns of a tally: classes or states */

/* A count per name, split by class (reasons, days) or by state
 * (domains).  An open-addressing table, then a sorted array. */
struct tent {
	char *name;
	unsigned long n[NK], total;
};
struct tally {
	struct tent *v;
	size_t n, cap;
};

/* A change of state that the kept events show. */
struct rtrans {
	time_t date;
	unsigned long seq;
	char *addr, *why, *status;
	int from, to, cls;
	long score;
};

struct breport {
	struct breport_opt o;
	struct bsdb *db;	/* while reading */
	struct tally days, reasons, domains;
	unsigned long states[BS_NSTATES];
	unsigned long classes[BEV_NCLASS];
	unsigned long naddr;	/* addresses in the file */
	unsigned long nshown;	/* addresses counted in the charts */
	unsigned long nevents;	/* kept events in the range */
	unsigned long ntrans;	/* changes of state found */
	time_t first, last;	/* dates of the events in the range */
	struct rtrans *tr;	/* the newest o.latest changes */
	size_t ntr;
	struct bsdb_event *ev;	/* scratch: one address's events */
	unsigned long *seq;
	size_t evcap;
	struct barena ar;
};

static const char *const class_keys[BEV_NCLASS] = {
	"hard", "soft", "complaint", "unsubscribe", "manual", "policy",
};
static const char *const state_css[BS_NSTATES] = {
	"send", "counting", "unreachable", "invalid", "complained",
	"unsubscribed", "onhold", "persistent",
};

/* ---- counting ---- */

static void
tally_grow(struct tally *t)
{
	struct tally old = *t;

	t->cap = t->cap ? 2 * t->cap : 64;
	t->v = b_malloc(t->cap * sizeof t->v[0]);
	memset(t->v, 0, t->cap * sizeof t->v[0]);
	for (size_t j = 0; j < old.cap; j++) {
		size_t i;
		if (old.v[j].name == NULL)
			continue;
		for (i = b_strhash(old.v[j].name) & (t->cap - 1);
		    t->v[i].name != NULL; i = (i + 1) & (t->cap - 1))
			;
		t->v[i] = old.v[j];
	}
	free(old.v);
}

static struct tent *
tally_find(const struct tally *t, const char *name)
{
	if (t->cap == 0)
		return NULL;
	for (size_t i = b_strhash(name) & (t->cap - 1); t->v[i].name != NULL;
	    i = (i + 1) & (t->cap - 1))
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

static void
tally_add(struct tally *t, const char *name, int k)
{
	struct tent *e = tally_find(t, name);
	size_t i;

	if (e == NULL) {
		if ((t->n + 1) * 2 >= t->cap)
			tally_grow(t);
		for (i = b_strhash(name) & (t->cap - 1); t->v[i].name != NULL;
		    i = (i + 1) & (t->cap - 1))
			;
		e = &t->v[i];
		e->name = b_strdup(name);
		t->n++;
	}
	e->n[k]++;
	e->total++;
}

static int
tent_cmp(const void *a, const void *b)
{
	const struct tent *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Pack the table into t->v[0 .. t->n-1], largest first.  It can no
 * longer be searched. */
static void
tally_sort(struct tally *t)
{
	size_t m = 0;

	if (t->cap == 0)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].name != NULL)
			t->v[m++] = t->v[i];
	memset(t->v + m, 0, (t->cap - m) * sizeof t->v[0]);
	qsort(t->v, m, sizeof t->v[0], tent_cmp);
}

static void
tally_free(struct tally *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].name);
	free(t->v);
}

/* ---- reading the file ---- */

struct breport *
breport_new(const struct breport_opt *o)
{
	struct breport *r = b_malloc(sizeof *r);

	memset(r, 0, sizeof *r);
	r->o = *o;
	if (r->o.title == NULL || *r->o.title == '\0')
		r->o.title = "Bounce report";
	if (r->o.top < 1)
		r->o.top = 10;
	if (r->o.latest < 0)
		r->o.latest = 0;
	r->tr = b_malloc(((size_t)r->o.latest + 1) * sizeof r->tr[0]);
	return r;
}

static void
rtrans_free(struct rtrans *t)
{
	free(t->addr);
	free(t->why);
	free(t->status);
}

void
breport_free(struct breport *r)
{
	if (r == NULL)
		return;
	tally_free(&r->days);
	tally_free(&r->reasons);
	tally_free(&r->domains);
	for (size_t i = 0; i < r->ntr; i++)
		rtrans_free(&r->tr[i]);
	free(r->tr);
	free(r->ev);
	free(r->seq);
	barena_free(&r->ar);
	free(r);
}

static int
in_range(const struct breport *r, time_t t)
{
	return (r->o.from == 0 || t >= r->o.from) &&
	    (r->o.until == 0 || t <= r->o.until);
}

/* The score after event i, as the policy's window sees the kept
 * events up to it (the same sum bscore makes). */
static long
score_at(const struct breport *r, size_t i)
{
	const struct bsdb_event *ev = r->ev;
	long window = r->o.pol ? r->o.pol->window : 100 * DAY, score = 0;
	time_t ref = 0;
	size_t from = 0;

	for (size_t j = 0; j <= i; j++) {
		if (ev[j].date > ref)
			ref = ev[j].date;
		if (ev[j].cls > BEV_UNSUB)	/* judged what came before */
			from = j + 1;
	}
	for (size_t j = from; j <= i; j++)
		if (ev[j].flag == BEVF_COUNTED && ev[j].cls <= BEV_SOFT &&
		    ev[j].date > ref - window && ev[j].date <= ref)
			score += ev[j].points;
	return score;
}

/* Is a newer than the change at date of addr, event seq?  Changes of
 * one moment are listed by address. */
static int
newer(const struct rtrans *a, time_t date, const char *addr,
    unsigned long seq)
{
	int c;

	if (a->date != date)
		return a->date > date;
	if ((c = strcmp(a->addr, addr)) != 0)
		return c < 0;
	return a->seq > seq;
}

static int
heap_less(const struct rtrans *h, size_t i, size_t j)
{
	return newer(&h[j], h[i].date, h[i].addr, h[i].seq);
}

static void
heap_swap(struct rtrans *h, size_t i, size_t j)
{
	struct rtrans t = h[i];

	h[i] = h[j];
	h[j] = t;
}

/* The newest changes are kept in a heap whose root is the oldest of
 * them, so a file of many changes costs a log each. */
static void
heap_up(struct rtrans *h, size_t i)
{
	for (; i > 0 && heap_less(h, i, (i - 1) / 2); i = (i - 1) / 2)
		heap_swap(h, i, (i - 1) / 2);
}

static void
heap_down(struct rtrans *h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		if (l < n && heap_less(h, l, m))
			m = l;
		if (r < n && heap_less(h, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* Keep event i of addr, a change from state from, among the newest. */
static void
add_transition(struct breport *r, const char *addr, size_t i, int from)
{
	const struct bsdb_event *e = &r->ev[i];
	struct rtrans *t;

	r->ntrans++;
	if (r->o.latest == 0)
		return;
	if (r->ntr < (size_t)r->o.latest)
		t = &r->tr[r->ntr++];
	else {
		t = &r->tr[0];
		if (newer(t, e->date, addr, r->seq[i]))
			return;
		rtrans_free(t);
	}
	t->date = e->date;
	t->seq = r->seq[i];
	t->addr = b_strdup(addr);
	t->from = from;
	t->to = e->state;
	t->cls = e->cls;
	t->score = score_at(r, i);
	if (e->cls <= BEV_UNSUB)
		t->why = b_strdup(*e->reason ? e->reason :
		    bev_classname(e->cls));
	else
		t->why = b_strdup(e->note);
	t->status = b_strdup(e->status);
	if (t == &r->tr[0] && r->ntr == (size_t)r->o.latest &&
	    r->o.latest > 1)
		heap_down(r->tr, r->ntr, 0);
	else
		heap_up(r->tr, (size_t)(t - r->tr));
}

static void
count_event(struct breport *r, const struct bsdb_event *e)
{
	char day[21];

	r->nevents++;
	r->classes[e->cls]++;
	if (r->first == 0 || e->date < r->first)
		r->first = e->date;
	if (e->date > r->last)
		r->last = e->date;
	b_isoformat(e->date, day);
	day[10] = '\0';
	tally_add(&r->days, day, e->cls);
	if (e->cls <= BEV_UNSUB)
		tally_add(&r->reasons, *e->reason ? e->reason : "-", e->cls);
}

static int
load_events(struct breport *r, const char *addr, const struct bsdb_addr *a,
    size_t *n)
{
	size_t want = a->hi - a->lo;

	if (want > r->evcap) {
		r->evcap = want;
		r->ev = b_realloc(r->ev, want * sizeof r->ev[0]);
		r->seq = b_realloc(r->seq, want * sizeof r->seq[0]);
	}
	*n = 0;
	for (unsigned long s = a->lo; s < a->hi; s++) {
		int rv = bsdb_event_get(r->db, addr, s, &r->ev[*n], &r->ar);
		if (rv < 0)
			return -1;
		if (rv > 0)
			r->seq[(*n)++] = s;
	}
	return 0;
}

static int
read_fn(void *arg, const struct bsdb_item *it)
{
	struct breport *r = arg;
	const struct bsdb_addr *a = &it->a;
	const char *at;
	size_t n;
	int prev, any = 0;

	if (it->type != BSDB_ADDR)
		return 0;
	r->naddr++;
	barena_reset(&r->ar);
	if (load_events(r, it->key, a, &n) < 0)
		return -1;
	/* An address starts in send with event 1; when older events
	 * were dropped, the state before the first kept one is not
	 * known, so it shows no change. */
	prev = a->lo <= 1 ? BS_SEND : -1;
	for (size_t i = 0; i < n; i++) {
		const struct bsdb_event *e = &r->ev[i];
		if (r->seq[i] != (i == 0 ? a->lo : r->seq[i - 1] + 1))
			prev = -1;
		if (e->cls >= 0 && e->cls < BEV_NCLASS &&
		    in_range(r, e->date)) {
			any = 1;
			count_event(r, e);
			if (prev >= 0 && e->state != prev)
				add_transition(r, it->key, i, prev);
		}
		prev = e->state;
	}
	if ((r->o.from != 0 || r->o.until != 0) && !any)
		return 0;	/* no event in the range */
	r->nshown++;
	if (a->state >= 0 && a->state < BS_NSTATES) {
		r->states[a->state]++;
		at = strrchr(it->key, '@');
		tally_add(&r->domains, at ? at + 1 : it->key, a->state);
	}
	return 0;
}

static int
tr_cmp(const void *a, const void *b)
{
	const struct rtrans *x = a, *y = b;

	if (newer(x, y->date, y->addr, y->seq))
		return -1;
	return newer(y, x->date, x->addr, x->seq) ? 1 : 0;
}

int
breport_read(struct breport *r, struct bsdb *db)
{
	int rv;

	r->db = db;
	rv = bsdb_walk(db, read_fn, r);
	r->db = NULL;
	if (rv != 0)
		return -1;
	tally_sort(&r->reasons);
	tally_sort(&r->domains);
	qsort(r->tr, r->ntr, sizeof r->tr[0], tr_cmp);
	return 0;
}

/* ---- writing HTML ---- */

static void
addf(struct bbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
addf(struct bbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		bbuf_add(b, small, (size_t)n);
		return;
	}
	char *big = b_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	bbuf_add(b, big, (size_t)n);
	free(big);
}

/* Length of the valid UTF-8 character at s, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned min, c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, min = 0x80, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, min = 0x800, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, min = 0x10000, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/*
 * Text for HTML or SVG, in an element or a quoted attribute: markup
 * characters become entities, control bytes \xHH (XML cannot carry
 * them) and bytes that are not UTF-8 the replacement character.  At
 * most max characters are written (0: all); a cut ends in an ellipsis.
 */
static void
esc_max(struct bbuf *b, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t nch = 0, k;

	for (; *s; s += k, nch++) {
		k = utf8_len(s);
		if (max > 0 && nch == max - 1 && s[k ? k : 1] != '\0') {
			bbuf_adds(b, "\xe2\x80\xa6");	/* an ellipsis */
			return;
		}
		switch (*s) {
		case '&': bbuf_adds(b, "&amp;"); continue;
		case '<': bbuf_adds(b, "&lt;"); continue;
		case '>': bbuf_adds(b, "&gt;"); continue;
		case '"': bbuf_adds(b, "&quot;"); continue;
		case '\'': bbuf_adds(b, "&#39;"); continue;
		}
		if (*s < 0x20 || *s == 0x7f)
			addf(b, "\\x%02X", *s);
		else if (k == 0) {
			bbuf_adds(b, "\xef\xbf\xbd");	/* U+FFFD */
			k = 1;
		} else
			bbuf_add(b, s, k);
	}
}

static void
esc(struct bbuf *b, const char *s)
{
	esc_max(b, s, 0);
}

static const char style[] =
"<style>\n"
":root{color-scheme:light}\n"
"body{margin:0;background:#f4f5f7;color:#1d2733;"
"font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
"\"DejaVu Sans\",sans-serif}\n"
"main{max-width:1080px;margin:0 auto;padding:20px 24px 40px}\n"
"h1{font-size:26px;margin:6px 0 2px}\n"
"h2{font-size:18px;margin:0 0 8px}\n"
".meta{color:#5b6673;margin:0 0 16px;font-size:13px}\n"
"code{font:13px ui-monospace,\"DejaVu Sans Mono\",monospace}\n"
"section{background:#fff;border:1px solid #dde1e6;border-radius:8px;"
"padding:14px 18px;margin:0 0 16px}\n"
".pair{display:grid;grid-template-columns:repeat(auto-fit,"
"minmax(460px,1fr));gap:16px}\n"
".pair section{margin:0}\n"
".pair{margin-bottom:16px}\n"
".cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 16px;padding:0}\n"
".cards div{flex:1 1 140px;background:#fff;border:1px solid #dde1e6;"
"border-radius:8px;padding:10px 14px}\n"
".cards dt{color:#5b6673;font-size:12px;text-transform:uppercase;"
"letter-spacing:.04em}\n"
".cards dd{margin:0;font-size:24px;font-weight:600}\n"
"svg{display:block;width:100%;height:auto}\n"
"svg text{font-family:system-ui,\"DejaVu Sans\",sans-serif;"
"font-size:12px;fill:#1d2733}\n"
"svg .tick{font-size:11px;fill:#5b6673}\n"
"svg .val{font-size:11px;font-weight:600}\n"
"svg .grid{stroke:#e6e9ed;stroke-width:1}\n"
"svg .axis{stroke:#8a949e;stroke-width:1}\n"
".legend{list-style:none;margin:0 0 6px;padding:0;display:flex;"
"flex-wrap:wrap;gap:4px 14px;font-size:13px}\n"
".sw{display:inline-block;width:11px;height:11px;border-radius:2px;"
"margin-right:5px;vertical-align:-1px}\n"
".note,.none{color:#5b6673;font-size:13px;margin:6px 0 0}\n"
".empty{font-size:17px;padding:24px 0}\n"
"table{border-collapse:collapse;width:100%;font-size:13px}\n"
"th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e9ed;"
"vertical-align:top}\n"
"th{color:#5b6673;font-weight:600;background:#f8f9fa}\n"
"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
"td.addr{word-break:break-all}\n"
"td.date{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
".st{display:inline-block;padding:0 7px;border-radius:9px;color:#fff;"
"font-size:12px;white-space:nowrap}\n"
".st.s-counting,.st.s-send{color:#1d2733}\n"
".sub{color:#5b6673}\n"
".k-hard{fill:#c0392b;background:#c0392b}\n"
".k-soft{fill:#f0a030;background:#f0a030}\n"
".k-complaint{fill:#8e44ad;background:#8e44ad}\n"
".k-unsubscribe{fill:#2e86c1;background:#2e86c1}\n"
".k-manual{fill:#7f8c8d;background:#7f8c8d}\n"
".k-policy{fill:#17a589;background:#17a589}\n"
".s-send{fill:#7dcea0;background:#7dcea0}\n"
".s-counting{fill:#f4d03f;background:#f4d03f}\n"
".s-unreachable{fill:#e67e22;background:#e67e22}\n"
".s-invalid{fill:#c0392b;background:#c0392b}\n"
".s-complained{fill:#8e44ad;background:#8e44ad}\n"
".s-unsubscribed{fill:#2e86c1;background:#2e86c1}\n"
".s-onhold{fill:#566573;background:#566573}\n"
".s-persistent{fill:#1e8449;background:#1e8449}\n"
"footer{color:#5b6673;font-size:12px;text-align:center}\n"
"</style>\n";

#define SVGNS "http://www.w3.org/2000/svg"

/* A round axis step (1, 2 or 5 times a power of ten) that gives at
 * most five ticks up to max. */
static unsigned long
nice_step(unsigned long max)
{
	for (unsigned long mag = 1;; mag *= 10)
		for (int m = 1; m <= 5; m += m == 2 ? 3 : 1)
			if (m * mag * 5 >= max)
				return m * mag;
}

static unsigned long
axis_top(unsigned long max, unsigned long *step)
{
	*step = nice_step(max ? max : 1);
	return ((max ? max : 1) + *step - 1) / *step * *step;
}

/* One legend entry per key (CSS class prefix pre). */
static void
legend(struct bbuf *b, const char *pre, const char *const *names,
    const int *show, int nk)
{
	bbuf_adds(b, "<ul class=\"legend\">");
	for (int k = 0; k < nk; k++)
		if (show[k])
			addf(b, "<li><span class=\"sw %s%s\"></span>%s</li>",
			    pre, names[k], names[k]);
	bbuf_adds(b, "</ul>\n");
}

/* "3 hard, 1 soft": the non-zero parts of a count. */
static void
parts(struct bbuf *b, const unsigned long *n, const char *const *names,
    int nk)
{
	const char *sep = " (";

	for (int k = 0; k < nk; k++)
		if (n[k] > 0) {
			addf(b, "%s%lu %s", sep, n[k], names[k]);
			sep = ", ";
		}
	if (*sep == ',')
		bbuf_addc(b, ')');
}

/* Horizontal bars, stacked by key: reasons, domains, states. */
struct hchart {
	const struct tent *rows;
	size_t nrows;
	const char *const *names;	/* the keys, for CSS and titles */
	const char *pre;		/* CSS class prefix: k- or s- */
	int nk;
	const char *unit, *units;	/* "event", "events" */
	const char *label;		/* aria-label */
	int width;
};

#define HLABEL 172	/* the label column */
#define HROW 24

static void
hchart(struct bbuf *b, const struct hchart *c)
{
	unsigned long max = 0, step, top;
	int pw = c->width - HLABEL - 52, y0 = 6;
	int ybase = y0 + (int)c->nrows * HROW + 2;

	for (size_t i = 0; i < c->nrows; i++)
		if (c->rows[i].total > max)
			max = c->rows[i].total;
	top = axis_top(max, &step);
	addf(b, "<svg xmlns=\"" SVGNS "\" viewBox=\"0 0 %d %d\" "
	    "style=\"max-width:%dpx\" role=\"img\" aria-label=\"%s\">\n",
	    c->width, ybase + 20, c->width, c->label);
	for (unsigned long v = 0; v <= top; v += step) {
		double x = HLABEL + (double)pw * v / top;
		addf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		    "y2=\"%d\"/><text class=\"tick\" x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%lu</text>\n", x, y0 - 2, x, ybase,
		    x, ybase + 14, v);
	}
	for (size_t i = 0; i < c->nrows; i++) {
		const struct tent *t = &c->rows[i];
		const char *name = strcmp(t->name, "-") ? t->name : "(none)";
		int y = y0 + (int)i * HROW;
		double x = HLABEL;

		bbuf_adds(b, "<g><title>");
		esc(b, name);
		addf(b, ": %lu %s", t->total, t->total == 1 ? c->unit :
		    c->units);
		if (c->nk > 1)
			parts(b, t->n, c->names, c->nk);
		addf(b, "</title><text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		    HLABEL - 8, y + 16);
		esc_max(b, name, 24);
		bbuf_adds(b, "</text>");
		for (int k = 0; k < c->nk; k++) {
			double w = (double)pw * t->n[k] / top;
			if (t->n[k] == 0)
				continue;
			addf(b, "<rect class=\"%s%s\" x=\"%.1f\" y=\"%d\" "
			    "width=\"%.1f\" height=\"16\"/>", c->pre,
			    c->names[k], x, y + 4, w < 1 ? 1 : w);
			x += w;
		}
		addf(b, "<text class=\"val\" x=\"%.1f\" y=\"%d\">%lu</text>"
		    "</g>\n", x + 5, y + 16, t->total);
	}
	addf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	    "\n</svg>\n", HLABEL, y0 - 2, HLABEL, ybase);
}

/* ---- events per day ---- */

enum { G_DAY, G_WEEK, G_MONTH, G_YEAR };
static const char *const grain_names[] = { "day", "week", "month", "year" };

static long
day_of(time_t t)
{
	return t >= 0 ? (long)(t / DAY) : (long)((t - DAY + 1) / DAY);
}

/* The bucket of a day number, as an index that counts up by one. */
static long
bucket_of(long day, int grain)
{
	time_t t = (time_t)day * DAY;
	struct tm tm;

	switch (grain) {
	case G_DAY:
		return day;
	case G_WEEK:	/* 1970-01-01 was a Thursday; weeks start Monday */
		return (day + 3 - (((day + 3) % 7) + 7) % 7) / 7;
	}
	gmtime_r(&t, &tm);
	return grain == G_MONTH ? (tm.tm_year + 1900L) * 12 + tm.tm_mon :
	    tm.tm_year + 1900L;
}

static void
bucket_label(char *buf, long bucket, int grain)
{
	char iso[21];

	switch (grain) {
	case G_DAY:
	case G_WEEK:
		b_isoformat((time_t)(grain == G_DAY ? bucket : bucket * 7 - 3) *
		    DAY, iso);
		iso[10] = '\0';
		strcpy(buf, iso);
		break;
	case G_MONTH:
		sprintf(buf, "%04ld-%02ld", bucket / 12, bucket % 12 + 1);
		break;
	default:
		sprintf(buf, "%04ld", bucket);
	}
}

#define DW 1000		/* width of the chart of days */
#define DH 300
#define DL 54		/* left margin: the axis labels */
#define DT 22		/* top: the totals */
#define DB 34		/* bottom: the dates */
#define MAXBARS 120

struct bucket {
	unsigned long n[BEV_NCLASS], total;
};

static void
day_bar(struct bbuf *b, const struct bucket *k, const char *label,
    double x, double bw, double slot, unsigned long top)
{
	int ph = DH - DT - DB;
	double y = DH - DB;
	char num[24];

	addf(b, "<g><title>%s: %lu event%s", label, k->total,
	    k->total == 1 ? "" : "s");
	parts(b, k->n, class_keys, BEV_NCLASS);
	bbuf_adds(b, "</title>");
	for (int c = 0; c < BEV_NCLASS; c++) {
		double h = (double)ph * k->n[c] / top;
		if (k->n[c] == 0)
			continue;
		y -= h;
		addf(b, "<rect class=\"k-%s\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\"/>", bev_classname(c), x,
		    y, bw, h < 0.5 ? 0.5 : h);
	}
	snprintf(num, sizeof num, "%lu", k->total);
	if (k->total > 0 && slot >= 7.0 * strlen(num) + 2)
		addf(b, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"middle\">%s</text>", x + bw / 2, y - 4, num);
	bbuf_adds(b, "</g>\n");
}

/* The per-day counts added up into nb buckets from b0 on; free(). */
static struct bucket *
fill_buckets(const struct breport *r, int grain, long b0, long nb)
{
	struct bucket *bk = b_malloc((size_t)nb * sizeof bk[0]);

	memset(bk, 0, (size_t)nb * sizeof bk[0]);
	for (size_t i = 0; i < r->days.cap; i++) {
		const struct tent *t = &r->days.v[i];
		char iso[21];
		time_t dt;
		long j;

		if (t->name == NULL)
			continue;
		snprintf(iso, sizeof iso, "%sT00:00:00Z", t->name);
		if (b_isoparse(iso, &dt) < 0)
			continue;
		j = bucket_of(day_of(dt), grain) - b0;
		if (j < 0 || j >= nb)
			continue;
		for (int c = 0; c < BEV_NCLASS; c++)
			bk[j].n[c] += t->n[c];
		bk[j].total += t->total;
	}
	return bk;
}

static void
day_chart(struct bbuf *b, const struct breport *r)
{
	time_t from = r->o.from ? r->o.from : r->first;
	time_t until = r->o.until ? r->o.until : r->last;
	long d0, d1, b0, b1, nb;
	int grain = G_DAY, ph = DH - DT - DB, show[BEV_NCLASS];
	unsigned long max = 0, step, top;
	struct bucket *bk;
	double slot, bw;
	char label[24];
	int every;

	if (until < from)
		until = from;
	d0 = day_of(from);
	d1 = day_of(until);
	for (; grain < G_YEAR; grain++)
		if (bucket_of(d1, grain) - bucket_of(d0, grain) < MAXBARS)
			break;
	addf(b, "<h2>Bounces per %s</h2>\n", grain_names[grain]);
	b0 = bucket_of(d0, grain);
	b1 = bucket_of(d1, grain);
	nb = b1 - b0 + 1;
	bk = fill_buckets(r, grain, b0, nb);
	for (long j = 0; j < nb; j++)
		if (bk[j].total > max)
			max = bk[j].total;
	for (int c = 0; c < BEV_NCLASS; c++)
		show[c] = c <= BEV_UNSUB || r->classes[c] > 0;
	legend(b, "k-", class_keys, show,
	    BEV_NCLASS);

	top = axis_top(max, &step);
	slot = (double)(DW - DL - 12) / nb;
	bw = slot * 0.78 > 64 ? 64 : slot * 0.78;
	every = (int)(78 / slot) + 1;
	if (grain == G_MONTH)
		every = (int)(56 / slot) + 1;
	else if (grain == G_YEAR)
		every = (int)(40 / slot) + 1;
	addf(b, "<svg xmlns=\"" SVGNS "\" viewBox=\"0 0 %d %d\" "
	    "style=\"max-width:%dpx\" role=\"img\" aria-label=\"events per "
	    "%s by class\">\n", DW, DH, DW, grain_names[grain]);
	for (unsigned long v = 0; v <= top; v += step) {
		double y = DH - DB - (double)ph * v / top;
		addf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
		    "y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" y=\"%.1f\" "
		    "text-anchor=\"end\">%lu</text>\n", DL, y, DW - 12, y,
		    DL - 6, y + 4, v);
	}
	addf(b, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">"
	    "events</text>\n", DL - 6, DT - 10);
	for (long j = 0; j < nb; j++) {
		double x = DL + slot * j + (slot - bw) / 2;
		bucket_label(label, b0 + j, grain);
		day_bar(b, &bk[j], label, x, bw, slot, top);
		if (j % every != 0)
			continue;
		addf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		    "y2=\"%d\"/><text class=\"tick\" x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%s</text>\n", x + bw / 2, DH - DB,
		    x + bw / 2, DH - DB + 5, x + bw / 2, DH - DB + 18, label);
	}
	addf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	    "\n</svg>\n", DL, DH - DB, DW - 12, DH - DB);
	if (grain != G_DAY)
		addf(b, "<p class=\"note\">%ld %ss, too many days for one bar "
		    "each%s.</p>\n", nb, grain_names[grain], grain == G_WEEK ?
		    " (weeks start on Monday)" : "");
	free(bk);
}

/* ---- the page ---- */

static void
date_text(char *buf, time_t t)
{
	b_isoformat(t, buf);
	if (t != 0) {	/* "2014-11-04 15:01" reads better in a table */
		buf[10] = ' ';
		buf[16] = '\0';
	}
}

static void
header(struct bbuf *b, const struct breport *r)
{
	char now[21], a[21], z[21];

	bbuf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"generator\" content=\"bstate report, bounce "
	    BOUNCE_VERSION "\">\n<title>");
	esc(b, r->o.title);
	bbuf_adds(b, "</title>\n");
	bbuf_adds(b, style);
	bbuf_adds(b, "</head>\n<body>\n<main>\n<header>\n<h1>");
	esc(b, r->o.title);
	bbuf_adds(b, "</h1>\n<p class=\"meta\">");
	if (r->o.file != NULL) {
		bbuf_adds(b, "State file <code>");
		esc(b, r->o.file);
		bbuf_adds(b, "</code> &#183; ");
	}
	date_text(now, r->o.now);
	addf(b, "made %s UTC &#183; ", now);
	if (r->o.from == 0 && r->o.until == 0)
		bbuf_adds(b, "all kept events");
	else {
		date_text(a, r->o.from);
		date_text(z, r->o.until);
		addf(b, "events from %s to %s", r->o.from ? a : "the first",
		    r->o.until ? z : "the last");
	}
	bbuf_adds(b, "</p>\n</header>\n");
}

static void
cards(struct bbuf *b, const struct breport *r)
{
	unsigned long muted = 0;

	for (int s = 0; s < BS_NSTATES; s++)
		if (bstate_muted(s))
			muted += r->states[s];
	addf(b, "<dl class=\"cards\">\n"
	    "<div><dt>Addresses</dt><dd id=\"n-addresses\">%lu</dd></div>\n"
	    "<div><dt>Muted</dt><dd id=\"n-muted\">%lu</dd></div>\n"
	    "<div><dt>Mailable</dt><dd id=\"n-mailable\">%lu</dd></div>\n"
	    "<div><dt>Events</dt><dd id=\"n-events\">%lu</dd></div>\n"
	    "<div><dt>Changes of state</dt><dd id=\"n-changes\">%lu</dd>"
	    "</div>\n</dl>\n", r->nshown, muted, r->nshown - muted, r->nevents,
	    r->ntrans);
}

static void
more(struct bbuf *b, const struct tally *t, size_t shown, const char *what,
    const char *whats, const char *unit, const char *units)
{
	unsigned long rest = 0;
	size_t n = t->n - shown;

	if (t->n <= shown)
		return;
	for (size_t i = shown; i < t->n; i++)
		rest += t->v[i].total;
	addf(b, "<p class=\"note\">And %zu more %s (%lu %s).</p>\n", n,
	    n == 1 ? what : whats, rest, rest == 1 ? unit : units);
}

static void
top_lists(struct bbuf *b, const struct breport *r)
{
	size_t nr = r->reasons.n < (size_t)r->o.top ? r->reasons.n :
	    (size_t)r->o.top;
	size_t nd = r->domains.n < (size_t)r->o.top ? r->domains.n :
	    (size_t)r->o.top;
	int kshow[BEV_NCLASS] = { 1, 1, 1, 1, 0, 0 }, sshow[BS_NSTATES];
	struct hchart c;

	bbuf_adds(b, "<div class=\"pair\">\n<section id=\"reasons\">\n"
	    "<h2>Top reasons</h2>\n");
	if (nr == 0)
		bbuf_adds(b, "<p class=\"none\">No bounces in this range."
		    "</p>\n");
	else {
		legend(b, "k-", class_keys, kshow, BEV_NCLASS);
		c = (struct hchart){ r->reasons.v, nr, class_keys, "k-",
		    BEV_UNSUB + 1, "event", "events", "bounces per reason", 520 };
		hchart(b, &c);
		more(b, &r->reasons, nr, "reason", "reasons", "event",
		    "events");
	}
	bbuf_adds(b, "</section>\n<section id=\"domains\">\n"
	    "<h2>Top recipient domains</h2>\n");
	if (nd == 0)
		bbuf_adds(b, "<p class=\"none\">No addresses in this range."
		    "</p>\n");
	else {
		for (int s = 0; s < BS_NSTATES; s++) {
			sshow[s] = 0;
			for (size_t i = 0; i < nd; i++)
				if (r->domains.v[i].n[s] > 0)
					sshow[s] = 1;
		}
		legend(b, "s-", state_css, sshow, BS_NSTATES);
		c = (struct hchart){ r->domains.v, nd, state_css, "s-",
		    BS_NSTATES, "address", "addresses",
		    "addresses per domain", 520 };
		hchart(b, &c);
		more(b, &r->domains, nd, "domain", "domains", "address",
		    "addresses");
	}
	bbuf_adds(b, "</section>\n</div>\n");
}

static void
state_chart(struct bbuf *b, const struct breport *r)
{
	struct tent rows[BS_NSTATES];

	bbuf_adds(b, "<section id=\"states\">\n<h2>Addresses per state</h2>\n");
	if (r->nshown == 0) {
		bbuf_adds(b, "<p class=\"none\">No addresses in this range."
		    "</p>\n</section>\n");
		return;
	}
	/* Every state, in the order of bounce-state(5), each its colour:
	 * one stacked key per row. */
	memset(rows, 0, sizeof rows);
	for (int s = 0; s < BS_NSTATES; s++) {
		rows[s].name = (char *)state_css[s];
		rows[s].n[s] = rows[s].total = r->states[s];
	}
	struct hchart c = { rows, BS_NSTATES, state_css, "s-", BS_NSTATES,
	    "address", "addresses", "addresses per state", 760 };
	hchart(b, &c);
	bbuf_adds(b, "<p class=\"note\">Muted: unreachable, invalid, "
	    "complained, unsubscribed, onhold.</p>\n</section>\n");
}

static void
state_badge(struct bbuf *b, int st)
{
	addf(b, "<span class=\"st s-%s\">%s</span>", bstate_name(st),
	    bstate_name(st));
}

static void
transitions(struct bbuf *b, const struct breport *r)
{
	char date[21], iso[21];

	bbuf_adds(b, "<section id=\"transitions\">\n"
	    "<h2>Latest transitions</h2>\n");
	if (r->ntr == 0) {
		bbuf_adds(b, "<p class=\"none\">No changes of state in this "
		    "range.</p>\n</section>\n");
		return;
	}
	bbuf_adds(b, "<table>\n<thead><tr><th>Date (UTC)</th><th>Address</th>"
	    "<th>From</th><th>To</th><th class=\"num\">Score</th>"
	    "<th>Reason</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < r->ntr; i++) {
		const struct rtrans *t = &r->tr[i];
		b_isoformat(t->date, iso);
		date_text(date, t->date);
		addf(b, "<tr><td class=\"date\"><time datetime=\"%s\">%s"
		    "</time></td><td class=\"addr\">", iso, date);
		esc(b, t->addr);
		bbuf_adds(b, "</td><td>");
		state_badge(b, t->from);
		bbuf_adds(b, "</td><td>");
		state_badge(b, t->to);
		addf(b, "</td><td class=\"num\">%ld</td><td>", t->score);
		if (t->cls > BEV_UNSUB) {
			addf(b, "<span class=\"sub\">%s%s</span>",
			    bev_classname(t->cls), *t->why ? ": " : "");
			esc(b, t->why);
		} else {
			esc(b, t->why);
			if (*t->status) {
				bbuf_adds(b, " <span class=\"sub\">");
				esc(b, t->status);
				bbuf_adds(b, "</span>");
			}
		}
		bbuf_adds(b, "</td></tr>\n");
	}
	bbuf_adds(b, "</tbody>\n</table>\n");
	if (r->ntrans > r->ntr)
		addf(b, "<p class=\"note\">The newest %zu of %lu changes of "
		    "state that the kept events show.</p>\n", r->ntr,
		    r->ntrans);
	bbuf_adds(b, "</section>\n");
}

void
breport_html(const struct breport *r, struct bbuf *b)
{
	header(b, r);
	if (r->naddr == 0)
		bbuf_adds(b, "<p class=\"empty\">Nothing yet: the state file "
		    "holds no addresses. Bounces appear here once "
		    "<code>bscore</code> has read some.</p>\n");
	else {
		cards(b, r);
		bbuf_adds(b, "<section id=\"days\">\n");
		if (r->nevents == 0)
			bbuf_adds(b, "<h2>Bounces per day</h2>\n<p "
			    "class=\"none\">No events in this range.</p>\n");
		else
			day_chart(b, r);
		bbuf_adds(b, "</section>\n");
		top_lists(b, r);
		state_chart(b, r);
		transitions(b, r);
	}
	bbuf_adds(b, "<footer>Made by bstate report from the kept events "
	    "of the state file; see bstate(1).</footer>\n"
	    "</main>\n</body>\n</html>\n");
}
