/* The checkpoint-file test binary (lib/ckpt/ckpt*.c, crc32.c): one Check
 * test case per concern, so one can run alone (CK_RUN_CASE=hostile_input). */
#include "ckpt_file_common.h"

TCase *ckpt_file_tcase_ckpt_bytes(void);
TCase *ckpt_file_tcase_ckpt_table(void);
TCase *ckpt_file_tcase_ckpt_hostile(void);
TCase *ckpt_file_tcase_ckpt_atomic(void);
TCase *ckpt_file_tcase_ckpt_file_kinds(void);

int main(void) {
  Suite *s = suite_create("ckpt");
  suite_add_tcase(s, ckpt_file_tcase_ckpt_bytes());
  suite_add_tcase(s, ckpt_file_tcase_ckpt_table());
  suite_add_tcase(s, ckpt_file_tcase_ckpt_hostile());
  suite_add_tcase(s, ckpt_file_tcase_ckpt_atomic());
  suite_add_tcase(s, ckpt_file_tcase_ckpt_file_kinds());
  return tlt_run(s);
}
