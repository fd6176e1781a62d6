/*
 * classify.c - decide what a bounce record means: the rules language,
 * its compiled form, and the class that follows from a reason.
 *
 * A rule is a reason, an optional class and a set of conditions on the
 * record's fields (see bclassify(1) for the format).  Conditions on the
 * same field are alternatives; conditions on different fields must all
 * hold, and so must each group after an "and" line.  The first rule
 * that holds decides.
 *
 * Diagnostic patterns are many (hundreds) and every record is tested
 * against all of them, so they are not tried one by one: every literal
 * piece of every pattern goes into one Aho-Corasick automaton, which
 * reads the lower-cased diagnostic once and tells which pieces occur.
 * Only the rules whose patterns were seen, plus the rules that have no
 * diagnostic pattern at all, are then evaluated, in rule order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"

const char *const bclass_classes[BC_NCLASSES] = {
	"hard", "soft", "complaint", "unsubscribe", "info",
};

/* The reasons, in the order of bclassify(1); "hardable" ones make a
 * hard bounce when the failure is permanent. */
static const struct {
	const char *name;
	int hardable;
} reasons[] = {
	{ "userunknown", 1 }, { "hostunknown", 1 }, { "hasmoved", 1 },
	{ "notaccept", 1 }, { "mailboxfull", 0 }, { "suspend", 0 },
	{ "exceedlimit", 0 }, { "mesgtoobig", 0 }, { "systemfull", 0 },
	{ "rejected", 0 }, { "blocked", 0 }, { "badreputation", 0 },
	{ "requireptr", 0 }, { "authfailure", 0 }, { "policyviolation", 0 },
	{ "securityerror", 0 }, { "spamdetected", 0 }, { "virusdetected", 0 },
	{ "filtered", 0 }, { "contenterror", 0 }, { "notcompliantrfc", 0 },
	{ "norelaying", 0 }, { "syntaxerror", 0 }, { "toomanyconn", 0 },
	{ "speeding", 0 }, { "networkerror", 0 }, { "expired", 0 },
	{ "systemerror", 0 }, { "mailererror", 0 }, { "failedstarttls", 0 },
	{ "suppressed", 0 }, { "onhold", 0 }, { "undefined", 0 },
	{ "delivered", 0 }, { "feedback", 0 }, { "vacation", 0 },
};
#define NREASONS (sizeof reasons / sizeof reasons[0])

static const char *const actions[] = {
	"failed", "delayed", "delivered", "relayed", "expanded",
	"complaint", "autoreply", "unsubscribe", "none",
};
#define NACTIONS (sizeof actions / sizeof actions[0])
#define A_FAILED	(1u << 0)
#define A_DELAYED	(1u << 1)
#define A_OTHER		(1u << NACTIONS)	/* an action we do not know */
#define A_DEFAULT	(A_FAILED | A_DELAYED)

enum { C_ACTION, C_STATUS, C_SMTP, C_DETECTOR, C_MTA, C_DOMAIN, C_DIAG,
	C_NFIELDS };
static const char *const fields[C_NFIELDS] = {
	"action", "status", "smtp", "detector", "mta", "domain", "diag",
};

#define MAXPIECES 32
#define MAXPATBYTES (1L << 18)	/* of all diag patterns: bounds the table */
#define MAXGROUPS 4		/* MAXGROUPS * C_NFIELDS bits in an unsigned */

struct piece {			/* a literal part of a diag pattern */
	char *s;
	size_t len;
	unsigned pat;
};

struct pat {			/* a diag pattern */
	char *text;		/* as written, for explanations */
	unsigned rule;
	unsigned first, n;	/* its pieces */
	unsigned char start, end, neg, simple;
};

struct cond {			/* one condition line (one value of it) */
	unsigned char field, neg, none, group;
	short st[3];		/* status: -1 = any */
	char *s;		/* smtp, detector, mta, domain: the value */
	unsigned pat;		/* diag: its pattern */
};

struct rule {
	unsigned reason;
	int cls;		/* BC_* or -1: follows from the reason */
	const char *src;
	long line;
	unsigned cond0, ncond;
	unsigned actions, actneg;	/* "action" and "!action" values */
	int hasdiag;		/* a positive diag pattern */
	int diagnone;		/* a positive "diag -" */
	unsigned char group;	/* "and" lines so far */
};

struct ref {			/* an output of an automaton state */
	unsigned piece;
	int next;
};

struct bclass {
	struct rule *rules;
	size_t nrules, caprules;
	struct cond *conds;
	size_t nconds, capconds;
	struct pat *pats;
	size_t npats, cappats;
	struct piece *pieces;
	size_t npieces, cappieces;
	long patbytes;
	char **names;
	size_t nnames, capnames;

	/* The compiled automaton over byte classes. */
	int compiled;
	unsigned char bytecls[256];
	unsigned ncls, shift;	/* ncls == 1 << shift */
	uint32_t *delta;	/* nstates x ncls */
	size_t nstates;
	int *out, *dict;	/* per state: first ref, next state with refs */
	unsigned char *hasout;
	struct ref *refs;
	size_t nrefs;
	unsigned *nodiag;	/* rules without a positive diag pattern */
	size_t nnodiag;

	/* Per record scratch, stamped with gen so nothing needs clearing. */
	uint32_t gen;
	uint32_t *pstamp, *pmask, *rstamp;
	unsigned *cand;
	size_t ncand, capcand;
	char *low;		/* the folded diagnostic */
	size_t lowcap;

	char errbuf[200];
	long errline;		/* a whole rule was wrong: its line */
	int open;		/* the last rule may still get conditions */
};

/* What the classifier needs to know of a record, parsed once. */
struct recinfo {
	unsigned action;
	short st[3];		/* -1 when there is no status */
	const char *smtp, *detector, *mta, *domain;
	const char *diag;	/* lower-cased, white space squeezed */
	size_t diaglen;
};

#define GROW(p, n, cap) do {						\
	if ((n) == (cap)) {						\
		(cap) = (cap) ? (cap) * 2 : 16;				\
		(p) = b_realloc((p), (cap) * sizeof *(p));		\
	}								\
} while (0)

struct bclass *
bclass_new(void)
{
	struct bclass *c = b_malloc(sizeof *c);

	memset(c, 0, sizeof *c);
	return c;
}

static void
uncompile(struct bclass *c)
{
	free(c->delta);
	free(c->out);
	free(c->dict);
	free(c->hasout);
	free(c->refs);
	free(c->nodiag);
	free(c->pstamp);
	free(c->pmask);
	free(c->rstamp);
	c->delta = NULL;
	c->out = c->dict = NULL;
	c->hasout = NULL;
	c->refs = NULL;
	c->nodiag = NULL;
	c->pstamp = c->pmask = c->rstamp = NULL;
	c->compiled = 0;
}

void
bclass_free(struct bclass *c)
{
	if (c == NULL)
		return;
	uncompile(c);
	for (size_t i = 0; i < c->nconds; i++)
		free(c->conds[i].s);
	for (size_t i = 0; i < c->npats; i++)
		free(c->pats[i].text);
	for (size_t i = 0; i < c->npieces; i++)
		free(c->pieces[i].s);
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->rules);
	free(c->conds);
	free(c->pats);
	free(c->pieces);
	free(c->names);
	free(c->cand);
	free(c->low);
	free(c);
}

/* ---- text normalisation ---- */

/* Byte c lower-cased, white space as a blank: a table built by the
 * compiler, since fold() runs over every byte of every diagnostic. */
#define FOLD1(c) ((unsigned char)((c) >= 'A' && (c) <= 'Z' ? \
    (c) + 'a' - 'A' : (c) == '\t' || (c) == '\n' || (c) == '\v' || \
    (c) == '\f' || (c) == '\r' ? ' ' : (c)))
#define FOLD4(c) FOLD1(c), FOLD1(c + 1), FOLD1(c + 2), FOLD1(c + 3)
#define FOLD16(c) FOLD4(c), FOLD4(c + 4), FOLD4(c + 8), FOLD4(c + 12)
#define FOLD64(c) FOLD16(c), FOLD16(c + 16), FOLD16(c + 32), FOLD16(c + 48)
static const unsigned char foldtab[256] = {
	FOLD64(0), FOLD64(64), FOLD64(128), FOLD64(192)
};

/*
 * Write the matching form of src[0..n) to dst, which may be src (the
 * form is never longer): ASCII, Latin-1 and Cyrillic letters (as UTF-8)
 * lower-cased, typographic apostrophes as "'", every run of white space
 * one blank, none at either end if trim is set.  Patterns and
 * diagnostics go through the same function, so "User  Unknown" and
 * "user unknown" meet.  Returns the new length (never more than n).
 */
static size_t
fold(char *dst, const char *src, size_t n, int trim)
{
	const unsigned char *p = (const unsigned char *)src, *e = p + n;
	unsigned char *s = (unsigned char *)dst, *w = s;

	while (p < e) {
		unsigned ch = foldtab[*p++];
		if (ch < 0x80) {	/* nearly every byte: one test */
			if (ch == ' ' && (w == s ? trim : w[-1] == ' '))
				continue;
			*w++ = (unsigned char)ch;
			continue;
		}
		if (ch == 0xd0 && p < e && *p >= 0x80 && *p <= 0xaf) {
			/* Cyrillic U+0400..U+042F: two bytes either way. */
			unsigned lo = *p++;
			if (lo < 0x90)
				*w++ = 0xd1, *w++ = (unsigned char)(lo + 0x10);
			else if (lo < 0xa0)
				*w++ = 0xd0, *w++ = (unsigned char)(lo + 0x20);
			else
				*w++ = 0xd1, *w++ = (unsigned char)(lo - 0x20);
			continue;
		}
		if (ch == 0xe2 && e - p >= 2 && p[0] == 0x80 &&
		    (p[1] == 0x98 || p[1] == 0x99)) {
			/* U+2018, U+2019: the typographic apostrophe
			 * of "wasn't" in some servers' English. */
			*w++ = '\'';
			p += 2;
			continue;
		}
		*w++ = (unsigned char)ch;
		/* U+00C0..U+00DE, but not U+00D7 (the sign x). */
		if (ch == 0xc3 && p < e && *p >= 0x80 && *p <= 0x9e &&
		    *p != 0x97)
			*w++ = *p++ + 0x20;
	}
	if (trim && w > s && w[-1] == ' ')
		w--;
	return (size_t)(w - s);
}

/*
 * Length of a reply code marker at s: "550-" or "550-5.7.1" (dash:
 * a line of a multi-line reply), or with a blank for the dash when
 * blank is set; 0 if none.  The marker must end the word.
 */
static size_t
marker(const char *s, const char *e, int blank)
{
	const char *p = s;

	if (e - p < 4 || p[0] < '2' || p[0] > '5' || p[1] < '0' ||
	    p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    p[3] != (blank ? ' ' : '-'))
		return 0;
	p += 4;
	if (p + 4 < e && p[0] >= '2' && p[0] <= '5' && p[1] == '.') {
		const char *q = p + 2;
		int dots = 0;
		while (q < e && ((*q >= '0' && *q <= '9') || *q == '.'))
			dots += *q++ == '.';
		if (dots == 1)
			p = q;
	}
	if (p < e && *p != ' ')
		return blank ? 0 : (size_t)(p - s);
	return (size_t)(p - s);
}

/*
 * A multi-line SMTP reply joined into one line carries its code on
 * every line: "550-5.7.1 Messages with multiple 550-5.7.1 addresses in
 * From: ...".  Take those markers out so that patterns see the words
 * as they were meant.  Once a dash marker is seen, the blank form of
 * the same code (the reply's last line) goes too.  Returns the new
 * length.
 */
static size_t
unwrap(char *s, size_t n)
{
	char *e = s + n, *r, *w, last[16] = "";
	int word = 1;		/* r is at the start of a word */
	size_t k;

	/* Most texts have no marker: look for one before copying. */
	for (r = s; (r = memchr(r, '-', (size_t)(e - r))) != NULL; r++)
		if (r - s >= 3 && (r - s == 3 || r[-4] == ' ') &&
		    marker(r - 3, e, 0) > 0)
			break;
	if (r == NULL)
		return n;
	r = w = r - 3;
	while (r < e) {
		if (word) {
			if ((k = marker(r, e, 0)) > 0) {
				size_t m = k < sizeof last ? k : sizeof last - 1;
				memcpy(last, r, m);
				last[m] = '\0';
				last[3] = ' ';
			} else if (last[0] != '\0' &&
			    (k = marker(r, e, 1)) > 0 &&
			    (k != strlen(last) || strncmp(r, last, k) != 0))
				k = 0;
			if (k > 0) {
				r += k;
				while (r < e && *r == ' ')
					r++;
				continue;
			}
		}
		word = *r == ' ';
		*w++ = *r++;
	}
	while (w > s && w[-1] == ' ')
		w--;
	return (size_t)(w - s);
}

/*
 * The local part of every address in the text as "x": words inside an
 * address ("virus@", "blacklist@", "dmarc-reports@") are no evidence of
 * what went wrong.  The domain stays (a blocklist's host name is).
 * Returns the new length.
 */
static size_t
mask_locals(char *s, size_t n)
{
	char *r, *w, *e = s + n;

	if (memchr(s, '@', n) == NULL)
		return n;
	for (r = w = s; r < e;) {
		if (*r == '@' && r + 1 < e && baddr_atext((unsigned char)r[1])) {
			char *q = w;
			while (q > s && baddr_atext((unsigned char)q[-1]))
				q--;
			if (q < w) {
				w = q;
				*w++ = 'x';
			}
		}
		*w++ = *r++;
	}
	return (size_t)(w - s);
}

/* ---- the rules language ---- */

static int
fail(struct bclass *c, const char **why, const char *fmt, const char *arg)
{
	snprintf(c->errbuf, sizeof c->errbuf, fmt, arg);
	*why = c->errbuf;
	return -1;
}

static int
find_name(const char *const *tab, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(tab[i], s) == 0)
			return (int)i;
	return -1;
}

/* The action of a record: bparse writes it in lower case, so an exact
 * comparison nearly always settles it. */
static int
find_action(const char *s)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (s[0] == actions[i][0] && strcmp(s, actions[i]) == 0)
			return (int)i;
	return find_name(actions, NACTIONS, s);
}

static int
find_reason(const char *s)
{
	for (size_t i = 0; i < NREASONS; i++)
		if (strcasecmp(reasons[i].name, s) == 0)
			return (int)i;
	return -1;
}

/* Parse "5", "5.7", "5.7.1", "*.1.1" into st[3] (-1 = any). */
static int
parse_status_pat(const char *s, short st[3])
{
	int k = 0;

	st[0] = st[1] = st[2] = -1;
	while (*s != '\0') {
		if (k == 3)
			return -1;
		if (*s == '*') {
			s++;
		} else if (*s >= '0' && *s <= '9') {
			long v = 0;
			while (*s >= '0' && *s <= '9' && v < 1000)
				v = v * 10 + (*s++ - '0');
			if (v >= 1000)
				return -1;
			st[k] = (short)v;
		} else
			return -1;
		k++;
		if (*s == '.') {
			if (*++s == '\0')
				return -1;
		} else if (*s != '\0')
			return -1;
	}
	return k > 0 ? 0 : -1;
}

/* Is s a host or domain name pattern we can match as a suffix? */
static int
valid_host(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '.' || *s == '-' || *s == '_' || *s == ':' ||
		    (unsigned char)*s >= 0x80))
			return 0;
	return 1;
}

/* Split a folded diag pattern into its pieces; '\' quotes. */
static int
add_pattern(struct bclass *c, unsigned rule, int neg, const char *text,
    const char **why)
{
	struct bbuf f = { 0 }, lit = { 0 };
	struct pat pt = { 0 };
	size_t n = strlen(text), i;
	int star = 0;		/* a '*' came before this piece */

	/* A pattern in double quotes keeps its blanks at either end. */
	if (n >= 2 && text[0] == '"' && text[n - 1] == '"') {
		text++;
		n -= 2;
	}
	pt.rule = rule;
	pt.neg = (unsigned char)neg;
	pt.first = (unsigned)c->npieces;
	if (n > 0 && text[0] == '^') {
		pt.start = 1;
		text++;
		n--;
	}
	if (n > 0 && text[n - 1] == '$' && (n < 2 || text[n - 2] != '\\')) {
		pt.end = 1;
		n--;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && text[i] == '\\' && i + 1 < n) {
			bbuf_addc(&lit, text[++i]);
			continue;
		}
		if (i < n && text[i] != '*') {
			bbuf_addc(&lit, text[i]);
			continue;
		}
		/* End of a piece: fold it; blanks inside stay one blank,
		 * blanks next to '*' go, and those at the ends of the
		 * pattern (kept by quotes) stay one blank. */
		bbuf_reset(&f);
		bbuf_add(&f, lit.s ? lit.s : "", lit.len);
		f.len = fold(f.s, f.s, f.len, 0);
		if (i < n && f.len > 0 && f.s[f.len - 1] == ' ')
			f.len--;
		if (star && f.len > 0 && f.s[0] == ' ')
			memmove(f.s, f.s + 1, --f.len);
		f.s[f.len] = '\0';
		bbuf_reset(&lit);
		star = 1;
		if (f.len == 0)
			continue;
		if (pt.n == MAXPIECES) {
			bbuf_free(&f);
			bbuf_free(&lit);
			return fail(c, why, "too many '*' in pattern", "");
		}
		if ((c->patbytes += f.len) > MAXPATBYTES) {
			bbuf_free(&f);
			bbuf_free(&lit);
			return fail(c, why, "too many diag patterns", "");
		}
		GROW(c->pieces, c->npieces, c->cappieces);
		c->pieces[c->npieces].s = b_strndup(f.s, f.len);
		c->pieces[c->npieces].len = f.len;
		c->pieces[c->npieces].pat = (unsigned)c->npats;
		c->npieces++;
		pt.n++;
	}
	bbuf_free(&f);
	bbuf_free(&lit);
	if (pt.n == 0)
		return fail(c, why, "empty diag pattern", "");
	pt.simple = pt.n == 1 && !pt.start && !pt.end;
	for (unsigned j = 0; j < pt.n; j++)
		for (const char *q = c->pieces[pt.first + j].s; *q; q++)
			if ((unsigned char)*q >= 0x80)
				pt.simple = 0;	/* see build_classes() */
	pt.text = b_strdup(text - pt.start);
	pt.text[n + pt.start + pt.end] = '\0';
	GROW(c->pats, c->npats, c->cappats);
	c->pats[c->npats++] = pt;
	return 0;
}

static int
add_cond(struct bclass *c, struct rule *ru, int field, int neg,
    const char *val, const char **why)
{
	struct cond cd = { 0 };
	int a;

	cd.field = (unsigned char)field;
	cd.neg = (unsigned char)neg;
	cd.group = ru->group;
	cd.none = strcmp(val, "-") == 0;
	switch (field) {
	case C_ACTION:
		if ((a = find_name(actions, NACTIONS, val)) < 0)
			return fail(c, why, "unknown action \"%s\"", val);
		/* Actions select the records a rule looks at; they are
		 * kept as sets on the rule, not as conditions. */
		if (neg)
			ru->actneg |= 1u << a;
		else
			ru->actions |= 1u << a;
		return 0;
	case C_STATUS:
		if (!cd.none && parse_status_pat(val, cd.st) < 0)
			return fail(c, why, "bad status pattern \"%s\"", val);
		break;
	case C_SMTP:
		if (!cd.none && (strlen(val) > 3 ||
		    strspn(val, "0123456789x*X") != strlen(val)))
			return fail(c, why, "bad smtp pattern \"%s\"", val);
		cd.s = b_strdup(val);
		break;
	case C_DETECTOR:
		cd.s = b_lower(b_strdup(val));
		break;
	case C_MTA:
	case C_DOMAIN:
		cd.s = b_lower(b_strdup(val[0] == '.' ? val + 1 : val));
		if (!cd.none && !valid_host(cd.s)) {
			free(cd.s);
			return fail(c, why, "bad host name \"%s\"", val);
		}
		break;
	case C_DIAG:
		if (cd.none) {	/* "diag -": no diagnostic at all */
			ru->diagnone |= !neg;
			break;
		}
		if (add_pattern(c, (unsigned)c->nrules - 1, neg, val, why) < 0)
			return -1;
		cd.pat = (unsigned)c->npats - 1;
		if (!neg)
			ru->hasdiag = 1;
		break;
	}
	GROW(c->conds, c->nconds, c->capconds);
	c->conds[c->nconds++] = cd;
	ru->ncond++;
	return 0;
}

/* "rule REASON [CLASS]" */
static int
start_rule(struct bclass *c, char *args, const char *src, long line,
    const char **why)
{
	char *save, *reason = strtok_r(args, " \t", &save);
	char *cls = strtok_r(NULL, " \t", &save);
	struct rule ru = { 0 };
	int r;

	if (reason == NULL)
		return fail(c, why, "rule without a reason", "");
	if ((r = find_reason(reason)) < 0)
		return fail(c, why, "unknown reason \"%s\"", reason);
	ru.reason = (unsigned)r;
	ru.cls = -1;
	if (cls != NULL &&
	    (ru.cls = find_name(bclass_classes, BC_NCLASSES, cls)) < 0)
		return fail(c, why, "unknown class \"%s\"", cls);
	if (strtok_r(NULL, " \t", &save) != NULL)
		return fail(c, why, "too many words after \"rule\"", "");
	ru.src = src;
	ru.line = line;
	ru.cond0 = (unsigned)c->nconds;
	GROW(c->rules, c->nrules, c->caprules);
	c->rules[c->nrules++] = ru;
	c->open = 1;
	return 0;
}

static int
end_rule(struct bclass *c, const char **why)
{
	struct rule *ru;

	if (!c->open)
		return 0;
	c->open = 0;
	ru = &c->rules[c->nrules - 1];
	c->errline = ru->line;
	if (ru->ncond == 0 && ru->actions == 0 && ru->actneg == 0)
		return fail(c, why, "rule without conditions", "");
	if (ru->group > 0 &&
	    c->conds[ru->cond0 + ru->ncond - 1].group != ru->group)
		return fail(c, why, "\"and\" without conditions after it", "");
	/* Without "action", a rule is about failures and delays. */
	if (ru->actions == 0)
		ru->actions = A_DEFAULT;
	ru->actions &= ~ru->actneg;
	if (ru->actions == 0)
		return fail(c, why, "rule matches no action", "");
	c->errline = 0;
	return 0;
}

/* "and": the conditions that follow must hold as well, even those on
 * a field already named. */
static int
and_line(struct bclass *c, struct rule *ru, const char *rest,
    const char **why)
{
	if (*rest != '\0')
		return fail(c, why, "nothing may follow \"and\"", "");
	if (ru->ncond == 0 ||
	    c->conds[ru->cond0 + ru->ncond - 1].group != ru->group)
		return fail(c, why, "\"and\" without conditions before it",
		    "");
	if (ru->group + 1 >= MAXGROUPS)
		return fail(c, why, "too many \"and\" in one rule", "");
	ru->group++;
	return 0;
}

static int
parse_line(struct bclass *c, char *s, const char *src, long line,
    const char **why)
{
	char *word, *rest, *save;
	int neg = 0, field;

	s = b_trim(s);
	if (*s == '\0' || *s == '#')
		return 0;
	word = s;
	rest = s + strcspn(s, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	rest = b_trim(rest);
	if (strcmp(word, "rule") == 0) {
		if (end_rule(c, why) < 0)
			return -1;
		return start_rule(c, rest, src, line, why);
	}
	if (!c->open)
		return fail(c, why, "condition before the first rule", "");
	if (strcmp(word, "and") == 0)
		return and_line(c, &c->rules[c->nrules - 1], rest, why);
	if (*word == '!') {
		neg = 1;
		word++;
	}
	if ((field = find_name(fields, C_NFIELDS, word)) < 0)
		return fail(c, why, "unknown field \"%s\"", word);
	if (*rest == '\0')
		return fail(c, why, "no value for \"%s\"", word);
	if (field == C_DIAG)
		return add_cond(c, &c->rules[c->nrules - 1], field, neg, rest,
		    why);
	/* The other fields take a list of alternatives. */
	for (char *v = strtok_r(rest, " \t", &save); v;
	    v = strtok_r(NULL, " \t", &save))
		if (add_cond(c, &c->rules[c->nrules - 1], field, neg, v,
		    why) < 0)
			return -1;
	return 0;
}

int
bclass_add(struct bclass *c, const char *name, const char *text,
    size_t len, long *lineno, const char **why)
{
	const char *p = text, *e = text + len;
	char *src = b_strdup(name);
	struct bbuf line = { 0 };
	int rv = 0;

	uncompile(c);
	GROW(c->names, c->nnames, c->capnames);
	c->names[c->nnames++] = src;
	c->open = 0;
	*lineno = 0;
	c->errline = 0;
	while (p < e && rv == 0) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);

		++*lineno;
		if (memchr(p, '\0', n) != NULL) {
			rv = fail(c, why, "NUL byte in line", "");
			break;
		}
		bbuf_reset(&line);
		bbuf_add(&line, p, n);
		rv = parse_line(c, line.s, src, *lineno, why);
		p += n + (nl != NULL);
	}
	if (rv == 0)
		rv = end_rule(c, why);
	if (rv < 0 && c->errline > 0)
		*lineno = c->errline;
	bbuf_free(&line);
	return rv;
}

int
bclass_add_file(struct bclass *c, const char *path, long *lineno,
    const char **why)
{
	struct bbuf b = { 0 };
	char chunk[8192];
	size_t n;
	FILE *fp;
	int rv;

	*lineno = 0;
	if ((fp = fopen(path, "r")) == NULL) {
		*why = strerror(errno);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		bbuf_add(&b, chunk, n);
	if (ferror(fp)) {
		*why = strerror(errno);
		fclose(fp);
		bbuf_free(&b);
		return -1;
	}
	fclose(fp);
	rv = bclass_add(c, path, b.s ? b.s : "", b.len, lineno, why);
	bbuf_free(&b);
	return rv;
}

/* ---- the automaton ---- */

/*
 * The automaton reads byte classes, not bytes.  Every ASCII byte of the
 * pieces has a class of its own; all others share class 0.  Bytes from
 * 0x80 up fall into NWIDE classes by their low bits: the table stays
 * narrow (it is read once per byte of every diagnostic), and a piece
 * with such bytes is checked on the text itself when the automaton
 * reports it (see pat_match()).
 */
#define NWIDE 8

static void
build_classes(struct bclass *c)
{
	memset(c->bytecls, 0, sizeof c->bytecls);
	c->ncls = 1 + NWIDE;
	for (unsigned ch = 0x80; ch < 256; ch++)
		c->bytecls[ch] = (unsigned char)(1 + (ch & (NWIDE - 1)));
	for (size_t i = 0; i < c->npieces; i++)
		for (size_t j = 0; j < c->pieces[i].len; j++) {
			unsigned char ch = (unsigned char)c->pieces[i].s[j];
			if (ch < 0x80 && c->bytecls[ch] == 0)
				c->bytecls[ch] = (unsigned char)c->ncls++;
		}
	/* A power of two, so the scan finds a row with a shift. */
	for (c->shift = 0; (1u << c->shift) < c->ncls; c->shift++)
		;
	c->ncls = 1u << c->shift;
}

/*
 * Number the states in breadth-first order (order[] lists all but the
 * root), so that the shallow states, where a scan spends nearly all
 * its time, sit together at the start of the table.
 */
static void
renumber(struct bclass *c, const uint32_t *order, size_t n)
{
	size_t k = c->ncls;
	uint32_t *map = b_malloc(c->nstates * sizeof *map);
	uint32_t *delta = b_malloc(c->nstates * k * sizeof *delta);
	int *out = b_malloc(c->nstates * sizeof *out);
	int *dict = b_malloc(c->nstates * sizeof *dict);

	map[0] = 0;
	for (size_t i = 0; i < n; i++)
		map[order[i]] = (uint32_t)i + 1;
	for (size_t s = 0; s < c->nstates; s++) {
		uint32_t t = map[s];
		for (size_t a = 0; a < k; a++)
			delta[t * k + a] = map[c->delta[s * k + a]];
		out[t] = c->out[s];
		dict[t] = c->dict[s] >= 0 ? (int)map[c->dict[s]] : -1;
	}
	free(c->delta);
	free(c->out);
	free(c->dict);
	free(map);
	c->delta = delta;
	c->out = out;
	c->dict = dict;
}

/*
 * The classic construction: a trie of the pieces, then failure links
 * in breadth-first order, folded into a full transition table so the
 * scan makes one lookup per byte.  In the trie, 0 means "no child"
 * (no state has the root as a child).
 */
static void
build_automaton(struct bclass *c)
{
	size_t max = 1, k, head = 0, tail = 0;
	uint32_t *fl, *queue;

	for (size_t i = 0; i < c->npieces; i++)
		max += c->pieces[i].len;
	build_classes(c);
	k = c->ncls;
	c->delta = b_malloc(max * k * sizeof *c->delta);
	memset(c->delta, 0, max * k * sizeof *c->delta);
	c->out = b_malloc(max * sizeof *c->out);
	c->dict = b_malloc(max * sizeof *c->dict);
	c->refs = b_malloc((c->npieces + 1) * sizeof *c->refs);
	c->nrefs = 0;
	c->nstates = 1;
	c->out[0] = c->dict[0] = -1;
	for (size_t i = 0; i < c->npieces; i++) {
		uint32_t s = 0;
		for (size_t j = 0; j < c->pieces[i].len; j++) {
			size_t t = s * k +
			    c->bytecls[(unsigned char)c->pieces[i].s[j]];
			if (c->delta[t] == 0) {
				c->out[c->nstates] = c->dict[c->nstates] = -1;
				c->delta[t] = (uint32_t)c->nstates++;
			}
			s = c->delta[t];
		}
		c->refs[c->nrefs].piece = (unsigned)i;
		c->refs[c->nrefs].next = c->out[s];
		c->out[s] = (int)c->nrefs++;
	}
	fl = b_malloc(c->nstates * sizeof *fl);
	queue = b_malloc(c->nstates * sizeof *queue);
	fl[0] = 0;
	for (size_t a = 0; a < k; a++)
		if (c->delta[a] != 0) {
			fl[c->delta[a]] = 0;
			queue[tail++] = c->delta[a];
		}
	while (head < tail) {
		uint32_t s = queue[head++];
		for (size_t a = 0; a < k; a++) {
			uint32_t t = c->delta[s * k + a];
			if (t == 0) {
				c->delta[s * k + a] = c->delta[fl[s] * k + a];
				continue;
			}
			fl[t] = c->delta[fl[s] * k + a];
			c->dict[t] = c->out[fl[t]] >= 0 ? (int)fl[t] :
			    c->dict[fl[t]];
			queue[tail++] = t;
		}
	}
	free(fl);
	renumber(c, queue, tail);
	free(queue);
	c->hasout = b_malloc(c->nstates);
	for (size_t s = 0; s < c->nstates; s++)
		c->hasout[s] = c->out[s] >= 0 || c->dict[s] >= 0;
	/* The scan wants the row of the next state, not its number
	 * (MAXPATBYTES keeps that within 32 bits). */
	for (size_t i = 0; i < c->nstates * k; i++)
		c->delta[i] <<= c->shift;
}

static void
compile(struct bclass *c)
{
	build_automaton(c);
	c->nodiag = b_malloc((c->nrules + 1) * sizeof *c->nodiag);
	c->nnodiag = 0;
	for (size_t i = 0; i < c->nrules; i++)
		if (!c->rules[i].hasdiag || c->rules[i].diagnone)
			c->nodiag[c->nnodiag++] = (unsigned)i;
	c->pstamp = b_malloc((c->npats + 1) * sizeof *c->pstamp);
	c->pmask = b_malloc((c->npats + 1) * sizeof *c->pmask);
	c->rstamp = b_malloc((c->nrules + 1) * sizeof *c->rstamp);
	memset(c->pstamp, 0, (c->npats + 1) * sizeof *c->pstamp);
	memset(c->rstamp, 0, (c->nrules + 1) * sizeof *c->rstamp);
	c->gen = 0;
	c->compiled = 1;
}

static uint32_t
fullmask(unsigned n)
{
	return n >= 32 ? 0xffffffffu : (1u << n) - 1;
}

static void
piece_seen(struct bclass *c, unsigned piece)
{
	unsigned p = c->pieces[piece].pat;
	struct pat *pt = &c->pats[p];

	if (c->pstamp[p] != c->gen) {
		c->pstamp[p] = c->gen;
		c->pmask[p] = 0;
	}
	c->pmask[p] |= 1u << (piece - pt->first);
	if (pt->neg || c->pmask[p] != fullmask(pt->n) ||
	    c->rstamp[pt->rule] == c->gen)
		return;
	c->rstamp[pt->rule] = c->gen;
	GROW(c->cand, c->ncand, c->capcand);
	c->cand[c->ncand++] = pt->rule;
}

static void
scan(struct bclass *c, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *cls = c->bytecls;
	const unsigned char *hasout = c->hasout;
	const uint32_t *delta = c->delta;
	unsigned shift = c->shift;
	uint32_t s = 0;

	/* One dependent load per byte; the output test is off that path. */
	for (size_t i = 0; i < n; i++) {
		s = delta[s + cls[p[i]]];
		if (!hasout[s >> shift])
			continue;
		for (int t = (int)(s >> shift); t >= 0; t = c->dict[t])
			for (int r = c->out[t]; r >= 0; r = c->refs[r].next)
				piece_seen(c, c->refs[r].piece);
	}
}

/* ---- matching ---- */

/* Does the whole pattern p hold on the text (its pieces were seen)? */
static int
pat_match(struct bclass *c, unsigned p, const struct recinfo *ri)
{
	const struct pat *pt = &c->pats[p];
	const char *s = ri->diag, *e = ri->diag + ri->diaglen;

	if (c->pstamp[p] != c->gen || c->pmask[p] != fullmask(pt->n))
		return 0;
	if (pt->simple)
		return 1;
	for (unsigned i = 0; i < pt->n; i++) {
		const struct piece *pc = &c->pieces[pt->first + i];
		const char *hit;

		if ((size_t)(e - s) < pc->len)
			return 0;
		if (i == pt->n - 1 && pt->end) {
			hit = e - pc->len;
			if (memcmp(hit, pc->s, pc->len) != 0 ||
			    (i == 0 && pt->start && hit != s))
				return 0;
		} else if (i == 0 && pt->start) {
			hit = s;
			if (memcmp(hit, pc->s, pc->len) != 0)
				return 0;
		} else if ((hit = memmem(s, (size_t)(e - s), pc->s,
		    pc->len)) == NULL)
			return 0;
		s = hit + pc->len;
	}
	return 1;
}

static int
host_match(const char *host, const char *suffix)
{
	size_t h = strlen(host), n = strlen(suffix);

	if (n > h || strcasecmp(host + h - n, suffix) != 0)
		return 0;
	return n == h || host[h - n - 1] == '.';
}

static int
smtp_match(const char *code, const char *pat)
{
	for (; *pat; pat++, code++) {
		if (*code == '\0')
			return 0;
		if (*pat != 'x' && *pat != 'X' && *pat != '*' && *pat != *code)
			return 0;
	}
	return 1;
}

static int
cond_match(struct bclass *c, const struct cond *cd, const struct recinfo *ri)
{
	switch (cd->field) {
	case C_STATUS:
		if (ri->st[0] < 0)
			return cd->none;
		if (cd->none)
			return 0;
		for (int i = 0; i < 3; i++)
			if (cd->st[i] >= 0 && cd->st[i] != ri->st[i])
				return 0;
		return 1;
	case C_SMTP:
		if (*ri->smtp == '\0')
			return cd->none;
		return !cd->none && smtp_match(ri->smtp, cd->s);
	case C_DETECTOR:
		if (*ri->detector == '\0')
			return cd->none;
		return !cd->none && strcasecmp(ri->detector, cd->s) == 0;
	case C_MTA:
	case C_DOMAIN: {
		const char *h = cd->field == C_MTA ? ri->mta : ri->domain;
		if (*h == '\0')
			return cd->none;
		return !cd->none && host_match(h, cd->s);
	}
	case C_DIAG:
		if (cd->none)
			return ri->diaglen == 0;
		return pat_match(c, cd->pat, ri);
	}
	return 0;
}

/* Does rule i hold?  *why gets the pattern that decided, if any. */
static int
rule_match(struct bclass *c, unsigned i, const struct recinfo *ri,
    const char **why)
{
	const struct rule *ru = &c->rules[i];
	unsigned want = 0, have = 0;

	if ((ru->actions & ri->action) == 0)
		return 0;
	*why = NULL;
	for (unsigned j = 0; j < ru->ncond; j++) {
		const struct cond *cd = &c->conds[ru->cond0 + j];
		unsigned bit = 1u << (cd->group * C_NFIELDS + cd->field);

		if (cd->neg) {
			if (cond_match(c, cd, ri))
				return 0;
			continue;
		}
		want |= bit;
		if (have & bit)
			continue;
		if (cond_match(c, cd, ri)) {
			have |= bit;
			if (cd->field == C_DIAG && !cd->none)
				*why = c->pats[cd->pat].text;
		}
	}
	return want == have;
}

/* The first rule that holds, or -1. */
static long
first_rule(struct bclass *c, const struct recinfo *ri, const char **why)
{
	size_t i = 0, j = 0;

	/* Few candidates: an insertion sort beats qsort(3) here. */
	for (size_t a = 1; a < c->ncand; a++) {
		unsigned v = c->cand[a];
		size_t b = a;
		for (; b > 0 && c->cand[b - 1] > v; b--)
			c->cand[b] = c->cand[b - 1];
		c->cand[b] = v;
	}
	while (i < c->ncand || j < c->nnodiag) {
		unsigned r;
		if (j == c->nnodiag ||
		    (i < c->ncand && c->cand[i] < c->nodiag[j]))
			r = c->cand[i++];
		else
			r = c->nodiag[j++];
		if (rule_match(c, r, ri, why))
			return (long)r;
	}
	return -1;
}

/* ---- classes ---- */

/*
 * A failure is permanent when the enhanced status says class 5; with
 * no status, when the SMTP reply is 5xx; with neither, when the report
 * says "failed" at all, since the sending side has then given up.
 */
static int
permanent(const struct recinfo *ri)
{
	if (ri->st[0] >= 0)
		return ri->st[0] == 5;
	if (*ri->smtp != '\0')
		return *ri->smtp == '5';
	return 1;
}

static int
class_of(int explicit, unsigned reason, const struct recinfo *ri)
{
	if (explicit >= 0)
		return explicit;
	if (ri->action != A_FAILED)
		return BC_INFO;
	if (reasons[reason].hardable && permanent(ri))
		return BC_HARD;
	return BC_SOFT;
}

static void
parse_status(const char *s, short st[3])
{
	st[0] = st[1] = st[2] = -1;
	if (parse_status_pat(s, st) < 0 || st[0] < 0 || st[1] < 0 ||
	    st[2] < 0)
		st[0] = st[1] = st[2] = -1;
}

static const char *
field(const struct brec *r, int i)
{
	return i < r->n && r->f[i] != NULL ? r->f[i] : "";
}

void
bclass_classify(struct bclass *c, const struct brec *r,
    struct bclass_result *res)
{
	struct recinfo ri;
	const char *at, *diag, *why = NULL;
	size_t n;
	long i;
	int a;

	if (!c->compiled)
		compile(c);
	a = find_action(field(r, BF_ACTION));
	ri.action = a < 0 ? A_OTHER : 1u << a;
	parse_status(field(r, BF_STATUS), ri.st);
	ri.smtp = field(r, BF_SMTP);
	ri.detector = field(r, BF_DETECTOR);
	ri.mta = field(r, BF_MTA);
	at = strrchr(field(r, BF_RCPT), '@');
	ri.domain = at ? at + 1 : "";
	diag = field(r, BF_DIAG);
	n = strlen(diag);
	if (n + 1 > c->lowcap) {
		c->lowcap = n + 1 > 256 ? n + 1 : 256;
		c->low = b_realloc(c->low, c->lowcap);
	}
	n = fold(c->low, diag, n, 1);
	n = unwrap(c->low, n);
	ri.diaglen = mask_locals(c->low, n);
	c->low[ri.diaglen] = '\0';
	ri.diag = c->low;

	if (++c->gen == 0) {	/* wrapped: clear the stamps */
		memset(c->pstamp, 0, (c->npats + 1) * sizeof *c->pstamp);
		memset(c->rstamp, 0, (c->nrules + 1) * sizeof *c->rstamp);
		c->gen = 1;
	}
	c->ncand = 0;
	scan(c, ri.diag, ri.diaglen);
	if ((i = first_rule(c, &ri, &why)) >= 0) {
		const struct rule *ru = &c->rules[i];
		res->reason = reasons[ru->reason].name;
		res->cls = bclass_classes[class_of(ru->cls, ru->reason, &ri)];
		res->src = ru->src;
		res->line = ru->line;
		res->pattern = why;
		return;
	}
	/* No rule: a failure with a code that says nothing more is on
	 * hold; without any code it is undefined. */
	res->src = NULL;
	res->line = 0;
	res->pattern = NULL;
	if ((ri.action & A_DEFAULT) && (ri.st[0] >= 0 || *ri.smtp != '\0'))
		res->reason = "onhold";
	else
		res->reason = "undefined";
	res->cls = bclass_classes[class_of(-1, (unsigned)find_reason(
	    res->reason), &ri)];
}
