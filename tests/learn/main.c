/* tests/learn: tl_learner (include/tl/learn.h). */
#include "common.h"

void tlt_add_equal_tests(TCase *tc);
void tlt_add_behaviour_tests(TCase *tc);
void tlt_add_bad_input_tests(TCase *tc);

static Suite *learn_suite(void) {
  Suite *s = suite_create("learn");
  TCase *eq = tcase_create("equal");
  tcase_set_timeout(eq, 120);
  tlt_add_equal_tests(eq);
  suite_add_tcase(s, eq);
  TCase *be = tcase_create("behaviour");
  tcase_set_timeout(be, 120);
  tlt_add_behaviour_tests(be);
  suite_add_tcase(s, be);
  TCase *bad = tcase_create("bad_input");
  tlt_add_bad_input_tests(bad);
  suite_add_tcase(s, bad);
  return s;
}

int main(void) { return tlt_run(learn_suite()); }
