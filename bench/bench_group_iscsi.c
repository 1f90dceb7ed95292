/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group takeover over iSCSI (issue 10): N LUs of one target reached
 * through 4 portals, run by bench/bench_group_iscsi.sh against `prpath
 * target` on loopback. Host A holds every LU; host B takes the group over
 * with prpath_group_open(); a serial baseline (host C) takes the same LUs
 * one at a time, one command at a time (READ RESERVATION, REGISTER AND
 * IGNORE on each path, PREEMPT AND ABORT). Loopback round trips are tiny,
 * so the numbers are seconds and ratios, not multiples of a latency.
 *
 * usage: bench_group_iscsi HOST PORT0 TARGET-IQN NLU
 *        (portals HOST:PORT0 .. HOST:PORT0+3, LUNs 0 .. NLU-1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <prpath/group.h>
#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#include "bench.h"

#define NP 4

static char urls[4096][NP][300];

static int mkdev(const char *iqn, uint64_t key, unsigned lu, struct prpath_dev **out)
{
	struct prpath_host h = { .initiator = iqn, .key = key };
	struct prpath_url_result res[NP];
	const char *u[NP];
	int rc, i;

	rc = prpath_dev_new(NULL, &h, out);
	if (rc)
		return rc;
	for (i = 0; i < NP; i++)
		u[i] = urls[lu][i];
	rc = prpath_dev_add_urls(*out, u, NP, res);
	if (rc != NP) {
		fprintf(stderr, "%s: %s\n", u[0], rc < 0 ? prpath_strerror(rc) : res[0].why);
		return rc < 0 ? rc : -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct prpath_dev **a, **b;
	struct prpath_path **cp;
	double t0, t_open, t_acq, t_take0, t_take, t_serial;
	unsigned nlu, port0, i, j;
	int rc = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_group_iscsi HOST PORT0 TARGET-IQN NLU\n");
		return 1;
	}
	port0 = (unsigned)strtoul(argv[2], NULL, 10);
	nlu = (unsigned)strtoul(argv[4], NULL, 10);
	if (!nlu || nlu > 4096 || !port0 || port0 > 65532) {
		fprintf(stderr, "bench_group_iscsi: bad PORT0 or NLU (1-4096)\n");
		return 1;
	}
	for (i = 0; i < nlu; i++)
		for (j = 0; j < NP; j++)
			snprintf(urls[i][j], sizeof(urls[i][j]), "iscsi://%s:%u/%s/%u",
				 argv[1], port0 + j, argv[3], i);
	a = calloc(nlu, sizeof(*a));
	b = calloc(nlu, sizeof(*b));
	cp = calloc((size_t)nlu * NP, sizeof(*cp));
	if (!a || !b || !cp)
		return 1;
	t0 = now_s();
	for (i = 0; i < nlu && !rc; i++)
		rc = mkdev("iqn.2026-12.bench:b", KB, i, &b[i]);
	t_open = now_s() - t0;
	for (i = 0; i < nlu && !rc; i++)
		rc = mkdev("iqn.2026-12.bench:a", KA, i, &a[i]);
	for (i = 0; i < nlu && !rc; i++)
		for (j = 0; j < NP && !rc; j++) {
			char why[320];

			rc = prpath_path_open(urls[i][j], "iqn.2026-12.bench:c", 0, 0,
					      &cp[i * NP + j], why, sizeof(why));
			if (rc)
				fprintf(stderr, "%s: %s\n", urls[i][j], why);
		}
	if (rc)
		return 1;

	t0 = now_s();
	rc = prpath_group_open(a, nlu, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_RETAIN, 0, NULL);
	t_acq = now_s() - t0;
	t0 = now_s();
	if (!rc)
		rc = prpath_group_open(b, nlu, PRPATH_MODE_FORCE, PRPATH_OPEN_RETAIN, 0, NULL);
	t_take0 = now_s() - t0;
	if (!rc)
		rc = prpath_group_release(b, nlu, NULL);
	for (i = 0; i < nlu; i++)
		prpath_dev_close(a[i]);
	if (!rc)
		rc = prpath_group_open(a, nlu, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_RETAIN, 0, NULL);
	t0 = now_s();
	if (!rc)
		rc = prpath_group_open(b, nlu, PRPATH_MODE_FORCE, PRPATH_OPEN_RETAIN,
				       PRPATH_GROUP_SETTLE_AUTO, NULL);
	t_take = now_s() - t0;
	if (!rc)
		rc = prpath_group_release(b, nlu, NULL);
	for (i = 0; i < nlu; i++)
		prpath_dev_close(a[i]);
	if (!rc)
		rc = prpath_group_open(a, nlu, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_RETAIN, 0, NULL);
	if (rc) {
		fprintf(stderr, "group: %s\n", prpath_strerror(rc));
		return 1;
	}
	/* serial: C takes LU after LU, one command at a time */
	t0 = now_s();
	for (i = 0; i < nlu && !rc; i++) {
		uint8_t buf[64];
		size_t len;

		rc = prpath_path_pr_in(cp[i * NP], PRPATH_PR_IN_READ_RESERVATION, buf,
				       sizeof(buf), &len);
		for (j = 0; j < NP && !rc; j++)
			rc = prpath_path_pr_out(cp[i * NP + j], PRPATH_PR_OUT_REGISTER_AND_IGNORE,
						0, 0, KB, false);
		if (!rc)
			rc = prpath_path_pr_out(cp[i * NP], PRPATH_PR_OUT_PREEMPT_AND_ABORT,
						PRPATH_PR_TYPE_WERO, KB, KA, false);
	}
	t_serial = now_s() - t0;
	if (rc) {
		fprintf(stderr, "serial baseline: %s\n", prpath_strerror(rc));
		return 1;
	}
	printf("group of %u LUs x %d portals over iSCSI (loopback)\n", nlu, NP);
	printf("%-36s %10.3f s\n", "B opens 4 paths of every LU", t_open);
	printf("%-36s %10.3f s\n", "serial baseline (takeover)", t_serial);
	printf("%-36s %10.3f s\n", "group acquire (free group)", t_acq);
	printf("%-36s %10.3f s  (%.1fx faster than serial)\n", "group takeover, settle 0",
	       t_take0, t_serial / t_take0);
	printf("%-36s %10.3f s  (%.1fx)\n", "group takeover, settle auto", t_take,
	       t_serial / t_take);
	for (i = 0; i < nlu; i++) {
		prpath_group_release(&a[i], 1, NULL);
		prpath_dev_free(a[i]);
		prpath_dev_free(b[i]);
		for (j = 0; j < NP; j++)
			prpath_path_close(cp[i * NP + j]);
	}
	free(a);
	free(b);
	free(cp);
	return 0;
}
