/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI transport (libiscsi): one session per path.
 *
 * Identity: a host is its initiator name; a path is the initiator port
 * "<iqn>,i,0x<ISID>" with an ISID derived from (iqn, portal, target, role)
 * alone, so the same host re-opening the same path — after a re-login, a
 * process restart, or with its PATHs in another order — presents the same
 * initiator port and its registrations still apply.
 *
 * Built without libiscsi, pp_iscsi_open() fails with -ENOTSUP.
 */
#ifndef PRPATH_HOST_ISCSI_H
#define PRPATH_HOST_ISCSI_H

#include <stddef.h>
#include <stdint.h>

#include "host/transport.h"

/* Roles of a path's session: the I/O role carries this host's
 * registrations; the observer role (status, pr in) has an initiator port
 * of its own, so looking never reinstates (kills) a session that carries
 * I/O. */
#define PP_ISCSI_ROLE_IO 0u
#define PP_ISCSI_ROLE_OBSERVER 1u
#define PP_ISCSI_DEFAULT_TIMEOUT_MS 30000u
/* = PRPATH_PORT_NAME_MAX (not included here: see url.h) */
#define PP_ISCSI_PORT_NAME_MAX 244

/* Opens @url ("iscsi://HOST[:PORT]/TARGET-IQN/LUN") in @role:
 * TCP connect, login with the stable ISID, and an INQUIRY that checks the
 * LUN exists (INQUIRY never consumes a unit attention). @timeout_ms bounds
 * the login and is the default command timeout (0 = 30 s).
 * Returns 0, -EINVAL (bad URL or initiator name), -ECONNREFUSED (no TCP
 * connection), -EACCES (login refused), -ETIMEDOUT, -ENODEV (no such LUN),
 * -ENOTSUP (built without libiscsi), -ENOMEM; pp_transport_last_error()
 * tells why. */
int pp_iscsi_open(const char *url, const char *initiator_iqn,
		  unsigned role, unsigned timeout_ms,
		  struct pp_conn **out);

/* The initiator port name "<iqn>,i,0x<isid>" an iSCSI connection logged
 * in with, or NULL when @c is not one. */
const char *pp_iscsi_port_name(struct pp_conn *c);

/* The 12 lower-case hex digits of the ISID for (@iqn, @portal, @target,
 * @role): type 10b (random) and 40 bits of a hash of the lower-cased
 * strings and the role. Returns 0, or -EINVAL for an empty string or a bad
 * role. */
int pp_iscsi_isid_for(const char *iqn, const char *portal, const char *target,
		      unsigned role, char out[13]);
/* The same as the two numbers libiscsi's iscsi_set_isid_random() takes. */
int pp_iscsi_isid_parts(const char *iqn, const char *portal, const char *target,
			unsigned role, uint32_t *rnd, uint32_t *qualifier);
struct pp_iscsi_url;
/* The argument checks of pp_iscsi_open(), shared with the stub: parses
 * @url into @u, checks the name and role. 0 or -EINVAL with the thread's
 * transport error set. */
int pp_iscsi_check_args(const char *url, const char *initiator_iqn,
			unsigned role, struct pp_iscsi_url *u);
/* Checks an initiator name: 1..223 printable characters, no ',' or
 * space. 0 or -EINVAL. */
int pp_iscsi_name_check(const char *name);

#endif /* PRPATH_HOST_ISCSI_H */
