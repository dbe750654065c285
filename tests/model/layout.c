/* What data parallelism needs from a model. The layout fingerprint and its
 * text (tl_model_layout_fingerprint, tl_model_layout_describe): the exact
 * text of a small tied LM, its hash against FNV-1a computed in Python on
 * that text, and which changes move the fingerprint (structure) and which
 * do not (values, seed, freezing). The gradient-ready callback
 * (tl_model_set_grad_ready_callback) an overlapped allreduce uses. */
#include <stdlib.h>

#include "model_test.h"

/* Embedding(11, 6) -> LSTM(6, 6) -> locked dropout -> decoder tied to the
 * embedding, the last two in group 1. */
static tl_model *tied_lm(uint64_t seed, size_t dec_group, size_t hidden) {
  tl_model_options o = TL_MODEL_OPTIONS_INIT;
  o.seed = seed;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, &o));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 11, 6, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 6, hidden, 1, NULL));
  if (hidden != 6)
    TLT_ASSERT_OK(
        tl_model_add_linear(m, "proj", hidden, 6, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_add_dropout(m, "drop", TL_DROPOUT_LOCKED, 0.1f));
  TLT_ASSERT_OK(tl_model_add_decoder(m, "dec", 6, 11, m, "emb"));
  TLT_ASSERT_OK(tl_model_set_group(m, "drop", 1));
  TLT_ASSERT_OK(tl_model_set_group(m, "dec", dec_group));
  return m;
}

static const char want_text[] = "tl-layout 1\n"
                                "layer 0 emb embedding group 0 in 0 out 6\n"
                                "param emb.weight f32 [11,6] offset 0\n"
                                "layer 1 rnn lstm group 1 in 6 out 6\n"
                                "param rnn.weight_ih_l0 f32 [24,6] offset 66\n"
                                "param rnn.weight_hh_l0 f32 [24,6] offset 210\n"
                                "param rnn.bias_ih_l0 f32 [24] offset 354\n"
                                "param rnn.bias_hh_l0 f32 [24] offset 378\n"
                                "layer 2 drop dropout group 1 in 6 out 6\n"
                                "layer 3 dec decoder group 1 in 6 out 11 tied\n"
                                "param dec.bias f32 [11] offset 402\n";

/* FNV-1a 64 of want_text, computed independently:
 *   h = 0xcbf29ce484222325
 *   for c in text.encode(): h = ((h ^ c) * 0x100000001b3) % 2**64 */
#define WANT_FINGERPRINT 0xb890dbfbd477a261ull

static uint64_t fingerprint(const tl_model *m) {
  uint64_t h = 0;
  TLT_ASSERT_OK(tl_model_layout_fingerprint(&h, m));
  return h;
}

START_TEST(layout_text_and_fingerprint) {
  tl_model *m = tied_lm(0, 1, 6);
  size_t len = 0;
  TLT_ASSERT_OK(tl_model_layout_describe(NULL, 0, &len, m));
  ck_assert_uint_eq(len, strlen(want_text));
  char *text = malloc(len + 1);
  ck_assert_ptr_nonnull(text);
  TLT_ASSERT_OK(tl_model_layout_describe(text, len + 1, NULL, m));
  ck_assert_str_eq(text, want_text);
  ck_assert(fingerprint(m) == WANT_FINGERPRINT);

  /* One byte short: refused, naming the size, out untouched. */
  memset(text, 'x', len + 1);
  TLT_ASSERT_FAILS(tl_model_layout_describe(text, len, NULL, m),
                   TL_E_INVALID_ARG, "needs 418 bytes with its NUL");
  ck_assert_int_eq(text[0], 'x');
  TLT_ASSERT_FAILS(tl_model_layout_describe(NULL, 5, NULL, m), TL_E_INVALID_ARG,
                   "'out' is NULL with cap 5");
  TLT_ASSERT_FAILS(tl_model_layout_describe(text, len + 1, NULL, NULL),
                   TL_E_INVALID_ARG, "model");
  TLT_ASSERT_FAILS(tl_model_layout_fingerprint(NULL, m), TL_E_INVALID_ARG,
                   "out");
  free(text);
  tl_model_free(m);
}
END_TEST

START_TEST(fingerprint_follows_structure_only) {
  tl_model *a = tied_lm(0, 1, 6);
  const uint64_t fa = fingerprint(a);
  /* Other values (seed), frozen groups, eval mode: the same layout. */
  tl_model *b = tied_lm(12345, 1, 6);
  TLT_ASSERT_OK(tl_model_freeze(b));
  TLT_ASSERT_OK(tl_model_eval(b));
  ck_assert(fingerprint(b) == fa);
  /* Another group, another hidden size: another layout. */
  tl_model *c = tied_lm(0, 2, 6);
  tl_model *d = tied_lm(0, 1, 7);
  ck_assert(fingerprint(c) != fa);
  ck_assert(fingerprint(d) != fa);
  ck_assert(fingerprint(c) != fingerprint(d));
  /* An empty model has the header only. */
  tl_model *e = NULL;
  TLT_ASSERT_OK(tl_model_create(&e, NULL));
  char text[32];
  TLT_ASSERT_OK(tl_model_layout_describe(text, sizeof text, NULL, e));
  ck_assert_str_eq(text, "tl-layout 1\n");
  tl_model_free(a);
  tl_model_free(b);
  tl_model_free(c);
  tl_model_free(d);
  tl_model_free(e);
}
END_TEST

/* The gradient-ready callback: the offsets it reports during backward,
 * and that the tail it reports is already final (a snapshot taken in the
 * callback equals the gradient after backward). */
typedef struct grad_log {
  size_t offsets[8], n_calls, numel;
  float snap[8][512];
} grad_log;

static void log_ready(void *payload, const tl_model *model, size_t offset) {
  grad_log *log = payload;
  float *g;
  size_t n;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, (tl_model *)(uintptr_t)model));
  ck_assert_uint_lt(log->n_calls, 8);
  ck_assert_uint_le(n, 512);
  log->numel = n;
  log->offsets[log->n_calls] = offset;
  memcpy(log->snap[log->n_calls], g, n * sizeof *g);
  log->n_calls++;
}

static void lm_backward(tl_model *m) {
  const int64_t ids[6] = {1, 2, 3, 4, 5, 6}; /* (T 3, B 2) */
  const size_t dims[2] = {3, 2};
  const float *y;
  size_t od[4], ond;
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, m, ids, dims, 2));
  float dy[3 * 2 * 11];
  for (size_t i = 0; i < N_OF(dy); i++)
    dy[i] = (float)((i * 7) % 5) - 2.0f;
  TLT_ASSERT_OK(tl_model_backward(NULL, m, dy, od, ond));
}

START_TEST(grad_ready_reports_final_tails) {
  tl_model *m = tied_lm(3, 1, 6);
  grad_log log = {{0}, 0, 0, {{0}}};
  TLT_ASSERT_OK(tl_model_set_grad_ready_callback(m, log_ready, &log));
  lm_backward(m);
  /* dec (offset 402; its tied weight is the embedding's, offset 0), drop
   * (no parameters: no call), rnn (66), then everything. */
  ck_assert_uint_eq(log.n_calls, 3);
  ck_assert_uint_eq(log.offsets[0], 402);
  ck_assert_uint_eq(log.offsets[1], 66);
  ck_assert_uint_eq(log.offsets[2], 0);
  float *g;
  size_t n;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, m));
  ck_assert_uint_eq(n, 413);
  int nonzero_emb = 0;
  for (size_t k = 0; k < log.n_calls; k++)
    for (size_t i = log.offsets[k]; i < n; i++)
      ck_assert_msg(log.snap[k][i] == g[i],
                    "call %zu (offset %zu): gradient %zu changed after it", k,
                    log.offsets[k], i);
  for (size_t i = 0; i < 66; i++)
    nonzero_emb += g[i] != 0.0f;
  ck_assert_int_gt(nonzero_emb, 0); /* the tied weight's gradient came last */
  /* At the first call the embedding had its decoder part only. */
  int differs = 0;
  for (size_t i = 0; i < 66; i++)
    differs += log.snap[0][i] != g[i];
  ck_assert_int_gt(differs, 0);

  /* Nothing trainable: backward runs no layer, one call with offset 0. */
  for (size_t grp = 0; grp < 2; grp++)
    TLT_ASSERT_OK(tl_model_set_group_trainable(m, grp, 0));
  log.n_calls = 0;
  lm_backward(m);
  ck_assert_uint_eq(log.n_calls, 1);
  ck_assert_uint_eq(log.offsets[0], 0);
  /* Cleared: no call. */
  TLT_ASSERT_OK(tl_model_set_grad_ready_callback(m, NULL, &log));
  TLT_ASSERT_OK(tl_model_unfreeze(m));
  log.n_calls = 0;
  lm_backward(m);
  ck_assert_uint_eq(log.n_calls, 0);
  TLT_ASSERT_FAILS(tl_model_set_grad_ready_callback(NULL, log_ready, NULL),
                   TL_E_INVALID_ARG, "model");
  tl_model_free(m);
}
END_TEST

TCase *tlt_model_layout_case(void) {
  TCase *tc = tcase_create("layout");
  tcase_add_test(tc, layout_text_and_fingerprint);
  tcase_add_test(tc, fingerprint_follows_structure_only);
  tcase_add_test(tc, grad_ready_reports_final_tails);
  return tc;
}
