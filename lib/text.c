/*
 * text.c - bounces written in an MTA's or a provider's own words.
 */
#include <string.h>

#include "parse.h"

int
bp_text(struct bctx *c)
{
	(void)c;
	return 0;
}
