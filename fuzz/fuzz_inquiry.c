/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: standard INQUIRY, VPD page 83h (designator walk, LU id,
 * relative target port) and READ CAPACITY(16). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/scsi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prpath_inquiry q;
	struct prpath_designator d;
	struct prpath_capacity c;
	char id[600];
	size_t off = 0, prev = 0;
	uint16_t rtp;
	int ret, n = 0;

	ret = prpath_decode_inquiry(data, size, &q);
	if (ret != 0 && ret != -ENODATA)
		abort();
	if (strlen(q.vendor) > 8 || strlen(q.product) > 16 || strlen(q.revision) > 4)
		abort();

	/* the walk always advances and stays inside the buffer */
	while ((ret = prpath_vpd83_next(data, size, &off, &d)) == 1) {
		if (off <= prev || off > size || d.id < data ||
		    d.id + d.len > data + size)
			abort();
		prev = off;
		if (++n > 100000)
			abort();
	}
	if (ret != 0 && ret != -ENODATA && ret != -EBADMSG)
		abort();

	ret = prpath_vpd83_lu_id(data, size, id, sizeof(id));
	if (ret >= 0 && (size_t)ret != strlen(id))
		abort();
	if (ret < 0 && ret != -ENOENT && ret != -ENODATA && ret != -EBADMSG)
		abort();
	/* a small output buffer either fits or says -ENOSPC */
	ret = prpath_vpd83_lu_id(data, size, id, 9);
	if (ret >= 9 || (ret >= 0 && (size_t)ret != strlen(id)))
		abort();
	ret = prpath_vpd83_rel_tgt_port(data, size, &rtp);
	if (ret != 0 && ret != -ENOENT && ret != -ENODATA && ret != -EBADMSG)
		abort();

	{
		struct prpath_block_limits bl;

		ret = prpath_decode_vpd_b0(data, size, &bl);
		if (ret != 0 && ret != -ENODATA && ret != -EBADMSG)
			abort();
		/* nothing is read beyond 4 + PAGE LENGTH or the buffer */
		if (ret == 0 && size < 12 && bl.max_xfer_len)
			abort();
	}
	ret = prpath_decode_read_capacity16(data, size, &c);
	if (ret != 0 && ret != -ENODATA && ret != -EBADMSG)
		abort();
	if (ret == 0 && c.block_size == 0)
		abort();
	return 0;
}
