/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process-wide pool of worker threads for the library's short parallel
 * steps (one path's commands of one step of an open, one LU of a group).
 * Creating a thread per step costs more than a round trip on the in-process
 * device server once thousands run at once (a group of 256 LUs x 4 paths);
 * a worker that finished waits for the next job instead, and leaves after
 * PP_POOL_IDLE_S seconds without one. Workers have small stacks
 * (PP_POOL_STACK). A child process after fork() starts with no workers.
 */
#ifndef PRPATH_UTIL_POOL_H
#define PRPATH_UTIL_POOL_H

#define PP_POOL_STACK (256u * 1024u)
#define PP_POOL_IDLE_S 5

/* Runs @fn(@arg) on a worker: an idle one, else a new one. Returns 0, or a
 * negative errno when no worker could be had (then @fn was not run: the
 * caller runs it itself). The caller learns of the job's end from @fn. */
int pp_pool_run(void (*fn)(void *arg), void *arg);

#endif /* PRPATH_UTIL_POOL_H */
