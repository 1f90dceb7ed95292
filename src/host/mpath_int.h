/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Multipath device internals for transports and tests: hand an already
 * opened transport connection to a device.
 */
#ifndef PRPATH_HOST_MPATH_INT_H
#define PRPATH_HOST_MPATH_INT_H

#include <prpath/mpath.h>
#include "host/transport.h"

/* Adds @conn as the next path of @dev (index = number of paths before).
 * The device owns @conn from now on (conn->ops->close at prpath_dev_free),
 * also when this fails. Returns the new path index (>= 0) or -ENOSPC,
 * -EBUSY (device open), -EINVAL. */
int pp_dev_add_conn(struct prpath_dev *dev, struct pp_conn *conn);
/* The connection of path @index, or NULL. */
struct pp_conn *pp_dev_conn(struct prpath_dev *dev, unsigned index);

#endif /* PRPATH_HOST_MPATH_INT_H */
