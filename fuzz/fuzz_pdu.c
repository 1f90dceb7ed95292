/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: iSCSI PDU parsing (BHS, AHS, LUN field) and login / text
 * key negotiation, as the target sees bytes from the network. The input is
 * one PDU: 48-byte BHS, AHS, data segment. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/chap.h"
#include "target/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The security stage with CHAP required, entered in each state of the
 * CHAP state machine, one-way and mutual. */
static void fuzz_chap(const uint8_t *seg, size_t dlen)
{
	static const uint8_t secret[] = "initiatorsecret1";
	static const uint8_t msecret[] = "targetsecret22";
	static const struct iscsi_chap_cfg cfgs[2] = {
		{ .user = "alice", .secret = secret, .secret_len = 16 },
		{ .user = "alice", .secret = secret, .secret_len = 16,
		  .mutual_user = "tgt", .mutual_secret = msecret,
		  .mutual_secret_len = 14 },
	};
	uint8_t rnd[ISCSI_CHAP_RANDOM_LEN], bin[ISCSI_CHAP_PEER_CHALLENGE_MAX];
	struct iscsi_params p;
	struct iscsi_chap chap;
	char out[512];
	size_t olen;
	int r, ci, st;

	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(0x11 + i);
	for (ci = 0; ci < 2; ci++) {
		for (st = ISCSI_CHAP_START; st <= ISCSI_CHAP_DONE; st++) {
			iscsi_params_init(&p, 262144);
			iscsi_chap_init(&chap, &cfgs[ci], rnd);
			chap.state = (enum iscsi_chap_state)st;
			p.chap = &chap;
			olen = 0;
			r = iscsi_negotiate(&p, ISCSI_NEGO_SECURITY, seg, dlen, out,
					    sizeof(out), &olen, NULL);
			if (olen > sizeof(out))
				abort();
			if (r < 0 && r != -ENOSPC && r != -EBADMSG)
				abort();
			if (r == ISCSI_LOGIN_AUTH_FAILED &&
			    chap.state != ISCSI_CHAP_FAILED)
				abort();
			/* only a checked response authenticates */
			if (chap.state == ISCSI_CHAP_DONE &&
			    st != (int)ISCSI_CHAP_WAIT_R && st != (int)ISCSI_CHAP_DONE)
				abort();
			if (chap.state == ISCSI_CHAP_FAILED && r == 0)
				abort();
			if (p.auth_none_agreed)
				abort(); /* None is never agreed when CHAP is on */
		}
	}
	/* the binary decoder on the raw segment */
	if (dlen < 4096) {
		r = iscsi_chap_decode((const char *)seg, dlen, bin, sizeof(bin));
		if (r != -EINVAL && (r <= 0 || (size_t)r > sizeof(bin)))
			abort();
	}
}

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

	fuzz_chap(seg, dlen);

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
