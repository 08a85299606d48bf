// SPDX-License-Identifier: GPL-2.0-or-later
/* Strict UTF-8 and the control characters no display of auto-vfio shows. */
#include <string.h>

#include "lib/testsuite.h"
#include "utf8.h"

static size_t len(const char *s)
{
	return av_utf8_len((const unsigned char *)s);
}

AV_TEST(utf8_valid_sequences_and_their_length)
{
	CHECK_INT(len("a"), 1);
	CHECK_INT(len("\xc3\xa9"), 2);	       /* é */
	CHECK_INT(len("\xe2\x82\xac"), 3);     /* € */
	CHECK_INT(len("\xef\xbf\xbd"), 3);     /* U+FFFD */
	CHECK_INT(len("\xf0\x9f\x98\x80"), 4); /* U+1F600 */
	CHECK_INT(len("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF, the last */
}

AV_TEST(utf8_invalid_sequences_refused)
{
	static const char *const bad[] = {
	    "\x80",		/* a continuation byte alone */
	    "\xc0\xaf",		/* overlong '/' */
	    "\xc1\xbf",		/* overlong */
	    "\xe0\x80\xaf",	/* overlong '/' in three bytes */
	    "\xf0\x80\x80\xaf", /* and in four */
	    "\xed\xa0\x80",	/* U+D800, a UTF-16 surrogate */
	    "\xed\xbf\xbf",	/* U+DFFF */
	    "\xf4\x90\x80\x80", /* U+110000 */
	    "\xf5\x80\x80\x80",
	    "\xff",
	    "\xc3", /* cut short by the end of the string */
	    "\xe2\x82",
	    "\xe2(\xac",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(len(bad[i]) == 0, "accepted bad sequence %zu", i);
}

AV_TEST(utf8_control_characters)
{
	static const char *const ctl[] = {"\x01",     "\x1b",	  "\x7f",
					  "\xc2\x80", "\xc2\x9b", "\xc2\x9f"};
	static const char *const text[] = {" ", "~", "\xc2\xa0", "\xc3\xa9", "\xe2\x80\x8b"};

	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
		CHECK_MSG(av_utf8_is_control((const unsigned char *)ctl[i], len(ctl[i])),
			  "control %zu not seen", i);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		CHECK_MSG(!av_utf8_is_control((const unsigned char *)text[i], len(text[i])),
			  "text %zu taken for a control", i);
}
