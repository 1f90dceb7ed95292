/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the benchmarks share: a monotonic clock in seconds and two hosts'
 * keys. */
#ifndef PRPATH_BENCH_H
#define PRPATH_BENCH_H

#include <time.h>

#define KA 0xaaaaaaaaaaaaaaa1ULL
#define KB 0xbbbbbbbbbbbbbbb2ULL

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif /* PRPATH_BENCH_H */
