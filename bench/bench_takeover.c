/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Takeover time vs number of paths. Host A holds the LU (exclusive, WERO)
 * on N paths; host B forces it over N paths, each with a fixed injected
 * latency L (sim transport). The time of prpath_dev_open(FORCE) is printed
 * as a multiple of L, next to a serial baseline that sends the same PR
 * commands one at a time (READ RESERVATION, REGISTER on each path,
 * PREEMPT AND ABORT): N + 2 round trips.
 *
 * The multipath device sends READ RESERVATION with the registrations,
 * PREEMPT AND ABORT right behind the first registration, and one READ
 * RESERVATION after the last registration (a registration that lands after
 * another host preempted us in turn must not stay behind): about 3 round
 * trips whatever N, with the old owner fenced after about 2.
 *
 * usage: bench_takeover [latency_ms] [max_paths]   (default 5 ms, 16)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <prpath/lu.h>
#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#include "bench.h"

#define MAXP 16

static int prout(struct prpath_dev *d, unsigned path, unsigned sa, unsigned type,
		 uint64_t rk, uint64_t sark)
{
	struct prpath_prout_params prm = { .rk = rk, .sark = sark };
	uint8_t param[24];
	struct prpath_io io;
	int n, rc;

	memset(&io, 0, sizeof(io));
	n = prpath_prout_params_encode(&prm, param, sizeof(param));
	rc = prpath_cdb_pr_out(io.cdb, sizeof(io.cdb), sa, 0, type, (uint32_t)n);
	if (n < 0 || rc < 0)
		return -EINVAL;
	io.cdb_len = (size_t)rc;
	io.dout = param;
	io.dout_len = (size_t)n;
	rc = prpath_dev_path_execute(d, path, &io);
	return rc ? rc : io.status;
}

static int read_resv(struct prpath_dev *d, unsigned path)
{
	uint8_t buf[64];
	struct prpath_io io;
	int rc;

	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_pr_in(io.cdb, sizeof(io.cdb), PRPATH_PR_IN_READ_RESERVATION,
			      sizeof(buf));
	if (rc < 0)
		return rc;
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = sizeof(buf);
	rc = prpath_dev_path_execute(d, path, &io);
	return rc ? rc : io.status;
}

static int one(unsigned n, unsigned lat_us, double *t_mp, double *t_serial)
{
	static const uint16_t ports[MAXP] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
					      11, 12, 13, 14, 15, 16 };
	struct prpath_lu_config cfg = { .size = 1 << 20, .block_size = 512,
					.target_ports = ports, .ntarget_ports = MAXP };
	struct prpath_dev *a = NULL, *b = NULL;
	struct prpath_lu *lu;
	unsigned i;
	double t0;
	int rc;

	rc = prpath_lu_new(&cfg, &lu);
	if (rc)
		return rc;
	rc = bench_mkdev(lu, "iqn.2024-01.bench:a", KA, n, 0, &a, NULL);
	if (!rc)
		rc = bench_mkdev(lu, "iqn.2024-01.bench:b", KB, n, lat_us, &b, NULL);
	if (!rc)
		rc = prpath_dev_open(a, PRPATH_MODE_EXCLUSIVE, 0);
	if (rc)
		goto out;

	t0 = now_s();
	rc = prpath_dev_open(b, PRPATH_MODE_FORCE, 0);
	*t_mp = now_s() - t0;
	if (rc)
		goto out;
	prpath_dev_close(b);
	prpath_dev_close(a);
	rc = prpath_dev_open(a, PRPATH_MODE_EXCLUSIVE, 0);
	if (rc)
		goto out;

	/* serial baseline on B's connections */
	t0 = now_s();
	rc = read_resv(b, 0);
	for (i = 0; i < n && !rc; i++)
		rc = prout(b, i, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, KB);
	if (!rc)
		rc = prout(b, 0, PRPATH_PR_OUT_PREEMPT_AND_ABORT, PRPATH_PR_TYPE_WERO, KB, KA);
	*t_serial = now_s() - t0;
out:
	prpath_dev_free(a);
	prpath_dev_free(b);
	prpath_lu_free(lu);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned lat_ms = 5, maxp = MAXP, n;

	if (argc > 1)
		lat_ms = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		maxp = (unsigned)strtoul(argv[2], NULL, 10);
	if (!lat_ms || !maxp || maxp > MAXP) {
		fprintf(stderr, "usage: bench_takeover [latency_ms] [max_paths<=16]\n");
		return 1;
	}
	printf("takeover (force open) time in units of the path latency L = %u ms\n",
	       lat_ms);
	printf("%6s %12s %12s %8s\n", "paths", "prpath/L", "serial/L", "speedup");
	for (n = 1; n <= maxp; n++) {
		double tm = 0, ts = 0, l = lat_ms / 1000.0;
		int rc = one(n, lat_ms * 1000, &tm, &ts);

		if (rc) {
			fprintf(stderr, "paths %u: %s\n", n, prpath_strerror(rc));
			return 1;
		}
		printf("%6u %12.2f %12.2f %8.2f\n", n, tm / l, ts / l, ts / tm);
	}
	return 0;
}
