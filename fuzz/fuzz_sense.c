/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: sense decoding and classification (fixed and descriptor). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/prpath.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prpath_sense s, c;
	enum prpath_sense_cat cat;
	uint8_t status;
	int ret;

	ret = prpath_sense_decode(data, size, &s);
	if (ret != 0 && ret != -ENODATA && ret != -EBADMSG)
		abort();
	if (ret == 0 && (!s.valid || s.key > 0x0f))
		abort();
	if (ret != 0 && s.valid)
		abort();
	/* names never NULL */
	if (!prpath_sense_key_name(s.key) || !prpath_asc_name(s.asc, s.ascq))
		abort();

	/* the first byte doubles as a status for classification */
	status = size ? data[0] : 0;
	cat = prpath_sense_classify(PRPATH_SCSI_STATUS_CHECK_CONDITION, data, size, &c);
	if (memcmp(&c, &s, sizeof(s)) != 0)
		abort();
	if (ret < 0 && cat != PRPATH_SENSE_OTHER)
		abort();
	cat = prpath_sense_classify(status, data, size, NULL);
	if (!prpath_sense_cat_name(cat) || !prpath_status_name(status))
		abort();
	if (prpath_err_from_sense_cat(cat) < 0 || !prpath_strerror(-(int)status))
		abort();
	return 0;
}
