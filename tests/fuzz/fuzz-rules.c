/*
 * fuzz-rules.c - libFuzzer target: the rules format of bclassify(1).
 *
 * The input is read as a rules file.  When it is accepted, a few records
 * are classified with it in front of the built-in rules; the result must
 * name a known class and a reason (empty fields are "", as a parsed
 * record gives them).  When it is refused, the line number
 * must lie within the input and the reason must be said.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

static const char *const recs[][BREC_PARSE_FIELDS] = {
	{ "a.eml", "2014-11-04T15:01:16Z", "user@example.com", "failed",
	    "5.1.1", "550", "mx.example.net", "id@example.org", "dsn",
	    "550 5.1.1 <user@example.com>: Recipient address rejected: "
	    "User unknown (in reply to RCPT TO command)" },
	{ "b.eml", "", "other@example.org", "delayed", "4.2.2", "452", "",
	    "", "exim", "mailbox full" },
	{ "c.eml", "", "", "complaint", "", "", "", "", "arf", "abuse" },
	{ "d.eml", "", "x@example.net", "failed", "", "", "", "",
	    "pmta:bad-mailbox", "" },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bclass *c = bclass_new();
	struct bclass_result res;
	const char *why = NULL;
	long lineno = 0;
	size_t lines = 1;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	if (bclass_add(c, "fuzz", (const char *)data, size, &lineno,
	    &why) != 0) {
		if (why == NULL || *why == '\0' || lineno < 1 ||
		    (size_t)lineno > lines)
			abort();
		bclass_free(c);
		return 0;
	}
	if (bclass_add(c, "builtin", bclass_builtin, strlen(bclass_builtin),
	    &lineno, &why) != 0)
		abort();
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
		struct brec r = { .n = BREC_PARSE_FIELDS };
		int known = 0;
		for (int k = 0; k < BREC_PARSE_FIELDS; k++)
			r.f[k] = recs[i][k];
		bclass_classify(c, &r, &res);
		for (int k = 0; k < BC_NCLASSES; k++)
			if (res.cls != NULL && strcmp(res.cls, bclass_classes[k]) == 0)
				known = 1;
		if (!known || res.reason == NULL || *res.reason == '\0')
			abort();
	}
	bclass_free(c);
	return 0;
}
