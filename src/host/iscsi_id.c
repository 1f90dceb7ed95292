/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stable iSCSI initiator port identity of a path (no libiscsi needed).
 *
 * ISID (RFC 7143 10.12.5), type 10b "random": byte 0 = 0x80, bytes 1-3 =
 * 24 bits of an FNV-1a hash of the lower-cased initiator name, bytes 4-5 =
 * the path index as the qualifier. The layout is libiscsi's
 * iscsi_set_isid_random(rnd, qualifier).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/iscsi.h"
#include "host/url.h"

int pp_iscsi_name_check(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strlen(name);
	if (n == 0 || n > PP_ISCSI_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)name[i]) || name[i] == ',')
			return -EINVAL;
	return 0;
}

int pp_iscsi_isid_parts(const char *iqn, unsigned path_index, uint32_t *rnd,
			uint32_t *qualifier)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */

	if (pp_iscsi_name_check(iqn) < 0 || path_index > PP_ISCSI_PATH_INDEX_MAX)
		return -EINVAL;
	for (const char *p = iqn; *p; p++) {
		h ^= (uint8_t)tolower((unsigned char)*p);
		h *= 0x100000001b3ull;
	}
	h ^= h >> 32;
	h ^= h >> 24;
	*rnd = (uint32_t)(h & 0xffffffu);
	*qualifier = path_index;
	return 0;
}

int pp_iscsi_isid_for(const char *iqn, unsigned path_index, char out[13])
{
	uint32_t rnd, q;
	int rc;

	rc = pp_iscsi_isid_parts(iqn, path_index, &rnd, &q);
	if (rc < 0)
		return rc;
	snprintf(out, 13, "80%06x%04x", (unsigned)rnd, (unsigned)q);
	return 0;
}

int pp_iscsi_check_args(const char *url, const char *initiator_iqn,
			unsigned path_index, struct pp_iscsi_url *u)
{
	char why[256];
	int rc;

	rc = pp_iscsi_url_parse(url, u, why, sizeof(why));
	if (rc < 0) {
		pp_transport_set_error("%s", why);
		return rc;
	}
	if (pp_iscsi_name_check(initiator_iqn) < 0) {
		pp_transport_set_error("bad initiator name '%s'",
				       initiator_iqn ? initiator_iqn : "(null)");
		return -EINVAL;
	}
	if (path_index > PP_ISCSI_PATH_INDEX_MAX) {
		pp_transport_set_error("path index %u out of range (0-%u)",
				       path_index, PP_ISCSI_PATH_INDEX_MAX);
		return -EINVAL;
	}
	return 0;
}
