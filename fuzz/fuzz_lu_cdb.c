/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the device server's CDB and parameter-list parsing.
 *
 * The input is a sequence of commands sent on three nexuses (two target
 * ports) of one small memory-backed LU:
 *   byte 0      nexus index (mod 3)
 *   byte 1      CDB length (mod 17; 0 means 16)
 *   bytes 2-3   data-out length, big endian (cut at what remains)
 *   CDB bytes, then data-out bytes
 * After every command the invariants are checked: the status is one a
 * device server may return, sense is only present with CHECK CONDITION,
 * data-in never exceeds the buffer; after every PERSISTENT RESERVE OUT and
 * at the end, READ KEYS / READ FULL STATUS stay decodable and agree with
 * each other. abort() on any violation.
 */
#include <stdlib.h>
#include <string.h>

#include <prpath/prpath.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[3] = {
	"iqn.2026-11.fuzz:a,i,0x000000000001",
	"iqn.2026-11.fuzz:b,i,0x000000000002",
	"iqn.2026-11.fuzz:a,i,0x000000000001",
};
static const uint16_t ports[3] = { 1, 1, 2 };

static void check_state(struct prpath_nexus *nx)
{
	uint8_t cdb[10], buf[4096];
	uint64_t keys[64];
	struct prpath_full_status_desc desc[16];
	struct prpath_read_keys rk = { .keys = keys, .keys_cap = 64 };
	struct prpath_full_status fs = { .desc = desc, .desc_cap = 16 };
	struct prpath_cmd c;

	for (unsigned sa = PRPATH_PR_IN_READ_KEYS; sa <= PRPATH_PR_IN_READ_FULL_STATUS; sa++) {
		memset(&c, 0, sizeof(c));
		prpath_cdb_pr_in(cdb, sizeof(cdb), sa, sizeof(buf));
		c.cdb = cdb;
		c.cdb_len = sizeof(cdb);
		c.data_in = buf;
		c.data_in_cap = sizeof(buf);
		if (prpath_lu_execute(nx, &c) != 0)
			abort();
		/* a pending unit attention or an SPC-2 reservation may stand
		 * in the way; that is allowed */
		if (c.status != PRPATH_SCSI_STATUS_GOOD)
			continue;
		if (c.data_in_len > sizeof(buf))
			abort();
		if (sa == PRPATH_PR_IN_READ_KEYS && prpath_decode_read_keys(buf, c.data_in_len, &rk) != 0)
			abort();
		if (sa == PRPATH_PR_IN_READ_FULL_STATUS &&
		    prpath_decode_read_full_status(buf, c.data_in_len, &fs) != 0)
			abort();
	}
	/* both pages read under one generation list the same registrations */
	if (!rk.truncated && !fs.truncated && rk.nkeys_total && fs.ndesc &&
	    rk.generation == fs.generation && rk.nkeys_total != fs.ndesc)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prpath_lu_config cfg = { .size = 8 * 512, /* small: every execution allocates it */ .target_ports = (const uint16_t[]){ 1, 2 },
					.ntarget_ports = 2, .power_on_ua = true };
	struct prpath_lu *lu;
	struct prpath_nexus *nx[3];
	static uint8_t din[70000];
	size_t off = 0;
	unsigned count = 0;

	if (prpath_lu_new(&cfg, &lu) != 0)
		abort();
	for (int i = 0; i < 3; i++)
		if (prpath_lu_nexus_open(lu, names[i], ports[i], &nx[i]) != 0)
			abort();

	while (size - off >= 4 && count++ < 64) {
		unsigned who = data[off] % 3;
		size_t cdb_len = data[off + 1] % 17;
		size_t dlen = ((size_t)data[off + 2] << 8) | data[off + 3];
		uint8_t cdb[16];
		struct prpath_cmd c;
		int rc;

		off += 4;
		if (cdb_len == 0)
			cdb_len = 16;
		if (cdb_len > size - off)
			break;
		memcpy(cdb, data + off, cdb_len);
		off += cdb_len;
		if (dlen > size - off)
			dlen = size - off;

		memset(&c, 0, sizeof(c));
		c.cdb = cdb;
		c.cdb_len = cdb_len;
		/* exact-size copy so a read past the data-out is caught */
		uint8_t *dout = malloc(dlen ? dlen : 1);
		if (!dout)
			abort();
		memcpy(dout, data + off, dlen);
		off += dlen;
		c.data_out = dout;
		c.data_out_len = dlen;
		c.data_in = din;
		c.data_in_cap = (cdb[0] & 1) ? 512 : sizeof(din);
		rc = prpath_lu_execute(nx[who], &c);
		free(dout);
		if (rc != 0 && rc != PRPATH_LU_ABORTED)
			abort();
		if (c.data_in_len > c.data_in_cap)
			abort();
		switch (c.status) {
		case PRPATH_SCSI_STATUS_GOOD:
		case PRPATH_SCSI_STATUS_CONDITION_MET:
		case PRPATH_SCSI_STATUS_RESERVATION_CONFLICT:
			if (c.sense_len)
				abort();
			break;
		case PRPATH_SCSI_STATUS_CHECK_CONDITION:
			if (c.sense_len < 8 || c.sense_len > PRPATH_SENSE_MAX)
				abort();
			break;
		default:
			abort();
		}
		/* only PERSISTENT RESERVE OUT changes what READ KEYS and READ
		 * FULL STATUS report; checking after every command made each
		 * execution four times slower for no new state */
		if (cdb[0] == 0x5f)
			check_state(nx[who]);
	}
	check_state(nx[0]);
	for (int i = 0; i < 3; i++)
		prpath_lu_nexus_close(nx[i]);
	prpath_lu_free(lu);
	return 0;
}
