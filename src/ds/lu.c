/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device server: the logical unit, its I_T nexuses, the task set, unit
 * attentions, SPC-2 reservations and the per-command reservation check.
 *
 * The per-command check is O(1) in the number of registrants: a nexus
 * handle points at its identity (struct itn), which carries its own
 * registration, and the reservation holder is a pointer (or "every
 * registrant" for the all-registrants types).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/compiler.h"
#include "ds/ds_int.h"

static _Thread_local char last_error[256];

const char *prpath_lu_last_error(void)
{
	return last_error;
}

/* Records "<what><arg><tail>" as the reason prpath_lu_new() failed. */
static int fail3(int err, const char *what, const char *arg, const char *tail)
{
	int n = snprintf(last_error, sizeof(last_error), "%s", what);

	/* a long path is cut, the tail (the reason) is kept */
	if (n >= 0 && (size_t)n < sizeof(last_error))
		snprintf(last_error + n, sizeof(last_error) - (size_t)n, "%.*s%s",
			 (int)(sizeof(last_error) / 2), arg ? arg : "", tail ? tail : "");
	return err;
}

/* Why ds_block_open() failed, as the tail of the message. */
static const char *backing_store_why(int rc)
{
	static _Thread_local char buf[128];

	switch (rc) {
	case -EBUSY:
		return ": in use by another device server (it is locked)";
	case -ENODEV:
		return ": not a regular file or a block device";
	case -ERANGE:
		return ": smaller than one block";
	case -EFBIG:
	case -ENOSPC:
		return ": the size is beyond what the file system or device holds";
	case -EISDIR:
		return ": is a directory";
	default:
		snprintf(buf, sizeof(buf), ": %s", strerror(-rc));
		return buf;
	}
}

static int fail(int err, const char *what)
{
	return fail3(err, what, NULL, NULL);
}

/* ---- command completion helpers ------------------------------------------ */

int ds_check(struct prpath_cmd *cmd, uint8_t key, uint16_t ascq)
{
	cmd->status = PRPATH_SCSI_STATUS_CHECK_CONDITION;
	memset(cmd->sense, 0, 18);
	cmd->sense[0] = 0x70;
	cmd->sense[2] = key & 0x0f;
	cmd->sense[7] = 10;
	cmd->sense[12] = (uint8_t)(ascq >> 8);
	cmd->sense[13] = (uint8_t)ascq;
	cmd->sense_len = 18;
	cmd->data_in_len = 0;
	return 0;
}

int ds_good(struct prpath_cmd *cmd)
{
	cmd->status = PRPATH_SCSI_STATUS_GOOD;
	cmd->sense_len = 0;
	return 0;
}

int ds_invalid_cdb(struct prpath_cmd *cmd)
{
	return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
}

int ds_invalid_param(struct prpath_cmd *cmd)
{
	return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
}

int ds_param_length_error(struct prpath_cmd *cmd)
{
	return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR);
}

int ds_conflict(struct prpath_cmd *cmd)
{
	cmd->status = PRPATH_SCSI_STATUS_RESERVATION_CONFLICT;
	cmd->sense_len = 0;
	cmd->data_in_len = 0;
	return 0;
}

void ds_data_in(struct prpath_cmd *cmd, const void *buf, size_t len)
{
	size_t n = len < cmd->data_in_cap ? len : cmd->data_in_cap;

	if (n && cmd->data_in)
		memcpy(cmd->data_in, buf, n);
	cmd->data_in_len = cmd->data_in ? n : 0;
}

/* ---- I_T nexus identities -------------------------------------------------- */

PP_WRAPS static size_t itn_hash(const struct prpath_lu *lu, const char *name, uint16_t rtp)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ rtp) * 1099511628211ULL;
	return (size_t)(h & (lu->hsize - 1));
}

struct itn *ds_itn_find(struct prpath_lu *lu, const char *name, uint16_t rtp)
{
	for (struct itn *t = lu->htab[itn_hash(lu, name, rtp)]; t; t = t->hnext)
		if (t->rtp == rtp && strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static int htab_grow(struct prpath_lu *lu)
{
	size_t nsize = lu->hsize * 2;
	struct itn **n = calloc(nsize, sizeof(*n));
	struct itn **old = lu->htab;
	size_t osize = lu->hsize;

	if (!n)
		return -ENOMEM;
	lu->htab = n;
	lu->hsize = nsize;
	for (size_t i = 0; i < osize; i++) {
		struct itn *t = old[i], *next;

		for (; t; t = next) {
			size_t h = itn_hash(lu, t->name, t->rtp);

			next = t->hnext;
			t->hnext = n[h];
			n[h] = t;
		}
	}
	free(old);
	return 0;
}

struct itn *ds_itn_get(struct prpath_lu *lu, const char *name, uint16_t rtp)
{
	struct itn *t = ds_itn_find(lu, name, rtp);
	size_t len = strlen(name), h;

	if (t)
		return t;
	if (len == 0 || len >= sizeof(t->name))
		return NULL;
	if (lu->nitn + 1 > lu->hsize && htab_grow(lu) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	memcpy(t->name, name, len + 1);
	t->rtp = rtp;
	if (lu->power_on_ua)
		ds_ua_queue(t, PRPATH_SCSI_ASCQ_POWER_ON_RESET);
	h = itn_hash(lu, name, rtp);
	t->hnext = lu->htab[h];
	lu->htab[h] = t;
	lu->nitn++;
	return t;
}

void ds_itn_put(struct prpath_lu *lu, struct itn *t)
{
	struct itn **pp;

	if (!t || t->registered || t->nopen || t->nua || t->inflight ||
	    t->ntasks || t->spc2_reserved || lu->holder == t)
		return;
	for (pp = &lu->htab[itn_hash(lu, t->name, t->rtp)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			lu->nitn--;
			free(t);
			return;
		}
	}
}

bool ds_lu_has_port(const struct prpath_lu *lu, uint16_t rtp)
{
	for (size_t i = 0; i < lu->nports; i++)
		if (lu->ports[i] == rtp)
			return true;
	return false;
}

void ds_ua_queue(struct itn *t, uint16_t ascq)
{
	for (unsigned i = 0; i < t->nua; i++)
		if (t->ua[i] == ascq)
			return;
	if (t->nua < DS_UA_MAX)
		t->ua[t->nua++] = ascq;
}

static uint16_t ua_pop(struct itn *t)
{
	uint16_t v = t->ua[0];

	t->nua--;
	memmove(&t->ua[0], &t->ua[1], t->nua * sizeof(t->ua[0]));
	return v;
}

/* ---- LU life cycle -------------------------------------------------------- */

static void copy_id_string(char *dst, size_t cap, const char *src, const char *def)
{
	const char *s = src && *src ? src : def;
	size_t n = strnlen(s, cap - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

static uint64_t derive_lu_id(const struct prpath_lu_config *cfg)
{
	uint64_t h = 1469598103934665603ULL;
	char real[PATH_MAX];
	const char *p;

	if (!cfg->path) {
		uint64_t r = 0;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint64_t)getpid() * 2654435761u;
		return r ? r : 1;
	}
	p = realpath(cfg->path, real) ? real : cfg->path;
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ? h : 1;
}

#define LU_ID_XATTR "user.prpath.serial"

/* The identity stored with the backing file; derived and stored the
 * first time. Sets *stored when it is (or now is) in the xattr. */
static uint64_t file_lu_id(struct prpath_lu *lu, const struct prpath_lu_config *cfg,
			   bool *stored)
{
	char v[32];
	ssize_t n;
	uint64_t id;

	*stored = false;
	n = fgetxattr(lu->fd, LU_ID_XATTR, v, sizeof(v) - 1);
	if (n > 0) {
		char *end;

		v[n] = '\0';
		errno = 0;
		id = strtoull(v, &end, 16);
		if (!errno && *end == '\0' && n == 16 && id) {
			*stored = true;
			return id;
		}
	}
	id = derive_lu_id(cfg);
	snprintf(v, sizeof(v), "%016llx", (unsigned long long)id);
	*stored = fsetxattr(lu->fd, LU_ID_XATTR, v, 16, 0) == 0;
	return id;
}

/* DIR/lu-<serial>.pr, locked (DIR/lu-<serial>.pr.lock) for this LU's
 * lifetime. */
static int bind_state(struct prpath_lu *lu, const char *dir)
{
	char path[PATH_MAX], lock[PATH_MAX + 8];
	int n;

	n = snprintf(path, sizeof(path), "%s/lu-%s.pr", dir, lu->serial);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail3(-ENAMETOOLONG, "state directory path too long: ", dir, NULL);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	lu->state_lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lu->state_lock_fd < 0)
		return fail3(-errno, "cannot create ", lock, NULL);
	if (flock(lu->state_lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(lu->state_lock_fd);
		lu->state_lock_fd = -1;
		return fail3(err, "reservation state ", path,
			     err == -EBUSY ? " is in use by another device server (two LUs with one serial?)" : NULL);
	}
	lu->state_path = strdup(path);
	return lu->state_path ? 0 : -ENOMEM;
}

int prpath_lu_new(const struct prpath_lu_config *cfg, struct prpath_lu **out)
{
	struct prpath_lu *lu;
	uint64_t id;
	int rc;

	last_error[0] = '\0';
	*out = NULL;
	if (!cfg)
		return fail(-EINVAL, "no configuration");
	if (cfg->block_size && (cfg->block_size < 512 || cfg->block_size > 65536 ||
				(cfg->block_size & (cfg->block_size - 1))))
		return fail(-EINVAL, "block size must be a power of two from 512 to 65536");
	if (!cfg->path && cfg->size == 0)
		return fail(-EINVAL, "a memory-backed LU needs a size");
	if (cfg->ntarget_ports > 64)
		return fail(-EINVAL, "at most 64 target ports");

	lu = calloc(1, sizeof(*lu));
	if (!lu)
		return -ENOMEM;
	lu->fd = -1;
	lu->state_lock_fd = -1;
	pthread_mutex_init(&lu->lock, NULL);
	pthread_cond_init(&lu->drained, NULL);
	pthread_rwlock_init(&lu->data_lock, NULL);
	lu->block_size = cfg->block_size ? cfg->block_size : 512;
	lu->max_reg = cfg->max_registrations ? cfg->max_registrations : 65536;
	lu->power_on_ua = cfg->power_on_ua;
	lu->rlr = false; /* REPLACE LOST RESERVATION: reservations are never lost here */
	lu->persist_hook = cfg->persist_hook;
	lu->persist_hook_arg = cfg->persist_hook_arg;
	copy_id_string(lu->vendor, sizeof(lu->vendor), cfg->vendor, "PRPATH");
	copy_id_string(lu->product, sizeof(lu->product), cfg->product, "prpath-lu");
	if (cfg->ntarget_ports) {
		for (size_t i = 0; i < cfg->ntarget_ports; i++) {
			if (cfg->target_ports[i] == 0) {
				rc = fail(-EINVAL, "relative target port 0 is reserved");
				goto err;
			}
			lu->ports[i] = cfg->target_ports[i];
		}
		lu->nports = cfg->ntarget_ports;
	} else {
		lu->ports[0] = 1;
		lu->nports = 1;
	}

	lu->hsize = 64;
	lu->htab = calloc(lu->hsize, sizeof(*lu->htab));
	if (!lu->htab) {
		rc = -ENOMEM;
		goto err;
	}
	rc = ds_block_open(lu, cfg);
	if (rc < 0) {
		if (!last_error[0])
			fail3(rc, "cannot open backing store ", cfg->path,
			      backing_store_why(rc));
		goto err;
	}
	if (cfg->lu_id) {
		id = cfg->lu_id;
	} else if (lu->fd >= 0) {
		id = file_lu_id(lu, cfg, &lu->id_stored);
	} else {
		id = derive_lu_id(cfg);
	}
	lu->lu_id = id;
	/* NAA 6 (IEEE registered extended): NAA nibble, a 24-bit company id
	 * (0x00000E: locally chosen, not an IEEE assignment), then 100 bits of
	 * vendor specific identifier taken from the 64-bit LU id. */
	memset(lu->naa, 0, sizeof(lu->naa));
	lu->naa[0] = 0x60;
	lu->naa[1] = 0x00;
	lu->naa[2] = 0x00;
	lu->naa[3] = 0xe0;
	prpath_put_be64(lu->naa + 8, id);
	lu->naa[4] = 0x70; /* "prpa" marker nibble pattern; fixed */
	lu->naa[5] = 0x72;
	lu->naa[6] = 0x70;
	lu->naa[7] = 0x61;
	for (int i = 0; i < 16; i++)
		snprintf(lu->naa_hex + 2 * i, 3, "%02x", lu->naa[i]);
	snprintf(lu->serial, sizeof(lu->serial), "%016llx", (unsigned long long)id);

	if (cfg->state_path) {
		lu->state_path = strdup(cfg->state_path);
		if (!lu->state_path) {
			rc = -ENOMEM;
			goto err;
		}
	} else if (cfg->state_dir) {
		rc = bind_state(lu, cfg->state_dir);
		if (rc)
			goto err;
	}
	if (lu->state_path) {
		pthread_mutex_lock(&lu->lock);
		rc = ds_state_load(lu);
		pthread_mutex_unlock(&lu->lock);
		if (rc < 0) {
			if (!last_error[0])
				fail3(rc, "cannot load reservation state ", lu->state_path, " (refusing to start: "
				      "dropping persistent reservations could corrupt data)");
			goto err;
		}
	}
	*out = lu;
	return 0;
err:
	prpath_lu_free(lu);
	return rc;
}

void prpath_lu_free(struct prpath_lu *lu)
{
	if (!lu)
		return;
	if (lu->htab) {
		for (size_t i = 0; i < lu->hsize; i++) {
			struct itn *t = lu->htab[i], *next;

			for (; t; t = next) {
				next = t->hnext;
				free(t);
			}
		}
		free(lu->htab);
	}
	if (lu->fd >= 0 || lu->mem)
		ds_block_close(lu);
	free(lu->state_path);
	if (lu->state_lock_fd >= 0)
		close(lu->state_lock_fd);
	pthread_rwlock_destroy(&lu->data_lock);
	pthread_cond_destroy(&lu->drained);
	pthread_mutex_destroy(&lu->lock);
	free(lu);
}

uint64_t prpath_lu_blocks(const struct prpath_lu *lu)
{
	return lu->blocks;
}

uint32_t prpath_lu_block_size(const struct prpath_lu *lu)
{
	return lu->block_size;
}

const char *prpath_lu_serial(const struct prpath_lu *lu)
{
	return lu->serial;
}

bool prpath_lu_id_stored(const struct prpath_lu *lu)
{
	return lu->id_stored;
}

const char *prpath_lu_naa_hex(const struct prpath_lu *lu)
{
	return lu->naa_hex;
}

uint32_t prpath_lu_pr_generation(struct prpath_lu *lu)
{
	uint32_t g;

	pthread_mutex_lock(&lu->lock);
	g = lu->generation;
	pthread_mutex_unlock(&lu->lock);
	return g;
}

size_t prpath_lu_registrations(struct prpath_lu *lu)
{
	size_t n;

	pthread_mutex_lock(&lu->lock);
	n = lu->nreg;
	pthread_mutex_unlock(&lu->lock);
	return n;
}

/* ---- nexus ------------------------------------------------------------------ */

int prpath_lu_nexus_open(struct prpath_lu *lu, const char *port_name,
			 uint16_t rel_tgt_port, struct prpath_nexus **out)
{
	struct prpath_nexus *nx;
	struct itn *t;
	size_t len;

	*out = NULL;
	if (!port_name)
		return -EINVAL;
	len = strlen(port_name);
	if (len == 0 || len >= PRPATH_PORT_NAME_MAX || !ds_lu_has_port(lu, rel_tgt_port))
		return -EINVAL;
	nx = calloc(1, sizeof(*nx));
	if (!nx)
		return -ENOMEM;
	pthread_mutex_lock(&lu->lock);
	t = ds_itn_get(lu, port_name, rel_tgt_port);
	if (t)
		t->nopen++;
	pthread_mutex_unlock(&lu->lock);
	if (!t) {
		free(nx);
		return -ENOMEM;
	}
	nx->lu = lu;
	nx->itn = t;
	*out = nx;
	return 0;
}

static void spc2_drop(struct prpath_lu *lu, struct itn *t)
{
	if (lu->spc2_holder == t) {
		lu->spc2_holder = NULL;
		t->spc2_reserved = false;
	}
}

void prpath_lu_nexus_close(struct prpath_nexus *nx)
{
	struct prpath_lu *lu;
	struct itn *t;

	if (!nx)
		return;
	lu = nx->lu;
	t = nx->itn;
	pthread_mutex_lock(&lu->lock);
	spc2_drop(lu, t);
	t->nopen--;
	ds_itn_put(lu, t);
	pthread_mutex_unlock(&lu->lock);
	free(nx);
}

const char *prpath_nexus_port_name(const struct prpath_nexus *nx)
{
	return nx->itn->name;
}

uint16_t prpath_nexus_rel_tgt_port(const struct prpath_nexus *nx)
{
	return nx->itn->rtp;
}

/* ---- command classes -------------------------------------------------------- */

enum cmd_class {
	CLS_UNSUPPORTED = 0,
	CLS_ALWAYS,     /* allowed under every reservation */
	CLS_READ,       /* conflicts under exclusive access */
	CLS_MODIFY,     /* conflicts under write exclusive and exclusive access */
	CLS_PR,         /* PR IN / PR OUT: own rules */
	CLS_SPC2,       /* RESERVE / RELEASE (6/10) */
	CLS_SENSE,      /* REQUEST SENSE */
};

enum cmd_exec { EX_NONE, EX_INFO, EX_BLOCK };

struct cmd_desc {
	uint8_t cls;
	uint8_t exec;
	bool no_ua;     /* INQUIRY, REPORT LUNS, REQUEST SENSE */
};

static const struct cmd_desc cmd_table[256] = {
	[PRPATH_SCSI_OP_TEST_UNIT_READY] = { CLS_ALWAYS, EX_INFO, false },
	[PRPATH_SCSI_OP_REQUEST_SENSE] = { CLS_SENSE, EX_NONE, true },
	[PRPATH_SCSI_OP_FORMAT_UNIT] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_READ6] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE6] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_INQUIRY] = { CLS_ALWAYS, EX_INFO, true },
	[PRPATH_SCSI_OP_MODE_SELECT6] = { CLS_MODIFY, EX_INFO, false },
	[PRPATH_SCSI_OP_RESERVE6] = { CLS_SPC2, EX_NONE, false },
	[PRPATH_SCSI_OP_RELEASE6] = { CLS_SPC2, EX_NONE, false },
	[PRPATH_SCSI_OP_MODE_SENSE6] = { CLS_READ, EX_INFO, false },
	[PRPATH_SCSI_OP_START_STOP_UNIT] = { CLS_MODIFY, EX_INFO, false },
	[PRPATH_SCSI_OP_READ_CAPACITY10] = { CLS_ALWAYS, EX_INFO, false },
	[PRPATH_SCSI_OP_READ10] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE10] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE_VERIFY10] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_VERIFY10] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_PRE_FETCH10] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_SYNCHRONIZE_CACHE10] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE_SAME10] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_UNMAP] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_LOG_SENSE] = { CLS_ALWAYS, EX_INFO, false },
	[PRPATH_SCSI_OP_MODE_SELECT10] = { CLS_MODIFY, EX_INFO, false },
	[PRPATH_SCSI_OP_RESERVE10] = { CLS_SPC2, EX_NONE, false },
	[PRPATH_SCSI_OP_RELEASE10] = { CLS_SPC2, EX_NONE, false },
	[PRPATH_SCSI_OP_MODE_SENSE10] = { CLS_READ, EX_INFO, false },
	[PRPATH_SCSI_OP_PR_IN] = { CLS_PR, EX_NONE, false },
	[PRPATH_SCSI_OP_PR_OUT] = { CLS_PR, EX_NONE, false },
	[PRPATH_SCSI_OP_READ16] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_COMPARE_AND_WRITE] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE16] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE_VERIFY16] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_VERIFY16] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_PRE_FETCH16] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_SYNCHRONIZE_CACHE16] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE_SAME16] = { CLS_MODIFY, EX_BLOCK, false },
	/* 0x9E: READ CAPACITY(16) is "always", GET LBA STATUS is "read":
	 * resolved in classify() */
	[PRPATH_SCSI_OP_SERVICE_ACTION_IN16] = { CLS_READ, EX_INFO, false },
	[PRPATH_SCSI_OP_REPORT_LUNS] = { CLS_ALWAYS, EX_INFO, true },
	[PRPATH_SCSI_OP_MAINTENANCE_IN] = { CLS_ALWAYS, EX_INFO, false },
	[PRPATH_SCSI_OP_READ12] = { CLS_READ, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE12] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_WRITE_VERIFY12] = { CLS_MODIFY, EX_BLOCK, false },
	[PRPATH_SCSI_OP_VERIFY12] = { CLS_READ, EX_BLOCK, false },
};

static struct cmd_desc classify(const uint8_t *cdb)
{
	struct cmd_desc d = cmd_table[cdb[0]];

	if (cdb[0] == PRPATH_SCSI_OP_SERVICE_ACTION_IN16) {
		if ((cdb[1] & 0x1f) == PRPATH_SCSI_SAI_READ_CAPACITY16)
			d.cls = CLS_ALWAYS, d.exec = EX_INFO;
		else
			d.cls = CLS_READ, d.exec = EX_BLOCK; /* GET LBA STATUS */
	}
	return d;
}

size_t ds_cdb_len(uint8_t op)
{
	switch (op >> 5) {
	case 0: return 6;
	case 1: case 2: return 10;
	case 4: return 16;
	case 5: return 12;
	default: return 0;
	}
}

bool ds_is_holder(const struct prpath_lu *lu, const struct itn *t)
{
	if (lu->res_type == PRPATH_PR_TYPE_NONE)
		return false;
	if (prpath_pr_type_all_registrants(lu->res_type))
		return t->registered;
	return lu->holder == t;
}

/* SPC4-PR.md "Conflicts" table. O(1). */
static bool pr_conflicts(const struct prpath_lu *lu, const struct itn *t, int cls)
{
	if (lu->res_type == PRPATH_PR_TYPE_NONE || cls == CLS_ALWAYS)
		return false;
	if (ds_is_holder(lu, t))
		return false;
	switch (lu->res_type) {
	case PRPATH_PR_TYPE_WE:
		return cls == CLS_MODIFY;
	case PRPATH_PR_TYPE_EA:
		return true;
	case PRPATH_PR_TYPE_WERO:
	case PRPATH_PR_TYPE_WEAR:
		return t->registered ? false : cls == CLS_MODIFY;
	case PRPATH_PR_TYPE_EARO:
	case PRPATH_PR_TYPE_EAAR:
		return !t->registered;
	default:
		return true;
	}
}

/* SPC-2 reservation held by another nexus: which commands still pass. */
static bool spc2_allowed(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case PRPATH_SCSI_OP_INQUIRY:
	case PRPATH_SCSI_OP_REPORT_LUNS:
	case PRPATH_SCSI_OP_REQUEST_SENSE:
	case PRPATH_SCSI_OP_LOG_SENSE:
	case PRPATH_SCSI_OP_RELEASE6:
	case PRPATH_SCSI_OP_RELEASE10:
	case PRPATH_SCSI_OP_MAINTENANCE_IN:
		return true;
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16:
		return (cdb[1] & 0x1f) == PRPATH_SCSI_SAI_READ_CAPACITY16;
	default:
		return false;
	}
}

/* RESERVE / RELEASE (6/10) with CRH=1 (SPC-3 5.6.3 + SPC4-PR.md). Called
 * with lu->lock held. */
static int spc2_exec(struct prpath_lu *lu, struct itn *t, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool reserve = cdb[0] == PRPATH_SCSI_OP_RESERVE6 || cdb[0] == PRPATH_SCSI_OP_RESERVE10;

	/* third-party and extent reservations are not supported */
	if (cdb[0] == PRPATH_SCSI_OP_RESERVE10 || cdb[0] == PRPATH_SCSI_OP_RELEASE10) {
		if (cdb[1] & 0x13)
			return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	} else if (cdb[1] & 0x01) {
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	}
	if (lu->nreg) {
		/* CRH=1: the PR holder, or any registrant under a
		 * registrants-only / all-registrants reservation, completes
		 * with GOOD and no effect. */
		if (ds_is_holder(lu, t) ||
		    (t->registered && (prpath_pr_type_registrants_only(lu->res_type) ||
				       prpath_pr_type_all_registrants(lu->res_type))))
			return ds_good(cmd);
		return ds_conflict(cmd);
	}
	if (reserve) {
		if (lu->spc2_holder && lu->spc2_holder != t)
			return ds_conflict(cmd);
		lu->spc2_holder = t;
		t->spc2_reserved = true;
		return ds_good(cmd);
	}
	/* RELEASE: only the holder releases; anyone else gets GOOD. */
	spc2_drop(lu, t);
	return ds_good(cmd);
}

/* REQUEST SENSE: the pending unit attention (cleared), else NO SENSE. */
static int request_sense(struct itn *t, struct prpath_cmd *cmd)
{
	uint8_t buf[18];
	uint8_t key = PRPATH_SCSI_SK_NO_SENSE;
	uint16_t ascq = PRPATH_SCSI_ASCQ_NONE;
	size_t alloc = cmd->cdb[4];

	if (cmd->cdb[1] & 0x01) /* DESC: only fixed format */
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
	if (t->nua) {
		key = PRPATH_SCSI_SK_UNIT_ATTENTION;
		ascq = ua_pop(t);
	}
	prpath_sense_build_fixed(buf, sizeof(buf), key, (uint8_t)(ascq >> 8), (uint8_t)ascq);
	ds_good(cmd);
	if (alloc > sizeof(buf))
		alloc = sizeof(buf);
	ds_data_in(cmd, buf, alloc);
	return 0;
}

/* ---- task set ---------------------------------------------------------------- */

static void task_enter(struct itn *t, struct prpath_cmd *cmd)
{
	cmd->abort_gen_ = t->abort_gen;
	cmd->queued_ = true;
	t->ntasks++;
}

void prpath_cmd_queue(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	struct prpath_lu *lu = nx->lu;

	pthread_mutex_lock(&lu->lock);
	if (!cmd->queued_)
		task_enter(nx->itn, cmd);
	pthread_mutex_unlock(&lu->lock);
}

static void task_leave(struct prpath_lu *lu, struct itn *t, struct prpath_cmd *cmd)
{
	cmd->queued_ = false;
	if (t->ntasks)
		t->ntasks--;
}

void prpath_cmd_dequeue(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	struct prpath_lu *lu = nx->lu;

	pthread_mutex_lock(&lu->lock);
	if (cmd->queued_)
		task_leave(lu, nx->itn, cmd);
	pthread_mutex_unlock(&lu->lock);
}

void prpath_lu_abort_task_set(struct prpath_nexus *nx)
{
	struct prpath_lu *lu = nx->lu;

	pthread_mutex_lock(&lu->lock);
	nx->itn->abort_gen++;
	while (nx->itn->inflight)
		pthread_cond_wait(&lu->drained, &lu->lock);
	pthread_mutex_unlock(&lu->lock);
}

void prpath_lu_reset(struct prpath_lu *lu, bool cold)
{
	pthread_mutex_lock(&lu->lock);
	for (size_t i = 0; i < lu->hsize; i++) {
		for (struct itn *t = lu->htab[i]; t; t = t->hnext) {
			t->abort_gen++;
			ds_ua_queue(t, cold ? PRPATH_SCSI_ASCQ_POWER_ON_RESET : PRPATH_SCSI_ASCQ_BUS_DEVICE_RESET);
		}
	}
	if (lu->spc2_holder)
		spc2_drop(lu, lu->spc2_holder);
	for (;;) {
		bool busy = false;

		for (size_t i = 0; i < lu->hsize && !busy; i++)
			for (struct itn *t = lu->htab[i]; t; t = t->hnext)
				if (t->inflight) {
					busy = true;
					break;
				}
		if (!busy)
			break;
		pthread_cond_wait(&lu->drained, &lu->lock);
	}
	pthread_mutex_unlock(&lu->lock);
}

/* ---- transfer sizes -------------------------------------------------------------- */

int prpath_lu_cdb_xfer(const struct prpath_lu *lu, const uint8_t *cdb,
		       size_t cdb_len, uint64_t *bytes, bool *is_write)
{
	size_t need;

	if (!cdb || cdb_len == 0)
		return -EINVAL;
	need = ds_cdb_len(cdb[0]);
	if (need == 0 || cdb_len < need)
		return -EINVAL;
	*is_write = false;
	*bytes = 0;
	switch (cdb[0]) {
	case PRPATH_SCSI_OP_TEST_UNIT_READY:
	case PRPATH_SCSI_OP_RESERVE6:
	case PRPATH_SCSI_OP_RELEASE6:
	case PRPATH_SCSI_OP_RESERVE10:
	case PRPATH_SCSI_OP_RELEASE10:
	case PRPATH_SCSI_OP_START_STOP_UNIT:
		return 0;
	case PRPATH_SCSI_OP_REQUEST_SENSE:
	case PRPATH_SCSI_OP_INQUIRY:
		*bytes = cdb[0] == PRPATH_SCSI_OP_INQUIRY ? prpath_get_be16(cdb + 3) : cdb[4];
		return 0;
	case PRPATH_SCSI_OP_MODE_SENSE6:
		*bytes = cdb[4];
		return 0;
	case PRPATH_SCSI_OP_MODE_SELECT6:
		*bytes = cdb[4];
		*is_write = true;
		return 0;
	case PRPATH_SCSI_OP_MODE_SENSE10:
	case PRPATH_SCSI_OP_LOG_SENSE:
	case PRPATH_SCSI_OP_PR_IN:
		*bytes = prpath_get_be16(cdb + 7);
		return 0;
	case PRPATH_SCSI_OP_MODE_SELECT10:
		*bytes = prpath_get_be16(cdb + 7);
		*is_write = true;
		return 0;
	case PRPATH_SCSI_OP_PR_OUT:
		*bytes = prpath_get_be32(cdb + 5);
		*is_write = true;
		return 0;
	case PRPATH_SCSI_OP_READ_CAPACITY10:
		*bytes = 8;
		return 0;
	case PRPATH_SCSI_OP_REPORT_LUNS:
	case PRPATH_SCSI_OP_MAINTENANCE_IN:
		*bytes = prpath_get_be32(cdb + 6);
		return 0;
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16:
		if ((cdb[1] & 0x1f) == PRPATH_SCSI_SAI_READ_CAPACITY16) {
			*bytes = prpath_get_be32(cdb + 10);
			return 0;
		}
		break;
	default:
		break;
	}
	return ds_block_xfer(lu, cdb, cdb_len, bytes, is_write);
}

/* ---- execution -------------------------------------------------------------------- */

int prpath_lu_execute(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	struct prpath_lu *lu = nx->lu;
	struct itn *t = nx->itn;
	struct cmd_desc d;
	int rc = 0;
	size_t need;

	cmd->status = PRPATH_SCSI_STATUS_GOOD;
	cmd->sense_len = 0;
	cmd->data_in_len = 0;

	pthread_mutex_lock(&lu->lock);
	if (!cmd->queued_)
		task_enter(t, cmd);
	if (cmd->abort_gen_ != t->abort_gen) {
		task_leave(lu, t, cmd);
		pthread_mutex_unlock(&lu->lock);
		return PRPATH_LU_ABORTED;
	}

	if (!cmd->cdb || cmd->cdb_len == 0) {
		ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_OPCODE);
		goto out_locked;
	}
	d = classify(cmd->cdb);
	need = ds_cdb_len(cmd->cdb[0]);

	/* Unit attentions first, for every command but the three SPC-4 exempts. */
	if (!d.no_ua && t->nua) {
		uint16_t ascq = ua_pop(t);

		ds_check(cmd, PRPATH_SCSI_SK_UNIT_ATTENTION, ascq);
		goto out_locked;
	}
	if (d.cls == CLS_UNSUPPORTED || need == 0) {
		ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_OPCODE);
		goto out_locked;
	}
	if (cmd->cdb_len < need) {
		ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_CDB);
		goto out_locked;
	}
	if (lu->spc2_holder && lu->spc2_holder != t && !spc2_allowed(cmd->cdb)) {
		ds_conflict(cmd);
		goto out_locked;
	}

	switch (d.cls) {
	case CLS_SENSE:
		request_sense(t, cmd);
		goto out_locked;
	case CLS_SPC2:
		spc2_exec(lu, t, cmd);
		goto out_locked;
	case CLS_PR:
		if (lu->spc2_holder) {
			/* SPC-3 5.6.3: PR commands conflict while an SPC-2
			 * reservation exists, whoever sends them. */
			ds_conflict(cmd);
			goto out_locked;
		}
		if (cmd->cdb[0] == PRPATH_SCSI_OP_PR_IN)
			ds_pr_in(nx, cmd);
		else
			ds_pr_out(nx, cmd);
		goto out_locked;
	default:
		break;
	}

	if (pr_conflicts(lu, t, d.cls)) {
		ds_conflict(cmd);
		goto out_locked;
	}

	/* Admitted: run without the LU lock; PREEMPT AND ABORT and resets
	 * wait for t->inflight to drain. */
	t->inflight++;
	pthread_mutex_unlock(&lu->lock);
	if (d.exec == EX_BLOCK)
		ds_block_exec(nx, cmd);
	else
		ds_info_exec(nx, cmd);
	pthread_mutex_lock(&lu->lock);
	t->inflight--;
	if (t->inflight == 0)
		pthread_cond_broadcast(&lu->drained);
	if (cmd->abort_gen_ != t->abort_gen)
		rc = PRPATH_LU_ABORTED;

out_locked:
	task_leave(lu, t, cmd);
	pthread_mutex_unlock(&lu->lock);
	return rc;
}
