/* mime.c - the thin GMime layer: parsing, decoded text, headers. */
#include <signal.h>
#include <string.h>

#include "parse.h"

#if defined(__SANITIZE_ADDRESS__)
#define B_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define B_LSAN 1
#endif
#endif
#ifdef B_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* The subtypes GMime would parse as a message of their own. */
static const char *const msgtypes[] = { "rfc822", "rfc2822", "news",
    "global" };

int
bmime_is_message(GMimeContentType *ct)
{
	if (ct == NULL || g_ascii_strcasecmp(
	    g_mime_content_type_get_media_type(ct), "message") != 0)
		return 0;
	for (size_t i = 0; i < sizeof msgtypes / sizeof msgtypes[0]; i++)
		if (g_ascii_strcasecmp(g_mime_content_type_get_media_subtype(ct),
		    msgtypes[i]) == 0)
			return 1;
	return 0;
}

void
bmime_init(void)
{
	static int done;

	if (done)
		return;
	/* GMime's type registry forgets, without freeing it, an entry that
	 * a new registration replaces; the registry lasts as long as the
	 * process, so a leak checker is told to pass over it. */
#ifdef B_LSAN
	__lsan_disable();
#endif
	g_mime_init();
	/* An attached message is kept as a plain part, its bytes unparsed:
	 * most bounces need only its header block, which is far cheaper to
	 * read than a whole message tree is to build and free.  Those that
	 * need more parse it on their own (bmime_parse()). */
	for (size_t i = 0; i < sizeof msgtypes / sizeof msgtypes[0]; i++)
		g_mime_object_register_type("message", msgtypes[i],
		    GMIME_TYPE_PART);
#ifdef B_LSAN
	__lsan_enable();
#endif
	/* GMime's initialisation ignores SIGPIPE; the tools are filters
	 * and should end quietly when the reader goes away (| head). */
	signal(SIGPIPE, SIG_DFL);
	done = 1;
}

/* One parser and one set of options serve every message. */
static GMimeParser *parser;
static GMimeParserOptions *options;
static GMimeStream *nothing;	/* the parser's stream between messages */

/* Free an array made around a buffer that is not the array's: the
 * buffer is taken out first. */
static void
drop_array(gpointer ba)
{
	(void)g_byte_array_steal(ba, NULL);
	g_byte_array_unref(ba);
}

GMimeObject *
bmime_parse(const char *buf, size_t len)
{
	GMimeStream *st;
	GMimeObject *m;
	GByteArray *ba;

	if (parser == NULL) {
		parser = g_mime_parser_new();
		options = g_mime_parser_options_new();
		g_mime_parser_options_set_rfc2047_compliance_mode(options,
		    GMIME_RFC_COMPLIANCE_LOOSE);
		g_mime_parser_options_set_address_compliance_mode(options,
		    GMIME_RFC_COMPLIANCE_LOOSE);
		nothing = g_mime_stream_null_new();
	}
	/* The stream reads buf itself, not a copy: the parts of the
	 * message keep references to the stream, and the stream frees
	 * only its array around buf when the last one goes. */
	ba = g_byte_array_new_take((guint8 *)buf, len);
	st = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	g_object_set_data_full(G_OBJECT(st), "bounce-buffer", ba, drop_array);
	g_mime_parser_init_with_stream(parser, st);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	/* A part, not a GMimeMessage: the message's header block is the
	 * part's, and GMime does not parse its address, date and subject
	 * fields ahead (bmime_header() decodes what is asked for). */
	m = g_mime_parser_construct_part(parser, options);
	g_mime_parser_init_with_stream(parser, nothing);
	g_object_unref(st);
	return m;
}

/*
 * A converter from charset cs to UTF-8, or (iconv_t)-1 when iconv does
 * not know cs.  Converters stay open for the next part in the same
 * charset (opening one costs more than most parts take to read, and a
 * mailbox uses few charsets); the caller never closes them.  A name of
 * 40 bytes or more names no charset iconv knows.
 */
static iconv_t
converter(const char *cs)
{
	static struct { char name[40]; iconv_t cd; } seen[8];
	static unsigned next;
	const size_t nseen = sizeof seen / sizeof seen[0];
	iconv_t cd;

	if (cs[0] == '\0' || strlen(cs) >= sizeof seen[0].name)
		return (iconv_t)-1;
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].name[0] != '\0' &&
		    g_ascii_strcasecmp(seen[i].name, cs) == 0) {
			if (seen[i].cd != (iconv_t)-1)
				iconv(seen[i].cd, NULL, NULL, NULL, NULL);
			return seen[i].cd;
		}
	cd = g_mime_iconv_open("UTF-8", cs);
	if (seen[next].name[0] != '\0' && seen[next].cd != (iconv_t)-1)
		g_mime_iconv_close(seen[next].cd);
	b_strlcpy(seen[next].name, cs, sizeof seen[0].name);
	seen[next].cd = cd;
	next = (next + 1) % nseen;
	return cd;
}

/* A charset name iconv can convert from, or NULL. */
static const char *
usable_charset(const char *cs)
{
	if (cs == NULL || g_ascii_strcasecmp(cs, "utf-8") == 0 ||
	    g_ascii_strcasecmp(cs, "us-ascii") == 0 ||
	    converter(cs) == (iconv_t)-1)
		return NULL;
	return cs;
}

/*
 * The charset to read a part's bytes in: the declared one when iconv
 * knows it; with none declared, ISO-2022-JP when its escape sequences
 * show (Japanese MTAs often leave the label off report parts).  NULL
 * means the bytes are kept as they are (escaped on output if they are
 * not UTF-8), so an unknown charset never loses text.
 */
static const char *
part_charset(GMimePart *part, const char *data, size_t n)
{
	const char *cs = g_mime_object_get_content_type_parameter(
	    GMIME_OBJECT(part), "charset");

	if (cs != NULL && cs[0] != '\0')
		return usable_charset(cs);
	for (const char *p = data, *e = data + n;
	    (p = memchr(p, '\x1b', (size_t)(e - p))) != NULL; p++)
		if (e - p >= 3 && p[1] == '$' && (p[2] == 'B' || p[2] == '@'))
			return "ISO-2022-JP";
	return NULL;
}

/*
 * The bytes of a part without a transfer encoding, read straight from
 * its stream into the arena (no decoding filter, no copy in between);
 * NULL when the stream cannot say its length.  At most BP_MAXTEXT.
 */
static char *
raw_content(struct barena *a, GMimeDataWrapper *dw, size_t *lenp)
{
	GMimeStream *st = g_mime_data_wrapper_get_stream(dw);
	gint64 len;
	size_t n, got = 0;
	char *buf;

	if (st == NULL || (len = g_mime_stream_length(st)) < 0 ||
	    g_mime_stream_reset(st) < 0)
		return NULL;
	n = (guint64)len > BP_MAXTEXT ? BP_MAXTEXT : (size_t)len;
	buf = barena_alloc(a, n + 1);
	while (got < n) {
		ssize_t r = g_mime_stream_read(st, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*lenp = got;
	return buf;
}

char *
bmime_part_bytes(struct barena *a, GMimePart *part, size_t *lenp)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *ba;
	char *out;

	*lenp = 0;
	if (dw == NULL)
		return barena_strdup(a, "");
	switch (g_mime_data_wrapper_get_encoding(dw)) {
	case GMIME_CONTENT_ENCODING_DEFAULT:
	case GMIME_CONTENT_ENCODING_7BIT:
	case GMIME_CONTENT_ENCODING_8BIT:
	case GMIME_CONTENT_ENCODING_BINARY:
		if ((out = raw_content(a, dw, lenp)) != NULL)
			return out;
		break;
	default:
		break;
	}
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	*lenp = ba->len > BP_MAXTEXT ? BP_MAXTEXT : ba->len;
	out = barena_strndup(a, *lenp ? (const char *)ba->data : "", *lenp);
	g_object_unref(mem);
	return out;
}

/* NUL bytes would cut a text short: make them blanks. */
static void
blank_nuls(char *p, size_t n)
{
	for (char *e = p + n; (p = memchr(p, '\0', (size_t)(e - p))) != NULL;
	    p++)
		*p = ' ';
}

char *
bmime_part_text(struct barena *a, GMimePart *part, size_t *lenp)
{
	const char *cs;
	char *out, *conv = NULL;
	size_t n;

	out = bmime_part_bytes(a, part, &n);
	if (n > 0 && (cs = part_charset(part, out, n)) != NULL) {
		iconv_t cd = converter(cs);
		/* The converted text comes without its length, so NUL
		 * bytes go first, unless they are parts of the charset's
		 * characters (UTF-16, UTF-32, UCS-2, UCS-4). */
		if (g_ascii_strncasecmp(cs, "utf-16", 6) != 0 &&
		    g_ascii_strncasecmp(cs, "utf-32", 6) != 0 &&
		    g_ascii_strncasecmp(cs, "ucs", 3) != 0)
			blank_nuls(out, n);
		if (cd != (iconv_t)-1)
			conv = g_mime_iconv_strndup(cd, out, n);
	}
	if (conv != NULL) {
		n = strnlen(conv, BP_MAXTEXT);
		out = barena_strndup(a, conv, n);
		g_free(conv);
	}
	/* CRs become line ends as everywhere else (a CR before an LF, a
	 * blank). */
	blank_nuls(out, n);
	for (char *p = out; (p = memchr(p, '\r', n - (size_t)(p - out))) != NULL;
	    p++)
		*p = p[1] == '\n' ? ' ' : '\n';
	*lenp = n;
	return out;
}

char *
bmime_headers(struct barena *a, GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int count = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	size_t len = 0, i = 0;
	int nfields = 0;
	char *out;

	/* Each field as it came: "Name:" and its raw value, which keeps
	 * the folding and the line end.  Bounded like a part's text, so
	 * that searches stay cheap: the fields that start before the
	 * bound are copied, then the text is cut at it. */
	for (; nfields < count && len < BP_MAXTEXT; nfields++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl,
		    nfields);
		const char *raw = g_mime_header_get_raw_value(h);
		len += strlen(g_mime_header_get_name(h)) + 2 +
		    (raw ? strlen(raw) : 0);
	}
	out = barena_alloc(a, len + 1);
	for (int k = 0; k < nfields; k++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, k);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		size_t n = strlen(name), r = raw ? strlen(raw) : 0;
		memcpy(out + i, name, n);
		i += n;
		out[i++] = ':';
		if (r > 0)
			memcpy(out + i, raw, r);
		i += r;
		if (r == 0 || raw[r - 1] != '\n')
			out[i++] = '\n';
	}
	if (i > BP_MAXTEXT)
		i = BP_MAXTEXT;
	out[i] = '\0';
	return out;
}

char *
bmime_header_block(struct barena *a, const char *s, size_t n)
{
	const char *p = s, *e = s + n, *nl;

	/* An mbox "From " line before the fields is no field. */
	if (n > 5 && memcmp(s, "From ", 5) == 0 &&
	    (nl = memchr(s, '\n', n)) != NULL) {
		n -= (size_t)(nl + 1 - s);
		s = p = nl + 1;
		e = s + n;
	}
	/* The fields end at the first blank line. */
	while (p < e && (nl = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		if (nl == p || (nl == p + 1 && *p == '\r'))
			break;
		p = nl + 1;
	}
	if (p < e && memchr(p, '\n', (size_t)(e - p)) == NULL)
		p = e;
	return barena_strndup(a, s, (size_t)(p - s));
}

char *
bmime_header(struct barena *a, GMimeObject *obj, const char *name)
{
	const char *raw, *p;
	char *dec, *out;

	/* obj is NULL when GMime could make nothing of the message. */
	if (obj == NULL || (raw = g_mime_object_get_header(obj, name)) == NULL)
		return NULL;
	/* A value of megabytes says nothing more than its start does, and
	 * every later search over it would cost time in proportion. */
	if (strlen(raw) > BP_MAXHDR)
		raw = barena_strndup(a, raw, BP_MAXHDR);
	/* Plain ASCII without encoded words needs no decoding. */
	for (p = raw; *p != '\0' && (unsigned char)*p < 0x80 &&
	    !(p[0] == '=' && p[1] == '?'); p++)
		;
	if (*p == '\0')
		return bp_oneline(barena_strdup(a, raw));
	dec = g_mime_utils_header_decode_text(NULL, raw);
	out = bp_oneline(barena_strdup(a, dec ? dec : raw));
	g_free(dec);
	return out;
}

time_t
bmime_date(GMimeObject *m)
{
	const char *v = g_mime_object_get_header(m, "Date");
	GDateTime *dt;
	time_t t;

	if (v == NULL)
		return -1;
	/* The plain reader first: GMime's makes a GDateTime and a time
	 * zone object for every date. */
	if ((t = b_parsedate(v)) >= 0)
		return t;
	if ((dt = g_mime_utils_header_decode_date(v)) == NULL)
		return -1;
	t = (time_t)g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t;
}
