/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the benchmarks share: a monotonic clock in seconds, two hosts'
 * keys, and a device of one host on an in-process LU. */
#ifndef PRPATH_BENCH_H
#define PRPATH_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <prpath/lu.h>
#include <prpath/mpath.h>
#include <prpath/path.h>

#define KA 0xaaaaaaaaaaaaaaa1ULL
#define KB 0xbbbbbbbbbbbbbbb2ULL

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A device of host @iqn on @lu with @np paths (each its own nexus, path
 * i on target port i + 1), every command delayed by @lat_us; the paths go
 * to @paths too when it is not NULL. */
static inline int bench_mkdev(struct prpath_lu *lu, const char *iqn, uint64_t key,
			      unsigned np, unsigned lat_us, struct prpath_dev **out,
			      struct prpath_path **paths)
{
	struct prpath_host h = { .initiator = iqn, .key = key };
	unsigned i;
	int rc;

	rc = prpath_dev_new(NULL, &h, out);
	if (rc)
		return rc;
	prpath_dev_set_timeout(*out, 60000);
	for (i = 0; i < np; i++) {
		struct prpath_path *p;
		char port[128];

		snprintf(port, sizeof(port), "%s,i,0x00023d0000%02x", iqn, i + 1);
		rc = prpath_path_open_lu(lu, port, (uint16_t)(i + 1), &p);
		if (rc)
			return rc;
		prpath_path_set_latency(p, lat_us);
		if (paths)
			paths[i] = p;
		rc = prpath_dev_add_path(*out, p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

#endif /* PRPATH_BENCH_H */
