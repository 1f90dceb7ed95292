// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * APTPL persistence of the device server's PR state: restart, APTPL=0,
 * failed writes at every stage, SIGKILL during writes, corrupt files and
 * leftovers. Driven through the public LU API with hand-built CDBs; a few
 * tests also use the internal serialise/restore pair directly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <prpath/lu.h>
#include <prpath/scsi.h>

#include "ds/ds_int.h"
#include "util/crc32c.h"

#define NAME_A "iqn.2024-01.org.prpath:host-a,i,0x000000000001"
#define NAME_B "iqn.2024-01.org.prpath:host-b,i,0x000000000002"
#define NAME_C "iqn.2024-01.org.prpath:host-c,i,0x000000000003"

/* ---- fixture: a temporary directory ------------------------------------ */

struct fx {
	char dir[64];
	char state[128];
	char tmp[140];
	char bak[140];
	/* persist hook */
	const char *fail_stage;     /* NULL: never fail */
	int fail_errno;
	unsigned hits;              /* times fail_stage was reached */
	char stages[256];           /* stages seen, space separated */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/prpath-persist-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->state, sizeof(f->state), "%s/lu0.state", f->dir);
	snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", f->state);
	snprintf(f->bak, sizeof(f->bak), "%s.bak", f->state);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char p[512];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int hook(void *arg, const char *stage)
{
	struct fx *f = arg;
	size_t l = strlen(f->stages);

	snprintf(f->stages + l, sizeof(f->stages) - l, "%s ", stage);
	if (f->fail_stage && strcmp(stage, f->fail_stage) == 0) {
		f->hits++;
		return -f->fail_errno;
	}
	return 0;
}

static const uint16_t two_ports[] = { 1, 2 };

static int lu_open(struct fx *f, uint32_t max_reg, struct prpath_lu **lu)
{
	struct prpath_lu_config cfg = {
		.size = 1 << 20,
		.state_path = f->state,
		.target_ports = two_ports,
		.ntarget_ports = 2,
		.max_registrations = max_reg,
		.persist_hook = hook,
		.persist_hook_arg = f,
	};

	*lu = NULL;
	return prpath_lu_new(&cfg, lu);
}

static struct prpath_lu *lu_open_ok(struct fx *f)
{
	struct prpath_lu *lu;

	assert_int_equal(lu_open(f, 0, &lu), 0);
	assert_non_null(lu);
	return lu;
}

static struct prpath_nexus *nx_open(struct prpath_lu *lu, const char *name,
				    uint16_t rtp)
{
	struct prpath_nexus *nx = NULL;

	assert_int_equal(prpath_lu_nexus_open(lu, name, rtp, &nx), 0);
	assert_non_null(nx);
	return nx;
}

/* ---- commands ----------------------------------------------------------- */

struct res {
	uint8_t status;
	uint8_t key, asc, ascq;
};

static struct res exec_cmd(struct prpath_nexus *nx, const uint8_t *cdb,
			   size_t cdb_len, const uint8_t *out, size_t out_len,
			   uint8_t *in, size_t in_cap, size_t *in_len)
{
	struct prpath_cmd cmd;
	struct res r = { 0 };

	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb = cdb;
	cmd.cdb_len = cdb_len;
	cmd.data_out = out;
	cmd.data_out_len = out_len;
	cmd.data_in = in;
	cmd.data_in_cap = in_cap;
	assert_int_equal(prpath_lu_execute(nx, &cmd), 0);
	r.status = cmd.status;
	if (cmd.status == PRPATH_SCSI_STATUS_CHECK_CONDITION && cmd.sense_len >= 14) {
		r.key = cmd.sense[2] & 0x0f;
		r.asc = cmd.sense[12];
		r.ascq = cmd.sense[13];
	}
	if (in_len)
		*in_len = cmd.data_in_len;
	return r;
}

static struct res prout(struct prpath_nexus *nx, unsigned sa, unsigned type,
			uint64_t rk, uint64_t sark, bool aptpl)
{
	uint8_t cdb[10] = { PRPATH_SCSI_OP_PR_OUT, (uint8_t)sa, (uint8_t)type };
	uint8_t par[24] = { 0 };

	prpath_put_be32(cdb + 5, sizeof(par));
	prpath_put_be64(par, rk);
	prpath_put_be64(par + 8, sark);
	par[20] = aptpl ? 0x01 : 0x00;
	return exec_cmd(nx, cdb, sizeof(cdb), par, sizeof(par), NULL, 0, NULL);
}

static void prout_good(struct prpath_nexus *nx, unsigned sa, unsigned type,
		       uint64_t rk, uint64_t sark, bool aptpl)
{
	struct res r = prout(nx, sa, type, rk, sark, aptpl);

	if (r.status != PRPATH_SCSI_STATUS_GOOD)
		fail_msg("PR OUT sa %u: status 0x%02x sense %x/%02x/%02x",
			 sa, r.status, r.key, r.asc, r.ascq);
}

/* PR IN; returns the bytes placed in @buf. */
static size_t prin(struct prpath_nexus *nx, unsigned sa, uint8_t *buf,
		   size_t cap)
{
	uint8_t cdb[10] = { PRPATH_SCSI_OP_PR_IN, (uint8_t)sa };
	size_t n = 0;
	struct res r;

	prpath_put_be16(cdb + 7, (uint16_t)cap);
	r = exec_cmd(nx, cdb, sizeof(cdb), NULL, 0, buf, cap, &n);
	assert_int_equal(r.status, PRPATH_SCSI_STATUS_GOOD);
	return n;
}

/* A snapshot of what the LU reports about its PR state. */
struct view {
	uint8_t keys[512], resv[64], full[2048];
	size_t nkeys, nresv, nfull;
};

static void take_view(struct prpath_nexus *nx, struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->nkeys = prin(nx, PRPATH_PR_IN_READ_KEYS, v->keys, sizeof(v->keys));
	v->nresv = prin(nx, PRPATH_PR_IN_READ_RESERVATION, v->resv, sizeof(v->resv));
	v->nfull = prin(nx, PRPATH_PR_IN_READ_FULL_STATUS, v->full, sizeof(v->full));
	assert_true(v->nkeys >= 8);
	assert_true(v->nresv >= 8);
	assert_true(v->nfull >= 8);
}

static void assert_same_view(const struct view *a, const struct view *b)
{
	assert_int_equal(a->nkeys, b->nkeys);
	assert_memory_equal(a->keys, b->keys, a->nkeys);
	assert_int_equal(a->nresv, b->nresv);
	assert_memory_equal(a->resv, b->resv, a->nresv);
	assert_int_equal(a->nfull, b->nfull);
	assert_memory_equal(a->full, b->full, a->nfull);
}

/* ---- files -------------------------------------------------------------- */

static bool file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* Reads a whole file into a malloc'ed buffer. */
static uint8_t *slurp(const char *p, size_t *len)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void spew(const char *p, const uint8_t *buf, size_t len)
{
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* ---- the state used by several tests ------------------------------------- */

/*
 * A registers 0xA (APTPL=1) on port 1, B registers 0xB on port 2, C
 * registers 0xC on port 1, A reserves WERO. Generation 3.
 */
static void build_state(struct fx *f, struct view *v)
{
	struct prpath_lu *lu = lu_open_ok(f);
	struct prpath_nexus *a = nx_open(lu, NAME_A, 1);
	struct prpath_nexus *b = nx_open(lu, NAME_B, 2);
	struct prpath_nexus *c = nx_open(lu, NAME_C, 1);

	prout_good(a, PRPATH_PR_OUT_REGISTER, 0, 0, 0xA, true);
	prout_good(b, PRPATH_PR_OUT_REGISTER, 0, 0, 0xB, true);
	prout_good(c, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0xC, true);
	prout_good(a, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_WERO, 0xA, 0, false);
	assert_int_equal(prpath_lu_pr_generation(lu), 3);
	assert_int_equal(prpath_lu_registrations(lu), 3);
	if (v)
		take_view(a, v);
	prpath_lu_nexus_close(a);
	prpath_lu_nexus_close(b);
	prpath_lu_nexus_close(c);
	prpath_lu_free(lu);
	assert_true(file_exists(f->state));
}

/* Checks that a LU holds exactly the build_state() state. */
static void check_built_state(struct prpath_lu *lu, const struct view *v)
{
	struct prpath_nexus *a = nx_open(lu, NAME_A, 1);
	struct view now;

	take_view(a, &now);
	assert_same_view(v, &now);
	assert_int_equal(prpath_lu_pr_generation(lu), 3);
	assert_int_equal(prpath_lu_registrations(lu), 3);
	prpath_lu_nexus_close(a);
}

/* ---- (1) restart keeps APTPL=1 state -------------------------------------- */

static void test_restart_keeps_state(void **state)
{
	struct fx *f = *state;
	struct view before, after;
	struct prpath_lu *lu;
	struct prpath_nexus *a, *b, *stranger;
	uint8_t wcdb[10] = { PRPATH_SCSI_OP_WRITE10 };
	uint8_t block[512] = { 0x5a };

	build_state(f, &before);
	/* READ KEYS: generation 3, three keys in registration order */
	assert_int_equal(prpath_get_be32(before.keys), 3);
	assert_int_equal(prpath_get_be32(before.keys + 4), 24);
	assert_int_equal(prpath_get_be64(before.keys + 8), 0xA);
	assert_int_equal(prpath_get_be64(before.keys + 16), 0xB);
	assert_int_equal(prpath_get_be64(before.keys + 24), 0xC);
	/* READ RESERVATION: A's key, WERO */
	assert_int_equal(prpath_get_be32(before.resv + 4), 16);
	assert_int_equal(prpath_get_be64(before.resv + 8), 0xA);
	assert_int_equal(before.resv[21], PRPATH_PR_TYPE_WERO);

	lu = lu_open_ok(f);
	assert_int_equal(prpath_lu_pr_generation(lu), 3);
	assert_int_equal(prpath_lu_registrations(lu), 3);
	b = nx_open(lu, NAME_B, 2);
	take_view(b, &after);
	assert_same_view(&before, &after);

	/* the reservation really is back: a stranger's WRITE conflicts,
	 * the holder's is GOOD */
	prpath_put_be16(wcdb + 7, 1);
	stranger = nx_open(lu, "iqn.2024-01.org.prpath:x,i,0x00000000000f", 1);
	assert_int_equal(exec_cmd(stranger, wcdb, 10, block, 512, NULL, 0,
				  NULL).status,
			 PRPATH_SCSI_STATUS_RESERVATION_CONFLICT);
	a = nx_open(lu, NAME_A, 1);
	assert_int_equal(exec_cmd(a, wcdb, 10, block, 512, NULL, 0, NULL).status,
			 PRPATH_SCSI_STATUS_GOOD);
	/* B is not the holder: its RESERVE conflicts; A's RELEASE works */
	assert_int_equal(prout(b, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_WERO, 0xB, 0,
			       false).status,
			 PRPATH_SCSI_STATUS_RESERVATION_CONFLICT);
	prout_good(a, PRPATH_PR_OUT_RELEASE, PRPATH_PR_TYPE_WERO, 0xA, 0, false);
	prpath_lu_nexus_close(a);
	prpath_lu_nexus_close(b);
	prpath_lu_nexus_close(stranger);
	prpath_lu_free(lu);
}

/* An all-registrants reservation and ALL_TG_PT survive as well. */
static void test_restart_all_registrants(void **state)
{
	struct fx *f = *state;
	struct view before, after;
	struct prpath_lu *lu = lu_open_ok(f);
	struct prpath_nexus *a = nx_open(lu, NAME_A, 1);
	struct prpath_nexus *b = nx_open(lu, NAME_B, 2);

	prout_good(a, PRPATH_PR_OUT_REGISTER, 0, 0, 0x1111, true);
	prout_good(b, PRPATH_PR_OUT_REGISTER, 0, 0, 0x2222, true);
	prout_good(b, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_EAAR, 0x2222, 0, false);
	/* change A's key: generation 3 */
	prout_good(a, PRPATH_PR_OUT_REGISTER, 0, 0x1111, 0x3333, true);
	take_view(a, &before);
	assert_int_equal(prpath_get_be32(before.keys), 3);
	assert_int_equal(before.resv[21], PRPATH_PR_TYPE_EAAR);
	assert_int_equal(prpath_get_be64(before.resv + 8), 0);
	prpath_lu_nexus_close(a);
	prpath_lu_nexus_close(b);
	prpath_lu_free(lu);

	lu = lu_open_ok(f);
	a = nx_open(lu, NAME_A, 1);
	take_view(a, &after);
	assert_same_view(&before, &after);
	prpath_lu_nexus_close(a);
	prpath_lu_free(lu);
}

/* ---- (2) APTPL=0 ------------------------------------------------------------ */

static void test_aptpl0_lost(void **state)
{
	struct fx *f = *state;
	struct prpath_lu *lu = lu_open_ok(f);
	struct prpath_nexus *a = nx_open(lu, NAME_A, 1);
	struct prpath_nexus *b = nx_open(lu, NAME_B, 1);
	uint8_t keys[64];

	/* APTPL=0 from the start: no file at all */
	prout_good(a, PRPATH_PR_OUT_REGISTER, 0, 0, 0xA, false);
	assert_false(file_exists(f->state));
	/* APTPL=1: file; then APTPL=0 again: the file goes */
	prout_good(b, PRPATH_PR_OUT_REGISTER, 0, 0, 0xB, true);
	assert_true(file_exists(f->state));
	prout_good(a, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_WE, 0xA, 0, false);
	prout_good(b, PRPATH_PR_OUT_REGISTER, 0, 0xB, 0xB2, false);
	assert_false(file_exists(f->state));
	assert_false(file_exists(f->tmp));
	assert_int_equal(prpath_lu_registrations(lu), 2);
	prpath_lu_nexus_close(a);
	prpath_lu_nexus_close(b);
	prpath_lu_free(lu);

	lu = lu_open_ok(f);
	assert_int_equal(prpath_lu_registrations(lu), 0);
	assert_int_equal(prpath_lu_pr_generation(lu), 0);
	a = nx_open(lu, NAME_A, 1);
	assert_int_equal(prin(a, PRPATH_PR_IN_READ_KEYS, keys, sizeof(keys)), 8);
	assert_int_equal(prpath_get_be32(keys + 4), 0);
	assert_int_equal(prin(a, PRPATH_PR_IN_READ_RESERVATION, keys, sizeof(keys)), 8);
	assert_int_equal(prpath_get_be32(keys + 4), 0);
	prpath_lu_nexus_close(a);
	prpath_lu_free(lu);
}

/* ---- (3) a failed write fails the command and changes nothing -------------- */

static void fail_at_stage(struct fx *f, const char *stage, bool to_aptpl0)
{
	struct prpath_lu *lu;
	struct prpath_nexus *a, *b;
	struct view before, after;
	uint8_t *file0, *file1;
	size_t len0, len1;
	struct res r;

	f->fail_stage = NULL;
	f->hits = 0;
	f->stages[0] = '\0';
	unlink(f->state);
	lu = lu_open_ok(f);
	a = nx_open(lu, NAME_A, 1);
	b = nx_open(lu, NAME_B, 2);
	prout_good(a, PRPATH_PR_OUT_REGISTER, 0, 0, 0xA, true);
	prout_good(b, PRPATH_PR_OUT_REGISTER, 0, 0, 0xB, true);
	prout_good(a, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_EARO, 0xA, 0, false);
	take_view(a, &before);
	file0 = slurp(f->state, &len0);

	f->fail_stage = stage;
	f->fail_errno = EIO;
	f->stages[0] = '\0';
	if (to_aptpl0) /* unregister A, with APTPL=0: the file would go */
		r = prout(a, PRPATH_PR_OUT_REGISTER, 0, 0xA, 0, false);
	else /* A unregisters: loses the reservation too */
		r = prout(a, PRPATH_PR_OUT_REGISTER, 0, 0xA, 0, true);
	if (f->hits != 1)
		fail_msg("stage %s not reached (stages: %s)", stage, f->stages);
	/* HARDWARE ERROR / INTERNAL TARGET FAILURE */
	assert_int_equal(r.status, PRPATH_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.key, PRPATH_SCSI_SK_HARDWARE_ERROR);
	assert_int_equal(r.asc << 8 | r.ascq, PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	f->fail_stage = NULL;

	take_view(b, &after);
	assert_same_view(&before, &after);
	assert_int_equal(prpath_lu_registrations(lu), 2);
	file1 = slurp(f->state, &len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(file0, file1, len0);
	free(file1);
	assert_false(file_exists(f->tmp));
	assert_false(file_exists(f->bak));

	/* the next command works and is persisted */
	prout_good(b, PRPATH_PR_OUT_REGISTER, 0, 0xB, 0xB2, true);
	take_view(b, &before);
	prpath_lu_nexus_close(a);
	prpath_lu_nexus_close(b);
	prpath_lu_free(lu);

	lu = lu_open_ok(f);
	b = nx_open(lu, NAME_B, 2);
	take_view(b, &after);
	assert_same_view(&before, &after);
	prpath_lu_nexus_close(b);
	prpath_lu_free(lu);
	free(file0);
}

static void test_hook_fail_each_stage(void **state)
{
	static const char *const stages[] = {
		"open", "write", "fsync", "rename", "dirsync",
	};

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		fail_at_stage(*state, stages[i], false);
}

static void test_hook_fail_remove(void **state)
{
	fail_at_stage(*state, "unlink", true);
	fail_at_stage(*state, "dirsync", true);
}

/* ---- (4) SIGKILL during a stream of APTPL writes --------------------------- */

#define CRASH_KEY(i) (0x5000000000000000ull + (uint64_t)(i))

static void crash_child(struct fx *f, int wfd)
{
	struct prpath_lu_config cfg = {
		.size = 1 << 20,
		.state_path = f->state,
	};
	struct prpath_lu *lu;
	struct prpath_nexus *nx;

	if (prpath_lu_new(&cfg, &lu) != 0 ||
	    prpath_lu_nexus_open(lu, NAME_A, 1, &nx) != 0)
		_exit(3);
	for (uint32_t i = 1;; i++) {
		struct res r = prout(nx, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0,
				     CRASH_KEY(i), true);

		if (r.status != PRPATH_SCSI_STATUS_GOOD)
			_exit(2);
		if (write(wfd, &i, sizeof(i)) != sizeof(i))
			_exit(4);
	}
}

static void test_crash_sigkill(void **state)
{
	struct fx *f = *state;
	unsigned seed = 0x5eed;

	for (int round = 0; round < 30; round++) {
		int p[2], st;
		pid_t pid;
		uint32_t last = 0, v;
		struct timespec ts;
		struct prpath_lu *lu;
		struct prpath_nexus *nx;
		uint8_t keys[64];
		size_t n;

		unlink(f->state);
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(f, p[1]);
		}
		close(p[1]);
		/* 1..40 ms, seeded */
		seed = seed * 1103515245u + 12345u;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(1 + (seed >> 16) % 40) * 1000000L;
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		while (read(p[0], &v, sizeof(v)) == sizeof(v))
			last = v;
		close(p[0]);

		assert_int_equal(lu_open(f, 0, &lu), 0);
		assert_false(file_exists(f->tmp));
		nx = nx_open(lu, NAME_A, 1);
		n = prin(nx, PRPATH_PR_IN_READ_KEYS, keys, sizeof(keys));
		if (prpath_get_be32(keys + 4) == 0) {
			/* nothing persisted: only when no command completed */
			assert_int_equal(last, 0);
		} else {
			uint64_t k;

			assert_int_equal(n, 16);
			assert_int_equal(prpath_get_be32(keys + 4), 8);
			k = prpath_get_be64(keys + 8);
			if (k != CRASH_KEY(last) && k != CRASH_KEY(last + 1))
				fail_msg("round %d: key %#llx, last completed %u",
					 round, (unsigned long long)k, last);
		}
		prpath_lu_nexus_close(nx);
		prpath_lu_free(lu);
	}
}

/* ---- (5) corrupt files ----------------------------------------------------- */

static void expect_corrupt(struct fx *f, const uint8_t *buf, size_t len,
			   uint32_t max_reg, const char *what, size_t arg)
{
	struct prpath_lu *lu;
	uint8_t *after;
	size_t alen;
	int rc;

	spew(f->state, buf, len);
	rc = lu_open(f, max_reg, &lu);
	if (rc != -EBADMSG) {
		if (rc == 0)
			prpath_lu_free(lu);
		fail_msg("%s %zu: prpath_lu_new returned %d", what, arg, rc);
	}
	after = slurp(f->state, &alen);
	assert_int_equal(alen, len);
	assert_memory_equal(after, buf, len);
	free(after);
}

/* Rewrites the CRC so only the semantic checks can catch the change. */
static void fix_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = crc32c(0, buf, 16);

	crc = crc32c(crc, buf + 20, len - 20);
	prpath_put_be32(buf + 16, crc);
}

static void test_corrupt_files(void **state)
{
	struct fx *f = *state;
	struct view v;
	uint8_t *good, *bad;
	size_t len;
	struct prpath_lu *lu;

	build_state(f, &v);
	good = slurp(f->state, &len);
	bad = malloc(len + 64);
	assert_non_null(bad);

	/* every single flipped bit of every byte position */
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, good, len);
		bad[i] ^= 0x01;
		expect_corrupt(f, bad, len, 0, "flip at", i);
		bad[i] ^= 0x81;
		expect_corrupt(f, bad, len, 0, "flip high at", i);
	}
	/* truncated at every length */
	for (size_t i = 0; i < len; i++)
		expect_corrupt(f, good, i, 0, "truncated to", i);
	/* extended by garbage */
	memcpy(bad, good, len);
	memset(bad + len, 0, 8);
	expect_corrupt(f, bad, len + 8, 0, "extended", 8);

	/* wrong magic, version (CRC fixed up) */
	memcpy(bad, good, len);
	memcpy(bad, "PRPATHXX", 8);
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "magic", 0);
	memcpy(bad, good, len);
	prpath_put_be16(bad + 8, 2);
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "version", 2);

	/* huge registration counts, with a valid CRC */
	memcpy(bad, good, len);
	prpath_put_be32(bad + 32, 0xffffffffu);
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "count", 0xffffffffu);
	memcpy(bad, good, len);
	prpath_put_be32(bad + 32, 4);
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "count", 4);
	/* more registrations than the LU allows */
	expect_corrupt(f, good, len, 2, "max_registrations", 2);

	/* invalid type, holder out of range, holder with an AR type */
	memcpy(bad, good, len);
	bad[25] = 2;
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "type", 2);
	memcpy(bad, good, len);
	prpath_put_be32(bad + 28, 3);
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "holder", 3);
	memcpy(bad, good, len);
	bad[25] = PRPATH_PR_TYPE_WEAR;
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "ar holder", 0);
	/* scope other than LU */
	memcpy(bad, good, len);
	bad[26] = 1;
	fix_crc(bad, len);
	expect_corrupt(f, bad, len, 0, "scope", 1);

	/* the third registration (C on port 1) renamed to A: duplicate; the
	 * names have the same length, so only the name bytes change */
	memcpy(bad, good, len);
	{
		size_t la = strlen(NAME_A) + 1, lb = strlen(NAME_B) + 1;
		size_t r3 = 36 + (14 + la) + (14 + lb);

		assert_int_equal(prpath_get_be16(bad + r3 + 12), la);
		memcpy(bad + r3 + 14, NAME_A, la);
		fix_crc(bad, len);
		expect_corrupt(f, bad, len, 0, "duplicate", 3);
		/* a name without its NUL */
		memcpy(bad, good, len);
		bad[r3 + 14 + la - 1] = 'x';
		fix_crc(bad, len);
		expect_corrupt(f, bad, len, 0, "unterminated", 3);
		/* key 0 */
		memcpy(bad, good, len);
		prpath_put_be64(bad + r3, 0);
		fix_crc(bad, len);
		expect_corrupt(f, bad, len, 0, "key0", 3);
	}

	/* a directory where the file should be is not "absent" */
	unlink(f->state);
	assert_int_equal(mkdir(f->state, 0700), 0);
	assert_int_equal(lu_open(f, 0, &lu), -EBADMSG);
	assert_int_equal(rmdir(f->state), 0);

	/* the good file still loads */
	spew(f->state, good, len);
	lu = lu_open_ok(f);
	check_built_state(lu, &v);
	prpath_lu_free(lu);
	free(good);
	free(bad);
}

/* ---- (6) leftovers of an interrupted write --------------------------------- */

static void test_leftover_tmp(void **state)
{
	struct fx *f = *state;
	static const uint8_t junk[] = "PRPATHPR half-written";
	struct view v;
	struct prpath_lu *lu;

	/* no state file, only a .tmp: empty LU, .tmp gone */
	spew(f->tmp, junk, sizeof(junk));
	lu = lu_open_ok(f);
	assert_int_equal(prpath_lu_registrations(lu), 0);
	assert_false(file_exists(f->tmp));
	prpath_lu_free(lu);

	/* a state file and a .tmp (and a .bak): the state file wins */
	build_state(f, &v);
	spew(f->tmp, junk, sizeof(junk));
	spew(f->bak, junk, sizeof(junk));
	lu = lu_open_ok(f);
	check_built_state(lu, &v);
	assert_false(file_exists(f->tmp));
	assert_false(file_exists(f->bak));
	prpath_lu_free(lu);
}

/* ---- internal: serialise / restore --------------------------------------- */

static void ser(struct prpath_lu *lu, uint8_t **buf, size_t *len)
{
	pthread_mutex_lock(&lu->lock);
	assert_int_equal(ds_state_serialize(lu, buf, len), 0);
	pthread_mutex_unlock(&lu->lock);
}

static int rest(struct prpath_lu *lu, const uint8_t *buf, size_t len)
{
	int rc;

	pthread_mutex_lock(&lu->lock);
	rc = ds_state_restore(lu, buf, len);
	pthread_mutex_unlock(&lu->lock);
	return rc;
}

static void test_restore_roundtrip(void **state)
{
	struct fx *f = *state;
	struct prpath_lu_config cfg = { .size = 1 << 20 };
	struct prpath_lu *lu;
	struct prpath_nexus *a, *b, *c;
	uint8_t *s0, *s1, *s2, *s3;
	size_t l0, l1, l2, l3;
	struct view v0, v1;

	(void)f;
	assert_int_equal(prpath_lu_new(&cfg, &lu), 0);
	a = nx_open(lu, NAME_A, 1);
	b = nx_open(lu, NAME_B, 1);
	ser(lu, &s0, &l0);              /* empty state */
	prout_good(a, PRPATH_PR_OUT_REGISTER, 0, 0, 0xA, false);
	prout_good(b, PRPATH_PR_OUT_REGISTER, 0, 0, 0xB, false);
	prout_good(b, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_WE, 0xB, 0, false);
	take_view(a, &v0);
	ser(lu, &s1, &l1);

	/* restore over itself: same bytes */
	assert_int_equal(rest(lu, s1, l1), 0);
	ser(lu, &s2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	free(s2);

	/* back to empty, then to s1 again: the same PR IN data */
	assert_int_equal(rest(lu, s0, l0), 0);
	assert_int_equal(prpath_lu_registrations(lu), 0);
	assert_int_equal(prpath_lu_pr_generation(lu), 0);
	assert_int_equal(rest(lu, s1, l1), 0);
	take_view(a, &v1);
	assert_same_view(&v0, &v1);

	/* a registration of a nexus that was never opened comes back too */
	c = nx_open(lu, NAME_C, 1);
	prout_good(c, PRPATH_PR_OUT_REGISTER, 0, 0, 0xC, false);
	ser(lu, &s3, &l3);
	prpath_lu_nexus_close(c);
	assert_int_equal(rest(lu, s0, l0), 0);
	assert_int_equal(rest(lu, s3, l3), 0);
	assert_int_equal(prpath_lu_registrations(lu), 3);
	ser(lu, &s2, &l2);
	assert_int_equal(l2, l3);
	assert_memory_equal(s2, s3, l3);
	free(s2);

	/* a bad buffer changes nothing */
	s3[l3 - 1] ^= 1;
	assert_int_equal(rest(lu, s3, l3), -EBADMSG);
	assert_int_equal(rest(lu, s3, 10), -EBADMSG);
	assert_int_equal(rest(lu, NULL, 0), -EBADMSG);
	s3[l3 - 1] ^= 1;
	ser(lu, &s2, &l2);
	assert_int_equal(l2, l3);
	assert_memory_equal(s2, s3, l3);
	free(s2);

	prpath_lu_nexus_close(a);
	prpath_lu_nexus_close(b);
	prpath_lu_free(lu);
	free(s0);
	free(s1);
	free(s3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_all_registrants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aptpl0_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_fail_each_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_fail_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_sigkill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_roundtrip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
