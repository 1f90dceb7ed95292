/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device server information commands: INQUIRY (standard data and VPD pages
 * 00h, 80h, 83h, B0h, B1h, B2h), READ CAPACITY(10/16), REPORT LUNS, MODE
 * SENSE(6/10), MODE SELECT(6/10), REPORT TARGET PORT GROUPS, REPORT
 * SUPPORTED OPERATION CODES, TEST UNIT READY, START STOP UNIT, LOG SENSE.
 *
 * These read only fields of the LU that never change after creation, so
 * they run without lu->lock. Every response is built whole into a local
 * buffer and cut at the CDB's ALLOCATION LENGTH (and the caller's buffer).
 */
#include <errno.h>
#include <string.h>

#include "ds/ds_int.h"

#define INQ_REVISION "0001"
#define TPG_ID 1

/* GOOD with @len bytes of @buf, cut at the allocation length @alloc. */
static int reply(struct prpath_cmd *cmd, const void *buf, size_t len,
		 size_t alloc)
{
	ds_good(cmd);
	ds_data_in(cmd, buf, len < alloc ? len : alloc);
	return 0;
}

/* Space-padded ASCII field. */
static void put_ascii(uint8_t *dst, const char *s, size_t n)
{
	size_t i, l = strnlen(s, n);

	memcpy(dst, s, l);
	for (i = l; i < n; i++)
		dst[i] = ' ';
}

/* ---- INQUIRY ------------------------------------------------------------ */

static const uint8_t vpd_pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

static size_t inquiry_std(const struct prpath_lu *lu, uint8_t *b)
{
	static const uint16_t versions[] = {
		0x00a0, /* SAM-5 */
		0x0460, /* SPC-4 */
		0x04c0, /* SBC-3 */
		0x0960, /* iSCSI */
	};
	size_t i, len = 58 + 2 * 8;

	memset(b, 0, len);
	b[0] = 0x00;                  /* connected, direct access block device */
	b[2] = 0x06;                  /* SPC-4 */
	b[3] = 0x10 | 0x02;           /* HISUP, RESPONSE DATA FORMAT 2 */
	b[4] = (uint8_t)(len - 5);
	b[5] = 0x10;                  /* TPGS 01b: implicit ALUA */
	b[6] = lu->nports > 1 ? 0x10 : 0x00; /* MULTIP */
	b[7] = 0x02;                  /* CMDQUE */
	put_ascii(b + 8, lu->vendor, 8);
	put_ascii(b + 16, lu->product, 16);
	put_ascii(b + 32, INQ_REVISION, 4);
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		prpath_put_be16(b + 58 + 2 * i, versions[i]);
	return len;
}

static size_t vpd_device_id(const struct prpath_nexus *nx, uint8_t *b)
{
	const struct prpath_lu *lu = nx->lu;
	uint8_t *d = b + 4;

	/* NAA-6, binary, LU association */
	d[0] = 0x01;
	d[1] = PRPATH_SCSI_DESIG_NAA;
	d[3] = 16;
	memcpy(d + 4, lu->naa, 16);
	d += 4 + 16;
	/* relative target port: iSCSI, PIV, target port association */
	d[0] = (PRPATH_SCSI_PROTOCOL_ISCSI << 4) | 0x01;
	d[1] = 0x80 | (PRPATH_SCSI_ASSOC_TARGET_PORT << 4) | PRPATH_SCSI_DESIG_REL_TGT_PORT;
	d[3] = 4;
	prpath_put_be16(d + 6, nx->itn ? nx->itn->rtp : 1);
	d += 8;
	/* target port group */
	d[0] = (PRPATH_SCSI_PROTOCOL_ISCSI << 4) | 0x01;
	d[1] = 0x80 | (PRPATH_SCSI_ASSOC_TARGET_PORT << 4) | PRPATH_SCSI_DESIG_TPG;
	d[3] = 4;
	prpath_put_be16(d + 6, TPG_ID);
	d += 8;
	prpath_put_be16(b + 2, (uint16_t)(d - b - 4));
	return (size_t)(d - b);
}

static size_t vpd_block_limits(const struct prpath_lu *lu, uint8_t *b)
{
	uint32_t bs = lu->block_size;
	uint32_t gran = bs < 4096 ? 4096 / bs : 1;

	prpath_put_be16(b + 2, 0x3c);
	b[4] = 0x01;                                  /* WSNZ */
	b[5] = DS_MAX_CAW_BLOCKS;
	prpath_put_be16(b + 6, 1);                    /* OPT. XFER GRANULARITY */
	prpath_put_be32(b + 8, DS_MAX_XFER_BYTES / bs);
	prpath_put_be32(b + 12, DS_OPT_XFER_BYTES / bs ? DS_OPT_XFER_BYTES / bs : 1);
	prpath_put_be32(b + 16, 0);                   /* MAX PREFETCH: no limit */
	prpath_put_be32(b + 20, DS_MAX_UNMAP_BLOCKS);
	prpath_put_be32(b + 24, DS_MAX_UNMAP_DESC);
	prpath_put_be32(b + 28, gran);                /* OPTIMAL UNMAP GRANULARITY */
	prpath_put_be64(b + 36, DS_MAX_WS_BLOCKS);
	return 64;
}

static int do_inquiry(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	const struct prpath_lu *lu = nx->lu;
	const uint8_t *cdb = cmd->cdb;
	uint16_t alloc = prpath_get_be16(cdb + 3);
	uint8_t b[256];
	size_t len, l;

	if (cdb[1] & 0xfe)
		return ds_invalid_cdb(cmd); /* CMDDT (obsolete) or reserved bits */
	if (!(cdb[1] & 0x01)) {
		if (cdb[2])
			return ds_invalid_cdb(cmd);
		len = inquiry_std(lu, b);
		return reply(cmd, b, len, alloc);
	}

	memset(b, 0, sizeof(b));
	b[0] = 0x00;
	b[1] = cdb[2];
	switch (cdb[2]) {
	case 0x00:
		memcpy(b + 4, vpd_pages, sizeof(vpd_pages));
		prpath_put_be16(b + 2, sizeof(vpd_pages));
		len = 4 + sizeof(vpd_pages);
		break;
	case 0x80:
		l = strnlen(lu->serial, sizeof(lu->serial));
		memcpy(b + 4, lu->serial, l);
		prpath_put_be16(b + 2, (uint16_t)l);
		len = 4 + l;
		break;
	case 0x83:
		len = vpd_device_id(nx, b);
		break;
	case 0xb0:
		len = vpd_block_limits(lu, b);
		break;
	case 0xb1:
		prpath_put_be16(b + 2, 0x3c);
		prpath_put_be16(b + 4, 1);      /* non-rotating medium */
		len = 64;
		break;
	case 0xb2:
		prpath_put_be16(b + 2, 4);
		b[4] = 0;                       /* THRESHOLD EXPONENT */
		b[5] = 0x80 | 0x40 | 0x20 | 0x04; /* LBPU LBPWS LBPWS10 LBPRZ */
		b[6] = 0x02;                    /* thin provisioned */
		len = 8;
		break;
	default:
		return ds_invalid_cdb(cmd);
	}
	return reply(cmd, b, len, alloc);
}

/* ---- READ CAPACITY ------------------------------------------------------ */

static int do_read_capacity10(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint64_t last = lu->blocks - 1;
	uint8_t b[8];

	/* PMI (obsolete) = 0 requires LOGICAL BLOCK ADDRESS = 0 */
	if (!(cdb[8] & 0x01) && prpath_get_be32(cdb + 2))
		return ds_invalid_cdb(cmd);
	prpath_put_be32(b, last > 0xfffffffe ? 0xffffffff : (uint32_t)last);
	prpath_put_be32(b + 4, lu->block_size);
	return reply(cmd, b, sizeof(b), sizeof(b));
}

static int do_read_capacity16(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	uint32_t alloc = prpath_get_be32(cmd->cdb + 10);
	uint8_t b[32];

	memset(b, 0, sizeof(b));
	prpath_put_be64(b, lu->blocks - 1);
	prpath_put_be32(b + 8, lu->block_size);
	b[14] = 0x80 | 0x40; /* LBPME, LBPRZ */
	return reply(cmd, b, sizeof(b), alloc);
}

/* ---- REPORT LUNS -------------------------------------------------------- */

static int do_report_luns(struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint32_t alloc = prpath_get_be32(cdb + 6);
	uint8_t b[16];
	size_t len;

	if (alloc < 16)
		return ds_invalid_cdb(cmd);
	memset(b, 0, sizeof(b));
	switch (cdb[2]) {
	case 0x00: /* all logical units */
	case 0x02: /* all, including well known ones (we have none) */
		prpath_put_be32(b, 8); /* LUN 0 */
		len = 16;
		break;
	case 0x01: /* well known logical units only: none */
		len = 8;
		break;
	default:
		return ds_invalid_cdb(cmd);
	}
	return reply(cmd, b, len, alloc);
}

/* ---- MODE SENSE / MODE SELECT ------------------------------------------- */

enum {
	MP_CACHING = 0x08,
	MP_CONTROL = 0x0a,
	MP_IEC = 0x1c,
	MP_ALL = 0x3f,
};

static const uint8_t mode_pages[] = { MP_CACHING, MP_CONTROL, MP_IEC };

/* Writes the current (pc 0/2) or changeable (pc 1) values of @page.
 * Returns its length, 0 for an unknown page. */
static size_t mode_page(uint8_t page, unsigned pc, uint8_t *b)
{
	size_t len;

	switch (page) {
	case MP_CACHING:
		len = 20;
		memset(b, 0, len);
		if (pc != 1)
			b[2] = 0x04;  /* WCE=1, RCD=0 */
		break;
	case MP_CONTROL:
		len = 12;
		memset(b, 0, len);
		/* TST=0, D_SENSE=0, QERR=0, TAS=0; nothing changeable */
		if (pc != 1)
			prpath_put_be16(b + 8, 0xffff); /* BUSY TIMEOUT: unlimited */
		break;
	case MP_IEC:
		len = 12;
		memset(b, 0, len);
		if (pc != 1)
			b[2] = 0x08;  /* DEXCPT: exceptions reporting disabled */
		break;
	default:
		return 0;
	}
	b[0] = page;          /* PS=0: not saveable */
	b[1] = (uint8_t)(len - 2);
	return len;
}

static int do_mode_sense(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == PRPATH_SCSI_OP_MODE_SENSE10;
	bool dbd = cdb[1] & 0x08;
	bool llbaa = ten && (cdb[1] & 0x10);
	unsigned pc = cdb[2] >> 6;
	uint8_t page = cdb[2] & 0x3f;
	uint8_t subpage = cdb[3];
	size_t alloc = ten ? prpath_get_be16(cdb + 7) : cdb[4];
	size_t hlen = ten ? 8 : 4, bdlen = 0, len, i;
	uint8_t b[256];
	uint8_t *p;

	if (pc == 3)
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				PRPATH_SCSI_ASCQ_SAVING_PARAMS_UNSUPPORTED);
	if (subpage && !(page == MP_ALL && subpage == 0xff))
		return ds_invalid_cdb(cmd);
	memset(b, 0, sizeof(b));
	p = b + hlen;
	if (!dbd) {
		if (llbaa) {
			bdlen = 16;
			prpath_put_be64(p, lu->blocks);
			prpath_put_be32(p + 12, lu->block_size);
		} else {
			bdlen = 8;
			prpath_put_be32(p, lu->blocks > 0xffffffffu ?
					   0xffffffffu : (uint32_t)lu->blocks);
			p[5] = (uint8_t)(lu->block_size >> 16);
			p[6] = (uint8_t)(lu->block_size >> 8);
			p[7] = (uint8_t)lu->block_size;
		}
		p += bdlen;
	}
	if (page == MP_ALL) {
		for (i = 0; i < sizeof(mode_pages); i++)
			p += mode_page(mode_pages[i], pc, p);
	} else {
		size_t l = mode_page(page, pc, p);

		if (!l)
			return ds_invalid_cdb(cmd);
		p += l;
	}
	len = (size_t)(p - b);
	if (ten) {
		prpath_put_be16(b, (uint16_t)(len - 2));
		b[3] = 0x10;           /* DPOFUA */
		b[4] = llbaa && bdlen ? 0x01 : 0x00; /* LONGLBA */
		prpath_put_be16(b + 6, (uint16_t)bdlen);
	} else {
		b[0] = (uint8_t)(len - 1);
		b[2] = 0x10;           /* DPOFUA */
		b[3] = (uint8_t)bdlen;
	}
	return reply(cmd, b, len, alloc);
}

/* MODE SELECT: nothing is changeable, so a parameter list is accepted when
 * it restates the current values; anything else is 05/26/00. */
static int do_mode_select(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool ten = cdb[0] == PRPATH_SCSI_OP_MODE_SELECT10;
	size_t plen = ten ? prpath_get_be16(cdb + 7) : cdb[4];
	size_t hlen = ten ? 8 : 4, bdlen, off;
	const uint8_t *p = cmd->data_out;
	bool longlba;

	if (cdb[1] & 0x01)
		return ds_invalid_cdb(cmd); /* SP: saving pages unsupported */
	if (!plen)
		return ds_good(cmd);
	/* see block.c: a short data-out buffer is an in-process caller error */
	if (!p || cmd->data_out_len < plen)
		return ds_invalid_cdb(cmd);
	if (plen < hlen)
		return ds_param_length_error(cmd);
	bdlen = ten ? prpath_get_be16(p + 6) : p[3];
	longlba = ten && (p[4] & 0x01);
	if (bdlen && bdlen != (longlba ? 16u : 8u))
		return ds_invalid_param(cmd);
	if (hlen + bdlen > plen)
		return ds_param_length_error(cmd);
	if (bdlen) {
		const uint8_t *d = p + hlen;
		uint64_t nblk;
		uint32_t blen;

		if (longlba) {
			nblk = prpath_get_be64(d);
			blen = prpath_get_be32(d + 12);
		} else {
			nblk = prpath_get_be32(d);
			blen = ((uint32_t)d[5] << 16) | ((uint32_t)d[6] << 8) | d[7];
		}
		/* 0 = keep the capacity */
		if (nblk && nblk != lu->blocks &&
		    !(!longlba && nblk == 0xffffffffu && lu->blocks > 0xffffffffu))
			return ds_invalid_param(cmd);
		if (blen != lu->block_size)
			return ds_invalid_param(cmd);
	}
	for (off = hlen + bdlen; off < plen; ) {
		uint8_t cur[32];
		size_t l, i;

		if (p[off] & 0x40)
			return ds_invalid_param(cmd); /* SPF: no subpages */
		if (plen - off < 2)
			return ds_param_length_error(cmd);
		l = mode_page(p[off] & 0x3f, 0, cur);
		if (!l || p[off + 1] != l - 2)
			return ds_invalid_param(cmd);
		if (plen - off < l)
			return ds_param_length_error(cmd);
		/* PS is reserved in MODE SELECT; everything else must match */
		for (i = 2; i < l; i++)
			if (p[off + i] != cur[i])
				return ds_invalid_param(cmd);
		off += l;
	}
	return ds_good(cmd);
}

/* ---- REPORT TARGET PORT GROUPS ------------------------------------------ */

static int do_report_tpgs(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	unsigned fmt = cdb[1] >> 5;
	uint32_t alloc = prpath_get_be32(cdb + 6);
	uint8_t b[8 + 8 + 4 * 64];
	uint8_t *d;
	size_t i, nports = lu->nports, len;

	if (fmt > 1)
		return ds_invalid_cdb(cmd);
	if (nports > 64)
		nports = 64;
	memset(b, 0, sizeof(b));
	d = b + 4;
	if (fmt == 1) {
		b[4] = 0x10;   /* FORMAT TYPE 001b: extended header */
		b[5] = 0;      /* IMPLICIT TRANSITION TIME */
		d = b + 8;
	}
	d[0] = 0x00;           /* PREF=0, ACCESS STATE active/optimized */
	d[1] = 0x01;           /* AO_SUP */
	prpath_put_be16(d + 2, TPG_ID);
	d[5] = 0x00;           /* STATUS CODE */
	d[7] = (uint8_t)nports;
	for (i = 0; i < nports; i++)
		prpath_put_be16(d + 8 + 4 * i + 2, lu->ports[i]);
	len = (size_t)(d - b) + 8 + 4 * nports;
	prpath_put_be32(b, (uint32_t)(len - 4));
	return reply(cmd, b, len, alloc);
}

/* ---- REPORT SUPPORTED OPERATION CODES ----------------------------------- */

struct opinfo {
	uint8_t op;
	bool has_sa;
	uint16_t sa;
	uint8_t cdb_len;
	uint8_t usage[16]; /* CDB USAGE DATA, usage[0] = the opcode */
};

#define U6(op, b1, b2, b3, b4) \
	{ op, b1, b2, b3, b4, 0x07 }
#define U10(op, b1, b2, b3, b4, b5, b6, b7, b8) \
	{ op, b1, b2, b3, b4, b5, b6, b7, b8, 0x07 }
#define U12(op, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10) \
	{ op, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, 0x07 }
#define U16(op, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14) \
	{ op, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, 0x07 }

#define RW10(op, b1) U10(op, b1, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff)
#define RW12(op, b1) U12(op, b1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f)
#define RW16(op, b1) U16(op, b1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
			 0xff, 0xff, 0xff, 0xff, 0x1f)

/* Every command the device server (lu.c, pr.c, block.c, info.c) accepts. */
static const struct opinfo opcodes[] = {
	{ 0x00, false, 0, 6, U6(0x00, 0x00, 0x00, 0x00, 0x00) },  /* TEST UNIT READY */
	{ 0x03, false, 0, 6, U6(0x03, 0x01, 0x00, 0x00, 0xff) },  /* REQUEST SENSE */
	{ 0x04, false, 0, 6, U6(0x04, 0xff, 0x00, 0x00, 0x00) },  /* FORMAT UNIT */
	{ 0x08, false, 0, 6, U6(0x08, 0x1f, 0xff, 0xff, 0xff) },  /* READ(6) */
	{ 0x0a, false, 0, 6, U6(0x0a, 0x1f, 0xff, 0xff, 0xff) },  /* WRITE(6) */
	{ 0x12, false, 0, 6, U6(0x12, 0x01, 0xff, 0xff, 0xff) },  /* INQUIRY */
	{ 0x15, false, 0, 6, U6(0x15, 0x11, 0x00, 0x00, 0xff) },  /* MODE SELECT(6) */
	{ 0x16, false, 0, 6, U6(0x16, 0x00, 0x00, 0x00, 0x00) },  /* RESERVE(6) */
	{ 0x17, false, 0, 6, U6(0x17, 0x00, 0x00, 0x00, 0x00) },  /* RELEASE(6) */
	{ 0x1a, false, 0, 6, U6(0x1a, 0x08, 0xff, 0xff, 0xff) },  /* MODE SENSE(6) */
	{ 0x1b, false, 0, 6, U6(0x1b, 0x01, 0x00, 0x0f, 0xf7) },  /* START STOP UNIT */
	{ 0x25, false, 0, 10, U10(0x25, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01) },
	{ 0x28, false, 0, 10, RW10(0x28, 0xf8) },                  /* READ(10) */
	{ 0x2a, false, 0, 10, RW10(0x2a, 0xf8) },                  /* WRITE(10) */
	{ 0x2e, false, 0, 10, RW10(0x2e, 0xf6) },                  /* WRITE AND VERIFY(10) */
	{ 0x2f, false, 0, 10, RW10(0x2f, 0xf6) },                  /* VERIFY(10) */
	{ 0x34, false, 0, 10, RW10(0x34, 0x02) },                  /* PRE-FETCH(10) */
	{ 0x35, false, 0, 10, RW10(0x35, 0x02) },                  /* SYNCHRONIZE CACHE(10) */
	{ 0x41, false, 0, 10, RW10(0x41, 0xf8) },                  /* WRITE SAME(10) */
	{ 0x42, false, 0, 10, U10(0x42, 0x01, 0x00, 0x00, 0x00, 0x00, 0x1f, 0xff, 0xff) },
	{ 0x4d, false, 0, 10, U10(0x4d, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff) },
	{ 0x55, false, 0, 10, U10(0x55, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff) },
	{ 0x56, false, 0, 10, U10(0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00) },
	{ 0x57, false, 0, 10, U10(0x57, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00) },
	{ 0x5a, false, 0, 10, U10(0x5a, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff) },
#define PRIN(sa) { 0x5e, true, sa, 10, U10(0x5e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff) }
	PRIN(0x00), PRIN(0x01), PRIN(0x02), PRIN(0x03),
#undef PRIN
#define PROUT(sa) { 0x5f, true, sa, 10, U10(0x5f, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff) }
	PROUT(0x00), PROUT(0x01), PROUT(0x02), PROUT(0x03), PROUT(0x04),
	PROUT(0x05), PROUT(0x06), PROUT(0x07), PROUT(0x08),
#undef PROUT
	{ 0x88, false, 0, 16, RW16(0x88, 0xf8) },                  /* READ(16) */
	{ 0x89, false, 0, 16, U16(0x89, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				   0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0x1f) },
	{ 0x8a, false, 0, 16, RW16(0x8a, 0xf8) },                  /* WRITE(16) */
	{ 0x8e, false, 0, 16, RW16(0x8e, 0xf6) },                  /* WRITE AND VERIFY(16) */
	{ 0x8f, false, 0, 16, RW16(0x8f, 0xf6) },                  /* VERIFY(16) */
	{ 0x90, false, 0, 16, RW16(0x90, 0x02) },                  /* PRE-FETCH(16) */
	{ 0x91, false, 0, 16, RW16(0x91, 0x02) },                  /* SYNCHRONIZE CACHE(16) */
	{ 0x93, false, 0, 16, RW16(0x93, 0xf9) },                  /* WRITE SAME(16) */
	{ 0x9e, true, PRPATH_SCSI_SAI_READ_CAPACITY16, 16,
	  U16(0x9e, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	      0xff, 0xff, 0xff, 0xff, 0x00) },
	{ 0x9e, true, PRPATH_SCSI_SAI_GET_LBA_STATUS, 16,
	  U16(0x9e, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff, 0xff, 0xff, 0x00) },
	{ 0xa0, false, 0, 12, U12(0xa0, 0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff,
				   0xff, 0xff, 0x00) },                /* REPORT LUNS */
	{ 0xa3, true, PRPATH_SCSI_MI_REPORT_TARGET_PORT_GROUPS, 12,
	  U12(0xa3, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00) },
	{ 0xa3, true, PRPATH_SCSI_MI_REPORT_SUPPORTED_OPCODES, 12,
	  U12(0xa3, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00) },
	{ 0xa8, false, 0, 12, RW12(0xa8, 0xf8) },                  /* READ(12) */
	{ 0xaa, false, 0, 12, RW12(0xaa, 0xf8) },                  /* WRITE(12) */
	{ 0xae, false, 0, 12, RW12(0xae, 0xf6) },                  /* WRITE AND VERIFY(12) */
	{ 0xaf, false, 0, 12, RW12(0xaf, 0xf6) },                  /* VERIFY(12) */
};

#define NOPCODES (sizeof(opcodes) / sizeof(opcodes[0]))

static bool op_supported(const struct prpath_lu *lu, const struct opinfo *o)
{
	/* REPLACE LOST RESERVATION only when configured */
	if (o->op == PRPATH_SCSI_OP_PR_OUT && o->sa == PRPATH_PR_OUT_REPLACE_LOST_RESERVATION)
		return lu->rlr;
	return true;
}

static bool op_has_sa(uint8_t op)
{
	size_t i;

	for (i = 0; i < NOPCODES; i++)
		if (opcodes[i].op == op)
			return opcodes[i].has_sa;
	return false;
}

static const struct opinfo *op_find(const struct prpath_lu *lu, uint8_t op,
				    bool match_sa, uint16_t sa)
{
	size_t i;

	for (i = 0; i < NOPCODES; i++) {
		if (opcodes[i].op != op)
			continue;
		if (match_sa && opcodes[i].sa != sa)
			continue;
		return op_supported(lu, &opcodes[i]) ? &opcodes[i] : NULL;
	}
	return NULL;
}

/* COMMAND TIMEOUTS DESCRIPTOR: no timeouts known (zeros). */
static size_t put_timeouts(uint8_t *p)
{
	memset(p, 0, 12);
	prpath_put_be16(p, 0x0a);
	return 12;
}

static int do_report_opcodes(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool rctd = cdb[2] & 0x80;
	unsigned opt = cdb[2] & 0x07;
	uint8_t rop = cdb[3];
	uint16_t rsa = prpath_get_be16(cdb + 4);
	uint32_t alloc = prpath_get_be32(cdb + 6);
	uint8_t b[4 + NOPCODES * (8 + 12)];
	const struct opinfo *o;
	uint8_t *p;
	size_t i, len;

	memset(b, 0, sizeof(b));
	if (opt == 0) {
		p = b + 4;
		for (i = 0; i < NOPCODES; i++) {
			o = &opcodes[i];
			if (!op_supported(lu, o))
				continue;
			p[0] = o->op;
			prpath_put_be16(p + 2, o->sa);
			p[5] = (rctd ? 0x02 : 0) | (o->has_sa ? 0x01 : 0);
			prpath_put_be16(p + 6, o->cdb_len);
			p += 8;
			if (rctd)
				p += put_timeouts(p);
		}
		len = (size_t)(p - b);
		prpath_put_be32(b, (uint32_t)(len - 4));
		return reply(cmd, b, len, alloc);
	}

	switch (opt) {
	case 1: /* opcode without service action */
		if (op_has_sa(rop))
			return ds_invalid_cdb(cmd);
		o = op_find(lu, rop, false, 0);
		break;
	case 2: /* opcode with service action */
		if (!op_has_sa(rop))
			return ds_invalid_cdb(cmd);
		o = op_find(lu, rop, true, rsa);
		break;
	case 3: /* either: the service action counts when the opcode has them */
		o = op_find(lu, rop, op_has_sa(rop), rsa);
		break;
	default:
		return ds_invalid_cdb(cmd);
	}
	if (!o) {
		b[1] = 0x01;  /* SUPPORT 001b: not supported */
		len = 4;
	} else {
		b[1] = (rctd ? 0x80 : 0) | 0x03; /* SUPPORT 011b: as the standard */
		prpath_put_be16(b + 2, o->cdb_len);
		memcpy(b + 4, o->usage, o->cdb_len);
		len = 4 + o->cdb_len;
		if (rctd)
			len += put_timeouts(b + len);
	}
	return reply(cmd, b, len, alloc);
}

/* ---- LOG SENSE ---------------------------------------------------------- */

static int do_log_sense(struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint16_t alloc = prpath_get_be16(cdb + 7);
	uint8_t b[5];

	if (cdb[1] & 0x03)
		return ds_invalid_cdb(cmd);  /* PPC, SP */
	if ((cdb[2] & 0x3f) != 0x00 || cdb[3] != 0x00 || prpath_get_be16(cdb + 5))
		return ds_invalid_cdb(cmd);
	/* Supported Log Pages: just itself */
	b[0] = 0x00;
	b[1] = 0x00;
	prpath_put_be16(b + 2, 1);
	b[4] = 0x00;
	return reply(cmd, b, sizeof(b), alloc);
}

/* ---- dispatch ----------------------------------------------------------- */

int ds_info_exec(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	struct prpath_lu *lu = nx->lu;
	const uint8_t *cdb = cmd->cdb; /* lu.c checked its length */

	switch (cdb[0]) {
	case PRPATH_SCSI_OP_TEST_UNIT_READY:
	case PRPATH_SCSI_OP_START_STOP_UNIT:
		return ds_good(cmd);
	case PRPATH_SCSI_OP_INQUIRY:
		return do_inquiry(nx, cmd);
	case PRPATH_SCSI_OP_READ_CAPACITY10:
		return do_read_capacity10(lu, cmd);
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16:
		switch (cdb[1] & 0x1f) {
		case PRPATH_SCSI_SAI_READ_CAPACITY16:
			return do_read_capacity16(lu, cmd);
		case PRPATH_SCSI_SAI_GET_LBA_STATUS:
			return ds_block_exec(nx, cmd);
		default:
			return ds_invalid_cdb(cmd);
		}
	case PRPATH_SCSI_OP_REPORT_LUNS:
		return do_report_luns(cmd);
	case PRPATH_SCSI_OP_MODE_SENSE6:
	case PRPATH_SCSI_OP_MODE_SENSE10:
		return do_mode_sense(lu, cmd);
	case PRPATH_SCSI_OP_MODE_SELECT6:
	case PRPATH_SCSI_OP_MODE_SELECT10:
		return do_mode_select(lu, cmd);
	case PRPATH_SCSI_OP_MAINTENANCE_IN:
		switch (cdb[1] & 0x1f) {
		case PRPATH_SCSI_MI_REPORT_TARGET_PORT_GROUPS:
			return do_report_tpgs(lu, cmd);
		case PRPATH_SCSI_MI_REPORT_SUPPORTED_OPCODES:
			return do_report_opcodes(lu, cmd);
		default:
			return ds_invalid_cdb(cmd);
		}
	case PRPATH_SCSI_OP_LOG_SENSE:
		return do_log_sense(cmd);
	default:
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				PRPATH_SCSI_ASCQ_INVALID_OPCODE);
	}
}

int ds_info_xfer(const struct prpath_lu *lu, const uint8_t *cdb, size_t len,
		 uint64_t *bytes, bool *is_write)
{
	if (!cdb || !len || !ds_cdb_len(cdb[0]) || len < ds_cdb_len(cdb[0]))
		return -EINVAL;
	*bytes = 0;
	*is_write = false;
	switch (cdb[0]) {
	case PRPATH_SCSI_OP_TEST_UNIT_READY:
	case PRPATH_SCSI_OP_START_STOP_UNIT:
		return 0;
	case PRPATH_SCSI_OP_INQUIRY:
		*bytes = prpath_get_be16(cdb + 3);
		return 0;
	case PRPATH_SCSI_OP_READ_CAPACITY10:
		*bytes = 8;
		return 0;
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16:
		if ((cdb[1] & 0x1f) == PRPATH_SCSI_SAI_READ_CAPACITY16) {
			*bytes = prpath_get_be32(cdb + 10);
			return 0;
		}
		if ((cdb[1] & 0x1f) == PRPATH_SCSI_SAI_GET_LBA_STATUS)
			return ds_block_xfer(lu, cdb, len, bytes, is_write);
		return -EINVAL;
	case PRPATH_SCSI_OP_REPORT_LUNS:
		*bytes = prpath_get_be32(cdb + 6);
		return 0;
	case PRPATH_SCSI_OP_MODE_SENSE6:
		*bytes = cdb[4];
		return 0;
	case PRPATH_SCSI_OP_MODE_SENSE10:
	case PRPATH_SCSI_OP_LOG_SENSE:
		*bytes = prpath_get_be16(cdb + 7);
		return 0;
	case PRPATH_SCSI_OP_MODE_SELECT6:
		*bytes = cdb[4];
		*is_write = *bytes != 0;
		return 0;
	case PRPATH_SCSI_OP_MODE_SELECT10:
		*bytes = prpath_get_be16(cdb + 7);
		*is_write = *bytes != 0;
		return 0;
	case PRPATH_SCSI_OP_MAINTENANCE_IN:
		if ((cdb[1] & 0x1f) == PRPATH_SCSI_MI_REPORT_TARGET_PORT_GROUPS ||
		    (cdb[1] & 0x1f) == PRPATH_SCSI_MI_REPORT_SUPPORTED_OPCODES) {
			*bytes = prpath_get_be32(cdb + 6);
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}
