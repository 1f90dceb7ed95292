/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iscsi_iops: random read or write IOPS against one iSCSI LUN with libiscsi,
 * many commands in flight on one session. The write counterpart of
 * libiscsi's iscsi-perf (which only reads); used by bench/bench_iops.sh.
 *
 *   iscsi_iops [-w] [-q DEPTH] [-s BYTES] [-t SECONDS] [-i IQN] URL
 *
 * Offsets are random and aligned to the request size. Prints one line:
 * "iops N ios N seconds S". Exit 0 on success, 1 on usage errors, 2 on any
 * failed command or connection error.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

struct bench {
	struct iscsi_context *iscsi;
	int lun;
	bool write;
	uint32_t bs;          /* logical block size */
	uint32_t xfer;        /* bytes per command */
	uint64_t slots;       /* number of xfer-sized slots on the LUN */
	uint64_t rng;
	unsigned depth;
	unsigned in_flight;
	uint64_t done;
	bool stopping;
	bool failed;
	unsigned char *wbuf;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t next_rand(struct bench *b)
{
	/* xorshift64* */
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1dull;
}

static int submit(struct bench *b);

static void on_done(struct iscsi_context *iscsi, int status, void *data,
		    void *priv)
{
	struct bench *b = priv;
	struct scsi_task *task = data;

	if (status != SCSI_STATUS_GOOD) {
		if (!b->failed)
			fprintf(stderr, "iscsi_iops: %s failed: status %d, %s\n",
				b->write ? "WRITE(16)" : "READ(16)", status,
				iscsi_get_error(iscsi));
		b->failed = true;
	}
	if (task)
		scsi_free_scsi_task(task);
	b->in_flight--;
	b->done++;
	if (!b->stopping && !b->failed && submit(b) != 0)
		b->failed = true;
}

static int submit(struct bench *b)
{
	uint64_t lba = (next_rand(b) % b->slots) * (b->xfer / b->bs);
	struct scsi_task *task;

	if (b->write)
		task = iscsi_write16_task(b->iscsi, b->lun, lba, b->wbuf, b->xfer,
					  (int)b->bs, 0, 0, 0, 0, 0, on_done, b);
	else
		task = iscsi_read16_task(b->iscsi, b->lun, lba, b->xfer,
					 (int)b->bs, 0, 0, 0, 0, 0, on_done, b);
	if (!task) {
		fprintf(stderr, "iscsi_iops: cannot queue a command: %s\n",
			iscsi_get_error(b->iscsi));
		return -ENOMEM;
	}
	b->in_flight++;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: iscsi_iops [-w] [-q DEPTH] [-s BYTES] [-t SECONDS] [-i IQN] URL\n"
		"  -w          random writes (default: random reads)\n"
		"  -q DEPTH    commands in flight (default 32)\n"
		"  -s BYTES    bytes per command, a multiple of the block size (default 4096)\n"
		"  -t SECONDS  run time (default 10)\n"
		"  -i IQN      initiator name\n");
}

static int connect_lun(struct bench *b, const char *ini, const char *url)
{
	struct iscsi_url *u;
	struct scsi_task *task;
	struct scsi_readcapacity16 *rc;

	b->iscsi = iscsi_create_context(ini);
	if (!b->iscsi)
		return -ENOMEM;
	u = iscsi_parse_full_url(b->iscsi, url);
	if (!u) {
		fprintf(stderr, "iscsi_iops: bad URL %s: %s\n", url,
			iscsi_get_error(b->iscsi));
		return -EINVAL;
	}
	iscsi_set_targetname(b->iscsi, u->target);
	iscsi_set_session_type(b->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(b->iscsi, ISCSI_HEADER_DIGEST_NONE);
	if (iscsi_full_connect_sync(b->iscsi, u->portal, u->lun) != 0) {
		fprintf(stderr, "iscsi_iops: login to %s failed: %s\n", url,
			iscsi_get_error(b->iscsi));
		iscsi_destroy_url(u);
		return -ECONNREFUSED;
	}
	b->lun = u->lun;
	iscsi_destroy_url(u);

	task = iscsi_readcapacity16_sync(b->iscsi, b->lun);
	if (!task || task->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "iscsi_iops: READ CAPACITY(16) failed\n");
		if (task)
			scsi_free_scsi_task(task);
		return -EIO;
	}
	rc = scsi_datain_unmarshall(task);
	if (!rc || rc->block_length == 0 || b->xfer % rc->block_length) {
		fprintf(stderr, "iscsi_iops: unusable block size\n");
		scsi_free_scsi_task(task);
		return -EINVAL;
	}
	b->bs = rc->block_length;
	b->slots = (rc->returned_lba + 1) * b->bs / b->xfer;
	scsi_free_scsi_task(task);
	if (b->slots == 0) {
		fprintf(stderr, "iscsi_iops: LUN smaller than one request\n");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .depth = 32, .xfer = 4096 };
	const char *ini = "iqn.2026-11.io.prpath:bench-iops";
	unsigned long v, secs = 10;
	uint64_t t0, t1, deadline;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "wq:s:t:i:h")) != -1) {
		switch (c) {
		case 'w':
			b.write = true;
			break;
		case 'q':
			if (parse_uint(optarg, 1024, &v))
				goto bad;
			b.depth = (unsigned)v;
			break;
		case 's':
			if (parse_uint(optarg, 1u << 24, &v))
				goto bad;
			b.xfer = (uint32_t)v;
			break;
		case 't':
			if (parse_uint(optarg, 3600, &v))
				goto bad;
			secs = v;
			break;
		case 'i':
			ini = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1)
		goto bad;

	b.rng = now_ns() | 1;
	if (connect_lun(&b, ini, argv[optind]) != 0) {
		rc = 2;
		goto out;
	}
	if (b.write) {
		b.wbuf = malloc(b.xfer);
		if (!b.wbuf) {
			rc = 2;
			goto out;
		}
		memset(b.wbuf, 0xa5, b.xfer);
	}

	t0 = now_ns();
	deadline = t0 + (uint64_t)secs * 1000000000ull;
	while (b.in_flight < b.depth && !b.failed)
		if (submit(&b) != 0)
			b.failed = true;
	while (b.in_flight > 0) {
		struct pollfd pfd;

		if (!b.stopping && now_ns() >= deadline)
			b.stopping = true;
		pfd.fd = iscsi_get_fd(b.iscsi);
		pfd.events = (short)iscsi_which_events(b.iscsi);
		if (poll(&pfd, 1, 100) < 0) {
			if (errno == EINTR)
				continue;
			b.failed = true;
			break;
		}
		if (iscsi_service(b.iscsi, pfd.revents) < 0) {
			fprintf(stderr, "iscsi_iops: connection error: %s\n",
				iscsi_get_error(b.iscsi));
			b.failed = true;
			break;
		}
	}
	t1 = now_ns();
	if (b.failed) {
		rc = 2;
		goto out;
	}
	printf("iops %llu ios %llu seconds %.3f\n",
	       (unsigned long long)(b.done * 1000000000ull / (t1 - t0)),
	       (unsigned long long)b.done, (double)(t1 - t0) / 1e9);
	iscsi_logout_sync(b.iscsi);
out:
	if (b.iscsi)
		iscsi_destroy_context(b.iscsi);
	free(b.wbuf);
	return rc;
bad:
	usage();
	return 1;
}
