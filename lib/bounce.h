/*
 * bounce.h - the one header of the bounce toolset's shared library.
 *
 * Naming: b_ general helpers, brec_ records, bmsg_ message input,
 * baddr_ addresses, bstatus_ status codes, bmime_ the GMime layer,
 * bparse_ bounce recognition.  Nothing in lib/ prints: functions
 * return a status and the program decides what to say.
 *
 * Ownership: every function that returns memory says who frees it.
 * "arena" means the memory lives in a struct barena and is released
 * all at once by barena_reset() or barena_free().
 */
#ifndef BOUNCE_H
#define BOUNCE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define BOUNCE_VERSION "0.1"

/* ---- small utilities (util.c) ---------------------------------------- */

/* Allocation that cannot fail: on exhaustion the process aborts with a
 * message, as there is no sane way to go on.  Free with free(3). */
void *b_malloc(size_t n);
void *b_realloc(void *p, size_t n);
char *b_strdup(const char *s);
char *b_strndup(const char *s, size_t n);

size_t b_strlcpy(char *dst, const char *src, size_t size);
/* Parse a decimal in [min, max]; returns 0 and sets *errstr on error. */
long long b_strtonum(const char *s, long long min, long long max,
    const char **errstr);

/* Case-insensitive (ASCII) search of needle in the first n bytes of hay.
 * Returns a pointer into hay or NULL. */
const char *b_memcasemem(const char *hay, size_t n, const char *needle);
const char *b_strcasestr(const char *hay, const char *needle);
int b_startcase(const char *s, const char *prefix);
/* Lower-case ASCII letters in place; returns s. */
char *b_lower(char *s);
/* Trim ASCII white space at both ends in place; returns the new start. */
char *b_trim(char *s);

/* A growable byte buffer; the bytes are always NUL-terminated. */
struct bbuf {
	char *s;
	size_t len, cap;
};
void bbuf_add(struct bbuf *b, const void *p, size_t n);
void bbuf_addc(struct bbuf *b, int c);
void bbuf_adds(struct bbuf *b, const char *s);
void bbuf_reset(struct bbuf *b);
void bbuf_free(struct bbuf *b);

/* An arena of strings with one lifetime (one message).  Blocks are kept
 * between resets, so steady-state parsing does not call malloc. */
struct barena_blk;
struct barena {
	struct barena_blk *head;
};
void *barena_alloc(struct barena *a, size_t n);
char *barena_strndup(struct barena *a, const char *s, size_t n);
char *barena_strdup(struct barena *a, const char *s);
char *barena_printf(struct barena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void barena_reset(struct barena *a);
void barena_free(struct barena *a);

/* Write ISO 8601 UTC ("2014-11-04T15:01:16Z") of t into buf[21]. */
void b_isotime(time_t t, char buf[21]);
/* Parse an RFC 5322 date (tolerant); returns -1 if it cannot. */
time_t b_parsedate(const char *s);

/* ---- records (rec.c) ------------------------------------------------- */

/* Record format version, see bounce-record(5). */
#define BREC_FORMAT 1

enum brec_field {
	BF_SOURCE, BF_DATE, BF_RCPT, BF_ACTION, BF_STATUS, BF_SMTP,
	BF_MTA, BF_ID, BF_DETECTOR, BF_DIAG, BF_CLASS, BF_REASON,
	BF_NFIELDS
};
#define BREC_PARSE_FIELDS 10	/* columns written by bparse */
#define BREC_MAXCOLS 64		/* the reader keeps at most this many */

extern const char *const brec_names[BF_NFIELDS];

/* A record: pointers to NUL-terminated UTF-8 fields.  An empty field is
 * "" (or NULL when writing); "-" on the wire.  n is the number of
 * columns present (writers print n columns). */
struct brec {
	const char *f[BREC_MAXCOLS];
	int n;
};

enum { BREC_TSV = 0, BREC_JSON = 1 };

/* Append the escaped form of s (see bounce-record(5)) to b. */
void brec_escape(struct bbuf *b, const char *s);
/* Unescape s in place; returns 0, or -1 on a malformed escape. */
int brec_unescape(char *s);
/* Format r as one line (with its LF) into b, which is reset first. */
void brec_format(struct bbuf *b, const struct brec *r, int mode);
/* Write r to fp; returns 0 or -1 with errno set. */
int brec_write(FILE *fp, const struct brec *r, int mode);

/* Write a record line as it was read (raw, without its LF) with columns
 * first .. first+n-1 replaced by vals (escaped here); the other columns
 * keep their bytes, and missing ones before first are written empty.
 * Returns 0 or -1 with errno set. */
int brec_replace(FILE *fp, const char *raw, int first, int n,
    const char *const vals[]);

/* Split one line (without its LF) into r, in place.  Fields point into
 * line.  Returns 0, or -1 with *why set when the line is not a record
 * (too few columns, a bad escape). */
int brec_parse(char *line, struct brec *r, const char **why);

/* The record loop: read records from the files in argv (or stdin when
 * argc is 0; "-" is stdin too).  For each line fn is called with the
 * parsed record, or r == NULL and why set when the line cannot be read
 * as one; raw is the line as read (without LF).  Comment lines starting
 * with '#' are given with r == NULL and why == NULL.  A non-zero return
 * from fn stops the loop and is returned.  Files that cannot be opened
 * are reported through err and the loop goes on; the return value is
 * then 1 unless fn stopped it. */
typedef int (*brec_fn)(void *arg, struct brec *r, const char *raw,
    const char *why, const char *file, long lineno);
typedef void (*b_err_fn)(void *arg, const char *what, const char *why);
int brec_loop(int argc, char **argv, brec_fn fn, b_err_fn err, void *arg);

/* ---- message input (input.c) ----------------------------------------- */

/* The biggest message bparse reads; larger ones are refused. */
#define BMSG_MAX (64UL << 20)

struct bmsg {
	const char *source;	/* path, or path:offset in an mbox */
	const char *data;	/* message bytes, LF line ends */
	size_t len;
	const char *envelope;	/* mbox "From " line (no LF) or NULL */
};
typedef int (*bmsg_fn)(void *arg, const struct bmsg *m);

/* The message loop: every argument is a message file, an mbox, a Maildir
 * (cur/ and new/) or "-" (one raw message on stdin).  With no arguments
 * and stdin not a terminal, stdin gives one path per line.  CRLF and
 * CR-only line ends are turned into LF.  Inputs that cannot be read are
 * reported through err; the return value is 0 if all went well, 1 if
 * any input failed, or what fn returned when non-zero (which stops). */
int bmsg_loop(int argc, char **argv, bmsg_fn fn, b_err_fn err, void *arg);

/* ---- addresses and codes (addr.c, status.c) -------------------------- */

/* Normalise an address as found in a report ("rfc822; <Foo@Bar>",
 * "\"a b\"@x", "Name <a@b>") into a lower-case addr-spec.  Returns a
 * string in arena a, or NULL when no address is there. */
char *baddr_norm(struct barena *a, const char *s);
/* Does s look like a mail address (local@domain.tld, sane bytes)? */
int baddr_valid(const char *s);
/* Decode a VERP return address: with prefix "bounces",
 * "bounces+user=example.com@site" gives "user@example.com".  Returns a
 * string in arena a, or NULL. */
char *baddr_verp(struct barena *a, const char *addr, const char *prefix);

/* Parse an RFC 3463 status "C.S.D" at the start of s (after blanks).
 * Writes the canonical form to out[12] and returns 1, or 0 if none. */
int bstatus_parse(const char *s, char out[12]);
/* Find the first enhanced status code in text (word-bounded, class 2, 4
 * or 5); same result convention as bstatus_parse. */
int bstatus_find(const char *text, char out[12]);
/* Find an SMTP reply code (3 digits, 2xx/4xx/5xx, word-bounded, not a
 * part of an address or a number) in text; writes out[4], returns 1. */
int bsmtp_find(const char *text, char out[4]);
/* Is the status generic (X.0.0)? */
int bstatus_generic(const char *st);

/* ---- bounce recognition (parse.c) ------------------------------------ */

struct bparse_opts {
	const char *idheader;	/* -H: unique tracking header, or NULL */
	const char *verp;	/* -V: VERP local-part prefix, or NULL */
};
struct bparse;
/* Create a parser (initialises GMime once).  Free with bparse_free(). */
struct bparse *bparse_new(const struct bparse_opts *o);
void bparse_free(struct bparse *p);
/* Recognise one message and call emit for each record (BREC_PARSE_FIELDS
 * columns; the strings live until emit returns).  Every message gives at
 * least one record.  Returns 0, or the first non-zero from emit. */
typedef int (*bparse_emit_fn)(void *arg, const struct brec *r);
int bparse_message(struct bparse *p, const struct bmsg *m,
    bparse_emit_fn emit, void *arg);

/* ---- classification (classify.c) ---- */

/* The classes, in this order; see bclassify(1). */
enum { BC_HARD, BC_SOFT, BC_COMPLAINT, BC_UNSUBSCRIBE, BC_INFO,
	BC_NCLASSES };
extern const char *const bclass_classes[BC_NCLASSES];

/* The built-in rules (lib/rules.bcr), NUL-terminated. */
extern const char bclass_builtin[];

struct bclass;
/* An empty rule set.  Free with bclass_free(). */
struct bclass *bclass_new(void);
void bclass_free(struct bclass *c);
/* Add the rules in text[0..len), written in the rules format of
 * bclassify(1); name says where they come from in explanations.  Rules
 * added earlier are consulted first.  Returns 0, or -1 with *lineno and
 * *why set (why lives until the next call on c); after a failure c is
 * only fit for bclass_free(). */
int bclass_add(struct bclass *c, const char *name, const char *text,
    size_t len, long *lineno, const char **why);
/* The same from a file; *lineno is 0 when it cannot be read. */
int bclass_add_file(struct bclass *c, const char *path, long *lineno,
    const char **why);

struct bclass_result {
	const char *cls;	/* "hard", "soft", ... (static) */
	const char *reason;	/* "userunknown", ... (static) */
	const char *src;	/* the deciding rule's file, NULL if none */
	long line;		/* and its line */
	const char *pattern;	/* the diag pattern that matched, or NULL */
};
/* Classify one record (at least BREC_PARSE_FIELDS columns).  The result
 * points into c and lives until the next call. */
void bclass_classify(struct bclass *c, const struct brec *r,
    struct bclass_result *res);

#endif
