/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Path URLs (prpath(8), PATHS):
 *
 *   iscsi://[USER[%SECRET]@]HOST[:PORT]/TARGET-IQN/LUN
 *                                        HOST: name, IPv4 or [IPv6];
 *                                        USER, SECRET: CHAP, as libiscsi
 *                                        takes them (SECRET without '/')
 *   sg:/dev/sgN                          Linux SCSI generic device
 *   /dev/sdX                             block device, SG_IO
 *
 * and the transports' error text: the open functions leave a one-line
 * reason for their last failure in a thread-local buffer.
 */
#ifndef PRPATH_HOST_URL_H
#define PRPATH_HOST_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/transport.h"

#define PP_ISCSI_DEFAULT_PORT 3260
#define PP_ISCSI_LUN_MAX 16383
#define PP_URL_HOST_MAX 255
/* = PRPATH_ISCSI_NAME_MAX (prpath/scsi.h is not needed here) */
#define PP_ISCSI_NAME_MAX 223
/* longest CHAP user name / secret */
#define PP_CHAP_FIELD_MAX 255

struct pp_iscsi_url {
	char host[PP_URL_HOST_MAX + 1];  /* without the IPv6 brackets */
	bool ipv6;
	uint16_t port;
	char target[PP_ISCSI_NAME_MAX + 1];
	unsigned lun;
	/* "host:port" or "[v6]:port", as libiscsi wants it */
	char portal[PP_URL_HOST_MAX + 16];
	/* CHAP credentials from the URL ("" = none given) */
	char chap_user[PP_CHAP_FIELD_MAX + 1];
	char chap_secret[PP_CHAP_FIELD_MAX + 1];
};

/* Replaces the SECRET of an iscsi://USER%SECRET@... URL, in place, with
 * "***" (or drops "%SECRET" when it is shorter than that), so the URL can
 * be printed. Returns true when it changed @url. */
bool pp_url_redact(char *url);

/* Parses an iscsi:// URL. 0, or -EINVAL with a one-line reason in @why
 * (may be NULL). */
int pp_iscsi_url_parse(const char *url, struct pp_iscsi_url *u, char *why,
		       size_t cap);

enum pp_url_kind {
	PP_URL_ISCSI = 1,
	PP_URL_SG = 2,
};

/* Validates a path URL without connecting. Returns its kind (> 0), or
 * -EINVAL with a one-line reason in @why (may be NULL). */
int pp_url_check(const char *url, char *why, size_t cap);

/* Whether two URLs name the same path (iSCSI: host, port, target and LUN,
 * names compared without case, the default port filled in; sg: the same
 * device path). A path given twice would be one nexus counted twice. */
bool pp_url_same_path(const char *a, const char *b);

/* Opens one path from a URL: iscsi:// with @initiator_iqn in @role
 * (PP_ISCSI_ROLE_IO or _OBSERVER; the initiator port is derived from the
 * URL, see host/iscsi.h), sg:/dev/... or /dev/... with SG_IO. 0 or a
 * negative errno; pp_transport_last_error() tells why. */
int pp_conn_open_url(const char *url, const char *initiator_iqn,
		     unsigned role, unsigned timeout_ms,
		     struct pp_conn **out);

/* The reason for the last failed open (pp_conn_open_url, pp_iscsi_open,
 * pp_sg_open) in this thread, or "". */
const char *pp_transport_last_error(void);
/* For the transports: sets / clears that reason. */
void pp_transport_set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void pp_transport_clear_error(void);

#endif /* PRPATH_HOST_URL_H */
