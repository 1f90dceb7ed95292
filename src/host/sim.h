/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In-process transport: each path is one I_T nexus on a prpath device
 * server LU, with fault injection. All functions are thread safe; faults
 * may be changed while commands run on other threads.
 */
#ifndef PRPATH_HOST_SIM_H
#define PRPATH_HOST_SIM_H

#include <stdint.h>

#include <prpath/lu.h>
#include "host/transport.h"

struct pp_sim_path;

/* Opens a path: a nexus (port_name, rel_tgt_port) on @lu. */
int pp_sim_open(struct prpath_lu *lu, const char *port_name,
		uint16_t rel_tgt_port, struct pp_sim_path **out);
/* The connection to hand to the multipath device (owned by the path;
 * pp_conn->ops->close frees the path). */
struct pp_conn *pp_sim_conn(struct pp_sim_path *p);
struct pp_sim_path *pp_sim_from_conn(struct pp_conn *c);

/* Latency added to every command on this path, in microseconds: the
 * command is queued in the device server's task set first, then the delay
 * elapses, then it executes (so a PREEMPT AND ABORT that happens during the
 * delay aborts it, as on a real target). */
void pp_sim_set_latency(struct pp_sim_path *p, unsigned usec);
/* Path down: commands fail with -ENOTCONN at once (commands already
 * delayed fail too, without reaching the LU) and reconnect fails, until
 * pp_sim_set_down(p, false). Going down closes the nexus (I_T nexus loss);
 * coming back reopens it on reconnect. */
void pp_sim_set_down(struct pp_sim_path *p, bool down);
/* Host pause: commands are queued in the LU's task set and then held
 * before execution until resumed (a stalled host with I/O in flight). */
void pp_sim_pause(struct pp_sim_path *p);
void pp_sim_resume(struct pp_sim_path *p);
/* The next @n commands complete with @status and fixed sense key/asc/ascq
 * without reaching the LU (status 0 with key 0: complete with transport
 * error @err instead, e.g. -EIO). */
void pp_sim_fail_next(struct pp_sim_path *p, unsigned n, uint8_t status,
		      uint8_t key, uint8_t asc, uint8_t ascq, int err);
/* Commands executed on this path (reached the LU), for tests. */
unsigned long pp_sim_commands(struct pp_sim_path *p);
/* Blocks until @n commands are held by pp_sim_pause (bounded by
 * @timeout_ms). 0, or -ETIMEDOUT. */
int pp_sim_wait_held(struct pp_sim_path *p, unsigned n, unsigned timeout_ms);

#endif /* PRPATH_HOST_SIM_H */
