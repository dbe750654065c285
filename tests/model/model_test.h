/* Shared by the tests/model sources: one Check binary (test_model) with one
 * test case per concern, each in its own file, so that one concern runs
 * alone: CK_RUN_CASE=<case> build/tests/model/test_model (meson runs each
 * case as its own test, model-<case>). */
#ifndef TLT_MODEL_TEST_H
#define TLT_MODEL_TEST_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/model_golden.h"
#include "model/model_internal.h"
#include "tl_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* float32 model vs float64 torch: relative to max(|want|, 0.05 * max|want|)
 * so entries near zero compare sensibly. */
void assert_matches(const char *what, const float *got, const float *want,
                    size_t n, double rel);
/* Copies n floats into the model's flat parameter buffer (n must be its
 * size). */
void set_flat(tl_model *m, const float *w, size_t n);
/* The flat gradient buffer and its size. */
const float *grads_of(tl_model *m, size_t *n);
/* Embedding(11, 5, padding 0) -> LSTM(5, 6, 2) -> Linear(6, 4), the
 * emb_lstm_fc golden's model (weights not set). */
tl_model *emb_lstm_fc(void);
/* The linear_stack golden's model, its weights set. */
tl_model *linear_stack(void);

TCase *tlt_model_build_case(void);
TCase *tlt_model_groups_case(void);
TCase *tlt_model_run_case(void);
TCase *tlt_model_regularize_case(void);
TCase *tlt_model_stateful_case(void);
TCase *tlt_model_guards_case(void);
TCase *tlt_model_gru_case(void);
TCase *tlt_model_batchnorm_case(void);
TCase *tlt_model_layout_case(void);
TCase *tlt_model_taps_case(void);
TCase *tlt_model_stream_case(void);

#endif
