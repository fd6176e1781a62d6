/*
 * fetch.c - remote mailboxes (IMAP, POP3) through libcurl.
 *
 * One easy handle carries the whole session, so every command of a run
 * goes over one connection: POP3 message numbers stay valid and the
 * deletions of a POP3 session are committed by the QUIT that ends it.
 * Once a POP3 mailbox has been listed, no new connection is allowed:
 * message numbers from one session must never be used in another.
 *
 * Known libcurl pitfalls this works around:
 *  - libcurl takes every reply line of the server for a header line and
 *    gives up past 300 KB of them in one command ("Too large response
 *    headers"; older releases cut a long reply short with a success
 *    status): UID SEARCH asks for the compact ESEARCH form, or else goes
 *    in chunks of message numbers, and the number of UIDs is checked
 *    against the folder's EXISTS count;
 *  - for the same reason deletions go in batches, with STORE .SILENT;
 *  - curl reports a failed SELECT as "login denied": login is done by a
 *    first command without a folder, so the two can be told apart;
 *  - the password from a netrc file is ignored by some libcurl releases
 *    when the URL names the user: the file is read here (see below).
 */
#include <sys/socket.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

/* Internal: STARTTLS was required and the server has none. */
#define BR_USE_TLS 100

struct bremote {
	CURL *h;
	int imap;		/* else POP3 */
	int tls;		/* imaps:// or pop3s:// */
	char *base;		/* scheme://host[:port] */
	char *mbox;		/* IMAP folder as in the URL (encoded) */
	char *mboxname;		/* the same, decoded, for messages */
	char *key;		/* identity of the source, see bremote_key */
	char *scheme, *host, *port;	/* of the URL (host as netrc has it) */
	char errbuf[CURL_ERROR_SIZE];
	struct bbuf why;	/* the last error message */
	struct bbuf body;	/* the reply of a command */
	struct bbuf last;	/* the last server reply line */
	struct bbuf caps;	/* the last CAPABILITY list */
	unsigned long exists;	/* EXISTS count of the selected folder */
	int have_exists;
	char uidvalidity[24];	/* as SELECT said */
	char gen[24];		/* UIDVALIDITY of the listing */
	int logged_in;
	int pinned;		/* no new connection from now on */
	bremote_write_fn wr;	/* where a message goes */
	void *wrarg;
	int wrfailed;
	struct bremote_msg *msgs;
	size_t nmsgs, capmsgs;
};

/* ---- curl callbacks ---- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct bremote *r = arg;
	size_t n = size * nmemb;

	if (r->wr == NULL) {
		bbuf_add(&r->body, p, n);
		return n;
	}
	if (r->wr(r->wrarg, p, n) != 0) {
		r->wrfailed = 1;
		return 0;	/* curl aborts the transfer */
	}
	return n;
}

/* Every reply line of the server comes here ("headers" in curl's
 * terms): keep the last one for error messages, and pick up what a
 * SELECT says about the folder. */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct bremote *r = arg;
	size_t n = size * nmemb;
	const char *s;

	bbuf_reset(&r->last);
	bbuf_add(&r->last, p, n);
	while (r->last.len > 0 && (r->last.s[r->last.len - 1] == '\n' ||
	    r->last.s[r->last.len - 1] == '\r'))
		r->last.s[--r->last.len] = '\0';
	s = r->last.s;
	if (!r->imap || strncmp(s, "* ", 2) != 0)
		return n;
	if ((s = b_strcasestr(r->last.s, "[UIDVALIDITY ")) != NULL) {
		size_t k = strspn(s + 13, "0123456789");
		if (k > 0 && k < sizeof r->uidvalidity) {
			memcpy(r->uidvalidity, s + 13, k);
			r->uidvalidity[k] = '\0';
		}
	} else if ((s = b_strcasestr(r->last.s, " EXISTS")) != NULL &&
	    s[7] == '\0') {
		r->exists = strtoul(r->last.s + 2, NULL, 10);
		r->have_exists = 1;
	}
	if ((s = b_strcasestr(r->last.s, "CAPABILITY ")) != NULL &&
	    (s == r->last.s + 2 || s[-1] == '[')) {
		bbuf_reset(&r->caps);
		bbuf_addc(&r->caps, ' ');
		bbuf_adds(&r->caps, s + 11);
		bbuf_addc(&r->caps, ' ');
	}
	return n;
}

/* Refuse a second connection once a POP3 session is pinned: message
 * numbers of one session mean nothing in another. */
static curl_socket_t
on_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct bremote *r = arg;

	(void)purpose;
	if (r->pinned)
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- errors ---- */

static int
status_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return BR_OK;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return BR_URL;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_AGAIN:
	case CURLE_OUT_OF_MEMORY:
		return BR_TEMP;
	case CURLE_LOGIN_DENIED:
		return BR_LOGIN;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return BR_TLS;
	case CURLE_WRITE_ERROR:
		return BR_WRITE;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return BR_GONE;
	default:
		return BR_PROTO;
	}
}

/* Set the error message: what failed, and the server's last words when
 * they help (never for TLS and connection errors, where the server said
 * nothing of use). */
static int
fail(struct bremote *r, int st, const char *what, CURLcode rc)
{
	const char *s = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);

	bbuf_reset(&r->why);
	if (what != NULL) {
		bbuf_adds(&r->why, what);
		bbuf_adds(&r->why, ": ");
	}
	if (st == BR_USE_TLS) {
		bbuf_adds(&r->why, "the server does not offer STARTTLS "
		    "(plain text only with --no-tls)");
		return BR_TLS;
	}
	bbuf_adds(&r->why, s);
	if ((st == BR_PROTO || st == BR_LOGIN || st == BR_GONE) &&
	    r->last.len > 0) {
		const char *l = r->last.s;
		/* Drop the command tag: "A003 NO ..." gives "NO ...". */
		if (r->imap && *l != '*' && strchr(l, ' ') != NULL)
			l = strchr(l, ' ') + 1;
		bbuf_adds(&r->why, " (server: ");
		bbuf_adds(&r->why, l);
		bbuf_addc(&r->why, ')');
	}
	return st;
}

static int
fail_msg(struct bremote *r, int st, const char *msg)
{
	bbuf_reset(&r->why);
	bbuf_adds(&r->why, msg);
	return st;
}

const char *
bremote_error(const struct bremote *r)
{
	return r->why.s ? r->why.s : "no error";
}

/* Run one command (custom may be NULL: a plain fetch or listing). */
static int
perform(struct bremote *r, const char *url, const char *custom, int nobody,
    bremote_write_fn wr, void *arg, CURLcode *rcp)
{
	CURLcode rc;

	r->wr = wr;
	r->wrarg = arg;
	r->wrfailed = 0;
	r->errbuf[0] = '\0';
	bbuf_reset(&r->body);
	bbuf_reset(&r->last);
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(r->h, CURLOPT_NOBODY, (long)nobody);
	rc = curl_easy_perform(r->h);
	r->wr = NULL;
	*rcp = rc;
	if (rc == CURLE_WRITE_ERROR && !r->wrfailed)
		return BR_PROTO;
	if (rc == CURLE_USE_SSL_FAILED)
		return BR_USE_TLS;
	return status_of(rc);
}

/* ---- setting up ---- */

static char *
url_part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *v = NULL, *s;

	if (curl_url_get(u, what, &v, flags) != CURLUE_OK || v == NULL)
		return NULL;
	s = b_strdup(v);
	curl_free(v);
	return s;
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The key: scheme://user@host[:port][/folder], never a password. */
static void
set_key(struct bremote *r, const char *user)
{
	struct bbuf b = { 0 };
	int v6 = strchr(r->host, ':') != NULL;

	bbuf_adds(&b, r->scheme);
	bbuf_adds(&b, "://");
	if (user != NULL && *user != '\0') {
		bbuf_adds(&b, user);
		bbuf_addc(&b, '@');
	}
	bbuf_adds(&b, v6 ? "[" : "");
	bbuf_adds(&b, r->host);
	bbuf_adds(&b, v6 ? "]" : "");
	if (r->port != NULL) {
		bbuf_addc(&b, ':');
		bbuf_adds(&b, r->port);
	}
	if (r->imap) {
		bbuf_addc(&b, '/');
		bbuf_adds(&b, r->mbox);
	}
	free(r->key);
	r->key = b.s;
}

/* Split the URL into what the session needs.  Returns BR_OK or BR_URL
 * with r->why set. */
static int
parse_url(struct bremote *r, const char *url, char **user, char **pass)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *dpath = NULL, *q = NULL, *frag = NULL;
	struct bbuf b = { 0 };
	int st = BR_URL;

	if (u == NULL)
		return fail_msg(r, BR_TEMP, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		fail_msg(r, BR_URL, "not a valid URL");
		goto out;
	}
	scheme = url_part(u, CURLUPART_SCHEME, 0);
	host = url_part(u, CURLUPART_HOST, 0);
	port = url_part(u, CURLUPART_PORT, 0);
	path = url_part(u, CURLUPART_PATH, 0);
	dpath = url_part(u, CURLUPART_PATH, CURLU_URLDECODE);
	q = url_part(u, CURLUPART_QUERY, 0);
	frag = url_part(u, CURLUPART_FRAGMENT, 0);
	*user = url_part(u, CURLUPART_USER, CURLU_URLDECODE);
	*pass = url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE);
	if (scheme == NULL || host == NULL || *host == '\0') {
		fail_msg(r, BR_URL, "not a valid URL (no host)");
		goto out;
	}
	b_lower(scheme);
	if (strcmp(scheme, "imap") == 0 || strcmp(scheme, "imaps") == 0)
		r->imap = 1;
	else if (strcmp(scheme, "pop3") != 0 && strcmp(scheme, "pop3s") != 0) {
		fail_msg(r, BR_URL, "unsupported scheme (imap://, imaps://, "
		    "pop3://, pop3s://, a Maildir, an mbox or -)");
		goto out;
	}
	r->tls = scheme[strlen(scheme) - 1] == 's';
	if (q != NULL || frag != NULL ||
	    (path != NULL && strchr(path, ';') != NULL)) {
		fail_msg(r, BR_URL, "a query, fragment or ;parameter is not "
		    "allowed in the URL");
		goto out;
	}
	if (path == NULL || strcmp(path, "/") == 0 || *path == '\0') {
		free(path);
		free(dpath);
		path = b_strdup("/INBOX");
		dpath = b_strdup("/INBOX");
	}
	if (!r->imap && strcmp(path, "/INBOX") != 0) {
		fail_msg(r, BR_URL, "a POP3 URL names no folder or message");
		goto out;
	}
	if (has_ctl(dpath) || (*user && has_ctl(*user))) {
		fail_msg(r, BR_URL, "control characters in the URL");
		goto out;
	}
	bbuf_adds(&b, scheme);
	bbuf_adds(&b, "://");
	bbuf_adds(&b, host);
	if (port != NULL) {
		bbuf_addc(&b, ':');
		bbuf_adds(&b, port);
	}
	r->base = b_strdup(b.s);
	/* The folder, without its slashes at either end. */
	char *m = path + 1, *dm = dpath + 1;
	while (*m && m[strlen(m) - 1] == '/')
		m[strlen(m) - 1] = '\0';
	while (*dm && dm[strlen(dm) - 1] == '/')
		dm[strlen(dm) - 1] = '\0';
	r->mbox = b_strdup(*m ? m : "INBOX");
	r->mboxname = b_strdup(*dm ? dm : "INBOX");
	r->scheme = b_strdup(scheme);
	/* netrc names an IPv6 host without the brackets of a URL. */
	if (host[0] == '[' && host[strlen(host) - 1] == ']')
		r->host = b_strndup(host + 1, strlen(host) - 2);
	else
		r->host = b_strdup(host);
	r->port = port ? b_strdup(port) : NULL;
	set_key(r, *user);
	st = BR_OK;
out:
	free(scheme);
	free(host);
	free(port);
	free(path);
	free(dpath);
	free(q);
	free(frag);
	bbuf_free(&b);
	curl_url_cleanup(u);
	return st;
}

/* ---- netrc ---- */

/* The next token of a netrc file at *p: a word or a "quoted string".
 * Where a word would start, a '#' starts a comment that runs to the end
 * of the line, as libcurl has it ("# old: machine ..." is no entry).
 * Returns NULL at the end.  The token lives in b. */
static const char *
netrc_token(const char **p, struct bbuf *b)
{
	const char *s = *p;

	bbuf_reset(b);
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s != '#')
			break;
		s += strcspn(s, "\n");
	}
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			bbuf_addc(b, *s);
		}
		if (*s == '"')
			s++;
	} else
		while (*s && *s != ' ' && *s != '\t' && *s != '\n' &&
		    *s != '\r')
			bbuf_addc(b, *s++);
	*p = s;
	return b->s ? b->s : "";
}

/*
 * The entry for host (and user, when given) in a netrc file: machine,
 * login, password, default and macdef as ftp(1) has them, quoted strings
 * as libcurl reads them.  libcurl could read the file itself, but how it
 * matches a login given in the URL has changed from one release to the
 * next (and 7.88 ignores the password then), so the credentials are
 * looked up here and handed over explicitly; it also lets a missing
 * entry be reported as such.  Returns 1 and sets *login and *pass (to
 * free; either may be NULL), or 0.
 */
static int
netrc_lookup(const char *file, const char *host, const char *user,
    char **login, char **pass)
{
	FILE *fp = fopen(file, "re");
	struct bbuf text = { 0 }, tok = { 0 }, cur = { 0 }, pw = { 0 };
	char buf[4096];
	const char *p, *t;
	size_t n;
	int match = 0, found = 0, have_login = 0, have_pw = 0;

	*login = *pass = NULL;
	if (fp == NULL)
		return 0;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		bbuf_add(&text, buf, n);
	fclose(fp);
	p = text.s ? text.s : "";
	for (;;) {
		t = netrc_token(&p, &tok);
		/* An entry ends at the next machine, default or the end. */
		if (t == NULL || strcmp(t, "machine") == 0 ||
		    strcmp(t, "default") == 0) {
			if (match && (user == NULL || (have_login &&
			    strcmp(cur.s, user) == 0))) {
				found = 1;
				break;
			}
			if (t == NULL)
				break;
			have_login = have_pw = 0;
			if (strcmp(t, "default") == 0)
				match = 1;
			else
				match = (t = netrc_token(&p, &tok)) != NULL &&
				    strcasecmp(t, host) == 0;
			continue;
		}
		if (strcmp(t, "macdef") == 0) {
			const char *e = strstr(p, "\n\n");
			p = e ? e + 2 : p + strlen(p);
		} else if (strcmp(t, "login") == 0) {
			if ((t = netrc_token(&p, &tok)) == NULL)
				continue;	/* the end: the entry ends */
			bbuf_reset(&cur);
			bbuf_adds(&cur, t);
			have_login = 1;
		} else if (strcmp(t, "password") == 0) {
			if ((t = netrc_token(&p, &tok)) == NULL)
				continue;
			bbuf_reset(&pw);
			bbuf_adds(&pw, t);
			have_pw = 1;
		} else if (strcmp(t, "account") == 0)
			(void)netrc_token(&p, &tok);
	}
	if (found && have_login)
		*login = b_strdup(cur.s);
	if (found && have_pw)
		*pass = b_strdup(pw.s);
	if (pw.s != NULL)
		memset(pw.s, 0, pw.cap);
	if (text.s != NULL)
		memset(text.s, 0, text.cap);
	bbuf_free(&pw);
	bbuf_free(&text);
	bbuf_free(&tok);
	bbuf_free(&cur);
	return found;
}

static int
setup(struct bremote *r, const struct bremote_opts *o, const char *user,
    const char *pass)
{
	CURL *h = r->h;

	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps,pop3,pop3s");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, r);
	curl_easy_setopt(h, CURLOPT_VERBOSE, (long)o->verbose);
	if (!r->tls)
		curl_easy_setopt(h, CURLOPT_USE_SSL,
		    o->notls ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	if (o->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->connect_timeout > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	if (o->max_time > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, o->max_time);
	/* A stalled server: under 1 byte/s for a minute ends the run. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
	    o->max_time > 0 && o->max_time < 60 ? o->max_time : 60L);
	if (user != NULL && *user != '\0')
		curl_easy_setopt(h, CURLOPT_USERNAME, user);
	if (pass != NULL) {
		curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
	} else if (o->password != NULL) {
		if (user == NULL || *user == '\0')
			return fail_msg(r, BR_URL, "a password from the "
			    "environment needs the user name in the URL "
			    "(imaps://USER@host/)");
		curl_easy_setopt(h, CURLOPT_PASSWORD, o->password);
	} else {
		char *login = NULL, *npass = NULL;
		const char *u = user && *user ? user : NULL;
		/* Without credentials libcurl would not log in at all, and
		 * the first command would fail for no clear reason. */
		int found = o->netrc != NULL &&
		    netrc_lookup(o->netrc, r->host, u, &login, &npass);

		if (!found || npass == NULL || (u == NULL && login == NULL)) {
			bbuf_reset(&r->why);
			if (found && npass != NULL)
				bbuf_adds(&r->why, "no user name: none in the "
				    "URL, and the netrc entry for machine ");
			else
				bbuf_adds(&r->why, "no password: none in the "
				    "URL or BFETCH_PASSWORD, and ");
			if (!found)
				bbuf_adds(&r->why, "no netrc entry for machine ");
			else if (npass == NULL)
				bbuf_adds(&r->why, "the netrc entry for machine ");
			bbuf_adds(&r->why, r->host);
			if (u != NULL) {
				bbuf_adds(&r->why, " login ");
				bbuf_adds(&r->why, u);
			}
			bbuf_adds(&r->why, o->netrc ? " in " : " (no netrc file)");
			if (o->netrc)
				bbuf_adds(&r->why, o->netrc);
			if (found)
				bbuf_adds(&r->why, npass == NULL ?
				    " has no password" : " has no login");
			free(login);
			free(npass);
			return BR_LOGIN;
		}
		if (u == NULL) {
			/* The key names the account whatever gave it. */
			curl_easy_setopt(h, CURLOPT_USERNAME, login);
			set_key(r, login);
		}
		curl_easy_setopt(h, CURLOPT_PASSWORD, npass);
		memset(npass, 0, strlen(npass));
		free(npass);
		free(login);
	}
	return BR_OK;
}

struct bremote *
bremote_new(const char *url, const struct bremote_opts *o, int *st)
{
	static int inited;
	struct bremote *r = b_malloc(sizeof *r);
	char *user = NULL, *pass = NULL;

	memset(r, 0, sizeof *r);
	if (!inited) {
		/* Once per process; never undone, as curl wants. */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = 1;
	}
	if ((r->h = curl_easy_init()) == NULL) {
		*st = fail_msg(r, BR_TEMP, "cannot set up libcurl");
		return r;
	}
	*st = parse_url(r, url, &user, &pass);
	if (*st == BR_OK)
		*st = setup(r, o, user, pass);
	if (pass != NULL)
		memset(pass, 0, strlen(pass));
	free(user);
	free(pass);
	return r;
}

const char *
bremote_key(const struct bremote *r)
{
	return r->key ? r->key : "";
}

int
bremote_is_imap(const struct bremote *r)
{
	return r->imap;
}

static void
free_msgs(struct bremote *r)
{
	for (size_t i = 0; i < r->nmsgs; i++)
		free(r->msgs[i].id);
	free(r->msgs);
	r->msgs = NULL;
	r->nmsgs = r->capmsgs = 0;
}

void
bremote_free(struct bremote *r)
{
	if (r == NULL)
		return;
	/* For POP3 this sends QUIT, which commits the deletions. */
	if (r->h != NULL)
		curl_easy_cleanup(r->h);
	free_msgs(r);
	free(r->base);
	free(r->mbox);
	free(r->mboxname);
	free(r->key);
	free(r->scheme);
	free(r->host);
	free(r->port);
	bbuf_free(&r->why);
	bbuf_free(&r->body);
	bbuf_free(&r->last);
	bbuf_free(&r->caps);
	free(r);
}

/* ---- IMAP ---- */

static void
add_msg(struct bremote *r, unsigned long num, const char *id, size_t idlen)
{
	if (r->nmsgs == r->capmsgs) {
		r->capmsgs = r->capmsgs ? r->capmsgs * 2 : 64;
		r->msgs = b_realloc(r->msgs, r->capmsgs * sizeof *r->msgs);
	}
	r->msgs[r->nmsgs].num = num;
	r->msgs[r->nmsgs].id = b_strndup(id, idlen);
	r->nmsgs++;
}

static int
has_cap(const struct bremote *r, const char *cap)
{
	char w[64];

	snprintf(w, sizeof w, " %s ", cap);
	return r->caps.s != NULL && b_strcasestr(r->caps.s, w) != NULL;
}

/* Add the UIDs of a sequence set ("1:3,7,9:10") to the list.  Returns
 * 0, or -1 when the set is malformed. */
static int
add_uidset(struct bremote *r, const char *s)
{
	char num[24];

	while (*s >= '0' && *s <= '9') {
		char *e;
		unsigned long a = strtoul(s, &e, 10), b = a;
		if (*e == ':')
			b = strtoul(e + 1, &e, 10);
		if (a == 0 || b < a || b - a > 100000000UL)
			return -1;
		for (unsigned long u = a; u <= b; u++) {
			int k = snprintf(num, sizeof num, "%lu", u);
			add_msg(r, u, num, (size_t)k);
		}
		if (*e == ',')
			e++;
		s = e;
	}
	return *s == '\0' || *s == '\r' || *s == '\n' || *s == ' ' ? 0 : -1;
}

/* Read the reply of UID SEARCH: "* ESEARCH (TAG "x") UID ALL set" or
 * "* SEARCH n n n" lines. */
static int
parse_search(struct bremote *r)
{
	char *line = r->body.s ? r->body.s : "", *next;

	for (; *line; line = next) {
		const char *p;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (b_startcase(line, "* ESEARCH ")) {
			if ((p = b_strcasestr(line, " ALL ")) != NULL &&
			    add_uidset(r, p + 5) < 0)
				return -1;
		} else if (b_startcase(line, "* SEARCH")) {
			char *e;
			p = line + 8;
			for (;;) {
				while (*p == ' ')
					p++;
				if (*p < '0' || *p > '9')
					break;
				unsigned long u = strtoul(p, &e, 10);
				add_msg(r, u, p, (size_t)(e - p));
				p = e;
			}
			if (*p != '\0' && *p != '\r')
				return -1;
		}
	}
	return 0;
}

static int
cmp_msg(const void *a, const void *b)
{
	const struct bremote_msg *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

/* URL of the folder, checked against the UIDVALIDITY of the listing. */
static char *
folder_url(const struct bremote *r, const char *tail)
{
	struct bbuf b = { 0 };

	bbuf_adds(&b, r->base);
	bbuf_addc(&b, '/');
	bbuf_adds(&b, r->mbox);
	if (r->gen[0] != '\0') {
		bbuf_adds(&b, ";UIDVALIDITY=");
		bbuf_adds(&b, r->gen);
	}
	if (tail != NULL)
		bbuf_adds(&b, tail);
	return b.s;
}

static int
imap_login(struct bremote *r)
{
	struct bbuf u = { 0 };
	CURLcode rc;
	int st;

	/* No folder in this URL: a refusal here is the login's. */
	bbuf_adds(&u, r->base);
	bbuf_addc(&u, '/');
	st = perform(r, u.s, "CAPABILITY", 0, NULL, NULL, &rc);
	bbuf_free(&u);
	if (st != BR_OK)
		return fail(r, st, NULL, rc);
	r->logged_in = 1;
	return BR_OK;
}

/* Run a search on the folder (selecting it first if need be) and add
 * the UIDs of its reply. */
static int
imap_search(struct bremote *r, const char *cmd)
{
	char *url = folder_url(r, NULL);
	CURLcode rc;
	int st;

	st = perform(r, url, cmd, 0, NULL, NULL, &rc);
	free(url);
	if (st == BR_LOGIN) {
		/* Logged in already: this is curl's word for a failed SELECT. */
		struct bbuf w = { 0 };
		bbuf_adds(&w, "cannot open the folder ");
		bbuf_adds(&w, r->mboxname);
		fail(r, BR_PROTO, w.s, CURLE_OK);
		bbuf_free(&w);
		return BR_PROTO;
	}
	if (st != BR_OK)
		return fail(r, st, NULL, rc);
	if (parse_search(r) < 0)
		return fail_msg(r, BR_PROTO, "cannot read the reply to "
		    "UID SEARCH");
	return BR_OK;
}

/* UIDs per plain UID SEARCH: its reply is one line, and libcurl takes
 * at most 300 KB of reply lines per command. */
#define SEARCH_CHUNK 1000

static int
imap_list(struct bremote *r)
{
	char cmd[64];
	size_t k;
	int st;

	if (!r->logged_in && (st = imap_login(r)) != BR_OK)
		return st;
	r->have_exists = 0;
	r->uidvalidity[0] = r->gen[0] = '\0';
	if (has_cap(r, "ESEARCH")) {
		/* One compact reply ("1:500,502"), however many messages. */
		if ((st = imap_search(r, "UID SEARCH RETURN (ALL) ALL")) != BR_OK)
			return st;
	} else {
		/* Without ESEARCH: select (a NOOP on the folder) to learn the
		 * message count, then search by message numbers in chunks. */
		if ((st = imap_search(r, "NOOP")) != BR_OK)
			return st;
		for (unsigned long a = 1; r->have_exists && a <= r->exists;
		    a += SEARCH_CHUNK) {
			unsigned long b = a + SEARCH_CHUNK - 1;
			snprintf(cmd, sizeof cmd, "UID SEARCH %lu:%lu", a,
			    b < r->exists ? b : r->exists);
			if ((st = imap_search(r, cmd)) != BR_OK)
				return st;
		}
	}
	if (r->uidvalidity[0] == '\0')
		return fail_msg(r, BR_PROTO, "the server gave no UIDVALIDITY");
	if (r->nmsgs > 1)
		qsort(r->msgs, r->nmsgs, sizeof *r->msgs, cmp_msg);
	/* Chunks may overlap when the folder changes meanwhile. */
	for (size_t i = k = 0; i < r->nmsgs; i++) {
		if (k > 0 && r->msgs[k - 1].num == r->msgs[i].num) {
			free(r->msgs[i].id);
			continue;
		}
		r->msgs[k++] = r->msgs[i];
	}
	r->nmsgs = k;
	/* A reply cut short would lose nothing but fetch too little: the
	 * count must match the folder's. */
	if (!r->have_exists || r->exists != r->nmsgs) {
		char m[160];
		snprintf(m, sizeof m, "UID SEARCH gave %zu UIDs for %lu "
		    "messages; reply incomplete, try again", r->nmsgs,
		    r->exists);
		return fail_msg(r, BR_TEMP, m);
	}
	memcpy(r->gen, r->uidvalidity, sizeof r->gen);
	return BR_OK;
}

/* The folder's UIDVALIDITY must not change under us (after a reconnect
 * the UIDs would name other messages). */
static int
imap_check(struct bremote *r)
{
	if (strcmp(r->uidvalidity, r->gen) != 0)
		return fail_msg(r, BR_TEMP, "the folder's UIDVALIDITY "
		    "changed during the run");
	return BR_OK;
}

static int
imap_fetch(struct bremote *r, const struct bremote_msg *m)
{
	char tail[40], *url;
	CURLcode rc;
	int st;

	snprintf(tail, sizeof tail, "/;UID=%lu", m->num);
	url = folder_url(r, tail);
	st = perform(r, url, NULL, 0, r->wr, r->wrarg, &rc);
	free(url);
	if (st != BR_OK)
		return fail(r, st, NULL, rc);
	return imap_check(r);
}

/* A sequence set of the given UIDs, consecutive ones as ranges. */
static void
uidset(struct bbuf *b, const struct bremote_msg *const *v, size_t n)
{
	char num[48];

	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j + 1 < n && v[j + 1]->num == v[j]->num + 1)
			j++;
		if (j > i)
			snprintf(num, sizeof num, "%lu:%lu", v[i]->num, v[j]->num);
		else
			snprintf(num, sizeof num, "%lu", v[i]->num);
		if (b->len > 0)
			bbuf_addc(b, ',');
		bbuf_adds(b, num);
		i = j;
	}
}

/* Append a folder name as an IMAP quoted string. */
static void
quoted(struct bbuf *b, const char *s)
{
	bbuf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			bbuf_addc(b, '\\');
		bbuf_addc(b, *s);
	}
	bbuf_addc(b, '"');
}

static int
imap_cmd(struct bremote *r, const char *verb, const char *set,
    const char *arg)
{
	struct bbuf c = { 0 };
	char *url = folder_url(r, NULL);
	CURLcode rc;
	int st;

	bbuf_adds(&c, verb);
	if (set != NULL) {
		bbuf_addc(&c, ' ');
		bbuf_adds(&c, set);
	}
	if (arg != NULL) {
		bbuf_addc(&c, ' ');
		bbuf_adds(&c, arg);
	}
	st = perform(r, url, c.s, 0, NULL, NULL, &rc);
	free(url);
	if (st != BR_OK) {
		char *what = b_strdup(c.s);
		st = fail(r, st == BR_GONE ? BR_TEMP : st, what, rc);
		free(what);
	} else
		st = imap_check(r);
	bbuf_free(&c);
	return st;
}

static int
imap_delete(struct bremote *r, const struct bremote_msg *const *v,
    size_t n, const char *folder)
{
	struct bbuf set = { 0 }, f = { 0 };
	int st = BR_OK, uidplus = has_cap(r, "UIDPLUS");

	uidset(&set, v, n);
	if (folder != NULL) {
		quoted(&f, folder);
		if (has_cap(r, "MOVE")) {
			st = imap_cmd(r, "UID MOVE", set.s, f.s);
			goto out;
		}
		if ((st = imap_cmd(r, "UID COPY", set.s, f.s)) != BR_OK)
			goto out;
	}
	st = imap_cmd(r, "UID STORE", set.s, "+FLAGS.SILENT (\\Deleted)");
	if (st == BR_OK)
		st = uidplus ? imap_cmd(r, "UID EXPUNGE", set.s, NULL) :
		    imap_cmd(r, "EXPUNGE", NULL, NULL);
out:
	bbuf_free(&set);
	bbuf_free(&f);
	return st;
}

/* ---- POP3 ---- */

static int
pop3_list(struct bremote *r)
{
	struct bbuf u = { 0 };
	unsigned long count;
	char *line, *next, *e;
	CURLcode rc;
	int st;

	bbuf_adds(&u, r->base);
	bbuf_addc(&u, '/');
	st = perform(r, u.s, "STAT", 1, NULL, NULL, &rc);
	if (st != BR_OK)
		goto out;
	r->logged_in = 1;
	/* No new connection from here on: see on_opensocket. */
	r->pinned = 1;
	if (strncmp(r->last.s ? r->last.s : "", "+OK ", 4) != 0) {
		st = fail_msg(r, BR_PROTO, "cannot read the reply to STAT");
		goto done;
	}
	count = strtoul(r->last.s + 4, NULL, 10);
	if ((st = perform(r, u.s, "UIDL", 0, NULL, NULL, &rc)) != BR_OK)
		goto out;
	for (line = r->body.s ? r->body.s : ""; *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		line[strcspn(line, "\r")] = '\0';
		if (*line == '\0')
			continue;
		unsigned long num = strtoul(line, &e, 10);
		if (num == 0 || *e != ' ' || e[1] == '\0' ||
		    strchr(e + 1, ' ') != NULL) {
			st = fail_msg(r, BR_PROTO, "cannot read the reply to "
			    "UIDL");
			goto done;
		}
		add_msg(r, num, e + 1, strlen(e + 1));
	}
	if (r->nmsgs != count) {
		char m[160];
		snprintf(m, sizeof m, "UIDL gave %zu messages, STAT %lu; "
		    "reply incomplete, try again", r->nmsgs, count);
		st = fail_msg(r, BR_TEMP, m);
		goto done;
	}
	if (r->nmsgs > 1)
		qsort(r->msgs, r->nmsgs, sizeof *r->msgs, cmp_msg);
	goto done;
out:
	st = fail(r, st, NULL, rc);
done:
	bbuf_free(&u);
	return st;
}

static int
pop3_fetch(struct bremote *r, const struct bremote_msg *m)
{
	char url[64 + 512];
	CURLcode rc;
	int st;

	snprintf(url, sizeof url, "%s/%lu", r->base, m->num);
	st = perform(r, url, NULL, 0, r->wr, r->wrarg, &rc);
	return st == BR_OK ? BR_OK : fail(r, st, NULL, rc);
}

static int
pop3_delete(struct bremote *r, const struct bremote_msg *const *v, size_t n)
{
	char url[64 + 512];
	CURLcode rc;
	int st;

	for (size_t i = 0; i < n; i++) {
		snprintf(url, sizeof url, "%s/%lu", r->base, v[i]->num);
		st = perform(r, url, "DELE", 1, NULL, NULL, &rc);
		if (st != BR_OK)
			return fail(r, st == BR_GONE ? BR_PROTO : st, "DELE", rc);
	}
	return BR_OK;
}

/* ---- the interface ---- */

int
bremote_list(struct bremote *r, const char **gen,
    const struct bremote_msg **v, size_t *n)
{
	int st;

	free_msgs(r);
	st = r->imap ? imap_list(r) : pop3_list(r);
	if (st != BR_OK)
		free_msgs(r);
	*gen = r->gen;
	*v = r->msgs;
	*n = r->nmsgs;
	return st;
}

int
bremote_fetch(struct bremote *r, const struct bremote_msg *m,
    bremote_write_fn wr, void *arg)
{
	r->wr = wr;
	r->wrarg = arg;
	return r->imap ? imap_fetch(r, m) : pop3_fetch(r, m);
}

int
bremote_delete(struct bremote *r, const struct bremote_msg *const *v,
    size_t n, const char *folder)
{
	if (n == 0)
		return BR_OK;
	if (folder != NULL && !r->imap)
		return fail_msg(r, BR_URL, "moving to a folder needs IMAP");
	return r->imap ? imap_delete(r, v, n, folder) : pop3_delete(r, v, n);
}
