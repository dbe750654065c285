/* Internal: CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial
 * value and final xor 0xFFFFFFFF): the checksum of zlib, PNG and gzip, so
 * any tool can verify a checkpoint. crc32("123456789") = 0xCBF43926. */
#ifndef TLI_TRANSFER_CRC32_H
#define TLI_TRANSFER_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 for an empty prefix) by bytes[0..n), as zlib's crc32(). */
uint32_t tli_crc32(uint32_t crc, const void *bytes, size_t n);

#endif
