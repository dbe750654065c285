/* Bad input: a status and a message naming what was wrong. */
#include "common.h"

void tlt_add_bad_input_tests(TCase *tc);
void tlt_add_bad_input_tests(TCase *tc) { (void)tc; }
