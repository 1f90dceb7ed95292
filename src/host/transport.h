/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-side transports: one small ops table. A transport connection carries
 * SCSI commands to ONE path (one I_T nexus) of a LU, synchronously: the
 * multipath device (src/host/mpath.c) gives every path its own worker thread
 * and so keeps commands on N paths in flight at once.
 *
 *   sim       in-process: prpath's device server, one nexus per path, with
 *             fault injection (latency, path down/up, host pause, scripted
 *             failures)
 *   iscsi     libiscsi, one session per path
 *   sg        Linux SG_IO on /dev/sg* or /dev/sd*
 *   script    a test double that expects exact CDBs on exact paths and
 *             returns scripted replies
 */
#ifndef PRPATH_HOST_TRANSPORT_H
#define PRPATH_HOST_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <prpath/lu.h>

struct pp_io {
	uint8_t cdb[16];
	size_t cdb_len;
	const void *dout;          /* data to the device */
	size_t dout_len;
	void *din;                 /* data from the device */
	size_t din_cap;
	unsigned timeout_ms;       /* 0 = transport default */
	/* results, valid when execute() returned 0 */
	size_t din_len;
	uint8_t status;
	uint8_t sense[PRPATH_SENSE_MAX];
	size_t sense_len;
};

struct pp_conn;

struct pp_transport_ops {
	const char *name;
	/* Runs one command. 0: completed with io->status (maybe CHECK
	 * CONDITION); negative errno: the path failed (-EIO, -ETIMEDOUT,
	 * -ENOTCONN, -ECONNRESET ...), the command may or may not have
	 * reached the device. */
	int (*execute)(struct pp_conn *c, struct pp_io *io);
	/* Re-establishes a failed path with the SAME initiator port identity.
	 * 0 or negative errno. May be NULL (always fails with -ENOTSUP). */
	int (*reconnect)(struct pp_conn *c);
	void (*close)(struct pp_conn *c);
	/* Short text for logs, e.g. "iscsi://127.0.0.1:3260/iqn.../0". */
	const char *(*describe)(const struct pp_conn *c);
	/* The initiator port name of the nexus that carries this host's
	 * registrations on this path ("<iqn>,i,0x<ISID>"), for matching READ
	 * FULL STATUS; NULL when unknown (sg). May be NULL. */
	const char *(*port_name)(const struct pp_conn *c);
};

/* Every connection starts with this header. */
struct pp_conn {
	const struct pp_transport_ops *ops;
};

static inline int pp_execute(struct pp_conn *c, struct pp_io *io)
{
	return c->ops->execute(c, io);
}

#endif /* PRPATH_HOST_TRANSPORT_H */
