/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Groups of LUs (include/prpath/group.h): the arbiter first, then every
 * other LU at once, a pool worker per LU (each device already keeps its paths'
 * commands in flight together), and all or nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <prpath/group.h>

#include "util/pool.h"

#define SETTLE_MIN_US 100000
#define SETTLE_MAX_US 2000000

enum group_kind { JOB_OPEN, JOB_RELEASE };

struct group_run {
	struct prpath_dev *dev;
	enum group_kind job;
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

static void run_one(struct group_run *r)
{
	r->rc = r->job == JOB_OPEN ? prpath_dev_open(r->dev, r->mode, r->flags)
				   : release_one(r->dev);
}

/* Jobs of one run_all() on the worker pool, and their count. */
struct group_all {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t left;
};

struct group_job {
	struct group_all *all;
	struct group_run *run;
};

static void run_pooled(void *arg)
{
	struct group_job *j = arg;
	struct group_all *all = j->all;

	run_one(j->run);
	pthread_mutex_lock(&all->lock);
	if (--all->left == 0)
		pthread_cond_broadcast(&all->cond);
	pthread_mutex_unlock(&all->lock);
}

/* Runs every entry of @runs at once (on the worker pool; one that cannot
 * get a worker runs here, after the others started) and waits for all. */
static void run_all(struct group_run *runs, size_t n)
{
	struct group_job *jobs = n > 1 ? calloc(n, sizeof(*jobs)) : NULL;
	struct group_all all = { .left = 0 };
	bool *here = n > 1 ? calloc(n, sizeof(*here)) : NULL;
	size_t i;

	if (!jobs || !here) {
		free(jobs);
		free(here);
		for (i = 0; i < n; i++)
			run_one(&runs[i]);
		return;
	}
	pthread_mutex_init(&all.lock, NULL);
	pthread_cond_init(&all.cond, NULL);
	pthread_mutex_lock(&all.lock);
	all.left = n;
	pthread_mutex_unlock(&all.lock);
	for (i = 0; i < n; i++) {
		jobs[i] = (struct group_job){ .all = &all, .run = &runs[i] };
		if (pp_pool_run(run_pooled, &jobs[i]) != 0)
			here[i] = true;
	}
	for (i = 0; i < n; i++)
		if (here[i])
			run_pooled(&jobs[i]);
	pthread_mutex_lock(&all.lock);
	while (all.left)
		pthread_cond_wait(&all.cond, &all.lock);
	pthread_mutex_unlock(&all.lock);
	pthread_mutex_destroy(&all.lock);
	pthread_cond_destroy(&all.cond);
	free(jobs);
	free(here);
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

/* Clears *@failed; a group is at least one device, none of them NULL. */
static bool args_ok(struct prpath_dev *const *devs, size_t n, size_t *failed)
{
	size_t i;

	if (failed)
		*failed = 0;
	if (!devs || n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!devs[i])
			return false;
	return true;
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

	if (!args_ok(devs, n, failed))
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

	if (!args_ok(devs, n, failed))
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
