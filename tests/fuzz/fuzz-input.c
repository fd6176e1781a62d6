/*
 * fuzz-input.c - libFuzzer target: the message loop (mbox splitting and
 * line-end translation) over a file holding arbitrary bytes.
 *
 * The bytes go into an anonymous memory file that the loop opens by its
 * /proc path, as it would open any file argument.  Every message handed
 * over must have LF line ends only and stay within the size limit; the
 * loop must account for the input (a message, or an error) every time,
 * unless it is an accounting file, which may have no rows.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

struct count {
	size_t msgs, errs;
};

static int
on_msg(void *arg, const struct bmsg *m)
{
	struct count *c = arg;

	if (m->source == NULL || m->len > BMSG_MAX ||
	    (m->len > 0 && m->data == NULL))
		abort();
	if (memchr(m->data, '\r', m->len) != NULL)
		abort();
	if (m->envelope != NULL && strchr(m->envelope, '\n') != NULL)
		abort();
	c->msgs++;
	return 0;
}

static void
on_err(void *arg, const char *what, const char *why)
{
	struct count *c = arg;

	if (what == NULL || why == NULL)
		abort();
	c->errs++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct count c = { 0, 0 };
	char *argv[1] = { path };
	const uint8_t *nl;
	int acct;

	if (fd < 0) {
		if ((fd = memfd_create("fuzz-input", 0)) < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	(void)bmsg_loop(1, argv, on_msg, on_err, &c);
	/* An accounting file may hold its header line and no rows. */
	nl = memchr(data, '\n', size);
	acct = bacct_is_header((const char *)data,
	    nl ? (size_t)(nl - data) + 1 : size);
	if (c.msgs == 0 && c.errs == 0 && !acct)
		abort();
	return 0;
}
