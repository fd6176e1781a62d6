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

#include <sys/types.h>

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
/* getline(3) without the line end: a final LF, and a CR before it, go.
 * Returns the length left, or -1 at the end or on an error (errno).
 * *raw, when not NULL, gets the bytes read, line end included. */
ssize_t b_getline(char **linep, size_t *capp, FILE *fp, size_t *raw);

/* Case-insensitive (ASCII) search of needle in the first n bytes of hay.
 * Returns a pointer into hay or NULL. */
const char *b_memcasemem(const char *hay, size_t n, const char *needle);
const char *b_strcasestr(const char *hay, const char *needle);
/* A string hash (djb2) for the tools' small counting tables. */
unsigned long b_strhash(const char *s);
int b_startcase(const char *s, const char *prefix);
/* Lower-case ASCII letters in place; returns s. */
char *b_lower(char *s);
/* Trim ASCII white space at both ends in place; returns the new start. */
char *b_trim(char *s);
/* fsync(2) a directory, so that names made in it last; -1 and errno. */
int b_fsyncdir(const char *path);

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
/* The readable text of an HTML document (arena memory, *lenp bytes). */
char *b_html_text(struct barena *a, const char *s, size_t n, size_t *lenp);

/* Write ISO 8601 UTC ("2014-11-04T15:01:16Z") of t into buf[21]. */
void b_isotime(time_t t, char buf[21]);
/* Parse an RFC 5322 date (tolerant); returns -1 if it cannot, or if
 * it is before 1970 or after B_TIME_MAX. */
time_t b_parsedate(const char *s);
/* The last second every date written in four-digit years can say:
 * 9999-12-31T23:59:59Z.  Later dates are refused where they are read. */
#define B_TIME_MAX	((time_t)253402300799LL)

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
/* The line loop under it, for tools that read other lines (address
 * lists): each line of the files in argv (stdin when argc is 0; "-" is
 * stdin too), without its LF or CRLF, writable, with its file name and
 * number.  Files that cannot be opened or read go to err and make the
 * return value 1; a non-zero return from fn stops and is returned. */
typedef int (*b_line_fn)(void *arg, char *line, size_t len,
    const char *file, long lineno);
int b_lineloop(int argc, char **argv, b_line_fn fn, b_err_fn err, void *arg);

/* ---- message input (input.c) ----------------------------------------- */

/* The biggest message bparse reads; larger ones are refused. */
#define BMSG_MAX (64UL << 20)

enum { BMSG_MAIL, BMSG_ACCT };

struct bmsg {
	int kind;		/* BMSG_MAIL, or BMSG_ACCT: one accounting
				 * record (CSV) in data */
	const char *source;	/* path, or path:offset in an mbox or an
				 * accounting file */
	const char *data;	/* message bytes, LF line ends */
	size_t len;
	const char *envelope;	/* mbox "From " line (no LF) or NULL */
	const char *header;	/* accounting: the CSV header line, or NULL
				 * for PowerMTA's default fields */
};
typedef int (*bmsg_fn)(void *arg, const struct bmsg *m);

/* Is this line the header of a PowerMTA accounting file ("type,...,rcpt
 * ...")?  Is it an accounting record itself ("b,2014-...,...")? */
int bacct_is_header(const char *line, size_t n);
int bacct_is_record(const char *line, size_t n);

/* The message loop: every argument is a message file, an mbox, a Maildir
 * (cur/ and new/) or "-" (one raw message on stdin).  With no arguments
 * and stdin not a terminal, stdin gives one path per line.  CRLF and
 * CR-only line ends are turned into LF.  Inputs that cannot be read are
 * reported through err; the return value is 0 if all went well, 1 if
 * any input failed, or what fn returned when non-zero (which stops). */
int bmsg_loop(int argc, char **argv, bmsg_fn fn, b_err_fn err, void *arg);

/* The same loop in n worker processes when n > 1 and every argument is
 * a path (not "-", not the path list on stdin): each reads all of the
 * input and handles every n-th message; what fn writes to stdout comes
 * out in the order of the input, as from one process.  save writes a
 * worker's totals as text (no NUL or \001 bytes) when it ends; merge
 * gets each worker's text back in this process.  Returns as bmsg_loop
 * does, or BMSG_FATAL when a worker died (reported through err). */
#define BMSG_FATAL 2
struct bmsg_jobs {
	int n;
	void (*save)(void *arg, struct bbuf *out);
	void (*merge)(void *arg, const char *text, size_t len);
};
int bmsg_loop_jobs(const struct bmsg_jobs *j, int argc, char **argv,
    bmsg_fn fn, b_err_fn err, void *arg);

/* ---- addresses and codes (addr.c, status.c) -------------------------- */

/* Normalise an address as found in a report ("rfc822; <Foo@Bar>",
 * "\"a b\"@x", "Name <a@b>") into a lower-case addr-spec.  Returns a
 * string in arena a, or NULL when no address is there. */
char *baddr_norm(struct barena *a, const char *s);
/* Does a header's value name more than one address (a comma outside
 * quotes, comments and angle brackets)? */
int baddr_several(const char *v);
/* Does s look like a mail address (local@domain.tld, sane bytes)? */
int baddr_valid(const char *s);
/* May the ASCII byte c stand unquoted in a local part (RFC 5322 atext,
 * and the dot)?  Never for NUL. */
int baddr_atext(int c);
/* Decode a VERP return address: with prefix "bounces",
 * "bounces+user=example.com@site" gives "user@example.com".  Returns a
 * string in arena a, or NULL. */
char *baddr_verp(struct barena *a, const char *addr, const char *prefix);

/* Parse an RFC 3463 status "C.S.D" at the start of s (after blanks).
 * Writes the canonical form to out[12] and returns 1, or 0 if none. */
int bstatus_parse(const char *s, char out[12]);
/* Find the enhanced status code in text (word-bounded, class 2, 4 or 5):
 * the first 4.x.x or 5.x.x that follows an SMTP reply code, else the
 * first 4.x.x or 5.x.x, else the first 2.x.x; same result convention as
 * bstatus_parse. */
int bstatus_find(const char *text, char out[12]);
/* Find an SMTP reply code (3 digits, 2xx/4xx/5xx, word-bounded, not a
 * part of an address or a number) in text; writes out[4], returns 1. */
int bsmtp_find(const char *text, char out[4]);
/* Is the status generic (X.0.0)? */
int bstatus_generic(const char *st);

/* ---- bounce recognition (parse.c) ------------------------------------ */

#define BPARSE_MAXUNSUB 8
struct bparse_opts {
	const char *idheader;	/* -H: unique tracking header, or NULL */
	const char *verp;	/* -V: VERP local-part prefix, or NULL */
	/* -U: addresses that take unsubscribe requests, each with one '*'
	 * standing for the token ("unsubscribe+*@lists.example.com") */
	const char *unsub[BPARSE_MAXUNSUB];
	int nunsub;
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

/* Accounting records of types that are not bounces or complaints are
 * passed over (no record); these are their counts by type. */
#define BACCT_MAXTYPES 16
struct bacct_type {
	char name[8];
	unsigned long count;
};
struct bparse_acct {
	struct bacct_type types[BACCT_MAXTYPES];
	int ntypes;
};
/* The counts so far; the memory belongs to p. */
const struct bparse_acct *bparse_acct_skipped(const struct bparse *p);
/* Add n to the count of a type (to gather the counts of workers). */
void bparse_acct_add(struct bparse *p, const char *type, unsigned long n);

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

/* ---- spool (spool.c) ---- */

/* A Maildir that bfetch writes durably, with its lock and the small
 * fetched-state (dir/.bfetch-state). */
struct bspool;
/* Open dir, creating it and tmp/ new/ cur/ (mode 0700) as needed.
 * Returns NULL with errno set.  Free with bspool_close(), which also
 * drops the lock. */
struct bspool *bspool_open(const char *dir);
void bspool_close(struct bspool *s);
/* The directory as given, without trailing slashes (owned by s). */
const char *bspool_dir(const struct bspool *s);
/* Take the spool's lock (flock on dir/.bfetch.lock): wait for it, or
 * fail at once with EWOULDBLOCK.  Returns 0 or -1 with errno set. */
int bspool_lock(struct bspool *s, int wait);
/* Remove files that a dead writer left in tmp/ more than 36 hours ago;
 * returns how many. */
int bspool_tidy(struct bspool *s);

/* One message at a time: begin creates a file in tmp/, write appends to
 * it, commit flushes and fsyncs it, renames it into new/ and fsyncs
 * new/; only then is *path (dir/new/NAME, owned by s, valid until the
 * next begin) set.  A failed write or commit leaves nothing behind.
 * All return 0, or -1 with errno set.  abort drops the message. */
int bspool_begin(struct bspool *s);
int bspool_write(struct bspool *s, const void *p, size_t n);
int bspool_commit(struct bspool *s, const char **path);
/* With defer on, bspool_commit() leaves the sync of new/ (which makes the
 * renames durable) to bspool_sync(), so that a batch needs one; nothing
 * may be deleted at the source, nor a path printed, before it.  Both
 * return 0, or -1 with errno set. */
void bspool_defer(struct bspool *s, int on);
int bspool_sync(struct bspool *s);
void bspool_abort(struct bspool *s);

/* The fetched-state: one string value per key (a source).  load reads
 * the file (none is an empty state): 0, or -1 with errno set or *why
 * set for a malformed file.  get returns the value (owned by s, valid
 * until the next set) or NULL.  save replaces the file durably. */
int bspool_state_load(struct bspool *s, const char **why);
const char *bspool_state_get(struct bspool *s, const char *key);
void bspool_state_set(struct bspool *s, const char *key, const char *val);
int bspool_state_save(struct bspool *s);

/* ---- remote mailboxes (fetch.c) ---- */

/* What went wrong; the program maps these to exit statuses. */
enum {
	BR_OK = 0,
	BR_URL,		/* malformed URL or unsupported scheme */
	BR_TEMP,	/* unreachable, timed out, connection lost: retry */
	BR_LOGIN,	/* the server refused the credentials */
	BR_TLS,		/* TLS failed: not verified, or no STARTTLS */
	BR_PROTO,	/* the server refused a command, or odd reply */
	BR_WRITE,	/* the write function failed */
	BR_GONE,	/* the message is no longer on the server */
};

struct bremote_opts {
	const char *netrc;	/* netrc file, or NULL */
	const char *password;	/* password (user from the URL), or NULL */
	const char *cacert;	/* CA certificates file, or NULL */
	int insecure;		/* do not verify the server's certificate */
	int notls;		/* imap://, pop3://: no STARTTLS */
	int verbose;		/* libcurl's trace on stderr */
	long connect_timeout, max_time;	/* seconds, 0 for libcurl's */
};

/* A message on the server: IMAP UID, or POP3 number and UIDL. */
struct bremote_msg {
	unsigned long num;	/* IMAP: the UID; POP3: the message number */
	char *id;		/* IMAP: the UID in decimal; POP3: the UIDL */
};

/* Returns 0 to go on, non-zero to abort the transfer (BR_WRITE). */
typedef int (*bremote_write_fn)(void *arg, const char *p, size_t n);

struct bremote;
/* Prepare a session for url (imap, imaps, pop3, pop3s); nothing is
 * sent yet.  Always returns a handle (free it with bremote_free(), which
 * ends the session: for POP3 the QUIT that commits deletions); *st says
 * whether it can be used. */
struct bremote *bremote_new(const char *url, const struct bremote_opts *o,
    int *st);
void bremote_free(struct bremote *r);
/* The last error, in words (owned by r, valid until the next call). */
const char *bremote_error(const struct bremote *r);
/* scheme://[user@]host[:port][/folder]: names the source in the state
 * (owned by r). */
const char *bremote_key(const struct bremote *r);
int bremote_is_imap(const struct bremote *r);
/* Log in and list the messages in ascending order (UID or number).
 * *gen is the folder's UIDVALIDITY (IMAP) or "" (POP3).  Both live in r
 * until the next list or bremote_free(). */
int bremote_list(struct bremote *r, const char **gen,
    const struct bremote_msg **v, size_t *n);
/* Download one message (CRLF line ends, as on the wire) through wr. */
int bremote_fetch(struct bremote *r, const struct bremote_msg *m,
    bremote_write_fn wr, void *arg);
/* Delete messages, or move them to folder (IMAP only; NULL deletes).
 * POP3 deletions take effect when bremote_free() ends the session. */
int bremote_delete(struct bremote *r, const struct bremote_msg *const *v,
    size_t n, const char *folder);

/* ---- state file (state.c) and policy (policy.c) ---- */

/* State file format version, see bounce-state(5).  Files of formats 1
 * and 2 are read, and a writer makes them format 3. */
#define BSDB_FORMAT 3
/* Hash buckets of a new state file: a million addresses stay fast. */
#define BSDB_HASHSIZE 1000003

/* Address states.  send, counting and persistent are mailable. */
enum bstate {
	BS_SEND, BS_COUNTING, BS_UNREACHABLE, BS_INVALID, BS_COMPLAINED,
	BS_UNSUBSCRIBED, BS_ONHOLD, BS_PERSISTENT, BS_NSTATES
};
const char *bstate_name(int st);
int bstate_byname(const char *s);	/* -1 if no state has that name */
int bstate_muted(int st);

/* Event classes: the four that bclassify gives, then the file's own. */
enum bev_class {
	BEV_HARD, BEV_SOFT, BEV_COMPLAINT, BEV_UNSUB,
	BEV_MANUAL,	/* bstate set and reset */
	BEV_POLICY,	/* recovery, an empty window (bstate expire) */
	BEV_NCLASS
};
const char *bev_classname(int c);
int bev_classbyname(const char *s);	/* -1 if unknown */

/* Whether an event counted, and if not, why. */
enum bev_flag { BEVF_NONE, BEVF_COUNTED, BEVF_ZERO, BEVF_SAMEDAY,
	BEVF_NFLAGS };
const char *bev_flagname(int f);

/* What the state file keeps for one address. */
struct bsdb_addr {
	int state;
	long score;		/* points counted within the window */
	time_t since;		/* when the state was entered */
	time_t first, last;	/* first and last event, 0 when none */
	time_t horizon;		/* records dated at or before it are known */
	unsigned long nevents, ncounted, nhard, nsoft, ncomplaint, nunsub;
	char status[12];	/* of the newest bounce */
	char reason[32];
	unsigned long lo, hi;	/* the kept events are lo .. hi-1 */
};

/* One kept event. */
struct bsdb_event {
	time_t date;
	int cls;		/* enum bev_class */
	int points;
	int flag;		/* enum bev_flag */
	int state;		/* the address's state after the event */
	char rule[8];		/* what gave the points: status, reason,
				 * smtp or class; "" when nothing did */
	char status[12];
	char smtp[4];
	char reason[32];
	const char *source;	/* "" when none */
	const char *note;	/* "" when none */
	unsigned long long key;	/* hash of source, recipient and date */
};

/* An entry of the file, as bsdb_walk() and the export lines give it. */
enum { BSDB_ADDR, BSDB_EVENT, BSDB_SENT };
struct bsdb_item {
	int type;
	const char *key;	/* the address, or the sent-mail id */
	unsigned long seq;	/* BSDB_EVENT: its number */
	struct bsdb_addr a;	/* BSDB_ADDR */
	struct bsdb_event e;	/* BSDB_EVENT */
	const char *addr;	/* BSDB_SENT: the address mailed */
	time_t date;		/* BSDB_SENT: when */
};

struct bsdb;
enum { BSDB_RDONLY = 0, BSDB_RDWR = 1, BSDB_NOSYNC = 2, BSDB_STAGE = 4 };

/* The file to use: path when not NULL, else $BOUNCE_DB, else
 * $XDG_STATE_HOME/bounce/state.tdb (XDG_STATE_HOME defaults to
 * ~/.local/state).  mkdir creates the default's directory.  Returns a
 * string to free(), or NULL with errno set. */
char *bsdb_path(const char *path, int mkdir);
/* Open the state file; BSDB_RDWR creates it when missing.  Refuses
 * files that are not state files.  Returns NULL with *why set to a
 * message to free(). */
struct bsdb *bsdb_open(const char *path, int flags, char **why);
/* Close; -1 if closing failed (an open transaction is cancelled). */
int bsdb_close(struct bsdb *db);
/* With BSDB_STAGE, a missing file is written under a temporary name
 * until bsdb_publish() links it into place (all or nothing); closing
 * first drops it.  0, or -1 (also when another program made the file
 * meanwhile) with the reason in bsdb_error().  0 when not staged. */
int bsdb_publish(struct bsdb *db);
/* The last error, in words (owned by db). */
const char *bsdb_error(const struct bsdb *db);

/* Transactions: every write happens inside one.  begin waits for the
 * write lock, at most secs seconds when secs > 0 (with SIGALRM, whose
 * handler it sets for the wait): it returns 0, -1 on error, or -2 when
 * the wait timed out.  A reader never needs one. */
int bsdb_begin(struct bsdb *db, unsigned secs);
int bsdb_commit(struct bsdb *db);
void bsdb_cancel(struct bsdb *db);

/* The functions below return 1 (found), 0 (not there) or -1 (error:
 * a damaged entry or a failed read or write); puts return 0 or -1.
 * Strings of results live in the arena ar.  bsdb_get() fills *a for a
 * new address (state send, no events) when it is not there. */
int bsdb_get(struct bsdb *db, const char *addr, struct bsdb_addr *a);
/* Just the state: faster, for check and filter; BS_SEND when the
 * address is not known; -1 on error. */
int bsdb_state(struct bsdb *db, const char *addr);
int bsdb_put(struct bsdb *db, const char *addr, const struct bsdb_addr *a);
int bsdb_event_get(struct bsdb *db, const char *addr, unsigned long seq,
    struct bsdb_event *e, struct barena *ar);
int bsdb_event_put(struct bsdb *db, const char *addr, unsigned long seq,
    const struct bsdb_event *e);
int bsdb_event_del(struct bsdb *db, const char *addr, unsigned long seq);
/* An address and its kept events, read and written at once: one read
 * and, for a known address, usually one write in place.  bsdb_load()
 * fills x for a new address (found 0) when it is not there, with room
 * for extra more events in e[], seq[] and dirty[].  Change a, append
 * events (numbers from a.hi on), mark the events changed in dirty[],
 * and drop the oldest by raising a.lo and removing them from e[]; then
 * bsdb_save() writes it all. */
struct bsdb_entry {
	struct bsdb_addr a;
	struct bsdb_event *e;	/* the kept events, oldest number first */
	unsigned long *seq;	/* their numbers */
	unsigned char *dirty;	/* new or changed */
	size_t n;
	int found;
	/* Where the events are in the file, and the size the entry's
	 * record was made for, for bsdb_save(). */
	unsigned long lo0, inl;
	size_t size;
};
int bsdb_load(struct bsdb *db, const char *addr, struct bsdb_entry *x,
    size_t extra, struct barena *ar);
int bsdb_save(struct bsdb *db, const char *addr, struct bsdb_entry *x);
/* The sent-mail log: tracking id -> address and time. */
int bsdb_sent_get(struct bsdb *db, const char *id, char **addr,
    time_t *date, struct barena *ar);
int bsdb_sent_put(struct bsdb *db, const char *id, const char *addr,
    time_t date);
int bsdb_sent_del(struct bsdb *db, const char *id);
/* Does the file hold anything besides its header? 1, 0 or -1. */
int bsdb_used(struct bsdb *db);

/* Call fn for every entry, in no particular order.  Writers wait until
 * the walk is over.  A non-zero return from fn stops the walk and is
 * returned; -1 on error.  The item's strings live until fn returns. */
typedef int (*bsdb_walk_fn)(void *arg, const struct bsdb_item *it);
int bsdb_walk(struct bsdb *db, bsdb_walk_fn fn, void *arg);

/* The export format (see bounce-state(5)): one line per entry. */
#define BSDB_EXPORT_HEADER "# bounce-state 1"
void bsdb_format_item(struct bbuf *b, const struct bsdb_item *it);
/* Parse an export line (without LF) in place; 0 (*why NULL), or -1
 * with *why. */
int bsdb_parse_item(char *line, struct bsdb_item *it, const char **why);
int bsdb_put_item(struct bsdb *db, const struct bsdb_item *it);

/* A strict ISO 8601 UTC date (2014-11-04T15:01:16Z), or "-" for 0. */
int b_isoparse(const char *s, time_t *t);
/* b_isotime() made fast for the state file's many dates (not thread
 * safe: it remembers the last date). */
void b_isoformat(time_t t, char buf[21]);

/* The policy: compiled-in defaults, then what a policy file says. */
struct bpolicy_rule;
/* The most events a policy keeps per address; a file never holds more. */
#define BPOLICY_KEEP_MAX 10000

struct bpolicy {
	long threshold;		/* a score this high mutes */
	long window;		/* seconds the score looks back */
	long softmute;		/* counted soft bounces that mute; 0 never */
	int perday;		/* at most one counted bounce a day */
	long recover;		/* seconds of quiet that lift unreachable */
	long keep;		/* events kept per address */
	struct bpolicy_rule *rules;
	size_t nrules, cap;
};
/* Free with bpolicy_free(). */
struct bpolicy *bpolicy_new(void);
void bpolicy_free(struct bpolicy *p);
/* Read a policy file over p.  Returns 0, or -1 with *why set and
 * *lineno the line (0 when the file could not be read: see errno). */
int bpolicy_load(struct bpolicy *p, const char *path, long *lineno,
    const char **why);
/* Write p in the policy-file form; 0 or -1 with errno set. */
int bpolicy_write(const struct bpolicy *p, FILE *fp);
/* The points of an event, and the kind of rule that gave them
 * ("status", "reason", "smtp", "class", or "" for none). */
int bpolicy_points(const struct bpolicy *p, int cls, const char *status,
    const char *smtp, const char *reason, const char **rule);

/* A classified bounce, ready to be applied. */
struct bpolicy_in {
	const char *addr;	/* normalised recipient */
	time_t date;
	int cls;		/* BEV_HARD .. BEV_UNSUB */
	const char *status, *smtp, *reason, *source;
	unsigned long long key;	/* bpolicy_key() */
};
/* A change of state: one transition line. */
struct btransition {
	time_t date;
	const char *addr;
	int from, to;
	long score;
	const char *reason, *source;
};
enum { BAPPLY_SAME, BAPPLY_CHANGED, BAPPLY_KNOWN };
unsigned long long bpolicy_key(const char *source, const char *addr,
    const char *date);
/* Apply a bounce inside a transaction.  Returns BAPPLY_CHANGED (and
 * fills *t), BAPPLY_SAME, BAPPLY_KNOWN when the record was seen before,
 * or -1 (see bsdb_error()).  Strings in *t live in ar. */
int bpolicy_apply(const struct bpolicy *p, struct bsdb *db,
    const struct bpolicy_in *in, struct btransition *t, struct barena *ar);
/* Manual changes and the daily expiry, inside a transaction; same
 * return values (never BAPPLY_KNOWN).  note may be NULL. */
int bpolicy_set(const struct bpolicy *p, struct bsdb *db, const char *addr,
    int state, const char *note, time_t now, struct btransition *t,
    struct barena *ar);
int bpolicy_reset(const struct bpolicy *p, struct bsdb *db,
    const char *addr, const char *note, time_t now, struct btransition *t,
    struct barena *ar);
int bpolicy_expire(const struct bpolicy *p, struct bsdb *db,
    const char *addr, time_t now, struct btransition *t, struct barena *ar);
/* The transition line (with its LF) into b, which is reset first. */
void btransition_format(struct bbuf *b, const struct btransition *t);

/* ---- the HTML report (report.c) ---- */

struct breport_opt {
	const char *title;	/* NULL: "Bounce report" */
	const char *file;	/* the state file's name to show, or NULL */
	const struct bpolicy *pol;	/* its window scores the changes */
	time_t now;		/* when the report is made */
	time_t from, until;	/* events dated from .. until; 0: open */
	int top;		/* rows of the reason and domain charts */
	int latest;		/* changes of state listed */
};
struct breport;
/* Free with breport_free(); o is copied, its strings are not. */
struct breport *breport_new(const struct breport_opt *o);
void breport_free(struct breport *r);
/* Walk the state file and count; 0, or -1 (see bsdb_error()). */
int breport_read(struct breport *r, struct bsdb *db);
/* Append the page (HTML5 with inline CSS and SVG) to out. */
void breport_html(const struct breport *r, struct bbuf *out);

#endif
