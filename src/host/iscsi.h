/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI transport (libiscsi): one session per path.
 *
 * Identity: a host is its initiator name; its path i is the initiator port
 * "<iqn>,i,0x<ISID>" with an ISID derived from (iqn, i) alone, so the same
 * host re-opening path i — after a re-login or a process restart — presents
 * the same initiator port and its registrations still apply.
 *
 * Built without libiscsi, pp_iscsi_open() fails with -ENOTSUP.
 */
#ifndef PRPATH_HOST_ISCSI_H
#define PRPATH_HOST_ISCSI_H

#include <stddef.h>
#include <stdint.h>

#include "host/transport.h"

#define PP_ISCSI_PATH_INDEX_MAX 0xffffu
#define PP_ISCSI_DEFAULT_TIMEOUT_MS 30000u
/* = PRPATH_PORT_NAME_MAX (not included here: see url.h) */
#define PP_ISCSI_PORT_NAME_MAX 244

/* Opens path @path_index of @url ("iscsi://HOST[:PORT]/TARGET-IQN/LUN"):
 * TCP connect, login with the stable ISID, and an INQUIRY that checks the
 * LUN exists (INQUIRY never consumes a unit attention). @timeout_ms bounds
 * the login and is the default command timeout (0 = 30 s).
 * Returns 0, -EINVAL (bad URL or initiator name), -ECONNREFUSED (no TCP
 * connection), -EACCES (login refused), -ETIMEDOUT, -ENODEV (no such LUN),
 * -ENOTSUP (built without libiscsi), -ENOMEM; pp_transport_last_error()
 * tells why. */
int pp_iscsi_open(const char *url, const char *initiator_iqn,
		  unsigned path_index, unsigned timeout_ms,
		  struct pp_conn **out);

/* The initiator port name "<iqn>,i,0x<isid>" of an iSCSI connection, or
 * NULL when @c is not one. */
const char *pp_iscsi_port_name(struct pp_conn *c);

/* The 12 lower-case hex digits of the ISID for (@iqn, @path_index): type
 * 10b (random), a 24-bit hash of the lower-cased name, and the path index
 * as the qualifier. Returns 0, or -EINVAL for an empty name or an index
 * above PP_ISCSI_PATH_INDEX_MAX. */
int pp_iscsi_isid_for(const char *iqn, unsigned path_index, char out[13]);
/* The same as the two numbers libiscsi's iscsi_set_isid_random() takes. */
int pp_iscsi_isid_parts(const char *iqn, unsigned path_index, uint32_t *rnd,
			uint32_t *qualifier);
struct pp_iscsi_url;
/* The argument checks of pp_iscsi_open(), shared with the stub: parses
 * @url into @u, checks the name and index. 0 or -EINVAL with the thread's
 * transport error set. */
int pp_iscsi_check_args(const char *url, const char *initiator_iqn,
			unsigned path_index, struct pp_iscsi_url *u);
/* Checks an initiator name: 1..223 printable characters, no ',' or
 * space. 0 or -EINVAL. */
int pp_iscsi_name_check(const char *name);

#endif /* PRPATH_HOST_ISCSI_H */
