/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoders for standard INQUIRY data (SPC-4 6.6.2), the Device
 * Identification VPD page 83h (SPC-4 7.8.6) and READ CAPACITY(16)
 * parameter data (SBC-3 5.16.2).
 */
#include <errno.h>
#include <string.h>

#include <prpath/scsi.h>

#define VPD_DEVICE_ID 0x83

#define CODE_SET_BINARY 0x1
#define CODE_SET_ASCII 0x2
#define CODE_SET_UTF8 0x3

/* Copies an ASCII field of @n bytes at @off (only bytes below @len),
 * turning non-printable bytes into spaces and trimming trailing spaces. */
static void copy_ascii(char *dst, const uint8_t *buf, size_t len, size_t off,
		       size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n && off + i < len; i++) {
		uint8_t c = buf[off + i];

		dst[out++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	while (out > 0 && dst[out - 1] == ' ')
		out--;
	dst[out] = '\0';
}

int prpath_decode_inquiry(const uint8_t *buf, size_t len, struct prpath_inquiry *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	/* bytes 0..4 hold everything up to ADDITIONAL LENGTH */
	if (!buf || len < 5)
		return -ENODATA;
	/* never look beyond what the device says it returned */
	if (len > 5 + (size_t)buf[4])
		len = 5 + (size_t)buf[4];
	out->peripheral_qualifier = buf[0] >> 5;
	out->device_type = buf[0] & 0x1f;
	out->version = buf[2];
	out->hisup = buf[3] & 0x10;
	out->response_format = buf[3] & 0x0f;
	if (len > 5)
		out->tpgs = (buf[5] >> 4) & 0x3;
	copy_ascii(out->vendor, buf, len, 8, 8);
	copy_ascii(out->product, buf, len, 16, 16);
	copy_ascii(out->revision, buf, len, 32, 4);
	return 0;
}

int prpath_vpd83_next(const uint8_t *buf, size_t len, size_t *off,
		      struct prpath_designator *d)
{
	size_t page_end, end, o, dlen;

	if (!off || !d)
		return -EINVAL;
	if (!buf || len < 4)
		return -ENODATA;
	if (buf[1] != VPD_DEVICE_ID)
		return -EBADMSG;
	page_end = 4 + (size_t)prpath_get_be16(buf + 2);
	end = page_end < len ? page_end : len;
	o = *off ? *off : 4;
	if (o >= end)
		return 0;
	if (end - o < 4 || end - o < 4 + (size_t)buf[o + 3]) {
		/* a designator crosses the end: malformed if the page itself
		 * says so, otherwise the data was cut short: stop there */
		if (end == page_end)
			return -EBADMSG;
		*off = end;
		return 0;
	}
	dlen = buf[o + 3];
	d->protocol = buf[o] >> 4;
	d->code_set = buf[o] & 0x0f;
	d->piv = buf[o + 1] & 0x80;
	d->association = (buf[o + 1] >> 4) & 0x3;
	d->type = buf[o + 1] & 0x0f;
	d->len = (uint8_t)dlen;
	d->id = buf + o + 4;
	*off = o + 4 + dlen;
	return 1;
}

static int lu_rank(uint8_t type)
{
	switch (type) {
	case PRPATH_SCSI_DESIG_NAA: return 4;
	case PRPATH_SCSI_DESIG_EUI64: return 3;
	case PRPATH_SCSI_DESIG_T10: return 2;
	case PRPATH_SCSI_DESIG_SCSI_NAME: return 1;
	default: return 0;
	}
}

static int format_designator(const struct prpath_designator *d, char *out,
			     size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;

	if (d->code_set == CODE_SET_ASCII || d->code_set == CODE_SET_UTF8) {
		for (i = 0; i < d->len && d->id[i] != '\0'; i++) {
			uint8_t c = d->id[i];

			if (n + 1 >= cap)
				return -ENOSPC;
			out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		while (n > 0 && out[n - 1] == ' ')
			n--;
	} else {
		for (i = 0; i < d->len; i++) {
			if (n + 2 >= cap)
				return -ENOSPC;
			out[n++] = hex[d->id[i] >> 4];
			out[n++] = hex[d->id[i] & 0x0f];
		}
	}
	if (n >= cap)
		return -ENOSPC;
	out[n] = '\0';
	return (int)n;
}

int prpath_vpd83_lu_id(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	struct prpath_designator d, best;
	size_t off = 0;
	int rank = 0, ret;

	if (!out || cap == 0)
		return -EINVAL;
	out[0] = '\0';
	memset(&best, 0, sizeof(best));
	while ((ret = prpath_vpd83_next(buf, len, &off, &d)) == 1) {
		int r;

		if (d.association != PRPATH_SCSI_ASSOC_LU || d.len == 0)
			continue;
		r = lu_rank(d.type);
		if (r > rank) {
			rank = r;
			best = d;
		}
	}
	if (ret < 0)
		return ret;
	if (rank == 0)
		return -ENOENT;
	ret = format_designator(&best, out, cap);
	if (ret == 0)
		return -ENOENT; /* e.g. a text designator of NULs only */
	return ret;
}

int prpath_vpd83_rel_tgt_port(const uint8_t *buf, size_t len, uint16_t *rtp)
{
	struct prpath_designator d;
	size_t off = 0;
	int ret;

	if (!rtp)
		return -EINVAL;
	while ((ret = prpath_vpd83_next(buf, len, &off, &d)) == 1) {
		if (d.type == PRPATH_SCSI_DESIG_REL_TGT_PORT &&
		    d.association == PRPATH_SCSI_ASSOC_TARGET_PORT && d.len >= 4) {
			*rtp = prpath_get_be16(d.id + 2);
			return 0;
		}
	}
	return ret < 0 ? ret : -ENOENT;
}

int prpath_decode_vpd_b0(const uint8_t *buf, size_t len,
			 struct prpath_block_limits *out)
{
	size_t n;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!buf || len < 4)
		return -ENODATA;
	if (buf[1] != 0xb0)
		return -EBADMSG;
	/* what both the buffer and PAGE LENGTH cover */
	n = 4 + (size_t)prpath_get_be16(buf + 2);
	if (n > len)
		n = len;
	if (n >= 8)
		out->opt_xfer_granularity = prpath_get_be16(buf + 6);
	if (n >= 12)
		out->max_xfer_len = prpath_get_be32(buf + 8);
	if (n >= 16)
		out->opt_xfer_len = prpath_get_be32(buf + 12);
	return 0;
}

int prpath_decode_read_capacity16(const uint8_t *buf, size_t len,
				  struct prpath_capacity *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!buf || len < 12)
		return -ENODATA;
	out->last_lba = prpath_get_be64(buf);
	out->block_size = prpath_get_be32(buf + 8);
	if (out->block_size == 0)
		return -EBADMSG;
	if (len > 14) {
		out->lbpme = buf[14] & 0x80;
		out->lbprz = buf[14] & 0x40;
	}
	return 0;
}
