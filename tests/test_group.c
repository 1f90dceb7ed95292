/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Groups of LUs (include/prpath/group.h) on in-process LUs, public API
 * only: all or nothing, the arbiter, racing takeovers never divide a group,
 * release leaves nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <prpath/group.h>
#include <prpath/lu.h>
#include <prpath/mpath.h>
#include <prpath/path.h>
#include <prpath/scsi.h>

#define NLU 4
#define NPATH 3
#define KA 0xa1a1a1a1a1a1a1a1ULL
#define KB 0xb2b2b2b2b2b2b2b2ULL
#define IQN_A "iqn.2026-12.test.group:a"
#define IQN_B "iqn.2026-12.test.group:b"

struct fixture {
	struct prpath_lu *lu[NLU];
	struct prpath_dev *a[NLU], *b[NLU];
	struct prpath_path *look[NLU]; /* an observer nexus per LU */
};

static struct prpath_dev *mkdev(struct prpath_lu *lu, const char *iqn,
				uint64_t key, unsigned lat_us)
{
	struct prpath_host h = { .initiator = iqn, .key = key };
	struct prpath_dev *d = NULL;
	unsigned i;

	assert_int_equal(prpath_dev_new(NULL, &h, &d), 0);
	for (i = 0; i < NPATH; i++) {
		struct prpath_path *p;
		char port[128];

		snprintf(port, sizeof(port), "%s,i,0x00023d0000%02x", iqn, i + 1);
		assert_int_equal(prpath_path_open_lu(lu, port, (uint16_t)(i + 1), &p), 0);
		if (lat_us)
			prpath_path_set_latency(p, lat_us);
		assert_true(prpath_dev_add_path(d, p) >= 0);
	}
	return d;
}

static int setup(void **state)
{
	static const uint16_t ports[NPATH + 1] = { 1, 2, 3, 4 };
	struct prpath_lu_config cfg = { .size = 1 << 20, .block_size = 512,
					.target_ports = ports,
					.ntarget_ports = NPATH + 1 };
	struct fixture *f = calloc(1, sizeof(*f));
	size_t i;

	assert_non_null(f);
	for (i = 0; i < NLU; i++) {
		assert_int_equal(prpath_lu_new(&cfg, &f->lu[i]), 0);
		f->a[i] = mkdev(f->lu[i], IQN_A, KA, 200);
		f->b[i] = mkdev(f->lu[i], IQN_B, KB, 200);
		assert_int_equal(prpath_path_open_lu(f->lu[i],
			"iqn.2026-12.test.group:look,i,0x00023d000099", NPATH + 1,
			&f->look[i]), 0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < NLU; i++) {
		prpath_dev_free(f->a[i]);
		prpath_dev_free(f->b[i]);
		prpath_path_close(f->look[i]);
		prpath_lu_free(f->lu[i]);
	}
	free(f);
	return 0;
}

/* The keys registered on LU @i: how many are @key, how many others. */
static void keys(struct fixture *f, size_t i, uint64_t key, size_t *mine,
		 size_t *other)
{
	uint8_t buf[512];
	uint64_t k[32];
	struct prpath_read_keys rk = { .keys = k, .keys_cap = 32 };
	size_t len = 0, j;

	assert_int_equal(prpath_path_pr_in(f->look[i], PRPATH_PR_IN_READ_KEYS, buf,
					   sizeof(buf), &len), 0);
	assert_int_equal(prpath_decode_read_keys(buf, len, &rk), 0);
	assert_false(rk.truncated);
	*mine = *other = 0;
	for (j = 0; j < rk.nkeys; j++) {
		if (k[j] == key)
			(*mine)++;
		else
			(*other)++;
	}
}

/* The holder key of LU @i (0: not reserved). */
static uint64_t holder(struct fixture *f, size_t i)
{
	uint8_t buf[64];
	struct prpath_read_reservation rr;
	size_t len = 0;

	assert_int_equal(prpath_path_pr_in(f->look[i], PRPATH_PR_IN_READ_RESERVATION,
					   buf, sizeof(buf), &len), 0);
	assert_int_equal(prpath_decode_read_reservation(buf, len, &rr), 0);
	return rr.reserved ? rr.key : 0;
}

/* Every LU held by @key, registered on all paths, no other key. */
static void held_by(struct fixture *f, uint64_t key)
{
	size_t i, mine, other;

	for (i = 0; i < NLU; i++) {
		keys(f, i, key, &mine, &other);
		assert_int_equal(holder(f, i), key);
		assert_int_equal(mine, NPATH);
		assert_int_equal(other, 0);
	}
}

static void nothing_of(struct fixture *f, uint64_t key)
{
	size_t i, mine, other;

	for (i = 0; i < NLU; i++) {
		keys(f, i, key, &mine, &other);
		assert_int_equal(mine, 0);
		assert_int_not_equal(holder(f, i), key);
	}
}

static void test_acquire_release(void **state)
{
	struct fixture *f = *state;
	size_t bad = 99;

	assert_int_equal(prpath_group_open(f->a, NLU, PRPATH_MODE_EXCLUSIVE,
					   PRPATH_OPEN_RETAIN, 0, &bad), 0);
	held_by(f, KA);
	/* B cannot have the group: the arbiter refuses, nothing of B's */
	assert_int_equal(prpath_group_open(f->b, NLU, PRPATH_MODE_EXCLUSIVE, 0, 0,
					   &bad), PRPATH_ERR_RESERVED);
	assert_int_equal(bad, 0);
	nothing_of(f, KB);
	held_by(f, KA);
	assert_int_equal(prpath_group_release(f->a, NLU, &bad), 0);
	nothing_of(f, KA);
	for (size_t i = 0; i < NLU; i++)
		assert_int_equal(holder(f, i), 0);
}

/* B holds the group's last LU: A wins the arbiter and the others, fails on
 * the last, and gives everything back */
static void test_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	size_t bad = 99;

	assert_int_equal(prpath_dev_open(f->b[NLU - 1], PRPATH_MODE_EXCLUSIVE,
					 PRPATH_OPEN_RETAIN), 0);
	assert_int_equal(prpath_group_open(f->a, NLU, PRPATH_MODE_EXCLUSIVE,
					   PRPATH_OPEN_RETAIN, 0, &bad),
			 PRPATH_ERR_RESERVED);
	assert_int_equal(bad, NLU - 1);
	nothing_of(f, KA);
	assert_int_equal(holder(f, NLU - 1), KB);
	for (size_t i = 0; i + 1 < NLU; i++)
		assert_int_equal(holder(f, i), 0);
	assert_int_equal(prpath_group_release(&f->b[NLU - 1], 1, NULL), 0);
	nothing_of(f, KB);
}

static void test_takeover(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(prpath_group_open(f->b, NLU, PRPATH_MODE_EXCLUSIVE,
					   PRPATH_OPEN_RETAIN, 0, NULL), 0);
	held_by(f, KB);
	assert_int_equal(prpath_group_open(f->a, NLU, PRPATH_MODE_FORCE,
					   PRPATH_OPEN_RETAIN,
					   PRPATH_GROUP_SETTLE_AUTO, NULL), 0);
	held_by(f, KA);
	assert_int_equal(prpath_group_release(f->a, NLU, NULL), 0);
	assert_int_equal(prpath_group_release(f->b, NLU, NULL), 0);
	nothing_of(f, KA);
	nothing_of(f, KB);
}

struct racer {
	struct prpath_dev **devs;
	pthread_barrier_t *go;
	unsigned delay_us;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	if (r->delay_us)
		usleep(r->delay_us);
	r->rc = prpath_group_open(r->devs, NLU, PRPATH_MODE_FORCE,
				  PRPATH_OPEN_RETAIN, PRPATH_GROUP_SETTLE_AUTO,
				  NULL);
	return NULL;
}

/* Two hosts take the group over at the same moment, or one a little later
 * (0 to 3 ms: longer than a whole group takeover of 4 LUs with 200 us
 * round trips, so without the settle time both would win), again and
 * again: one ends with every LU, the other with nothing registered
 * anywhere. */
static void test_racing_takeovers(void **state)
{
	struct fixture *f = *state;
	unsigned round, wins_a = 0, wins_b = 0;

	for (round = 0; round < 12; round++) {
		struct racer ra = { .devs = f->a }, rb = { .devs = f->b };
		pthread_barrier_t go;
		pthread_t ta, tb;

		pthread_barrier_init(&go, NULL, 2);
		ra.go = rb.go = &go;
		*(round % 2 ? &ra.delay_us : &rb.delay_us) = (round / 2 % 4) * 1000;
		pthread_create(&ta, NULL, race, &ra);
		pthread_create(&tb, NULL, race, &rb);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_barrier_destroy(&go);
		print_message("round %u: A %s, B %s\n", round, prpath_strerror(ra.rc),
			      prpath_strerror(rb.rc));
		/* exactly one winner, and it has the whole group (once the
		 * checker has brought back paths whose commands the other
		 * host's PREEMPT AND ABORT aborted) */
		assert_true((ra.rc == 0) != (rb.rc == 0));
		for (size_t i = 0; i < NLU; i++) {
			assert_int_equal(prpath_dev_check_paths(
				(ra.rc == 0 ? f->a : f->b)[i], NULL), 0);
		}
		if (ra.rc == 0) {
			wins_a++;
			held_by(f, KA);
			nothing_of(f, KB);
		} else {
			wins_b++;
			held_by(f, KB);
			nothing_of(f, KA);
		}
		assert_int_equal(prpath_group_release(ra.rc == 0 ? f->a : f->b,
						      NLU, NULL), 0);
		/* the loser's devices are closed: release them too (nothing
		 * to do, and nothing must go wrong) */
		prpath_group_release(ra.rc == 0 ? f->b : f->a, NLU, NULL);
		nothing_of(f, KA);
		nothing_of(f, KB);
	}
	print_message("A won %u, B won %u\n", wins_a, wins_b);
}

static void test_bad_args(void **state)
{
	struct fixture *f = *state;
	struct prpath_dev *none[2] = { f->a[0], NULL };

	assert_int_equal(prpath_group_open(NULL, 1, PRPATH_MODE_EXCLUSIVE, 0, 0, NULL),
			 -EINVAL);
	assert_int_equal(prpath_group_open(f->a, 0, PRPATH_MODE_EXCLUSIVE, 0, 0, NULL),
			 -EINVAL);
	assert_int_equal(prpath_group_open(none, 2, PRPATH_MODE_EXCLUSIVE, 0, 0, NULL),
			 -EINVAL);
	assert_int_equal(prpath_group_release(none, 2, NULL), -EINVAL);
	nothing_of(f, KA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_acquire_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_racing_takeovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
