/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scripted test transport: a shared script of expected commands on exact
 * paths, each with the reply to give. It pins the exact PR sequences the
 * multipath device sends.
 *
 * The script is a list of groups; a step added outside
 * pp_script_group_begin()/end() is a group of its own. Groups are consumed
 * in order; the steps of one group may arrive in any order (commands that
 * go out concurrently on several paths). A command matches an unconsumed
 * step of the current group with the same path (or PP_SCRIPT_ANY_PATH), the
 * same CDB bytes (a prefix of the expected length, under the optional mask)
 * and, when given, the same data-out bytes. A command that matches nothing
 * records a readable failure and completes with transport error -EPROTO.
 * Thread safe.
 */
#ifndef PRPATH_HOST_SCRIPT_H
#define PRPATH_HOST_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/transport.h"

#define PP_SCRIPT_ANY_PATH (-1)

struct pp_script;
struct pp_script_step;

int pp_script_new(unsigned npaths, struct pp_script **out);
void pp_script_free(struct pp_script *s); /* NULL ok */
/* The connection of path @path. The script owns it: close() only marks it
 * closed, pp_script_free() frees it. */
struct pp_conn *pp_script_conn(struct pp_script *s, unsigned path);

void pp_script_group_begin(struct pp_script *s);
void pp_script_group_end(struct pp_script *s);

/* Expects a command on @path whose CDB starts with @cdb[0..len). Replies
 * GOOD with no data unless told otherwise. Never NULL (aborts on ENOMEM:
 * test code only). */
struct pp_script_step *pp_script_expect(struct pp_script *s, int path,
					const uint8_t *cdb, size_t len);
/* Only the bits set in @mask (same length as the expected CDB) compare. */
void pp_script_step_mask(struct pp_script_step *st, const uint8_t *mask);
/* The data-out must be exactly these bytes. */
void pp_script_step_dout(struct pp_script_step *st, const void *data, size_t len);

void pp_script_reply_din(struct pp_script_step *st, const void *data, size_t len);
void pp_script_reply_status(struct pp_script_step *st, uint8_t status);
/* CHECK CONDITION with fixed-format sense. */
void pp_script_reply_sense(struct pp_script_step *st, uint8_t key, uint8_t asc,
			   uint8_t ascq);
/* The command fails with transport error @err (negative errno). */
void pp_script_reply_err(struct pp_script_step *st, int err);

/* The first failure, or NULL. */
const char *pp_script_error(struct pp_script *s);
/* Every step consumed. */
bool pp_script_complete(struct pp_script *s);
/* 0 when there was no failure and every step was consumed; else -1 and a
 * description in @buf (the failure, or the first unconsumed step). */
int pp_script_verify(struct pp_script *s, char *buf, size_t cap);

/* Order of execution: the sequence number (0-based, over all commands the
 * script received) at which @st was matched, or -1; and the path it
 * arrived on. */
int pp_script_step_seq(const struct pp_script_step *st);
int pp_script_step_path(const struct pp_script_step *st);
/* Commands received so far (matched or not). */
size_t pp_script_ncommands(struct pp_script *s);

#endif /* PRPATH_HOST_SCRIPT_H */
