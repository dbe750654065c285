/* The model-checkpoint test binary (lib/ckpt/ckpt_model.c, ckpt_optim.c,
 * ckpt_rng.c, ckpt_vocab.c): one Check test case per concern, so one can
 * run alone (CK_RUN_CASE=vocab_remap). With --resume CKPT OUT it is the
 * fresh process of the exact-resume test instead. */
#include "ckpt_model_common.h"

TCase *ckpt_model_tcase_ckpt_model_io(void);
TCase *ckpt_model_tcase_ckpt_model_vocab(void);
TCase *ckpt_model_tcase_ckpt_model_resume(void);

int main(int argc, char **argv) {
  self_exe = argv[0];
  if (argc == 4 && strcmp(argv[1], "--resume") == 0)
    return resume_main(argv[2], argv[3]);
  Suite *s = suite_create("ckpt_model");
  suite_add_tcase(s, ckpt_model_tcase_ckpt_model_io());
  suite_add_tcase(s, ckpt_model_tcase_ckpt_model_vocab());
  suite_add_tcase(s, ckpt_model_tcase_ckpt_model_resume());
  return tlt_run(s);
}
