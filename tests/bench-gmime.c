/*
 * bench-gmime.c - a reference for bparse: GMime's own mbox parser, each
 * message built whole (attached messages too) and dropped, nothing looked
 * at.  bparse leaves attached messages unparsed unless they are reports,
 * so it can come in under this.  Prints the number of messages.  Built
 * and run by bench.sh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include <gmime/gmime.h>

int
main(int argc, char *argv[])
{
	GMimeStream *st;
	GMimeParser *ps;
	long n = 0;
	int fd;

	if (argc != 2) {
		fputs("usage: bench-gmime mbox\n", stderr);
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0) {
		fprintf(stderr, "bench-gmime: %s: %s\n", argv[1],
		    strerror(errno));
		return 2;
	}
	g_mime_init();
	st = g_mime_stream_fs_new(fd);
	ps = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_format(ps, GMIME_FORMAT_MBOX);
	while (!g_mime_parser_eos(ps)) {
		GMimeMessage *m = g_mime_parser_construct_message(ps, NULL);
		if (m == NULL)
			break;
		n++;
		g_object_unref(m);
	}
	g_object_unref(ps);
	g_object_unref(st);
	printf("%ld\n", n);
	return 0;
}
