/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In-process transport: one path = one I_T nexus on a prpath device server
 * LU, with fault injection (latency, path down/up, host pause, scripted
 * failures).
 *
 * Life of a command on a path:
 *   1. a scripted failure (pp_sim_fail_next) completes it at once;
 *   2. it enters the LU's task set (prpath_cmd_queue);
 *   3. it is held while the host is paused;
 *   4. the latency elapses (a condition-variable wait, so going down cuts
 *      it short);
 *   5. it executes. PRPATH_LU_ABORTED (another initiator's PREEMPT AND
 *      ABORT, task management) means the target never answers: the
 *      initiator sees a timeout, -ETIMEDOUT.
 *
 * Locking: p->lock protects every field below it. The nexus handle is used
 * outside the lock while a command executes; p->users counts those
 * commands (and the ones waiting in steps 3-4), and the nexus is closed only
 * once it drops to zero.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <prpath/scsi.h>
#include "host/sim.h"

struct pp_sim_path {
	struct pp_conn conn; /* first: pp_conn <-> path */
	struct prpath_lu *lu;
	char port_name[PRPATH_PORT_NAME_MAX];
	uint16_t rtp;
	char desc[PRPATH_PORT_NAME_MAX + 32];

	pthread_mutex_t lock;
	pthread_cond_t cond;          /* any state change below */
	struct prpath_nexus *nx;      /* NULL while down / not reconnected */
	unsigned latency_us;
	bool down;
	bool closing;
	uint64_t epoch;               /* bumped when the path goes down */
	bool paused;
	unsigned held;
	unsigned users;               /* commands holding nx */
	unsigned fail_n;
	uint8_t fail_status, fail_key, fail_asc, fail_ascq;
	int fail_err;
	unsigned long ncmds;
};

static const struct pp_transport_ops sim_ops;

/* Slice of any wait, so nothing blocks on a single unbounded wait. */
#define SIM_WAIT_SLICE_MS 200

static void ts_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static void ts_add_us(struct timespec *ts, uint64_t us)
{
	ts->tv_sec += (time_t)(us / 1000000u);
	ts->tv_nsec += (long)(us % 1000000u) * 1000;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Waits on p->cond until @deadline at the latest (lock held). */
static void sim_wait_until(struct pp_sim_path *p, const struct timespec *deadline)
{
	pthread_cond_timedwait(&p->cond, &p->lock, deadline);
}

static void sim_wait_slice(struct pp_sim_path *p)
{
	struct timespec dl;

	ts_now(&dl);
	ts_add_us(&dl, SIM_WAIT_SLICE_MS * 1000u);
	sim_wait_until(p, &dl);
}

/* Drops one user of the nexus (lock held). */
static void sim_put_user(struct pp_sim_path *p)
{
	p->users--;
	pthread_cond_broadcast(&p->cond);
}

/* Closes the nexus once no command uses it (lock held; waits). */
static void sim_close_nexus_locked(struct pp_sim_path *p)
{
	struct prpath_nexus *nx;

	while (p->users)
		sim_wait_slice(p);
	nx = p->nx;
	p->nx = NULL;
	if (nx)
		prpath_lu_nexus_close(nx);
}

/* A queued command that will never execute (the path went down, the
 * initiator gave up) leaves the LU's task set, as a target drops the tasks
 * of a lost nexus. */
static void sim_task_drop(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	prpath_cmd_dequeue(nx, cmd);
}

static int sim_execute(struct pp_conn *c, struct pp_io *io)
{
	struct pp_sim_path *p = (struct pp_sim_path *)c;
	struct prpath_cmd cmd;
	struct prpath_nexus *nx;
	struct timespec start, deadline, now;
	uint64_t epoch;
	uint64_t wait_us;
	bool timed_out = false;
	int rc;

	if (!io || io->cdb_len == 0 || io->cdb_len > sizeof(io->cdb))
		return -EINVAL;
	io->din_len = 0;
	io->status = 0;
	io->sense_len = 0;

	pthread_mutex_lock(&p->lock);
	if (p->down || p->closing || !p->nx) {
		pthread_mutex_unlock(&p->lock);
		return -ENOTCONN;
	}
	if (p->fail_n) {
		uint8_t st = p->fail_status, key = p->fail_key;
		uint8_t asc = p->fail_asc, ascq = p->fail_ascq;
		int err = p->fail_err;

		p->fail_n--;
		pthread_mutex_unlock(&p->lock);
		if (st == 0 && key == 0)
			return err < 0 ? err : -EIO;
		io->status = st;
		if (st == PRPATH_SCSI_STATUS_CHECK_CONDITION || key) {
			rc = prpath_sense_build_fixed(io->sense, sizeof(io->sense),
						      key, asc, ascq);
			io->sense_len = rc > 0 ? (size_t)rc : 0;
		}
		return 0;
	}

	nx = p->nx;
	epoch = p->epoch;
	p->users++;

	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb = io->cdb;
	cmd.cdb_len = io->cdb_len;
	cmd.data_out = io->dout;
	cmd.data_out_len = io->dout ? io->dout_len : 0;
	cmd.data_in = io->din;
	cmd.data_in_cap = io->din ? io->din_cap : 0;
	/* Enters the task set now: an abort from here on catches it. */
	prpath_cmd_queue(nx, &cmd);

	/* Host pause: held until resumed (or the path goes down). */
	if (p->paused) {
		p->held++;
		pthread_cond_broadcast(&p->cond);
		while (p->paused && p->epoch == epoch && !p->closing)
			sim_wait_slice(p);
		p->held--;
	}

	/* Latency, cut short when the path goes down. An io timeout shorter
	 * than the latency expires first: the command never executes. */
	wait_us = p->latency_us;
	if (io->timeout_ms && wait_us > (uint64_t)io->timeout_ms * 1000u) {
		wait_us = (uint64_t)io->timeout_ms * 1000u;
		timed_out = true;
	}
	if (wait_us) {
		ts_now(&start);
		deadline = start;
		ts_add_us(&deadline, wait_us);
		for (;;) {
			if (p->epoch != epoch || p->closing)
				break;
			ts_now(&now);
			if (!ts_before(&now, &deadline))
				break;
			sim_wait_until(p, &deadline);
		}
	}
	if (p->epoch != epoch || p->closing || timed_out) {
		rc = timed_out && p->epoch == epoch && !p->closing ? -ETIMEDOUT
								   : -ENOTCONN;
		pthread_mutex_unlock(&p->lock);
		sim_task_drop(nx, &cmd);
		pthread_mutex_lock(&p->lock);
		sim_put_user(p);
		pthread_mutex_unlock(&p->lock);
		return rc;
	}
	p->ncmds++;
	pthread_mutex_unlock(&p->lock);

	rc = prpath_lu_execute(nx, &cmd);

	pthread_mutex_lock(&p->lock);
	sim_put_user(p);
	pthread_mutex_unlock(&p->lock);

	if (rc == PRPATH_LU_ABORTED)
		return -ETIMEDOUT; /* the target sent no response */
	if (rc < 0)
		return rc;
	io->status = cmd.status;
	io->din_len = cmd.data_in_len;
	if (cmd.sense_len) {
		size_t n = cmd.sense_len;

		if (n > sizeof(io->sense))
			n = sizeof(io->sense);
		memcpy(io->sense, cmd.sense, n);
		io->sense_len = n;
	}
	return 0;
}

static int sim_reconnect(struct pp_conn *c)
{
	struct pp_sim_path *p = (struct pp_sim_path *)c;
	struct prpath_nexus *nx = NULL;
	int rc;

	pthread_mutex_lock(&p->lock);
	if (p->down || p->closing) {
		pthread_mutex_unlock(&p->lock);
		return -ENOTCONN;
	}
	if (p->nx) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	rc = prpath_lu_nexus_open(p->lu, p->port_name, p->rtp, &nx);
	if (rc == 0)
		p->nx = nx;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static void sim_close(struct pp_conn *c)
{
	struct pp_sim_path *p = (struct pp_sim_path *)c;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	p->epoch++;
	pthread_cond_broadcast(&p->cond);
	sim_close_nexus_locked(p);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const char *sim_describe(const struct pp_conn *c)
{
	const struct pp_sim_path *p = (const struct pp_sim_path *)c;

	return p->desc;
}

static const char *sim_port_name(const struct pp_conn *c)
{
	return ((const struct pp_sim_path *)c)->port_name;
}

static const struct pp_transport_ops sim_ops = {
	.name = "sim",
	.execute = sim_execute,
	.reconnect = sim_reconnect,
	.close = sim_close,
	.describe = sim_describe,
	.port_name = sim_port_name,
};

int pp_sim_open(struct prpath_lu *lu, const char *port_name,
		uint16_t rel_tgt_port, struct pp_sim_path **out)
{
	struct pp_sim_path *p;
	pthread_condattr_t ca;
	size_t len;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!lu || !port_name)
		return -EINVAL;
	len = strlen(port_name);
	if (len == 0 || len >= PRPATH_PORT_NAME_MAX)
		return -EINVAL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->conn.ops = &sim_ops;
	p->lu = lu;
	memcpy(p->port_name, port_name, len + 1);
	p->rtp = rel_tgt_port;
	snprintf(p->desc, sizeof(p->desc), "sim:%s@%u", port_name,
		 (unsigned)rel_tgt_port);

	rc = pthread_mutex_init(&p->lock, NULL);
	if (rc) {
		free(p);
		return -rc;
	}
	rc = pthread_condattr_init(&ca);
	if (!rc) {
		rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (!rc)
			rc = pthread_cond_init(&p->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (rc) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return -rc;
	}

	rc = prpath_lu_nexus_open(lu, p->port_name, rel_tgt_port, &p->nx);
	if (rc < 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

struct pp_conn *pp_sim_conn(struct pp_sim_path *p)
{
	return p ? &p->conn : NULL;
}

struct pp_sim_path *pp_sim_from_conn(struct pp_conn *c)
{
	if (!c || c->ops != &sim_ops)
		return NULL;
	return (struct pp_sim_path *)c;
}

void pp_sim_set_latency(struct pp_sim_path *p, unsigned usec)
{
	pthread_mutex_lock(&p->lock);
	p->latency_us = usec;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pp_sim_set_down(struct pp_sim_path *p, bool down)
{
	pthread_mutex_lock(&p->lock);
	if (down && !p->down) {
		p->down = true;
		p->epoch++;
		pthread_cond_broadcast(&p->cond);
		/* I_T nexus loss, once the commands using it are gone. */
		sim_close_nexus_locked(p);
	} else if (!down) {
		p->down = false;
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pp_sim_pause(struct pp_sim_path *p)
{
	pthread_mutex_lock(&p->lock);
	p->paused = true;
	pthread_mutex_unlock(&p->lock);
}

void pp_sim_resume(struct pp_sim_path *p)
{
	pthread_mutex_lock(&p->lock);
	p->paused = false;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pp_sim_fail_next(struct pp_sim_path *p, unsigned n, uint8_t status,
		      uint8_t key, uint8_t asc, uint8_t ascq, int err)
{
	pthread_mutex_lock(&p->lock);
	p->fail_n = n;
	p->fail_status = status;
	p->fail_key = key;
	p->fail_asc = asc;
	p->fail_ascq = ascq;
	p->fail_err = err;
	pthread_mutex_unlock(&p->lock);
}

unsigned long pp_sim_commands(struct pp_sim_path *p)
{
	unsigned long n;

	pthread_mutex_lock(&p->lock);
	n = p->ncmds;
	pthread_mutex_unlock(&p->lock);
	return n;
}

int pp_sim_wait_held(struct pp_sim_path *p, unsigned n, unsigned timeout_ms)
{
	struct timespec deadline, now;
	int rc = 0;

	ts_now(&deadline);
	ts_add_us(&deadline, (uint64_t)timeout_ms * 1000u);
	pthread_mutex_lock(&p->lock);
	while (p->held < n) {
		ts_now(&now);
		if (!ts_before(&now, &deadline)) {
			rc = -ETIMEDOUT;
			break;
		}
		sim_wait_until(p, &deadline);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}
