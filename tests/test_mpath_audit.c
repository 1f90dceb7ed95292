/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Audit tests of the multipath device's safety rules on prpath's own
 * device server (pp_sim), each one a scenario that broke a rule of
 * docs/design/MODES-AND-SAFETY.md before it was fixed:
 *
 *  - reopening over our own retained reservation while another host takes
 *    the LU over must not re-register the fenced key (data loss: a
 *    registrant may write under a registrants-only reservation);
 *  - our own PREEMPT (a reservation type change) must not leave 2A/05 or
 *    2A/04 unit attentions on our other paths that the first I/O then
 *    reads as "fenced" or "reservation lost";
 *  - two paths re-registered at once must not hide a preemption from each
 *    other (READ KEYS before / after);
 *  - an I/O that chose its path before the device was fenced must not be
 *    sent after it;
 *  - stale unit attentions on a path that was down since before this open
 *    must not fence the device or drop its reservation;
 *  - concurrent I/O, path loss and the path checker (run under TSan);
 *  - close with I/O in flight must not let an I/O re-register K after
 *    close has unregistered it (K left on the LU after a close that
 *    returned 0); I/O on a device that is not open fails with -ESHUTDOWN.
 *
 * Every path goes through a "gate" wrapper around the sim connection so a
 * test can act at an exact command (e.g. let the other host take over just
 * before our REGISTER executes).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <prpath/lu.h>
#include <prpath/mpath.h>
#include <prpath/scsi.h>
#include "host/mpath_int.h"
#include "host/sim.h"

/* The path checker's count of reinstated paths; fails the test unless the
 * checker itself returned 0. */
static unsigned check_count(struct prpath_dev *d)
{
	unsigned n = 99;

	assert_int_equal(prpath_dev_check_paths(d, &n), 0);
	return n;
}

#define NP 4
#define BS 512
#define KA 0xa0a0a0a0a0a0a0a1ULL
#define KB 0xb0b0b0b0b0b0b0b2ULL

struct host;

/* Called before a command executes on a path of @h. Returns true to
 * complete the command with *rc without executing it. */
typedef bool (*gate_hook)(struct host *h, unsigned path, struct pp_io *io,
			  int *rc);

struct gate_conn {
	struct pp_conn conn;
	struct pp_conn *inner;
	struct host *h;
	unsigned path;
};

struct host {
	struct fx *f;
	struct prpath_dev *d;
	struct pp_sim_path *p[NP];
	const char *iqn;
	uint64_t key;
	pthread_mutex_t lock;
	gate_hook hook;
	void *hook_arg;
	unsigned nfenced, nlost;
	unsigned long sent[NP];         /* commands handed to the sim */
};

struct fx {
	struct prpath_lu *lu;
	struct prpath_ctx *ctx;
	struct host a, b;
};

static int gate_execute(struct pp_conn *c, struct pp_io *io)
{
	struct gate_conn *g = (struct gate_conn *)c;
	struct host *h = g->h;
	gate_hook hook;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	hook = h->hook;
	pthread_mutex_unlock(&h->lock);
	if (hook && hook(h, g->path, io, &rc))
		return rc;
	pthread_mutex_lock(&h->lock);
	h->sent[g->path]++;
	pthread_mutex_unlock(&h->lock);
	return pp_execute(g->inner, io);
}

static int gate_reconnect(struct pp_conn *c)
{
	struct gate_conn *g = (struct gate_conn *)c;

	return g->inner->ops->reconnect(g->inner);
}

static void gate_close(struct pp_conn *c)
{
	struct gate_conn *g = (struct gate_conn *)c;

	g->inner->ops->close(g->inner);
	free(g);
}

static const char *gate_describe(const struct pp_conn *c)
{
	const struct gate_conn *g = (const struct gate_conn *)c;

	return g->inner->ops->describe(g->inner);
}

static const struct pp_transport_ops gate_ops = {
	.name = "gate",
	.execute = gate_execute,
	.reconnect = gate_reconnect,
	.close = gate_close,
	.describe = gate_describe,
};

static void set_hook(struct host *h, gate_hook hook, void *arg)
{
	pthread_mutex_lock(&h->lock);
	h->hook = hook;
	h->hook_arg = arg;
	pthread_mutex_unlock(&h->lock);
}

static unsigned long sent(struct host *h, unsigned path)
{
	unsigned long n;

	pthread_mutex_lock(&h->lock);
	n = h->sent[path];
	pthread_mutex_unlock(&h->lock);
	return n;
}

static void on_event(void *arg, struct prpath_dev *dev, const struct prpath_event *ev)
{
	struct host *h = arg;

	(void)dev;
	pthread_mutex_lock(&h->lock);
	if (ev->type == PRPATH_EVENT_FENCED)
		h->nfenced++;
	if (ev->type == PRPATH_EVENT_RESERVATION_LOST)
		h->nlost++;
	pthread_mutex_unlock(&h->lock);
}

static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (getenv("MPATH_TRACE"))
		fprintf(stderr, "[%d] %s\n", level, msg);
}

static void port_name(const struct host *h, unsigned i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s,i,0x00023d00000%u", h->iqn, i + 1);
}

static void host_init(struct fx *f, struct host *h, const char *iqn, uint64_t key)
{
	struct prpath_host hs = { .initiator = iqn, .key = key };
	unsigned i;

	h->f = f;
	h->iqn = iqn;
	h->key = key;
	pthread_mutex_init(&h->lock, NULL);
	assert_int_equal(prpath_dev_new(f->ctx, &hs, &h->d), 0);
	prpath_dev_set_event_cb(h->d, on_event, h);
	for (i = 0; i < NP; i++) {
		struct gate_conn *g = calloc(1, sizeof(*g));
		char port[128];

		assert_non_null(g);
		port_name(h, i, port, sizeof(port));
		assert_int_equal(pp_sim_open(f->lu, port, (uint16_t)(i + 1), &h->p[i]), 0);
		g->conn.ops = &gate_ops;
		g->inner = pp_sim_conn(h->p[i]);
		g->h = h;
		g->path = i;
		assert_int_equal(pp_dev_add_conn(h->d, &g->conn), (int)i);
	}
	assert_int_equal(prpath_dev_probe(h->d), 0);
	assert_int_equal(prpath_dev_block_size(h->d), BS);
}

static int setup(void **state)
{
	static const uint16_t ports[NP] = { 1, 2, 3, 4 };
	struct prpath_lu_config cfg = {
		.size = 1 << 20, .block_size = BS,
		.target_ports = ports, .ntarget_ports = NP,
	};
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(prpath_lu_new(&cfg, &f->lu), 0);
	assert_int_equal(prpath_ctx_new(&f->ctx), 0);
	prpath_ctx_set_log(f->ctx, on_log, NULL, 2);
	host_init(f, &f->a, "iqn.2024-01.test:host-a", KA);
	host_init(f, &f->b, "iqn.2024-01.test:host-b", KB);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	prpath_dev_free(f->a.d);
	prpath_dev_free(f->b.d);
	prpath_ctx_free(f->ctx);
	prpath_lu_free(f->lu);
	pthread_mutex_destroy(&f->a.lock);
	pthread_mutex_destroy(&f->b.lock);
	free(f);
	return 0;
}

static struct prpath_dev_status status(struct host *h, struct prpath_path_status *ps)
{
	struct prpath_dev_status st;

	assert_int_equal(prpath_dev_status(h->d, &st, ps, ps ? NP : 0), 0);
	assert_true(st.device_valid);
	return st;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool is_prout(const struct pp_io *io, unsigned sa)
{
	return io->cdb[0] == 0x5f && (io->cdb[1] & 0x1f) == sa;
}

static bool is_write(const struct pp_io *io)
{
	return io->cdb[0] == 0x2a || io->cdb[0] == 0x8a;
}

/* the SERVICE ACTION RESERVATION KEY of a PR OUT's parameter list */
static uint64_t io_sark(const struct pp_io *io)
{
	const uint8_t *b = io->dout;
	uint64_t v = 0;
	unsigned i;

	if (!b || io->dout_len < 16)
		return 0;
	for (i = 8; i < 16; i++)
		v = (v << 8) | b[i];
	return v;
}

/* Writes one block through every path of @h in turn: each must succeed. */
static void write_every_path(struct host *h, uint64_t lba, uint8_t v)
{
	uint8_t buf[BS];
	unsigned i;

	memset(buf, v, sizeof(buf));
	for (i = 0; i < NP; i++) {
		int rc = prpath_dev_write(h->d, lba + i, 1, buf, (int)i);

		if (rc)
			fail_msg("write via path %u: %s (%d)", i, prpath_strerror(rc), rc);
	}
}

static void assert_block(struct host *h, uint64_t lba, uint8_t v)
{
	uint8_t buf[BS];
	unsigned i;

	assert_int_equal(prpath_dev_read(h->d, lba, 1, buf, -1), 0);
	for (i = 0; i < BS; i++)
		if (buf[i] != v)
			fail_msg("block %llu byte %u: 0x%02x, expected 0x%02x",
				 (unsigned long long)lba, i, buf[i], v);
}

/* ---- reopen over our retained reservation, raced by a takeover -------------- */

static bool takeover_before_full_status(struct host *h, unsigned path,
					struct pp_io *io, int *rc)
{
	struct host *b = h->hook_arg;

	(void)path;
	(void)rc;
	if (io->cdb[0] != 0x5e || (io->cdb[1] & 0x1f) != PRPATH_PR_IN_READ_FULL_STATUS)
		return false;
	/* once: the other host takes the LU over right now */
	set_hook(h, NULL, NULL);
	assert_int_equal(prpath_dev_open(b->d, PRPATH_MODE_FORCE, 0), 0);
	return false;
}

static void test_retained_reopen_raced_takeover(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;
	uint8_t buf[BS];
	int rc;

	/* A holds the LU and keeps it over a close (a process restart) */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_RETAIN), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_true(st.reserved && st.holder_key == KA);

	/* A reopens; READ RESERVATION still shows A (already held), and then
	 * B takes over before A looks at which paths carry its key: A finds
	 * itself fenced and registers nothing */
	set_hook(&f->a, takeover_before_full_status, &f->b);
	rc = prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0);
	set_hook(&f->a, NULL, NULL);
	assert_int_equal(rc, PRPATH_ERR_FENCED);

	/* B holds the LU, and A's key is not registered again behind B */
	st = status(&f->b, NULL);
	assert_true(st.reserved);
	assert_true(st.holder_key == KB);
	assert_int_equal(st.nkey_registrations, NP);
	assert_int_equal(st.nregistrations, NP);
	memset(buf, 0xbb, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->b.d, 7, 1, buf, -1), 0);
	/* A cannot write (noreserve, unregistered: a conflict) */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_NORESERVE, 0), 0);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 7, 1, buf, -1), PRPATH_ERR_CONFLICT);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	assert_block(&f->b, 7, 0xbb);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
}

/* ---- our own PREEMPT must not fence or unreserve our other paths ------------ */

/* ---- a write that timed out must not land after its retry (issue 8 #7) ----- */

/* The first WRITE on path 0 "times out": the host sees no answer, but its
 * bytes are held (as by the network) and delivered to path 0's nexus later,
 * after the retry and after a newer write to the same block. */
static struct {
	bool have;
	struct pp_io io;
	uint8_t data[BS];
} held;

static bool hold_first_write_on_path0(struct host *h, unsigned path,
				      struct pp_io *io, int *rc)
{
	(void)h;
	if (path != 0 || !is_write(io) || held.have || io->dout_len != BS)
		return false;
	held.io = *io;
	memcpy(held.data, io->dout, BS);
	held.io.dout = held.data;
	held.have = true;
	*rc = -ETIMEDOUT;
	return true;
}

static void test_timed_out_write_never_lands_late(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;
	struct pp_io late;
	uint8_t buf[BS];
	unsigned i;

	memset(&held, 0, sizeof(held));
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	set_hook(&f->a, hold_first_write_on_path0, NULL);
	memset(buf, 0x11, sizeof(buf));
	/* round robin reaches path 0 within NP writes; that one is retried */
	for (i = 0; i < NP && !held.have; i++)
		assert_int_equal(prpath_dev_write(f->a.d, 5, 1, buf, -1), 0);
	set_hook(&f->a, NULL, NULL);
	assert_true(held.have);
	/* a newer write of the same block, acknowledged */
	memset(buf, 0x22, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 5, 1, buf, -1), 0);
	/* now the first attempt reaches the target on path 0's nexus: it
	 * must not execute */
	late = held.io;
	late.status = 0;
	late.sense_len = 0;
	assert_int_equal(pp_execute(pp_sim_conn(f->a.p[0]), &late), 0);
	/* refused: the nexus's 2A/05 first (a unit attention goes before
	 * anything else), then, like anything else it sends until the
	 * checker registers it again, RESERVATION CONFLICT */
	assert_int_equal(late.status, PRPATH_SCSI_STATUS_CHECK_CONDITION);
	assert_true(late.sense_len >= 14 && (late.sense[2] & 0xf) == 0x6 &&
		    late.sense[12] == 0x2a && late.sense[13] == 0x05);
	late = held.io;
	late.status = 0;
	late.sense_len = 0;
	assert_int_equal(pp_execute(pp_sim_conn(f->a.p[0]), &late), 0);
	assert_int_equal(late.status, PRPATH_SCSI_STATUS_RESERVATION_CONFLICT);
	assert_block(&f->a, 5, 0x22);
	/* the host still holds the LU on its other paths, nothing fenced */
	st = status(&f->a, NULL);
	assert_true(st.we_hold);
	assert_false(st.fenced);
	assert_int_equal(f->a.nfenced, 0);
	/* the checker brings path 0 back, registered, and it carries I/O */
	assert_int_equal(check_count(f->a.d), 1);
	write_every_path(&f->a, 40, 0x33);
	st = status(&f->a, NULL);
	assert_int_equal(st.nkey_registrations, NP);
	assert_int_equal(f->a.nfenced, 0);
	/* B still cannot write */
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_NORESERVE, 0), 0);
	assert_int_equal(prpath_dev_write(f->b.d, 5, 1, buf, -1), PRPATH_ERR_CONFLICT);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
}

/* An open never converts or drops what this host holds: asked for another
 * type or mode, it is refused and the LU stays exactly as it was. */
static void assert_still_wero(struct fx *f)
{
	struct prpath_dev_status st = status(&f->a, NULL);
	uint8_t buf[BS];

	assert_true(st.reserved);
	assert_true(st.holder_key == KA);
	assert_int_equal(st.holder_type, PRPATH_PR_TYPE_WERO);
	assert_int_equal(st.nkey_registrations, NP);
	assert_int_equal(st.nregistrations, NP);
	assert_int_equal(f->a.nfenced, 0);
	assert_int_equal(f->a.nlost, 0);
	/* and B still cannot write */
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_NORESERVE, 0), 0);
	memset(buf, 0xbb, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->b.d, 3, 1, buf, -1), PRPATH_ERR_CONFLICT);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
}

static void test_retained_type_change(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_RETAIN), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	/* reopen asking for EARO, or single (WE): refused, nothing changed */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_EA), PRPATH_ERR_HELD_OTHERWISE);
	assert_still_wero(f);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_SINGLE, 0),
			 PRPATH_ERR_HELD_OTHERWISE);
	assert_still_wero(f);
	/* the same mode and type again: already held, I/O on every path */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	st = status(&f->a, NULL);
	assert_true(st.already_held);
	write_every_path(&f->a, 10, 0x11);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_false(st.reserved);
	assert_int_equal(st.nregistrations, 0);
}

static void test_shared_over_own_reservation(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_RETAIN), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	/* shared (WEAR) over our own WERO: refused, and never a PREEMPT of
	 * our own key that strips our other paths */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_SHARED, 0),
			 PRPATH_ERR_HELD_OTHERWISE);
	assert_still_wero(f);
	/* shared with a registrants-only type: mode and type disagree
	 * (issue 20, item 4), refused before anything is sent */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_SHARED,
					 PRPATH_OPEN_TYPE(PRPATH_PR_TYPE_WERO) | PRPATH_OPEN_RETAIN),
			 -EINVAL);
	assert_still_wero(f);
	/* attach joins what is held */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_ATTACH, 0), 0);
	st = status(&f->a, NULL);
	assert_true(st.already_held);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	assert_still_wero(f);
	/* a shared holder re-running shared: already held, not "reserved by
	 * another host" */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_SHARED, PRPATH_OPEN_RETAIN), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_SHARED, 0), 0);
	st = status(&f->a, NULL);
	assert_true(st.already_held);
	assert_int_equal(st.holder_type, PRPATH_PR_TYPE_WEAR);
	write_every_path(&f->a, 20, 0x22);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_int_equal(st.nregistrations, 0);
	assert_false(st.reserved);
}

static void test_force_own_retained_type_change(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_RETAIN), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_FORCE,
					 PRPATH_OPEN_EA), 0);
	write_every_path(&f->a, 30, 0x33);
	st = status(&f->a, NULL);
	assert_false(st.fenced);
	assert_false(st.reservation_lost);
	assert_int_equal(st.holder_type, PRPATH_PR_TYPE_EARO);
	assert_int_equal(st.nkey_registrations, NP);
	assert_int_equal(f->a.nfenced + f->a.nlost, 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
}

static void test_force_other_type(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;
	unsigned i;

	/* B holds EARO, A takes over with WERO: the PREEMPT changes the
	 * type, and the device server tells every surviving registrant
	 * (A's own paths registered before the PREEMPT) 2A/04 */
	/* READ RESERVATION goes out on path 2 before its REGISTER: slow it
	 * down so that the PREEMPT follows the registrations of paths 1, 3
	 * and 4 */
	pp_sim_set_latency(f->a.p[1], 5000);
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_EA), 0);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_FORCE, 0), 0);
	for (i = 0; i < NP; i++)
		pp_sim_set_latency(f->a.p[i], 0);
	write_every_path(&f->a, 40, 0x44);
	st = status(&f->a, NULL);
	assert_false(st.fenced);
	assert_false(st.reservation_lost);
	assert_true(st.we_hold);
	assert_int_equal(st.holder_type, PRPATH_PR_TYPE_WERO);
	assert_int_equal(f->a.nfenced + f->a.nlost, 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	prpath_dev_close(f->b.d);
}

/* ---- two paths re-registered at once, raced by a takeover -------------------- */

/* Sends one PR OUT on the nexus (port of @h's path @i) behind @h's back. */
static void raw_prout(struct fx *f, struct host *h, unsigned i, unsigned sa,
		      uint64_t rk, uint64_t sark)
{
	struct prpath_prout_params prm = { .rk = rk, .sark = sark };
	struct pp_sim_path *x;
	struct pp_conn *c;
	uint8_t param[24];
	struct pp_io io;
	char port[128];
	int n, rc;

	port_name(h, i, port, sizeof(port));
	assert_int_equal(pp_sim_open(f->lu, port, (uint16_t)(i + 1), &x), 0);
	c = pp_sim_conn(x);
	memset(&io, 0, sizeof(io));
	n = prpath_prout_params_encode(&prm, param, sizeof(param));
	assert_int_equal(n, 24);
	rc = prpath_cdb_pr_out(io.cdb, sizeof(io.cdb), sa, 0, 0, (uint32_t)n);
	assert_true(rc > 0);
	io.cdb_len = (size_t)rc;
	io.dout = param;
	io.dout_len = (size_t)n;
	assert_int_equal(pp_execute(c, &io), 0);
	assert_int_equal(io.status, 0);
	c->ops->close(c);
}

struct race {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned arrived, after;
	bool taking, taken, after_done;
	struct host *b;
};

static void deadline_ms(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Holds A's REGISTERs on paths 2 and 3 until both are about to go out
 * (or 500 ms pass), lets B take over, then lets them go; then holds the
 * READ KEYS that follow them until both have come (or 500 ms pass), so
 * that both REGISTERs are done before either READ KEYS. */
static bool race_hook(struct host *h, unsigned path, struct pp_io *io, int *rc)
{
	struct race *rc_ = h->hook_arg;
	struct timespec dl;
	bool take = false;

	(void)rc;
	if (path != 2 && path != 3)
		return false;
	if (io->cdb[0] == 0x5e && (io->cdb[1] & 0x1f) == PRPATH_PR_IN_READ_KEYS) {
		deadline_ms(&dl, 500);
		pthread_mutex_lock(&rc_->m);
		if (rc_->taken && !rc_->after_done) {
			rc_->after++;
			pthread_cond_broadcast(&rc_->c);
			while (rc_->after < 2 &&
			       pthread_cond_timedwait(&rc_->c, &rc_->m, &dl) == 0)
				;
			rc_->after_done = true;
		}
		pthread_mutex_unlock(&rc_->m);
		return false;
	}
	if (!is_prout(io, PRPATH_PR_OUT_REGISTER_AND_IGNORE) || io_sark(io) != h->key)
		return false;
	deadline_ms(&dl, 500);
	pthread_mutex_lock(&rc_->m);
	rc_->arrived++;
	pthread_cond_broadcast(&rc_->c);
	while (rc_->arrived < 2 && !rc_->taking &&
	       pthread_cond_timedwait(&rc_->c, &rc_->m, &dl) == 0)
		;
	if (!rc_->taking) {
		rc_->taking = true;
		take = true;
	}
	pthread_mutex_unlock(&rc_->m);
	if (take) {
		assert_int_equal(prpath_dev_open(rc_->b->d, PRPATH_MODE_FORCE, 0), 0);
		pthread_mutex_lock(&rc_->m);
		rc_->taken = true;
		pthread_cond_broadcast(&rc_->c);
		pthread_mutex_unlock(&rc_->m);
	}
	pthread_mutex_lock(&rc_->m);
	while (!rc_->taken)
		pthread_cond_wait(&rc_->c, &rc_->m);
	pthread_mutex_unlock(&rc_->m);
	return false;
}

struct wr {
	struct host *h;
	uint64_t lba;
	uint8_t v;
	int via;
	int rc;
};

static void *write_thread(void *arg)
{
	struct wr *w = arg;
	uint8_t buf[BS];

	memset(buf, w->v, sizeof(buf));
	w->rc = prpath_dev_write(w->h->d, w->lba, 1, buf, w->via);
	return NULL;
}

static void test_concurrent_reregister_race(void **state)
{
	struct fx *f = *state;
	struct race r = { .b = &f->b };
	struct wr w2 = { .h = &f->a, .lba = 50, .v = 0xa2, .via = 2 };
	struct wr w3 = { .h = &f->a, .lba = 51, .v = 0xa3, .via = 3 };
	struct prpath_dev_status st;
	pthread_t t2, t3;

	pthread_mutex_init(&r.m, NULL);
	pthread_cond_init(&r.c, NULL);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	/* the device lost the registrations of A's nexuses 3 and 4 (as a
	 * target that ties them to the session does): their writes conflict
	 * and each path is re-registered, from two threads at once */
	raw_prout(f, &f->a, 2, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0);
	raw_prout(f, &f->a, 3, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0);
	assert_int_equal(status(&f->a, NULL).nkey_registrations, 2);

	set_hook(&f->a, race_hook, &r);
	assert_int_equal(pthread_create(&t2, NULL, write_thread, &w2), 0);
	assert_int_equal(pthread_create(&t3, NULL, write_thread, &w3), 0);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	set_hook(&f->a, NULL, NULL);
	assert_true(r.taken);

	/* B preempted A between A's READ KEYS and REGISTERs: two fresh
	 * registrations of K must not pass for a surviving one */
	assert_int_equal(w2.rc, PRPATH_ERR_FENCED);
	assert_int_equal(w3.rc, PRPATH_ERR_FENCED);
	st = status(&f->b, NULL);
	assert_true(st.holder_key == KB);
	assert_int_equal(st.nregistrations, NP);
	assert_int_equal(st.nkey_registrations, NP);
	/* none of A's writes landed behind B's reservation */
	assert_block(&f->b, 50, 0);
	assert_block(&f->b, 51, 0);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
	pthread_mutex_destroy(&r.m);
	pthread_cond_destroy(&r.c);
}

/* ---- an I/O waiting for its path is not sent after fencing ------------------- */

struct blocker {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool armed, held, release;
};

/* The first command that reaches an armed blocker is held here until the
 * test sets release; the test waits for held. */
static void blocker_hold(struct blocker *b)
{
	pthread_mutex_lock(&b->m);
	if (b->armed) {
		b->armed = false;
		b->held = true;
		pthread_cond_broadcast(&b->c);
		while (!b->release)
			pthread_cond_wait(&b->c, &b->m);
	}
	pthread_mutex_unlock(&b->m);
}

static bool block_hook(struct host *h, unsigned path, struct pp_io *io, int *rc)
{
	struct blocker *b = h->hook_arg;

	(void)rc;
	if (path != 1 || !is_write(io))
		return false;
	blocker_hold(b);
	return false;
}

static void test_no_io_after_fence(void **state)
{
	struct fx *f = *state;
	struct blocker b = { .armed = true };
	struct wr w0 = { .h = &f->a, .lba = 60, .v = 0x60, .via = 1 };
	struct wr w1 = { .h = &f->a, .lba = 61, .v = 0x61, .via = 1 };
	uint8_t buf[BS];
	pthread_t t0, t1;
	unsigned long n1;

	pthread_mutex_init(&b.m, NULL);
	pthread_cond_init(&b.c, NULL);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	set_hook(&f->a, block_hook, &b);
	/* one write in flight on path 2, a second one waiting for the path */
	assert_int_equal(pthread_create(&t0, NULL, write_thread, &w0), 0);
	pthread_mutex_lock(&b.m);
	while (!b.held)
		pthread_cond_wait(&b.c, &b.m);
	pthread_mutex_unlock(&b.m);
	assert_int_equal(pthread_create(&t1, NULL, write_thread, &w1), 0);
	sleep_ms(100);
	/* meanwhile the device learns it is fenced (2A/05 on path 3) */
	pp_sim_fail_next(f->a.p[2], 1, 0x02, 0x6, 0x2a, 0x05, 0);
	memset(buf, 0x62, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 62, 1, buf, 2), PRPATH_ERR_FENCED);
	n1 = sent(&f->a, 1);
	pthread_mutex_lock(&b.m);
	b.release = true;
	pthread_cond_broadcast(&b.c);
	pthread_mutex_unlock(&b.m);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	set_hook(&f->a, NULL, NULL);
	assert_int_equal(w0.rc, 0);      /* was on the wire before */
	assert_int_equal(w1.rc, PRPATH_ERR_FENCED);
	/* only the write already in flight reached the device */
	assert_int_equal(sent(&f->a, 1), n1 + 1);
	prpath_dev_close(f->a.d);
	pthread_mutex_destroy(&b.m);
	pthread_cond_destroy(&b.c);
}

/* ---- stale unit attentions on a path that was down since before the open ---- */

static void test_stale_ua_on_returning_path(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;
	uint8_t buf[BS];

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	pp_sim_set_down(f->a.p[3], true);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 0, 1, buf, 3), -ENOTCONN);
	/* close with a registered path dead: our own PREEMPT moves every
	 * registration of K to one live path (2A/05 to nexus 4 too) */
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_int_equal(st.nregistrations, 0);
	assert_false(st.reserved);

	/* open again while path 4 is still down; then it comes back with
	 * the old 2A/05 queued: not a fence of this open */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	pp_sim_set_down(f->a.p[3], false);
	assert_int_equal(check_count(f->a.d), 1);
	st = status(&f->a, ps);
	assert_false(st.fenced);
	assert_false(st.reservation_lost);
	assert_true(ps[3].registered);
	assert_int_equal(st.nkey_registrations, NP);
	assert_int_equal(f->a.nfenced + f->a.nlost, 0);
	write_every_path(&f->a, 70, 0x77);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
}

/* ---- release with the holder path dead ------------------------------------------ */

static void test_release_holder_path_dead(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;
	uint8_t buf[BS];

	/* RESERVE went out on path 1: that nexus holds the reservation */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	pp_sim_set_down(f->a.p[0], true);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 0, 1, buf, 0), -ENOTCONN);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	/* the LU is free: nothing reserved, nothing registered, and B gets it */
	st = status(&f->b, NULL);
	assert_false(st.reserved);
	assert_int_equal(st.nregistrations, 0);
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	assert_true(status(&f->b, NULL).holder_key == KB);
	/* B's RELEASE queues 2A/04 on B's other paths, which their
	 * unregistration meets: our own doing, nothing to report */
	assert_int_equal(prpath_dev_close(f->b.d), 0);
	assert_int_equal(f->b.nfenced + f->b.nlost, 0);
	assert_int_equal(f->a.nfenced + f->a.nlost, 0);
}

static void test_release_api_holder_path_not_given(void **state)
{
	struct fx *f = *state;
	struct prpath_host hs = { .initiator = f->a.iqn, .key = KA };
	struct pp_sim_path *sp[NP];
	struct prpath_dev_status st;
	struct prpath_dev *d2;
	unsigned i;

	/* A reserves (RESERVE on path 1: that nexus holds) and exits */
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_RETAIN), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	/* A again, with path 1 dead (not opened): paths 2-4 only. Release
	 * must move the reservation off path 1's nexus, release it and
	 * unregister, or B can never have the LU (issue 20, item 5) */
	assert_int_equal(prpath_dev_new(f->ctx, &hs, &d2), 0);
	for (i = 1; i < NP; i++) {
		char port[128];

		port_name(&f->a, i, port, sizeof(port));
		assert_int_equal(pp_sim_open(f->lu, port, (uint16_t)(i + 1), &sp[i]), 0);
		assert_int_equal(pp_dev_add_conn(d2, pp_sim_conn(sp[i])), (int)i - 1);
	}
	assert_int_equal(prpath_dev_probe(d2), 0);
	assert_int_equal(prpath_dev_release(d2), 0);
	st = status(&f->b, NULL);
	assert_false(st.reserved);
	assert_int_equal(st.nregistrations, 0);
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
	/* nothing held: NOT_HOLDER, nothing sent that changes anything */
	assert_int_equal(prpath_dev_release(d2), PRPATH_ERR_NOT_HOLDER);
	prpath_dev_free(d2);
}

static void test_dev_paths_sends_nothing(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	unsigned long before[NP];
	unsigned i;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	assert_int_equal(prpath_dev_fail_path(f->a.d, 2), 0);
	for (i = 0; i < NP; i++)
		before[i] = sent(&f->a, i);
	/* local state only: a monitoring loop adds no command to any path */
	assert_int_equal(prpath_dev_paths(f->a.d, ps, NP), NP);
	assert_int_equal(prpath_dev_paths(f->a.d, NULL, 0), NP);
	for (i = 0; i < NP; i++) {
		assert_int_equal(sent(&f->a, i), before[i]);
		assert_int_equal(ps[i].device_registered, -1);
		assert_int_equal(ps[i].state, i == 2 ? PRPATH_PATH_FAILED : PRPATH_PATH_UP);
		assert_int_equal(ps[i].registered, i != 2);
		assert_int_equal(ps[i].rel_tgt_port, (int)i + 1);
	}
	assert_int_equal(prpath_dev_close(f->a.d), 0);
}

static void test_checker_identifies_unprobed_path(void **state)
{
	static const uint16_t ports[NP] = { 1, 2, 3, 4 };
	struct prpath_lu_config cfg = {
		.size = 1 << 20, .block_size = BS,
		.target_ports = ports, .ntarget_ports = NP,
	};
	struct fx *f = *state;
	struct prpath_host hs = { .initiator = "iqn.2024-01.test:host-c", .key = 0xc3 };
	struct prpath_path_status ps[3];
	struct prpath_dev_status st;
	struct pp_sim_path *sp[3];
	struct prpath_lu *other;
	struct prpath_dev *d;
	unsigned i, back = 9;

	/* paths 2 and 3 are down while the device is probed; path 3 leads to
	 * another LU. When they come back, the checker learns what probe
	 * could not: path 2's target port, and that path 3 is the wrong LU
	 * (refused, never used) (issue 20, item 8) */
	assert_int_equal(prpath_lu_new(&cfg, &other), 0);
	assert_int_equal(prpath_dev_new(f->ctx, &hs, &d), 0);
	for (i = 0; i < 3; i++) {
		char port[128];

		snprintf(port, sizeof(port), "%s,i,0x00023d00000%u", hs.initiator, i + 1);
		assert_int_equal(pp_sim_open(i == 2 ? other : f->lu, port,
					     (uint16_t)(i + 1), &sp[i]), 0);
		assert_int_equal(pp_dev_add_conn(d, pp_sim_conn(sp[i])), (int)i);
	}
	pp_sim_set_down(sp[1], true);
	pp_sim_set_down(sp[2], true);
	assert_int_equal(prpath_dev_probe(d), 0);
	assert_int_equal(prpath_dev_status(d, &st, ps, 3), 0);
	assert_int_equal(ps[0].rel_tgt_port, 1);
	assert_int_equal(ps[1].rel_tgt_port, -1);
	assert_int_equal(ps[1].state, PRPATH_PATH_FAILED);
	pp_sim_set_down(sp[1], false);
	pp_sim_set_down(sp[2], false);
	assert_int_equal(prpath_dev_check_paths(d, &back), 0);
	assert_int_equal(back, 1);
	assert_int_equal(prpath_dev_status(d, &st, ps, 3), 0);
	assert_int_equal(ps[1].state, PRPATH_PATH_UP);
	assert_int_equal(ps[1].rel_tgt_port, 2);
	assert_int_equal(ps[2].state, PRPATH_PATH_FAILED);
	assert_int_equal(ps[2].last_error, -EXDEV);
	/* and it stays out: the checker does not try it again */
	assert_int_equal(prpath_dev_check_paths(d, &back), 0);
	assert_int_equal(back, 0);
	prpath_dev_free(d);
	prpath_lu_free(other);
}

/* ---- first I/Os of a device that was not probed, from several threads ------- */

struct rd {
	struct prpath_dev *d;
	int rc;
};

static void *read_thread(void *arg)
{
	struct rd *r = arg;
	uint8_t buf[BS * 2];

	r->rc = prpath_dev_read(r->d, 3, 2, buf, -1);
	return NULL;
}

static void test_unprobed_concurrent_io(void **state)
{
	struct fx *f = *state;
	struct prpath_host hs = { .initiator = "iqn.2024-01.test:host-c", .key = 0x77 };
	struct prpath_dev *d;
	struct pp_sim_path *sp;
	struct rd r[4];
	pthread_t th[4];
	unsigned i;

	assert_int_equal(prpath_dev_new(f->ctx, &hs, &d), 0);
	assert_int_equal(pp_sim_open(f->lu, "iqn.2024-01.test:host-c,i,0x00023d000001",
				     1, &sp), 0);
	assert_int_equal(pp_dev_add_conn(d, pp_sim_conn(sp)), 0);
	assert_int_equal(pp_sim_open(f->lu, "iqn.2024-01.test:host-c,i,0x00023d000002",
				     2, &sp), 0);
	assert_int_equal(pp_dev_add_conn(d, pp_sim_conn(sp)), 1);
	/* I/O needs an open device; noreserve sends nothing (no probe) */
	assert_int_equal(prpath_dev_open(d, PRPATH_MODE_NORESERVE, 0), 0);
	/* the geometry is learnt by whichever I/O comes first */
	for (i = 0; i < 4; i++) {
		r[i] = (struct rd){ .d = d };
		assert_int_equal(pthread_create(&th[i], NULL, read_thread, &r[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].rc, 0);
	}
	assert_int_equal(prpath_dev_block_size(d), BS);
	assert_int_equal(prpath_dev_blocks(d), (1 << 20) / BS);
	assert_int_equal(prpath_dev_close(d), 0);
	prpath_dev_free(d);
}

/* ---- I/O threads, path loss and the checker at once (TSan) ------------------- */

struct stress {
	struct fx *f;
	atomic_bool stop;
	atomic_int bad;
	atomic_ulong nio;
};

struct stress_wr {
	struct stress *s;
	unsigned id;
};

static void *stress_writer(void *arg)
{
	struct stress_wr *w = arg;
	struct stress *s = w->s;
	uint8_t buf[BS * 2];
	unsigned i;

	for (i = 0; !atomic_load(&s->stop); i++) {
		uint64_t lba = 100 + w->id * 64 + (i % 32);
		int rc;

		memset(buf, (int)(w->id * 16 + (i & 15)), sizeof(buf));
		rc = (i & 1) ? prpath_dev_write(s->f->a.d, lba, 2, buf, -1)
			     : prpath_dev_read(s->f->a.d, lba, 2, buf, -1);
		if (rc) {
			fprintf(stderr, "stress I/O: %s (%d)\n", prpath_strerror(rc), rc);
			atomic_fetch_add(&s->bad, 1);
		}
		atomic_fetch_add(&s->nio, 1);
	}
	return NULL;
}

static void *stress_checker(void *arg)
{
	struct stress *s = arg;
	struct prpath_dev_status st;
	struct prpath_path_status ps[NP];

	while (!atomic_load(&s->stop)) {
		unsigned back;
		int rc = prpath_dev_check_paths(s->f->a.d, &back);

		if (rc != 0 || back > NP) {
			fprintf(stderr, "stress checker: %d\n", rc);
			atomic_fetch_add(&s->bad, 1);
		}
		if (prpath_dev_status(s->f->a.d, &st, ps, NP) != 0 || st.fenced)
			atomic_fetch_add(&s->bad, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void test_stress_io_checker_flaps(void **state)
{
	struct fx *f = *state;
	struct stress s = { .f = f };
	struct stress_wr w[3];
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;
	pthread_t tw[3], tc;
	unsigned i, round;

	atomic_init(&s.stop, false);
	atomic_init(&s.bad, 0);
	atomic_init(&s.nio, 0);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	for (i = 0; i < 3; i++) {
		w[i] = (struct stress_wr){ .s = &s, .id = i };
		assert_int_equal(pthread_create(&tw[i], NULL, stress_writer, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&tc, NULL, stress_checker, &s), 0);
	/* paths 2-4 flap; path 1 stays */
	for (round = 0; round < 60; round++) {
		unsigned p = 1 + round % (NP - 1);

		pp_sim_set_down(f->a.p[p], true);
		sleep_ms(2);
		pp_sim_set_down(f->a.p[p], false);
		sleep_ms(3);
	}
	atomic_store(&s.stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(tw[i], NULL);
	pthread_join(tc, NULL);
	assert_int_equal(atomic_load(&s.bad), 0);
	assert_true(atomic_load(&s.nio) > 0);
	/* everything comes back, registered, still ours */
	for (i = 0; i < 10; i++) {
		assert_int_equal(prpath_dev_check_paths(f->a.d, NULL), 0);
		st = status(&f->a, ps);
		if (ps[0].state == PRPATH_PATH_UP && ps[1].state == PRPATH_PATH_UP &&
		    ps[2].state == PRPATH_PATH_UP && ps[3].state == PRPATH_PATH_UP)
			break;
	}
	for (i = 0; i < NP; i++) {
		assert_int_equal(ps[i].state, PRPATH_PATH_UP);
		assert_true(ps[i].registered);
	}
	assert_false(st.fenced);
	assert_true(st.we_hold);
	assert_int_equal(st.nkey_registrations, NP);
	assert_int_equal(st.nregistrations, NP);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_int_equal(st.nregistrations, 0);
}

/* ---- close while I/O is in flight ----------------------------------------------- */

struct close_run {
	struct prpath_dev *d;
	int rc;
	atomic_bool done;
};

static void *close_thread(void *arg)
{
	struct close_run *c = arg;

	c->rc = prpath_dev_close(c->d);
	atomic_store(&c->done, true);
	return NULL;
}

static unsigned long sent_all(struct host *h)
{
	unsigned long n = 0;
	unsigned i;

	for (i = 0; i < NP; i++)
		n += sent(h, i);
	return n;
}

/* What host A sends once the watch is set: REGISTER (AND IGNORE EXISTING
 * KEY) of its own key, READ KEYS, WRITE. */
static atomic_uint regs_of_key, read_keys_sent, writes_sent;

static bool watch_reg_hook(struct host *h, unsigned path, struct pp_io *io, int *rc)
{
	(void)path;
	(void)rc;
	if ((is_prout(io, PRPATH_PR_OUT_REGISTER_AND_IGNORE) || is_prout(io, PRPATH_PR_OUT_REGISTER)) &&
	    io_sark(io) == h->key)
		atomic_fetch_add(&regs_of_key, 1);
	if (io->cdb[0] == 0x5e && (io->cdb[1] & 0x1f) == 0)
		atomic_fetch_add(&read_keys_sent, 1);
	if (is_write(io))
		atomic_fetch_add(&writes_sent, 1);
	return false;
}

struct close_wr {
	struct host *h;
	unsigned id;
	atomic_bool *close_done;
	atomic_bool *stop;
	atomic_uint nok, nlate;
	unsigned nshut, nbad;
	int bad_rc;
};

static void *close_writer(void *arg)
{
	struct close_wr *w = arg;
	uint8_t buf[BS];
	unsigned i;

	for (i = 0; !atomic_load(w->stop); i++) {
		bool after = atomic_load(w->close_done);
		int rc;

		memset(buf, (int)(w->id * 16 + (i & 15)), sizeof(buf));
		rc = prpath_dev_write(w->h->d, 300 + w->id * 16 + (i % 16), 1, buf, -1);
		if (rc == 0 && !after) {
			atomic_fetch_add(&w->nok, 1);
		} else if (rc == -ESHUTDOWN) {
			w->nshut++;
			if (after)
				atomic_fetch_add(&w->nlate, 1);
		} else {
			/* anything else, or a write that began after close
			 * returned and did not fail with -ESHUTDOWN */
			w->nbad++;
			w->bad_rc = rc;
		}
	}
	return NULL;
}

/* I/O threads keep writing while close runs: close waits for the writes in
 * flight, refuses new ones, and leaves no key of ours on the LU. */
static void test_close_with_io_in_flight(void **state)
{
	struct fx *f = *state;
	struct close_wr w[4];
	pthread_t th[4];
	atomic_bool close_done, stop;
	struct prpath_dev_status st;
	unsigned long after_close;
	unsigned i, n, ok = 0, shut = 0;
	int rc;

	atomic_init(&close_done, false);
	atomic_init(&stop, false);
	for (i = 0; i < NP; i++)
		pp_sim_set_latency(f->a.p[i], 300 * (i + 1));
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	for (i = 0; i < 4; i++) {
		w[i] = (struct close_wr){ .h = &f->a, .id = i, .close_done = &close_done,
					  .stop = &stop };
		atomic_init(&w[i].nok, 0);
		atomic_init(&w[i].nlate, 0);
		assert_int_equal(pthread_create(&th[i], NULL, close_writer, &w[i]), 0);
	}
	/* every writer is writing (bounded: 5 s) */
	for (n = 0; n < 2500; n++) {
		for (i = 0; i < 4 && atomic_load(&w[i].nok) >= 2; i++)
			;
		if (i == 4)
			break;
		sleep_ms(2);
	}
	rc = prpath_dev_close(f->a.d);
	after_close = sent_all(&f->a);
	atomic_store(&close_done, true);
	/* until every writer has tried after close returned (bounded: 5 s) */
	for (n = 0; n < 2500; n++) {
		for (i = 0; i < 4 && atomic_load(&w[i].nlate) > 0; i++)
			;
		if (i == 4)
			break;
		sleep_ms(2);
	}
	atomic_store(&stop, true);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++) {
		if (w[i].nbad)
			fail_msg("writer %u: %u bad result(s), last %s (%d)", i,
				 w[i].nbad, prpath_strerror(w[i].bad_rc), w[i].bad_rc);
		assert_true(atomic_load(&w[i].nlate) > 0);
		ok += atomic_load(&w[i].nok);
		shut += w[i].nshut;
	}
	assert_int_equal(rc, 0);
	assert_true(ok > 0);
	assert_true(shut > 0);
	/* nothing went out after close returned */
	assert_int_equal(sent_all(&f->a), after_close);
	/* READ KEYS through the other host: no key of A, no reservation */
	st = status(&f->b, NULL);
	assert_int_equal(st.nregistrations, 0);
	assert_false(st.reserved);
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
	for (i = 0; i < NP; i++)
		pp_sim_set_latency(f->a.p[i], 0);
}

/* A write in flight when close begins meets RESERVATION CONFLICT while
 * close drains: it must not register its path again (close sends nothing
 * until it has returned), and it fails with -ESHUTDOWN. */
static void test_close_drain_conflict_no_reregister(void **state)
{
	struct fx *f = *state;
	struct blocker b = { .armed = true };
	struct wr w1 = { .h = &f->a, .lba = 80, .v = 0x80, .via = 1 };
	struct close_run c = { .d = f->a.d };
	struct prpath_dev_status st;
	uint8_t buf[BS];
	unsigned long before;
	pthread_t tw, tc;

	pthread_mutex_init(&b.m, NULL);
	pthread_cond_init(&b.c, NULL);
	atomic_init(&c.done, false);
	atomic_store(&regs_of_key, 0);
	atomic_store(&read_keys_sent, 0);
	atomic_store(&writes_sent, 0);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	set_hook(&f->a, block_hook, &b);
	/* a write on path 2, held just before it goes out */
	assert_int_equal(pthread_create(&tw, NULL, write_thread, &w1), 0);
	pthread_mutex_lock(&b.m);
	while (!b.held)
		pthread_cond_wait(&b.c, &b.m);
	pthread_mutex_unlock(&b.m);
	/* it will meet a RESERVATION CONFLICT */
	pp_sim_fail_next(f->a.p[1], 1, PRPATH_SCSI_STATUS_RESERVATION_CONFLICT, 0, 0, 0, 0);
	before = sent_all(&f->a);
	assert_int_equal(pthread_create(&tc, NULL, close_thread, &c), 0);
	sleep_ms(100);
	/* close is draining: it has sent nothing, and refuses new I/O */
	assert_false(atomic_load(&c.done));
	assert_int_equal(sent_all(&f->a), before);
	memset(buf, 0x81, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 81, 1, buf, -1), -ESHUTDOWN);
	assert_int_equal(sent_all(&f->a), before);
	set_hook(&f->a, watch_reg_hook, NULL);
	pthread_mutex_lock(&b.m);
	b.release = true;
	pthread_cond_broadcast(&b.c);
	pthread_mutex_unlock(&b.m);
	pthread_join(tw, NULL);
	pthread_join(tc, NULL);
	set_hook(&f->a, NULL, NULL);
	assert_int_equal(w1.rc, -ESHUTDOWN);
	assert_int_equal(c.rc, 0);
	/* no READ KEYS, no REGISTER of K and no retry for the conflict:
	 * only the held write (answered by the injected conflict), then
	 * close's RELEASE and unregistration (REGISTER with SARK 0) */
	assert_int_equal(atomic_load(&regs_of_key), 0);
	assert_int_equal(atomic_load(&read_keys_sent), 0);
	assert_int_equal(atomic_load(&writes_sent), 0);
	st = status(&f->b, NULL);
	assert_int_equal(st.nregistrations, 0);
	assert_false(st.reserved);
	assert_int_equal(f->a.nfenced, 0);
	pthread_mutex_destroy(&b.m);
	pthread_cond_destroy(&b.c);
}

/* Holds the RELEASE on path 1 (index 0, the reservation holder) of a
 * close. */
static bool hold_release_hook(struct host *h, unsigned path, struct pp_io *io,
			      int *rc)
{
	struct blocker *b = h->hook_arg;

	(void)rc;
	if (path != 0 || !is_prout(io, PRPATH_PR_OUT_RELEASE))
		return false;
	blocker_hold(b);
	return false;
}

/* A write during close, after close has unregistered its path but while
 * the holder path still holds the reservation (its RELEASE is slow), gets
 * RESERVATION CONFLICT from the LU with K still present on the holder:
 * "register the path and retry once" would leave K registered on that
 * path after a close that returned 0. */
static void test_close_write_after_unregister_no_leak(void **state)
{
	struct fx *f = *state;
	struct blocker b = { .armed = true };
	struct close_run c = { .d = f->a.d };
	struct prpath_dev_status st;
	uint8_t buf[BS];
	unsigned long n1;
	unsigned i;
	pthread_t tc;

	pthread_mutex_init(&b.m, NULL);
	pthread_cond_init(&b.c, NULL);
	atomic_init(&c.done, false);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	n1 = sent(&f->a, 1);
	set_hook(&f->a, hold_release_hook, &b);
	assert_int_equal(pthread_create(&tc, NULL, close_thread, &c), 0);
	pthread_mutex_lock(&b.m);
	while (!b.held)
		pthread_cond_wait(&b.c, &b.m);
	pthread_mutex_unlock(&b.m);
	/* path 2 has done its RELEASE and unregistration */
	for (i = 0; i < 500 && sent(&f->a, 1) < n1 + 2; i++)
		sleep_ms(2);
	assert_int_equal(sent(&f->a, 1), n1 + 2);
	memset(buf, 0x90, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 90, 1, buf, 1), -ESHUTDOWN);
	assert_int_equal(sent(&f->a, 1), n1 + 2);
	pthread_mutex_lock(&b.m);
	b.release = true;
	pthread_cond_broadcast(&b.c);
	pthread_mutex_unlock(&b.m);
	pthread_join(tc, NULL);
	set_hook(&f->a, NULL, NULL);
	assert_int_equal(c.rc, 0);
	st = status(&f->b, NULL);
	assert_int_equal(st.nregistrations, 0);
	assert_false(st.reserved);
	pthread_mutex_destroy(&b.m);
	pthread_cond_destroy(&b.c);
}

/* I/O on a device that is not open fails at once, sending nothing; an
 * open in noreserve mode allows it. */
static void test_io_on_closed_device(void **state)
{
	struct fx *f = *state;
	uint8_t buf[BS];
	unsigned long before = sent_all(&f->a);

	memset(buf, 0x33, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 5, 1, buf, -1), -ESHUTDOWN);
	assert_int_equal(prpath_dev_read(f->a.d, 5, 1, buf, 0), -ESHUTDOWN);
	assert_int_equal(sent_all(&f->a), before);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	assert_int_equal(prpath_dev_write(f->a.d, 5, 1, buf, -1), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	before = sent_all(&f->a);
	assert_int_equal(prpath_dev_read(f->a.d, 5, 1, buf, -1), -ESHUTDOWN);
	assert_int_equal(sent_all(&f->a), before);
	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_NORESERVE, 0), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(prpath_dev_read(f->a.d, 5, 1, buf, -1), 0);
	assert_int_equal(buf[0], 0x33);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	assert_int_equal(prpath_dev_read(f->a.d, 5, 1, buf, -1), -ESHUTDOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_retained_reopen_raced_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retained_type_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timed_out_write_never_lands_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_over_own_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_own_retained_type_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_other_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_reregister_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_io_after_fence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_ua_on_returning_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_holder_path_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_api_holder_path_not_given, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checker_identifies_unprobed_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dev_paths_sends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprobed_concurrent_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stress_io_checker_flaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_io_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_drain_conflict_no_reregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_write_after_unregister_no_leak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_on_closed_device, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
