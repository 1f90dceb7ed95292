/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath device server: one SPC-4 logical unit with persistent reservations,
 * backed by a file (or by memory).
 *
 * The LU is driven through I_T nexus handles. A nexus is identified by the
 * initiator port name (for iSCSI "<iqn>,i,0x<ISID>") and the relative target
 * port identifier. Registrations and the persistent reservation belong to
 * that identity, not to the handle: closing a nexus (logout, connection
 * loss) keeps them, and opening the same identity again finds them.
 *
 * Thread safety: every function may be called concurrently from any thread
 * for any nexus, except prpath_lu_free(), which needs all nexuses closed.
 */
#ifndef PRPATH_LU_H
#define PRPATH_LU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct prpath_lu;
struct prpath_nexus;

#define PRPATH_SENSE_MAX 252

struct prpath_lu_config {
	/* Backing file; created if missing. NULL: memory-backed. */
	const char *path;
	/* Size in bytes; 0 = the existing file's size (required with
	 * path == NULL). Rounded down to whole blocks. */
	uint64_t size;
	uint32_t block_size;        /* 0 = 512 */
	/* APTPL state file; NULL: persistence not supported (REPORT
	 * CAPABILITIES says PTPL_C=0 and APTPL=1 is refused). */
	const char *state_path;
	/* 64-bit identifier used for the NAA-6 designator and the unit
	 * serial number (its 16 hex digits). 0 = the one stored with the
	 * backing file (extended attribute user.prpath.serial), or, the
	 * first time, one derived from the file's real path and then stored
	 * there, so renaming or moving the file keeps the LU's identity (on a
	 * file system without user xattrs it follows the path); random for a
	 * memory-backed LU. */
	uint64_t lu_id;
	/* APTPL state directory: the state file is DIR/lu-<serial>.pr, bound
	 * to the LU's identity, not to a LUN number or a path. Ignored when
	 * state_path is given. A lock file beside it (flock) refuses a second
	 * device server with the same identity. */
	const char *state_dir;
	const char *vendor;         /* 8 chars max, default "PRPATH" */
	const char *product;        /* 16 chars max, default "prpath-lu" */
	/* Target ports this LU is reachable through (relative target port
	 * identifiers, 1-based), used by ALL_TG_PT; 0 entries = {1}. */
	const uint16_t *target_ports;
	size_t ntarget_ports;
	/* Maximum number of registrations (I_T nexuses); 0 = 65536. */
	uint32_t max_registrations;
	/* Queue 29/00 POWER ON OCCURRED to each nexus identity once. */
	bool power_on_ua;
	/* Reserved. REPLACE LOST RESERVATION is answered 05/24/00 and
	 * RLR_C=0: this device server never loses a reservation. */
	bool rlr;
	/* Test hook: called before the state file is written; a negative
	 * return makes the write fail with that errno. */
	int (*persist_hook)(void *arg, const char *stage);
	void *persist_hook_arg;
};

/* Creates a LU. Returns 0 or a negative errno; *err_msg (optional) gets a
 * static or internal description of the failure. */
int prpath_lu_new(const struct prpath_lu_config *cfg, struct prpath_lu **out);
void prpath_lu_free(struct prpath_lu *lu);
/* The human description of the last prpath_lu_new() failure in this
 * thread, or "". */
const char *prpath_lu_last_error(void);

uint64_t prpath_lu_blocks(const struct prpath_lu *lu);
uint32_t prpath_lu_block_size(const struct prpath_lu *lu);
/* NAA identifier as 32 lower-case hex digits (NAA-6, 16 bytes). */
const char *prpath_lu_naa_hex(const struct prpath_lu *lu);
/* The unit serial number (VPD 0x80): the 16 hex digits of the LU id. */
const char *prpath_lu_serial(const struct prpath_lu *lu);
/* Whether the identity is kept with the backing file (see lu_id): false
 * for a memory LU, a given lu_id, or a file system without user xattrs
 * (then renaming the file changes the LU's identity). */
bool prpath_lu_id_stored(const struct prpath_lu *lu);

/* Opens an I_T nexus. @port_name is the initiator port name (max
 * PRPATH_PORT_NAME_MAX-1 chars), @rel_tgt_port one of the LU's target
 * ports. Returns 0, -EINVAL or -ENOMEM. */
int prpath_lu_nexus_open(struct prpath_lu *lu, const char *port_name,
			 uint16_t rel_tgt_port, struct prpath_nexus **out);
/* I_T nexus loss: drops the SPC-2 reservation held through this handle,
 * aborts nothing (the caller owns its commands); registrations stay. */
void prpath_lu_nexus_close(struct prpath_nexus *nx);
const char *prpath_nexus_port_name(const struct prpath_nexus *nx);
uint16_t prpath_nexus_rel_tgt_port(const struct prpath_nexus *nx);

/* One SCSI command. The caller fills cdb, data_out, data_in/_cap; the LU
 * fills status, sense, data_in_len and residual information. */
struct prpath_cmd {
	const uint8_t *cdb;
	size_t cdb_len;
	const uint8_t *data_out;    /* data from the initiator */
	size_t data_out_len;
	uint8_t *data_in;           /* buffer for data to the initiator */
	size_t data_in_cap;         /* expected transfer length */
	/* results */
	size_t data_in_len;         /* bytes placed in data_in */
	uint8_t status;
	uint8_t sense[PRPATH_SENSE_MAX];
	size_t sense_len;
	/* private: task-set bookkeeping set by prpath_cmd_queue() */
	uint32_t abort_gen_;
	bool queued_;
};

/* Returns the transfer length in bytes that @cdb asks for, and whether data
 * flows out (to the LU). The iSCSI target uses this to size buffers. -EINVAL
 * for a CDB the LU cannot size (the command then fails in execute). */
int prpath_lu_cdb_xfer(const struct prpath_lu *lu, const uint8_t *cdb,
		       size_t cdb_len, uint64_t *bytes, bool *is_write);

/* Marks @cmd as entered into the task set of @nx now. A command queued
 * before a PREEMPT AND ABORT that removes @nx's registration, or before a
 * task management abort of @nx, completes as aborted when executed. Calling
 * this is optional: prpath_lu_execute() of an unqueued command queues it. */
void prpath_cmd_queue(struct prpath_nexus *nx, struct prpath_cmd *cmd);

/* Takes a queued command that will not be executed out of the task set
 * (its connection is gone, the initiator gave up on it). No-op for a
 * command that is not queued. Every queued command must end in
 * prpath_lu_execute() or here: the task set counts them (a nexus with
 * tasks receives 2F/00 when another initiator's PREEMPT AND ABORT aborts
 * them). */
void prpath_cmd_dequeue(struct prpath_nexus *nx, struct prpath_cmd *cmd);

/* Executes @cmd. Returns 0 when the command completed with a SCSI status
 * (cmd->status, maybe CHECK CONDITION with sense), or PRPATH_LU_ABORTED
 * when the task was aborted by another initiator's PREEMPT AND ABORT or by
 * task management (the command must not be answered with a status; with
 * TAS=0 iSCSI sends nothing). */
#define PRPATH_LU_ABORTED 1
int prpath_lu_execute(struct prpath_nexus *nx, struct prpath_cmd *cmd);

/* Task management on the LU (iSCSI target, tests). */
/* ABORT TASK SET / CLEAR TASK SET for one nexus: queued tasks abort. */
void prpath_lu_abort_task_set(struct prpath_nexus *nx);
/* LU RESET / target reset: aborts every task, drops SPC-2 reservations,
 * queues 29/03 (LU reset) or 29/00 (cold) to every nexus identity. PR state
 * is kept. */
void prpath_lu_reset(struct prpath_lu *lu, bool cold);

/* Test / introspection helpers (not for I/O paths). */
uint32_t prpath_lu_pr_generation(struct prpath_lu *lu);
size_t prpath_lu_registrations(struct prpath_lu *lu);

#ifdef __cplusplus
}
#endif
#endif /* PRPATH_LU_H */
