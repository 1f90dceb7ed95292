/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The in-process transport (src/host/sim.c) on a memory-backed device
 * server LU: latency, path down/up, host pause, scripted failures, and a
 * delayed command aborted by another initiator's PREEMPT AND ABORT.
 * Times are measured coarsely (lower bounds, generous upper bounds).
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

#include <prpath/prpath.h>
#include "host/sim.h"

#define PORT_A "iqn.2024-01.org.prpath.test:host-a,i,0x800000000001"
#define PORT_A2 "iqn.2024-01.org.prpath.test:host-a,i,0x800000000002"
#define PORT_B "iqn.2024-01.org.prpath.test:host-b,i,0x800000000001"
#define KEY_A 0xaaaa0001ull
#define KEY_B 0xbbbb0001ull
#define BS 512

struct fixture {
	struct prpath_lu *lu;
	struct pp_sim_path *a, *a2, *b;
};

static int setup(void **state)
{
	struct prpath_lu_config cfg;
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = 1024 * 1024;
	cfg.block_size = BS;
	cfg.lu_id = 0x1234;
	assert_int_equal(prpath_lu_new(&cfg, &f->lu), 0);
	assert_int_equal(pp_sim_open(f->lu, PORT_A, 1, &f->a), 0);
	assert_int_equal(pp_sim_open(f->lu, PORT_A2, 1, &f->a2), 0);
	assert_int_equal(pp_sim_open(f->lu, PORT_B, 1, &f->b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct pp_conn *c;

	c = pp_sim_conn(f->a);
	c->ops->close(c);
	c = pp_sim_conn(f->a2);
	c->ops->close(c);
	c = pp_sim_conn(f->b);
	c->ops->close(c);
	prpath_lu_free(f->lu);
	free(f);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- commands ------------------------------------------------------------ */

static int tur(struct pp_sim_path *p, uint8_t *status)
{
	struct pp_io io;
	int rc;

	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_test_unit_ready(io.cdb, sizeof(io.cdb));
	assert_true(rc > 0);
	io.cdb_len = (size_t)rc;
	rc = pp_execute(pp_sim_conn(p), &io);
	*status = io.status;
	return rc;
}

/* @buf: BS bytes, alive until the command completes */
static int write_block_buf(struct pp_sim_path *p, uint64_t lba, uint8_t byte,
			   struct pp_io *io, uint8_t *buf)
{
	int rc;

	memset(buf, byte, BS);
	memset(io, 0, sizeof(*io));
	rc = prpath_cdb_write(io->cdb, sizeof(io->cdb), lba, 1, false);
	assert_true(rc > 0);
	io->cdb_len = (size_t)rc;
	io->dout = buf;
	io->dout_len = BS;
	return pp_execute(pp_sim_conn(p), io);
}

/* from the test's own thread only */
static int write_block(struct pp_sim_path *p, uint64_t lba, uint8_t byte,
		       struct pp_io *io)
{
	static uint8_t buf[BS];

	return write_block_buf(p, lba, byte, io, buf);
}

static uint8_t read_block_byte(struct pp_sim_path *p, uint64_t lba)
{
	uint8_t buf[BS];
	struct pp_io io;
	int rc;

	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_read(io.cdb, sizeof(io.cdb), lba, 1, false);
	assert_true(rc > 0);
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = sizeof(buf);
	assert_int_equal(pp_execute(pp_sim_conn(p), &io), 0);
	assert_int_equal(io.status, PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(io.din_len, BS);
	for (size_t i = 1; i < sizeof(buf); i++)
		assert_int_equal(buf[i], buf[0]);
	return buf[0];
}

static uint8_t prout(struct pp_sim_path *p, unsigned sa, unsigned type,
		     uint64_t rk, uint64_t sark)
{
	struct prpath_prout_params par;
	uint8_t pbuf[24];
	struct pp_io io;
	int rc, plen;

	memset(&par, 0, sizeof(par));
	par.rk = rk;
	par.sark = sark;
	plen = prpath_prout_params_encode(&par, pbuf, sizeof(pbuf));
	assert_int_equal(plen, 24);
	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_pr_out(io.cdb, sizeof(io.cdb), sa, 0, type, (uint32_t)plen);
	assert_true(rc > 0);
	io.cdb_len = (size_t)rc;
	io.dout = pbuf;
	io.dout_len = (size_t)plen;
	assert_int_equal(pp_execute(pp_sim_conn(p), &io), 0);
	return io.status;
}

static size_t read_keys(struct pp_sim_path *p, uint64_t *keys, size_t cap)
{
	struct prpath_read_keys rk;
	uint8_t buf[256];
	struct pp_io io;
	int rc;

	memset(&io, 0, sizeof(io));
	rc = prpath_cdb_pr_in(io.cdb, sizeof(io.cdb), PRPATH_PR_IN_READ_KEYS, sizeof(buf));
	assert_true(rc > 0);
	io.cdb_len = (size_t)rc;
	io.din = buf;
	io.din_cap = sizeof(buf);
	assert_int_equal(pp_execute(pp_sim_conn(p), &io), 0);
	assert_int_equal(io.status, PRPATH_SCSI_STATUS_GOOD);
	memset(&rk, 0, sizeof(rk));
	rk.keys = keys;
	rk.keys_cap = cap;
	assert_int_equal(prpath_decode_read_keys(buf, io.din_len, &rk), 0);
	return rk.nkeys;
}

/* A: KEY_A registered, WERO held; B: KEY_B registered. */
static void a_reserves(struct fixture *f)
{
	assert_int_equal(prout(f->a, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, KEY_A),
			 PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(prout(f->a, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_WERO, KEY_A, 0),
			 PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(prout(f->b, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, KEY_B),
			 PRPATH_SCSI_STATUS_GOOD);
}

/* A command run on its own thread. */
struct bg {
	pthread_t th;
	struct pp_sim_path *p;
	uint64_t lba;
	uint8_t byte;
	struct pp_io io;
	uint8_t buf[BS];
	int rc;
	long ms;
};

static void *bg_write(void *arg)
{
	struct bg *b = arg;
	long t0 = now_ms();

	b->rc = write_block_buf(b->p, b->lba, b->byte, &b->io, b->buf);
	b->ms = now_ms() - t0;
	return NULL;
}

static void bg_start(struct bg *b, struct pp_sim_path *p, uint64_t lba, uint8_t byte)
{
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->lba = lba;
	b->byte = byte;
	assert_int_equal(pthread_create(&b->th, NULL, bg_write, b), 0);
}

static void bg_join(struct bg *b)
{
	assert_int_equal(pthread_join(b->th, NULL), 0);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_basic(void **state)
{
	struct fixture *f = *state;
	struct pp_conn *c = pp_sim_conn(f->a);
	uint8_t st;

	assert_ptr_equal(pp_sim_from_conn(c), f->a);
	assert_string_equal(c->ops->name, "sim");
	assert_string_equal(c->ops->describe(c), "sim:" PORT_A "@1");
	assert_int_equal(pp_sim_commands(f->a), 0);
	assert_int_equal(tur(f->a, &st), 0);
	assert_int_equal(st, PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(pp_sim_commands(f->a), 1);

	struct pp_io io;
	assert_int_equal(write_block(f->a, 3, 0x5a, &io), 0);
	assert_int_equal(io.status, PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(read_block_byte(f->b, 3), 0x5a);
	assert_int_equal(pp_sim_commands(f->a), 2);
	assert_int_equal(pp_sim_commands(f->b), 1);

	/* a bad io is refused before the LU */
	memset(&io, 0, sizeof(io));
	assert_int_equal(pp_execute(c, &io), -EINVAL);
	assert_int_equal(pp_sim_commands(f->a), 2);

	/* opening with bad arguments */
	struct pp_sim_path *p = (struct pp_sim_path *)1;
	assert_int_equal(pp_sim_open(f->lu, "", 1, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(pp_sim_open(f->lu, PORT_A, 9, &p), -EINVAL); /* no such port */
	assert_null(p);
	assert_int_equal(c->ops->reconnect(c), 0); /* connected: nothing to do */
}

static void test_latency(void **state)
{
	struct fixture *f = *state;
	uint8_t st;
	long t0, dt;

	pp_sim_set_latency(f->a, 150 * 1000);
	t0 = now_ms();
	assert_int_equal(tur(f->a, &st), 0);
	dt = now_ms() - t0;
	assert_int_equal(st, PRPATH_SCSI_STATUS_GOOD);
	assert_true(dt >= 140);
	assert_true(dt < 5000);

	/* other paths are not delayed */
	t0 = now_ms();
	assert_int_equal(tur(f->b, &st), 0);
	assert_true(now_ms() - t0 < 140);

	/* an io timeout shorter than the latency: -ETIMEDOUT, never executed */
	struct pp_io io;
	unsigned long n = pp_sim_commands(f->a);
	memset(&io, 0, sizeof(io));
	io.cdb_len = (size_t)prpath_cdb_test_unit_ready(io.cdb, sizeof(io.cdb));
	io.timeout_ms = 30;
	t0 = now_ms();
	assert_int_equal(pp_execute(pp_sim_conn(f->a), &io), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 25 && dt < 140);
	assert_int_equal(pp_sim_commands(f->a), n);

	pp_sim_set_latency(f->a, 0);
	t0 = now_ms();
	assert_int_equal(tur(f->a, &st), 0);
	assert_int_equal(st, PRPATH_SCSI_STATUS_GOOD); /* no 2F/00 from the dropped task */
	assert_true(now_ms() - t0 < 140);
}

static void test_down_up(void **state)
{
	struct fixture *f = *state;
	struct pp_conn *c = pp_sim_conn(f->a);
	uint64_t keys[8];
	unsigned long n;
	uint8_t st;
	struct bg b;

	assert_int_equal(prout(f->a, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, KEY_A),
			 PRPATH_SCSI_STATUS_GOOD);
	n = pp_sim_commands(f->a);

	pp_sim_set_down(f->a, true);
	assert_int_equal(tur(f->a, &st), -ENOTCONN);
	assert_int_equal(c->ops->reconnect(c), -ENOTCONN);
	assert_int_equal(pp_sim_commands(f->a), n);
	/* other paths carry on; the registration outlives the nexus */
	assert_int_equal(read_keys(f->b, keys, 8), 1);
	assert_int_equal(keys[0], KEY_A);

	pp_sim_set_down(f->a, false);
	/* back up, but the nexus is reopened only by reconnect */
	assert_int_equal(tur(f->a, &st), -ENOTCONN);
	assert_int_equal(c->ops->reconnect(c), 0);
	assert_int_equal(tur(f->a, &st), 0);
	assert_int_equal(st, PRPATH_SCSI_STATUS_GOOD);
	/* same identity: still registered, so a registrant-only command works */
	assert_int_equal(prout(f->a, PRPATH_PR_OUT_REGISTER, 0, KEY_A, KEY_A), PRPATH_SCSI_STATUS_GOOD);

	/* going down cuts a delayed command short, before it reaches the LU */
	pp_sim_set_latency(f->a, 3000 * 1000);
	n = pp_sim_commands(f->a);
	bg_start(&b, f->a, 9, 0x99);
	usleep(100 * 1000);
	pp_sim_set_down(f->a, true);
	bg_join(&b);
	assert_int_equal(b.rc, -ENOTCONN);
	assert_true(b.ms < 2000);
	assert_int_equal(pp_sim_commands(f->a), n);
	assert_int_equal(read_block_byte(f->b, 9), 0);
	pp_sim_set_latency(f->a, 0);
	pp_sim_set_down(f->a, false);
	assert_int_equal(c->ops->reconnect(c), 0);
	assert_int_equal(tur(f->a, &st), 0);
	assert_int_equal(st, PRPATH_SCSI_STATUS_GOOD);
}

static void test_pause_resume(void **state)
{
	struct fixture *f = *state;
	unsigned long n;
	struct bg b1, b2;

	n = pp_sim_commands(f->a);
	pp_sim_pause(f->a);
	bg_start(&b1, f->a, 5, 0x11);
	bg_start(&b2, f->a, 6, 0x22);
	assert_int_equal(pp_sim_wait_held(f->a, 2, 3000), 0);
	assert_int_equal(pp_sim_wait_held(f->a, 3, 50), -ETIMEDOUT);
	usleep(50 * 1000);
	assert_int_equal(pp_sim_commands(f->a), n); /* held, not executed */
	assert_int_equal(read_block_byte(f->b, 5), 0);

	pp_sim_resume(f->a);
	bg_join(&b1);
	bg_join(&b2);
	assert_int_equal(b1.rc, 0);
	assert_int_equal(b1.io.status, PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(b2.rc, 0);
	assert_int_equal(b2.io.status, PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(pp_sim_commands(f->a), n + 2);
	assert_int_equal(read_block_byte(f->b, 5), 0x11);
	assert_int_equal(read_block_byte(f->b, 6), 0x22);
	assert_int_equal(pp_sim_wait_held(f->a, 0, 10), 0);
}

/* A paused host is fenced (PREEMPT, no abort): its held write resumes into
 * the fencing unit attention, then RESERVATION CONFLICT; it never lands. */
static void test_pause_then_preempted(void **state)
{
	struct fixture *f = *state;
	struct prpath_sense s;
	struct pp_io io;
	struct bg b;

	a_reserves(f);
	pp_sim_pause(f->a);
	bg_start(&b, f->a, 12, 0xa1);
	assert_int_equal(pp_sim_wait_held(f->a, 1, 3000), 0);
	assert_int_equal(prout(f->b, PRPATH_PR_OUT_PREEMPT, PRPATH_PR_TYPE_WERO, KEY_B, KEY_A),
			 PRPATH_SCSI_STATUS_GOOD);
	pp_sim_resume(f->a);
	bg_join(&b);
	/* the unit attention 2A/05 REGISTRATIONS PREEMPTED first ... */
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.io.status, PRPATH_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(prpath_sense_decode(b.io.sense, b.io.sense_len, &s), 0);
	assert_int_equal(s.key, PRPATH_SCSI_SK_UNIT_ATTENTION);
	assert_int_equal(s.asc, 0x2a);
	assert_int_equal(s.ascq, 0x05);
	assert_int_equal(read_block_byte(f->b, 12), 0);
	/* ... then the write conflicts */
	assert_int_equal(write_block(f->a, 12, 0xa1, &io), 0);
	assert_int_equal(io.status, PRPATH_SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(read_block_byte(f->b, 12), 0);
}

/* PREEMPT AND ABORT while A's write waits in the task set (held): the
 * write is aborted, the initiator sees a timeout, nothing lands. */
static void test_preempt_abort_held(void **state)
{
	struct fixture *f = *state;
	struct bg b;

	a_reserves(f);
	pp_sim_pause(f->a);
	bg_start(&b, f->a, 20, 0xa2);
	assert_int_equal(pp_sim_wait_held(f->a, 1, 3000), 0);
	assert_int_equal(prout(f->b, PRPATH_PR_OUT_PREEMPT_AND_ABORT, PRPATH_PR_TYPE_WERO, KEY_B, KEY_A),
			 PRPATH_SCSI_STATUS_GOOD);
	pp_sim_resume(f->a);
	bg_join(&b);
	assert_int_equal(b.rc, -ETIMEDOUT);
	assert_int_equal(read_block_byte(f->b, 20), 0);
}

/* The same with latency: the delayed write is aborted and -ETIMEDOUT comes
 * after the latency, not after a long timeout. */
static void test_preempt_abort_delayed(void **state)
{
	struct fixture *f = *state;
	struct pp_sim_path *a = f->a;
	uint8_t st;
	struct pp_io io;
	struct bg b;

	a_reserves(f);
	pp_sim_set_latency(a, 400 * 1000);
	bg_start(&b, a, 21, 0xa3);
	usleep(100 * 1000); /* queued, waiting out its latency */
	assert_int_equal(prout(f->b, PRPATH_PR_OUT_PREEMPT_AND_ABORT, PRPATH_PR_TYPE_WERO, KEY_B, KEY_A),
			 PRPATH_SCSI_STATUS_GOOD);
	bg_join(&b);
	assert_int_equal(b.rc, -ETIMEDOUT);
	assert_true(b.ms >= 350);
	assert_true(b.ms < 5000);
	assert_int_equal(read_block_byte(f->b, 21), 0);

	/* A is fenced: a unit attention first, then conflicts */
	pp_sim_set_latency(a, 0);
	assert_int_equal(tur(a, &st), 0);
	assert_int_equal(st, PRPATH_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(write_block(a, 21, 0xa4, &io), 0);
	while (io.status == PRPATH_SCSI_STATUS_CHECK_CONDITION) {
		struct prpath_sense s;

		assert_int_equal(prpath_sense_decode(io.sense, io.sense_len, &s), 0);
		assert_int_equal(s.key, PRPATH_SCSI_SK_UNIT_ATTENTION);
		assert_int_equal(write_block(a, 21, 0xa4, &io), 0);
	}
	assert_int_equal(io.status, PRPATH_SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(read_block_byte(f->b, 21), 0);
}

static void test_fail_next(void **state)
{
	struct fixture *f = *state;
	struct prpath_sense s;
	struct pp_io io;
	unsigned long n;
	uint8_t st;

	n = pp_sim_commands(f->a);
	pp_sim_fail_next(f->a, 2, PRPATH_SCSI_STATUS_CHECK_CONDITION, PRPATH_SCSI_SK_UNIT_ATTENTION,
			 0x29, 0x00, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(write_block(f->a, 30, 0x30, &io), 0);
		assert_int_equal(io.status, PRPATH_SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(io.sense_len, 18);
		assert_int_equal(io.sense[0], 0x70);
		assert_int_equal(prpath_sense_decode(io.sense, io.sense_len, &s), 0);
		assert_int_equal(s.key, PRPATH_SCSI_SK_UNIT_ATTENTION);
		assert_int_equal(s.asc, 0x29);
		assert_int_equal(s.ascq, 0x00);
	}
	assert_int_equal(pp_sim_commands(f->a), n);
	assert_int_equal(read_block_byte(f->b, 30), 0); /* never reached the LU */
	assert_int_equal(tur(f->a, &st), 0);
	assert_int_equal(st, PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(pp_sim_commands(f->a), n + 1);

	pp_sim_fail_next(f->a, 1, 0, 0, 0, 0, -EIO);
	assert_int_equal(tur(f->a, &st), -EIO);
	pp_sim_fail_next(f->a, 1, 0, 0, 0, 0, -ECONNRESET);
	assert_int_equal(tur(f->a, &st), -ECONNRESET);
	pp_sim_fail_next(f->a, 1, PRPATH_SCSI_STATUS_RESERVATION_CONFLICT, 0, 0, 0, 0);
	memset(&io, 0, sizeof(io));
	io.cdb_len = (size_t)prpath_cdb_test_unit_ready(io.cdb, sizeof(io.cdb));
	assert_int_equal(pp_execute(pp_sim_conn(f->a), &io), 0);
	assert_int_equal(io.status, PRPATH_SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(io.sense_len, 0);
	assert_int_equal(tur(f->a, &st), 0);
	assert_int_equal(st, PRPATH_SCSI_STATUS_GOOD);
	assert_int_equal(pp_sim_commands(f->a), n + 2);
}

/* Closing a path with a command held frees everything (ASan checks). */
static void test_close_while_held(void **state)
{
	struct fixture *f = *state;
	struct pp_sim_path *p;
	struct bg b;

	assert_int_equal(pp_sim_open(f->lu, PORT_A "x", 1, &p), 0);
	pp_sim_pause(p);
	bg_start(&b, p, 40, 0x40);
	assert_int_equal(pp_sim_wait_held(p, 1, 3000), 0);
	pp_sim_set_down(p, true);
	bg_join(&b);
	assert_int_equal(b.rc, -ENOTCONN);
	pp_sim_conn(p)->ops->close(pp_sim_conn(p));
	assert_int_equal(read_block_byte(f->b, 40), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_then_preempted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_abort_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_abort_delayed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_while_held, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
