// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * APTPL persistence of the persistent-reservation state.
 *
 * State file format, version 1 (all integers big-endian):
 *
 *   offset  size  field
 *        0     8  magic "PRPATHPR"
 *        8     2  version (1)
 *       10     2  flags (0)
 *       12     4  total length of the file in bytes
 *       16     4  CRC-32C of bytes [0,16) followed by bytes [20,length)
 *       20     4  PRgeneration
 *       24     1  APTPL (0 or 1)
 *       25     1  reservation type (0 = not reserved, else 1,3,5,6,7,8)
 *       26     1  reservation scope (0 = LU)
 *       27     1  reserved (0)
 *       28     4  holder: index into the registration list, or
 *                 0xffffffff (-1) for no reservation and for the
 *                 all-registrants types
 *       32     4  number of registrations N
 *       36        N registrations, in registration order:
 *                   0  8  reservation key (not 0)
 *                   8  2  relative target port identifier (not 0)
 *                  10  1  flags: bit 0 ALL_TG_PT, others 0
 *                  11  1  reserved (0)
 *                  12  2  L = length of the initiator port name
 *                         including its NUL (1..PRPATH_PORT_NAME_MAX)
 *                  14  L  initiator port name, NUL-terminated
 *
 * The encoding is canonical: a buffer that ds_state_restore() accepts is
 * serialised back to the same bytes.
 *
 * The file is replaced atomically: "<path>.tmp" is written and fsync'ed,
 * the old file is kept as a hard link "<path>.bak" while it is renamed over
 * "<path>", then the directory is fsync'ed. If the directory sync fails the
 * old file is put back, so a failed command leaves the file as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds/ds_int.h"
#include "util/crc32c.h"

#define ST_MAGIC "PRPATHPR"
#define ST_MAGIC_LEN 8
#define ST_VERSION 1
#define ST_HDR_LEN 36
#define ST_REG_HDR_LEN 14
#define ST_NO_HOLDER 0xffffffffu
#define ST_REG_ALL_TG_PT 0x01
/* Upper bound of a file we are willing to read. */
#define ST_MAX_LEN(nreg) \
	(ST_HDR_LEN + (uint64_t)(nreg) * (ST_REG_HDR_LEN + PRPATH_PORT_NAME_MAX))

static uint32_t st_crc(const uint8_t *buf, size_t len)
{
	uint32_t crc = crc32c(0, buf, 16);

	return crc32c(crc, buf + 20, len - 20);
}

int ds_state_serialize(struct prpath_lu *lu, uint8_t **bufp, size_t *lenp)
{
	struct itn *t;
	size_t len = ST_HDR_LEN, off;
	uint32_t n = 0, holder = ST_NO_HOLDER;
	bool reserved = lu->res_type != PRPATH_PR_TYPE_NONE;
	bool ar = reserved && prpath_pr_type_all_registrants(lu->res_type);
	uint8_t *buf;

	for (t = lu->reg_head; t; t = t->rnext) {
		size_t nl = strnlen(t->name, PRPATH_PORT_NAME_MAX);

		if (nl >= PRPATH_PORT_NAME_MAX)
			return -EINVAL;
		if (reserved && !ar && t == lu->holder)
			holder = n;
		len += ST_REG_HDR_LEN + nl + 1;
		n++;
	}
	if (reserved && !prpath_pr_type_valid(lu->res_type))
		return -EINVAL;
	if (reserved && !ar && holder == ST_NO_HOLDER)
		return -EINVAL;         /* holder not registered: a bug */
	if (n != lu->nreg)
		return -EINVAL;

	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, ST_MAGIC, ST_MAGIC_LEN);
	prpath_put_be16(buf + 8, ST_VERSION);
	prpath_put_be16(buf + 10, 0);
	prpath_put_be32(buf + 12, (uint32_t)len);
	prpath_put_be32(buf + 20, lu->generation);
	buf[24] = lu->aptpl ? 1 : 0;
	buf[25] = reserved ? lu->res_type : PRPATH_PR_TYPE_NONE;
	buf[26] = reserved ? lu->res_scope : 0;
	buf[27] = 0;
	prpath_put_be32(buf + 28, holder);
	prpath_put_be32(buf + 32, n);
	off = ST_HDR_LEN;
	for (t = lu->reg_head; t; t = t->rnext) {
		size_t nl = strlen(t->name) + 1;

		prpath_put_be64(buf + off, t->key);
		prpath_put_be16(buf + off + 8, t->rtp);
		buf[off + 10] = t->all_tg_pt ? ST_REG_ALL_TG_PT : 0;
		buf[off + 11] = 0;
		prpath_put_be16(buf + off + 12, (uint16_t)nl);
		memcpy(buf + off + ST_REG_HDR_LEN, t->name, nl);
		off += ST_REG_HDR_LEN + nl;
	}
	prpath_put_be32(buf + 16, st_crc(buf, len));
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* One parsed registration record (points into the buffer). */
struct st_reg {
	uint64_t key;
	uint16_t rtp;
	bool all_tg_pt;
	const char *name;
};

static int st_reg_cmp(const void *a, const void *b)
{
	const struct st_reg *x = a, *y = b;

	if (x->rtp != y->rtp)
		return x->rtp < y->rtp ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct st_parsed {
	uint32_t generation;
	bool aptpl;
	uint8_t type, scope;
	uint32_t holder;
	uint32_t nreg;
	struct st_reg *regs;        /* nreg entries, file order */
};

/* Validates @buf completely. Allocates p->regs (also for nreg == 0). */
static int st_parse(const struct prpath_lu *lu, const uint8_t *buf,
		    size_t len, struct st_parsed *p)
{
	struct st_reg *sorted;
	size_t off;

	memset(p, 0, sizeof(*p));
	if (len < ST_HDR_LEN || memcmp(buf, ST_MAGIC, ST_MAGIC_LEN) != 0)
		return -EBADMSG;
	if (prpath_get_be16(buf + 8) != ST_VERSION ||
	    prpath_get_be16(buf + 10) != 0)
		return -EBADMSG;
	if (prpath_get_be32(buf + 12) != len)
		return -EBADMSG;
	if (prpath_get_be32(buf + 16) != st_crc(buf, len))
		return -EBADMSG;

	p->generation = prpath_get_be32(buf + 20);
	if (buf[24] > 1 || buf[27] != 0)
		return -EBADMSG;
	p->aptpl = buf[24];
	p->type = buf[25];
	p->scope = buf[26];
	p->holder = prpath_get_be32(buf + 28);
	p->nreg = prpath_get_be32(buf + 32);
	if (p->scope != 0)
		return -EBADMSG;
	if (p->nreg > lu->max_reg ||
	    (uint64_t)p->nreg * (ST_REG_HDR_LEN + 2) > len - ST_HDR_LEN)
		return -EBADMSG;
	if (p->type == PRPATH_PR_TYPE_NONE) {
		if (p->holder != ST_NO_HOLDER)
			return -EBADMSG;
	} else if (!prpath_pr_type_valid(p->type)) {
		return -EBADMSG;
	} else if (prpath_pr_type_all_registrants(p->type)) {
		if (p->holder != ST_NO_HOLDER || p->nreg == 0)
			return -EBADMSG;
	} else if (p->holder >= p->nreg) {
		return -EBADMSG;
	}

	p->regs = calloc(p->nreg ? p->nreg : 1, sizeof(*p->regs));
	if (!p->regs)
		return -ENOMEM;
	off = ST_HDR_LEN;
	for (uint32_t i = 0; i < p->nreg; i++) {
		struct st_reg *r = &p->regs[i];
		size_t nl;

		if (len - off < ST_REG_HDR_LEN)
			goto bad;
		r->key = prpath_get_be64(buf + off);
		r->rtp = prpath_get_be16(buf + off + 8);
		if (buf[off + 10] & ~ST_REG_ALL_TG_PT || buf[off + 11] != 0)
			goto bad;
		r->all_tg_pt = buf[off + 10] & ST_REG_ALL_TG_PT;
		nl = prpath_get_be16(buf + off + 12);
		off += ST_REG_HDR_LEN;
		if (r->key == 0 || r->rtp == 0)
			goto bad;
		/* a non-empty name, NUL only at its end */
		if (nl < 2 || nl > PRPATH_PORT_NAME_MAX || len - off < nl)
			goto bad;
		if (memchr(buf + off, 0, nl) != buf + off + nl - 1)
			goto bad;
		r->name = (const char *)buf + off;
		off += nl;
	}
	if (off != len)
		goto bad;

	/* no I_T nexus registered twice */
	if (p->nreg > 1) {
		sorted = malloc(p->nreg * sizeof(*sorted));
		if (!sorted) {
			free(p->regs);
			p->regs = NULL;
			return -ENOMEM;
		}
		memcpy(sorted, p->regs, p->nreg * sizeof(*sorted));
		qsort(sorted, p->nreg, sizeof(*sorted), st_reg_cmp);
		for (uint32_t i = 1; i < p->nreg; i++) {
			if (st_reg_cmp(&sorted[i - 1], &sorted[i]) == 0) {
				free(sorted);
				goto bad;
			}
		}
		free(sorted);
	}
	return 0;
bad:
	free(p->regs);
	p->regs = NULL;
	return -EBADMSG;
}

int ds_state_restore(struct prpath_lu *lu, const uint8_t *buf, size_t len)
{
	struct st_parsed p;
	struct itn **nt = NULL, **old = NULL, *t;
	uint32_t nold = 0, ncap = lu->nreg;
	int rc;

	if (!buf)
		return -EBADMSG;
	rc = st_parse(lu, buf, len, &p);
	if (rc < 0)
		return rc;

	rc = -ENOMEM;
	nt = calloc(p.nreg ? p.nreg : 1, sizeof(*nt));
	old = calloc(ncap ? ncap : 1, sizeof(*old));
	if (!nt || !old)
		goto out;
	/* Create every new itn first: the only step that can fail. */
	for (uint32_t i = 0; i < p.nreg; i++) {
		nt[i] = ds_itn_get(lu, p.regs[i].name, p.regs[i].rtp);
		if (!nt[i]) {
			for (uint32_t j = 0; j < i; j++)
				ds_itn_put(lu, nt[j]);
			goto out;
		}
	}

	/* From here on nothing fails. */
	lu->holder = NULL;
	lu->res_type = PRPATH_PR_TYPE_NONE;
	lu->res_scope = 0;
	while ((t = lu->reg_head) != NULL && nold < ncap) {
		ds_reg_del(lu, t);
		old[nold++] = t;
	}
	for (uint32_t i = 0; i < p.nreg; i++)
		ds_reg_add(lu, nt[i], p.regs[i].key, p.regs[i].all_tg_pt);
	for (uint32_t i = 0; i < nold; i++)
		ds_itn_put(lu, old[i]);

	lu->generation = p.generation;
	lu->aptpl = p.aptpl;
	if (p.type != PRPATH_PR_TYPE_NONE) {
		lu->res_type = p.type;
		lu->res_scope = p.scope;
		if (!prpath_pr_type_all_registrants(p.type))
			lu->holder = nt[p.holder];
	}
	rc = 0;
out:
	free(nt);
	free(old);
	free(p.regs);
	return rc;
}

/* ---- the file ----------------------------------------------------------- */

static int st_hook(struct prpath_lu *lu, const char *stage)
{
	int rc;

	if (!lu->persist_hook)
		return 0;
	rc = lu->persist_hook(lu->persist_hook_arg, stage);
	return rc < 0 ? rc : 0;
}

/* "<path><suffix>", malloc'ed */
static char *st_path(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	char *s = malloc(a + b + 1);

	if (s) {
		memcpy(s, path, a);
		memcpy(s + a, suffix, b + 1);
	}
	return s;
}

static int st_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (!slash) {
		dir = st_path(".", "");
	} else if (slash == path) {
		dir = st_path("/", "");
	} else {
		dir = malloc((size_t)(slash - path) + 1);
		if (dir) {
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = '\0';
		}
	}
	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int st_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Keeps the current file reachable as "<path>.bak" (a hard link) so that a
 * failed directory sync after the rename / unlink can put it back.
 * *had_old tells whether there was a file.
 */
static int st_backup(const char *path, const char *bak, bool *had_old)
{
	*had_old = false;
	if (unlink(bak) < 0 && errno != ENOENT)
		return -errno;
	if (link(path, bak) == 0) {
		*had_old = true;
		return 0;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Puts the old file back after a failed directory sync (best effort). */
static void st_rollback(const char *path, const char *bak, bool had_old)
{
	if (had_old)
		(void)rename(bak, path);
	else
		(void)unlink(path);
	(void)st_sync_dir(path);
}

static int st_remove(struct prpath_lu *lu, const char *path, const char *bak)
{
	bool had_old;
	int rc;

	rc = st_hook(lu, "unlink");
	if (rc < 0)
		return rc;
	rc = st_backup(path, bak, &had_old);
	if (rc < 0)
		return rc;
	if (had_old && unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
		(void)unlink(bak);
		return rc;
	}
	rc = st_hook(lu, "dirsync");
	if (rc == 0)
		rc = st_sync_dir(path);
	if (rc < 0 && had_old)
		st_rollback(path, bak, true);
	(void)unlink(bak);
	return rc;
}

static int st_replace(struct prpath_lu *lu, const char *path,
		      const char *tmp, const char *bak,
		      const uint8_t *buf, size_t len)
{
	bool had_old = false;
	int fd, rc;

	rc = st_hook(lu, "open");
	if (rc < 0)
		return rc;
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = st_hook(lu, "write");
	if (rc == 0)
		rc = st_write_all(fd, buf, len);
	if (rc == 0)
		rc = st_hook(lu, "fsync");
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0)
		rc = st_hook(lu, "rename");
	if (rc == 0)
		rc = st_backup(path, bak, &had_old);
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = -errno;
		(void)unlink(bak);
	}
	if (rc < 0) {
		(void)unlink(tmp);
		return rc;
	}
	/* the new file is in place; make it durable */
	rc = st_hook(lu, "dirsync");
	if (rc == 0)
		rc = st_sync_dir(path);
	if (rc < 0)
		st_rollback(path, bak, had_old);
	(void)unlink(bak);
	return rc;
}

int ds_state_write(struct prpath_lu *lu, const uint8_t *buf, size_t len)
{
	char *tmp, *bak;
	int rc;

	if (!lu->state_path)
		return -ENOTSUP;
	tmp = st_path(lu->state_path, ".tmp");
	bak = st_path(lu->state_path, ".bak");
	if (!tmp || !bak) {
		rc = -ENOMEM;
	} else if (!buf) {
		rc = st_remove(lu, lu->state_path, bak);
	} else {
		rc = st_replace(lu, lu->state_path, tmp, bak, buf, len);
	}
	free(tmp);
	free(bak);
	return rc;
}

/* Removes a leftover "<path><suffix>" from a crash. */
static void st_remove_leftover(const char *path, const char *suffix)
{
	char *s = st_path(path, suffix);

	if (s) {
		(void)unlink(s);
		free(s);
	}
}

/* Called by prpath_lu_new() with lu->lock held. A corrupt or unreadable
 * file is -EBADMSG and stays as it is; an APTPL=0 file is checked but not
 * restored (that state does not survive power loss). */
int ds_state_load(struct prpath_lu *lu)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;

	if (!lu->state_path)
		return 0;
	/* An interrupted write never replaced the file: drop its leftovers. */
	st_remove_leftover(lu->state_path, ".tmp");
	st_remove_leftover(lu->state_path, ".bak");

	fd = open(lu->state_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -EBADMSG;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < ST_HDR_LEN ||
	    (uint64_t)st.st_size > ST_MAX_LEN(lu->max_reg)) {
		close(fd);
		return -EBADMSG;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return -EBADMSG;
	}

	if (got >= 25 && buf[24] == 0) {
		/* APTPL=0 state does not survive power loss; still reject a
		 * corrupt file rather than guess. */
		struct st_parsed p;

		rc = st_parse(lu, buf, got, &p);
		free(p.regs);
	} else {
		rc = ds_state_restore(lu, buf, got);
	}
	free(buf);
	return rc;
}
