/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpathd's control protocol (prpathd(8), CONTROL SOCKET): one JSON object
 * per line each way on a unix stream socket.
 *
 *   {"cmd": "list"}                   the groups
 *   {"cmd": "status", "group": NAME}  per LU and path: state, registered
 *                                     (as this host knows it), target port
 *   {"cmd": "acquire"|"takeover"|"release", "group": NAME}
 *   {"cmd": "watch", "group": NAME}   answered, then the group's events
 *                                     on the same connection (events.h)
 *
 * Every answer has "ok": true, or "ok": false with "error" (a sentence)
 * and "exit_status" (prpath(8)'s: 1 bad request, 2 not available here).
 * Answers come from the daemon's own state: asking never sends a command
 * to the LU.
 */
#ifndef PRPATHD_CTL_H
#define PRPATHD_CTL_H

#include <stddef.h>

#include "conf.h"

#define PD_CTL_LINE_MAX 4096

struct prpath_dev;

struct pd_lu_run {
	const struct pd_group *g;
	const struct pd_lu *lu;
	struct prpath_dev *dev;   /* NULL: no path could be opened */
	/* path k of the configuration is device path dev_index[k], or -1
	 * when it could not be opened */
	int dev_index[PD_MAX_PATHS];
	/* set by the device's event callback (any thread) when this host
	 * finds itself fenced or its reservation lost; the main loop reacts */
	volatile int lost;
};

enum pd_group_state { PD_STANDBY = 0, PD_ACTIVE, PD_FENCED };

enum pd_op { PD_OP_ACQUIRE, PD_OP_TAKEOVER, PD_OP_RELEASE };

struct pd_state {
	const struct pd_conf *conf;
	struct pd_lu_run **runs;  /* every LU of every group, in order (a
				     run keeps its address across reloads:
				     its device's callbacks point at it) */
	size_t nruns;
	enum pd_group_state *gstate; /* per group of conf, NULL: all standby */
	/* Carries out a group operation (prpathd.c); NULL: not available.
	 * Returns 0, or prpath(8)'s exit status with the reason in @why. */
	int (*group_op)(struct pd_state *st, size_t group, enum pd_op op,
			char *why, size_t cap);
	/* Set by a watch request that was answered "ok": the group the
	 * connection watches from now on (the caller keeps the connection
	 * open); -1 otherwise. */
	int watch;
};

/* Answers one request line (@len bytes, without the newline). Returns a
 * malloc'd NUL-terminated JSON line (without the newline), or NULL when
 * out of memory. */
char *pd_ctl_answer(struct pd_state *st, const char *line, size_t len);
const char *pd_group_state_name(enum pd_group_state s);

#endif /* PRPATHD_CTL_H */
