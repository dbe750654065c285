/* The kernels_layers test binary: one Check test case per kernel (each file
 * of this folder), so one can run alone (CK_RUN_CASE=linear), then the
 * report of the worst errors seen against torch and finite differences. */
#include "kernels_layers_common.h"

TCase *kernels_layers_tcase_linear(void);
TCase *kernels_layers_tcase_embedding(void);
TCase *kernels_layers_tcase_dropout(void);
TCase *kernels_layers_tcase_regularize(void);
TCase *kernels_layers_tcase_loss(void);
TCase *kernels_layers_tcase_pool(void);
TCase *kernels_layers_tcase_no_alloc(void);

/* Prints the worst errors seen, for the report; runs last. */
START_TEST(report_worst_errors) {
  printf("kernels_layers: worst rel err vs torch %.3g, vs finite "
         "differences %.3g\n",
         worst_gold_err, worst_fd_err);
}
END_TEST

int main(void) {
  Suite *s = suite_create("kernels_layers");
  suite_add_tcase(s, kernels_layers_tcase_linear());
  suite_add_tcase(s, kernels_layers_tcase_embedding());
  suite_add_tcase(s, kernels_layers_tcase_dropout());
  suite_add_tcase(s, kernels_layers_tcase_regularize());
  suite_add_tcase(s, kernels_layers_tcase_loss());
  suite_add_tcase(s, kernels_layers_tcase_pool());
  suite_add_tcase(s, kernels_layers_tcase_no_alloc());
  TCase *report = tcase_create("report");
  tcase_add_test(report, report_worst_errors);
  suite_add_tcase(s, report);
  return tlt_run(s);
}
