/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker pool (util/pool.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "util/pool.h"

struct pool_job {
	struct pool_job *next;
	void (*fn)(void *arg);
	void *arg;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static struct pool_job *queue_head, **queue_tail = &queue_head;
static unsigned nqueued;   /* jobs waiting for a worker */
static unsigned nidle;     /* workers waiting for a job */

/* fork(): the child has none of the parent's workers */
static void pool_atfork_child(void)
{
	pthread_mutex_init(&pool_lock, NULL);
	pthread_cond_init(&pool_cond, NULL);
	/* queued jobs belonged to threads that do not exist here */
	queue_head = NULL;
	queue_tail = &queue_head;
	nqueued = 0;
	nidle = 0;
}

static void pool_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pool_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_atfork(NULL, NULL, pool_atfork_child);
}

static void *pool_worker(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		struct pool_job *j;

		while (!queue_head) {
			struct timespec until;
			int rc;

			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += PP_POOL_IDLE_S;
			nidle++;
			rc = pthread_cond_timedwait(&pool_cond, &pool_lock, &until);
			nidle--;
			if (rc == ETIMEDOUT && !queue_head) {
				pthread_mutex_unlock(&pool_lock);
				return NULL;
			}
		}
		j = queue_head;
		queue_head = j->next;
		if (!queue_head)
			queue_tail = &queue_head;
		nqueued--;
		pthread_mutex_unlock(&pool_lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&pool_lock);
	}
}

int pp_pool_run(void (*fn)(void *arg), void *arg)
{
	struct pool_job *j;
	bool spawn;
	int rc = 0;

	if (!fn)
		return -EINVAL;
	pthread_once(&pool_once, pool_init);
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->next = NULL;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&pool_lock);
	/* more jobs waiting than workers waiting: one more worker */
	spawn = nqueued + 1 > nidle;
	if (spawn) {
		pthread_attr_t attr;
		pthread_t t;

		rc = pthread_attr_init(&attr);
		if (rc == 0) {
			pthread_attr_setstacksize(&attr, PP_POOL_STACK);
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
			rc = pthread_create(&t, &attr, pool_worker, NULL);
			pthread_attr_destroy(&attr);
		}
		if (rc && nidle <= nqueued) {
			/* no new worker, and none free for this job */
			pthread_mutex_unlock(&pool_lock);
			free(j);
			return -rc;
		}
	}
	*queue_tail = j;
	queue_tail = &j->next;
	nqueued++;
	pthread_cond_signal(&pool_cond);
	pthread_mutex_unlock(&pool_lock);
	return 0;
}
