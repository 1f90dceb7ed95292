/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public path handle (prpath/path.h) as the multipath device sees it:
 * the transport connection inside, and the handle's own memory, which a
 * device that took the connection frees without closing it.
 */
#ifndef PRPATH_HOST_PATH_INT_H
#define PRPATH_HOST_PATH_INT_H

#include <prpath/path.h>
#include "host/transport.h"

struct pp_conn *pp_path_conn(struct prpath_path *path);
void pp_path_forget(struct prpath_path *path);

#endif /* PRPATH_HOST_PATH_INT_H */
