/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stable iSCSI initiator port identity of a path (no libiscsi needed).
 *
 * ISID (RFC 7143 10.12.5), type 10b "random": byte 0 = 0x80, bytes 1-5 =
 * 40 bits of a hash of what the path IS: the lower-cased initiator name,
 * portal ("host:port" as written in the URL) and target name, and the
 * role (I/O or observer). Not its position on a command line: "P2 P1"
 * names the same two nexuses as "P1 P2". The LUN is left out: paths to
 * several LUNs of one target through one portal are one I_T nexus, one
 * session. The layout is libiscsi's iscsi_set_isid_random(rnd, qualifier).
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

static void fnv_str(uint64_t *h, const char *s)
{
	for (; *s; s++) {
		*h ^= (uint8_t)tolower((unsigned char)*s);
		*h *= 0x100000001b3ull;
	}
	*h ^= 0x0a; /* separator: "ab"+"c" differs from "a"+"bc" */
	*h *= 0x100000001b3ull;
}

int pp_iscsi_isid_parts(const char *iqn, const char *portal, const char *target,
			unsigned role, uint32_t *rnd, uint32_t *qualifier)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */

	if (pp_iscsi_name_check(iqn) < 0 || !portal || !*portal || !target ||
	    !*target || role > PP_ISCSI_ROLE_OBSERVER)
		return -EINVAL;
	fnv_str(&h, iqn);
	fnv_str(&h, portal);
	fnv_str(&h, target);
	h ^= role;
	h *= 0x100000001b3ull;
	/* splitmix64's finaliser spreads every input bit over the 40 used */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	*rnd = (uint32_t)(h & 0xffffffu);
	*qualifier = (uint32_t)((h >> 24) & 0xffffu);
	return 0;
}

int pp_iscsi_isid_for(const char *iqn, const char *portal, const char *target,
		      unsigned role, char out[13])
{
	uint32_t rnd, q;
	int rc;

	rc = pp_iscsi_isid_parts(iqn, portal, target, role, &rnd, &q);
	if (rc < 0)
		return rc;
	snprintf(out, 13, "80%06x%04x", (unsigned)rnd, (unsigned)q);
	return 0;
}

int pp_iscsi_check_args(const char *url, const char *initiator_iqn,
			unsigned role, struct pp_iscsi_url *u)
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
	if (role > PP_ISCSI_ROLE_OBSERVER) {
		pp_transport_set_error("bad path role %u", role);
		return -EINVAL;
	}
	return 0;
}
