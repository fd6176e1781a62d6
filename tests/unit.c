/*
 * unit.c - unit tests for lib/, printing TAP.
 *
 * Each check is one TAP line; a failing check prints what it got and
 * what it wanted as TAP comments.  The exit status is 1 if any check
 * failed.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

static int ntests, nfailed;

static void
report(int pass, const char *fmt, va_list ap)
{
	ntests++;
	if (!pass)
		nfailed++;
	printf("%s %d - ", pass ? "ok" : "not ok", ntests);
	vprintf(fmt, ap);
	putchar('\n');
}

static int __attribute__((format(printf, 2, 3)))
ok(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(pass, fmt, ap);
	va_end(ap);
	return pass;
}

/* Print a possibly NULL string readably inside a TAP comment. */
static void
show(const char *label, const char *s)
{
	printf("#   %s: ", label);
	if (s == NULL) {
		puts("(null)");
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	puts("\"");
}

static int __attribute__((format(printf, 3, 4)))
is(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	va_start(ap, fmt);
	report(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		show("got", got);
		show("want", want);
	}
	return pass;
}

static int __attribute__((format(printf, 3, 4)))
is_num(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	report(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#   got: %lld\n#   want: %lld\n", got, want);
	return pass;
}

/* ---- escaping ---- */

/* The escaped form of s (a static buffer, valid until the next call). */
static const char *
esc(const char *s)
{
	static struct bbuf b;

	bbuf_reset(&b);
	brec_escape(&b, s);
	return b.s;
}

/* Escape s, check the escaped form, unescape it again, check the bytes
 * came back unchanged. */
static void
roundtrip(const char *name, const char *s, const char *want)
{
	const char *e = esc(s);
	char *copy = b_strdup(e);
	int rv;

	is(e, want, "escape %s", name);
	rv = brec_unescape(copy);
	is_num(rv, 0, "unescape %s succeeds", name);
	is(copy, s, "unescape %s gives the original bytes", name);
	free(copy);
}

/* Is every byte of s printable ASCII (an escaped field never holds a
 * TAB, LF, CR or other control byte)? */
static int
clean_field(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static void
test_escape(void)
{
	char all[256];
	char *copy;

	roundtrip("plain text", "user@example.com", "user@example.com");
	roundtrip("TAB", "a\tb", "a\\tb");
	roundtrip("LF", "line one\nline two", "line one\\nline two");
	roundtrip("CR", "a\rb", "a\\rb");
	roundtrip("backslash", "C:\\dir\\x41", "C:\\\\dir\\\\x41");
	roundtrip("control byte", "a\001b\033c\177", "a\\x01b\\x1bc\\x7f");
	roundtrip("UTF-8 kept as is", "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac",
	    "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac");
	roundtrip("4-byte UTF-8 kept", "\xf0\x9f\x93\xa7", "\xf0\x9f\x93\xa7");
	roundtrip("Latin-1 byte", "r\xe9sili\xe9", "r\\xe9sili\\xe9");
	roundtrip("stray continuation byte", "a\x80z", "a\\x80z");
	roundtrip("truncated UTF-8", "ab\xc3", "ab\\xc3");
	roundtrip("overlong UTF-8", "\xc0\xaf", "\\xc0\\xaf");
	roundtrip("UTF-16 surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80");
	roundtrip("a lone dash", "-", "\\x2d");
	roundtrip("dash inside", "a-b", "a-b");
	roundtrip("two dashes", "--", "--");
	roundtrip("a leading '#' (not column 1)", "#x", "#x");

	is(esc(""), "-", "an empty value is written as -");
	is(esc(NULL), "-", "a NULL value is written as -");
	copy = b_strdup("-");
	is_num(brec_unescape(copy), 0, "unescape - succeeds");
	is(copy, "", "unescape - gives the empty string");
	free(copy);

	/* Every byte value but NUL survives the trip. */
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	copy = b_strdup(esc(all));
	ok(clean_field(copy), "escaped bytes 1..255 hold no control byte");
	ok(strchr(copy, '\t') == NULL && strchr(copy, '\n') == NULL,
	    "escaped bytes 1..255 hold no TAB or LF");
	ok(brec_unescape(copy) == 0 && strcmp(copy, all) == 0,
	    "bytes 1..255 round-trip");
	free(copy);

	/* Malformed escapes. */
	{
		static const char *bad[] = { "a\\", "\\q", "\\x", "\\x4",
		    "\\xg1", "\\x00", "ab\\x0", "\\u0041", NULL };
		for (int i = 0; bad[i] != NULL; i++) {
			copy = b_strdup(bad[i]);
			is_num(brec_unescape(copy), -1,
			    "unescape refuses '%s'", bad[i]);
			free(copy);
		}
	}
	copy = b_strdup("\\x41\\x4A\\x4a");
	ok(brec_unescape(copy) == 0 && strcmp(copy, "AJJ") == 0,
	    "unescape takes upper- and lower-case hex");
	free(copy);
}

/* ---- records ---- */

static void
test_format(void)
{
	struct bbuf b = { 0 };
	struct brec r = { .n = BREC_PARSE_FIELDS };
	char *line;
	const char *why;
	struct brec back;

	r.f[BF_SOURCE] = "/var/mail/x:120";
	r.f[BF_DATE] = "2014-11-04T15:01:16Z";
	r.f[BF_RCPT] = "user@example.com";
	r.f[BF_ACTION] = "failed";
	r.f[BF_STATUS] = "5.1.1";
	r.f[BF_SMTP] = "550";
	r.f[BF_MTA] = NULL;
	r.f[BF_ID] = "";
	r.f[BF_DETECTOR] = "dsn";
	r.f[BF_DIAG] = "550 5.1.1 <user@example.com>:\tno\nsuch user";
	brec_format(&b, &r, BREC_TSV);
	is(b.s, "/var/mail/x:120\t2014-11-04T15:01:16Z\tuser@example.com\t"
	    "failed\t5.1.1\t550\t-\t-\tdsn\t"
	    "550 5.1.1 <user@example.com>:\\tno\\nsuch user\n",
	    "brec_format TSV: ten columns, empty as -, escapes, one LF");

	/* Read it back. */
	line = b_strndup(b.s, b.len - 1);
	is_num(brec_parse(line, &back, &why), 0, "brec_parse reads it back");
	is_num(back.n, BREC_PARSE_FIELDS, "with ten columns");
	is(back.f[BF_SOURCE], "/var/mail/x:120", "source column");
	is(back.f[BF_MTA], "", "- reads back as empty");
	is(back.f[BF_DIAG], r.f[BF_DIAG], "diag with TAB and LF reads back");
	free(line);

	/* A '#' in column 1 would make a comment line. */
	r.f[BF_SOURCE] = "#1 inbox";
	brec_format(&b, &r, BREC_TSV);
	ok(strncmp(b.s, "\\x231 inbox\t", 12) == 0,
	    "a leading '#' in column 1 is written as \\x23");
	ok(b.s[0] != '#', "so the line does not start with '#'");
	line = b_strndup(b.s, b.len - 1);
	ok(brec_parse(line, &back, &why) == 0 &&
	    strcmp(back.f[0], "#1 inbox") == 0, "and reads back as '#1 inbox'");
	free(line);
	r.f[BF_SOURCE] = "#";
	brec_format(&b, &r, BREC_TSV);
	ok(strncmp(b.s, "\\x23\t", 5) == 0, "a lone '#' in column 1 is \\x23");
	r.f[BF_SOURCE] = "-";
	brec_format(&b, &r, BREC_TSV);
	ok(strncmp(b.s, "\\x2d\t", 5) == 0, "a lone '-' in column 1 is \\x2d");
	r.f[BF_SOURCE] = "a";
	r.f[BF_DIAG] = "#not a comment";
	brec_format(&b, &r, BREC_TSV);
	ok(strstr(b.s, "\t#not a comment\n") != NULL,
	    "a '#' at the start of a later column is left alone");

	/* Extra columns are written as given. */
	r.n = 12;
	r.f[BF_CLASS] = "hard";
	r.f[BF_REASON] = "userunknown";
	brec_format(&b, &r, BREC_TSV);
	ok(b.len > 18 && strcmp(b.s + b.len - 18, "\thard\tuserunknown\n") == 0,
	    "twelve columns written in order");
	bbuf_free(&b);
}

static void
test_parse(void)
{
	struct brec r;
	const char *why;
	char line[512];

	strcpy(line, "a\tb\tc");
	why = NULL;
	is_num(brec_parse(line, &r, &why), -1, "three columns: not a record");
	ok(why != NULL && strstr(why, "column") != NULL,
	    "the reason names the columns (%s)", why ? why : "(null)");

	strcpy(line, "1\t2\t3\t4\t5\t6\t7\t8\t9");
	is_num(brec_parse(line, &r, &why), -1, "nine columns: not a record");
	strcpy(line, "");
	is_num(brec_parse(line, &r, &why), -1, "an empty line: not a record");

	strcpy(line, "1\t2\t3\t4\t5\t6\t7\t8\t9\t10");
	is_num(brec_parse(line, &r, &why), 0, "ten columns: a record");
	is(r.f[9], "10", "column 10");

	strcpy(line, "1\t2\t3\t4\t5\t6\t7\t8\t9\t10\thard\tuserunknown\t"
	    "extra\\tone\t-");
	is_num(brec_parse(line, &r, &why), 0, "fourteen columns: a record");
	is_num(r.n, 14, "all fourteen columns kept");
	is(r.f[10], "hard", "column 11");
	is(r.f[11], "userunknown", "column 12");
	is(r.f[12], "extra\tone", "column 13 unescaped");
	is(r.f[13], "", "column 14 - is empty");

	strcpy(line, "1\t2\t3\t4\t5\t6\t7\t8\t9\t\t");
	is_num(brec_parse(line, &r, &why), 0,
	    "empty columns (not -) are read");
	is_num(r.n, 11, "a trailing TAB makes one more column");
	is(r.f[9], "", "an empty column is empty");

	strcpy(line, "1\t2\t3\t4\t5\t6\t7\t8\t9\tbad\\q");
	why = NULL;
	is_num(brec_parse(line, &r, &why), -1, "a bad escape: not a record");
	ok(why != NULL && strstr(why, "escape") != NULL,
	    "the reason names the escape (%s)", why ? why : "(null)");
	strcpy(line, "1\t2\t3\t4\t5\t6\t7\t8\t9\tnul\\x00");
	is_num(brec_parse(line, &r, &why), -1, "an escaped NUL: not a record");

	/* More than BREC_MAXCOLS columns: the first ones are kept. */
	{
		struct bbuf b = { 0 };
		for (int i = 0; i < BREC_MAXCOLS + 6; i++) {
			char num[16];
			snprintf(num, sizeof num, "%s%d", i ? "\t" : "", i + 1);
			bbuf_adds(&b, num);
		}
		is_num(brec_parse(b.s, &r, &why), 0, "%d columns: a record",
		    BREC_MAXCOLS + 6);
		is_num(r.n, BREC_MAXCOLS, "the first %d kept", BREC_MAXCOLS);
		is(r.f[BREC_MAXCOLS - 1], "64", "the last kept is column 64");
		bbuf_free(&b);
	}
}

static void
test_json(void)
{
	struct bbuf b = { 0 };
	struct brec r = { .n = BREC_PARSE_FIELDS };

	r.f[BF_SOURCE] = "m.eml";
	r.f[BF_DATE] = "2014-11-04T15:01:16Z";
	r.f[BF_RCPT] = "user@example.com";
	r.f[BF_ACTION] = "failed";
	r.f[BF_STATUS] = "5.1.1";
	r.f[BF_SMTP] = "";
	r.f[BF_MTA] = NULL;
	r.f[BF_ID] = "<id>";
	r.f[BF_DETECTOR] = "dsn";
	r.f[BF_DIAG] = "say \"no\"\t\\ \x01 \xc3\xa9 \xff.";
	brec_format(&b, &r, BREC_JSON);
	is(b.s, "{\"source\":\"m.eml\",\"date\":\"2014-11-04T15:01:16Z\","
	    "\"recipient\":\"user@example.com\",\"action\":\"failed\","
	    "\"status\":\"5.1.1\",\"smtp\":null,\"mta\":null,\"id\":\"<id>\","
	    "\"detector\":\"dsn\",\"diag\":\"say \\\"no\\\"\\u0009\\\\ "
	    "\\u0001 \xc3\xa9 \xef\xbf\xbd.\"}\n",
	    "brec_format JSON: names, null for empty, escapes, U+FFFD");

	r.n = 13;
	r.f[BF_CLASS] = "hard";
	r.f[BF_REASON] = "userunknown";
	r.f[12] = "x";
	brec_format(&b, &r, BREC_JSON);
	ok(strstr(b.s, ",\"class\":\"hard\",\"reason\":\"userunknown\","
	    "\"col13\":\"x\"}\n") != NULL,
	    "JSON: class, reason, then colN for unnamed columns");
	r.n = 1;
	r.f[0] = "-";
	brec_format(&b, &r, BREC_JSON);
	is(b.s, "{\"source\":\"-\"}\n", "JSON: a '-' value is a plain string");
	bbuf_free(&b);
}

/* ---- the record loop ---- */

struct seen {
	int records, comments, bad, errors;
	long lastline;
	char first[64], why[64], errwhat[64];
};

static int
on_line(void *arg, struct brec *r, const char *raw, const char *why,
    const char *file, long lineno)
{
	struct seen *s = arg;

	(void)file;
	s->lastline = lineno;
	if (r != NULL) {
		if (s->records++ == 0)
			b_strlcpy(s->first, r->f[BF_RCPT], sizeof s->first);
	} else if (why == NULL && raw[0] == '#')
		s->comments++;
	else if (why != NULL) {
		s->bad++;
		b_strlcpy(s->why, why, sizeof s->why);
	}
	return 0;
}

static void
on_err(void *arg, const char *what, const char *why)
{
	struct seen *s = arg;

	(void)why;
	s->errors++;
	b_strlcpy(s->errwhat, what, sizeof s->errwhat);
}

static int
stop_at_first(void *arg, struct brec *r, const char *raw, const char *why,
    const char *file, long lineno)
{
	(void)arg, (void)r, (void)raw, (void)why, (void)file, (void)lineno;
	return 7;
}

static void
test_loop(void)
{
	char path[] = "/tmp/bounce-unit.XXXXXX";
	char *argv[3];
	struct seen s = { 0 };
	FILE *fp;
	int fd, rv;

	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		ok(0, "brec_loop: temporary file");
		return;
	}
	fputs("# bounce records\n"
	    "a\t-\tx@example.com\tfailed\t5.1.1\t550\t-\t-\tdsn\t-\n"
	    "too\tfew\n"
	    "b\t-\ty@example.com\tfailed\t5.1.1\t550\t-\t-\tdsn\t-\r\n"
	    "c\t-\tz@example.com\tfailed\t-\t-\t-\t-\tdsn\tbad\\q\n"
	    "d\t-\tw@example.com\tnone\t-\t-\t-\t-\tnone\tno LF", fp);
	fclose(fp);
	argv[0] = path;
	argv[1] = "/nonexistent/bounce-unit";
	rv = brec_loop(2, argv, on_line, on_err, &s);
	is_num(rv, 1, "brec_loop: 1 when a file cannot be opened");
	is_num(s.errors, 1, "brec_loop: the missing file reported once");
	is(s.errwhat, "/nonexistent/bounce-unit", "brec_loop: by its name");
	is_num(s.records, 3, "brec_loop: three records (CRLF, no final LF)");
	is(s.first, "x@example.com", "brec_loop: fields parsed");
	is_num(s.comments, 1, "brec_loop: the comment line given as such");
	is_num(s.bad, 2, "brec_loop: two lines that are not records");
	is_num(s.lastline, 6, "brec_loop: line numbers");
	argv[1] = path;
	rv = brec_loop(2, argv, stop_at_first, on_err, &s);
	is_num(rv, 7, "brec_loop: a non-zero return stops the loop");
	unlink(path);
}

/* ---- addresses ---- */

static void
test_addr(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "user@example.com", "user@example.com" },
		{ "<user@example.com>", "user@example.com" },
		{ "  <User@Example.COM>  ", "user@example.com" },
		{ "rfc822; user@example.com", "user@example.com" },
		{ "RFC822;<User@EXAMPLE.com>", "user@example.com" },
		{ "rfc822;user@example.com", "user@example.com" },
		{ "rfc822: user@example.com", "user@example.com" },
		{ "utf-8; user@example.com", "user@example.com" },
		{ "John Doe <John.Doe@Example.com>", "john.doe@example.com" },
		{ "\"Doe, John\" <jdoe@example.com>", "jdoe@example.com" },
		{ "user@example.com (John Doe)", "user@example.com" },
		{ "user@example.com.", "user@example.com" },
		{ "'user@example.com'", "user@example.com" },
		{ "o'hara@example.com", "o'hara@example.com" },
		{ "<O'Hara@Example.org>", "o'hara@example.org" },
		{ "\"it's\"@example.com", "it's@example.com" },
		{ "user@example.com'", "user@example.com" },
		{ "\"john smith\"@example.com", "\"john smith\"@example.com" },
		{ "\"John\"@Example.com", "john@example.com" },
		{ "rfc822; \"a b\"@example.com", "\"a b\"@example.com" },
		{ "rfc822; <\"Quoted@example.com\">", "quoted@example.com" },
		{ "\"user@example.com\"", "user@example.com" },
		{ "\"a\"@\"b\"", NULL },
		{ "user+tag@example.co.uk", "user+tag@example.co.uk" },
		{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
		{ "", NULL },
		{ "   ", NULL },
		{ "<>", NULL },
		{ "rfc822; ", NULL },
		{ "not an address", NULL },
		{ "user@", NULL },
		{ "@example.com", NULL },
		{ "user@localhost", NULL },
		{ "user@example.", NULL },
		{ "x400; /G=john/S=doe/O=acme/", NULL },
		{ "user@exa mple.com", NULL },
	};
	struct barena a = { 0 };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is(baddr_norm(&a, cases[i].in), cases[i].want,
		    "baddr_norm '%s'", cases[i].in);
	ok(baddr_norm(&a, NULL) == NULL, "baddr_norm NULL");

	ok(baddr_valid("a@b.cd"), "baddr_valid a@b.cd");
	ok(!baddr_valid("a@b"), "baddr_valid refuses a@b");
	ok(!baddr_valid("a b@c.de"), "baddr_valid refuses a blank");
	ok(!baddr_valid("a@b.c\001d"), "baddr_valid refuses a control byte");
	ok(!baddr_several("\"Doe, John\" <john.doe@example.com>"),
	    "baddr_several: a comma in a quoted name is one address");
	ok(!baddr_several("john@example.com (Doe, John)"),
	    "baddr_several: a comma in a comment is one address");
	ok(!baddr_several("<\"a,b\"@example.com>"),
	    "baddr_several: a comma in a quoted local part is one address");
	ok(baddr_several("a@example.com, b@example.com"),
	    "baddr_several: two addresses");
	ok(baddr_several("\"Doe, J\" <j@example.com>, k@example.com"),
	    "baddr_several: a quoted name, then a second address");
	ok(baddr_several("\"a\\\"b\" <a@example.com>, c@example.com"),
	    "baddr_several: an escaped quote does not end the name");
	barena_free(&a);
}

static void
test_verp(void)
{
	struct barena a = { 0 };

	is(baddr_verp(&a, "bounces+user=example.com@lists.example.org",
	    "bounces"), "user@example.com", "VERP bounces+user=example.com");
	is(baddr_verp(&a, "Bounces+John.Doe=Example.COM@lists.example.org",
	    "bounces"), "john.doe@example.com", "VERP is case-insensitive");
	is(baddr_verp(&a, "bounces-user=example.com@lists.example.org",
	    "bounces"), "user@example.com", "VERP with '-' after the prefix");
	is(baddr_verp(&a, "bounces+a=b=example.com@lists.example.org",
	    "bounces"), "a=b@example.com", "VERP: the last '=' splits");
	is(baddr_verp(&a, "bounces+user+tag=example.com@site.example",
	    "bounces"), "user+tag@example.com", "VERP keeps a '+' tag");
	is(baddr_verp(&a, "owner-list@lists.example.org", "bounces"), NULL,
	    "VERP: another prefix gives nothing");
	is(baddr_verp(&a, "bounces@lists.example.org", "bounces"), NULL,
	    "VERP: the plain bounce address gives nothing");
	is(baddr_verp(&a, "bouncesx+user=example.com@site.example", "bounces"),
	    NULL, "VERP: the prefix must end at a separator");
	is(baddr_verp(&a, "bounces+user@site.example", "bounces"), NULL,
	    "VERP: no '=' gives nothing");
	is(baddr_verp(&a, "bounces+=example.com@site.example", "bounces"),
	    NULL, "VERP: an empty local part gives nothing");
	is(baddr_verp(&a, "bounces+user=nodot@site.example", "bounces"), NULL,
	    "VERP: a domain without a dot gives nothing");
	is(baddr_verp(&a, NULL, "bounces"), NULL, "VERP NULL");
	barena_free(&a);
}

/* ---- status codes ---- */

static void
test_status(void)
{
	static const struct { const char *in, *want; } parse[] = {
		{ "5.1.1", "5.1.1" },
		{ "  5.7.1 (delivery not authorized)", "5.7.1" },
		{ "4.4.7", "4.4.7" },
		{ "2.0.0", "2.0.0" },
		{ "5.1.10", "5.1.10" },
		{ "5.001.001", "5.1.1" },
		{ "5.0.0", "5.0.0" },
		{ "3.1.1", NULL },
		{ "5.1", NULL },
		{ "5..1", NULL },
		{ "5.1.", NULL },
		{ "5.1.1.3", NULL },
		{ "5.1.1234", NULL },
		{ "5.1234.1", NULL },
		{ "550", NULL },
		{ "x 5.1.1", NULL },
		{ "", NULL },
	};
	static const struct { const char *in, *want; } find[] = {
		{ "550 5.1.1 <user@example.com>: Recipient address rejected",
		    "5.1.1" },
		{ "smtp; 550 5.7.1 Relay access denied", "5.7.1" },
		{ "host mx.example.com[192.0.2.5] said: 550 5.1.1 no such user",
		    "5.1.1" },
		{ "452-4.2.2 The email account is over quota", "4.2.2" },
		{ "(#5.1.1)", "5.1.1" },
		{ "status=5.2.2, mailbox full", "5.2.2" },
		{ "connect to 5.1.1.3 port 25 failed", NULL },
		{ "host 10.5.1.1 said: no", NULL },
		{ "relay=192.0.2.1 4.4.1", "4.4.1" },
		{ "Exim 4.94.2 says hello", NULL },
		{ "Postfix version 2.11.3 here", NULL },
		{ "mailer v5.1.1 ready", NULL },
		{ "release 5.1.1-rc1", NULL },
		{ "software-5.1.1 built", NULL },
		{ "build 2.0.0.1234", NULL },
		{ "file 5.1.1.tar.gz", NULL },
		{ "id 5.1.1@example.com", NULL },
		{ "at 12:5.1.1", NULL },
		{ "no code here", NULL },
		{ "3.1.1 is not a class", NULL },
	};
	char out[12];

	for (size_t i = 0; i < sizeof parse / sizeof parse[0]; i++) {
		int r = bstatus_parse(parse[i].in, out);
		is(r ? out : NULL, parse[i].want, "bstatus_parse '%s'",
		    parse[i].in);
	}
	for (size_t i = 0; i < sizeof find / sizeof find[0]; i++) {
		int r = bstatus_find(find[i].in, out);
		is(r ? out : NULL, find[i].want, "bstatus_find '%s'",
		    find[i].in);
	}
	ok(bstatus_generic("5.0.0"), "5.0.0 is generic");
	ok(bstatus_generic("4.0.0"), "4.0.0 is generic");
	ok(!bstatus_generic("5.7.1"), "5.7.1 is not generic");
	ok(!bstatus_generic("5.0.1"), "5.0.1 is not generic");
	ok(!bstatus_generic(""), "the empty status is not generic");
	ok(!bstatus_generic(NULL), "NULL is not generic");
}

static void
test_smtp(void)
{
	static const struct { const char *in, *want; } find[] = {
		{ "550 5.1.1 <user@example.com>: Recipient address rejected",
		    "550" },
		{ "smtp; 550 5.7.1 Relay access denied", "550" },
		{ "smtp;550 5.7.1 denied", "550" },
		{ "host mx.example.com[192.0.2.5] said: 452 4.2.2 over quota",
		    "452" },
		{ "host 192.0.2.250 said: 554 rejected", "554" },
		{ "550-5.1.1 The email account does not exist", "550" },
		{ "5.1.0 - Unknown address error 550-'No Such User Here'",
		    "550" },
		{ "5.1.0 - Unknown address error 550-\"5.1.1 The email "
		    "account that you tried to reach does not exist", "550" },
		{ "550: 5.1.1 <a@b.cd>: Recipient address rejected", "550" },
		{ "retry at 550: later", NULL },
		{ "SMTP error from remote mail server after RCPT TO:<a@b.cd>: "
		    "host mx.b.cd [198.51.100.7]: 550 Unrouteable", "550" },
		{ "(reason: 550 5.1.1 User unknown)", "550" },
		{ "connect to 192.168.250.1[192.168.250.1]:25: timed out",
		    NULL },
		{ "connect to 10.0.0.1:25: refused", NULL },
		{ "host 2001:db8::550 unreachable", NULL },
		{ "Date: Tue, 4 Nov 2014 15:01:16 +0500", NULL },
		{ "on 2014-11-04 at 15:01:16", NULL },
		{ "on 2014/05/21", NULL },
		{ "mail for 550@example.com failed", NULL },
		{ "mail for user550@example.com failed", NULL },
		{ "mail for user.550@example.com failed", NULL },
		{ "mail for list-550@example.com failed", NULL },
		{ "mail for <550-x@example.com> failed", NULL },
		{ "size 5500000 exceeds the limit", NULL },
		{ "message size 1,250,000 exceeds the limit", NULL },
		{ "quota 250.5 MB used", NULL },
		{ "queued as 550A3F1C2", NULL },
		{ "ticket #550 opened", NULL },
		{ "id=550 x", NULL },
		{ "code 599 is not a reply", NULL },
		{ "no code here", NULL },
	};
	char out[4];

	for (size_t i = 0; i < sizeof find / sizeof find[0]; i++) {
		int r = bsmtp_find(find[i].in, out);
		is(r ? out : NULL, find[i].want, "bsmtp_find '%s'", find[i].in);
	}
}

/* ---- dates ---- */

static const char *
iso(time_t t)
{
	static char buf[21];

	if (t == (time_t)-1)
		return "(-1)";
	b_isotime(t, buf);
	return buf;
}

static void
test_dates(void)
{
	static const struct { const char *in, *want; } dates[] = {
		{ "Tue, 4 Nov 2014 15:01:16 +0000", "2014-11-04T15:01:16Z" },
		{ "Tue, 04 Nov 2014 16:01:16 +0100", "2014-11-04T15:01:16Z" },
		{ "Tue, 4 Nov 2014 10:01:16 -0500 (EST)",
		    "2014-11-04T15:01:16Z" },
		{ "Tue, 4 Nov 2014 20:31:16 +0530", "2014-11-04T15:01:16Z" },
		{ "Tue, 4 Nov 2014 09:31:16 -0530", "2014-11-04T15:01:16Z" },
		{ "Wed, 5 Nov 2014 00:01:16 +0900", "2014-11-04T15:01:16Z" },
		{ "4 Nov 2014 15:01:16 GMT", "2014-11-04T15:01:16Z" },
		{ "Tue, 4 Nov 2014 15:01:16 UT", "2014-11-04T15:01:16Z" },
		{ "Tue, 4 Nov 2014 07:01:16 PST", "2014-11-04T15:01:16Z" },
		{ "Tue, 4 Nov 2014 11:01:16 EDT", "2014-11-04T15:01:16Z" },
		{ "Wed, 5 Nov 2014 00:01:16 JST", "2014-11-04T15:01:16Z" },
		{ "Tue, 4 Nov 2014 15:01 +0000", "2014-11-04T15:01:00Z" },
		{ "Tue,  4 Nov 14 15:01:16 +0000", "2014-11-04T15:01:16Z" },
		{ "Thu, 31 Dec 98 23:59:59 +0000", "1998-12-31T23:59:59Z" },
		{ "Tue, 4 November 2014 15:01:16 +0000",
		    "2014-11-04T15:01:16Z" },
		{ "  Tue, 4 Nov 2014\n\t15:01:16 +0000", "2014-11-04T15:01:16Z" },
		{ "Sat, 29 Feb 2020 12:00:00 +0000", "2020-02-29T12:00:00Z" },
		{ "Mon, 1 Jan 2001 00:30:00 +0100", "2000-12-31T23:30:00Z" },
		/* the first complete date wins over what a broken mailer
		 * glued on after it */
		{ "Fri, 07 Apr 2023 17:30:44 +0200Received: from mx (mx "
		    "[192.0.2.1]); Fri, 07 Apr 2023 17:30:35 +0200",
		    "2023-04-07T15:30:44Z" },
		{ "Tue, 4 Nov 2014 15:01:16 GMT Tue, 4 Nov 2014 18:00:00 +0500",
		    "2014-11-04T15:01:16Z" },
		/* asctime order of mbox "From " lines */
		{ "Tue Nov  4 15:01:16 2014", "2014-11-04T15:01:16Z" },
		{ "Thu Jan  1 00:00:00 1970", "1970-01-01T00:00:00Z" },
		/* ISO 8601 */
		{ "2014-11-04 15:01:16", "2014-11-04T15:01:16Z" },
		{ "2014-11-04T15:01:16Z", "2014-11-04T15:01:16Z" },
		{ "2014-11-04T16:01:16+01:00", "2014-11-04T15:01:16Z" },
		{ "2014-11-04T10:01:16-05:00", "2014-11-04T15:01:16Z" },
		{ "2014-11-04T15:01:16.250Z", "2014-11-04T15:01:16Z" },
		/* SendGrid's Arrival-Date: the time with dashes */
		{ "2014-03-26 00-01-19", "2014-03-26T00:01:19Z" },
		{ "2014-03-26 00-01-19 -0700", "2014-03-26T07:01:19Z" },
		/* past the four-digit years, or before 1970 */
		{ "Fri, 31 Dec 9999 23:59:59 +0000", "9999-12-31T23:59:59Z" },
		{ "Fri, 31 Dec 9999 23:00:00 -1200", "(-1)" },
		{ "Thu, 1 Jan 1970 00:30:00 +0100", "(-1)" },
		/* not dates */
		{ "", "(-1)" },
		{ "yesterday", "(-1)" },
		{ "Tue, 4 2014 15:01:16", "(-1)" },
		{ "Tue, 4 Nov 2014 25:01:16 +0000", "(-1)" },
		{ "Tue, 4 Nov 2014 15:61:16 +0000", "(-1)" },
		{ "Tue, 0 Nov 2014 15:01:16 +0000", "(-1)" },
		{ "Tue, 32 Nov 2014 15:01:16 +0000", "(-1)" },
		/* an ISO date cut short at the end of the field */
		{ "b,2014-1", "(-1)" },
		{ "2014-11-", "(-1)" },
		{ "2014-", "(-1)" },
	};

	for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
		is(iso(b_parsedate(dates[i].in)), dates[i].want,
		    "b_parsedate '%s'", dates[i].in);
	is(iso(b_parsedate(NULL)), "(-1)", "b_parsedate NULL");
	is(iso(0), "1970-01-01T00:00:00Z", "b_isotime 0");
	is(iso(1415113276), "2014-11-04T15:01:16Z", "b_isotime 1415113276");
}

/* ---- buffers, arenas, strings ---- */

static void
test_bbuf(void)
{
	struct bbuf b = { 0 };
	int good = 1;

	bbuf_reset(&b);
	ok(b.len == 0, "bbuf_reset on a new buffer");
	bbuf_adds(&b, "abc");
	bbuf_addc(&b, '-');
	bbuf_add(&b, "xyz", 2);
	is(b.s, "abc-xy", "bbuf_adds, bbuf_addc, bbuf_add");
	is_num((long long)b.len, 6, "bbuf length");
	bbuf_add(&b, "\0z", 2);
	is_num((long long)b.len, 8, "bbuf holds a NUL byte");
	ok(b.s[6] == '\0' && b.s[7] == 'z' && b.s[8] == '\0',
	    "bytes after a NUL are kept, and the end is NUL-terminated");
	bbuf_reset(&b);
	ok(b.len == 0 && b.s[0] == '\0', "bbuf_reset empties the buffer");
	for (int i = 0; i < 100000; i++)
		bbuf_addc(&b, 'a' + i % 26);
	for (int i = 0; i < 100000; i++)
		if (b.s[i] != 'a' + i % 26)
			good = 0;
	ok(good && b.len == 100000 && b.s[100000] == '\0' &&
	    b.cap > b.len, "bbuf grows to 100000 bytes intact");
	bbuf_free(&b);
	ok(b.s == NULL && b.len == 0 && b.cap == 0, "bbuf_free");
	bbuf_add(&b, "", 0);
	ok(b.s != NULL && b.s[0] == '\0', "an empty add gives an empty string");
	bbuf_free(&b);
}

static void
test_arena(void)
{
	struct barena a = { 0 };
	char *p[1000];
	int good = 1, aligned = 1;
	char *big, *s1;

	for (int i = 0; i < 1000; i++) {
		p[i] = barena_printf(&a, "string %d", i);
		if ((uintptr_t)barena_alloc(&a, (size_t)i % 13 + 1) %
		    _Alignof(max_align_t) != 0)
			aligned = 0;
	}
	for (int i = 0; i < 1000; i++) {
		char want[32];
		snprintf(want, sizeof want, "string %d", i);
		if (strcmp(p[i], want) != 0)
			good = 0;
	}
	ok(good, "1000 arena strings stay intact");
	ok(aligned, "arena allocations are aligned");
	is(barena_strndup(&a, "abcdef", 3), "abc", "barena_strndup");
	is(barena_strdup(&a, ""), "", "barena_strdup of empty");
	is(barena_printf(&a, "%s=%d", "x", 42), "x=42", "barena_printf");

	big = barena_alloc(&a, 1 << 20);
	memset(big, 'x', 1 << 20);
	s1 = barena_strdup(&a, "after big");
	ok(big[0] == 'x' && big[(1 << 20) - 1] == 'x' &&
	    strcmp(s1, "after big") == 0, "a 1 MiB allocation");
	barena_reset(&a);
	s1 = barena_strdup(&a, "after reset");
	is(s1, "after reset", "the arena is usable after reset");
	ok(barena_alloc(&a, 0) != NULL, "a zero-size allocation is not NULL");
	barena_free(&a);
	ok(a.head == NULL, "barena_free");
	is(barena_strdup(&a, "again"), "again", "usable after free");
	barena_free(&a);
}

static void
test_strings(void)
{
	const char *err;
	char buf[8], s[32];

	is_num(b_strtonum("42", 0, 100, &err), 42, "b_strtonum 42");
	ok(err == NULL, "no error");
	b_strtonum("101", 0, 100, &err);
	ok(err != NULL, "b_strtonum above max");
	b_strtonum("-1", 0, 100, &err);
	ok(err != NULL, "b_strtonum below min");
	b_strtonum("4x", 0, 100, &err);
	ok(err != NULL, "b_strtonum trailing junk");
	b_strtonum("", 0, 100, &err);
	ok(err != NULL, "b_strtonum empty");
	b_strtonum("99999999999999999999", 0, 100, &err);
	ok(err != NULL, "b_strtonum overflow");

	is_num((long long)b_strlcpy(buf, "abcdefghij", sizeof buf), 10,
	    "b_strlcpy returns the source length");
	is(buf, "abcdefg", "b_strlcpy truncates and terminates");

	strcpy(s, " \t x y \r\n");
	is(b_trim(s), "x y", "b_trim");
	strcpy(s, "MiXeD@Example.COM");
	is(b_lower(s), "mixed@example.com", "b_lower");
	ok(b_memcasemem("Hello World", 11, "WORLD") != NULL,
	    "b_memcasemem finds case-insensitively");
	ok(b_memcasemem("Hello World", 8, "World") == NULL,
	    "b_memcasemem stays within n bytes");
	ok(b_strcasestr("abc", "abcd") == NULL,
	    "b_strcasestr with a longer needle");
	{
		/* The search anchors on the needle's least common byte
		 * ("k", "z", ":"): matches must still be whole and leftmost. */
		const char *h = "zk unknown user: UNKNOWN USER: x";
		is_num(b_strcasestr(h, "unknown user:") - h, 3,
		    "b_strcasestr: the leftmost of two matches");
		ok(b_strcasestr("k user", "unk") == NULL,
		    "b_strcasestr: the rare byte before the needle could start");
		const char *j = "xx JAZZ", *q = "Quota";
		is_num(b_strcasestr(j, "jazz") - j, 3,
		    "b_strcasestr: a match at the very end");
		ok(b_memcasemem("fizz", 3, "fizz") == NULL,
		    "b_memcasemem: the rare byte just past n");
		is_num(b_strcasestr(q, "q") - q, 0,
		    "b_strcasestr: a one-byte needle in the other case");
	}
	ok(b_startcase("Final-Recipient: x", "final-recipient"),
	    "b_startcase");
}

int
main(void)
{
	test_escape();
	test_format();
	test_parse();
	test_json();
	test_loop();
	test_addr();
	test_verp();
	test_status();
	test_smtp();
	test_dates();
	test_bbuf();
	test_arena();
	test_strings();
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
