/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath iSCSI target: serves prpath device servers (one per LUN) over
 * iSCSI (RFC 7143) on one or more portals. Each portal is its own target
 * port: the Nth portal has relative target port identifier N and target
 * portal group tag N.
 */
#ifndef PRPATH_TARGET_H
#define PRPATH_TARGET_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct prpath_target;

enum prpath_target_log_level {
	PRPATH_TARGET_LOG_ERR = 0,
	PRPATH_TARGET_LOG_WARN,
	PRPATH_TARGET_LOG_INFO,
	PRPATH_TARGET_LOG_DEBUG,
};

struct prpath_target_lun {
	const char *path;      /* backing file, created if missing */
	uint64_t size;         /* bytes; 0 = the existing file's size */
	uint64_t lu_id;        /* 0 = kept with the backing file, see
				  prpath_lu_config.lu_id */
};

struct prpath_target_config {
	/* "ADDR:PORT" or "[V6ADDR]:PORT"; 0 entries = "127.0.0.1:3260" */
	const char *const *portals;
	size_t nportals;
	const char *iqn;       /* NULL = "iqn.2026-11.io.prpath:target" */
	const struct prpath_target_lun *luns;
	size_t nluns;          /* at least 1 */
	/* directory for the APTPL state files lu-<serial>.pr, one per LU
	 * identity (see prpath_lu_config.state_dir); state files there that
	 * belong to no LU served now are reported, never loaded or removed;
	 * NULL: no APTPL */
	const char *state_dir;
	/* initiator names allowed to log in to the normal session;
	 * 0 entries = everyone */
	const char *const *allow;
	size_t nallow;
	/* log sink; NULL = silent */
	void (*log)(void *arg, enum prpath_target_log_level level,
		    const char *msg);
	void *log_arg;
	enum prpath_target_log_level log_level;
	/* CHAP (RFC 7143 12.1.3, MD5): when chap_user is set, every login,
	 * normal and discovery, must authenticate as chap_user with
	 * chap_secret (12 to 255 bytes); AuthMethod=None is refused. With
	 * chap_mutual_user set too, the initiator must also ask the target
	 * to authenticate (mutual CHAP) and the target answers as
	 * chap_mutual_user with chap_mutual_secret, which must differ from
	 * chap_secret. The secrets are copied; NULL user = no CHAP. */
	const char *chap_user;
	const void *chap_secret;
	size_t chap_secret_len;
	const char *chap_mutual_user;
	const void *chap_mutual_secret;
	size_t chap_mutual_secret_len;
	/* NOP-In pings (RFC 7143 11.19): a logged-in connection that has
	 * received nothing for nop_interval seconds gets a NOP-In asking
	 * for a NOP-Out reply; when no PDU at all arrives within a further
	 * nop_timeout seconds, or a PDU stops arriving in the middle for
	 * that long, the connection is dropped (its session closes as on
	 * connection loss). nop_interval 0 =
	 * PRPATH_TARGET_NOP_INTERVAL_DEFAULT, negative = no pings and no
	 * idle limit; nop_timeout 0 = nop_interval. */
	int nop_interval;
	int nop_timeout;
};

#define PRPATH_TARGET_NOP_INTERVAL_DEFAULT 15
#define PRPATH_TARGET_NOP_INTERVAL_MAX 3600

#define PRPATH_TARGET_CHAP_SECRET_MIN 12
#define PRPATH_TARGET_CHAP_SECRET_MAX 255
#define PRPATH_TARGET_CHAP_NAME_MAX 255

/* Opens the LUNs and binds the portals. Returns 0 or a negative errno;
 * @err (optional, @errlen bytes) gets a one-line description. */
int prpath_target_new(const struct prpath_target_config *cfg,
		      struct prpath_target **out, char *err, size_t errlen);
/* Serves until prpath_target_stop(). Returns 0 or a negative errno. */
int prpath_target_run(struct prpath_target *t);
/* Async-signal-safe: makes prpath_target_run() return. */
void prpath_target_stop(struct prpath_target *t);
/* Closes every connection and LU. Accepts NULL. */
void prpath_target_free(struct prpath_target *t);
/* The bound port of portal @idx (useful with port 0), or 0. */
uint16_t prpath_target_portal_port(const struct prpath_target *t, size_t idx);

#ifdef __cplusplus
}
#endif
#endif /* PRPATH_TARGET_H */
