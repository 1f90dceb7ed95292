/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: iSCSI PDU parsing (BHS, AHS, LUN field) and login / text
 * key negotiation, as the target sees bytes from the network. The input is
 * one PDU: 48-byte BHS, AHS, data segment. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_bhs b;
	struct iscsi_params p;
	uint8_t ext[260];
	char out[8192];
	size_t off, olen, ahs_len, dlen;
	const uint8_t *seg;
	struct iscsi_kv kv;
	int r, stage;

	r = iscsi_bhs_parse(data, size, &b);
	if (size < ISCSI_BHS_LEN) {
		if (r != -ENODATA)
			abort();
		return 0;
	}
	if (r != 0 && r != -EBADMSG)
		abort();
	r = iscsi_lun_decode(b.lun);
	if (r < -EINVAL || r > 0x3fff)
		abort();
	ahs_len = (size_t)b.ahs_words * 4;
	if (ahs_len > size - ISCSI_BHS_LEN)
		ahs_len = size - ISCSI_BHS_LEN;
	r = iscsi_ahs_ext_cdb(data + ISCSI_BHS_LEN, ahs_len, ext, sizeof(ext));
	if (r != -EBADMSG && (r < 0 || (size_t)r > sizeof(ext)))
		abort();
	seg = data + ISCSI_BHS_LEN + ahs_len;
	dlen = size - ISCSI_BHS_LEN - ahs_len;
	if (dlen > b.dlen)
		dlen = b.dlen;

	/* text walk never goes backwards or past the end */
	off = 0;
	while ((r = iscsi_text_next(seg, dlen, &off, &kv)) == 1) {
		if (off > dlen || kv.key_len == 0 || kv.key_len > ISCSI_KEY_MAX ||
		    kv.value + kv.value_len >= (const char *)seg + dlen)
			abort();
	}
	if (r != 0 && r != -EBADMSG)
		abort();

	for (stage = 0; stage < 3; stage++) {
		static const enum iscsi_nego_stage st[] = {
			ISCSI_NEGO_SECURITY, ISCSI_NEGO_OPERATIONAL, ISCSI_NEGO_FFP
		};
		const char *send = NULL;
		size_t cap = stage == 2 ? 64 : sizeof(out);

		iscsi_params_init(&p, 262144);
		olen = 0;
		r = iscsi_negotiate(&p, st[stage], seg, dlen, out, cap, &olen, &send);
		if (olen > cap)
			abort();
		if (r < 0 && r != -ENOSPC && r != -EBADMSG)
			abort();
		if (p.first_burst > p.max_burst || p.max_burst > (1u << 20) ||
		    p.max_outstanding_r2t == 0 || p.max_send_dsl < 512 ||
		    p.initiator_name[sizeof(p.initiator_name) - 1] != '\0' ||
		    p.target_name[sizeof(p.target_name) - 1] != '\0')
			abort();
		if (send && (send < (const char *)seg ||
			     send >= (const char *)seg + dlen))
			abort();
	}
	return 0;
}
