/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz target checks with: CHECK() calls abort() when an invariant breaks, so that
 * libFuzzer keeps the input as a crash; assert() would be gone from a build with NDEBUG.
 */
#ifndef LINKYD_FUZZ_CHECK_H
#define LINKYD_FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

#endif
