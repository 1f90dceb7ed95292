/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Groups of LUs (include/prpath/group.h): the arbiter first, then every
 * other LU at once, one thread per LU (each device already keeps its paths'
 * commands in flight together), and all or nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <prpath/group.h>

#define GROUP_THREAD_STACK (256u * 1024u)
#define SETTLE_MIN_US 100000
#define SETTLE_MAX_US 2000000

enum group_job { JOB_OPEN, JOB_RELEASE };

struct group_run {
	struct prpath_dev *dev;
	enum group_job job;
	enum prpath_open_mode mode;
	unsigned flags;
	int rc;
};

/* Gives up what this host holds on one LU: close (a device opened with
 * RETAIN sends nothing), then release as prpath release does, or only
 * unregister when nothing is reserved by this host. */
static int release_one(struct prpath_dev *d)
{
	int rc;

	prpath_dev_close(d);
	rc = prpath_dev_release(d);
	if (rc == PRPATH_ERR_NOT_HOLDER || rc == PRPATH_ERR_RESERVED)
		rc = prpath_dev_unregister(d);
	return rc;
}

static void *run_one(void *arg)
{
	struct group_run *r = arg;

	r->rc = r->job == JOB_OPEN ? prpath_dev_open(r->dev, r->mode, r->flags)
				   : release_one(r->dev);
	return NULL;
}

/* Runs every entry of @runs at once (a thread each; one that cannot get a
 * thread runs here, after the others started) and waits for all. */
static void run_all(struct group_run *runs, size_t n)
{
	pthread_t *tids = calloc(n ? n : 1, sizeof(*tids));
	bool *started = calloc(n ? n : 1, sizeof(*started));
	pthread_attr_t attr;
	bool attr_ok;
	size_t i;

	attr_ok = pthread_attr_init(&attr) == 0;
	if (attr_ok)
		pthread_attr_setstacksize(&attr, GROUP_THREAD_STACK);
	for (i = 0; i < n; i++)
		if (tids && started && n > 1 &&
		    pthread_create(&tids[i], attr_ok ? &attr : NULL, run_one,
				   &runs[i]) == 0)
			started[i] = true;
	for (i = 0; i < n; i++)
		if (!started || !started[i])
			run_one(&runs[i]);
	for (i = 0; i < n; i++)
		if (started && started[i])
			pthread_join(tids[i], NULL);
	if (attr_ok)
		pthread_attr_destroy(&attr);
	free(tids);
	free(started);
}

static int64_t us_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000;
}

static void sleep_us(int64_t us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Releases devs[i] for every i with @taken[i], all at once. */
static void give_back(struct prpath_dev *const *devs, size_t n, const bool *taken)
{
	struct group_run *runs = calloc(n, sizeof(*runs));
	size_t i, k = 0;

	if (!runs) {
		for (i = 0; i < n; i++)
			if (taken[i])
				release_one(devs[i]);
		return;
	}
	for (i = 0; i < n; i++)
		if (taken[i])
			runs[k++] = (struct group_run){ .dev = devs[i], .job = JOB_RELEASE };
	run_all(runs, k);
	free(runs);
}

int prpath_group_open(struct prpath_dev *const *devs, size_t n,
		      enum prpath_open_mode mode, unsigned flags,
		      unsigned settle_ms, size_t *failed)
{
	struct group_run *runs;
	struct timespec t0;
	bool *taken;
	size_t i, bad = 0;
	int rc = 0;

	if (failed)
		*failed = 0;
	if (!devs || n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!devs[i])
			return -EINVAL;
	runs = calloc(n, sizeof(*runs));
	taken = calloc(n, sizeof(*taken));
	if (!runs || !taken) {
		free(runs);
		free(taken);
		return -ENOMEM;
	}

	/* the arbiter, alone */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = prpath_dev_open(devs[0], mode, flags);
	if (rc)
		goto out;
	taken[0] = true;
	if (mode == PRPATH_MODE_FORCE && settle_ms) {
		struct prpath_dev_status ds;
		int64_t us;

		if (settle_ms == PRPATH_GROUP_SETTLE_AUTO) {
			us = 2 * us_since(&t0);
			us = us < SETTLE_MIN_US ? SETTLE_MIN_US :
			     us > SETTLE_MAX_US ? SETTLE_MAX_US : us;
		} else {
			us = (int64_t)settle_ms * 1000;
		}
		sleep_us(us);
		if (prpath_dev_status(devs[0], &ds, NULL, 0) != 0 ||
		    !ds.device_valid || !ds.we_hold) {
			/* a rival's PREEMPT landed after ours */
			rc = PRPATH_ERR_RESERVED;
			goto out;
		}
	}

	/* every other LU at once */
	for (i = 1; i < n; i++)
		runs[i] = (struct group_run){ .dev = devs[i], .job = JOB_OPEN,
					      .mode = mode, .flags = flags };
	run_all(runs + 1, n - 1);
	for (i = 1; i < n; i++) {
		if (runs[i].rc == 0)
			taken[i] = true;
		else if (!rc) {
			rc = runs[i].rc;
			bad = i;
		}
	}
out:
	if (rc) {
		/* all or nothing: what was taken goes back (a device whose
		 * open failed has undone its own registrations) */
		give_back(devs, n, taken);
		if (failed)
			*failed = bad;
	}
	free(runs);
	free(taken);
	return rc;
}

int prpath_group_release(struct prpath_dev *const *devs, size_t n,
			 size_t *failed)
{
	struct group_run *runs;
	size_t i;
	int rc = 0;

	if (failed)
		*failed = 0;
	if (!devs || n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!devs[i])
			return -EINVAL;
	runs = calloc(n, sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		runs[i] = (struct group_run){ .dev = devs[i], .job = JOB_RELEASE };
	run_all(runs, n);
	for (i = 0; i < n; i++)
		if (runs[i].rc && !rc) {
			rc = runs[i].rc;
			if (failed)
				*failed = i;
		}
	free(runs);
	return rc;
}
