/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Groups of LUs taken and given up together: a cluster resource of
 * several LUs (a database's data and log) must never end divided between
 * two hosts (fence-agents #278).
 *
 * The group's first device decides a race between two hosts (the
 * arbiter): it is opened alone, and only its winner goes on to the
 * others, which are then opened all at once (every LU's registrations on
 * every path in flight together), so a group of N LUs costs about two
 * single-LU opens, not N. A host that cannot have every LU keeps none:
 * what it had taken is released again before the call returns.
 *
 * A takeover (PRPATH_MODE_FORCE) of the arbiter by two hosts at the same
 * time ends with the host whose PREEMPT landed last holding it, and both
 * see success. So after its own takeover of the arbiter a host waits (the
 * settle time) and looks again: a rival that started with it has
 * preempted it by then, and it stops before touching the other LUs.
 */
#ifndef PRPATH_GROUP_H
#define PRPATH_GROUP_H

#include <limits.h>
#include <stddef.h>

#include <prpath/mpath.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Settle time of a group takeover: twice as long as the arbiter's
 * takeover took, at least 100 ms and at most 2 s. */
#define PRPATH_GROUP_SETTLE_AUTO UINT_MAX

/* Opens the @n devices of @devs (closed, probed or not) in @mode with
 * @flags, as prpath_dev_open() does: devs[0] first, alone; for
 * PRPATH_MODE_FORCE then @settle_ms (or PRPATH_GROUP_SETTLE_AUTO; 0: no
 * wait) and a READ RESERVATION that must still show this host; then every
 * other device at once. Returns 0 with every device open, or the error of
 * the first device (lowest index) that failed, its index in @failed (may
 * be NULL): then no device is left open and what this host had taken on
 * the others is released again (PRPATH_ERR_RESERVED when the arbiter was
 * lost to a rival during the settle time). -EINVAL for no devices or a
 * NULL device. */
int prpath_group_open(struct prpath_dev *const *devs, size_t n,
		      enum prpath_open_mode mode, unsigned flags,
		      unsigned settle_ms, size_t *failed);

/* Gives up every device of the group at once: each is closed (an open
 * device with PRPATH_OPEN_RETAIN sends nothing), then released as
 * prpath_dev_release() does, or only unregistered where this host holds
 * no reservation. Returns 0, or the first error (lowest index, in
 * @failed); every device is tried. */
int prpath_group_release(struct prpath_dev *const *devs, size_t n,
			 size_t *failed);

#ifdef __cplusplus
}
#endif

#endif /* PRPATH_GROUP_H */
