/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public path handle (prpath/path.h) as the multipath device sees it:
 * the transport connection inside, and the handle's own memory, which a
 * device that took the connection frees without closing it.
 */
#ifndef PRPATH_HOST_PATH_INT_H
#define PRPATH_HOST_PATH_INT_H

#include <prpath/path.h>
#include <prpath/scsi.h>
#include "host/transport.h"

struct pp_conn *pp_path_conn(struct prpath_path *path);
void pp_path_forget(struct prpath_path *path);

/* A public command (prpath_io) as the transports take it: checks it
 * (-EINVAL) and fills @in; @timeout_ms replaces a 0 timeout. */
int pp_io_from_public(struct pp_io *in, const struct prpath_io *io,
		      unsigned timeout_ms);
/* Copies the outcome of @in back (bounded by the public buffers); with
 * @rc < 0 (transport error) only clears the results. */
void pp_io_to_public(struct prpath_io *io, const struct pp_io *in, int rc);

/* A PERSISTENT RESERVE OUT (not REGISTER AND MOVE) with a basic parameter
 * list from @prm: the CDB into @cdb (16 bytes) and the list into @param
 * (@cap bytes). Returns the list's length, or a negative errno; the CDB's
 * length goes to *@cdb_len. One builder for the device and the path. */
int pp_prout_build(unsigned sa, unsigned type, const struct prpath_prout_params *prm,
		   uint8_t *cdb, size_t *cdb_len, uint8_t *param, size_t cap);

#endif /* PRPATH_HOST_PATH_INT_H */
