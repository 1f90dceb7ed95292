/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libprpath: safe shared storage for active/passive clusters over several
 * paths, using SCSI-3 persistent reservations.
 *
 * Error convention (every function that returns int):
 *   0            success
 *   negative     -errno: a local or transport failure (-ENOMEM, -EIO,
 *                -ETIMEDOUT, -ENOTCONN, -EINVAL ...)
 *   positive     a SCSI outcome category, enum prpath_err below
 * prpath_strerror() describes any of them.
 */
#ifndef PRPATH_PRPATH_H
#define PRPATH_PRPATH_H

#include <prpath/scsi.h>
#include <prpath/lu.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PRPATH_VERSION_MAJOR 0
#define PRPATH_VERSION_MINOR 1
#define PRPATH_VERSION_PATCH 0

enum prpath_err {
	PRPATH_ERR_CONFLICT = 1,     /* RESERVATION CONFLICT */
	PRPATH_ERR_UNIT_ATTENTION,   /* a unit attention not retried */
	PRPATH_ERR_NOT_READY,
	PRPATH_ERR_ILLEGAL_REQUEST,  /* the device rejected the command */
	PRPATH_ERR_ABORTED,
	PRPATH_ERR_BUSY,
	PRPATH_ERR_MEDIUM,
	PRPATH_ERR_MISCOMPARE,
	PRPATH_ERR_CHECK_OTHER,      /* other CHECK CONDITION */
	PRPATH_ERR_RESERVED,         /* the LU is reserved by another host */
	PRPATH_ERR_FENCED,           /* this host's key was removed */
	PRPATH_ERR_NO_PATH,          /* no usable path left */
	PRPATH_ERR_PARTIAL,          /* done on some paths only (reported) */
	PRPATH_ERR_BAD_RESPONSE,     /* malformed data from the device */
	PRPATH_ERR_NOT_HOLDER,       /* this host does not hold (or share) the
					LU's reservation (PRPATH_MODE_ATTACH) */
	PRPATH_ERR_HELD_OTHERWISE,   /* this host already holds the LU with
					another mode or reservation type */
	PRPATH_ERR_OTHER_KEYS,       /* other hosts' keys are registered: under
					a registrants-only reservation they
					could write (exclusive opens refuse) */
	PRPATH_ERR_KEY_SHARED,       /* this host's key is registered by another
					initiator too: the LU cannot tell the
					two hosts apart */
	PRPATH_ERR__MAX
};

/* Text for 0, a negative errno or a positive prpath_err; never NULL. */
const char *prpath_strerror(int err);
/* Maps a sense category to the prpath_err category (0 for OK). */
int prpath_err_from_sense_cat(enum prpath_sense_cat cat);

const char *prpath_version(void);

#ifdef __cplusplus
}
#endif
#endif /* PRPATH_PRPATH_H */
