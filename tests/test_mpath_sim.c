/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The multipath device on prpath's own device server, in process: two
 * hosts with four paths each to one LU (pp_sim_*). Behaviour, not bytes:
 * who holds the LU, who is registered, whose data is on the blocks.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <prpath/lu.h>
#include <prpath/mpath.h>
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

struct host {
	struct prpath_dev *d;
	struct pp_sim_path *p[NP];
	unsigned nfenced;
	pthread_mutex_t lock;
};

struct fx {
	struct prpath_lu *lu;
	struct prpath_ctx *ctx;
	struct host a, b;
};

static void on_event(void *arg, struct prpath_dev *dev, const struct prpath_event *ev)
{
	struct host *h = arg;

	(void)dev;
	pthread_mutex_lock(&h->lock);
	if (ev->type == PRPATH_EVENT_FENCED)
		h->nfenced++;
	pthread_mutex_unlock(&h->lock);
}

static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (getenv("MPATH_TRACE"))
		fprintf(stderr, "[%d] %s\n", level, msg);
}

static void host_init(struct fx *f, struct host *h, const char *iqn, uint64_t key)
{
	struct prpath_host hs = { .initiator = iqn, .key = key };
	unsigned i;

	pthread_mutex_init(&h->lock, NULL);
	assert_int_equal(prpath_dev_new(f->ctx, &hs, &h->d), 0);
	prpath_dev_set_event_cb(h->d, on_event, h);
	for (i = 0; i < NP; i++) {
		char port[128];

		snprintf(port, sizeof(port), "%s,i,0x00023d00000%u", iqn, i + 1);
		assert_int_equal(pp_sim_open(f->lu, port, (uint16_t)(i + 1), &h->p[i]), 0);
		assert_int_equal(pp_dev_add_conn(h->d, pp_sim_conn(h->p[i])), (int)i);
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

static void fill(uint8_t *b, uint8_t v, size_t n)
{
	memset(b, v, n);
}

static void assert_blocks(struct host *h, uint64_t lba, unsigned n, uint8_t v)
{
	uint8_t buf[BS * 8];
	unsigned i;

	assert_true(n <= 8);
	assert_int_equal(prpath_dev_read(h->d, lba, n, buf, -1), 0);
	for (i = 0; i < n * BS; i++)
		if (buf[i] != v)
			fail_msg("block %llu byte %u: 0x%02x, expected 0x%02x",
				 (unsigned long long)(lba + i / BS), i % BS, buf[i], v);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_exclusive_refused(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;
	uint8_t buf[BS];

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	st = status(&f->a, NULL);
	assert_true(st.we_hold);
	assert_int_equal(st.holder_type, PRPATH_PR_TYPE_WERO);
	assert_int_equal(st.nregistrations, NP);
	assert_int_equal(st.nkey_registrations, NP);

	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_RESERVED);
	/* B left no registration behind */
	st = status(&f->b, NULL);
	assert_int_equal(st.nregistrations, NP);
	assert_int_equal(st.nkey_registrations, 0);
	assert_true(st.holder_key == KA);

	/* B, unregistered, cannot write under WERO */
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_NORESERVE, 0), 0);
	fill(buf, 0xbb, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->b.d, 0, 1, buf, -1), PRPATH_ERR_CONFLICT);
	assert_int_equal(prpath_dev_close(f->b.d), 0);

	/* A releases: the LU is free, nothing registered */
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_false(st.reserved);
	assert_int_equal(st.nregistrations, 0);
	/* now B gets it */
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_EXCLUSIVE, PRPATH_OPEN_EA), 0);
	st = status(&f->b, NULL);
	assert_true(st.we_hold);
	assert_int_equal(st.holder_type, PRPATH_PR_TYPE_EARO);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
}

static void test_io_on_second_path(void **state)
{
	struct fx *f = *state;
	uint8_t buf[BS * 2];
	unsigned i;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	/* RESERVE went out on path 0; path 1 is a registrant, not the holder */
	fill(buf, 0x5a, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 10, 2, buf, 1), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(prpath_dev_read(f->a.d, 10, 2, buf, 3), 0);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x5a);
	/* round robin touches every path */
	for (i = 0; i < 8; i++)
		assert_int_equal(prpath_dev_write(f->a.d, 20 + i, 1, buf, -1), 0);
	for (i = 0; i < NP; i++)
		assert_true(pp_sim_commands(f->a.p[i]) >= 2);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
}

struct wr {
	struct host *h;
	uint64_t lba;
	unsigned count;
	uint8_t v;
	int via;
	int rc;
};

static void *write_thread(void *arg)
{
	struct wr *w = arg;
	uint8_t *buf = malloc((size_t)w->count * BS);

	fill(buf, w->v, (size_t)w->count * BS);
	w->rc = prpath_dev_write(w->h->d, w->lba, w->count, buf, w->via);
	free(buf);
	return NULL;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_path_loss_mid_io(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;
	struct wr w = { .h = &f->a, .lba = 30, .count = 4, .v = 0x3c, .via = -1 };
	pthread_t th;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	/* the next I/O goes to path 0 (round robin starts there) */
	pp_sim_set_latency(f->a.p[0], 300000);
	assert_int_equal(pthread_create(&th, NULL, write_thread, &w), 0);
	sleep_ms(60);
	pp_sim_set_down(f->a.p[0], true);
	pthread_join(th, NULL);
	assert_int_equal(w.rc, 0); /* failed over */
	pp_sim_set_latency(f->a.p[0], 0);
	assert_blocks(&f->a, 30, 4, 0x3c);
	st = status(&f->a, ps);
	assert_int_equal(ps[0].state, PRPATH_PATH_FAILED);
	assert_false(ps[0].registered);

	/* the checker does not reinstate while the path is down */
	assert_int_equal(check_count(f->a.d), 0);
	pp_sim_set_down(f->a.p[0], false);
	assert_int_equal(check_count(f->a.d), 1);
	st = status(&f->a, ps);
	assert_int_equal(ps[0].state, PRPATH_PATH_UP);
	assert_true(ps[0].registered);
	assert_int_equal(st.nkey_registrations, NP);
	assert_true(st.we_hold);
	assert_int_equal(prpath_dev_write(f->a.d, 40, 1, (uint8_t[BS]){ 1 }, 0), 0);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_int_equal(st.nregistrations, 0);
	assert_false(st.reserved);
}

static void test_path_back_after_takeover(void **state)
{
	struct fx *f = *state;
	struct prpath_path_status ps[NP];
	struct prpath_dev_status st;
	uint8_t buf[BS];

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	pp_sim_set_down(f->a.p[2], true);
	fill(buf, 0xa1, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 0, 1, buf, 2), -ENOTCONN);

	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_FORCE, 0), 0);
	pp_sim_set_down(f->a.p[2], false);
	assert_int_equal(prpath_dev_check_paths(f->a.d, NULL), PRPATH_ERR_FENCED);
	assert_int_equal(f->a.nfenced, 1);
	/* only B's key is registered: A's returning path did not register */
	st = status(&f->b, NULL);
	assert_true(st.we_hold);
	assert_true(st.holder_key == KB);
	assert_int_equal(st.nregistrations, NP);
	assert_int_equal(st.nkey_registrations, NP);
	st = status(&f->a, ps);
	assert_true(st.fenced);
	assert_int_equal(st.nkey_registrations, 0);
	assert_false(ps[2].registered);
	assert_int_equal(prpath_dev_write(f->a.d, 0, 1, buf, -1), PRPATH_ERR_FENCED);
	/* B is untouched by A's close */
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->b, NULL);
	assert_int_equal(st.nkey_registrations, NP);
	assert_true(st.we_hold);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
}

static void test_takeover_while_paused(void **state)
{
	struct fx *f = *state;
	struct wr w[NP];
	pthread_t th[NP];
	uint8_t buf[BS * NP];
	unsigned i;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_EXCLUSIVE, 0), 0);
	fill(buf, 0xaa, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->a.d, 100, NP, buf, -1), 0);
	/* A stalls with one write in flight on every path */
	for (i = 0; i < NP; i++)
		pp_sim_pause(f->a.p[i]);
	for (i = 0; i < NP; i++) {
		w[i] = (struct wr){ .h = &f->a, .lba = 100 + i, .count = 1,
				    .v = (uint8_t)(0xa0 + i), .via = (int)i };
		assert_int_equal(pthread_create(&th[i], NULL, write_thread, &w[i]), 0);
	}
	for (i = 0; i < NP; i++)
		assert_int_equal(pp_sim_wait_held(f->a.p[i], 1, 5000), 0);

	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_FORCE, 0), 0);
	fill(buf, 0xbb, sizeof(buf));
	assert_int_equal(prpath_dev_write(f->b.d, 100, NP, buf, -1), 0);

	for (i = 0; i < NP; i++)
		pp_sim_resume(f->a.p[i]);
	for (i = 0; i < NP; i++) {
		pthread_join(th[i], NULL);
		assert_int_not_equal(w[i].rc, 0);
	}
	/* none of A's writes landed after the takeover */
	assert_blocks(&f->b, 100, NP, 0xbb);
	/* and A knows it is fenced */
	fill(buf, 0xa9, BS);
	prpath_dev_check_paths(f->a.d, NULL);
	assert_int_equal(prpath_dev_write(f->a.d, 100, 1, buf, -1), PRPATH_ERR_FENCED);
	assert_blocks(&f->b, 100, NP, 0xbb);
	assert_int_equal(status(&f->b, NULL).nkey_registrations, NP);
	assert_int_equal(status(&f->b, NULL).nregistrations, NP);
	prpath_dev_close(f->a.d);
	assert_int_equal(prpath_dev_close(f->b.d), 0);
}

struct forcer {
	struct host *h;
	pthread_barrier_t *bar;
	int rc;
};

static void *force_thread(void *arg)
{
	struct forcer *fo = arg;

	pthread_barrier_wait(fo->bar);
	fo->rc = prpath_dev_open(fo->h->d, PRPATH_MODE_FORCE, 0);
	return NULL;
}

static void test_two_forcers(void **state)
{
	struct fx *f = *state;
	unsigned iter, i;

	for (i = 0; i < NP; i++) {
		pp_sim_set_latency(f->a.p[i], 200 * (i + 1));
		pp_sim_set_latency(f->b.p[i], 200 * (NP - i));
	}
	for (iter = 0; iter < 20; iter++) {
		pthread_barrier_t bar;
		struct forcer fa = { .h = &f->a, .bar = &bar };
		struct forcer fb = { .h = &f->b, .bar = &bar };
		struct prpath_dev_status st;
		pthread_t ta, tb;
		uint8_t buf[BS];
		uint64_t winner;
		struct host *w, *l;
		int wa, wb;

		pthread_barrier_init(&bar, NULL, 2);
		assert_int_equal(pthread_create(&ta, NULL, force_thread, &fa), 0);
		assert_int_equal(pthread_create(&tb, NULL, force_thread, &fb), 0);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_barrier_destroy(&bar);
		assert_true(fa.rc == 0 || fa.rc == PRPATH_ERR_RESERVED);
		assert_true(fb.rc == 0 || fb.rc == PRPATH_ERR_RESERVED);
		assert_true(fa.rc == 0 || fb.rc == 0);

		/* exactly one owner, and only its key is registered */
		st = status(fa.rc == 0 ? &f->a : &f->b, NULL);
		assert_true(st.reserved);
		winner = st.holder_key;
		assert_true(winner == KA || winner == KB);
		w = winner == KA ? &f->a : &f->b;
		l = winner == KA ? &f->b : &f->a;
		st = status(w, NULL);
		assert_true(st.we_hold);
		assert_int_equal(st.nregistrations, NP);
		assert_int_equal(st.nkey_registrations, NP);
		fill(buf, (uint8_t)iter, sizeof(buf));
		assert_int_equal(prpath_dev_write(w->d, 200, 1, buf, -1), 0);
		wa = prpath_dev_write(l->d, 200, 1, buf, -1);
		/* -ESHUTDOWN: the loser's open failed, it is not open */
		assert_true(wa == PRPATH_ERR_FENCED || wa == PRPATH_ERR_CONFLICT ||
			    wa == PRPATH_ERR_NO_PATH || wa == -EBUSY ||
			    wa == -ESHUTDOWN);
		if ((l == &f->a ? fa.rc : fb.rc) == 0)
			assert_int_equal(wa, PRPATH_ERR_FENCED);
		wb = prpath_dev_close(l->d);
		(void)wb;
		assert_int_equal(prpath_dev_close(w->d), 0);
		st = status(w, NULL);
		assert_int_equal(st.nregistrations, 0);
		assert_false(st.reserved);
		/* paths whose commands the other host's PREEMPT AND ABORT
		 * aborted (a timeout) come back through the checker */
		assert_int_equal(prpath_dev_check_paths(f->a.d, NULL), 0);
		assert_int_equal(prpath_dev_check_paths(f->b.d, NULL), 0);
		for (i = 0; i < NP; i++) {
			struct prpath_path_status ps[NP];

			status(&f->a, ps);
			assert_int_equal(ps[i].state, PRPATH_PATH_UP);
			status(&f->b, ps);
			assert_int_equal(ps[i].state, PRPATH_PATH_UP);
		}
	}
}

static void test_shared_two_hosts(void **state)
{
	struct fx *f = *state;
	struct prpath_dev_status st;

	assert_int_equal(prpath_dev_open(f->a.d, PRPATH_MODE_SHARED, 0), 0);
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_SHARED, 0), 0);
	st = status(&f->a, NULL);
	assert_int_equal(st.holder_type, PRPATH_PR_TYPE_WEAR);
	assert_int_equal(st.nregistrations, 2 * NP);
	assert_true(st.we_hold);
	assert_int_equal(prpath_dev_write(f->a.d, 1, 1, (uint8_t[BS]){ 1 }, -1), 0);
	assert_int_equal(prpath_dev_write(f->b.d, 2, 1, (uint8_t[BS]){ 2 }, -1), 0);
	/* exclusive is refused while shared hosts hold it */
	assert_int_equal(prpath_dev_close(f->b.d), 0);
	assert_int_equal(prpath_dev_open(f->b.d, PRPATH_MODE_EXCLUSIVE, 0),
			 PRPATH_ERR_RESERVED);
	assert_int_equal(prpath_dev_close(f->a.d), 0);
	st = status(&f->a, NULL);
	assert_int_equal(st.nregistrations, 0);
	assert_false(st.reserved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exclusive_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_on_second_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_loss_mid_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_back_after_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_while_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_forcers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_two_hosts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
