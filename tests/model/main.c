/* lib/model's Check binary: names and layouts, forward/backward against
 * torch models with identical weights (tests/fixtures/gen_model.py,
 * gen_gru.py, gen_batchnorm.py), finite differences, freezing and groups,
 * modes, composition (multi-task, tied decoder across models), AR/TAR, stateful
 * layers, rejection of bad input, lifetimes and allocation-free hot paths: one
 * test case per concern (model_test.h). */
#include "model_test.h"

int main(void) {
  Suite *s = suite_create("model");
  suite_add_tcase(s, tlt_model_build_case());
  suite_add_tcase(s, tlt_model_groups_case());
  suite_add_tcase(s, tlt_model_run_case());
  suite_add_tcase(s, tlt_model_regularize_case());
  suite_add_tcase(s, tlt_model_stateful_case());
  suite_add_tcase(s, tlt_model_guards_case());
  suite_add_tcase(s, tlt_model_gru_case());
  suite_add_tcase(s, tlt_model_batchnorm_case());
  suite_add_tcase(s, tlt_model_layout_case());
  suite_add_tcase(s, tlt_model_taps_case());
  suite_add_tcase(s, tlt_model_stream_case());
  return tlt_run(s);
}
