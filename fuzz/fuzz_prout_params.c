/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: PR OUT parameter lists (basic and REGISTER AND MOVE) and
 * iSCSI TransportIDs. Whatever decodes is encoded again and must decode to
 * the same thing; abort() on any mismatch. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <prpath/scsi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void tid_round_trip(const uint8_t *data, size_t size)
{
	struct prpath_tid t, t2, t3;
	uint8_t buf[PRPATH_TRANSPORTID_MAX];
	char pn[PRPATH_PORT_NAME_MAX];
	int n, m;

	n = prpath_tid_decode(data, size, &t);
	if (n < 0) {
		if (n != -ENODATA && n != -EBADMSG && n != -EPROTONOSUPPORT)
			abort();
		return;
	}
	if (n < 24 || n % 4 || (size_t)n > size || n > PRPATH_TRANSPORTID_MAX)
		abort();
	m = prpath_tid_encode(&t, buf, sizeof(buf));
	if (m < 24 || m > n)
		abort();
	if (prpath_tid_decode(buf, (size_t)m, &t2) != m ||
	    memcmp(&t, &t2, sizeof(t)) != 0)
		abort();
	/* same header byte but the reserved bits; same or less padding */
	if (buf[0] != (data[0] & 0xcf) || buf[1] != 0)
		abort();
	/* and through the initiator port name */
	if (prpath_tid_port_name(&t, pn, sizeof(pn)) < 0 ||
	    prpath_tid_from_port_name(pn, &t3) != 0 ||
	    memcmp(&t, &t3, sizeof(t)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prpath_prout_params p, p2;
	struct prpath_prout_move_params mp, mp2;
	uint8_t *buf;
	size_t off;
	int ret, n;

	buf = malloc(size + 64);
	if (!buf)
		return 0;

	ret = prpath_prout_params_decode(data, size, &p);
	if (ret != 0 && ret != -ENODATA && ret != -EBADMSG)
		abort();
	if (ret == 0) {
		n = prpath_prout_params_encode(&p, buf, size + 64);
		if (n < 0 || (size_t)n != size)
			abort();
		/* significant bytes are identical */
		if (memcmp(buf, data, 16) != 0 || buf[20] != (data[20] & 0x0d) ||
		    (size > 24 && memcmp(buf + 24, data + 24, size - 24) != 0))
			abort();
		if (prpath_prout_params_decode(buf, (size_t)n, &p2) != 0 ||
		    p2.rk != p.rk || p2.sark != p.sark ||
		    p2.spec_i_pt != p.spec_i_pt || p2.all_tg_pt != p.all_tg_pt ||
		    p2.aptpl != p.aptpl || p2.tids_len != p.tids_len)
			abort();
		/* walk the TransportID list as the device server does */
		for (off = 0; p.spec_i_pt && off < p.tids_len;) {
			struct prpath_tid t;
			int k = prpath_tid_decode(p.tids + off, p.tids_len - off, &t);

			if (k <= 0)
				break;
			off += (size_t)k;
		}
		if (off > p.tids_len)
			abort();
	}

	ret = prpath_prout_move_params_decode(data, size, &mp);
	if (ret != 0 && ret != -ENODATA && ret != -EBADMSG)
		abort();
	if (ret == 0) {
		n = prpath_prout_move_params_encode(&mp, buf, size + 64);
		if (n < 0 || (size_t)n != size)
			abort();
		if (memcmp(buf, data, 16) != 0 || buf[17] != (data[17] & 0x03) ||
		    memcmp(buf + 18, data + 18, size - 18) != 0)
			abort();
		if (prpath_prout_move_params_decode(buf, (size_t)n, &mp2) != 0 ||
		    mp2.rk != mp.rk || mp2.sark != mp.sark ||
		    mp2.unreg != mp.unreg || mp2.aptpl != mp.aptpl ||
		    mp2.rel_tgt_port != mp.rel_tgt_port || mp2.tid_len != mp.tid_len)
			abort();
		tid_round_trip(mp.tid, mp.tid_len);
	}

	tid_round_trip(data, size);
	free(buf);
	return 0;
}
