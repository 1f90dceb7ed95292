/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group takeover time (issue 10): a group of N LUs x P paths on the
 * in-process device server, every command of every path delayed by L.
 * Host A holds every LU (WERO, all paths registered); host B takes the
 * group over with prpath_group_open(PRPATH_MODE_FORCE). Printed as
 * multiples of L, next to a serial baseline that takes the same LUs one
 * at a time, one command at a time (per LU: READ RESERVATION, REGISTER AND
 * IGNORE EXISTING KEY on each path, PREEMPT AND ABORT: P + 2 round trips),
 * as a script around sg_persist would.
 *
 * Two takeover numbers: with the settle time 0 (the pipeline alone), and
 * with PRPATH_GROUP_SETTLE_AUTO (what prpathd uses: the wait that keeps
 * two racing hosts from dividing the group; at least 100 ms, a fixed time,
 * not a number of round trips). Also the group acquire (exclusive) of a
 * free group.
 *
 * usage: bench_group [latency_ms] [luns] [paths]   (default 10 ms, 256, 4)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <prpath/group.h>
#include <prpath/lu.h>
#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#include "bench.h"

#define MAXP 16

static double t_origin;

/* BENCH_TRACE=1: every command of B's devices, with its completion time
 * in units of L (to see which round trips an open costs) */
static void trace(void *arg, struct prpath_dev *dev, const struct prpath_trace *t)
{
	double l = *(const double *)arg;

	(void)dev;
	fprintf(stderr, "%7.2f L  path %u  op 0x%02x sa 0x%02x  rc %d status 0x%02x\n",
		(now_s() - t_origin) / l, t->path, t->cdb[0], t->cdb[1] & 0x1f,
		t->rc, t->status);
}

int main(int argc, char **argv)
{
	static const uint16_t ports[MAXP] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
					      11, 12, 13, 14, 15, 16 };
	unsigned lat_ms = 10, nlu = 256, np = 4, i, j;
	struct prpath_lu **lus;
	struct prpath_dev **a, **b, **c, **d, **e;
	struct prpath_path **cp; /* C's paths, nlu * np: the serial baseline */
	double t0, t_take0, t_take, t_acq, t_serial, l;
	int rc = 0;

	if (argc > 1)
		lat_ms = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		nlu = (unsigned)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		np = (unsigned)strtoul(argv[3], NULL, 10);
	if (!lat_ms || !nlu || nlu > 4096 || !np || np > MAXP) {
		fprintf(stderr, "usage: bench_group [latency_ms] [luns<=4096] [paths<=16]\n");
		return 1;
	}
	l = lat_ms / 1000.0;
	lus = calloc(nlu, sizeof(*lus));
	a = calloc(nlu, sizeof(*a));
	b = calloc(nlu, sizeof(*b));
	c = calloc(nlu, sizeof(*c));
	d = calloc(nlu, sizeof(*d));
	e = calloc(nlu, sizeof(*e));
	cp = calloc((size_t)nlu * np, sizeof(*cp));
	if (!lus || !a || !b || !c || !d || !e || !cp)
		return 1;
	for (i = 0; i < nlu && !rc; i++) {
		struct prpath_lu_config cfg = { .size = 1 << 20, .block_size = 512,
						.target_ports = ports,
						.ntarget_ports = np };

		rc = prpath_lu_new(&cfg, &lus[i]);
		if (!rc)
			rc = bench_mkdev(lus[i], "iqn.2026-12.bench:a", KA, np, 0, &a[i], NULL);
		if (!rc)
			rc = bench_mkdev(lus[i], "iqn.2026-12.bench:b", KB, np, lat_ms * 1000,
				   &b[i], NULL);
		if (!rc)
			rc = bench_mkdev(lus[i], "iqn.2026-12.bench:c", KB, np, lat_ms * 1000,
				   &c[i], cp + (size_t)i * np);
		if (!rc)
			rc = bench_mkdev(lus[i], "iqn.2026-12.bench:d", KB, np, lat_ms * 1000,
				   &d[i], NULL);
		if (!rc)
			rc = bench_mkdev(lus[i], "iqn.2026-12.bench:e", KB, np, lat_ms * 1000,
				   &e[i], NULL);
	}
	if (rc) {
		fprintf(stderr, "setup: %s\n", prpath_strerror(rc));
		return 1;
	}
	if (getenv("BENCH_TRACE"))
		for (i = 0; i < nlu; i++)
			prpath_dev_set_trace(b[i], trace, &l);
	t_origin = now_s();
	printf("group of %u LUs x %u paths, L = %u ms on every command of the hosts measured\n",
	       nlu, np, lat_ms);

	/* Each measurement by a host whose nexuses have not been used yet, as
	 * a standby host's are: a host that held and released the LU has unit
	 * attentions of its own release pending on its paths (one more round
	 * trip). D acquires the free group, B takes it over from A with no
	 * settle time, E with the settle time prpathd uses. */
	t0 = t_origin = now_s();
	rc = prpath_group_open(d, nlu, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_RETAIN, 0, NULL);
	t_acq = now_s() - t0;
	if (!rc)
		rc = prpath_group_release(d, nlu, NULL);
	if (!rc)
		rc = prpath_group_open(a, nlu, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_RETAIN, 0, NULL);
	t0 = t_origin = now_s();
	if (!rc)
		rc = prpath_group_open(b, nlu, PRPATH_MODE_FORCE, PRPATH_OPEN_RETAIN, 0, NULL);
	t_take0 = now_s() - t0;
	if (!rc)
		rc = prpath_group_release(b, nlu, NULL);
	for (i = 0; i < nlu && !rc; i++)
		prpath_dev_close(a[i]);
	if (!rc)
		rc = prpath_group_open(a, nlu, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_RETAIN, 0, NULL);
	t0 = now_s();
	if (!rc)
		rc = prpath_group_open(e, nlu, PRPATH_MODE_FORCE, PRPATH_OPEN_RETAIN,
				       PRPATH_GROUP_SETTLE_AUTO, NULL);
	t_take = now_s() - t0;
	if (!rc)
		rc = prpath_group_release(e, nlu, NULL);
	for (i = 0; i < nlu && !rc; i++)
		prpath_dev_close(a[i]);
	if (rc) {
		fprintf(stderr, "group: %s\n", prpath_strerror(rc));
		return 1;
	}

	/* serial baseline: A holds again; C (B's key, its own nexuses) takes
	 * LU after LU, one command at a time */
	rc = prpath_group_open(a, nlu, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_RETAIN, 0, NULL);
	t0 = now_s();
	for (i = 0; i < nlu && !rc && !getenv("BENCH_NO_SERIAL"); i++) {
		struct prpath_path **p = cp + (size_t)i * np;
		uint8_t buf[64];
		size_t len;

		rc = prpath_path_pr_in(p[0], PRPATH_PR_IN_READ_RESERVATION, buf,
				       sizeof(buf), &len);
		for (j = 0; j < np && !rc; j++)
			rc = prpath_path_pr_out(p[j], PRPATH_PR_OUT_REGISTER_AND_IGNORE,
						0, 0, KB, false);
		if (!rc)
			rc = prpath_path_pr_out(p[0], PRPATH_PR_OUT_PREEMPT_AND_ABORT,
						PRPATH_PR_TYPE_WERO, KB, KA, false);
	}
	t_serial = now_s() - t0;
	if (rc) {
		fprintf(stderr, "serial baseline: %s\n", prpath_strerror(rc));
		return 1;
	}

	printf("%-34s %10s %10s\n", "", "seconds", "/ L");
	printf("%-34s %10.3f %10.1f\n", "serial baseline (takeover)", t_serial, t_serial / l);
	printf("%-34s %10.3f %10.1f\n", "group acquire (free group)", t_acq, t_acq / l);
	printf("%-34s %10.3f %10.1f\n", "group takeover, settle 0", t_take0, t_take0 / l);
	printf("%-34s %10.3f %10.1f\n", "group takeover, settle auto", t_take, t_take / l);
	printf("speedup over serial: %.0fx (settle 0), %.0fx (settle auto)\n",
	       t_serial / t_take0, t_serial / t_take);

	for (i = 0; i < nlu; i++) {
		prpath_dev_free(a[i]);
		prpath_dev_free(b[i]);
		prpath_dev_free(c[i]);
		prpath_dev_free(d[i]);
		prpath_dev_free(e[i]);
		prpath_lu_free(lus[i]);
	}
	free(lus);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	free(cp);
	return 0;
}
