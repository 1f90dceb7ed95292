/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux SG_IO transport on /dev/sg* and /dev/sd* (one device node = one
 * path; the kernel's own multipath must not sit in between).
 */
#ifndef PRPATH_HOST_SG_H
#define PRPATH_HOST_SG_H

#include "host/transport.h"

#define PP_SG_DEFAULT_TIMEOUT_MS 30000u

/* Opens @dev for SG_IO. @timeout_ms is the default command timeout
 * (0 = 30 s). Returns 0, -ENOENT (no such device), -EACCES / -EPERM (no
 * permission), -ENOTTY (not a SCSI device that takes SG_IO), -EINVAL, or
 * another negative errno from open(2); pp_transport_last_error() (url.h)
 * tells why. */
int pp_sg_open(const char *dev, unsigned timeout_ms, struct pp_conn **out);

/* Maps SG_IO host_status / driver_status to 0 or a negative errno
 * (exposed for tests). */
int pp_sg_map_host_status(unsigned host_status);
int pp_sg_map_driver_status(unsigned driver_status);

#endif /* PRPATH_HOST_SG_H */
