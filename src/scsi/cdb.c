/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CDB builders for the non-PR commands prpath sends: TEST UNIT READY,
 * INQUIRY (SPC-4 6.6), READ CAPACITY(16) (SBC-3 5.16), READ/WRITE(10/16).
 * The PR IN / PR OUT builders live in pr.c.
 */
#include <errno.h>
#include <string.h>

#include <prpath/scsi.h>

int prpath_cdb_test_unit_ready(uint8_t *cdb, size_t cap)
{
	if (!cdb)
		return -EINVAL;
	if (cap < 6)
		return -ENOSPC;
	memset(cdb, 0, 6);
	cdb[0] = PRPATH_SCSI_OP_TEST_UNIT_READY;
	return 6;
}

int prpath_cdb_inquiry(uint8_t *cdb, size_t cap, bool evpd, uint8_t page,
		       uint16_t alloc_len)
{
	if (!cdb || (!evpd && page != 0))
		return -EINVAL;
	if (cap < 6)
		return -ENOSPC;
	memset(cdb, 0, 6);
	cdb[0] = PRPATH_SCSI_OP_INQUIRY;
	cdb[1] = evpd ? 0x01 : 0x00;
	cdb[2] = page;
	prpath_put_be16(cdb + 3, alloc_len);
	return 6;
}

int prpath_cdb_read_capacity16(uint8_t *cdb, size_t cap, uint32_t alloc_len)
{
	if (!cdb)
		return -EINVAL;
	if (cap < 16)
		return -ENOSPC;
	memset(cdb, 0, 16);
	cdb[0] = PRPATH_SCSI_OP_SERVICE_ACTION_IN16;
	cdb[1] = PRPATH_SCSI_SAI_READ_CAPACITY16;
	prpath_put_be32(cdb + 10, alloc_len);
	return 16;
}

static int cdb_rw(uint8_t *cdb, size_t cap, uint8_t op10, uint8_t op16,
		  uint64_t lba, uint32_t blocks, bool force16)
{
	if (!cdb)
		return -EINVAL;
	if (!force16 && lba <= UINT32_MAX && blocks <= UINT16_MAX) {
		if (cap < 10)
			return -ENOSPC;
		memset(cdb, 0, 10);
		cdb[0] = op10;
		prpath_put_be32(cdb + 2, (uint32_t)lba);
		prpath_put_be16(cdb + 7, (uint16_t)blocks);
		return 10;
	}
	if (cap < 16)
		return -ENOSPC;
	memset(cdb, 0, 16);
	cdb[0] = op16;
	prpath_put_be64(cdb + 2, lba);
	prpath_put_be32(cdb + 10, blocks);
	return 16;
}

int prpath_cdb_read(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t blocks,
		    bool force16)
{
	return cdb_rw(cdb, cap, PRPATH_SCSI_OP_READ10, PRPATH_SCSI_OP_READ16, lba, blocks,
		      force16);
}

int prpath_cdb_write(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t blocks,
		     bool force16)
{
	return cdb_rw(cdb, cap, PRPATH_SCSI_OP_WRITE10, PRPATH_SCSI_OP_WRITE16, lba, blocks,
		      force16);
}
