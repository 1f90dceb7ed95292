/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef PRPATH_UTIL_CRC32C_H
#define PRPATH_UTIL_CRC32C_H
#include <stddef.h>
#include <stdint.h>
/* CRC-32C (Castagnoli), as iSCSI digests use it. Start with crc = 0;
 * chain calls by passing the previous result. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
#endif
