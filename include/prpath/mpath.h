/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prpath multipath device: one logical unit reached over several paths,
 * opened in one of the open modes of docs/design/MODES-AND-SAFETY.md
 * which map onto SCSI-3 persistent reservation sequences.
 *
 * Error convention (see prpath.h): 0 success, negative errno for a local or
 * transport failure, positive enum prpath_err for a SCSI outcome:
 *   PRPATH_ERR_RESERVED      the LU is reserved by another host (open), or
 *                            our reservation was lost (I/O in exclusive,
 *                            force and single mode after 2A/04)
 *   PRPATH_ERR_FENCED        this host's key has been removed from the LU;
 *                            every I/O fails at once until the device is
 *                            closed and opened again
 *   PRPATH_ERR_NO_PATH       no usable (and, when reserving, registered) path
 *   PRPATH_ERR_PARTIAL       done on some paths only: prpath_dev_status()
 *                            tells which paths failed (last_error)
 *   PRPATH_ERR_BAD_RESPONSE  the device returned malformed PR IN / INQUIRY
 *                            data
 *   -EXDEV                   prpath_dev_probe(): a path leads to a different
 *                            LU (VPD 0x83 identifier mismatch)
 *
 * Threads: one struct prpath_dev may be used from several threads for I/O
 * (prpath_dev_read/write) and the path checker at once. Open and free
 * must not run concurrently with anything else on the same device; close
 * may overlap read/write calls (see prpath_dev_close()) but not open,
 * free, another close or the path checker.
 * Commands on several paths (registration, release) go out concurrently:
 * one round trip for all paths, not one per path. Commands on one path are
 * serialised (a transport connection carries one command at a time).
 *
 * The library never prints: it logs through the context's callback. At
 * level 2 every CDB on every path is traced, with its status and sense.
 */
#ifndef PRPATH_MPATH_H
#define PRPATH_MPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <prpath/prpath.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- context ------------------------------------------------------------ */
struct prpath_ctx;

/* Log levels: 0 errors, 1 info (PR actions, path state changes), 2 debug
 * (every CDB on every path). */
typedef void (*prpath_log_fn)(void *arg, int level, const char *msg);

int prpath_ctx_new(struct prpath_ctx **out);
void prpath_ctx_free(struct prpath_ctx *ctx); /* NULL ok */
/* Messages of level <= @level go to @fn (NULL: logging off). */
void prpath_ctx_set_log(struct prpath_ctx *ctx, prpath_log_fn fn, void *arg,
			int level);

/* ---- keys ---------------------------------------------------------------
 * A reservation key is a non-zero 64-bit value. */

/* Parses "0x..." (hex, 1-16 digits) or decimal (full 64-bit range). Rejects
 * empty strings, signs, spaces, trailing characters, overflow and 0.
 * Returns 0 or -EINVAL / -ERANGE. */
int prpath_key_parse(const char *s, uint64_t *out);
/* The default key of an initiator: the 64-bit FNV-1a hash (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3) of the bytes of @initiator
 * (without the NUL), passed through the splitmix64 finaliser (x ^= x >> 30;
 * x *= 0xbf58476d1ce4e5b9; x ^= x >> 27; x *= 0x94d049bb133111eb;
 * x ^= x >> 31) so that names differing in one character give keys that
 * differ everywhere, not in two nibbles. Never 0: the one input that would
 * give 0 gets the finalised offset basis instead. */
uint64_t prpath_key_derive(const char *initiator);

/* ---- device ------------------------------------------------------------- */
struct prpath_dev;

/* Maximum number of paths of one device. */
#define PRPATH_DEV_MAX_PATHS 64

struct prpath_host {
	const char *initiator; /* this host's initiator name (iqn), copied */
	uint64_t key;          /* 0: prpath_key_derive(initiator) */
};

enum prpath_open_mode {
	PRPATH_MODE_EXCLUSIVE = 0, /* default */
	PRPATH_MODE_FORCE,         /* takeover */
	PRPATH_MODE_SHARED,
	PRPATH_MODE_SINGLE,
	PRPATH_MODE_NORESERVE,
	/* Joins a reservation this host already holds or shares (taken by an
	 * earlier open with PRPATH_OPEN_RETAIN, maybe by another process):
	 * READ RESERVATION and READ KEYS check that K holds it (or, for an
	 * all-registrants type, is registered); paths of ours that are not
	 * registered are registered under the "K present" rule; nothing else
	 * is sent (no RESERVE, no PREEMPT). Fails with PRPATH_ERR_NOT_HOLDER
	 * otherwise. I/O then follows the held type (WE/EA: the holder path
	 * only). Close sends nothing (as with PRPATH_OPEN_RETAIN). */
	PRPATH_MODE_ATTACH,
};

/* prpath_dev_open() flags */
#define PRPATH_OPEN_RETAIN    0x1u  /* close sends nothing */
#define PRPATH_OPEN_EA        0x2u  /* exclusive access: EARO instead of WERO
				       (exclusive, force), EAAR instead of WEAR
				       (shared), EA instead of WE (single) */
/* An explicit reservation type (PRPATH_PR_TYPE_*): PRPATH_OPEN_TYPE(PRPATH_PR_TYPE_EARO).
 * It overrides the mode's default type and PRPATH_OPEN_EA. */
/* Persist through power loss: every REGISTER this device sends carries
 * APTPL=1 (when the device reports PTPL_C; otherwise the open goes on
 * without and prpath_dev_status() says so). PRPATH_OPEN_NO_APTPL sends
 * APTPL=0. With neither, registrations keep what the device reports now
 * (REPORT CAPABILITIES PTPL_A): the library never clears APTPL by itself. */
#define PRPATH_OPEN_APTPL     0x4u
#define PRPATH_OPEN_NO_APTPL  0x8u
#define PRPATH_OPEN_TYPE(t)   ((((unsigned)(t)) & 0xfu) << 8)
#define PRPATH_OPEN_TYPE_OF(f) (((f) >> 8) & 0xfu)

enum prpath_path_state {
	PRPATH_PATH_UP = 0,
	PRPATH_PATH_FAILED,
	PRPATH_PATH_REINSTATING,
};

enum prpath_event_type {
	PRPATH_EVENT_FENCED = 1,          /* our key is gone from the LU */
	PRPATH_EVENT_PATH_DOWN,
	PRPATH_EVENT_PATH_UP,
	PRPATH_EVENT_RESERVATION_LOST,    /* 2A/04 RESERVATIONS RELEASED */
};

struct prpath_event {
	enum prpath_event_type type;
	int path;  /* 0-based path index, -1 when not about one path */
	int err;   /* what caused it (error convention), 0 if nothing */
};

/* Called from whichever thread saw the event (I/O caller, path checker,
 * open). Must not call back into the same device. */
typedef void (*prpath_event_fn)(void *arg, struct prpath_dev *dev,
				const struct prpath_event *ev);

/* One command on one path, as it completed: the structured trace that
 * feeds tools (a timeline, a debugger), next to the text of log level 2. */
struct prpath_trace {
	unsigned path;            /* 0-based path index */
	const uint8_t *cdb;
	size_t cdb_len;
	int rc;                   /* 0: completed with status / sense below;
				     negative errno: the path failed */
	uint8_t status;
	const uint8_t *sense;
	size_t sense_len;
	size_t dout_len, din_len;
};
/* Called from the thread that sent the command, right after it completed
 * and before the next command on that path; it must be quick and must not
 * call back into the device. */
typedef void (*prpath_trace_fn)(void *arg, struct prpath_dev *dev,
				const struct prpath_trace *t);

/* Creates a device with no paths. @host->initiator is required. */
int prpath_dev_new(struct prpath_ctx *ctx, const struct prpath_host *host,
		   struct prpath_dev **out);
/* Closes every path; does NOT send close's PR sequence (call
 * prpath_dev_close() first). NULL ok. */
void prpath_dev_free(struct prpath_dev *dev);

void prpath_dev_set_event_cb(struct prpath_dev *dev, prpath_event_fn fn,
			     void *arg);
/* Sets (NULL: clears) the trace callback, before the device is used from
 * several threads. */
void prpath_dev_set_trace(struct prpath_dev *dev, prpath_trace_fn fn, void *arg);
/* Adds an opened path (prpath/path.h, for example one to an in-process
 * device server) as the next path. The device owns it from now on, also
 * when this fails: do not close it; its fault controls stay usable until
 * prpath_dev_free(). Returns the index, or -ENOSPC, -EBUSY, -EEXIST,
 * -EINVAL. */
struct prpath_path;
int prpath_dev_add_path(struct prpath_dev *dev, struct prpath_path *path);

/* Sends one command by hand on path @index, the path's own I_T nexus (a
 * second session with that nexus would end the first): for tools and tests
 * that look at or poke the LU as this path. Nothing is retried, no unit
 * attention is consumed, the path's state is not changed. 0 (completed:
 * see io->status), a negative errno (transport error), -EINVAL. */
struct prpath_io;
int prpath_dev_path_execute(struct prpath_dev *dev, unsigned index,
			    struct prpath_io *io);

/* Per-command timeout handed to the transports; 0 = transport default. */
void prpath_dev_set_timeout(struct prpath_dev *dev, unsigned timeout_ms);
uint64_t prpath_dev_key(const struct prpath_dev *dev);
size_t prpath_dev_npaths(const struct prpath_dev *dev);

/* Makes @d an observer, before any path is added: its paths log in on an
 * initiator port of their own (iSCSI: another ISID), so looking at the LU
 * never reinstates (ends) a session of this host that carries I/O;
 * prpath_dev_open() is refused (-EPERM). 0, -EINVAL, or -EBUSY once a path
 * was added. */
int prpath_dev_set_observer(struct prpath_dev *d);

/* Adds a path given by URL: iscsi://HOST[:PORT]/TARGET-IQN/LUN, sg:/dev/sgN
 * or /dev/sdX (see the CLI contract). The path gets the next index. Its
 * iSCSI initiator port comes from what the path is (initiator name, portal,
 * target), not from its index: the same path always presents the same port,
 * whatever the order paths are added in. -EEXIST: the device has this path
 * already (a second registration of one nexus is not a second path). */
int prpath_dev_add_url(struct prpath_dev *dev, const char *url);

/* Adds the @n paths of @urls at once (concurrently: unreachable portals
 * cost one timeout, not one per path), in the order given. res[i].index is
 * the path's index, or a negative errno with the reason in res[i].why
 * (-EEXIST: the same path as an earlier one). Returns the number of paths
 * added, or -EINVAL / -ENOMEM. Secrets in URLs never appear in the
 * reasons. */
struct prpath_url_result {
	int index;
	char why[320];
};
int prpath_dev_add_urls(struct prpath_dev *dev, const char *const *urls,
			size_t n, struct prpath_url_result *res);

/* Unregisters this host's key on every usable path, whatever opened it
 * (the device is not open): REGISTER with RESERVATION KEY K and SERVICE
 * ACTION RESERVATION KEY 0, so a nexus registered with another key (an
 * administrator changed it), or not registered, keeps what it has.
 * Nothing is released: for a reservation K holds use prpath_dev_release().
 * Returns 0 or the first error (-EBUSY when open, -EPERM for an observer). */
int prpath_dev_unregister(struct prpath_dev *dev);

/* Sends INQUIRY VPD 0x83 on every path and checks that all paths lead to
 * the same LU, then READ CAPACITY(16) for the geometry and INQUIRY VPD 0xB0
 * for the largest transfer one command may carry (reads and writes above
 * it are split into several commands; a device without the page sets no
 * limit). A path that cannot
 * be reached is marked failed (not an error while one path works).
 * Returns 0, -EXDEV when a path leads to a different LU (logged with both
 * identifiers; that path is marked failed and never used),
 * PRPATH_ERR_NO_PATH, PRPATH_ERR_BAD_RESPONSE. */
int prpath_dev_probe(struct prpath_dev *dev);
/* The LU identifier found by probe (hex of the NAA designator), "" before. */
const char *prpath_dev_lu_id(const struct prpath_dev *dev);
uint32_t prpath_dev_block_size(const struct prpath_dev *dev);
uint64_t prpath_dev_blocks(const struct prpath_dev *dev);

/* Opens the device in @mode (see docs/design/MODES-AND-SAFETY.md). Returns 0,
 * PRPATH_ERR_RESERVED (another host holds the LU; nothing of ours is left
 * registered), PRPATH_ERR_PARTIAL (a registration failed on some path with
 * a SCSI error; the others were rolled back; or undoing a failed open
 * could not unregister K on a path that still answers: see status),
 * PRPATH_ERR_NO_PATH, or the error of the failing command. -EBUSY when
 * already open. -EINVAL when mode and type disagree: exclusive, force and
 * single take a registrants-only or one-nexus type (WERO, EARO, WE, EA),
 * shared an all-registrants type (WEAR, EAAR).
 *
 * Exclusive modes and other hosts' keys: exclusive and single look first
 * (READ KEYS) and fail with PRPATH_ERR_OTHER_KEYS, nothing sent, when a
 * key other than K is registered (also when this host already holds the
 * LU: nothing is changed then); keys that register while the open runs
 * are preempted once it holds the reservation. A takeover (force)
 * preempts every other key. So an exclusive open that returns 0 leaves K
 * the only key registered (prpath_dev_other_keys() tells what was seen). */
int prpath_dev_open(struct prpath_dev *dev, enum prpath_open_mode mode,
		    unsigned flags);
/* Closes: first marks the device closing, so that no new read/write starts
 * (they fail at once with -ESHUTDOWN), and waits until every read/write
 * already in flight has returned (bounded by the transports' command
 * timeouts, see prpath_dev_set_timeout()); none of them registers K again
 * from then on. Then RELEASE on every registered path (a dead holder path
 * does not matter), then unregisters K on every path, concurrently. With
 * PRPATH_OPEN_RETAIN nothing is sent. Returns 0, or PRPATH_ERR_PARTIAL
 * when some path could not be cleaned up (see status); -EBUSY when another
 * close is running. The device is closed in every case (0 for a device
 * that is not open). */
int prpath_dev_close(struct prpath_dev *dev);

/* Gives up what this host holds, whichever process opened it: joins the
 * reservation as PRPATH_MODE_ATTACH does (registering paths of ours that
 * carry no registration, under the "K present" rule), then closes as the
 * holder would: RELEASE (not for an all-registrants type) and unregister on
 * every path, moving the reservation off a dead holder path first.
 * Returns what prpath_dev_open(PRPATH_MODE_ATTACH) or prpath_dev_close()
 * return (PRPATH_ERR_NOT_HOLDER: the LU is not reserved; PRPATH_ERR_RESERVED:
 * another host holds it); -EBUSY when open. */
int prpath_dev_release(struct prpath_dev *dev);

/* Two hosts with one key: K registered through another initiator name
 * (READ FULL STATUS) makes every reserving open and attach fail with
 * PRPATH_ERR_KEY_SHARED; an open that registered undoes its registrations
 * first. Registrations of K through this host's initiator on nexuses
 * that are none of the paths (a lost session, a path not given this time)
 * are removed by exclusive opens and takeovers once they hold the LU (a
 * PREEMPT of K from one of our paths, then our other paths register
 * again). Devices without READ FULL STATUS cannot tell either: nothing is
 * checked there. */

/* Other hosts' keys seen by the last prpath_dev_open() in an exclusive mode
 * (exclusive, single, force): the distinct keys other than K (up to @cap of
 * them into @keys; NULL ok) and in *@nregs (NULL ok) how many registrations
 * they had. *@preempted (NULL ok) says whether the open removed them (a
 * takeover preempts every other key; an exclusive open preempts those that
 * registered while it ran) or found them and refused
 * (PRPATH_ERR_OTHER_KEYS: under a registrants-only reservation every
 * registrant may write). Returns the number of distinct keys. */
size_t prpath_dev_other_keys(struct prpath_dev *dev, uint64_t *keys, size_t cap,
			     size_t *nregs, bool *preempted);

/* Block I/O of @count blocks of prpath_dev_block_size() bytes at @lba.
 * @via: -1 lets the device choose (round robin over usable registered
 * paths, failover to the next path on transport errors), else the 0-based
 * path index to use (no failover). Returns 0, PRPATH_ERR_FENCED,
 * PRPATH_ERR_RESERVED, PRPATH_ERR_CONFLICT, PRPATH_ERR_NO_PATH, other
 * SCSI categories, or a negative errno (with @via).
 *
 * -ESHUTDOWN: the device is not open (never opened, or closed: I/O without
 * reservations needs an open in PRPATH_MODE_NORESERVE), or prpath_dev_close()
 * has begun; nothing was sent. A read/write already in flight when close
 * begins runs to its end (close waits for it), but one that meets a
 * RESERVATION CONFLICT then fails with -ESHUTDOWN instead of registering
 * its path again (the safety rule "K present, this path not registered").
 *
 * A write that fails with a transport error (a timeout, a connection
 * reset) may or may not have reached the device, and bytes held in the
 * network may still reach it later. Before it is retried on another path,
 * the failed path's I_T nexus loses its registration: a PREEMPT of this
 * host's own key from another registered path (the reservation stays with
 * this host; our other paths are registered again at once, the failed one
 * by the path checker). Whatever of the first attempt arrives afterwards
 * meets RESERVATION CONFLICT and never executes, so it cannot overwrite a
 * newer write. Not covered: a command the target had already admitted,
 * but not yet executed, when the PREEMPT arrived (inside the target, not in
 * the network); PREEMPT AND ABORT would cover it but would also end, with
 * no answer, the commands our healthy paths have in flight. With no other
 * registered path that answers, the write is not retried and
 * PRPATH_ERR_NO_PATH means "outcome unknown", not "not written". In
 * PRPATH_MODE_NORESERVE nothing can be fenced: a write is retried as
 * before. A write pinned to a path (@via >= 0) is not retried and not
 * fenced: its error means "outcome unknown", and a caller that writes the
 * same blocks again should do so without @via (or through
 * prpath_dev_fail_path() and a retry) so that the fence applies. */
int prpath_dev_read(struct prpath_dev *dev, uint64_t lba, uint32_t count,
		    void *buf, int via);
int prpath_dev_write(struct prpath_dev *dev, uint64_t lba, uint32_t count,
		     const void *buf, int via);

/* The path checker: for every failed path, reconnect and TEST UNIT READY;
 * when the device is open in a registering mode, re-register the path only
 * if K is still registered on the LU (READ KEYS before, READ KEYS after to
 * catch a raced preemption) and this host still holds the reservation (or,
 * for an all-registrants type, one exists: READ RESERVATION); if K is gone
 * the device is fenced and the path is not registered; if another host
 * holds the LU (or nobody does) the reservation is lost
 * (PRPATH_EVENT_RESERVATION_LOST, once) and the path is not registered.
 * The same rule holds when I/O meets a RESERVATION CONFLICT on a path.
 * Returns 0 or PRPATH_ERR_FENCED (or -EINVAL); the number of paths
 * reinstated goes to *@reinstated when it is not NULL (also when fenced
 * or lost: such paths come back up, unregistered, and are not counted;
 * their PATH_UP event carries the reason). */
int prpath_dev_check_paths(struct prpath_dev *dev, unsigned *reinstated);

/* The other half of the path checker (multipathd's "tur" checker): TEST
 * UNIT READY on every usable path. A path that does not answer is marked
 * failed (PRPATH_EVENT_PATH_DOWN) for prpath_dev_check_paths() to bring
 * back; a unit attention saying this host was preempted fences the device
 * as on any command. It also keeps idle sessions serviced (a target drops
 * a session whose pings go unanswered). Returns 0 or PRPATH_ERR_FENCED
 * (or -EINVAL); *@failed (may be NULL) counts the paths found dead. */
int prpath_dev_test_paths(struct prpath_dev *dev, unsigned *failed);

/* Marks a path failed (as if its transport had failed); for tools and
 * tests. */
int prpath_dev_fail_path(struct prpath_dev *dev, unsigned index);

#define PRPATH_DESC_MAX 160

struct prpath_path_status {
	unsigned index;
	enum prpath_path_state state;
	bool registered;        /* K registered through this path (as far as
				   this host knows) */
	/* What the device says (READ FULL STATUS, matched on this path's
	 * initiator port and relative target port): -1 unknown (no READ FULL
	 * STATUS, no port name, path down), 0 no, 1 yes. */
	int device_registered;
	bool device_holder;     /* this path's nexus holds the reservation */
	char initiator_port[PRPATH_DESC_MAX]; /* "" when unknown */
	int rel_tgt_port;       /* -1 when unknown */
	int last_error;         /* last failure on this path, 0 if none */
	char desc[PRPATH_DESC_MAX]; /* transport description */
};

struct prpath_dev_status {
	bool open;
	enum prpath_open_mode mode;
	unsigned type;           /* reservation type asked for at open */
	bool fenced;
	bool reservation_lost;
	uint64_t key;            /* K */
	/* From the device (READ KEYS / READ RESERVATION on a usable path);
	 * valid when device_valid. */
	bool device_valid;
	int device_error;        /* why not valid */
	uint32_t generation;
	size_t nregistrations;   /* keys listed by READ KEYS */
	size_t nkey_registrations; /* of which are K */
	bool reserved;
	uint64_t holder_key;     /* 0 for all-registrants types */
	unsigned holder_type;
	bool we_hold;            /* reserved and holder is K (or AR and K is
				    registered) */
	size_t npaths;
	/* The last open found this host already holding the LU as asked and
	 * sent no RESERVE or PREEMPT. */
	bool already_held;
	bool aptpl;              /* registrations of this open carry APTPL=1 */
	bool full_status;        /* the device answered READ FULL STATUS */
	/* From READ FULL STATUS (0 and "" without it): registrations of K
	 * through another initiator name (two hosts configured with one key:
	 * the LU cannot tell them apart) and the first such name; and
	 * registrations of K through this host's initiator name on nexuses
	 * that are none of the device's paths (a lost session, a path not
	 * given). */
	size_t nkey_foreign;
	char key_foreign_initiator[PRPATH_DESC_MAX];
	size_t nkey_elsewhere;
	bool holder_foreign;     /* the holder nexus carries K but belongs to
				    another initiator: we_hold is false */
	bool holder_this_initiator; /* the holder nexus has this host's
				    initiator name, whatever its key (an
				    administrator may have changed it) */
};

/* Fills @st and up to @cap entries of @paths (may be NULL). Queries the
 * device on the first usable path (READ KEYS, READ RESERVATION); a failure
 * there is reported in st->device_error, not as the return value. Returns
 * 0 or -EINVAL. */
int prpath_dev_status(struct prpath_dev *dev, struct prpath_dev_status *st,
		      struct prpath_path_status *paths, size_t cap);

/* What this host knows of its paths, without sending anything (state,
 * registered as far as this host knows, last error, initiator port,
 * relative target port; device_registered -1): for monitoring loops that
 * must not add commands. Fills up to @cap entries (@paths may be NULL) and
 * returns the number of paths. */
size_t prpath_dev_paths(struct prpath_dev *dev, struct prpath_path_status *paths,
			size_t cap);

const char *prpath_open_mode_name(enum prpath_open_mode mode);
const char *prpath_path_state_name(enum prpath_path_state state);

#ifdef __cplusplus
}
#endif
#endif /* PRPATH_MPATH_H */
