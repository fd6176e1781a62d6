/*
 * state.c - the state file: one TDB file with a format header, one
 * entry per address, events that do not fit in it, and the sent-mail
 * log.  bounce-state(5) describes the keys and values.
 *
 * Values are text: the value format, then TAB-separated fields escaped
 * as in records.  An address's entry holds its summary and its newest
 * events, one per line, so that a bounce costs one lookup and one write
 * of one record, in place for a known address, instead of a lookup per
 * kept event and writes of the summary and of a new event record.
 * Inside a transaction TDB copies every 4 KiB page a write touches and
 * writes it twice at the commit (the old contents for crash recovery,
 * then the new); the page of a known address's entry is the one page
 * such a bounce must touch.
 *
 * A batch of bounces into a large file touches about one page per
 * known address, so the fewer pages the file has, the fewer a batch
 * touches: entries (format 3) are written short, with dates in seconds
 * and what the summary already says left out of the event lines.  A
 * new entry is made with room for one more event, partly in padding
 * and partly in the quarter more than it asks for that TDB allocates;
 * the size it was made for is in its summary, so that later writes
 * know how far it can grow in place.  When the events outgrow it, the
 * oldest move out into event records, which never change size once
 * written.  Moving entries would leave a trail of small holes on TDB's
 * free list, and allocating from a long list of holes that do not fit
 * gets slower with every one.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tdb.h>

#include "bounce.h"

#define HEADER_KEY	"bounce:format"
#define HEADER_NAME	"bounce-state"
#define ADDR_PREFIX	"addr:"
#define EVENT_PREFIX	"event:"
#define SENT_PREFIX	"sent:"
#define VALUE_ALIGN	64	/* records are padded to a multiple of this */
#define ENTRY_ALIGN	8	/* and entries to a multiple of this */
#define EVENT_GUESS	64	/* room for an event when none is known */
#define ENTRY_SLACK	48	/* and for dates, a state and numbers */
#define MAXFIELDS	20

struct bsdb {
	struct tdb_context *tdb;
	char *path;
	int rdwr;
	int intrans;
	int recovered;		/* TDB rolled back an interrupted commit */
	int syserr;		/* errno of the first failed write TDB logged */
	int nosync;		/* BSDB_NOSYNC */
	char *staged;		/* a new file's temporary name, until published */
	int stagefd;		/* or its descriptor when it has no name, else -1 */
	int format;		/* of the file: 0 (empty), 1 to BSDB_FORMAT */
	struct bbuf key, val;	/* scratch for keys and values */
	struct bbuf sum, lines;	/* scratch for an entry's parts */
	size_t *ends, nends;	/* where each event line ends in lines */
	char *split;		/* scratch copy of a value to split */
	size_t splitcap;
	struct barena ar;	/* scratch for the old calls */
	char err[512];
};

static const char *const state_names[BS_NSTATES] = {
	"send", "counting", "unreachable", "invalid", "complained",
	"unsubscribed", "onhold", "persistent",
};
static const char *const class_names[BEV_NCLASS] = {
	"hard", "soft", "complaint", "unsubscribe", "manual", "policy",
};
static const char *const flag_names[BEVF_NFLAGS] = {
	"-", "counted", "zero", "sameday",
};

static int
byname(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *
bstate_name(int st)
{
	return st >= 0 && st < BS_NSTATES ? state_names[st] : "?";
}

int
bstate_byname(const char *s)
{
	return byname(state_names, BS_NSTATES, s);
}

int
bstate_muted(int st)
{
	return !(st == BS_SEND || st == BS_COUNTING || st == BS_PERSISTENT);
}

const char *
bev_classname(int c)
{
	return c >= 0 && c < BEV_NCLASS ? class_names[c] : "?";
}

int
bev_classbyname(const char *s)
{
	return byname(class_names, BEV_NCLASS, s);
}

const char *
bev_flagname(int f)
{
	return f >= 0 && f < BEVF_NFLAGS ? flag_names[f] : "?";
}

/* ---- dates and numbers ---- */

/* Days from 1970-01-01 to a civil date (proleptic Gregorian). */
static long long
civil_days(long long y, int m, int d)
{
	long long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
b_isoparse(const char *s, time_t *t)
{
	int y, mo, d, h, mi, sec;
	time_t v;

	if (strcmp(s, "-") == 0 || *s == '\0') {
		*t = 0;
		return 0;
	}
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	if (digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 ||
	    digits(s + 8, 2, &d) < 0 || digits(s + 11, 2, &h) < 0 ||
	    digits(s + 14, 2, &mi) < 0 || digits(s + 17, 2, &sec) < 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	/* The day must exist: civil_days() of the next month's first day
	 * minus this month's gives the month's length. */
	if (d > civil_days(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1) -
	    civil_days(y, mo, 1))
		return -1;
	v = (time_t)(civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
	if (v > B_TIME_MAX)	/* 9999-12-31T23:59:60Z */
		return -1;
	*t = v;
	return 0;
}

/* Civil date from days since 1970-01-01 (the inverse of civil_days). */
static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void
two(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* b_isotime() without strftime: the state file writes many dates, and
 * the same ones over and over, so the last one is remembered too. */
void
b_isoformat(time_t t, char buf[21])
{
	static time_t last = -1;
	static char lastbuf[21];
	long long days, y;
	int m, d, secs;

	if (t == last) {
		memcpy(buf, lastbuf, 21);
		return;
	}
	days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	secs = (int)(t - days * 86400);
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		b_isotime(t, buf);
		return;
	}
	memcpy(buf, "0000-00-00T00:00:00Z", 21);
	two(buf, (int)(y / 100));
	two(buf + 2, (int)(y % 100));
	two(buf + 5, m);
	two(buf + 8, d);
	two(buf + 11, secs / 3600);
	two(buf + 14, secs / 60 % 60);
	two(buf + 17, secs % 60);
	last = t;
	memcpy(lastbuf, buf, 21);
}

static void
add_date(struct bbuf *b, time_t t)
{
	char buf[21];

	if (t == 0) {
		bbuf_addc(b, '-');
		return;
	}
	b_isoformat(t, buf);
	bbuf_add(b, buf, 20);
}

static void
add_num(struct bbuf *b, unsigned long long v)
{
	char buf[24], *p = buf + sizeof buf;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	bbuf_add(b, p, (size_t)(buf + sizeof buf - p));
}

/* A TAB and the escaped field; plain text is copied as it is. */
static void
add_field(struct bbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	bbuf_addc(b, '\t');
	for (; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			break;
	if (*p == '\0' && p != (const unsigned char *)s &&
	    strcmp(s, "-") != 0)
		bbuf_add(b, s, (size_t)(p - (const unsigned char *)s));
	else
		brec_escape(b, s);
}

/* Decimal digits, at most LONG_MAX: entries hold many small numbers. */
static int
get_ulong(const char *s, unsigned long *v)
{
	unsigned long n = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (LONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*v = n;
	return 0;
}

static int
get_long(const char *s, long *v)
{
	const char *e;
	long long n = b_strtonum(s, LONG_MIN, LONG_MAX, &e);

	if (e != NULL)
		return -1;
	*v = (long)n;
	return 0;
}

static int
get_str(const char *s, char *dst, size_t size)
{
	return b_strlcpy(dst, s, size) >= size ? -1 : 0;
}

static int
get_hex64(const char *s, unsigned long long *v)
{
	char *end;

	if (strlen(s) != 16)
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 16);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

/* What split() gives for a field with nothing in it, as opposed to
 * '-', the empty string: entries of format 3 tell them apart. */
static char blank[1];

/*
 * Split s in place at TABs into at most max fields and unescape them.
 * Returns the number of fields, or -1 for a bad escape.
 */
static int
split(char *s, char **f, int max)
{
	int n = 0;

	for (;;) {
		char *p = s;
		int esc = 0, last;

		/* One pass finds the TAB and whether anything needs
		 * unescaping: most fields are plain. */
		for (; *p != '\t' && *p != '\0'; p++)
			esc |= *p == '\\';
		last = *p == '\0';
		*p = '\0';
		if (n == max)
			return -1;
		if ((esc || strcmp(s, "-") == 0) && brec_unescape(s) < 0)
			return -1;
		f[n++] = p == s ? blank : s;
		if (last)
			return n;
		s = p + 1;
	}
}

/* Pad the value in b with spaces to size bytes. */
static void
pad(struct bbuf *b, size_t size)
{
	static const char spaces[64] = "                                "
	    "                                ";

	while (b->len < size) {
		size_t n = size - b->len;
		bbuf_add(b, spaces, n < sizeof spaces ? n : sizeof spaces);
	}
}

/* ---- the value encodings (shared with the export lines) ---- */

/*
 * A date as seconds since 1970 (format 3 entries), '-' for none.  Dates
 * are those that ISO 8601 with four digits can say, 1970 to 9999, as in
 * the export lines: every date comes from a record, a clock or a file
 * that held no other.
 */
static void
add_secs(struct bbuf *b, time_t t)
{
	if (t <= 0) {
		bbuf_addc(b, '-');
		return;
	}
	add_num(b, (unsigned long long)t);
}

static int
get_secs(const char *s, time_t *t)
{
	unsigned long u;

	if (strcmp(s, "-") == 0 || *s == '\0') {
		*t = 0;
		return 0;
	}
	if (get_ulong(s, &u) < 0 || u == 0 || u > (unsigned long)B_TIME_MAX)
		return -1;
	*t = (time_t)u;
	return 0;
}

/* Dates in ISO 8601 (export lines, values of format 1 and 2), or as
 * seconds (entries of format 3). */
static void
add_when(struct bbuf *b, time_t t, int secs)
{
	if (secs)
		add_secs(b, t);
	else
		add_date(b, t);
}

static int
get_when(const char *s, time_t *t, int secs)
{
	return secs ? get_secs(s, t) : b_isoparse(s, t);
}

/* In seconds, a date that is last (the entry's last event) is '='. */
static void
add_or_last(struct bbuf *b, time_t t, int secs, time_t last)
{
	if (secs && t == last && last != 0)
		bbuf_addc(b, '=');
	else
		add_when(b, t, secs);
}

static int
get_or_last(const char *s, time_t *t, int secs, time_t last)
{
	if (secs && strcmp(s, "=") == 0 && last != 0) {
		*t = last;
		return 0;
	}
	return get_when(s, t, secs);
}

static void
enc_addr(struct bbuf *b, const struct bsdb_addr *a, int secs)
{
	bbuf_adds(b, bstate_name(a->state));
	bbuf_addc(b, '\t');
	if (a->score < 0) {
		bbuf_addc(b, '-');
		add_num(b, (unsigned long long)-a->score);
	} else
		add_num(b, (unsigned long long)a->score);
	bbuf_addc(b, '\t');
	add_or_last(b, a->since, secs, a->last);
	bbuf_addc(b, '\t');
	add_or_last(b, a->first, secs, a->last);
	bbuf_addc(b, '\t');
	add_when(b, a->last, secs);
	const unsigned long n[] = { a->nevents, a->ncounted, a->nhard,
	    a->nsoft, a->ncomplaint, a->nunsub };
	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
		bbuf_addc(b, '\t');
		add_num(b, n[i]);
	}
	add_field(b, a->status);
	add_field(b, a->reason);
	bbuf_addc(b, '\t');
	add_when(b, a->horizon, secs);
	bbuf_addc(b, '\t');
	add_num(b, a->lo);
	bbuf_addc(b, '\t');
	add_num(b, a->hi);
}

#define ADDR_FIELDS 16

static int
dec_addr(char **f, struct bsdb_addr *a, int secs)
{
	memset(a, 0, sizeof *a);
	if ((a->state = bstate_byname(f[0])) < 0 ||
	    get_long(f[1], &a->score) < 0 ||
	    get_when(f[4], &a->last, secs) < 0 ||
	    get_or_last(f[2], &a->since, secs, a->last) < 0 ||
	    get_or_last(f[3], &a->first, secs, a->last) < 0 ||
	    get_ulong(f[5], &a->nevents) < 0 ||
	    get_ulong(f[6], &a->ncounted) < 0 ||
	    get_ulong(f[7], &a->nhard) < 0 ||
	    get_ulong(f[8], &a->nsoft) < 0 ||
	    get_ulong(f[9], &a->ncomplaint) < 0 ||
	    get_ulong(f[10], &a->nunsub) < 0 ||
	    get_str(f[11], a->status, sizeof a->status) < 0 ||
	    get_str(f[12], a->reason, sizeof a->reason) < 0 ||
	    get_when(f[13], &a->horizon, secs) < 0 ||
	    get_ulong(f[14], &a->lo) < 0 ||
	    get_ulong(f[15], &a->hi) < 0 || a->lo > a->hi ||
	    a->hi - a->lo > BPOLICY_KEEP_MAX)
		return -1;
	return 0;
}

/* A TAB and an event's key in 16 hexadecimal digits. */
static void
add_key(struct bbuf *b, unsigned long long key)
{
	char hex[16];

	for (int i = 0; i < 16; i++)
		hex[i] = "0123456789abcdef"[key >> (60 - 4 * i) & 0xf];
	bbuf_addc(b, '\t');
	bbuf_add(b, hex, 16);
}

/* The key comes last: it never ends in a space, so padding is clear. */
static void
enc_event(struct bbuf *b, const struct bsdb_event *e)
{
	add_date(b, e->date);
	bbuf_addc(b, '\t');
	bbuf_adds(b, bev_classname(e->cls));
	bbuf_addc(b, '\t');
	add_num(b, (unsigned long long)(e->points < 0 ? 0 : e->points));
	bbuf_addc(b, '\t');
	bbuf_adds(b, bev_flagname(e->flag));
	bbuf_addc(b, '\t');
	bbuf_adds(b, bstate_name(e->state));
	add_field(b, e->rule);
	add_field(b, e->status);
	add_field(b, e->smtp);
	add_field(b, e->reason);
	add_field(b, e->source);
	add_field(b, e->note);
	add_key(b, e->key);
}

#define EVENT_FIELDS 12

static int
dec_event(char **f, struct bsdb_event *e)
{
	unsigned long pts;

	memset(e, 0, sizeof *e);
	if (b_isoparse(f[0], &e->date) < 0 ||
	    (e->cls = bev_classbyname(f[1])) < 0 ||
	    get_ulong(f[2], &pts) < 0 || pts > INT_MAX ||
	    (e->flag = *f[3] == '\0' ? BEVF_NONE :
	    byname(flag_names, BEVF_NFLAGS, f[3])) < 0 ||
	    (e->state = bstate_byname(f[4])) < 0 ||
	    get_str(f[5], e->rule, sizeof e->rule) < 0 ||
	    get_str(f[6], e->status, sizeof e->status) < 0 ||
	    get_str(f[7], e->smtp, sizeof e->smtp) < 0 ||
	    get_str(f[8], e->reason, sizeof e->reason) < 0 ||
	    get_hex64(f[11], &e->key) < 0)
		return -1;
	e->points = (int)pts;
	e->source = f[9];
	e->note = f[10];
	return 0;
}

/*
 * The lines of an entry of format 3 say what the summary already says
 * only once: an empty field (which no other field is, '-' being the
 * empty string) is the summary's state, status or reason, a date of
 * '=' its last event; class and flag are one letter; and the key is
 * left out when it is the one the event's source, address and date
 * give.
 */
static const char class_codes[BEV_NCLASS + 1] = "hscump";
static const char flag_codes[BEVF_NFLAGS + 1] = "-czs";

static int
code_of(const char *codes, const char *s)
{
	const char *p;

	if (s[0] == '\0' || s[1] != '\0' || (p = strchr(codes, s[0])) == NULL)
		return -1;
	return (int)(p - codes);
}

/* The key a record of this event would have had (see bscore(1)); an
 * event of the file's own has the address's. */
static unsigned long long
derived_key(const char *addr, const struct bsdb_event *e)
{
	char date[21];

	if (e->cls > BEV_UNSUB)
		return bpolicy_key("", addr, "");
	b_isoformat(e->date, date);
	return bpolicy_key(e->source, addr, date);
}

static void
enc_line(struct bbuf *b, unsigned long seq, const struct bsdb_event *e,
    const struct bsdb_addr *a, const char *addr)
{
	bbuf_addc(b, '\n');
	add_num(b, seq);
	bbuf_addc(b, '\t');
	add_or_last(b, e->date, 1, a->last);
	bbuf_addc(b, '\t');
	bbuf_addc(b, class_codes[e->cls]);
	bbuf_addc(b, '\t');
	add_num(b, (unsigned long long)(e->points < 0 ? 0 : e->points));
	bbuf_addc(b, '\t');
	bbuf_addc(b, flag_codes[e->flag]);
	bbuf_addc(b, '\t');
	if (e->state != a->state)
		bbuf_adds(b, bstate_name(e->state));
	add_field(b, e->rule);
	if (strcmp(e->status, a->status) == 0)
		bbuf_addc(b, '\t');
	else
		add_field(b, e->status);
	add_field(b, e->smtp);
	if (strcmp(e->reason, a->reason) == 0)
		bbuf_addc(b, '\t');
	else
		add_field(b, e->reason);
	add_field(b, e->source);
	add_field(b, e->note);
	if (e->key != derived_key(addr, e))
		add_key(b, e->key);
}

/* Fields: number, date, class, points, flag, state, rule, status, smtp,
 * reason, source, note and maybe key. */
#define LINE_FIELDS 13

static int
dec_line(char **f, int nf, struct bsdb_event *e, const struct bsdb_addr *a,
    const char *addr)
{
	unsigned long pts;

	memset(e, 0, sizeof *e);
	if ((nf != LINE_FIELDS && nf != LINE_FIELDS - 1) ||
	    get_or_last(f[1], &e->date, 1, a->last) < 0)
		return -1;
	/* A flag of '-' (not counted) comes out of split() empty. */
	if ((e->cls = code_of(class_codes, f[2])) < 0 ||
	    get_ulong(f[3], &pts) < 0 || pts > INT_MAX ||
	    (e->flag = *f[4] == '\0' && f[4] != blank ? BEVF_NONE :
	    code_of(flag_codes, f[4])) < 0)
		return -1;
	e->points = (int)pts;
	e->state = f[5] == blank ? a->state : bstate_byname(f[5]);
	if (e->state < 0 ||
	    get_str(f[6], e->rule, sizeof e->rule) < 0 ||
	    get_str(f[7] == blank ? a->status : f[7], e->status,
	    sizeof e->status) < 0 ||
	    get_str(f[8], e->smtp, sizeof e->smtp) < 0 ||
	    get_str(f[9] == blank ? a->reason : f[9], e->reason,
	    sizeof e->reason) < 0)
		return -1;
	e->source = f[10];
	e->note = f[11];
	if (nf == LINE_FIELDS)
		return get_hex64(f[12], &e->key);
	e->key = derived_key(addr, e);
	return 0;
}

static void
enc_sent(struct bbuf *b, const char *addr, time_t date)
{
	brec_escape(b, addr);
	bbuf_addc(b, '\t');
	add_date(b, date);
}

#define SENT_FIELDS 2

/* ---- opening and errors ---- */

static void
seterr(struct bsdb *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof db->err, fmt, ap);
	va_end(ap);
}

/* TDB's own messages: keep the last serious one for bsdb_error(). */
static void
tdb_log(struct tdb_context *tdb, enum tdb_debug_level level,
    const char *fmt, ...)
{
	struct bsdb *db = tdb_get_logging_private(tdb);
	va_list ap;
	size_t n;

	if (db == NULL)
		return;
	/* A full disk, a quota or an I/O error: say that, not what TDB
	 * failed to do because of it. */
	if (db->syserr == 0 && (errno == ENOSPC || errno == EDQUOT ||
	    errno == EFBIG || errno == EIO))
		db->syserr = errno;
	if (strncmp(fmt, "tdb_transaction_recover: recovered", 34) == 0)
		db->recovered = 1;
	if (level > TDB_DEBUG_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(db->err, sizeof db->err, fmt, ap);
	va_end(ap);
	n = strlen(db->err);
	while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
}

/* Is the file system of the file short of the room TDB grows a file
 * by (a quarter of its size, with what is to be written)?  TDB does
 * not always leave errno at ENOSPC when growing the file failed. */
static int
short_of_space(struct bsdb *db)
{
	struct statvfs fs;
	struct stat st;
	int fd = tdb_fd(db->tdb);

	if (fd < 0 || fstat(fd, &st) < 0 || fstatvfs(fd, &fs) < 0)
		return 0;
	return (uint64_t)fs.f_bavail * fs.f_frsize <
	    (uint64_t)st.st_size / 4 + (1 << 20);
}

/* Report a failed TDB call: the system's error if a write failed, else
 * TDB's logged words, else its error code; say so plainly when TDB
 * found the file damaged. */
static int
tdberr(struct bsdb *db, const char *what)
{
	char tdbsays[sizeof db->err];

	/* A failed commit cancels the transaction, which clears the
	 * error code. */
	if (db->syserr == 0 && strcmp(what, "writing") == 0 &&
	    (tdb_error(db->tdb) == TDB_ERR_IO ||
	    tdb_error(db->tdb) == TDB_SUCCESS) && short_of_space(db))
		db->syserr = ENOSPC;
	if (db->syserr != 0) {
		seterr(db, "%s: %s", what, strerror(db->syserr));
		db->syserr = 0;
		return -1;
	}
	if (db->err[0] == '\0')
		snprintf(tdbsays, sizeof tdbsays, "%s: %s", what,
		    tdb_errorstr(db->tdb));
	else
		b_strlcpy(tdbsays, db->err, sizeof tdbsays);
	if (tdb_error(db->tdb) == TDB_ERR_CORRUPT ||
	    strstr(tdbsays, "tdb_transaction_recover:") != NULL)
		seterr(db, "damaged state file (%s)", tdbsays);
	else
		seterr(db, "%s", tdbsays);
	return -1;
}

const char *
bsdb_error(const struct bsdb *db)
{
	return db->err[0] ? db->err : "unknown error";
}

char *
bsdb_path(const char *path, int mkdir_default)
{
	const char *env, *home;
	struct bbuf b = { 0 };

	if (path != NULL)
		return b_strdup(path);
	if ((env = getenv("BOUNCE_DB")) != NULL && *env != '\0')
		return b_strdup(env);
	if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/')
		bbuf_adds(&b, env);
	else if ((home = getenv("HOME")) != NULL && *home == '/') {
		bbuf_adds(&b, home);
		bbuf_adds(&b, "/.local/state");
	} else {
		errno = ENOENT;
		return NULL;
	}
	bbuf_adds(&b, "/bounce");
	if (mkdir_default) {
		/* Create each missing level, like mkdir -p. */
		for (char *p = b.s + 1; ; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char c = *p;
			*p = '\0';
			if (mkdir(b.s, 0700) < 0 && errno != EEXIST) {
				bbuf_free(&b);
				return NULL;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	bbuf_adds(&b, "/state.tdb");
	return b.s;
}

/* Refuse what is plainly not a TDB before TDB looks at it. */
static int
precheck(struct bsdb *db, const char *path)
{
	static const char magic[] = "TDB file\n";
	char buf[sizeof magic - 1];
	struct stat st;
	int fd;
	ssize_t n;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT && db->rdwr)
			return 0;
		seterr(db, "%s", strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		seterr(db, "%s", strerror(EISDIR));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(db, "not a regular file");
		return -1;
	}
	if (st.st_size == 0 && db->rdwr)
		return 0;
	if ((fd = open(path, O_RDONLY)) < 0) {
		seterr(db, "%s", strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n != (ssize_t)sizeof buf || memcmp(buf, magic, sizeof buf) != 0) {
		seterr(db, "not a bounce state file (not a TDB file)");
		return -1;
	}
	return 0;
}

static TDB_DATA
datum(const char *s, size_t n)
{
	TDB_DATA d = { (unsigned char *)s, n };

	return d;
}

static TDB_DATA
strdatum(const char *s)
{
	return datum(s, strlen(s));
}

/* Does the file hold any key at all?  1, 0, or -1. */
static int
any_key(struct bsdb *db)
{
	TDB_DATA k = tdb_firstkey(db->tdb);

	if (k.dptr != NULL) {
		free(k.dptr);
		return 1;
	}
	if (tdb_error(db->tdb) != TDB_SUCCESS &&
	    tdb_error(db->tdb) != TDB_ERR_NOEXIST)
		return tdberr(db, "reading");
	return 0;
}

/* Is the header value v ours?  0, or -1 with the reason set. */
static int
header_ok(struct bsdb *db, TDB_DATA v)
{
	size_t hl = strlen(HEADER_NAME);
	char num[16] = "";
	int n;

	if (v.dsize <= hl + 1 || v.dsize - hl - 1 >= sizeof num ||
	    memcmp(v.dptr, HEADER_NAME, hl) != 0 || v.dptr[hl] != ' ') {
		seterr(db, "not a bounce state file");
		return -1;
	}
	memcpy(num, v.dptr + hl + 1, v.dsize - hl - 1);
	n = atoi(num);
	if (n > BSDB_FORMAT) {
		seterr(db, "state file format %d is newer than this "
		    "program's (%d)", n, BSDB_FORMAT);
		return -1;
	}
	if (n < 1) {
		seterr(db, "not a bounce state file (unknown format)");
		return -1;
	}
	/* The values of formats 1 and 2 are read as they are; a writer
	 * changes the header in its first transaction (bsdb_begin()). */
	db->format = n;
	return 0;
}

/* 1 and the header checked, 0 when there is none, -1 on error. */
static int
read_header(struct bsdb *db)
{
	TDB_DATA v = tdb_fetch(db->tdb, strdatum(HEADER_KEY));
	int rv;

	if (v.dptr == NULL)
		return tdb_error(db->tdb) == TDB_ERR_NOEXIST ? 0 :
		    tdberr(db, "reading");
	rv = header_ok(db, v) < 0 ? -1 : 1;
	free(v.dptr);
	return rv;
}

/*
 * Check the format header.  A file without one must be empty; a writer
 * then gives it the header in a transaction of its own, looking again
 * inside it, so that two writers creating the file at once agree.
 */
static int
check_header(struct bsdb *db)
{
	char want[64];
	int rv;

	if ((rv = read_header(db)) != 0)
		return rv < 0 ? -1 : 0;
	if ((rv = any_key(db)) != 0) {
		if (rv > 0)
			seterr(db, "not a bounce state file");
		return -1;
	}
	if (!db->rdwr)
		return 0;	/* empty: nothing is muted */
	if (tdb_transaction_start(db->tdb) != 0)
		return tdberr(db, "locking");
	snprintf(want, sizeof want, "%s %d", HEADER_NAME, BSDB_FORMAT);
	if ((rv = read_header(db)) == 0) {
		if ((rv = any_key(db)) > 0) {
			seterr(db, "not a bounce state file");
			rv = -1;
		} else if (rv == 0 && tdb_store(db->tdb, strdatum(HEADER_KEY),
		    strdatum(want), TDB_INSERT) != 0)
			rv = tdberr(db, "writing");
		else if (rv == 0)
			db->format = BSDB_FORMAT;
	}
	if (rv < 0) {
		tdb_transaction_cancel(db->tdb);
		return -1;
	}
	if (tdb_transaction_commit(db->tdb) != 0)
		return tdberr(db, "writing");
	return 0;
}

/* Open the TDB file, reporting failures in words. */
static int
open_tdb(struct bsdb *db, int rdwr, int tflags)
{
	struct tdb_logging_context log = { tdb_log, db };
	char tdbsays[sizeof db->err];

	db->err[0] = '\0';
	db->syserr = 0;
	errno = 0;
	db->tdb = tdb_open_ex(db->path, BSDB_HASHSIZE, tflags,
	    rdwr ? O_RDWR | O_CREAT : O_RDONLY, 0666, &log, NULL);
	if (db->tdb != NULL)
		return 0;
	/* The file passed precheck(): what TDB refuses now is a damaged
	 * file, unless the system said otherwise. */
	b_strlcpy(tdbsays, db->err, sizeof tdbsays);
	if (db->syserr != 0)
		seterr(db, "%s", strerror(db->syserr));
	else if (errno == EACCES || errno == EROFS || errno == ENOSPC ||
	    errno == ENOMEM || errno == EMFILE || errno == ENFILE)
		seterr(db, "%s", strerror(errno));
	else if (strstr(tdbsays, "recover read only") != NULL)
		seterr(db, "an interrupted write must be rolled back, which "
		    "needs write access");
	else if (tdbsays[0] != '\0')
		seterr(db, "damaged state file (%s)", tdbsays);
	else
		seterr(db, "damaged state file (unreadable TDB header)");
	return -1;
}

/*
 * After a crash in the middle of a commit TDB rolls the file back when
 * a writer opens it.  The space the interrupted commit had added at the
 * end is left unused, and tdb_check() then reports it; repacking makes
 * it free space again.  A reader cannot roll back, so it asks for a
 * writer's open first, when it may write the file.
 */
static int
open_recovering(struct bsdb *db, int tflags)
{
	if (open_tdb(db, db->rdwr, tflags) == 0) {
		if (db->recovered && tdb_repack(db->tdb) != 0)
			return tdberr(db, "repacking after a crash");
		return 0;
	}
	if (db->rdwr || strstr(db->err, "interrupted write") == NULL ||
	    access(db->path, W_OK) != 0)
		return -1;
	if (open_tdb(db, 1, tflags) < 0)
		return -1;
	if (db->recovered && tdb_repack(db->tdb) != 0) {
		tdberr(db, "repacking after a crash");
		tdb_close(db->tdb);
		db->tdb = NULL;
		return -1;
	}
	tdb_close(db->tdb);
	db->tdb = NULL;
	return open_tdb(db, 0, tflags);
}

/* Does link(2) failing with e mean the file system has no hard links?
 * Then a new file is renamed into place, which only a writer making
 * the file in the same instant could race. */
static int
no_links(int e)
{
	return e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS;
}

/* The directory of a path, to be freed. */
static char *
dir_of(const char *path)
{
	char *dir = b_strdup(path), *slash;

	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir] = '\0';
	else
		strcpy(dir, ".");
	return dir;
}

/* Make the file to stage a new state file in: a file with no name in
 * path's directory where the system has them (then nothing is left
 * behind if the program dies before publish()), else a temporary name
 * beside path.  Its name to open in db->staged; -1 with the reason. */
static int
stage_file(struct bsdb *db)
{
	struct bbuf tmp = { 0 };
	mode_t mask = umask(0);
	char *dir = dir_of(db->path), proc[64];
	int fd;

	umask(mask);
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
	free(dir);
	if (fd >= 0) {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		if (access(proc, F_OK) == 0) {
			db->stagefd = fd;
			db->staged = b_strdup(proc);
			return 0;
		}
		close(fd);
	}
	bbuf_adds(&tmp, db->path);
	bbuf_adds(&tmp, ".XXXXXX");
	if ((fd = mkstemp(tmp.s)) < 0) {
		seterr(db, "%s", strerror(errno));
		bbuf_free(&tmp);
		return -1;
	}
	db->staged = tmp.s;
	if (fchmod(fd, 0666 & ~mask) < 0) {
		seterr(db, "%s: %s", tmp.s, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Start a new state file, staged by stage_file(), with its hash table
 * and format header, open in db->tdb.  TDB writes a new file's hash
 * table (4 MB) in place, and a full disk or a crash would leave a file
 * too short for it, which every later open refuses as damaged;
 * publish() links the finished file into place.
 */
static int
stage(struct bsdb *db, int tflags)
{
	struct tdb_logging_context log = { tdb_log, db };

	if (stage_file(db) < 0)
		return -1;
	db->err[0] = '\0';
	db->syserr = 0;
	errno = 0;
	db->tdb = tdb_open_ex(db->staged, BSDB_HASHSIZE, tflags,
	    O_RDWR | O_CREAT, 0666, &log, NULL);
	if (db->tdb == NULL) {
		if (db->syserr != 0 || errno != 0)
			seterr(db, "%s", strerror(db->syserr ? db->syserr :
			    errno));
		else if (db->err[0] == '\0')
			seterr(db, "cannot make a new state file");
		return -1;
	}
	return check_header(db);
}

/* Link the staged file into place, unless a file is there already,
 * and sync the directory so that the name lasts.  -1 with the reason,
 * or -2 when another writer made the file meanwhile. */
static int
publish(struct bsdb *db)
{
	char *dir;
	int rv = 0, e;

	if (db->stagefd >= 0)
		e = linkat(AT_FDCWD, db->staged, AT_FDCWD, db->path,
		    AT_SYMLINK_FOLLOW) < 0 ? errno : 0;
	else {
		e = link(db->staged, db->path) < 0 ? errno : 0;
		if (e != 0 && no_links(e))
			e = access(db->path, F_OK) == 0 ? EEXIST :
			    rename(db->staged, db->path) < 0 ? errno : 0;
	}
	if (e == EEXIST) {
		seterr(db, "made by another program meanwhile");
		return -2;
	}
	if (e != 0) {
		seterr(db, "%s", strerror(e));
		return -1;
	}
	if (db->stagefd < 0)
		unlink(db->staged);
	free(db->staged);
	db->staged = NULL;
	if (db->nosync)
		return 0;
	dir = dir_of(db->path);
	if (b_fsyncdir(dir) < 0) {
		seterr(db, "%s: %s", dir, strerror(errno));
		rv = -1;
	}
	free(dir);
	return rv;
}

/* Drop a staged file that was not published, and the descriptor of
 * one with no name (only once TDB closed its own: closing any
 * descriptor of a file drops the process's locks on it). */
static void
unstage(struct bsdb *db)
{
	if (db->staged != NULL && db->stagefd < 0)
		unlink(db->staged);
	free(db->staged);
	db->staged = NULL;
	if (db->stagefd >= 0)
		close(db->stagefd);
	db->stagefd = -1;
}

/* Make a missing state file whole or not at all; if another writer
 * made it first, the one already there is used. */
static int
create_file(struct bsdb *db, int tflags)
{
	int rv = stage(db, tflags);

	if (db->tdb != NULL && tdb_close(db->tdb) != 0 && rv == 0) {
		seterr(db, "closing: %s", strerror(errno));
		rv = -1;
	}
	db->tdb = NULL;
	if (rv == 0 && (rv = publish(db)) == -2)
		rv = 0;
	unstage(db);
	return rv;
}

int
bsdb_publish(struct bsdb *db)
{
	if (db->staged == NULL)
		return 0;
	return publish(db) < 0 ? -1 : 0;
}

struct bsdb *
bsdb_open(const char *path, int flags, char **why)
{
	struct bsdb *db = b_malloc(sizeof *db);
	int tflags = TDB_INCOMPATIBLE_HASH;

	memset(db, 0, sizeof *db);
	db->stagefd = -1;
	db->path = b_strdup(path);
	db->rdwr = (flags & BSDB_RDWR) != 0;
	if (flags & BSDB_NOSYNC)
		tflags |= TDB_NOSYNC;
	db->nosync = (flags & BSDB_NOSYNC) != 0;
	if (precheck(db, path) < 0)
		goto fail;
	if (db->rdwr && access(path, F_OK) < 0 && errno == ENOENT) {
		if (flags & BSDB_STAGE) {
			if (stage(db, tflags) < 0)
				goto fail;
			return db;
		}
		if (create_file(db, tflags) < 0)
			goto fail;
	}
	if (open_recovering(db, tflags) < 0)
		goto fail;
	db->err[0] = '\0';
	if (check_header(db) < 0)
		goto fail;
	return db;
fail:
	*why = b_strdup(db->err[0] ? db->err : "cannot open");
	bsdb_close(db);
	return NULL;
}

int
bsdb_close(struct bsdb *db)
{
	int rv = 0;

	if (db == NULL)
		return 0;
	if (db->tdb != NULL) {
		if (db->intrans)
			tdb_transaction_cancel(db->tdb);
		rv = tdb_close(db->tdb);
	}
	unstage(db);
	bbuf_free(&db->key);
	bbuf_free(&db->val);
	bbuf_free(&db->sum);
	bbuf_free(&db->lines);
	barena_free(&db->ar);
	free(db->ends);
	free(db->split);
	free(db->path);
	free(db);
	return rv;
}

/* ---- transactions ---- */

static volatile sig_atomic_t timed_out;

static void
on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/* The first transaction on a file of an older format makes it the
 * current one: its values are valid as they are, and entries change
 * format as they are written, but older programs must not read the
 * entries that this one writes. */
static int
upgrade(struct bsdb *db)
{
	char want[64];

	if (db->format == 0 || db->format == BSDB_FORMAT)
		return 0;
	snprintf(want, sizeof want, "%s %d", HEADER_NAME, BSDB_FORMAT);
	if (tdb_store(db->tdb, strdatum(HEADER_KEY), strdatum(want),
	    TDB_REPLACE) != 0) {
		tdberr(db, "writing");
		tdb_transaction_cancel(db->tdb);
		db->intrans = 0;
		return -1;
	}
	return 0;
}

int
bsdb_begin(struct bsdb *db, unsigned secs)
{
	struct sigaction sa, old;
	int rv;

	if (db->intrans)
		return 0;
	db->err[0] = '\0';
	if (secs == 0) {
		if (tdb_transaction_start(db->tdb) != 0)
			return tdberr(db, "locking");
		db->intrans = 1;
		return upgrade(db);
	}
	/* SIGALRM interrupts the lock wait; TDB then sees the flag. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	timed_out = 0;
	sigaction(SIGALRM, &sa, &old);
	tdb_setalarm_sigptr(db->tdb, &timed_out);
	alarm(secs);
	rv = tdb_transaction_start(db->tdb);
	alarm(0);
	tdb_setalarm_sigptr(db->tdb, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (rv != 0) {
		if (timed_out) {
			seterr(db, "still locked by another writer after "
			    "%u s", secs);
			return -2;
		}
		return tdberr(db, "locking");
	}
	db->intrans = 1;
	return upgrade(db);
}

int
bsdb_commit(struct bsdb *db)
{
	if (!db->intrans)
		return 0;
	db->intrans = 0;
	if (tdb_transaction_commit(db->tdb) != 0)
		return tdberr(db, "writing");
	if (db->format != 0)
		db->format = BSDB_FORMAT;
	return 0;
}

void
bsdb_cancel(struct bsdb *db)
{
	if (!db->intrans)
		return;
	db->intrans = 0;
	tdb_transaction_cancel(db->tdb);
}

/* ---- keys and values ---- */

static TDB_DATA
mkkey(struct bsdb *db, const char *prefix, const char *s,
    unsigned long seq, int withseq)
{
	bbuf_reset(&db->key);
	bbuf_adds(&db->key, prefix);
	bbuf_adds(&db->key, s);
	if (withseq) {
		bbuf_addc(&db->key, ':');
		add_num(&db->key, seq);
	}
	return datum(db->key.s, db->key.len);
}

/* Start a value in db->val: the value format comes first. */
static struct bbuf *
newval(struct bsdb *db)
{
	bbuf_reset(&db->val);
	bbuf_adds(&db->val, "1\t");
	return &db->val;
}

static int
damaged(struct bsdb *db, TDB_DATA key)
{
	seterr(db, "damaged entry %.*s", (int)key.dsize, (char *)key.dptr);
	return -1;
}

static int
damaged_addr(struct bsdb *db, const char *addr)
{
	seterr(db, "damaged entry %s%s", ADDR_PREFIX, addr);
	return -1;
}

/*
 * The value of key without its padding, NUL-terminated, in ar, or in
 * db->split when ar is NULL; *size (if not NULL) is its size in the
 * file.  1, 0 when there is no such key, -1 on error.  (Not with
 * tdb_parse_record(), which reports a damaged hash chain as a missing
 * key.)
 */
static int
get_value(struct bsdb *db, TDB_DATA key, struct barena *ar, char **s,
    size_t *size)
{
	TDB_DATA v = tdb_fetch(db->tdb, key);
	size_t n;

	if (v.dptr == NULL) {
		if (tdb_error(db->tdb) == TDB_ERR_NOEXIST)
			return 0;
		return tdberr(db, "reading");
	}
	if (size != NULL)
		*size = v.dsize;
	for (n = v.dsize; n > 0 && v.dptr[n - 1] == ' '; n--)
		;
	if (ar != NULL)
		*s = barena_strndup(ar, (char *)v.dptr, n);
	else {
		if (n + 1 > db->splitcap) {
			db->splitcap = n + 256;
			db->split = b_realloc(db->split, db->splitcap);
		}
		*s = db->split;
		memcpy(*s, v.dptr, n);
		(*s)[n] = '\0';
	}
	free(v.dptr);
	/* A NUL inside would cut the value short: that is damage too. */
	if (strlen(*s) != n)
		return damaged(db, key);
	return 1;
}

/*
 * Fetch a value of format 1 and split it into nf fields, which live in
 * db->split, or in ar when ar is not NULL.  Returns nf, 0 when there is
 * no such key, -1 on error.
 */
static int
fetch(struct bsdb *db, TDB_DATA key, char **f, int nf, struct barena *ar)
{
	char *s;
	int rv;

	if ((rv = get_value(db, key, ar, &s, NULL)) <= 0)
		return rv;
	if (strncmp(s, "1\t", 2) != 0 || split(s + 2, f, nf) != nf)
		return damaged(db, key);
	return nf;
}

static int
store(struct bsdb *db, TDB_DATA key, struct bbuf *v, int flag)
{
	if (!db->intrans) {
		seterr(db, "write outside a transaction");
		return -1;
	}
	if (tdb_store(db->tdb, key, datum(v->s, v->len), flag) != 0)
		return tdberr(db, "writing");
	return 0;
}

static int
delete(struct bsdb *db, TDB_DATA key)
{
	if (!db->intrans) {
		seterr(db, "write outside a transaction");
		return -1;
	}
	if (tdb_delete(db->tdb, key) != 0 &&
	    tdb_error(db->tdb) != TDB_ERR_NOEXIST)
		return tdberr(db, "writing");
	return 0;
}

/* ---- event records: the events that do not fit in their entry ---- */

static int
record_get(struct bsdb *db, const char *addr, unsigned long seq,
    struct bsdb_event *e, struct barena *ar)
{
	TDB_DATA k = mkkey(db, EVENT_PREFIX, addr, seq, 1);
	char *f[EVENT_FIELDS];
	int n;

	if ((n = fetch(db, k, f, EVENT_FIELDS, ar)) <= 0)
		return n;
	if (dec_event(f, e) < 0)
		return damaged(db, k);
	return 1;
}

static int
record_put(struct bsdb *db, const char *addr, unsigned long seq,
    const struct bsdb_event *e)
{
	struct bbuf *v = newval(db);

	enc_event(v, e);
	pad(v, (v->len + VALUE_ALIGN - 1) / VALUE_ALIGN * VALUE_ALIGN);
	return store(db, mkkey(db, EVENT_PREFIX, addr, seq, 1), v,
	    TDB_REPLACE);
}

static int
record_del(struct bsdb *db, const char *addr, unsigned long seq)
{
	return delete(db, mkkey(db, EVENT_PREFIX, addr, seq, 1));
}

/* ---- entries: an address's summary and newest events ---- */

/*
 * Split the summary line at the start of s (a value without padding) in
 * place: the summary into *a, the first number of the events kept in
 * the entry into *inl, and *rest to the event lines (NULL when none);
 * in format 3, the size its record was allocated for into *size (when
 * not NULL).  A summary of format 1 has no event lines: its events are
 * all event records.  The value format (1, 2 or 3), or -1 when it is
 * damaged.
 */
static int
dec_summary(char *s, struct bsdb_addr *a, unsigned long *inl, char **rest,
    size_t *size)
{
	char *f[ADDR_FIELDS + 2], *nl;
	unsigned long sz;
	int fmt;

	*rest = NULL;
	if (strncmp(s, "1\t", 2) == 0) {
		if (strchr(s, '\n') != NULL ||
		    split(s + 2, f, ADDR_FIELDS) != ADDR_FIELDS ||
		    dec_addr(f, a, 0) < 0)
			return -1;
		*inl = a->hi;
		return 1;
	}
	if ((s[0] != '2' && s[0] != '3') || s[1] != '\t')
		return -1;
	fmt = s[0] - '0';
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*rest = nl + 1;
	}
	if (split(s + 2, f, ADDR_FIELDS + 2) != ADDR_FIELDS + 1 + (fmt == 3) ||
	    dec_addr(f, a, fmt == 3) < 0 ||
	    get_ulong(f[ADDR_FIELDS], inl) < 0 || *inl < a->lo || *inl > a->hi)
		return -1;
	if (fmt == 3) {
		if (get_ulong(f[ADDR_FIELDS + 1], &sz) < 0 || sz == 0)
			return -1;
		if (size != NULL)
			*size = sz;
	}
	return fmt;
}

/* Decode one event line of an entry of format fmt, in place, and its
 * number into *sq.  0, or -1 when it is damaged. */
static int
dec_one(char *s, int fmt, const struct bsdb_addr *a, const char *addr,
    struct bsdb_event *e, unsigned long *sq)
{
	char *f[LINE_FIELDS];
	int nf;

	if (fmt == 3) {
		nf = split(s, f, LINE_FIELDS);
		return nf < 1 || get_ulong(f[0], sq) < 0 ||
		    dec_line(f, nf, e, a, addr) < 0 ? -1 : 0;
	}
	return split(s, f, EVENT_FIELDS + 1) != EVENT_FIELDS + 1 ||
	    get_ulong(f[0], sq) < 0 || dec_event(f + 1, e) < 0 ? -1 : 0;
}

/*
 * Decode the event lines of an entry of format fmt, in place, into e[]
 * and seq[] from index *n on (room for them was made).  Their numbers
 * rise, from inl to below a->hi.  0, or -1 when they are damaged.
 */
static int
dec_lines(char *s, int fmt, const struct bsdb_addr *a, const char *addr,
    unsigned long inl, struct bsdb_event *e, unsigned long *seq, size_t *n)
{
	char *nl;
	unsigned long next = inl, sq;

	while (s != NULL) {
		if ((nl = strchr(s, '\n')) != NULL)
			*nl = '\0';
		if (dec_one(s, fmt, a, addr, &e[*n], &sq) < 0 ||
		    sq < next || sq >= a->hi)
			return -1;
		seq[(*n)++] = sq;
		next = sq + 1;
		s = nl != NULL ? nl + 1 : NULL;
	}
	return 0;
}

/* How many lines s holds (none when it is NULL). */
static size_t
count_lines(const char *s)
{
	size_t n = 0;

	while (s != NULL) {
		n++;
		if ((s = strchr(s, '\n')) != NULL)
			s++;
	}
	return n;
}

/*
 * Read the entry of addr into x, with room for extra more events; with
 * records, the events that are event records too, else only those in
 * the entry.  Strings live in ar.  1, 0 when the address is not known
 * (x then holds a new address), -1 on error.
 */
static int
load_entry(struct bsdb *db, const char *addr, struct bsdb_entry *x,
    size_t extra, int records, struct barena *ar)
{
	TDB_DATA k = mkkey(db, ADDR_PREFIX, addr, 0, 0);
	char *s, *rest;
	size_t size, stored, room;
	int rv, fmt = 0;

	memset(x, 0, sizeof *x);
	x->a.state = BS_SEND;
	x->a.lo = x->a.hi = x->lo0 = x->inl = 1;
	if ((rv = get_value(db, k, ar, &s, &size)) < 0)
		return -1;
	if (rv > 0) {
		stored = size;
		if ((fmt = dec_summary(s, &x->a, &x->inl, &rest, &size)) < 0)
			return damaged(db, k);
		/* The value was padded to its size: a larger one is wrong,
		 * and a rewrite would pad to it.  (A wrong size costs room,
		 * never data.) */
		if (size > stored)
			size = stored;
	}
	room = extra + (rv > 0 ? count_lines(rest) : 0);
	if (records && rv > 0)
		room += x->inl - x->a.lo;
	x->e = barena_alloc(ar, (room ? room : 1) * sizeof x->e[0]);
	x->seq = barena_alloc(ar, (room ? room : 1) * sizeof x->seq[0]);
	x->dirty = barena_alloc(ar, room ? room : 1);
	memset(x->dirty, 0, room ? room : 1);
	if (rv == 0)
		return 0;
	x->found = 1;
	x->size = size;
	x->lo0 = x->a.lo;
	for (unsigned long sq = x->a.lo; records && sq < x->inl; sq++) {
		int r = record_get(db, addr, sq, &x->e[x->n], ar);
		if (r < 0)
			return -1;
		if (r == 0)	/* should not happen: tolerate a gap */
			continue;
		x->seq[x->n++] = sq;
	}
	if (dec_lines(rest, fmt, &x->a, addr, x->inl, x->e, x->seq,
	    &x->n) < 0)
		return damaged_addr(db, addr);
	return 1;
}

/* The summary line of an entry into b; size is the one it was given. */
static void
enc_summary(struct bbuf *b, const struct bsdb_addr *a, unsigned long inl,
    size_t size)
{
	bbuf_reset(b);
	bbuf_adds(b, "3\t");
	enc_addr(b, a, 1);
	bbuf_addc(b, '\t');
	add_num(b, inl);
	bbuf_addc(b, '\t');
	add_num(b, size);
}

/*
 * How long a value may grow in place, in a record allocated for size
 * bytes under a key of klen bytes.  TDB allocates a quarter more than
 * it is asked for, and rewrites a value in place while it fits; this
 * stays a few bytes below that.  (Were it wrong, TDB would move the
 * record: slower, never wrong.)
 */
static size_t
tdb_room(size_t klen, size_t size)
{
	return size + (klen + size) / 4 - 4;
}

/* The size to ask for so that a value of len bytes has room for more. */
static size_t
new_size(size_t klen, size_t len, size_t more)
{
	size_t want = len + more, size = len;

	/* tdb_room() is about 5/4 of size: start near the least size
	 * whose room is want, then step up to it. */
	if (4 * (want + 4) > 5 * len + klen)
		size = (4 * (want + 4) - klen) / 5;
	while (tdb_room(klen, size) < want)
		size++;
	return (size + ENTRY_ALIGN - 1) / ENTRY_ALIGN * ENTRY_ALIGN;
}

/*
 * Write the entry of addr: its summary, and the events e[0..n-1]
 * (numbers seq[], rising, from inl on) as lines.  size is what the
 * entry's record was allocated for, 0 for a new one.  When the lines
 * outgrow the record, the oldest become event records; when the
 * summary alone does not fit either, the entry moves to a larger
 * record.  A new entry gets room for one more event.  The final inl
 * and size go to *inlp and *sizep.
 */
static int
write_entry(struct bsdb *db, const char *addr, const struct bsdb_addr *a,
    unsigned long inl, const struct bsdb_event *e,
    const unsigned long *seq, size_t n, size_t size, unsigned long *inlp,
    size_t *sizep)
{
	size_t first = 0, longest = 0, len, start, room, klen;
	unsigned long next = inl;
	int isnew = size == 0;

	if (n > db->nends) {
		db->nends = n + 16;
		db->ends = b_realloc(db->ends, db->nends * sizeof db->ends[0]);
	}
	bbuf_reset(&db->lines);
	for (size_t i = 0; i < n; i++) {
		size_t before = db->lines.len;
		enc_line(&db->lines, seq[i], &e[i], a, addr);
		db->ends[i] = db->lines.len;
		if (db->lines.len - before > longest)
			longest = db->lines.len - before;
	}
	if (n == 0)
		longest = EVENT_GUESS;
	klen = strlen(ADDR_PREFIX) + strlen(addr);
	room = isnew ? 0 : tdb_room(klen, size);
	for (;;) {
		enc_summary(&db->sum, a, inl, size);
		start = first > 0 ? db->ends[first - 1] : 0;
		len = db->sum.len + db->lines.len - start;
		if (isnew || len <= room || first == n)
			break;
		inl = seq[first++] + 1;	/* the oldest moves out */
	}
	/* The events that move out become event records.  A number
	 * between them that is no event comes into the records' reach
	 * too: no record may stand under it (only damage leaves one). */
	for (size_t i = 0; i < first; i++) {
		for (; next < seq[i]; next++)
			if (record_del(db, addr, next) < 0)
				return -1;
		if (record_put(db, addr, seq[i], &e[i]) < 0)
			return -1;
		next = seq[i] + 1;
	}
	if (isnew || len > room) {
		/* Room for the next event: its line, the dates that the
		 * newest line and the summary then spell out, and longer
		 * numbers.  The size written in the summary may add a
		 * digit or two. */
		size = new_size(klen, len + 4, longest + ENTRY_SLACK);
		enc_summary(&db->sum, a, inl, size);
	}
	bbuf_reset(&db->val);
	bbuf_add(&db->val, db->sum.s, db->sum.len);
	if (db->lines.len > start)
		bbuf_add(&db->val, db->lines.s + start, db->lines.len - start);
	pad(&db->val, size);
	if (inlp != NULL)
		*inlp = inl;
	if (sizep != NULL)
		*sizep = size;
	return store(db, mkkey(db, ADDR_PREFIX, addr, 0, 0), &db->val,
	    isnew ? TDB_INSERT : TDB_REPLACE);
}

/* ---- the calls on addresses and events ---- */

int
bsdb_load(struct bsdb *db, const char *addr, struct bsdb_entry *x,
    size_t extra, struct barena *ar)
{
	return load_entry(db, addr, x, extra, 1, ar);
}

int
bsdb_save(struct bsdb *db, const char *addr, struct bsdb_entry *x)
{
	unsigned long lo = x->a.lo, from;
	size_t i;

	/* The event records of the events dropped go. */
	for (unsigned long sq = x->lo0; sq < lo && sq < x->inl; sq++)
		if (record_del(db, addr, sq) < 0)
			return -1;
	/* Changed events that are event records stay there; the others
	 * are lines of the entry. */
	from = x->inl > lo ? x->inl : lo;
	if (from > x->a.hi)
		from = x->a.hi;
	for (i = 0; i < x->n && x->seq[i] < from; i++)
		if (x->dirty[i] && x->seq[i] >= lo &&
		    record_put(db, addr, x->seq[i], &x->e[i]) < 0)
			return -1;
	if (write_entry(db, addr, &x->a, from, x->e + i, x->seq + i,
	    x->n - i, x->found ? x->size : 0, &x->inl, &x->size) < 0)
		return -1;
	x->found = 1;
	x->lo0 = lo;
	memset(x->dirty, 0, x->n);
	return 0;
}

int
bsdb_get(struct bsdb *db, const char *addr, struct bsdb_addr *a)
{
	TDB_DATA k = mkkey(db, ADDR_PREFIX, addr, 0, 0);
	unsigned long inl;
	char *s, *rest;
	int rv;

	memset(a, 0, sizeof *a);
	a->state = BS_SEND;
	a->lo = a->hi = 1;
	if ((rv = get_value(db, k, NULL, &s, NULL)) <= 0)
		return rv;
	if (dec_summary(s, a, &inl, &rest, NULL) < 0)
		return damaged(db, k);
	return 1;
}

struct state_parse {
	int state;
};

/* Read the state in place, without copying the value. */
static int
parse_state(TDB_DATA k, TDB_DATA v, void *arg)
{
	struct state_parse *sp = arg;
	char name[16];
	size_t i;

	(void)k;
	sp->state = -1;
	if (v.dsize < 3 || v.dptr[0] < '1' || v.dptr[0] > '3' ||
	    v.dptr[1] != '\t')
		return 0;
	for (i = 0; i + 2 < v.dsize && i < sizeof name - 1; i++) {
		if (v.dptr[i + 2] == '\t')
			break;
		name[i] = (char)v.dptr[i + 2];
	}
	name[i] = '\0';
	sp->state = bstate_byname(name);
	return 0;
}

int
bsdb_state(struct bsdb *db, const char *addr)
{
	TDB_DATA k = mkkey(db, ADDR_PREFIX, addr, 0, 0);
	struct state_parse sp = { -1 };

	if (tdb_parse_record(db->tdb, k, parse_state, &sp) != 0) {
		if (tdb_error(db->tdb) == TDB_ERR_NOEXIST)
			return BS_SEND;
		return tdberr(db, "reading");
	}
	if (sp.state < 0)
		return damaged(db, k);
	return sp.state;
}

/* The calls below change one part of an entry: they read it, change
 * it and write it again. */

int
bsdb_put(struct bsdb *db, const char *addr, const struct bsdb_addr *a)
{
	struct bsdb_entry x;
	unsigned long from;
	size_t j = 0;
	int rv;

	barena_reset(&db->ar);
	if ((rv = load_entry(db, addr, &x, 0, 0, &db->ar)) < 0)
		return -1;
	if (rv == 0)
		x.inl = a->lo;	/* a new entry: its events go in it */
	from = x.inl < a->lo ? a->lo : x.inl > a->hi ? a->hi : x.inl;
	for (size_t i = 0; i < x.n; i++)
		if (x.seq[i] >= from && x.seq[i] < a->hi) {
			x.e[j] = x.e[i];
			x.seq[j++] = x.seq[i];
		}
	return write_entry(db, addr, a, from, x.e, x.seq, j, x.size, NULL,
	    NULL);
}

int
bsdb_event_get(struct bsdb *db, const char *addr, unsigned long seq,
    struct bsdb_event *e, struct barena *ar)
{
	TDB_DATA k = mkkey(db, ADDR_PREFIX, addr, 0, 0);
	struct bsdb_addr a;
	unsigned long inl;
	char *s, *rest, *nl;
	int rv, fmt;

	if ((rv = get_value(db, k, NULL, &s, NULL)) < 0)
		return -1;
	if (rv == 0)
		return record_get(db, addr, seq, e, ar);
	if ((fmt = dec_summary(s, &a, &inl, &rest, NULL)) < 0)
		return damaged(db, k);
	if (seq < inl)
		return record_get(db, addr, seq, e, ar);
	for (; rest != NULL; rest = nl != NULL ? nl + 1 : NULL) {
		unsigned long sq;
		char *end;
		if ((nl = strchr(rest, '\n')) != NULL)
			*nl = '\0';
		if (*rest < '0' || *rest > '9')
			return damaged_addr(db, addr);
		sq = strtoul(rest, &end, 10);
		if (*end != '\t')
			return damaged_addr(db, addr);
		if (sq != seq)
			continue;
		if (dec_one(rest, fmt, &a, addr, e, &sq) < 0)
			return damaged_addr(db, addr);
		e->source = barena_strdup(ar, e->source);
		e->note = barena_strdup(ar, e->note);
		return 1;
	}
	return 0;
}

int
bsdb_event_put(struct bsdb *db, const char *addr, unsigned long seq,
    const struct bsdb_event *e)
{
	struct bsdb_entry x;
	size_t i;
	int rv;

	barena_reset(&db->ar);
	if ((rv = load_entry(db, addr, &x, 1, 0, &db->ar)) < 0)
		return -1;
	if (rv == 0 || seq < x.inl || seq >= x.a.hi)
		return record_put(db, addr, seq, e);
	for (i = 0; i < x.n && x.seq[i] < seq; i++)
		;
	if (i == x.n || x.seq[i] != seq) {
		memmove(x.e + i + 1, x.e + i, (x.n - i) * sizeof x.e[0]);
		memmove(x.seq + i + 1, x.seq + i, (x.n - i) * sizeof x.seq[0]);
		x.n++;
	}
	x.e[i] = *e;
	x.seq[i] = seq;
	return write_entry(db, addr, &x.a, x.inl, x.e, x.seq, x.n, x.size,
	    NULL, NULL);
}

int
bsdb_event_del(struct bsdb *db, const char *addr, unsigned long seq)
{
	struct bsdb_entry x;
	size_t i;
	int rv;

	barena_reset(&db->ar);
	if ((rv = load_entry(db, addr, &x, 0, 0, &db->ar)) < 0)
		return -1;
	if (rv == 0 || seq < x.inl)
		return record_del(db, addr, seq);
	for (i = 0; i < x.n && x.seq[i] != seq; i++)
		;
	if (i == x.n)
		return 0;
	x.n--;
	memmove(x.e + i, x.e + i + 1, (x.n - i) * sizeof x.e[0]);
	memmove(x.seq + i, x.seq + i + 1, (x.n - i) * sizeof x.seq[0]);
	return write_entry(db, addr, &x.a, x.inl, x.e, x.seq, x.n, x.size,
	    NULL, NULL);
}

int
bsdb_sent_get(struct bsdb *db, const char *id, char **addr, time_t *date,
    struct barena *ar)
{
	TDB_DATA k = mkkey(db, SENT_PREFIX, id, 0, 0);
	char *f[SENT_FIELDS];
	int n;

	if ((n = fetch(db, k, f, SENT_FIELDS, ar)) <= 0)
		return n;
	if (*f[0] == '\0' || b_isoparse(f[1], date) < 0)
		return damaged(db, k);
	*addr = f[0];
	return 1;
}

int
bsdb_sent_put(struct bsdb *db, const char *id, const char *addr,
    time_t date)
{
	struct bbuf *v = newval(db);

	enc_sent(v, addr, date);
	pad(v, (v->len + VALUE_ALIGN - 1) / VALUE_ALIGN * VALUE_ALIGN);
	return store(db, mkkey(db, SENT_PREFIX, id, 0, 0), v, TDB_REPLACE);
}

int
bsdb_sent_del(struct bsdb *db, const char *id)
{
	return delete(db, mkkey(db, SENT_PREFIX, id, 0, 0));
}

/* Anything besides the header? */
static int
used_fn(struct tdb_context *tdb, TDB_DATA k, TDB_DATA v, void *arg)
{
	(void)tdb;
	(void)v;
	if (k.dsize == strlen(HEADER_KEY) &&
	    memcmp(k.dptr, HEADER_KEY, k.dsize) == 0)
		return 0;
	*(int *)arg = 1;
	return 1;
}

int
bsdb_used(struct bsdb *db)
{
	int used = 0;

	if (tdb_traverse_read(db->tdb, used_fn, &used) < 0 &&
	    tdb_error(db->tdb) != TDB_SUCCESS)
		return tdberr(db, "reading");
	return used;
}

/* ---- walking ---- */

struct walk {
	struct bsdb *db;
	bsdb_walk_fn fn;
	void *arg;
	int rv;
	struct barena ar;
	struct bsdb_entry x;	/* the events in an entry */
};

static int
startswith(TDB_DATA k, const char *p, size_t n)
{
	return k.dsize >= n && memcmp(k.dptr, p, n) == 0;
}

/* Decode one entry of the file into it (and the events in an address's
 * entry into w->x); 1 to skip it, -1 if damaged. */
static int
decode_entry(struct walk *w, TDB_DATA k, TDB_DATA v, struct bsdb_item *it)
{
	char *f[MAXFIELDS], *s, *key, *rest;
	size_t vl = v.dsize, n;
	int want, fmt;

	memset(it, 0, sizeof *it);
	w->x.n = 0;
	if (startswith(k, ADDR_PREFIX, sizeof ADDR_PREFIX - 1)) {
		it->type = BSDB_ADDR;
		want = ADDR_FIELDS;
		key = barena_strndup(&w->ar, (char *)k.dptr + 5, k.dsize - 5);
	} else if (startswith(k, EVENT_PREFIX, sizeof EVENT_PREFIX - 1)) {
		char *colon, *end;
		it->type = BSDB_EVENT;
		want = EVENT_FIELDS;
		key = barena_strndup(&w->ar, (char *)k.dptr + 6, k.dsize - 6);
		if ((colon = strrchr(key, ':')) == NULL)
			return -1;
		*colon = '\0';
		errno = 0;
		it->seq = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || end == colon + 1 || errno != 0)
			return -1;
	} else if (startswith(k, SENT_PREFIX, sizeof SENT_PREFIX - 1)) {
		it->type = BSDB_SENT;
		want = SENT_FIELDS;
		key = barena_strndup(&w->ar, (char *)k.dptr + 5, k.dsize - 5);
	} else if (k.dsize == strlen(HEADER_KEY) &&
	    memcmp(k.dptr, HEADER_KEY, k.dsize) == 0)
		return 1;
	else
		return -1;
	it->key = key;
	while (vl > 0 && v.dptr[vl - 1] == ' ')
		vl--;
	s = barena_strndup(&w->ar, (char *)v.dptr, vl);
	if (strlen(s) != vl)
		return -1;
	if (it->type == BSDB_ADDR) {
		if ((fmt = dec_summary(s, &it->a, &w->x.inl, &rest,
		    NULL)) < 0)
			return -1;
		n = count_lines(rest);
		w->x.e = barena_alloc(&w->ar, (n ? n : 1) * sizeof w->x.e[0]);
		w->x.seq = barena_alloc(&w->ar, (n ? n : 1) *
		    sizeof w->x.seq[0]);
		return dec_lines(rest, fmt, &it->a, key, w->x.inl, w->x.e,
		    w->x.seq, &w->x.n);
	}
	if (strncmp(s, "1\t", 2) != 0 || split(s + 2, f, MAXFIELDS) != want)
		return -1;
	if (it->type == BSDB_EVENT)
		return dec_event(f, &it->e);
	it->addr = f[0];
	return *f[0] == '\0' || b_isoparse(f[1], &it->date) < 0 ? -1 : 0;
}

static int
walk_fn(struct tdb_context *tdb, TDB_DATA k, TDB_DATA v, void *arg)
{
	struct walk *w = arg;
	struct bsdb_item it;
	int rv;

	(void)tdb;
	barena_reset(&w->ar);
	if ((rv = decode_entry(w, k, v, &it)) > 0)
		return 0;
	if (rv < 0) {
		damaged(w->db, k);
		w->rv = -1;
		return 1;
	}
	if ((w->rv = w->fn(w->arg, &it)) != 0)
		return 1;
	/* The events in an address's entry follow it. */
	it.type = BSDB_EVENT;
	for (size_t i = 0; i < w->x.n; i++) {
		it.seq = w->x.seq[i];
		it.e = w->x.e[i];
		if ((w->rv = w->fn(w->arg, &it)) != 0)
			return 1;
	}
	return 0;
}

int
bsdb_walk(struct bsdb *db, bsdb_walk_fn fn, void *arg)
{
	struct walk w;
	int n;

	memset(&w, 0, sizeof w);
	w.db = db;
	w.fn = fn;
	w.arg = arg;
	db->err[0] = '\0';
	n = tdb_traverse_read(db->tdb, walk_fn, &w);
	barena_free(&w.ar);
	if (w.rv != 0)
		return w.rv;
	if (n < 0)
		return tdberr(db, "reading");
	return 0;
}

/* ---- export lines ---- */

void
bsdb_format_item(struct bbuf *b, const struct bsdb_item *it)
{
	bbuf_reset(b);
	switch (it->type) {
	case BSDB_ADDR:
		bbuf_adds(b, "addr");
		add_field(b, it->key);
		bbuf_addc(b, '\t');
		enc_addr(b, &it->a, 0);
		break;
	case BSDB_EVENT:
		bbuf_adds(b, "event");
		add_field(b, it->key);
		bbuf_addc(b, '\t');
		add_num(b, it->seq);
		bbuf_addc(b, '\t');
		enc_event(b, &it->e);
		break;
	case BSDB_SENT:
		bbuf_adds(b, "sent");
		add_field(b, it->key);
		bbuf_addc(b, '\t');
		enc_sent(b, it->addr, it->date);
		break;
	}
	bbuf_addc(b, '\n');
}

/*
 * The numbers of an imported address stay far below where counting on
 * could overflow them: an export gives what a file holds, and no file
 * sees that many events.
 */
#define IMPORT_MAX	((unsigned long)LONG_MAX / 1024)

static int
addr_sane(const struct bsdb_addr *a)
{
	const unsigned long n[] = { a->nevents, a->ncounted, a->nhard,
	    a->nsoft, a->ncomplaint, a->nunsub, a->lo, a->hi };

	for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
		if (n[i] > IMPORT_MAX)
			return 0;
	return a->score >= -(long)IMPORT_MAX && a->score <= (long)IMPORT_MAX;
}

int
bsdb_parse_item(char *line, struct bsdb_item *it, const char **why)
{
	char *f[MAXFIELDS + 3];
	int n;

	memset(it, 0, sizeof *it);
	*why = "not an export line";
	if ((n = split(line, f, MAXFIELDS + 3)) < 2)
		return -1;
	it->key = f[1];
	if (*it->key == '\0') {
		*why = "empty key";
		return -1;
	}
	if (strcmp(f[0], "addr") == 0) {
		it->type = BSDB_ADDR;
		*why = "bad addr line";
		if (n != ADDR_FIELDS + 2 || dec_addr(f + 2, &it->a, 0) < 0 ||
		    !addr_sane(&it->a))
			return -1;
	} else if (strcmp(f[0], "event") == 0) {
		it->type = BSDB_EVENT;
		*why = "bad event line";
		if (n != EVENT_FIELDS + 3 || get_ulong(f[2], &it->seq) < 0 ||
		    it->seq > IMPORT_MAX || dec_event(f + 3, &it->e) < 0)
			return -1;
	} else if (strcmp(f[0], "sent") == 0) {
		it->type = BSDB_SENT;
		*why = "bad sent line";
		if (n != SENT_FIELDS + 2 || *f[2] == '\0' ||
		    b_isoparse(f[3], &it->date) < 0)
			return -1;
		it->addr = f[2];
	} else
		return -1;
	*why = NULL;
	return 0;
}

int
bsdb_put_item(struct bsdb *db, const struct bsdb_item *it)
{
	switch (it->type) {
	case BSDB_ADDR:
		return bsdb_put(db, it->key, &it->a);
	case BSDB_EVENT:
		return bsdb_event_put(db, it->key, it->seq, &it->e);
	default:
		return bsdb_sent_put(db, it->key, it->addr, it->date);
	}
}
