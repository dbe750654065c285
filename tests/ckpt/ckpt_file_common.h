/* Shared by the checkpoint-file tests (ckpt_bytes.c, ckpt_table.c,
 * ckpt_hostile.c, ckpt_atomic.c): the golden checkpoint, image surgery
 * (entries, CRC repair), rejection and allocation-bound assertions, file
 * helpers. Defined and documented in ckpt_file_common.c. */
#ifndef CKPT_FILE_COMMON_H
#define CKPT_FILE_COMMON_H

#include "../fixtures/ckpt_golden.h"
#include "ckpt/ckpt_internal.h"
#include "ckpt/crc32.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "tl_test.h"
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tl_ckpt *golden_checkpoint(void);
unsigned char *save_image(const tl_ckpt *c, size_t *size);
unsigned char *golden_copy(void);
unsigned char *tensor_entry(unsigned char *img, size_t i);
unsigned char *section_entry(unsigned char *img, size_t i);
unsigned char *pool(unsigned char *img);
void fix_header_crc(unsigned char *img);
void fix_section_crc(unsigned char *img, size_t i);
void assert_rejects(const unsigned char *img, size_t size, tl_status status,
                    const char *word);
tl_status load_counted(const unsigned char *img, size_t size,
                       size_t *allocated);
int count_temp_files(const char *dir);
void read_file(const char *path, unsigned char **out, size_t *size);

#endif
