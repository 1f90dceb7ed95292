/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef PRPATH_UTIL_COMPILER_H
#define PRPATH_UTIL_COMPILER_H

/* Marks a function whose unsigned arithmetic wraps on purpose (hashes,
 * digests). The CI's clang build checks unsigned-integer-overflow, which
 * finds length and offset arithmetic that wraps by mistake; this keeps the
 * check quiet where wrapping is the algorithm. */
#if defined(__clang__)
#define PP_WRAPS __attribute__((no_sanitize("unsigned-integer-overflow")))
#else
#define PP_WRAPS
#endif

#endif /* PRPATH_UTIL_COMPILER_H */
