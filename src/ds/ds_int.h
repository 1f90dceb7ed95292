/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device server internals shared by lu.c (dispatch, nexus, unit attentions,
 * conflict checks, task set), pr.c (PR IN / PR OUT), persist.c (APTPL state
 * file), block.c (block commands on the backing store) and info.c
 * (INQUIRY, VPD, READ CAPACITY, REPORT LUNS, MODE SENSE, REQUEST SENSE).
 *
 * Locking: lu->lock protects everything in struct prpath_lu and struct itn
 * except the backing store, which block.c accesses with lu->data_lock held
 * for reading (exclusive for COMPARE AND WRITE) and lu->lock NOT held.
 */
#ifndef PRPATH_DS_INT_H
#define PRPATH_DS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <prpath/lu.h>
#include <prpath/scsi.h>

#define DS_UA_MAX 8

/* One I_T nexus identity: (initiator port name, relative target port). It
 * lives while it is registered, has an open handle or pending UAs. */
struct itn {
	struct itn *hnext;           /* hash chain */
	struct itn *rprev, *rnext;   /* registration list, in registration order */
	char name[PRPATH_PORT_NAME_MAX];
	uint16_t rtp;
	bool registered;
	bool all_tg_pt;              /* registered with ALL_TG_PT=1 */
	uint64_t key;
	unsigned nopen;              /* open nexus handles */
	uint32_t abort_gen;          /* bumped when its task set is aborted */
	unsigned inflight;           /* admitted commands still doing I/O */
	unsigned ntasks;             /* queued or running commands */
	uint16_t ua[DS_UA_MAX];      /* pending unit attentions, ASC<<8|ASCQ */
	unsigned nua;
	bool spc2_reserved;          /* holds the SPC-2 reservation */
};

struct prpath_nexus {
	struct prpath_lu *lu;
	struct itn *itn;
};

struct prpath_lu {
	pthread_mutex_t lock;
	pthread_cond_t drained;      /* signalled when an itn's inflight drops */

	/* identity / geometry */
	uint64_t blocks;
	uint32_t block_size;
	uint64_t lu_id;
	uint8_t naa[16];             /* NAA-6 designator value */
	char naa_hex[33];
	char serial[33];
	char vendor[9];
	char product[17];
	uint16_t ports[64];
	size_t nports;

	/* backing store */
	int fd;                      /* -1 when memory-backed */
	int state_lock_fd;           /* flock of <state>.lock, -1 if none */
	bool id_stored;              /* lu_id is kept in the file's xattr */
	uint8_t *mem;
	pthread_rwlock_t data_lock;

	/* persistent reservations */
	struct itn **htab;
	size_t hsize;
	size_t nitn;
	struct itn *reg_head, *reg_tail;
	uint32_t nreg;
	uint32_t max_reg;
	uint32_t generation;
	uint8_t res_type;            /* PRPATH_PR_TYPE_NONE when not reserved */
	uint8_t res_scope;
	struct itn *holder;          /* non-AR types only; NULL for AR */
	bool aptpl;                  /* APTPL of the last successful register */
	bool rlr;

	/* SPC-2 reservation (at most one itn has spc2_reserved) */
	struct itn *spc2_holder;

	/* persistence */
	char *state_path;            /* NULL: APTPL not supported */
	int (*persist_hook)(void *arg, const char *stage);
	void *persist_hook_arg;

	bool power_on_ua;
};

/* ---- lu.c -------------------------------------------------------------- */
/* Completes @cmd with CHECK CONDITION, fixed sense KEY/ASC/ASCQ. Returns 0. */
int ds_check(struct prpath_cmd *cmd, uint8_t key, uint16_t ascq);
int ds_good(struct prpath_cmd *cmd);
int ds_conflict(struct prpath_cmd *cmd);
/* ILLEGAL REQUEST with 24/00, 26/00 and 1A/00. */
int ds_invalid_cdb(struct prpath_cmd *cmd);
int ds_invalid_param(struct prpath_cmd *cmd);
int ds_param_length_error(struct prpath_cmd *cmd);
/* CDB length of @op's group code; 0 for the groups the LU does not take. */
size_t ds_cdb_len(uint8_t op);
/* Copies @len bytes to data_in, cut at data_in_cap; sets data_in_len. */
void ds_data_in(struct prpath_cmd *cmd, const void *buf, size_t len);
/* Queues a UA on @t (dedup, bounded). Caller holds lu->lock. */
void ds_ua_queue(struct itn *t, uint16_t ascq);
/* Finds or creates an itn. Caller holds lu->lock. NULL on ENOMEM. */
struct itn *ds_itn_get(struct prpath_lu *lu, const char *name, uint16_t rtp);
struct itn *ds_itn_find(struct prpath_lu *lu, const char *name, uint16_t rtp);
/* Frees @t if nothing refers to it any more. Caller holds lu->lock. */
void ds_itn_put(struct prpath_lu *lu, struct itn *t);
bool ds_lu_has_port(const struct prpath_lu *lu, uint16_t rtp);

/* ---- pr.c -------------------------------------------------------------- */
/* Registration list primitives (caller holds lu->lock). */
void ds_reg_add(struct prpath_lu *lu, struct itn *t, uint64_t key, bool all_tg_pt);
void ds_reg_del(struct prpath_lu *lu, struct itn *t);
/* PR IN / PR OUT. Called with lu->lock held; may drop and retake it while
 * waiting for aborted tasks (PREEMPT AND ABORT). */
int ds_pr_in(struct prpath_nexus *nx, struct prpath_cmd *cmd);
int ds_pr_out(struct prpath_nexus *nx, struct prpath_cmd *cmd);
bool ds_is_holder(const struct prpath_lu *lu, const struct itn *t);

/* ---- persist.c ---------------------------------------------------------
 * State file format: see persist.c. */
/* Serialises the PR state (registrations, reservation, generation, APTPL)
 * into a malloc'ed buffer. Caller holds lu->lock. */
int ds_state_serialize(struct prpath_lu *lu, uint8_t **buf, size_t *len);
/* Replaces the in-memory PR state with the one in @buf (validated first:
 * on error nothing changes). Caller holds lu->lock. */
int ds_state_restore(struct prpath_lu *lu, const uint8_t *buf, size_t len);
/* Writes @buf atomically to lu->state_path (temp file, fsync, rename,
 * fsync dir), or removes the file when @buf is NULL. Negative errno. */
int ds_state_write(struct prpath_lu *lu, const uint8_t *buf, size_t len);
/* Loads lu->state_path at start-up if it exists. 0 when absent. */
int ds_state_load(struct prpath_lu *lu);

/* ---- block.c ------------------------------------------------------------ */
int ds_block_open(struct prpath_lu *lu, const struct prpath_lu_config *cfg);
void ds_block_close(struct prpath_lu *lu);
/* READ/WRITE(6/10/12/16), VERIFY, WRITE AND VERIFY, PRE-FETCH, WRITE SAME,
 * UNMAP, COMPARE AND WRITE, SYNCHRONIZE CACHE, FORMAT UNIT, GET LBA STATUS.
 * Called WITHOUT lu->lock. */
int ds_block_exec(struct prpath_nexus *nx, struct prpath_cmd *cmd);
/* Transfer length of a block command (see prpath_lu_cdb_xfer). */
int ds_block_xfer(const struct prpath_lu *lu, const uint8_t *cdb, size_t len,
		  uint64_t *bytes, bool *is_write);

/* ---- info.c -------------------------------------------------------------
 * INQUIRY (standard, VPD 00/80/83/B0/B1/B2), READ CAPACITY(10/16), REPORT
 * LUNS, MODE SENSE(6/10), MODE SELECT(6/10), REPORT TARGET PORT GROUPS,
 * REPORT SUPPORTED OPERATION CODES, TEST UNIT READY, START STOP UNIT,
 * LOG SENSE. Called without lu->lock (they read only immutable fields). */
int ds_info_exec(struct prpath_nexus *nx, struct prpath_cmd *cmd);
/* Transfer length of an info.c command (allocation length, or the MODE
 * SELECT parameter list length). -EINVAL for a CDB it does not know. */
int ds_info_xfer(const struct prpath_lu *lu, const uint8_t *cdb, size_t len,
		 uint64_t *bytes, bool *is_write);

/* Block limits shared by block.c (enforced) and info.c (VPD B0h). */
#define DS_MAX_XFER_BYTES (32u << 20)       /* MAXIMUM TRANSFER LENGTH, bytes */
#define DS_OPT_XFER_BYTES (1u << 20)        /* OPTIMAL TRANSFER LENGTH, bytes */
#define DS_MAX_CAW_BLOCKS 128u              /* MAXIMUM COMPARE AND WRITE LENGTH */
#define DS_MAX_UNMAP_BLOCKS 0x100000u       /* MAXIMUM UNMAP LBA COUNT */
#define DS_MAX_UNMAP_DESC 256u              /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
#define DS_MAX_WS_BLOCKS 0x400000u          /* MAXIMUM WRITE SAME LENGTH */

#endif /* PRPATH_DS_INT_H */
