/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpathd's events for `prpath group watch` (prpathd(8), WATCH): one JSON
 * object per line, pushed to every watcher of the group.
 *
 *   {"time": "2026-12-08T10:00:00.123Z", "group": "db", "lu": "data",
 *    "path": 2, "event": "path-down", "detail": "..."}
 *
 * ("lu", "path" and "detail" only where they apply.) Events are posted
 * from any thread (the devices' callbacks); the main loop sends them. A
 * watcher that does not keep up (its socket buffer full) is dropped rather
 * than allowed to stall the daemon.
 */
#ifndef PRPATHD_EVENTS_H
#define PRPATHD_EVENTS_H

#include <poll.h>
#include <stddef.h>

#define PD_MAX_WATCHERS 32
#define PD_EVENTS_QUEUE_MAX 1024

/* Sets up the queue and its wake-up pipe. 0 or -errno. */
int pd_events_init(void);
void pd_events_fini(void);
/* The descriptor the main loop polls (readable: events to send). */
int pd_events_fd(void);
/* Queues one event (thread-safe). @lu may be NULL, @path < 0 for none,
 * @detail may be NULL. */
void pd_events_post(const char *group, const char *lu, int path,
		    const char *event, const char *detail);
/* Keeps @fd (a control connection that asked to watch @group) as a
 * watcher; closes it when there are too many. */
void pd_events_watch(int fd, const char *group);
/* Main loop: sends what is queued to the watchers of each event's group.
 * Returns the number of events sent out (to anyone). */
size_t pd_events_flush(void);
/* Main loop: the watchers' descriptors to poll (POLLIN: a watcher that
 * hung up), and what came back. */
size_t pd_events_pollfds(struct pollfd *pfd, size_t cap);
void pd_events_polled(const struct pollfd *pfd, size_t n);
/* The number of watchers now. */
size_t pd_events_nwatchers(void);

#endif /* PRPATHD_EVENTS_H */
