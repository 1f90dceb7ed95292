/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device server block and information commands, driven through the public
 * LU API (prpath_lu_new / prpath_lu_nexus_open / prpath_lu_execute) with
 * hand-built CDBs, on a file-backed and a memory-backed LU.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <prpath/lu.h>
#include <prpath/scsi.h>

#include "ds/ds_int.h" /* limits advertised in VPD B0h, lu->serial */

#define PORT_A "iqn.2026-11.test:a,i,0x000000000001"
#define PORT_B "iqn.2026-11.test:b,i,0x000000000002"
#define BS 512u
#define NBLOCKS 2048u

struct env {
	char dir[64];
	char path[96];
	struct prpath_lu *lu;
	struct prpath_nexus *nx;
	uint16_t ports[2];
};

static void env_lu_new(struct env *e, bool file, uint64_t size)
{
	struct prpath_lu_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = file ? e->path : NULL;
	cfg.size = size;
	cfg.block_size = BS;
	cfg.lu_id = 0x1122334455667788ull;
	e->ports[0] = 1;
	e->ports[1] = 2;
	cfg.target_ports = e->ports;
	cfg.ntarget_ports = 2;
	assert_int_equal(prpath_lu_new(&cfg, &e->lu), 0);
	assert_int_equal(prpath_lu_nexus_open(e->lu, PORT_A, 1, &e->nx), 0);
}

static void env_lu_free(struct env *e)
{
	prpath_lu_nexus_close(e->nx);
	e->nx = NULL;
	prpath_lu_free(e->lu);
	e->lu = NULL;
}

static struct env *env_new(bool file)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/prpath-block-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof(e->path), "%s/lu.img", e->dir);
	env_lu_new(e, file, (uint64_t)NBLOCKS * BS);
	return e;
}

static int setup_file(void **state)
{
	*state = env_new(true);
	return 0;
}

static int setup_mem(void **state)
{
	*state = env_new(false);
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e->lu)
		env_lu_free(e);
	unlink(e->path);
	rmdir(e->dir);
	free(e);
	return 0;
}

/* ---- command helpers ---------------------------------------------------- */

static void run(struct prpath_nexus *nx, struct prpath_cmd *c, const uint8_t *cdb,
		size_t cdb_len, const void *out, size_t out_len, void *in,
		size_t in_cap)
{
	memset(c, 0, sizeof(*c));
	c->cdb = cdb;
	c->cdb_len = cdb_len;
	c->data_out = out;
	c->data_out_len = out_len;
	c->data_in = in;
	c->data_in_cap = in_cap;
	assert_int_equal(prpath_lu_execute(nx, c), 0);
}

static void assert_good(const struct prpath_cmd *c)
{
	if (c->status != PRPATH_SCSI_STATUS_GOOD && c->sense_len >= 14)
		print_error("status %02x sense %x/%02x/%02x\n", c->status,
			    c->sense[2] & 0xf, c->sense[12], c->sense[13]);
	assert_int_equal(c->status, PRPATH_SCSI_STATUS_GOOD);
}

static void assert_sense(const struct prpath_cmd *c, uint8_t key, uint16_t ascq)
{
	struct prpath_sense s;

	assert_int_equal(c->status, PRPATH_SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(prpath_sense_decode(c->sense, c->sense_len, &s), 0);
	assert_int_equal(s.key, key);
	assert_int_equal(s.asc, ascq >> 8);
	assert_int_equal(s.ascq, ascq & 0xff);
}

static void assert_illegal(const struct prpath_cmd *c, uint16_t ascq)
{
	assert_sense(c, PRPATH_SCSI_SK_ILLEGAL_REQUEST, ascq);
}

static void cdb_rw(uint8_t *cdb, size_t len, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	switch (len) {
	case 6:
		cdb[1] = (uint8_t)((lba >> 16) & 0x1f);
		prpath_put_be16(cdb + 2, (uint16_t)lba);
		cdb[4] = (uint8_t)n;
		break;
	case 10:
		prpath_put_be32(cdb + 2, (uint32_t)lba);
		prpath_put_be16(cdb + 7, (uint16_t)n);
		break;
	case 12:
		prpath_put_be32(cdb + 2, (uint32_t)lba);
		prpath_put_be32(cdb + 6, n);
		break;
	default:
		prpath_put_be64(cdb + 2, lba);
		prpath_put_be32(cdb + 10, n);
		break;
	}
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

static void do_write(struct prpath_nexus *nx, uint64_t lba, uint32_t n,
		     const uint8_t *data)
{
	struct prpath_cmd c;
	uint8_t cdb[16];

	cdb_rw(cdb, 16, PRPATH_SCSI_OP_WRITE16, lba, n);
	run(nx, &c, cdb, 16, data, (size_t)n * BS, NULL, 0);
	assert_good(&c);
}

static void do_read(struct prpath_nexus *nx, uint64_t lba, uint32_t n,
		    uint8_t *data)
{
	struct prpath_cmd c;
	uint8_t cdb[16];

	cdb_rw(cdb, 10, PRPATH_SCSI_OP_READ10, lba, n);
	run(nx, &c, cdb, 10, NULL, 0, data, (size_t)n * BS);
	assert_good(&c);
	assert_int_equal(c.data_in_len, (size_t)n * BS);
}

static bool is_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Does the file system of @dir report holes (SEEK_DATA)? */
static bool fs_has_holes(const char *dir)
{
	char p[128];
	bool ok = false;
	int fd;

	snprintf(p, sizeof(p), "%s/holes", dir);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	if (ftruncate(fd, 1 << 20) == 0 && lseek(fd, 0, SEEK_DATA) < 0 &&
	    errno == ENXIO)
		ok = true;
	close(fd);
	unlink(p);
	return ok;
}

/* ---- READ / WRITE -------------------------------------------------------- */

static void test_read_write_all_sizes(void **state)
{
	static const struct { uint8_t wop, rop; size_t len; } v[] = {
		{ PRPATH_SCSI_OP_WRITE6, PRPATH_SCSI_OP_READ6, 6 },
		{ PRPATH_SCSI_OP_WRITE10, PRPATH_SCSI_OP_READ10, 10 },
		{ PRPATH_SCSI_OP_WRITE12, PRPATH_SCSI_OP_READ12, 12 },
		{ PRPATH_SCSI_OP_WRITE16, PRPATH_SCSI_OP_READ16, 16 },
	};
	struct env *e = *state;
	uint8_t out[4 * BS], in[4 * BS + 100], cdb[16];
	struct prpath_cmd c;
	size_t i;

	for (i = 0; i < 4; i++) {
		uint64_t lba = 10 + 5 * i;

		fill(out, sizeof(out), (unsigned)i + 1);
		cdb_rw(cdb, v[i].len, v[i].wop, lba, 3);
		run(e->nx, &c, cdb, v[i].len, out, 3 * BS, NULL, 0);
		assert_good(&c);
		assert_int_equal(c.data_in_len, 0);

		memset(in, 0xee, sizeof(in));
		cdb_rw(cdb, v[i].len, v[i].rop, lba, 3);
		run(e->nx, &c, cdb, v[i].len, NULL, 0, in, sizeof(in));
		assert_good(&c);
		assert_int_equal(c.data_in_len, 3 * BS);
		assert_memory_equal(in, out, 3 * BS);
		assert_int_equal(in[3 * BS], 0xee); /* nothing beyond */
	}
	/* FUA and DPO accepted */
	fill(out, BS, 9);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_WRITE10, 100, 1);
	cdb[1] = 0x18;
	run(e->nx, &c, cdb, 10, out, BS, NULL, 0);
	assert_good(&c);
	do_read(e->nx, 100, 1, in);
	assert_memory_equal(in, out, BS);
}

static void test_rw6_zero_is_256(void **state)
{
	struct env *e = *state;
	uint8_t *out = malloc(256 * BS), *in = malloc(257 * BS);
	struct prpath_cmd c;
	uint8_t cdb[16];

	assert_non_null(out);
	assert_non_null(in);
	fill(out, 256 * BS, 77);
	cdb_rw(cdb, 6, PRPATH_SCSI_OP_WRITE6, 300, 0);
	run(e->nx, &c, cdb, 6, out, 256 * BS, NULL, 0);
	assert_good(&c);
	cdb_rw(cdb, 6, PRPATH_SCSI_OP_READ6, 300, 0);
	run(e->nx, &c, cdb, 6, NULL, 0, in, 257 * BS);
	assert_good(&c);
	assert_int_equal(c.data_in_len, 256 * BS);
	assert_memory_equal(in, out, 256 * BS);
	/* a WRITE(6) of 256 blocks with one block of data: refused, no write */
	cdb_rw(cdb, 6, PRPATH_SCSI_OP_WRITE6, 0, 0);
	run(e->nx, &c, cdb, 6, out, BS, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	free(out);
	free(in);
}

static void test_transfer_length_zero(void **state)
{
	struct env *e = *state;
	static const uint8_t ops[][2] = {
		{ PRPATH_SCSI_OP_READ10, 10 }, { PRPATH_SCSI_OP_READ12, 12 }, { PRPATH_SCSI_OP_READ16, 16 },
		{ PRPATH_SCSI_OP_WRITE10, 10 }, { PRPATH_SCSI_OP_WRITE12, 12 }, { PRPATH_SCSI_OP_WRITE16, 16 },
		{ PRPATH_SCSI_OP_VERIFY10, 10 }, { PRPATH_SCSI_OP_WRITE_VERIFY16, 16 },
	};
	uint8_t in[BS], cdb[16];
	struct prpath_cmd c;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		cdb_rw(cdb, ops[i][1], ops[i][0], 7, 0);
		run(e->nx, &c, cdb, ops[i][1], NULL, 0, in, sizeof(in));
		assert_good(&c);
		assert_int_equal(c.data_in_len, 0);
	}
}

static void test_short_data_out(void **state)
{
	struct env *e = *state;
	uint8_t out[BS], cdb[16];
	struct prpath_cmd c;

	memset(out, 0x5a, sizeof(out));
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_WRITE10, 0, 2);
	run(e->nx, &c, cdb, 10, out, BS, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	do_read(e->nx, 0, 1, out);
	assert_true(is_zero(out, BS));
}

static void test_protect_fields_refused(void **state)
{
	struct env *e = *state;
	uint8_t buf[BS], cdb[16];
	struct prpath_cmd c;

	cdb_rw(cdb, 10, PRPATH_SCSI_OP_READ10, 0, 1);
	cdb[1] = 0x20; /* RDPROTECT=1 */
	run(e->nx, &c, cdb, 10, NULL, 0, buf, sizeof(buf));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_WRITE16, 0, 1);
	cdb[1] = 0x40; /* WRPROTECT=2 */
	run(e->nx, &c, cdb, 16, buf, sizeof(buf), NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

static void test_max_transfer_length(void **state)
{
	struct env *e = *state;
	uint8_t cdb[16], in[BS];
	struct prpath_cmd c;

	/* more than MAXIMUM TRANSFER LENGTH: 05/24/00 even within range */
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_READ16, 0, DS_MAX_XFER_BYTES / BS + 1);
	run(e->nx, &c, cdb, 16, NULL, 0, in, sizeof(in));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

/* Every block command on a range beyond the end: 05/21/00. */
static void test_lba_out_of_range(void **state)
{
	struct env *e = *state;
	uint8_t buf[2 * BS], cdb[16], plist[24];
	struct prpath_cmd c;
	static const struct { uint8_t op, len; } v[] = {
		{ PRPATH_SCSI_OP_READ6, 6 }, { PRPATH_SCSI_OP_READ10, 10 }, { PRPATH_SCSI_OP_READ12, 12 },
		{ PRPATH_SCSI_OP_READ16, 16 }, { PRPATH_SCSI_OP_WRITE6, 6 }, { PRPATH_SCSI_OP_WRITE10, 10 },
		{ PRPATH_SCSI_OP_WRITE12, 12 }, { PRPATH_SCSI_OP_WRITE16, 16 },
		{ PRPATH_SCSI_OP_VERIFY10, 10 }, { PRPATH_SCSI_OP_VERIFY12, 12 }, { PRPATH_SCSI_OP_VERIFY16, 16 },
		{ PRPATH_SCSI_OP_WRITE_VERIFY10, 10 }, { PRPATH_SCSI_OP_WRITE_VERIFY12, 12 },
		{ PRPATH_SCSI_OP_WRITE_VERIFY16, 16 }, { PRPATH_SCSI_OP_PRE_FETCH10, 10 },
		{ PRPATH_SCSI_OP_PRE_FETCH16, 16 }, { PRPATH_SCSI_OP_SYNCHRONIZE_CACHE10, 10 },
		{ PRPATH_SCSI_OP_SYNCHRONIZE_CACHE16, 16 }, { PRPATH_SCSI_OP_WRITE_SAME10, 10 },
		{ PRPATH_SCSI_OP_WRITE_SAME16, 16 },
	};
	size_t i;

	memset(buf, 0, sizeof(buf));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* last block + one more */
		cdb_rw(cdb, v[i].len, v[i].op, NBLOCKS - 1, 2);
		run(e->nx, &c, cdb, v[i].len, buf, sizeof(buf), buf, sizeof(buf));
		assert_illegal(&c, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);
	}
	/* 64-bit wrap-around */
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_READ16, UINT64_MAX, 2);
	run(e->nx, &c, cdb, 16, NULL, 0, buf, sizeof(buf));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);
	/* zero blocks: at the end is fine, past it is not */
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_READ10, NBLOCKS, 0);
	run(e->nx, &c, cdb, 10, NULL, 0, buf, sizeof(buf));
	assert_good(&c);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_READ10, NBLOCKS + 1, 0);
	run(e->nx, &c, cdb, 10, NULL, 0, buf, sizeof(buf));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);
	/* the last block itself is in range */
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_READ10, NBLOCKS - 1, 1);
	run(e->nx, &c, cdb, 10, NULL, 0, buf, sizeof(buf));
	assert_good(&c);

	/* COMPARE AND WRITE */
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_COMPARE_AND_WRITE;
	prpath_put_be64(cdb + 2, NBLOCKS);
	cdb[13] = 1;
	run(e->nx, &c, cdb, 16, buf, sizeof(buf), NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);

	/* UNMAP descriptor */
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_UNMAP;
	prpath_put_be16(cdb + 7, sizeof(plist));
	memset(plist, 0, sizeof(plist));
	prpath_put_be16(plist, 22);
	prpath_put_be16(plist + 2, 16);
	prpath_put_be64(plist + 8, NBLOCKS - 4);
	prpath_put_be32(plist + 16, 5);
	run(e->nx, &c, cdb, 10, plist, sizeof(plist), NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);

	/* GET LBA STATUS */
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = PRPATH_SCSI_SAI_GET_LBA_STATUS;
	prpath_put_be64(cdb + 2, NBLOCKS);
	prpath_put_be32(cdb + 10, 64);
	run(e->nx, &c, cdb, 16, NULL, 0, buf, sizeof(buf));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);
}

/* ---- VERIFY, WRITE AND VERIFY, PRE-FETCH, SYNCHRONIZE CACHE ------------- */

static void test_verify(void **state)
{
	struct env *e = *state;
	uint8_t data[4 * BS], cdb[16];
	struct prpath_cmd c;
	struct prpath_sense s;
	size_t i;

	fill(data, sizeof(data), 3);
	do_write(e->nx, 40, 4, data);

	/* BYTCHK=0: range check only */
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_VERIFY10, 40, 4);
	run(e->nx, &c, cdb, 10, NULL, 0, NULL, 0);
	assert_good(&c);
	/* BYTCHK=1, equal */
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_VERIFY16, 40, 4);
	cdb[1] = 0x02;
	run(e->nx, &c, cdb, 16, data, sizeof(data), NULL, 0);
	assert_good(&c);
	/* BYTCHK=1, differs at byte 1000 of the data-out buffer */
	data[1000] ^= 0xff;
	cdb_rw(cdb, 12, PRPATH_SCSI_OP_VERIFY12, 40, 4);
	cdb[1] = 0x02;
	run(e->nx, &c, cdb, 12, data, sizeof(data), NULL, 0);
	assert_sense(&c, PRPATH_SCSI_SK_MISCOMPARE, PRPATH_SCSI_ASCQ_MISCOMPARE_DURING_VERIFY);
	assert_int_equal(prpath_sense_decode(c.sense, c.sense_len, &s), 0);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 1000);
	data[1000] ^= 0xff;
	/* BYTCHK=3: one block compared with every block of the range */
	for (i = 0; i < 4; i++)
		memcpy(data + i * BS, data, BS);
	do_write(e->nx, 40, 4, data);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_VERIFY10, 40, 4);
	cdb[1] = 0x06;
	run(e->nx, &c, cdb, 10, data, BS, NULL, 0);
	assert_good(&c);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_VERIFY10, 39, 4);
	cdb[1] = 0x06;
	run(e->nx, &c, cdb, 10, data, BS, NULL, 0);
	assert_sense(&c, PRPATH_SCSI_SK_MISCOMPARE, PRPATH_SCSI_ASCQ_MISCOMPARE_DURING_VERIFY);
	/* BYTCHK=2 is reserved */
	cdb[1] = 0x04;
	run(e->nx, &c, cdb, 10, data, BS, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

static void test_write_verify(void **state)
{
	struct env *e = *state;
	uint8_t out[2 * BS], in[2 * BS], cdb[16];
	struct prpath_cmd c;
	static const struct { uint8_t op, len; } v[] = {
		{ PRPATH_SCSI_OP_WRITE_VERIFY10, 10 }, { PRPATH_SCSI_OP_WRITE_VERIFY12, 12 },
		{ PRPATH_SCSI_OP_WRITE_VERIFY16, 16 },
	};
	size_t i;

	for (i = 0; i < 3; i++) {
		fill(out, sizeof(out), 20 + (unsigned)i);
		cdb_rw(cdb, v[i].len, v[i].op, 200, 2);
		cdb[1] = 0x02; /* BYTCHK */
		run(e->nx, &c, cdb, v[i].len, out, sizeof(out), NULL, 0);
		assert_good(&c);
		do_read(e->nx, 200, 2, in);
		assert_memory_equal(in, out, sizeof(out));
	}
}

static void test_prefetch_sync(void **state)
{
	struct env *e = *state;
	uint8_t cdb[16];
	struct prpath_cmd c;

	cdb_rw(cdb, 10, PRPATH_SCSI_OP_PRE_FETCH10, 0, 16);
	run(e->nx, &c, cdb, 10, NULL, 0, NULL, 0);
	assert_int_equal(c.status, PRPATH_SCSI_STATUS_CONDITION_MET);
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_PRE_FETCH16, 100, 0);
	run(e->nx, &c, cdb, 16, NULL, 0, NULL, 0);
	assert_int_equal(c.status, PRPATH_SCSI_STATUS_CONDITION_MET);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_SYNCHRONIZE_CACHE10, 0, 0);
	run(e->nx, &c, cdb, 10, NULL, 0, NULL, 0);
	assert_good(&c);
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_SYNCHRONIZE_CACHE16, 10, 10);
	run(e->nx, &c, cdb, 16, NULL, 0, NULL, 0);
	assert_good(&c);
}

/* ---- WRITE SAME, UNMAP, GET LBA STATUS ---------------------------------- */

static void cdb_ws(uint8_t *cdb, bool ws16, uint8_t flags, uint64_t lba, uint32_t n)
{
	cdb_rw(cdb, ws16 ? 16 : 10, ws16 ? PRPATH_SCSI_OP_WRITE_SAME16 : PRPATH_SCSI_OP_WRITE_SAME10,
	       lba, n);
	cdb[1] = flags;
}

/* GET LBA STATUS for one LBA: 0 mapped, 1 deallocated; *cnt = extent */
static int lba_status(struct prpath_nexus *nx, uint64_t lba, uint32_t *cnt)
{
	uint8_t cdb[16], buf[24];
	struct prpath_cmd c;

	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = PRPATH_SCSI_SAI_GET_LBA_STATUS;
	prpath_put_be64(cdb + 2, lba);
	prpath_put_be32(cdb + 10, sizeof(buf));
	run(nx, &c, cdb, 16, NULL, 0, buf, sizeof(buf));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 24);
	assert_true(prpath_get_be32(buf) >= 20);
	assert_int_equal((prpath_get_be32(buf) - 4) % 16, 0);
	assert_int_equal(prpath_get_be64(buf + 8), lba);
	*cnt = prpath_get_be32(buf + 16);
	return buf[20] & 0x0f;
}

static void test_write_same(void **state)
{
	struct env *e = *state;
	uint8_t pat[BS], in[10 * BS], cdb[16];
	struct prpath_cmd c;
	size_t i;

	/* pattern over 8 blocks, neighbours untouched */
	fill(in, sizeof(in), 5);
	do_write(e->nx, 499, 10, in);
	fill(pat, BS, 42);
	cdb_ws(cdb, false, 0, 500, 8);
	run(e->nx, &c, cdb, 10, pat, BS, NULL, 0);
	assert_good(&c);
	do_read(e->nx, 499, 10, in);
	for (i = 1; i <= 8; i++)
		assert_memory_equal(in + i * BS, pat, BS);
	assert_memory_not_equal(in, pat, BS);
	assert_memory_not_equal(in + 9 * BS, pat, BS);

	/* WRITE SAME(16) NDOB: zeros, no data-out */
	cdb_ws(cdb, true, 0x01, 501, 2);
	run(e->nx, &c, cdb, 16, NULL, 0, NULL, 0);
	assert_good(&c);
	do_read(e->nx, 499, 10, in);
	assert_true(is_zero(in + 2 * BS, 2 * BS));
	assert_memory_equal(in + 4 * BS, pat, BS);

	/* WRITE SAME(16) UNMAP with a zero block: reads back as zeros */
	memset(pat, 0, BS);
	cdb_ws(cdb, true, 0x08, 503, 5);
	run(e->nx, &c, cdb, 16, pat, BS, NULL, 0);
	assert_good(&c);
	do_read(e->nx, 499, 10, in);
	assert_true(is_zero(in + 2 * BS, 7 * BS));
	assert_false(is_zero(in + 9 * BS, BS));

	/* WRITE SAME(10) with UNMAP and a non-zero pattern writes it */
	fill(pat, BS, 43);
	cdb_ws(cdb, false, 0x08, 503, 1);
	run(e->nx, &c, cdb, 10, pat, BS, NULL, 0);
	assert_good(&c);
	do_read(e->nx, 503, 1, in);
	assert_memory_equal(in, pat, BS);

	/* NUMBER OF LOGICAL BLOCKS 0 (WSNZ=1), too many, ANCHOR: 05/24/00 */
	cdb_ws(cdb, false, 0, 0, 0);
	run(e->nx, &c, cdb, 10, pat, BS, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	cdb_ws(cdb, true, 0, 0, DS_MAX_WS_BLOCKS + 1);
	run(e->nx, &c, cdb, 16, pat, BS, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	cdb_ws(cdb, true, 0x10, 0, 1);
	run(e->nx, &c, cdb, 16, pat, BS, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	/* missing data-out block */
	cdb_ws(cdb, true, 0, 0, 1);
	run(e->nx, &c, cdb, 16, NULL, 0, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

static void cdb_unmap(uint8_t *cdb, uint16_t plen)
{
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_UNMAP;
	prpath_put_be16(cdb + 7, plen);
}

static void test_unmap(void **state)
{
	struct env *e = *state;
	uint8_t data[64 * BS], in[64 * BS], cdb[16], pl[8 + 16 * 2];
	struct prpath_cmd c;

	fill(data, sizeof(data), 11);
	do_write(e->nx, 1024, 64, data);

	/* two descriptors: [1024+8, +16) and [1024+40, +8) */
	memset(pl, 0, sizeof(pl));
	prpath_put_be16(pl, sizeof(pl) - 2);
	prpath_put_be16(pl + 2, 32);
	prpath_put_be64(pl + 8, 1032);
	prpath_put_be32(pl + 16, 16);
	prpath_put_be64(pl + 24, 1064);
	prpath_put_be32(pl + 32, 8);
	cdb_unmap(cdb, sizeof(pl));
	run(e->nx, &c, cdb, 10, pl, sizeof(pl), NULL, 0);
	assert_good(&c);
	do_read(e->nx, 1024, 64, in);
	assert_memory_equal(in, data, 8 * BS);
	assert_true(is_zero(in + 8 * BS, 16 * BS));
	assert_memory_equal(in + 24 * BS, data + 24 * BS, 16 * BS);
	assert_true(is_zero(in + 40 * BS, 8 * BS));
	assert_memory_equal(in + 48 * BS, data + 48 * BS, 16 * BS);

	/* PARAMETER LIST LENGTH 0: nothing, GOOD */
	cdb_unmap(cdb, 0);
	run(e->nx, &c, cdb, 10, NULL, 0, NULL, 0);
	assert_good(&c);
	/* 1..7: PARAMETER LIST LENGTH ERROR */
	cdb_unmap(cdb, 4);
	run(e->nx, &c, cdb, 10, pl, 4, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR);
	/* descriptors cut by the parameter list length */
	cdb_unmap(cdb, 8 + 16);
	run(e->nx, &c, cdb, 10, pl, 8 + 16, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR);
	/* count above MAXIMUM UNMAP LBA COUNT: 05/26/00 */
	prpath_put_be32(pl + 16, DS_MAX_UNMAP_BLOCKS + 1);
	cdb_unmap(cdb, sizeof(pl));
	run(e->nx, &c, cdb, 10, pl, sizeof(pl), NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
	/* ANCHOR: 05/24/00 */
	prpath_put_be32(pl + 16, 1);
	cdb_unmap(cdb, sizeof(pl));
	cdb[1] = 0x01;
	run(e->nx, &c, cdb, 10, pl, sizeof(pl), NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);

	/* a bad second descriptor: nothing is unmapped */
	do_write(e->nx, 1024, 64, data);
	prpath_put_be64(pl + 8, 1024);
	prpath_put_be32(pl + 16, 4);
	prpath_put_be64(pl + 24, NBLOCKS);
	prpath_put_be32(pl + 32, 1);
	cdb_unmap(cdb, sizeof(pl));
	run(e->nx, &c, cdb, 10, pl, sizeof(pl), NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);
	do_read(e->nx, 1024, 4, in);
	assert_memory_equal(in, data, 4 * BS);
}

static void test_get_lba_status(void **state)
{
	struct env *e = *state;
	uint8_t data[32 * BS], cdb[16], pl[24], buf[8];
	struct prpath_cmd c;
	bool file = prpath_lu_blocks(e->lu) && access(e->path, F_OK) == 0;
	uint32_t cnt;

	fill(data, sizeof(data), 1);
	do_write(e->nx, 0, 32, data);
	assert_int_equal(lba_status(e->nx, 0, &cnt), 0);
	assert_true(cnt >= 32);

	/* unmap 16 blocks at 128 (fs-block aligned) */
	do_write(e->nx, 128, 32, data);
	memset(pl, 0, sizeof(pl));
	prpath_put_be16(pl, 22);
	prpath_put_be16(pl + 2, 16);
	prpath_put_be64(pl + 8, 128);
	prpath_put_be32(pl + 16, 16);
	cdb_unmap(cdb, sizeof(pl));
	run(e->nx, &c, cdb, 10, pl, sizeof(pl), NULL, 0);
	assert_good(&c);
	if (file && fs_has_holes(e->dir)) {
		assert_int_equal(lba_status(e->nx, 128, &cnt), 1);
		assert_int_equal(cnt, 16);
		assert_int_equal(lba_status(e->nx, 144, &cnt), 0);
		assert_int_equal(cnt, 16);
	} else {
		/* memory: everything is reported mapped, to the end */
		assert_int_equal(lba_status(e->nx, 128, &cnt), 0);
		assert_int_equal(cnt, NBLOCKS - 128);
	}
	/* allocation length 8: header only, PARAMETER DATA LENGTH still full */
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = PRPATH_SCSI_SAI_GET_LBA_STATUS;
	prpath_put_be32(cdb + 10, 8);
	run(e->nx, &c, cdb, 16, NULL, 0, buf, sizeof(buf));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 8);
	assert_int_equal(prpath_get_be32(buf), 20);
}

/* ---- COMPARE AND WRITE --------------------------------------------------- */

static void cdb_caw(uint8_t *cdb, uint64_t lba, uint8_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_COMPARE_AND_WRITE;
	prpath_put_be64(cdb + 2, lba);
	cdb[13] = n;
}

static void test_compare_and_write(void **state)
{
	struct env *e = *state;
	uint8_t old[2 * BS], buf[4 * BS], in[2 * BS], cdb[16];
	struct prpath_cmd c;
	struct prpath_sense s;

	fill(old, sizeof(old), 8);
	do_write(e->nx, 77, 2, old);

	/* match: written */
	memcpy(buf, old, 2 * BS);
	fill(buf + 2 * BS, 2 * BS, 9);
	cdb_caw(cdb, 77, 2);
	run(e->nx, &c, cdb, 16, buf, sizeof(buf), NULL, 0);
	assert_good(&c);
	do_read(e->nx, 77, 2, in);
	assert_memory_equal(in, buf + 2 * BS, 2 * BS);

	/* miscompare at byte 600 (second block): nothing written */
	memcpy(buf, in, 2 * BS);
	buf[600] ^= 0x01;
	fill(buf + 2 * BS, 2 * BS, 10);
	run(e->nx, &c, cdb, 16, buf, sizeof(buf), NULL, 0);
	assert_sense(&c, PRPATH_SCSI_SK_MISCOMPARE, PRPATH_SCSI_ASCQ_MISCOMPARE_DURING_VERIFY);
	assert_int_equal(prpath_sense_decode(c.sense, c.sense_len, &s), 0);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 600);
	assert_true(c.sense[0] & 0x80); /* VALID */
	assert_int_equal(prpath_get_be32(c.sense + 3), 600);
	do_read(e->nx, 77, 2, old);
	assert_memory_equal(old, in, 2 * BS);

	/* miscompare at byte 0 */
	memcpy(buf, in, 2 * BS);
	buf[0] ^= 0x80;
	run(e->nx, &c, cdb, 16, buf, sizeof(buf), NULL, 0);
	assert_sense(&c, PRPATH_SCSI_SK_MISCOMPARE, PRPATH_SCSI_ASCQ_MISCOMPARE_DURING_VERIFY);
	assert_int_equal(prpath_get_be32(c.sense + 3), 0);

	/* NUMBER OF LOGICAL BLOCKS 0: GOOD, nothing happens */
	cdb_caw(cdb, 77, 0);
	run(e->nx, &c, cdb, 16, NULL, 0, NULL, 0);
	assert_good(&c);
	/* above MAXIMUM COMPARE AND WRITE LENGTH */
	cdb_caw(cdb, 0, DS_MAX_CAW_BLOCKS + 1);
	run(e->nx, &c, cdb, 16, NULL, 0, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	/* data-out holding only the compare half */
	cdb_caw(cdb, 77, 2);
	run(e->nx, &c, cdb, 16, buf, 2 * BS, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

#define RACE_ROUNDS 300
#define RACE_BLOCKS 128 /* large, to widen the compare-to-write window */

struct racer {
	struct env *e;
	struct prpath_nexus *nx;
	pthread_barrier_t *bar;
	unsigned id;
	uint8_t result[RACE_ROUNDS]; /* 1 won, 0 miscompare, 2 other */
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;
	static __thread uint8_t cur[RACE_BLOCKS * BS], buf[2 * RACE_BLOCKS * BS];
	uint8_t cdb[16];
	struct prpath_cmd c;
	unsigned i;

	for (i = 0; i < RACE_ROUNDS; i++) {
		uint64_t v;

		pthread_barrier_wait(r->bar);
		memset(cdb, 0, 16);
		cdb[0] = PRPATH_SCSI_OP_READ10;
		prpath_put_be32(cdb + 2, 5);
		prpath_put_be16(cdb + 7, RACE_BLOCKS);
		memset(&c, 0, sizeof(c));
		c.cdb = cdb;
		c.cdb_len = 10;
		c.data_in = cur;
		c.data_in_cap = sizeof(cur);
		if (prpath_lu_execute(r->nx, &c) || c.status) {
			r->result[i] = 2;
			pthread_barrier_wait(r->bar);
			continue;
		}
		/* both racers have read the same value before either writes */
		pthread_barrier_wait(r->bar);
		v = prpath_get_be64(cur);
		memcpy(buf, cur, sizeof(cur));
		memset(buf + sizeof(cur), (int)r->id, sizeof(cur));
		prpath_put_be64(buf + sizeof(cur), v + 1);
		cdb_caw(cdb, 5, RACE_BLOCKS);
		memset(&c, 0, sizeof(c));
		c.cdb = cdb;
		c.cdb_len = 16;
		c.data_out = buf;
		c.data_out_len = sizeof(buf);
		if (prpath_lu_execute(r->nx, &c))
			r->result[i] = 2;
		else if (c.status == PRPATH_SCSI_STATUS_GOOD)
			r->result[i] = 1;
		else if (c.status == PRPATH_SCSI_STATUS_CHECK_CONDITION &&
			 (c.sense[2] & 0xf) == PRPATH_SCSI_SK_MISCOMPARE)
			r->result[i] = 0;
		else
			r->result[i] = 2;
	}
	return NULL;
}

static void test_caw_race(void **state)
{
	struct env *e = *state;
	pthread_barrier_t bar;
	struct racer r[2];
	pthread_t th[2];
	uint8_t in[BS];
	unsigned i;

	memset(in, 0, sizeof(in));
	do_write(e->nx, 5, 1, in);
	assert_int_equal(pthread_barrier_init(&bar, NULL, 2), 0);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 2; i++) {
		r[i].e = e;
		r[i].bar = &bar;
		r[i].id = i + 1;
		assert_int_equal(prpath_lu_nexus_open(e->lu, i ? PORT_B : PORT_A,
						      (uint16_t)(i + 1), &r[i].nx), 0);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_thread, &r[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	for (i = 0; i < RACE_ROUNDS; i++) {
		assert_int_not_equal(r[0].result[i], 2);
		assert_int_not_equal(r[1].result[i], 2);
		/* exactly one winner per round */
		assert_int_equal(r[0].result[i] + r[1].result[i], 1);
	}
	do_read(e->nx, 5, 1, in);
	assert_int_equal(prpath_get_be64(in), RACE_ROUNDS);
	for (i = 0; i < 2; i++)
		prpath_lu_nexus_close(r[i].nx);
}

/* ---- FORMAT UNIT, persistence ------------------------------------------- */

static void test_format_unit(void **state)
{
	struct env *e = *state;
	uint8_t data[4 * BS], cdb[6], hdr[4];
	struct prpath_cmd c;

	fill(data, sizeof(data), 4);
	do_write(e->nx, 10, 4, data);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_FORMAT_UNIT;
	run(e->nx, &c, cdb, 6, NULL, 0, NULL, 0);
	assert_good(&c);
	do_read(e->nx, 10, 4, data);
	assert_true(is_zero(data, sizeof(data)));
	/* FMTDATA=1 without the parameter list */
	cdb[1] = 0x10;
	run(e->nx, &c, cdb, 6, NULL, 0, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	/* FMTDATA=1 with an empty short header */
	memset(hdr, 0, sizeof(hdr));
	run(e->nx, &c, cdb, 6, hdr, sizeof(hdr), NULL, 0);
	assert_good(&c);
	/* a defect list: unsupported */
	prpath_put_be16(hdr + 2, 8);
	run(e->nx, &c, cdb, 6, hdr, sizeof(hdr), NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
	/* FMTPINFO: no protection information */
	cdb[1] = 0x80;
	run(e->nx, &c, cdb, 6, NULL, 0, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

static void test_file_persists(void **state)
{
	struct env *e = *state;
	uint8_t data[8 * BS], in[8 * BS];
	struct stat st;

	assert_int_equal(stat(e->path, &st), 0);
	assert_int_equal(st.st_size, (off_t)NBLOCKS * BS);
	fill(data, sizeof(data), 99);
	do_write(e->nx, NBLOCKS - 8, 8, data);
	env_lu_free(e);
	/* size 0: the existing file decides */
	env_lu_new(e, true, 0);
	assert_int_equal(prpath_lu_blocks(e->lu), NBLOCKS);
	assert_int_equal(prpath_lu_block_size(e->lu), BS);
	do_read(e->nx, NBLOCKS - 8, 8, in);
	assert_memory_equal(in, data, sizeof(data));
}

static void test_file_grows(void **state)
{
	struct env *e = *state;
	uint8_t in[BS];
	struct stat st;

	env_lu_free(e);
	/* a larger size grows the file; old data stays, the rest reads zero */
	env_lu_new(e, true, 2ull * NBLOCKS * BS + 100);
	assert_int_equal(prpath_lu_blocks(e->lu), 2 * NBLOCKS);
	assert_int_equal(stat(e->path, &st), 0);
	assert_int_equal(st.st_size, 2 * (off_t)NBLOCKS * BS);
	do_read(e->nx, 2 * NBLOCKS - 1, 1, in);
	assert_true(is_zero(in, BS));
}

/* One device server per backing file: a second LU on the same file is
 * refused while the first is open (two PR states for one LU would let two
 * hosts each hold "the" reservation), and allowed once it is closed. */
static void test_backing_file_locked(void **state)
{
	struct env *e = *state;
	struct prpath_lu_config cfg;
	struct prpath_lu *second = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = e->path;
	cfg.block_size = BS;
	assert_int_equal(prpath_lu_new(&cfg, &second), -EBUSY);
	assert_null(second);
	assert_non_null(strstr(prpath_lu_last_error(), "in use by another device server"));
	env_lu_free(e);
	assert_int_equal(prpath_lu_new(&cfg, &second), 0);
	prpath_lu_free(second);
	env_lu_new(e, true, 0);
}

static void test_memory_needs_size(void **state)
{
	struct prpath_lu_config cfg;
	struct prpath_lu *lu = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_true(prpath_lu_new(&cfg, &lu) < 0);
	cfg.size = 100; /* less than one block */
	assert_true(prpath_lu_new(&cfg, &lu) < 0);
}

/* ---- INQUIRY ------------------------------------------------------------- */

static void cdb_inquiry(uint8_t *cdb, bool evpd, uint8_t page, uint16_t alloc)
{
	memset(cdb, 0, 6);
	cdb[0] = PRPATH_SCSI_OP_INQUIRY;
	cdb[1] = evpd ? 1 : 0;
	cdb[2] = page;
	prpath_put_be16(cdb + 3, alloc);
}

static void test_inquiry_standard(void **state)
{
	struct env *e = *state;
	uint8_t cdb[6], b[255];
	struct prpath_cmd c;
	struct prpath_inquiry inq;

	cdb_inquiry(cdb, false, 0, sizeof(b));
	run(e->nx, &c, cdb, 6, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_true(c.data_in_len >= 36);
	assert_int_equal(c.data_in_len, 5u + b[4]);
	assert_int_equal(b[0], 0x00);
	assert_int_equal(b[1], 0x00);
	assert_int_equal(b[2], 0x06);
	assert_int_equal(b[3], 0x12);          /* HISUP, format 2 */
	assert_int_equal(b[5] & 0x30, 0x10);   /* TPGS implicit */
	assert_int_equal(b[7] & 0x02, 0x02);   /* CMDQUE */
	assert_memory_equal(b + 8, "PRPATH  ", 8);
	assert_memory_equal(b + 16, "prpath-lu       ", 16);
	assert_memory_equal(b + 32, "0001", 4);
	assert_int_equal(prpath_decode_inquiry(b, c.data_in_len, &inq), 0);
	assert_string_equal(inq.vendor, "PRPATH");
	assert_int_equal(inq.tpgs, 1);

	/* ALLOCATION LENGTH honoured */
	cdb_inquiry(cdb, false, 0, 5);
	run(e->nx, &c, cdb, 6, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 5);
	/* EVPD=0 with a page code */
	cdb_inquiry(cdb, false, 0x80, sizeof(b));
	run(e->nx, &c, cdb, 6, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	/* unknown VPD page */
	cdb_inquiry(cdb, true, 0x99, sizeof(b));
	run(e->nx, &c, cdb, 6, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

static size_t vpd(struct prpath_nexus *nx, uint8_t page, uint8_t *b, size_t cap)
{
	uint8_t cdb[6];
	struct prpath_cmd c;

	cdb_inquiry(cdb, true, page, (uint16_t)cap);
	run(nx, &c, cdb, 6, NULL, 0, b, cap);
	assert_good(&c);
	assert_int_equal(b[1], page);
	assert_int_equal(c.data_in_len, 4u + prpath_get_be16(b + 2));
	return c.data_in_len;
}

static void test_vpd_pages(void **state)
{
	struct env *e = *state;
	static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	uint8_t b[255];
	size_t len;

	len = vpd(e->nx, 0x00, b, sizeof(b));
	assert_int_equal(len, 4 + sizeof(pages));
	assert_memory_equal(b + 4, pages, sizeof(pages));

	len = vpd(e->nx, 0x80, b, sizeof(b));
	assert_int_equal(len - 4, strlen(e->lu->serial));
	assert_memory_equal(b + 4, e->lu->serial, len - 4);
	assert_true(len > 4);

	len = vpd(e->nx, 0xb0, b, sizeof(b));
	assert_int_equal(len, 64);
	assert_int_equal(b[4] & 0x01, 1);                   /* WSNZ */
	assert_int_equal(b[5], DS_MAX_CAW_BLOCKS);
	assert_int_equal(prpath_get_be32(b + 8), DS_MAX_XFER_BYTES / BS);
	assert_int_equal(prpath_get_be32(b + 20), DS_MAX_UNMAP_BLOCKS);
	assert_int_equal(prpath_get_be32(b + 24), DS_MAX_UNMAP_DESC);
	assert_int_equal(prpath_get_be64(b + 36), DS_MAX_WS_BLOCKS);

	len = vpd(e->nx, 0xb1, b, sizeof(b));
	assert_int_equal(len, 64);
	assert_int_equal(prpath_get_be16(b + 4), 1);

	len = vpd(e->nx, 0xb2, b, sizeof(b));
	assert_int_equal(len, 8);
	assert_int_equal(b[5] & 0xe4, 0xe4); /* LBPU LBPWS LBPWS10 LBPRZ */
	assert_int_equal(b[6] & 0x07, 0x02); /* thin */
}

static void check_vpd83(struct prpath_lu *lu, struct prpath_nexus *nx,
			uint16_t rtp)
{
	uint8_t b[255];
	char id[64];
	size_t len, off = 0;
	struct prpath_designator d;
	unsigned seen = 0;
	uint16_t got;
	int r;

	len = vpd(nx, 0x83, b, sizeof(b));
	assert_int_equal(prpath_vpd83_lu_id(b, len, id, sizeof(id)), 32);
	assert_string_equal(id, prpath_lu_naa_hex(lu));
	assert_int_equal(id[0], '6');
	assert_int_equal(prpath_vpd83_rel_tgt_port(b, len, &got), 0);
	assert_int_equal(got, rtp);
	while ((r = prpath_vpd83_next(b, len, &off, &d)) == 1) {
		switch (d.type) {
		case PRPATH_SCSI_DESIG_NAA:
			assert_int_equal(d.association, PRPATH_SCSI_ASSOC_LU);
			assert_int_equal(d.code_set, 1);
			assert_int_equal(d.len, 16);
			assert_memory_equal(d.id, lu->naa, 16);
			seen |= 1;
			break;
		case PRPATH_SCSI_DESIG_REL_TGT_PORT:
			assert_true(d.piv);
			assert_int_equal(d.protocol, PRPATH_SCSI_PROTOCOL_ISCSI);
			assert_int_equal(d.association, PRPATH_SCSI_ASSOC_TARGET_PORT);
			assert_int_equal(prpath_get_be16(d.id + 2), rtp);
			seen |= 2;
			break;
		case PRPATH_SCSI_DESIG_TPG:
			assert_true(d.piv);
			assert_int_equal(d.association, PRPATH_SCSI_ASSOC_TARGET_PORT);
			assert_int_equal(prpath_get_be16(d.id + 2), 1);
			seen |= 4;
			break;
		default:
			fail_msg("unexpected designator type %u", d.type);
		}
	}
	assert_int_equal(r, 0);
	assert_int_equal(seen, 7);
}

static void test_vpd83(void **state)
{
	struct env *e = *state;
	struct prpath_nexus *nx2;

	check_vpd83(e->lu, e->nx, 1);
	assert_int_equal(prpath_lu_nexus_open(e->lu, PORT_B, 2, &nx2), 0);
	check_vpd83(e->lu, nx2, 2);
	prpath_lu_nexus_close(nx2);
}

/* ---- READ CAPACITY, REPORT LUNS ------------------------------------------ */

static void test_read_capacity(void **state)
{
	struct env *e = *state;
	uint8_t cdb[16], b[64];
	struct prpath_cmd c;
	struct prpath_capacity cap;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_READ_CAPACITY10;
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 8);
	assert_int_equal(prpath_get_be32(b), NBLOCKS - 1);
	assert_int_equal(prpath_get_be32(b + 4), BS);
	/* PMI=0 with an LBA */
	prpath_put_be32(cdb + 2, 1);
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = PRPATH_SCSI_SAI_READ_CAPACITY16;
	prpath_put_be32(cdb + 10, 32);
	run(e->nx, &c, cdb, 16, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 32);
	assert_int_equal(prpath_decode_read_capacity16(b, 32, &cap), 0);
	assert_int_equal(cap.last_lba, NBLOCKS - 1);
	assert_int_equal(cap.block_size, BS);
	assert_true(cap.lbpme);
	assert_true(cap.lbprz);
	/* allocation length 12 */
	prpath_put_be32(cdb + 10, 12);
	run(e->nx, &c, cdb, 16, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 12);
}

static void test_read_capacity_huge(void **state)
{
	struct env *e = *state;
	uint8_t cdb[16], b[32];
	struct prpath_cmd c;
	uint64_t blocks = 0x100000010ull;

	env_lu_free(e);
	unlink(e->path);
	/* a 2 TiB sparse file; skipped where the file system cannot */
	{
		struct prpath_lu_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.path = e->path;
		cfg.size = blocks * BS;
		if (prpath_lu_new(&cfg, &e->lu) < 0) {
			e->lu = NULL;
			unlink(e->path);
			skip();
		}
		assert_int_equal(prpath_lu_nexus_open(e->lu, PORT_A, 1, &e->nx), 0);
	}
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_READ_CAPACITY10;
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(prpath_get_be32(b), 0xffffffffu);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = PRPATH_SCSI_SAI_READ_CAPACITY16;
	prpath_put_be32(cdb + 10, 32);
	run(e->nx, &c, cdb, 16, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(prpath_get_be64(b), blocks - 1);
	/* a block beyond 2^32 works */
	{
		uint8_t blk[BS], in[BS];

		fill(blk, BS, 123);
		do_write(e->nx, blocks - 1, 1, blk);
		memset(cdb, 0, 16);
		cdb_rw(cdb, 16, PRPATH_SCSI_OP_READ16, blocks - 1, 1);
		run(e->nx, &c, cdb, 16, NULL, 0, in, BS);
		assert_good(&c);
		assert_memory_equal(in, blk, BS);
	}
}

static void test_report_luns(void **state)
{
	struct env *e = *state;
	uint8_t cdb[12], b[64];
	struct prpath_cmd c;
	static const uint8_t want[16] = { 0, 0, 0, 8 };

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_REPORT_LUNS;
	prpath_put_be32(cdb + 6, sizeof(b));
	memset(b, 0xff, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 16);
	assert_memory_equal(b, want, 16);
	cdb[2] = 0x02;
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 16);
	cdb[2] = 0x10;
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	cdb[2] = 0;
	prpath_put_be32(cdb + 6, 15);
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

/* ---- MODE SENSE / MODE SELECT -------------------------------------------- */

static void test_mode_sense(void **state)
{
	struct env *e = *state;
	uint8_t cdb[10], b[255];
	struct prpath_cmd c;

	/* MODE SENSE(6), caching page, with block descriptor */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_MODE_SENSE6;
	cdb[2] = 0x08;
	cdb[4] = 255;
	run(e->nx, &c, cdb, 6, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 4 + 8 + 20);
	assert_int_equal(b[0], c.data_in_len - 1);
	assert_int_equal(b[3], 8);
	assert_int_equal(prpath_get_be32(b + 4), NBLOCKS);
	assert_int_equal(prpath_get_be32(b + 8) & 0xffffff, BS);
	assert_int_equal(b[12] & 0x3f, 0x08);
	assert_int_equal(b[13], 0x12);
	assert_int_equal(b[14] & 0x04, 0x04); /* WCE */

	/* DBD, control page: D_SENSE=0, QERR=0, TAS=0 */
	cdb[1] = 0x08;
	cdb[2] = 0x0a;
	run(e->nx, &c, cdb, 6, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 4 + 12);
	assert_int_equal(b[3], 0);
	assert_int_equal(b[4] & 0x3f, 0x0a);
	assert_int_equal(b[5], 0x0a);
	assert_int_equal(b[6] & 0x04, 0);
	assert_int_equal(b[7] & 0x06, 0);
	assert_int_equal(b[9] & 0x40, 0);

	/* all pages, MODE SENSE(10) with long LBA descriptor */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_MODE_SENSE10;
	cdb[1] = 0x10;
	cdb[2] = 0x3f;
	prpath_put_be16(cdb + 7, sizeof(b));
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 8 + 16 + 20 + 12 + 12);
	assert_int_equal(prpath_get_be16(b), c.data_in_len - 2);
	assert_int_equal(b[4] & 0x01, 1);
	assert_int_equal(prpath_get_be16(b + 6), 16);
	assert_int_equal(prpath_get_be64(b + 8), NBLOCKS);
	assert_int_equal(b[24] & 0x3f, 0x08);
	assert_int_equal(b[44] & 0x3f, 0x0a);
	assert_int_equal(b[56] & 0x3f, 0x1c);

	/* allocation length cuts */
	prpath_put_be16(cdb + 7, 10);
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 10);

	/* saved values: 05/39/00; unknown page: 05/24/00 */
	prpath_put_be16(cdb + 7, sizeof(b));
	cdb[2] = 0xc8;
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_SAVING_PARAMS_UNSUPPORTED);
	cdb[2] = 0x19;
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

static void test_mode_select(void **state)
{
	struct env *e = *state;
	uint8_t cdb[10], b[255];
	struct prpath_cmd c;
	size_t len;

	/* what MODE SENSE(6) says, sent back: accepted */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_MODE_SENSE6;
	cdb[2] = 0x3f;
	cdb[4] = 255;
	run(e->nx, &c, cdb, 6, NULL, 0, b, sizeof(b));
	assert_good(&c);
	len = c.data_in_len;
	b[0] = 0; /* MODE DATA LENGTH is reserved in MODE SELECT */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_MODE_SELECT6;
	cdb[1] = 0x10;
	cdb[4] = (uint8_t)len;
	run(e->nx, &c, cdb, 6, b, len, NULL, 0);
	assert_good(&c);
	/* turning the write cache off: not changeable */
	b[4 + 8 + 2] &= (uint8_t)~0x04;
	run(e->nx, &c, cdb, 6, b, len, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
	b[4 + 8 + 2] |= 0x04;
	/* another block length */
	b[4 + 6] ^= 0x02;
	run(e->nx, &c, cdb, 6, b, len, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
	b[4 + 6] ^= 0x02;
	/* a page cut by the parameter list length */
	cdb[4] = (uint8_t)(len - 3);
	run(e->nx, &c, cdb, 6, b, len, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR);
	/* SP=1 */
	cdb[4] = (uint8_t)len;
	cdb[1] = 0x11;
	run(e->nx, &c, cdb, 6, b, len, NULL, 0);
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	/* empty list: GOOD */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_MODE_SELECT10;
	run(e->nx, &c, cdb, 10, NULL, 0, NULL, 0);
	assert_good(&c);
}

/* ---- REPORT TARGET PORT GROUPS, REPORT SUPPORTED OPERATION CODES --------- */

static void test_report_tpgs(void **state)
{
	struct env *e = *state;
	uint8_t cdb[12], b[64];
	struct prpath_cmd c;
	static const uint8_t want[] = {
		0, 0, 0, 16,
		0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
		0, 0, 0, 1, 0, 0, 0, 2,
	};

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_MAINTENANCE_IN;
	cdb[1] = PRPATH_SCSI_MI_REPORT_TARGET_PORT_GROUPS;
	prpath_put_be32(cdb + 6, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	/* extended header */
	cdb[1] = 0x20 | PRPATH_SCSI_MI_REPORT_TARGET_PORT_GROUPS;
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, sizeof(want) + 4);
	assert_int_equal(prpath_get_be32(b), sizeof(want));
	assert_int_equal(b[4], 0x10);
	assert_memory_equal(b + 8, want + 4, sizeof(want) - 4);
}

static void cdb_rsoc(uint8_t *cdb, uint8_t opts, uint8_t op, uint16_t sa,
		     uint32_t alloc)
{
	memset(cdb, 0, 12);
	cdb[0] = PRPATH_SCSI_OP_MAINTENANCE_IN;
	cdb[1] = PRPATH_SCSI_MI_REPORT_SUPPORTED_OPCODES;
	cdb[2] = opts;
	cdb[3] = op;
	prpath_put_be16(cdb + 4, sa);
	prpath_put_be32(cdb + 6, alloc);
}

static bool rsoc_has(const uint8_t *b, size_t len, uint8_t op, bool sav, uint16_t sa)
{
	size_t off;

	for (off = 4; off + 8 <= len; off += (b[off + 5] & 0x02) ? 20 : 8)
		if (b[off] == op && (!sav || prpath_get_be16(b + off + 2) == sa))
			return true;
	return false;
}

static void test_report_opcodes(void **state)
{
	struct env *e = *state;
	static const uint8_t plain[] = {
		0x00, 0x03, 0x04, 0x08, 0x0a, 0x12, 0x15, 0x16, 0x17, 0x1a, 0x1b,
		0x25, 0x28, 0x2a, 0x2e, 0x2f, 0x34, 0x35, 0x41, 0x42, 0x4d, 0x55,
		0x56, 0x57, 0x5a, 0x88, 0x89, 0x8a, 0x8e, 0x8f, 0x90, 0x91, 0x93,
		0xa0, 0xa8, 0xaa, 0xae, 0xaf,
	};
	uint8_t cdb[12], b[2048];
	struct prpath_cmd c;
	size_t i, len;

	cdb_rsoc(cdb, 0, 0, 0, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	len = c.data_in_len;
	assert_int_equal(prpath_get_be32(b), len - 4);
	assert_int_equal((len - 4) % 8, 0);
	for (i = 0; i < sizeof(plain); i++)
		assert_true(rsoc_has(b, len, plain[i], false, 0));
	for (i = 0; i < 4; i++)
		assert_true(rsoc_has(b, len, PRPATH_SCSI_OP_PR_IN, true, (uint16_t)i));
	for (i = 0; i < 8; i++)
		assert_true(rsoc_has(b, len, PRPATH_SCSI_OP_PR_OUT, true, (uint16_t)i));
	assert_false(rsoc_has(b, len, PRPATH_SCSI_OP_PR_OUT, true, 8)); /* rlr off */
	assert_true(rsoc_has(b, len, 0x9e, true, 0x10));
	assert_true(rsoc_has(b, len, 0x9e, true, 0x12));
	assert_true(rsoc_has(b, len, 0xa3, true, 0x0a));
	assert_true(rsoc_has(b, len, 0xa3, true, 0x0c));

	/* every command listed is accepted by the device server (no 05/20/00) */
	for (i = 4; i + 8 <= len; i += 8) {
		uint8_t x[16], in[512], out[512];
		size_t cl = prpath_get_be16(b + i + 6);

		memset(x, 0, sizeof(x));
		memset(out, 0, sizeof(out));
		x[0] = b[i];
		if (b[i + 5] & 0x01)
			x[1] = b[i + 3];
		run(e->nx, &c, x, cl, out, sizeof(out), in, sizeof(in));
		if (c.status == PRPATH_SCSI_STATUS_CHECK_CONDITION) {
			struct prpath_sense s;

			assert_int_equal(prpath_sense_decode(c.sense, c.sense_len, &s), 0);
			if (s.key == PRPATH_SCSI_SK_ILLEGAL_REQUEST && s.asc == 0x20)
				fail_msg("opcode %02x sa %02x listed but refused",
					 b[i], x[1]);
		}
	}

	/* one command without service action: READ(10) */
	cdb_rsoc(cdb, 1, 0x28, 0, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 14);
	assert_int_equal(b[1] & 0x07, 0x03);
	assert_int_equal(prpath_get_be16(b + 2), 10);
	assert_int_equal(b[4], 0x28);
	assert_int_equal(b[13], 0x07);
	/* with timeouts descriptor */
	cdb_rsoc(cdb, 0x81, 0x28, 0, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 14 + 12);
	assert_int_equal(b[1] & 0x80, 0x80);
	assert_int_equal(prpath_get_be16(b + 14), 0x0a);
	/* PR IN has service actions: option 1 is refused, option 2 works */
	cdb_rsoc(cdb, 1, 0x5e, 0, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	cdb_rsoc(cdb, 2, 0x5e, 1, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(b[1] & 0x07, 0x03);
	assert_int_equal(b[4], 0x5e);
	cdb_rsoc(cdb, 2, 0x5e, 9, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(b[1] & 0x07, 0x01);
	/* an opcode we do not know */
	cdb_rsoc(cdb, 1, 0xee, 0, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, 4);
	assert_int_equal(b[1] & 0x07, 0x01);
	/* bad reporting option */
	cdb_rsoc(cdb, 7, 0, 0, sizeof(b));
	run(e->nx, &c, cdb, 12, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

/* ---- TEST UNIT READY, START STOP UNIT, LOG SENSE ------------------------- */

static void test_misc(void **state)
{
	struct env *e = *state;
	uint8_t cdb[10], b[64];
	struct prpath_cmd c;
	static const uint8_t want[] = { 0x00, 0x00, 0x00, 0x01, 0x00 };

	memset(cdb, 0, sizeof(cdb));
	run(e->nx, &c, cdb, 6, NULL, 0, NULL, 0);
	assert_good(&c);
	cdb[0] = PRPATH_SCSI_OP_START_STOP_UNIT;
	cdb[4] = 0x01;
	run(e->nx, &c, cdb, 6, NULL, 0, NULL, 0);
	assert_good(&c);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = PRPATH_SCSI_OP_LOG_SENSE;
	cdb[2] = 0x40; /* current cumulative values, page 0 */
	prpath_put_be16(cdb + 7, sizeof(b));
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_good(&c);
	assert_int_equal(c.data_in_len, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	cdb[2] = 0x4d;
	run(e->nx, &c, cdb, 10, NULL, 0, b, sizeof(b));
	assert_illegal(&c, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

/* ---- transfer sizes for the iSCSI target -------------------------------- */

static void xfer(struct env *e, const uint8_t *cdb, size_t len, uint64_t want,
		 bool want_write)
{
	uint64_t bytes = 12345;
	bool w = !want_write;

	assert_int_equal(prpath_lu_cdb_xfer(e->lu, cdb, len, &bytes, &w), 0);
	assert_int_equal(bytes, want);
	if (want)
		assert_int_equal(w, want_write);
}

static void test_cdb_xfer(void **state)
{
	struct env *e = *state;
	uint8_t cdb[16];
	uint64_t bytes;
	bool w;

	cdb_rw(cdb, 6, PRPATH_SCSI_OP_READ6, 0, 0);
	xfer(e, cdb, 6, 256 * BS, false);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_READ10, 0, 3);
	xfer(e, cdb, 10, 3 * BS, false);
	cdb_rw(cdb, 12, PRPATH_SCSI_OP_WRITE12, 0, 5);
	xfer(e, cdb, 12, 5 * BS, true);
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_WRITE_VERIFY16, 0, 2);
	xfer(e, cdb, 16, 2 * BS, true);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_VERIFY10, 0, 4);
	xfer(e, cdb, 10, 0, false);
	cdb[1] = 0x02;
	xfer(e, cdb, 10, 4 * BS, true);
	cdb[1] = 0x06;
	xfer(e, cdb, 10, BS, true);
	cdb_ws(cdb, false, 0, 0, 100);
	xfer(e, cdb, 10, BS, true);
	cdb_ws(cdb, true, 0x01, 0, 100);
	xfer(e, cdb, 16, 0, false);
	cdb_caw(cdb, 0, 3);
	xfer(e, cdb, 16, 6 * BS, true);
	cdb_unmap(cdb, 40);
	xfer(e, cdb, 10, 40, true);
	cdb_rw(cdb, 10, PRPATH_SCSI_OP_SYNCHRONIZE_CACHE10, 0, 4);
	xfer(e, cdb, 10, 0, false);
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = PRPATH_SCSI_SAI_GET_LBA_STATUS;
	prpath_put_be32(cdb + 10, 4096);
	xfer(e, cdb, 16, 4096, false);
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_FORMAT_UNIT;
	cdb[1] = 0x10;
	xfer(e, cdb, 6, 4, true);
	/* a CDB shorter than its group */
	cdb_rw(cdb, 16, PRPATH_SCSI_OP_READ16, 0, 1);
	assert_int_equal(prpath_lu_cdb_xfer(e->lu, cdb, 10, &bytes, &w), -EINVAL);
}

#define FT(f) cmocka_unit_test_setup_teardown(f, setup_file, teardown)
#define MT(f) cmocka_unit_test_setup_teardown(f, setup_mem, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FT(test_read_write_all_sizes),
		MT(test_read_write_all_sizes),
		FT(test_rw6_zero_is_256),
		FT(test_transfer_length_zero),
		FT(test_short_data_out),
		FT(test_protect_fields_refused),
		FT(test_max_transfer_length),
		FT(test_lba_out_of_range),
		MT(test_lba_out_of_range),
		FT(test_verify),
		MT(test_verify),
		FT(test_write_verify),
		FT(test_prefetch_sync),
		MT(test_prefetch_sync),
		FT(test_write_same),
		MT(test_write_same),
		FT(test_unmap),
		MT(test_unmap),
		FT(test_get_lba_status),
		MT(test_get_lba_status),
		FT(test_compare_and_write),
		MT(test_compare_and_write),
		FT(test_caw_race),
		MT(test_caw_race),
		FT(test_format_unit),
		MT(test_format_unit),
		FT(test_file_persists),
		FT(test_file_grows),
		FT(test_backing_file_locked),
		cmocka_unit_test(test_memory_needs_size),
		MT(test_inquiry_standard),
		MT(test_vpd_pages),
		MT(test_vpd83),
		FT(test_vpd83),
		MT(test_read_capacity),
		FT(test_read_capacity_huge),
		MT(test_report_luns),
		MT(test_mode_sense),
		MT(test_mode_select),
		MT(test_report_tpgs),
		MT(test_report_opcodes),
		MT(test_misc),
		MT(test_cdb_xfer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
