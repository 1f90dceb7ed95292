/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the four PR IN decoders (READ KEYS, READ RESERVATION,
 * REPORT CAPABILITIES, READ FULL STATUS). The first input byte picks the
 * size of the caller's arrays, so both full and short arrays are tried. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/scsi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ret(int ret)
{
	if (ret != 0 && ret != -ENODATA && ret != -EBADMSG)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t keys[16];
	struct prpath_full_status_desc desc[8];
	struct prpath_read_keys rk;
	struct prpath_read_reservation rr;
	struct prpath_capabilities caps;
	struct prpath_full_status fs;
	size_t cap = 0;
	int ret;

	if (size > 0) {
		cap = data[0] & 0x0f;
		data++;
		size--;
	}

	memset(&rk, 0, sizeof(rk));
	rk.keys = cap ? keys : NULL;
	rk.keys_cap = cap;
	ret = prpath_decode_read_keys(data, size, &rk);
	check_ret(ret);
	if (ret == 0) {
		if (rk.nkeys > cap || rk.nkeys > rk.nkeys_total ||
		    rk.nkeys_total != rk.additional_length / 8 ||
		    8 + rk.nkeys * 8 > size ||
		    (rk.nkeys < rk.nkeys_total) != rk.truncated)
			abort();
		for (size_t i = 0; i < rk.nkeys; i++)
			if (keys[i] != prpath_get_be64(data + 8 + 8 * i))
				abort();
	}

	ret = prpath_decode_read_reservation(data, size, &rr);
	check_ret(ret);
	if (ret == 0 && !rr.reserved && (rr.key || rr.type || rr.truncated))
		abort();

	ret = prpath_decode_report_capabilities(data, size, &caps);
	check_ret(ret);
	if (ret == 0 && (caps.type_mask & ~0x1eau))
		abort();

	memset(&fs, 0, sizeof(fs));
	fs.desc = cap ? desc : NULL;
	fs.desc_cap = cap > 8 ? 8 : cap;
	ret = prpath_decode_read_full_status(data, size, &fs);
	check_ret(ret);
	if (ret == 0) {
		if (fs.ndesc > fs.desc_cap || 8 + fs.ndesc * 24 > size)
			abort();
		for (size_t i = 0; i < fs.ndesc; i++) {
			if (desc[i].tid_valid &&
			    (desc[i].tid.format > 1 || !desc[i].tid.name[0] ||
			     strlen(desc[i].tid.name) > PRPATH_ISCSI_NAME_MAX))
				abort();
			if (!desc[i].tid_valid && desc[i].tid.name[0])
				abort();
		}
	}
	return 0;
}
