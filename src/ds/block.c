/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device server block commands (SBC-3/SBC-4) on the backing store: READ,
 * WRITE, VERIFY, WRITE AND VERIFY, PRE-FETCH, WRITE SAME, UNMAP, COMPARE
 * AND WRITE, SYNCHRONIZE CACHE, FORMAT UNIT and GET LBA STATUS.
 *
 * lu.c calls ds_block_exec() after the unit attention and reservation
 * checks, without lu->lock. The backing store is accessed with
 * lu->data_lock held for reading, so plain I/O runs in parallel; COMPARE
 * AND WRITE and FORMAT UNIT hold it for writing, which makes the compare
 * and the write one atomic step with respect to every other command. On
 * the memory store every modifying command holds it for writing (see
 * data_lock_modify()).
 *
 * The store is a file (or block device) accessed with pread/pwrite, or a
 * calloc'ed buffer. Unmapped blocks read back as zeros (LBPRZ=1): UNMAP and
 * WRITE SAME with UNMAP punch holes, or write zeros where the file system
 * cannot punch.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds/ds_int.h"

/* ASC/ASCQ pairs only the block commands use. */
#define DS_ASCQ_UNRECOVERED_READ_ERROR 0x1100
#define DS_ASCQ_SPACE_ALLOC_FAILED_WP 0x2707

/* Chunk size for compare, pattern and zero writes. */
#define IO_CHUNK (1u << 20)

/* ---- backing store ------------------------------------------------------ */

int ds_block_open(struct prpath_lu *lu, const struct prpath_lu_config *cfg)
{
	uint64_t size, bytes;
	struct stat st;
	bool created = false;
	int fd, err;

	lu->fd = -1;
	lu->mem = NULL;
	lu->blocks = 0;
	if (!lu->block_size)
		return -EINVAL;

	if (!cfg->path) {
		if (!cfg->size || cfg->size / lu->block_size == 0)
			return -EINVAL;
		lu->blocks = cfg->size / lu->block_size;
		if (lu->blocks > SIZE_MAX / lu->block_size)
			return -ENOMEM;
		lu->mem = calloc((size_t)lu->blocks, lu->block_size);
		if (!lu->mem) {
			lu->blocks = 0;
			return -ENOMEM;
		}
		return 0;
	}

	/* created only when missing and a size is given; a file this open
	 * created is removed again when the open fails */
	fd = open(cfg->path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && cfg->size) {
		fd = open(cfg->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		created = fd >= 0;
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	/* One device server per backing store: a second one would keep a
	 * PR state of its own for the same blocks, and two hosts could each
	 * hold "the" reservation. The lock goes with the descriptor. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t dev_size = 0;

		if (ioctl(fd, BLKGETSIZE64, &dev_size) < 0) {
			err = -errno;
			goto fail;
		}
		size = cfg->size ? cfg->size : dev_size;
		if (size > dev_size) {
			err = -ENOSPC;
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		size = cfg->size ? cfg->size : (uint64_t)st.st_size;
	} else {
		err = -ENODEV;  /* neither a regular file nor a block device */
		goto fail;
	}
	lu->blocks = size / lu->block_size;
	if (!lu->blocks) {
		err = -ERANGE;  /* smaller than one block */
		goto fail;
	}
	bytes = lu->blocks * lu->block_size;
	if (bytes > (uint64_t)INT64_MAX) {
		err = -EFBIG;
		goto fail;
	}
	/* a new or short file grows (sparsely) to the full size */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < bytes &&
	    ftruncate(fd, (off_t)bytes) < 0) {
		err = -errno;
		goto fail;
	}
	lu->fd = fd;
	return 0;
fail:
	if (created)
		unlink(cfg->path);
	close(fd);
	lu->blocks = 0;
	return err;
}

void ds_block_close(struct prpath_lu *lu)
{
	if (!lu)
		return;
	if (lu->fd >= 0)
		close(lu->fd);
	lu->fd = -1;
	free(lu->mem);
	lu->mem = NULL;
}

static int io_read(struct prpath_lu *lu, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	if (lu->mem) {
		memcpy(p, lu->mem + off, len);
		return 0;
	}
	while (len) {
		ssize_t r = pread(lu->fd, p, len, (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO; /* the file shrank under us */
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int io_write(struct prpath_lu *lu, const void *buf, size_t len,
		    uint64_t off)
{
	const uint8_t *p = buf;

	if (lu->mem) {
		memcpy(lu->mem + off, p, len);
		return 0;
	}
	while (len) {
		ssize_t r = pwrite(lu->fd, p, len, (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int io_sync(struct prpath_lu *lu)
{
	if (lu->fd < 0)
		return 0;
	while (fdatasync(lu->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Writes @nblocks copies of the one-block @pattern from byte @off. */
static int io_pattern(struct prpath_lu *lu, const uint8_t *pattern,
		      uint64_t off, uint64_t nblocks)
{
	uint32_t bs = lu->block_size;
	uint64_t per = IO_CHUNK / bs ? IO_CHUNK / bs : 1;
	uint8_t *chunk;
	uint64_t i;
	int err = 0;

	if (per > nblocks)
		per = nblocks;
	chunk = malloc((size_t)(per * bs));
	if (!chunk)
		return -ENOMEM;
	for (i = 0; i < per; i++)
		memcpy(chunk + i * bs, pattern, bs);
	while (nblocks && !err) {
		uint64_t n = nblocks < per ? nblocks : per;

		err = io_write(lu, chunk, (size_t)(n * bs), off);
		off += n * bs;
		nblocks -= n;
	}
	free(chunk);
	return err;
}

/* Zeroes @len bytes from @off. With @punch the range is deallocated where
 * the file system can (it reads back as zeros), else zeros are written. */
static int io_zero(struct prpath_lu *lu, uint64_t off, uint64_t len, bool punch)
{
	uint8_t *chunk;
	int err = 0;

	if (!len)
		return 0;
	if (lu->mem) {
		memset(lu->mem + off, 0, (size_t)len);
		return 0;
	}
	if (punch) {
		if (fallocate(lu->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len) == 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL &&
		    errno != ENODEV)
			return -errno;
	}
	chunk = calloc(1, IO_CHUNK);
	if (!chunk)
		return -ENOMEM;
	while (len && !err) {
		size_t n = len < IO_CHUNK ? (size_t)len : IO_CHUNK;

		err = io_write(lu, chunk, n, off);
		off += n;
		len -= n;
	}
	free(chunk);
	return err;
}

/* ---- helpers ------------------------------------------------------------ */

/* LBA and TRANSFER LENGTH of READ/WRITE/VERIFY/WRITE AND VERIFY/PRE-FETCH/
 * SYNCHRONIZE CACHE/WRITE SAME, by CDB group. For the 6-byte READ/WRITE a
 * count of 0 means 256 blocks. */
static void decode_lba_len(const uint8_t *cdb, uint64_t *lba, uint32_t *n)
{
	switch (cdb[0] >> 5) {
	case 0:
		*lba = ((uint64_t)(cdb[1] & 0x1f) << 16) | prpath_get_be16(cdb + 2);
		*n = cdb[4] ? cdb[4] : 256;
		break;
	case 1:
	case 2:
		*lba = prpath_get_be32(cdb + 2);
		*n = prpath_get_be16(cdb + 7);
		break;
	case 4:
		*lba = prpath_get_be64(cdb + 2);
		*n = prpath_get_be32(cdb + 10);
		break;
	case 5:
		*lba = prpath_get_be32(cdb + 2);
		*n = prpath_get_be32(cdb + 6);
		break;
	default:
		*lba = 0;
		*n = 0;
		break;
	}
}

/* true when [lba, lba + n) lies on the medium (n == 0: lba <= blocks) */
static bool range_ok(const struct prpath_lu *lu, uint64_t lba, uint64_t n)
{
	return lba <= lu->blocks && n <= lu->blocks - lba;
}

static bool xfer_ok(const struct prpath_lu *lu, uint64_t n)
{
	return n <= DS_MAX_XFER_BYTES / lu->block_size;
}

static int out_of_range(struct prpath_cmd *cmd)
{
	return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST, PRPATH_SCSI_ASCQ_LBA_OUT_OF_RANGE);
}

/*
 * The data-out buffer does not hold what the CDB says. The iSCSI target
 * always collects the full expected length (and answers an initiator that
 * sends less itself), so this only happens for in-process callers that
 * passed a short buffer: the CDB asked for a transfer the caller did not
 * provide, which we report as INVALID FIELD IN CDB.
 */
static int short_data_out(struct prpath_cmd *cmd)
{
	return ds_invalid_cdb(cmd);
}

static bool have_data_out(const struct prpath_cmd *cmd, uint64_t need)
{
	return need == 0 || (cmd->data_out && cmd->data_out_len >= need);
}

static int read_error(struct prpath_cmd *cmd)
{
	return ds_check(cmd, PRPATH_SCSI_SK_MEDIUM_ERROR, DS_ASCQ_UNRECOVERED_READ_ERROR);
}

static int write_error(struct prpath_cmd *cmd, int err)
{
	if (err == -ENOSPC || err == -EDQUOT)
		return ds_check(cmd, PRPATH_SCSI_SK_DATA_PROTECT,
				DS_ASCQ_SPACE_ALLOC_FAILED_WP);
	if (err == -ENOMEM)
		return ds_check(cmd, PRPATH_SCSI_SK_ABORTED_COMMAND,
				PRPATH_SCSI_ASCQ_INTERNAL_TARGET_FAILURE);
	return ds_check(cmd, PRPATH_SCSI_SK_MEDIUM_ERROR, PRPATH_SCSI_ASCQ_WRITE_ERROR);
}

/* MISCOMPARE 0E/1D/00 with the INFORMATION field (fixed sense, VALID=1)
 * set to the offset of the first differing byte in the data-out buffer. */
static int miscompare(struct prpath_cmd *cmd, uint64_t offset)
{
	ds_check(cmd, PRPATH_SCSI_SK_MISCOMPARE, PRPATH_SCSI_ASCQ_MISCOMPARE_DURING_VERIFY);
	if (cmd->sense_len >= 7 && (cmd->sense[0] & 0x7e) == 0x70) {
		cmd->sense[0] |= 0x80;
		prpath_put_be32(cmd->sense + 3,
				offset > UINT32_MAX ? UINT32_MAX : (uint32_t)offset);
	}
	return 0;
}

static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return i;
	return len;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- commands ----------------------------------------------------------- */

/* Takes data_lock for a command that modifies the store. The file store is
 * written with pwrite(), which the kernel orders against other I/O, so
 * writers share the lock; the memory store is written with memcpy(), where
 * two overlapping writes, or a write and a read, would be a data race: a
 * writer there holds the lock exclusively. */
static void data_lock_modify(struct prpath_lu *lu)
{
	if (lu->mem)
		pthread_rwlock_wrlock(&lu->data_lock);
	else
		pthread_rwlock_rdlock(&lu->data_lock);
}

static int do_read(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba, len;
	size_t want;
	uint32_t n;
	int err;

	decode_lba_len(cdb, &lba, &n);
	if (cdb[0] != PRPATH_SCSI_OP_READ6 && (cdb[1] & 0xe0))
		return ds_invalid_cdb(cmd); /* RDPROTECT: no protection information */
	if (!xfer_ok(lu, n))
		return ds_invalid_cdb(cmd);
	if (!range_ok(lu, lba, n))
		return out_of_range(cmd);
	len = (uint64_t)n * lu->block_size;
	want = len < cmd->data_in_cap ? (size_t)len : cmd->data_in_cap;
	if (!cmd->data_in)
		want = 0;
	pthread_rwlock_rdlock(&lu->data_lock);
	err = io_read(lu, cmd->data_in, want, lba * lu->block_size);
	pthread_rwlock_unlock(&lu->data_lock);
	if (err)
		return read_error(cmd);
	ds_good(cmd);
	cmd->data_in_len = want;
	return 0;
}

/* WRITE(6/10/12/16) and WRITE AND VERIFY(10/12/16). */
static int do_write(struct prpath_lu *lu, struct prpath_cmd *cmd, bool verify)
{
	const uint8_t *cdb = cmd->cdb;
	bool six = cdb[0] == PRPATH_SCSI_OP_WRITE6;
	bool fua = !six && !verify && (cdb[1] & 0x08);
	uint64_t lba, len;
	uint32_t n;
	int err;

	decode_lba_len(cdb, &lba, &n);
	if (!six && (cdb[1] & 0xe0))
		return ds_invalid_cdb(cmd); /* WRPROTECT */
	if (verify && ((cdb[1] >> 1) & 3) == 2)
		return ds_invalid_cdb(cmd); /* BYTCHK 10b is reserved */
	if (!xfer_ok(lu, n))
		return ds_invalid_cdb(cmd);
	if (!range_ok(lu, lba, n))
		return out_of_range(cmd);
	len = (uint64_t)n * lu->block_size;
	if (!have_data_out(cmd, len))
		return short_data_out(cmd);
	if (!len)
		return ds_good(cmd);
	data_lock_modify(lu);
	err = io_write(lu, cmd->data_out, (size_t)len, lba * lu->block_size);
	/* FUA, and the verify of WRITE AND VERIFY, mean "on the medium" */
	if (!err && (fua || verify))
		err = io_sync(lu);
	pthread_rwlock_unlock(&lu->data_lock);
	if (err)
		return write_error(cmd, err);
	return ds_good(cmd);
}

/* VERIFY(10/12/16): BYTCHK 00b checks the range only, 01b compares the
 * data-out buffer with the medium, 11b compares one data-out block with
 * every block of the range. */
static int do_verify(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	unsigned bytchk = (cdb[1] >> 1) & 3;
	uint32_t bs = lu->block_size;
	uint64_t lba, off, done, total;
	uint8_t *buf;
	uint32_t n;
	int err = 0;
	size_t d;

	decode_lba_len(cdb, &lba, &n);
	if (cdb[1] & 0xe0)
		return ds_invalid_cdb(cmd); /* VRPROTECT */
	if (bytchk == 2)
		return ds_invalid_cdb(cmd);
	if (bytchk == 1 && !xfer_ok(lu, n))
		return ds_invalid_cdb(cmd);
	if (!range_ok(lu, lba, n))
		return out_of_range(cmd);
	if (!bytchk || !n)
		return ds_good(cmd);
	if (!have_data_out(cmd, bytchk == 1 ? (uint64_t)n * bs : bs))
		return short_data_out(cmd);

	buf = malloc(IO_CHUNK > bs ? IO_CHUNK : bs);
	if (!buf)
		return write_error(cmd, -ENOMEM);
	total = (uint64_t)n * bs;
	off = lba * bs;
	pthread_rwlock_rdlock(&lu->data_lock);
	for (done = 0; done < total; ) {
		size_t chunk = bytchk == 1 ?
			(total - done < IO_CHUNK ? (size_t)(total - done) : IO_CHUNK) : bs;
		const uint8_t *ref = bytchk == 1 ? cmd->data_out + done :
						   cmd->data_out;

		err = io_read(lu, buf, chunk, off + done);
		if (err)
			break;
		d = first_diff(ref, buf, chunk);
		if (d < chunk) {
			pthread_rwlock_unlock(&lu->data_lock);
			free(buf);
			/* offset into the data-out buffer */
			return miscompare(cmd, bytchk == 1 ? done + d : d);
		}
		done += chunk;
	}
	pthread_rwlock_unlock(&lu->data_lock);
	free(buf);
	if (err)
		return read_error(cmd);
	return ds_good(cmd);
}

/* PRE-FETCH(10/16): the whole range "fits in the cache": CONDITION MET. */
static int do_prefetch(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	uint64_t lba;
	uint32_t n;

	decode_lba_len(cmd->cdb, &lba, &n);
	if (!range_ok(lu, lba, n))
		return out_of_range(cmd);
	if (lu->fd >= 0) {
		uint64_t cnt = n ? n : lu->blocks - lba;

		(void)posix_fadvise(lu->fd, (off_t)(lba * lu->block_size),
				    (off_t)(cnt * lu->block_size),
				    POSIX_FADV_WILLNEED);
	}
	ds_good(cmd);
	cmd->status = PRPATH_SCSI_STATUS_CONDITION_MET;
	return 0;
}

/* SYNCHRONIZE CACHE(10/16): NUMBER OF LOGICAL BLOCKS 0 = to the end. */
static int do_sync(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	uint64_t lba;
	uint32_t n;
	int err;

	decode_lba_len(cmd->cdb, &lba, &n);
	if (!range_ok(lu, lba, n))
		return out_of_range(cmd);
	err = io_sync(lu);
	if (err)
		return write_error(cmd, err);
	return ds_good(cmd);
}

/* WRITE SAME(10/16). WSNZ=1: a NUMBER OF LOGICAL BLOCKS of 0 is refused. */
static int do_write_same(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool ws16 = cdb[0] == PRPATH_SCSI_OP_WRITE_SAME16;
	bool unmap = cdb[1] & 0x08;
	bool ndob = ws16 && (cdb[1] & 0x01);
	uint32_t bs = lu->block_size;
	const uint8_t *pattern = NULL;
	uint64_t lba;
	uint32_t n;
	int err;

	decode_lba_len(cdb, &lba, &n);
	/* WRPROTECT, ANCHOR (ANC_SUP=0), PBDATA/LBDATA (obsolete), and
	 * bit 0 of WRITE SAME(10) (reserved) */
	if (cdb[1] & (0xe0 | 0x10 | 0x06 | (ws16 ? 0 : 0x01)))
		return ds_invalid_cdb(cmd);
	if (!n || n > DS_MAX_WS_BLOCKS)
		return ds_invalid_cdb(cmd);
	if (!range_ok(lu, lba, n))
		return out_of_range(cmd);
	if (!ndob) {
		if (!have_data_out(cmd, bs))
			return short_data_out(cmd);
		pattern = cmd->data_out;
	}
	data_lock_modify(lu);
	if (!pattern || all_zero(pattern, bs))
		/* zeros; with UNMAP deallocate (reads back zeros, LBPRZ=1) */
		err = io_zero(lu, lba * bs, (uint64_t)n * bs, unmap);
	else
		err = io_pattern(lu, pattern, lba * bs, n);
	pthread_rwlock_unlock(&lu->data_lock);
	if (err)
		return write_error(cmd, err);
	return ds_good(cmd);
}

/* UNMAP: 8-byte header, then 16-byte block descriptors (LBA, count). */
static int do_unmap(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint32_t plen = prpath_get_be16(cdb + 7);
	uint32_t bs = lu->block_size;
	const uint8_t *p;
	size_t bddl, ndesc, i;
	int err = 0;

	if (cdb[1] & 0x01)
		return ds_invalid_cdb(cmd); /* ANCHOR: ANC_SUP=0 */
	if (!plen)
		return ds_good(cmd);
	if (plen < 8)
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR);
	if (!have_data_out(cmd, plen))
		return short_data_out(cmd);
	p = cmd->data_out;
	bddl = prpath_get_be16(p + 2);
	/* descriptors cut by the PARAMETER LIST LENGTH */
	if (bddl > plen - 8)
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR);
	/* the UNMAP DATA LENGTH must cover the descriptors it announces */
	if (prpath_get_be16(p) < bddl + 6 && bddl)
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				PRPATH_SCSI_ASCQ_PARAM_LIST_LENGTH_ERROR);
	/* a partial trailing descriptor is ignored (SBC) */
	ndesc = bddl / 16;
	if (ndesc > DS_MAX_UNMAP_DESC)
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
	/* validate everything before unmapping anything */
	for (i = 0; i < ndesc; i++) {
		const uint8_t *d = p + 8 + 16 * i;
		uint64_t lba = prpath_get_be64(d);
		uint32_t cnt = prpath_get_be32(d + 8);

		if (cnt > DS_MAX_UNMAP_BLOCKS)
			return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
					PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
		if (!range_ok(lu, lba, cnt))
			return out_of_range(cmd);
	}
	data_lock_modify(lu);
	for (i = 0; i < ndesc && !err; i++) {
		const uint8_t *d = p + 8 + 16 * i;

		err = io_zero(lu, prpath_get_be64(d) * bs,
			      (uint64_t)prpath_get_be32(d + 8) * bs, true);
	}
	pthread_rwlock_unlock(&lu->data_lock);
	if (err)
		return write_error(cmd, err);
	return ds_good(cmd);
}

/* COMPARE AND WRITE: data-out holds n verify blocks then n write blocks.
 * Runs with data_lock held for writing: no other command touches the
 * medium between the compare and the write. */
static int do_caw(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba = prpath_get_be64(cdb + 2);
	uint32_t n = cdb[13];
	uint32_t bs = lu->block_size;
	bool fua = cdb[1] & 0x08;
	uint8_t *buf;
	size_t len, d;
	int err;

	if (cdb[1] & 0xe0)
		return ds_invalid_cdb(cmd); /* WRPROTECT */
	if (n > DS_MAX_CAW_BLOCKS)
		return ds_invalid_cdb(cmd);
	if (!range_ok(lu, lba, n))
		return out_of_range(cmd);
	if (!n)
		return ds_good(cmd);
	len = (size_t)n * bs;
	if (!have_data_out(cmd, 2 * (uint64_t)len))
		return short_data_out(cmd);
	buf = malloc(len);
	if (!buf)
		return write_error(cmd, -ENOMEM);

	pthread_rwlock_wrlock(&lu->data_lock);
	err = io_read(lu, buf, len, lba * bs);
	if (err) {
		pthread_rwlock_unlock(&lu->data_lock);
		free(buf);
		return read_error(cmd);
	}
	d = first_diff(cmd->data_out, buf, len);
	if (d < len) {
		pthread_rwlock_unlock(&lu->data_lock);
		free(buf);
		return miscompare(cmd, d);
	}
	err = io_write(lu, cmd->data_out + len, len, lba * bs);
	if (!err && fua)
		err = io_sync(lu);
	pthread_rwlock_unlock(&lu->data_lock);
	free(buf);
	if (err)
		return write_error(cmd, err);
	return ds_good(cmd);
}

/* FORMAT UNIT: no protection information, no defect lists, no
 * initialization pattern. The medium is deallocated (reads as zeros). */
static int do_format(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	bool fmtdata = cdb[1] & 0x10;
	bool longlist = cdb[1] & 0x20;
	int err;

	if (cdb[1] & 0xc0)
		return ds_invalid_cdb(cmd); /* FMTPINFO */
	if (fmtdata) {
		size_t hlen = longlist ? 8 : 4;
		const uint8_t *h = cmd->data_out;
		uint32_t dll;

		if (!have_data_out(cmd, hlen))
			return short_data_out(cmd);
		dll = longlist ? prpath_get_be32(h + 4) : prpath_get_be16(h + 2);
		/* IP (initialization pattern) or a defect list: unsupported */
		if ((h[1] & 0x08) || dll)
			return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
					PRPATH_SCSI_ASCQ_INVALID_FIELD_IN_PARAM_LIST);
	}
	pthread_rwlock_wrlock(&lu->data_lock);
	err = io_zero(lu, 0, lu->blocks * lu->block_size, true);
	if (!err)
		err = io_sync(lu);
	pthread_rwlock_unlock(&lu->data_lock);
	if (err)
		return write_error(cmd, err);
	return ds_good(cmd);
}

/* The extent that starts at block @cur: mapped or not, up to block *end. */
static void lba_extent(struct prpath_lu *lu, uint64_t cur, bool *mapped,
		       uint64_t *end)
{
	uint64_t bs = lu->block_size, off = cur * bs;
	off_t d, h;

	*mapped = true;
	*end = lu->blocks;
	if (lu->fd < 0)
		return;
	d = lseek(lu->fd, (off_t)off, SEEK_DATA);
	if (d < 0) {
		/* ENXIO: nothing but hole up to the end of the file */
		if (errno == ENXIO)
			*mapped = false;
		return;
	}
	if ((uint64_t)d >= off + bs) {
		/* at least one whole block of hole */
		*mapped = false;
		if ((uint64_t)d / bs < *end)
			*end = (uint64_t)d / bs;
		return;
	}
	h = lseek(lu->fd, d, SEEK_HOLE);
	if (h < 0)
		return;
	/* a block that holds any data is mapped */
	if (((uint64_t)h + bs - 1) / bs < *end)
		*end = ((uint64_t)h + bs - 1) / bs;
	if (*end <= cur)
		*end = cur + 1;
}

#define LBA_STATUS_MAX_DESC 64

static int do_get_lba_status(struct prpath_lu *lu, struct prpath_cmd *cmd)
{
	const uint8_t *cdb = cmd->cdb;
	uint64_t lba = prpath_get_be64(cdb + 2);
	uint32_t alloc = prpath_get_be32(cdb + 10);
	uint8_t buf[8 + 16 * LBA_STATUS_MAX_DESC];
	size_t nd = 0, maxd, total;
	uint64_t cur;

	if (lba >= lu->blocks)
		return out_of_range(cmd);
	/* as many descriptors as the allocation length holds (at least one,
	 * cut at the allocation length if need be) */
	maxd = alloc > 8 ? (alloc - 8) / 16 : 0;
	if (maxd < 1)
		maxd = 1;
	if (maxd > LBA_STATUS_MAX_DESC)
		maxd = LBA_STATUS_MAX_DESC;
	memset(buf, 0, sizeof(buf));

	pthread_rwlock_rdlock(&lu->data_lock);
	for (cur = lba; cur < lu->blocks; ) {
		bool mapped;
		uint64_t end, cnt;
		uint8_t *dp;

		lba_extent(lu, cur, &mapped, &end);
		cnt = end - cur;
		if (cnt > UINT32_MAX)
			cnt = UINT32_MAX;
		/* the previous descriptor, only formed when there is one:
		 * buf + 8 - 16 is outside the array (undefined even unread) */
		dp = nd ? buf + 8 + 16 * (nd - 1) : NULL;
		if (dp && (dp[12] == 0) == mapped &&
		    prpath_get_be64(dp) + prpath_get_be32(dp + 8) == cur &&
		    prpath_get_be32(dp + 8) + cnt <= UINT32_MAX) {
			/* merge with the previous extent of the same state */
			prpath_put_be32(dp + 8, (uint32_t)(prpath_get_be32(dp + 8) + cnt));
		} else {
			if (nd == maxd)
				break;
			dp = buf + 8 + 16 * nd++;
			prpath_put_be64(dp, cur);
			prpath_put_be32(dp + 8, (uint32_t)cnt);
			dp[12] = mapped ? 0x0 : 0x1; /* mapped / deallocated */
		}
		cur += cnt;
	}
	pthread_rwlock_unlock(&lu->data_lock);

	total = 8 + 16 * nd;
	prpath_put_be32(buf, (uint32_t)(total - 4));
	ds_good(cmd);
	ds_data_in(cmd, buf, total < alloc ? total : alloc);
	return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

int ds_block_exec(struct prpath_nexus *nx, struct prpath_cmd *cmd)
{
	struct prpath_lu *lu = nx->lu;
	const uint8_t *cdb = cmd->cdb; /* lu.c checked its length */

	switch (cdb[0]) {
	case PRPATH_SCSI_OP_READ6:
	case PRPATH_SCSI_OP_READ10:
	case PRPATH_SCSI_OP_READ12:
	case PRPATH_SCSI_OP_READ16:
		return do_read(lu, cmd);
	case PRPATH_SCSI_OP_WRITE6:
	case PRPATH_SCSI_OP_WRITE10:
	case PRPATH_SCSI_OP_WRITE12:
	case PRPATH_SCSI_OP_WRITE16:
		return do_write(lu, cmd, false);
	case PRPATH_SCSI_OP_WRITE_VERIFY10:
	case PRPATH_SCSI_OP_WRITE_VERIFY12:
	case PRPATH_SCSI_OP_WRITE_VERIFY16:
		return do_write(lu, cmd, true);
	case PRPATH_SCSI_OP_VERIFY10:
	case PRPATH_SCSI_OP_VERIFY12:
	case PRPATH_SCSI_OP_VERIFY16:
		return do_verify(lu, cmd);
	case PRPATH_SCSI_OP_PRE_FETCH10:
	case PRPATH_SCSI_OP_PRE_FETCH16:
		return do_prefetch(lu, cmd);
	case PRPATH_SCSI_OP_SYNCHRONIZE_CACHE10:
	case PRPATH_SCSI_OP_SYNCHRONIZE_CACHE16:
		return do_sync(lu, cmd);
	case PRPATH_SCSI_OP_WRITE_SAME10:
	case PRPATH_SCSI_OP_WRITE_SAME16:
		return do_write_same(lu, cmd);
	case PRPATH_SCSI_OP_UNMAP:
		return do_unmap(lu, cmd);
	case PRPATH_SCSI_OP_COMPARE_AND_WRITE:
		return do_caw(lu, cmd);
	case PRPATH_SCSI_OP_FORMAT_UNIT:
		return do_format(lu, cmd);
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16:
		switch (cdb[1] & 0x1f) {
		case PRPATH_SCSI_SAI_GET_LBA_STATUS:
			return do_get_lba_status(lu, cmd);
		case PRPATH_SCSI_SAI_READ_CAPACITY16:
			return ds_info_exec(nx, cmd);
		default:
			return ds_invalid_cdb(cmd);
		}
	default:
		return ds_check(cmd, PRPATH_SCSI_SK_ILLEGAL_REQUEST,
				PRPATH_SCSI_ASCQ_INVALID_OPCODE);
	}
}

int ds_block_xfer(const struct prpath_lu *lu, const uint8_t *cdb, size_t len,
		  uint64_t *bytes, bool *is_write)
{
	uint32_t bs = lu->block_size;
	uint64_t lba;
	uint32_t n;

	if (!cdb || !len || len < ds_cdb_len(cdb[0]) || !ds_cdb_len(cdb[0]))
		return -EINVAL;
	*bytes = 0;
	*is_write = false;
	switch (cdb[0]) {
	case PRPATH_SCSI_OP_READ6:
	case PRPATH_SCSI_OP_READ10:
	case PRPATH_SCSI_OP_READ12:
	case PRPATH_SCSI_OP_READ16:
		decode_lba_len(cdb, &lba, &n);
		*bytes = (uint64_t)n * bs;
		return 0;
	case PRPATH_SCSI_OP_WRITE6:
	case PRPATH_SCSI_OP_WRITE10:
	case PRPATH_SCSI_OP_WRITE12:
	case PRPATH_SCSI_OP_WRITE16:
	case PRPATH_SCSI_OP_WRITE_VERIFY10:
	case PRPATH_SCSI_OP_WRITE_VERIFY12:
	case PRPATH_SCSI_OP_WRITE_VERIFY16:
		decode_lba_len(cdb, &lba, &n);
		*bytes = (uint64_t)n * bs;
		*is_write = true;
		return 0;
	case PRPATH_SCSI_OP_VERIFY10:
	case PRPATH_SCSI_OP_VERIFY12:
	case PRPATH_SCSI_OP_VERIFY16:
		decode_lba_len(cdb, &lba, &n);
		switch ((cdb[1] >> 1) & 3) {
		case 1:
			*bytes = (uint64_t)n * bs;
			break;
		case 3:
			*bytes = n ? bs : 0;
			break;
		default:
			break;
		}
		*is_write = *bytes != 0;
		return 0;
	case PRPATH_SCSI_OP_PRE_FETCH10:
	case PRPATH_SCSI_OP_PRE_FETCH16:
	case PRPATH_SCSI_OP_SYNCHRONIZE_CACHE10:
	case PRPATH_SCSI_OP_SYNCHRONIZE_CACHE16:
		return 0;
	case PRPATH_SCSI_OP_WRITE_SAME10:
		*bytes = bs;
		*is_write = true;
		return 0;
	case PRPATH_SCSI_OP_WRITE_SAME16:
		*bytes = (cdb[1] & 0x01) ? 0 : bs; /* NDOB */
		*is_write = *bytes != 0;
		return 0;
	case PRPATH_SCSI_OP_UNMAP:
		*bytes = prpath_get_be16(cdb + 7);
		*is_write = *bytes != 0;
		return 0;
	case PRPATH_SCSI_OP_COMPARE_AND_WRITE:
		*bytes = 2 * (uint64_t)cdb[13] * bs;
		*is_write = *bytes != 0;
		return 0;
	case PRPATH_SCSI_OP_FORMAT_UNIT:
		/* the parameter list header; an initiator sending a defect list
		 * says so in its expected transfer length */
		if (cdb[1] & 0x10)
			*bytes = (cdb[1] & 0x20) ? 8 : 4;
		*is_write = *bytes != 0;
		return 0;
	case PRPATH_SCSI_OP_SERVICE_ACTION_IN16:
		if ((cdb[1] & 0x1f) == PRPATH_SCSI_SAI_GET_LBA_STATUS) {
			*bytes = prpath_get_be32(cdb + 10);
			return 0;
		}
		if ((cdb[1] & 0x1f) == PRPATH_SCSI_SAI_READ_CAPACITY16)
			return ds_info_xfer(lu, cdb, len, bytes, is_write);
		return -EINVAL;
	default:
		return -EINVAL;
	}
}
