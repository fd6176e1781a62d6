/*
 * parse.h - internals of bounce recognition, shared by the files of
 * lib/ that look at messages.  Not installed; programs use bounce.h.
 */
#ifndef BOUNCE_PARSE_H
#define BOUNCE_PARSE_H

#include <gmime/gmime.h>

#include "bounce.h"

/* Work limits: they bound time and memory on hostile input. */
#define BP_MAXDEPTH	32	/* MIME nesting we walk into */
#define BP_MAXTEXT	(4UL << 20)	/* decoded text kept per part */
#define BP_MAXRES	500	/* records from one message */
#define BP_MAXHDR	(64UL << 10)	/* bytes of a header value looked at */
#define DIAG_MAX	1200		/* bytes of text kept as one diagnostic */

/* ---- the GMime layer (mime.c) ---- */

/* Initialise GMime once per process; safe to call again. */
void bmime_init(void);
/* Parse a message from memory: its top part, which holds the message's
 * header block.  buf is read in place: it must stay as it is until the
 * result is dropped.  Returns a new reference the caller drops with
 * g_object_unref(), or NULL when nothing could be parsed.  Attached
 * messages are leaf parts (bmime_is_message()), not parsed. */
GMimeObject *bmime_parse(const char *buf, size_t len);
/* Is this the type of an attached message (message/rfc822 and kin)? */
int bmime_is_message(GMimeContentType *ct);
/* The content of a leaf part with its transfer encoding undone, bytes
 * as they are (at most BP_MAXTEXT).  Arena memory, NUL-ended; *lenp
 * gets the length.  Never NULL. */
char *bmime_part_bytes(struct barena *a, GMimePart *part, size_t *lenp);
/* The decoded content of a leaf part as UTF-8 (transfer encoding and
 * charset undone, at most BP_MAXTEXT bytes).  Arena memory, NUL-ended;
 * *lenp gets the length.  Never NULL. */
char *bmime_part_text(struct barena *a, GMimePart *part, size_t *lenp);
/* The header block of a part as text, at most BP_MAXTEXT bytes
 * (arena memory, never NULL). */
char *bmime_headers(struct barena *a, GMimeObject *obj);
/* The header fields at the start of the message text s of n bytes, up
 * to its blank line (arena memory, never NULL). */
char *bmime_header_block(struct barena *a, const char *s, size_t n);
/* A header's value, RFC 2047-decoded to UTF-8, unfolded (arena memory),
 * or NULL. */
char *bmime_header(struct barena *a, GMimeObject *obj, const char *name);
/* Unix time of a message's Date header, or -1. */
time_t bmime_date(GMimeObject *m);

/* ---- one result: a record in the making ---- */
struct bres {
	char *rcpt, *action, *status, *smtp, *mta, *diag;
	const char *detector;
};

/* ---- what the walk over one message found ---- */
struct bctx {
	struct barena *a;
	const struct bparse_opts *o;
	const struct bmsg *m;
	GMimeObject *msg;	/* the message's top part */
	char *subject, *from;	/* decoded, or NULL */
	char *dsn;		/* delivery-status text (all such parts) */
	int dsnintext;		/* dsn is a text part's, with its prose */
	char *arf;		/* feedback-report text */
	char *body;		/* the bounce's own text parts, UTF-8 */
	size_t bodylen;
	char *orighdr;		/* headers of the returned message */
	char *origbody;		/* body of the returned message, if text */
	char *tophdr;		/* the bounce's own header block */
	char *excl[8];		/* addresses never reported as failed */
	int nexcl;
	int listed;		/* excluded addresses count when listed */
	char **xfr;		/* X-Failed-Recipients, normalised */
	int nxfr;		/* -1: not read yet */
	int xfr_only;		/* the text's failed ones are those */
	int delay;		/* a delay warning (text formats) */
	const struct btext_fmt *fmt;	/* the text format, once looked up */
	int fmt_done;
	const char *sec_s, *sec_e;	/* its error section in body */
	char *own;		/* body before the returned message, once cut */
	int cmd_hint;		/* 1: the text may name SMTP commands,
				 * -1: it does not, 0: not looked yet */
	int before;		/* the format's reason precedes the list */
	char *acct_id;		/* tracking id from the record itself
				 * (accounting, unsubscribe token) */
	time_t date;
	/* The line start last found by line_of(): for ls_at in ls_base. */
	const char *ls_base, *ls_at, *ls;
	struct bres res[BP_MAXRES];
	int nres;
};

struct btext_fmt;
struct bres *bp_add(struct bctx *c, const char *detector);
/* The detector for PowerMTA's own verdict on a recipient (bounceCat,
 * X-PowerMTA-BounceCategory): "pmta:" and the category in lower case
 * (arena); det when cat is missing or not a plain word. */
const char *bp_pmta(struct bctx *c, char *cat, const char *det);
/* Fill smtp/status from diag where they are missing (the status rule in
 * bounce-record(5)). */
void bp_codes(struct bctx *c, struct bres *r);

/* Header value from a block of header text (folded lines joined), arena
 * memory, or NULL.  Works on DSN field blocks too. */
char *bp_field(struct barena *a, const char *text, const char *name);
/* Collapse white space runs (LF included) into one blank, in place. */
char *bp_oneline(char *s);

/* The addresses of the bounce's X-Failed-Recipients header, normalised
 * (arena, read once); their number is returned. */
int bp_xfr(struct bctx *c, char ***addrs);

/* Does the line at l open with an SMTP reply code ("550 ", "550-")? */
int bp_reply_line(const char *l);

/* The diagnostic next to addr in the bounce's text (arena), or NULL. */
char *bp_text_diag(struct bctx *c, const char *addr);

/* Find the error section of the bounce's text once (and the returned
 * headers past it, when no part gave them). */
void bp_text_section(struct bctx *c);

/* The SMTP command that a refusal for addr (whose diagnostic is diag)
 * answered, in Postfix's words ("in reply to RCPT TO command"), from the
 * bounce's text; or NULL. */
char *bp_command(struct bctx *c, const char *addr, const char *diag);

/* Recognisers; each returns the number of results it added. */
int bp_dsn(struct bctx *c);
int bp_arf(struct bctx *c);
int bp_text(struct bctx *c);
int bp_ses(struct bctx *c);
/* One accounting record: 1 if it gave a result, -1 if its type is
 * passed over (counted in st). */
int bp_acct(struct bctx *c, struct bparse_acct *st);
/* Add n to the count of accounting records of this type. */
void bacct_count(struct bparse_acct *st, const char *type, unsigned long n);
int bp_unsubscribe(struct bctx *c);
int bp_autoreply(struct bctx *c);

#endif
