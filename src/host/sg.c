/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux SG_IO transport: /dev/sg* (SCSI generic) or /dev/sd* (the block
 * layer's SG_IO). One device node is one path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <prpath/scsi.h>
#include "host/sg.h"
#include "host/url.h"

#define SG_MIN_VERSION 30000 /* sg v3 interface (sg_io_hdr) */

struct pp_sg_conn {
	struct pp_conn conn; /* first */
	pthread_mutex_t lock;
	int fd;              /* -1 while closed */
	unsigned timeout_ms;
	char dev[256];
	char desc[272];
};

static const struct pp_transport_ops sg_ops;

/* Linux host byte values (include/scsi/scsi_status.h, DID_*). */
int pp_sg_map_host_status(unsigned host_status)
{
	switch (host_status) {
	case 0x00: return 0;            /* DID_OK */
	case 0x01: return -ENOTCONN;    /* DID_NO_CONNECT */
	case 0x02: return -EBUSY;       /* DID_BUS_BUSY */
	case 0x03: return -ETIMEDOUT;   /* DID_TIME_OUT */
	case 0x04: return -ENODEV;      /* DID_BAD_TARGET */
	case 0x05: return -ECANCELED;   /* DID_ABORT */
	case 0x06: return -EIO;         /* DID_PARITY */
	case 0x07: return -EIO;         /* DID_ERROR */
	case 0x08: return -ECONNRESET;  /* DID_RESET */
	case 0x09: return -EINTR;       /* DID_BAD_INTR */
	case 0x0b: return -EAGAIN;      /* DID_SOFT_ERROR */
	case 0x0c: return -EAGAIN;      /* DID_IMM_RETRY */
	case 0x0d: return -EAGAIN;      /* DID_REQUEUE */
	case 0x0e: return -ECONNRESET;  /* DID_TRANSPORT_DISRUPTED */
	case 0x0f: return -ENOTCONN;    /* DID_TRANSPORT_FAILFAST */
	case 0x12: return -ENOMEM;      /* DID_ALLOC_FAILURE */
	default: return -EIO;
	}
}

/* Linux driver byte (low nibble, DRIVER_*). DRIVER_SENSE is not an error:
 * the sense buffer holds the device's answer. */
int pp_sg_map_driver_status(unsigned driver_status)
{
	switch (driver_status & 0x0f) {
	case 0x00: return 0;            /* DRIVER_OK */
	case 0x01: return -EBUSY;       /* DRIVER_BUSY */
	case 0x02: return -EAGAIN;      /* DRIVER_SOFT */
	case 0x03: return -EIO;         /* DRIVER_MEDIA */
	case 0x04: return -EIO;         /* DRIVER_ERROR */
	case 0x05: return -EINVAL;      /* DRIVER_INVALID */
	case 0x06: return -ETIMEDOUT;   /* DRIVER_TIMEOUT */
	case 0x07: return -EIO;         /* DRIVER_HARD */
	case 0x08: return 0;            /* DRIVER_SENSE */
	default: return -EIO;
	}
}

/* Opens and checks @dev; returns the fd or a negative errno (with the
 * thread's transport error set). */
static int sg_open_dev(const char *dev)
{
	struct stat st;
	int fd, ver = 0;

	fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		switch (e) {
		case ENOENT:
			pp_transport_set_error("%s: no such device", dev);
			break;
		case EACCES:
		case EPERM:
			pp_transport_set_error("%s: permission denied (SG_IO needs read/write access, usually root)",
					       dev);
			break;
		default:
			pp_transport_set_error("%s: cannot open: %s", dev,
					       strerror(e));
			break;
		}
		return -e;
	}
	if (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
		pp_transport_set_error("%s: not a device node", dev);
		close(fd);
		return -ENOTTY;
	}
	if (ioctl(fd, SG_GET_VERSION_NUM, &ver) < 0) {
		int e = errno;

		pp_transport_set_error("%s: not a SCSI device that takes SG_IO (%s)",
				       dev, strerror(e));
		close(fd);
		return -ENOTTY;
	}
	if (ver < SG_MIN_VERSION) {
		pp_transport_set_error("%s: SCSI generic driver version %d is too old (need %d)",
				       dev, ver, SG_MIN_VERSION);
		close(fd);
		return -ENOTTY;
	}
	return fd;
}

static int sg_execute(struct pp_conn *conn, struct pp_io *io)
{
	struct pp_sg_conn *c = (struct pp_sg_conn *)conn;
	struct sg_io_hdr h;
	unsigned char cdb[16];
	int rc;

	if (!io || io->cdb_len == 0 || io->cdb_len > sizeof(io->cdb))
		return -EINVAL;
	io->din_len = 0;
	io->status = 0;
	io->sense_len = 0;

	memset(&h, 0, sizeof(h));
	memcpy(cdb, io->cdb, io->cdb_len);
	h.interface_id = 'S';
	h.cmdp = cdb;
	h.cmd_len = (unsigned char)io->cdb_len;
	h.sbp = io->sense;
	h.mx_sb_len = sizeof(io->sense) > 255 ? 255 : (unsigned char)sizeof(io->sense);
	h.timeout = io->timeout_ms ? io->timeout_ms : c->timeout_ms;
	if (io->dout && io->dout_len) {
		if (io->din && io->din_cap)
			return -EINVAL; /* bidirectional: not supported */
		if (io->dout_len > 0x7fffffff)
			return -EINVAL;
		h.dxfer_direction = SG_DXFER_TO_DEV;
		h.dxferp = (void *)(uintptr_t)io->dout;
		h.dxfer_len = (unsigned)io->dout_len;
	} else if (io->din && io->din_cap) {
		if (io->din_cap > 0x7fffffff)
			return -EINVAL;
		h.dxfer_direction = SG_DXFER_FROM_DEV;
		h.dxferp = io->din;
		h.dxfer_len = (unsigned)io->din_cap;
	} else {
		h.dxfer_direction = SG_DXFER_NONE;
	}

	pthread_mutex_lock(&c->lock);
	if (c->fd < 0) {
		pthread_mutex_unlock(&c->lock);
		return -ENOTCONN;
	}
	rc = ioctl(c->fd, SG_IO, &h);
	if (rc < 0)
		rc = -errno;
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		return rc;

	rc = pp_sg_map_host_status(h.host_status);
	if (rc == 0)
		rc = pp_sg_map_driver_status(h.driver_status);
	if (rc < 0)
		return rc;
	io->status = h.status;
	io->sense_len = h.sb_len_wr;
	if (h.dxfer_direction == SG_DXFER_FROM_DEV) {
		int got = (int)h.dxfer_len - h.resid;

		io->din_len = got > 0 ? (size_t)got : 0;
	}
	return 0;
}

static int sg_reconnect(struct pp_conn *conn)
{
	struct pp_sg_conn *c = (struct pp_sg_conn *)conn;
	int fd;

	fd = sg_open_dev(c->dev);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void sg_close(struct pp_conn *conn)
{
	struct pp_sg_conn *c = (struct pp_sg_conn *)conn;

	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const char *sg_describe(const struct pp_conn *conn)
{
	return ((const struct pp_sg_conn *)conn)->desc;
}

static const struct pp_transport_ops sg_ops = {
	.name = "sg",
	.execute = sg_execute,
	.reconnect = sg_reconnect,
	.close = sg_close,
	.describe = sg_describe,
};

int pp_sg_open(const char *dev, unsigned timeout_ms, struct pp_conn **out)
{
	struct pp_sg_conn *c;
	int fd, rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	pp_transport_clear_error();
	if (!dev || dev[0] != '/' || strlen(dev) >= sizeof(c->dev)) {
		pp_transport_set_error("'%s': SG_IO needs an absolute device path",
				       dev ? dev : "(null)");
		return -EINVAL;
	}
	fd = sg_open_dev(dev);
	if (fd < 0)
		return fd;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	rc = pthread_mutex_init(&c->lock, NULL);
	if (rc) {
		close(fd);
		free(c);
		return -rc;
	}
	c->conn.ops = &sg_ops;
	c->fd = fd;
	c->timeout_ms = timeout_ms ? timeout_ms : PP_SG_DEFAULT_TIMEOUT_MS;
	snprintf(c->dev, sizeof(c->dev), "%s", dev);
	snprintf(c->desc, sizeof(c->desc), "sg:%s", dev);
	*out = &c->conn;
	return 0;
}
