/* Callbacks, built-ins, metrics, history and the text loaders' adapters. */
#include "common.h"

void tlt_add_behaviour_tests(TCase *tc);
void tlt_add_behaviour_tests(TCase *tc) { (void)tc; }
