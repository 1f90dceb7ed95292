/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One error convention for the whole library (see prpath.h): 0 success,
 * negative errno, positive enum prpath_err. prpath_strerror() describes any
 * of them without touching shared buffers, so it is thread safe.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <prpath/prpath.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const prpath_err_text[PRPATH_ERR__MAX] = {
	[PRPATH_ERR_CONFLICT] = "reservation conflict",
	[PRPATH_ERR_UNIT_ATTENTION] = "unit attention",
	[PRPATH_ERR_NOT_READY] = "logical unit not ready",
	[PRPATH_ERR_ILLEGAL_REQUEST] = "illegal request (the device rejected the command)",
	[PRPATH_ERR_ABORTED] = "command aborted",
	[PRPATH_ERR_BUSY] = "device busy",
	[PRPATH_ERR_MEDIUM] = "medium or hardware error",
	[PRPATH_ERR_MISCOMPARE] = "miscompare",
	[PRPATH_ERR_CHECK_OTHER] = "check condition",
	[PRPATH_ERR_RESERVED] = "reserved by another host",
	[PRPATH_ERR_FENCED] = "this host has been fenced (its key was removed)",
	[PRPATH_ERR_NO_PATH] = "no usable path",
	[PRPATH_ERR_PARTIAL] = "done on some paths only",
	[PRPATH_ERR_BAD_RESPONSE] = "malformed response from the device",
	[PRPATH_ERR_NOT_HOLDER] = "this host does not hold the LU's reservation",
	[PRPATH_ERR_HELD_OTHERWISE] = "this host already holds the LU with another mode or reservation type",
	[PRPATH_ERR_OTHER_KEYS] = "other hosts' keys are registered on the LU",
	[PRPATH_ERR_KEY_SHARED] = "this host's key is registered by another initiator too",
};

#if !(defined(__GLIBC__) && \
      (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32)))
/* Fallback when strerrordesc_np() is missing: the errnos prpath returns. */
static const char *errno_text(int e)
{
	switch (e) {
	case EPERM: return "Operation not permitted";
	case ENOENT: return "No such file or directory";
	case EINTR: return "Interrupted system call";
	case EIO: return "Input/output error";
	case ENXIO: return "No such device or address";
	case E2BIG: return "Argument list too long";
	case EBADF: return "Bad file descriptor";
	case EAGAIN: return "Resource temporarily unavailable";
	case ENOMEM: return "Cannot allocate memory";
	case EACCES: return "Permission denied";
	case EFAULT: return "Bad address";
	case EBUSY: return "Device or resource busy";
	case EEXIST: return "File exists";
	case ENODEV: return "No such device";
	case ENOTDIR: return "Not a directory";
	case EISDIR: return "Is a directory";
	case EINVAL: return "Invalid argument";
	case EMFILE: return "Too many open files";
	case EFBIG: return "File too large";
	case ENOSPC: return "No space left on device";
	case EROFS: return "Read-only file system";
	case EPIPE: return "Broken pipe";
	case ERANGE: return "Numerical result out of range";
	case ENAMETOOLONG: return "File name too long";
	case ENOSYS: return "Function not implemented";
	case ENODATA: return "No data available";
	case ETIME: return "Timer expired";
	case EPROTO: return "Protocol error";
	case EBADMSG: return "Bad message";
	case EOVERFLOW: return "Value too large for defined data type";
	case EPROTONOSUPPORT: return "Protocol not supported";
	case EOPNOTSUPP: return "Operation not supported";
	case EADDRINUSE: return "Address already in use";
	case EADDRNOTAVAIL: return "Cannot assign requested address";
	case ENETUNREACH: return "Network is unreachable";
	case ECONNABORTED: return "Software caused connection abort";
	case ECONNRESET: return "Connection reset by peer";
	case ENOTCONN: return "Transport endpoint is not connected";
	case ETIMEDOUT: return "Connection timed out";
	case ECONNREFUSED: return "Connection refused";
	case EHOSTUNREACH: return "No route to host";
	case EALREADY: return "Operation already in progress";
	case EINPROGRESS: return "Operation now in progress";
	case ECANCELED: return "Operation canceled";
	case ESHUTDOWN: return "Cannot send after transport endpoint shutdown";
	default: return NULL;
	}
}
#endif

const char *prpath_strerror(int err)
{
	const char *s;

	if (err == 0)
		return "success";
	if (err > 0) {
		if (err < PRPATH_ERR__MAX && prpath_err_text[err])
			return prpath_err_text[err];
		return "unknown prpath error";
	}
	if (err == INT_MIN)
		return "unknown error";
#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	s = strerrordesc_np(-err);
#else
	s = errno_text(-err);
#endif
	return s ? s : "unknown error";
}

int prpath_err_from_sense_cat(enum prpath_sense_cat cat)
{
	switch (cat) {
	case PRPATH_SENSE_OK:
	case PRPATH_SENSE_RECOVERED:
		return 0;
	case PRPATH_SENSE_UNIT_ATTENTION:
		return PRPATH_ERR_UNIT_ATTENTION;
	case PRPATH_SENSE_RESERVATION_CONFLICT:
		return PRPATH_ERR_CONFLICT;
	case PRPATH_SENSE_NOT_READY:
		return PRPATH_ERR_NOT_READY;
	case PRPATH_SENSE_ILLEGAL_REQUEST:
		return PRPATH_ERR_ILLEGAL_REQUEST;
	case PRPATH_SENSE_ABORTED:
		return PRPATH_ERR_ABORTED;
	case PRPATH_SENSE_BUSY:
		return PRPATH_ERR_BUSY;
	case PRPATH_SENSE_MEDIUM:
		return PRPATH_ERR_MEDIUM;
	case PRPATH_SENSE_MISCOMPARE:
		return PRPATH_ERR_MISCOMPARE;
	case PRPATH_SENSE_OTHER:
	default:
		return PRPATH_ERR_CHECK_OTHER;
	}
}

const char *prpath_version(void)
{
	return STR(PRPATH_VERSION_MAJOR) "." STR(PRPATH_VERSION_MINOR) "."
	       STR(PRPATH_VERSION_PATCH);
}
