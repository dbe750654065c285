/* lib/ckpt/ckpt_model.c, ckpt_optim.c, ckpt_rng.c, ckpt_vocab.c: models
 * and optimizer state in checkpoints, strict and partial loads, prefixes,
 * name maps, validation before any change, vocabulary remapping, row masks,
 * and exact resume in a fresh process (this binary re-executes itself with
 * --resume). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt/ckpt_internal.h"
#include "fuzz_common.h"
#include "model/model_internal.h"
#include "optim/optim_internal.h"
#include "tl/sched.h"
#include "tl_test.h"

/* Set in the re-executed --resume process, where Check's assertions cannot
 * report (they need a running test): failures print and exit instead. */
static int in_child;

#define OK(call)                                                               \
  do {                                                                         \
    const tl_status ok_s_ = (call);                                            \
    if (ok_s_ != TL_OK) {                                                      \
      if (in_child) {                                                          \
        fprintf(stderr, "%s: %s\n", #call, tl_last_error());                   \
        exit(1);                                                               \
      }                                                                        \
      ck_abort_msg("%s returned %s: %s", #call, tl_status_string(ok_s_),       \
                   tl_last_error());                                           \
    }                                                                          \
  } while (0)

#define V 12
#define E 6
#define H 8
#define T 5
#define B 3

/* Embedding -> 2-layer LSTM -> linear, with every dropout on so that the
 * RNG stream matters for exact resume, and a stateful LSTM (fastai's LM
 * over consecutive BPTT windows) so that the carried state does too. */
static tl_model *build_lm_with(uint64_t seed, int stateful) {
  tl_model_options mo;
  OK(tl_model_options_init(&mo, TL_MODEL_OPTIONS_VERSION));
  mo.seed = seed;
  tl_model *m = NULL;
  OK(tl_model_create(&m, &mo));
  tl_embedding_options eo;
  OK(tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION));
  eo.embed_p = 0.1f;
  OK(tl_model_add_embedding(m, "emb", V, E, &eo));
  tl_lstm_options lo;
  OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = 0.2f;
  lo.input_p = 0.1f;
  lo.hidden_p = 0.15f;
  lo.output_p = 0.1f;
  lo.stateful = stateful;
  OK(tl_model_add_lstm(m, "rnn", E, H, 2, &lo));
  OK(tl_model_add_linear(m, "out", H, V, TL_ACTIVATION_NONE));
  return m;
}

static tl_model *build_lm(uint64_t seed) { return build_lm_with(seed, 1); }

static void flat_copy(tl_model *m, float **out, size_t *n) {
  float *p = NULL;
  OK(tl_model_flat_params(&p, n, m));
  *out = malloc(*n * sizeof(float));
  memcpy(*out, p, *n * sizeof(float));
}

static void assert_flat_equals(tl_model *m, const float *want, size_t n) {
  float *p = NULL;
  size_t got_n = 0;
  OK(tl_model_flat_params(&p, &got_n, m));
  ck_assert_uint_eq(got_n, n);
  ck_assert_msg(memcmp(p, want, n * sizeof(float)) == 0,
                "model parameters differ");
}

typedef struct report_log {
  int missing, unexpected;
  char last_missing[128], last_unexpected[128];
} report_log;

static void on_report(void *payload, tl_load_issue issue, const char *name) {
  report_log *log = payload;
  if (issue == TL_LOAD_MISSING) {
    log->missing++;
    snprintf(log->last_missing, sizeof log->last_missing, "%s", name);
  } else {
    log->unexpected++;
    snprintf(log->last_unexpected, sizeof log->last_unexpected, "%s", name);
  }
}

static tl_model_load_options load_options(int strict, report_log *log) {
  tl_model_load_options o;
  OK(tl_model_load_options_init(&o, TL_MODEL_LOAD_OPTIONS_VERSION));
  o.strict = strict;
  if (log != NULL) {
    memset(log, 0, sizeof *log);
    o.report = on_report;
    o.report_payload = log;
  }
  return o;
}

/* ---- save and load ------------------------------------------------------ */

START_TEST(put_then_get_copies_parameters_groups_and_rng) {
  tl_model *a = build_lm(1), *b = build_lm(2);
  OK(tl_model_set_group(a, "rnn", 0));
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, a, NULL));
  size_t n = 0, idx = 0;
  OK(tl_ckpt_tensor_count(&n, c));
  ck_assert_uint_eq(n, 1 + 8 + 2); /* emb, 2 x 4 LSTM tensors, out */
  OK(tl_ckpt_find_tensor(&idx, c, "rnn.weight_hh_l1"));
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  OK(tl_ckpt_tensor_info(&info, c, idx));
  ck_assert_int_eq(info.dtype, TL_CKPT_F32);
  ck_assert(info.rank == 2 && info.shape[0] == 4 * H && info.shape[1] == H);
  ck_assert_uint_eq(info.group, 0);
  OK(tl_ckpt_find_tensor(&idx, c, "out.bias"));
  OK(tl_ckpt_tensor_info(&info, c, idx));
  ck_assert_uint_eq(info.group, 2);
  /* Values are the model's. */
  const void *data = NULL;
  float *view = NULL;
  OK(tl_ckpt_tensor_data(&data, c, idx));
  OK(tl_model_param_view(&view, NULL, a, "out.bias"));
  ck_assert_int_eq(memcmp(data, view, V * sizeof(float)), 0);

  float *want = NULL;
  flat_copy(a, &want, &n);
  OK(tl_ckpt_restore_model(b, c, NULL));
  assert_flat_equals(b, want, n);
  ck_assert_int_eq(memcmp(&a->rng, &b->rng, sizeof a->rng), 0);
  /* A second put of the same names is refused and changes nothing. */
  TLT_ASSERT_FAILS(tl_ckpt_store_model(c, a, NULL), TL_E_INVALID_ARG,
                   "already has a tensor 'emb.weight'");
  size_t again = 0;
  OK(tl_ckpt_tensor_count(&again, c));
  ck_assert_uint_eq(again, 11);
  free(want);
  tl_ckpt_free(c);
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(model_save_and_load_through_a_file) {
  tl_model *a = build_lm(3), *b = build_lm(4);
  char dir[] = "/tmp/tl_ckptm_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/lm.tlc", dir);
  OK(tl_model_save(a, path));
  float *want = NULL;
  size_t n = 0;
  flat_copy(a, &want, &n);
  OK(tl_model_load(b, path, NULL));
  assert_flat_equals(b, want, n);
  TLT_ASSERT_FAILS(tl_model_load(b, "/nonexistent.tlc", NULL), TL_E_IO,
                   "cannot open");
  TLT_ASSERT_FAILS(tl_model_save(NULL, path), TL_E_INVALID_ARG, "'model'");
  unlink(path);
  rmdir(dir);
  free(want);
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(strict_load_reports_and_changes_nothing) {
  tl_model *a = build_lm(5), *b = build_lm(6);
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, a, NULL));
  size_t idx = 0, n = 0;
  OK(tl_ckpt_find_tensor(&idx, c, "rnn.bias_hh_l1"));
  OK(tl_ckpt_remove_tensor(c, idx));
  const float extra[2] = {1, 2};
  const size_t s2[1] = {2};
  OK(tl_ckpt_add_tensor(c, "head.extra", TL_CKPT_F32, 1, s2, extra));
  float *before = NULL;
  flat_copy(b, &before, &n);
  const tli_rng rng_before = b->rng;

  report_log log;
  tl_model_load_options o = load_options(1, &log);
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, c, &o), TL_E_NOT_FOUND,
                   "first 'rnn.bias_hh_l1'");
  ck_assert_ptr_nonnull(strstr(tl_last_error(), "first 'head.extra'"));
  ck_assert_int_eq(log.missing, 1);
  ck_assert_int_eq(log.unexpected, 1);
  ck_assert_str_eq(log.last_missing, "rnn.bias_hh_l1");
  ck_assert_str_eq(log.last_unexpected, "head.extra");
  assert_flat_equals(b, before, n);
  ck_assert_int_eq(memcmp(&b->rng, &rng_before, sizeof rng_before), 0);

  /* Non-strict: everything else loads; the missing tensor keeps b's value. */
  o = load_options(0, &log);
  OK(tl_ckpt_restore_model(b, c, &o));
  ck_assert_int_eq(log.missing + log.unexpected, 2);
  float *pa = NULL, *pb = NULL, *bias_before = NULL;
  OK(tl_model_param_view(&pa, NULL, a, "rnn.weight_ih_l0"));
  OK(tl_model_param_view(&pb, NULL, b, "rnn.weight_ih_l0"));
  ck_assert_int_eq(memcmp(pa, pb, 4 * H * E * sizeof(float)), 0);
  size_t off = 0;
  OK(tl_model_param_offset(&off, b, "rnn.bias_hh_l1"));
  bias_before = before + off;
  OK(tl_model_param_view(&pb, NULL, b, "rnn.bias_hh_l1"));
  ck_assert_int_eq(memcmp(pb, bias_before, 4 * H * sizeof(float)), 0);
  free(before);
  tl_ckpt_free(c);
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(bad_tensors_fail_before_any_parameter_changes) {
  tl_model *a = build_lm(7), *b = build_lm(8);
  float *before = NULL;
  size_t n = 0, idx = 0;
  flat_copy(b, &before, &n);
  /* The bad tensor is the last one, so a loader that copied as it checked
   * would already have changed the others. */
  struct {
    int kind;
    tl_status status;
    const char *word;
  } cases[] = {
      {0, TL_E_SHAPE, "has shape (3, 8), parameter 'out.weight' is (12, 8)"},
      {1, TL_E_FORMAT, "dtype 2"},
      {2, TL_E_NUMERIC, "non-finite"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    tl_ckpt *c = NULL;
    OK(tl_ckpt_create(&c));
    OK(tl_ckpt_store_model(c, a, NULL));
    OK(tl_ckpt_find_tensor(&idx, c, "out.weight"));
    OK(tl_ckpt_remove_tensor(c, idx));
    static double d[V * H];
    static float f[V * H];
    memset(f, 0, sizeof f);
    const size_t bad_shape[2] = {3, H}, shape[2] = {V, H};
    if (cases[k].kind == 0)
      OK(tl_ckpt_add_tensor(c, "out.weight", TL_CKPT_F32, 2, bad_shape, f));
    else if (cases[k].kind == 1)
      OK(tl_ckpt_add_tensor(c, "out.weight", TL_CKPT_F64, 2, shape, d));
    else {
      f[17] = NAN;
      OK(tl_ckpt_add_tensor(c, "out.weight", TL_CKPT_F32, 2, shape, f));
    }
    TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, c, NULL), cases[k].status,
                     cases[k].word);
    assert_flat_equals(b, before, n);
    tl_ckpt_free(c);
  }
  free(before);
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(prefixes_and_name_maps) {
  /* An "LM" saved as encoder "0." and head "1.", as fastai's
   * SequentialRNN names them; a classifier encoder loads "0." alone. */
  tl_model *lm = build_lm(9);
  tl_model *head = NULL;
  OK(tl_model_create(&head, NULL));
  OK(tl_model_add_linear(head, "dec", H, V, TL_ACTIVATION_NONE));
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, lm, "0."));
  OK(tl_ckpt_store_model(c, head, "1."));
  size_t idx = 0;
  OK(tl_ckpt_find_tensor(&idx, c, "1.dec.bias"));

  tl_model *enc = build_lm(10);
  tl_model_load_options o = load_options(1, NULL);
  /* Without a prefix, strict fails: every name differs. */
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(enc, c, &o), TL_E_NOT_FOUND, "strict");
  o.prefix = "0.";
  OK(tl_ckpt_restore_model(enc, c, &o));
  float *want = NULL;
  size_t n = 0;
  flat_copy(lm, &want, &n);
  assert_flat_equals(enc, want, n);
  ck_assert_int_eq(memcmp(&enc->rng, &lm->rng, sizeof lm->rng), 0);
  free(want);

  /* A name map: the head's "dec.*" fills a model whose layer is "out". */
  tl_model *out = NULL;
  OK(tl_model_create(&out, NULL));
  OK(tl_model_add_linear(out, "out", H, V, TL_ACTIVATION_NONE));
  const char *from[2] = {"dec.weight", "dec.bias"};
  const char *to[2] = {"out.weight", "out.bias"};
  o = load_options(1, NULL);
  o.prefix = "1.";
  o.map_from = from;
  o.map_to = to;
  o.map_n = 2;
  OK(tl_ckpt_restore_model(out, c, &o));
  float *hw = NULL, *ow = NULL;
  OK(tl_model_param_view(&hw, NULL, head, "dec.weight"));
  OK(tl_model_param_view(&ow, NULL, out, "out.weight"));
  ck_assert_int_eq(memcmp(hw, ow, V * H * sizeof(float)), 0);

  /* Map errors. */
  const char *to_bad[2] = {"out.weight", "nope.bias"};
  o.map_to = to_bad;
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(out, c, &o), TL_E_INVALID_ARG,
                   "map_to[1] 'nope.bias'");
  const char *to_same[2] = {"out.weight", "out.weight"};
  o.map_to = to_same;
  o.map_n = 2;
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(out, c, &o), TL_E_INVALID_ARG,
                   "both fill parameter 'out.weight'");
  o.map_from = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(out, c, &o), TL_E_INVALID_ARG, "map");
  o = load_options(1, NULL);
  o.version = 42;
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(out, c, &o), TL_E_UNSUPPORTED,
                   "version 42");
  TLT_ASSERT_FAILS(tl_model_load_options_init(&o, 0), TL_E_UNSUPPORTED,
                   "version 0");
  tl_ckpt_free(c);
  tl_model_free(lm);
  tl_model_free(head);
  tl_model_free(enc);
  tl_model_free(out);
}
END_TEST

START_TEST(tied_decoder_stores_only_its_bias) {
  tl_model *m = NULL;
  OK(tl_model_create(&m, NULL));
  OK(tl_model_add_embedding(m, "emb", V, E, NULL));
  OK(tl_model_add_lstm(m, "rnn", E, E, 1, NULL));
  OK(tl_model_add_decoder(m, "dec", E, V, NULL, "emb"));
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, m, NULL));
  size_t idx = 0;
  OK(tl_ckpt_find_tensor(&idx, c, "dec.bias"));
  TLT_ASSERT_FAILS(tl_ckpt_find_tensor(&idx, c, "dec.weight"), TL_E_NOT_FOUND,
                   "dec.weight");
  OK(tl_ckpt_restore_model(m, c, NULL));
  tl_ckpt_free(c);
  tl_model_free(m);
}
END_TEST

START_TEST(rng_section_of_another_writer_is_respected) {
  tl_model *m = build_lm(11);
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, 9, "abc", 3));
  TLT_ASSERT_FAILS(tl_ckpt_store_model(c, m, NULL), TL_E_STATE, "subkind 9");
  size_t n = 1;
  OK(tl_ckpt_tensor_count(&n, c));
  ck_assert_uint_eq(n, 0);
  /* A malformed streams section is a format error on load. */
  OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, TL_CKPT_RNG_STREAMS,
                         "\x05\0\0\0\0\0\0\0", 8));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(m, c, NULL), TL_E_FORMAT,
                   "RNG streams");
  TLT_ASSERT_FAILS(tl_ckpt_store_model(c, m, NULL), TL_E_FORMAT, "RNG streams");
  /* Two models under two prefixes keep two streams. */
  OK(tl_ckpt_clear_section(c, TL_CKPT_SECTION_RNG));
  tl_model *m2 = build_lm(12);
  OK(tl_ckpt_store_model(c, m, "a."));
  OK(tl_ckpt_store_model(c, m2, "b."));
  tli_rng got;
  int found = 0;
  OK(tli_ckpt_rng_find(c, "b.", &got, &found, "test"));
  ck_assert_int_eq(found, 1);
  ck_assert_int_eq(memcmp(&got, &m2->rng, sizeof got), 0);
  OK(tli_ckpt_rng_find(c, "a.", &got, &found, "test"));
  ck_assert_int_eq(memcmp(&got, &m->rng, sizeof got), 0);
  tl_ckpt_free(c);
  tl_model_free(m);
  tl_model_free(m2);
}
END_TEST

/* Builds a streams payload: "" -> s_empty, "b." -> s_b. */
static size_t streams_payload(unsigned char *out, const uint64_t s_empty[4],
                              const uint64_t s_b[4]) {
  unsigned char *p = out;
  tli_store_le64(p, 2);
  p += 8;
  const char *names[2] = {"", "b."};
  const uint64_t *words[2] = {s_empty, s_b};
  for (int k = 0; k < 2; k++) {
    const size_t len = strlen(names[k]);
    tli_store_le32(p, (uint32_t)len);
    memcpy(p + 4, names[k], len + 1);
    p += 5 + len;
    for (int i = 0; i < 4; i++, p += 8)
      tli_store_le64(p, words[k][i]);
  }
  return (size_t)(p - out);
}

START_TEST(all_zero_rng_stream_is_refused) {
  /* xoshiro256** from the all-zero state yields zeros forever: a checkpoint
   * holding it would freeze every dropout mask after the load. */
  tl_model *a = build_lm(21), *b = build_lm(22);
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, a, NULL));
  const uint64_t zero[4] = {0, 0, 0, 0}, live[4] = {1, 0, 0, 0};
  unsigned char payload[128];
  size_t n = streams_payload(payload, zero, live);
  OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, TL_CKPT_RNG_STREAMS, payload,
                         n));
  float *before = NULL;
  size_t np = 0;
  flat_copy(b, &before, &np);
  const tli_rng rng_before = b->rng;
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, c, NULL), TL_E_FORMAT,
                   "RNG stream 0 ('') has the all-zero xoshiro256** state");
  assert_flat_equals(b, before, np);
  ck_assert_int_eq(memcmp(&b->rng, &rng_before, sizeof rng_before), 0);
  /* Every stream is validated, not only the one restored. */
  n = streams_payload(payload, live, zero);
  OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, TL_CKPT_RNG_STREAMS, payload,
                         n));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, c, NULL), TL_E_FORMAT,
                   "RNG stream 1 ('b.') has the all-zero");
  assert_flat_equals(b, before, np);
  TLT_ASSERT_FAILS(tl_ckpt_store_model(c, a, "x."), TL_E_FORMAT, "all-zero");
  /* It survives a save and load of the container (an opaque section there)
   * and is refused by the model load. */
  size_t size = 0, written = 0;
  OK(tl_ckpt_serialized_size(&size, c));
  unsigned char *img = malloc(size);
  OK(tl_ckpt_save_buffer(img, size, &written, c));
  tl_ckpt *back = NULL;
  OK(tl_ckpt_load_buffer(&back, img, size, NULL));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, back, NULL), TL_E_FORMAT,
                   "all-zero");
  assert_flat_equals(b, before, np);
  /* Not restoring the RNG does not read the streams at all. */
  tl_model_load_options o = load_options(1, NULL);
  o.restore_rng = 0;
  OK(tl_ckpt_restore_model(b, back, &o));
  ck_assert_int_eq(memcmp(&b->rng, &rng_before, sizeof rng_before), 0);
  /* A single nonzero word is a valid state. */
  n = streams_payload(payload, live, live);
  OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, TL_CKPT_RNG_STREAMS, payload,
                         n));
  OK(tl_ckpt_restore_model(b, c, NULL));
  ck_assert(b->rng.s[0] == 1 && b->rng.s[1] == 0 && b->rng.s[2] == 0 &&
            b->rng.s[3] == 0);
  free(img);
  free(before);
  tl_ckpt_free(back);
  tl_ckpt_free(c);
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

static void forward_once(tl_model *m, uint64_t seed) {
  tli_rng r;
  tli_rng_seed(&r, seed);
  int64_t ids[T * B];
  for (size_t i = 0; i < T * B; i++)
    ids[i] = (int64_t)tli_rng_below(&r, V);
  const float *y = NULL;
  size_t dims[TL_MODEL_MAX_DIMS], ndim = 0;
  const size_t in_dims[2] = {T, B};
  OK(tl_model_forward_ids(&y, dims, &ndim, m, ids, in_dims, 2));
}

START_TEST(carried_lstm_state_is_saved_and_restored) {
  tl_model *a = build_lm(13), *b = build_lm(14);
  OK(tl_model_eval(a));
  forward_once(a, 1); /* a now carries (h, c) for batch B */
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, a, NULL));
  size_t idx = 0;
  OK(tl_ckpt_find_tensor(&idx, c, "@state.rnn"));
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  OK(tl_ckpt_tensor_info(&info, c, idx));
  ck_assert(info.rank == 4 && info.shape[0] == 2 && info.shape[1] == 2 &&
            info.shape[2] == B && info.shape[3] == H);
  OK(tl_ckpt_restore_model(b, c, NULL));
  ck_assert_uint_eq(b->layers[1].state_batch, B);
  ck_assert_int_eq(
      memcmp(b->layers[1].state.p, a->layers[1].state.p, info.nbytes), 0);
  /* The next window continues from the same state: equal outputs. */
  OK(tl_model_eval(b));
  forward_once(a, 2);
  forward_once(b, 2);
  ck_assert_int_eq(
      memcmp(b->layers[2].y, a->layers[2].y, T * B * V * sizeof(float)), 0);
  /* A stateless model (a classifier's encoder) loads the same checkpoint
   * strictly: carried states are not parameters, not unexpected. */
  tl_model *stateless = build_lm_with(15, 0);
  OK(tl_ckpt_restore_model(stateless, c, NULL));
  /* Loading a checkpoint without state resets a stateful model's. */
  OK(tl_ckpt_remove_tensor(c, idx));
  OK(tl_ckpt_restore_model(b, c, NULL));
  ck_assert_uint_eq(b->layers[1].state_batch, 0);
  tl_ckpt_free(c);
  tl_model_free(a);
  tl_model_free(b);
  tl_model_free(stateless);
}
END_TEST

/* ---- vocabulary remapping and row masks --------------------------------- */

START_TEST(remap_vocab_matches_fastai_match_embeds) {
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  const char *old_vocab[4] = {"a", "b", "c", "b"};
  OK(tl_ckpt_set_vocab(c, old_vocab, 4));
  const float emb[4 * 2] = {1, 10, 2, 20, 3, 30, 4, 40};
  const float bias[4] = {0.5f, -1, 2, 4};
  const size_t se[2] = {4, 2}, sb[1] = {4};
  OK(tl_ckpt_add_tensor(c, "emb.weight", TL_CKPT_F32, 2, se, emb));
  OK(tl_ckpt_add_tensor(c, "dec.bias", TL_CKPT_F32, 1, sb, bias));
  const char *new_vocab[5] = {"c", "x", "b", "a", "y"};
  const char *names[2] = {"emb.weight", "dec.bias"};
  uint8_t is_new[5];
  OK(tl_ckpt_remap_vocab(is_new, c, new_vocab, 5, names, 2));
  const uint8_t want_new[5] = {0, 1, 0, 0, 1};
  ck_assert_int_eq(memcmp(is_new, want_new, 5), 0);
  /* c -> row 2; x, y -> mean; b -> row 3 (the last "b", as a dict has it);
   * a -> row 0. */
  const float want_emb[5 * 2] = {3, 30, 2.5f, 25, 4, 40, 1, 10, 2.5f, 25};
  const float want_bias[5] = {2, 1.375f, 4, 0.5f, 1.375f};
  const void *data = NULL;
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  OK(tl_ckpt_tensor_data(&data, c, 0));
  TLT_ASSERT_ARRAY_CLOSE((const float *)data, want_emb, 10, 0, 0);
  OK(tl_ckpt_tensor_info(&info, c, 0));
  ck_assert(info.shape[0] == 5 && info.shape[1] == 2 && info.numel == 10);
  OK(tl_ckpt_tensor_data(&data, c, 1));
  TLT_ASSERT_ARRAY_CLOSE((const float *)data, want_bias, 5, 0, 0);
  size_t nv = 0;
  const char *tok = NULL;
  OK(tl_ckpt_vocab_size(&nv, c));
  ck_assert_uint_eq(nv, 5);
  OK(tl_ckpt_vocab_token(&tok, c, 4));
  ck_assert_str_eq(tok, "y");
  /* It survives a save/load. */
  size_t size = 0, written = 0;
  OK(tl_ckpt_serialized_size(&size, c));
  unsigned char *img = malloc(size);
  OK(tl_ckpt_save_buffer(img, size, &written, c));
  tl_ckpt *back = NULL;
  OK(tl_ckpt_load_buffer(&back, img, size, NULL));
  OK(tl_ckpt_tensor_data(&data, back, 0));
  TLT_ASSERT_ARRAY_CLOSE((const float *)data, want_emb, 10, 0, 0);
  free(img);
  tl_ckpt_free(back);

  /* Errors leave the checkpoint as it was (now 5 rows). */
  const char *wrong[1] = {"nope"};
  TLT_ASSERT_FAILS(tl_ckpt_remap_vocab(NULL, c, new_vocab, 5, wrong, 1),
                   TL_E_NOT_FOUND, "'nope'");
  const float three[3] = {1, 2, 3};
  const size_t s3[1] = {3};
  OK(tl_ckpt_add_tensor(c, "short", TL_CKPT_F32, 1, s3, three));
  const char *bad_rows[2] = {"emb.weight", "short"};
  TLT_ASSERT_FAILS(tl_ckpt_remap_vocab(NULL, c, old_vocab, 4, bad_rows, 2),
                   TL_E_SHAPE, "'short' has 3 rows");
  OK(tl_ckpt_tensor_info(&info, c, 0));
  ck_assert_uint_eq(info.shape[0], 5);
  TLT_ASSERT_FAILS(tl_ckpt_remap_vocab(NULL, c, new_vocab, 0, names, 2),
                   TL_E_INVALID_ARG, "n_new");
  const char *with_null[2] = {"a", NULL};
  TLT_ASSERT_FAILS(tl_ckpt_remap_vocab(NULL, c, with_null, 2, names, 2),
                   TL_E_INVALID_ARG, "new_vocab[1]");
  OK(tl_ckpt_clear_vocab(c));
  TLT_ASSERT_FAILS(tl_ckpt_remap_vocab(NULL, c, new_vocab, 5, names, 2),
                   TL_E_NOT_FOUND, "no vocabulary");
  tl_ckpt_free(c);
}
END_TEST

START_TEST(row_mask_trains_only_new_rows) {
  /* ULMFiT's first target stage: only the new words' embedding rows move. */
  tl_model *m = NULL;
  OK(tl_model_create(&m, NULL));
  OK(tl_model_add_embedding(m, "emb", V, E, NULL));
  OK(tl_model_add_linear(m, "out", E, V, TL_ACTIVATION_NONE));
  uint8_t rows[V] = {0};
  rows[3] = rows[7] = 1;
  OK(tl_model_set_row_mask(m, "emb.weight", rows, V));
  OK(tl_model_set_param_trainable(m, "out.weight", 0));
  OK(tl_model_set_param_trainable(m, "out.bias", 0));
  float *before = NULL;
  size_t n = 0;
  flat_copy(m, &before, &n);
  tl_optim_options oo;
  OK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_SGD));
  oo.lr = 0.5;
  tl_optim *opt = NULL;
  OK(tl_optim_create(&opt, &m, 1, &oo));
  float *grad = NULL;
  size_t ng = 0;
  OK(tl_model_flat_grads(&grad, &ng, m));
  for (size_t i = 0; i < ng; i++)
    grad[i] = 1.0f;
  OK(tl_optim_step(opt));
  float *w = NULL;
  OK(tl_model_param_view(&w, NULL, m, "emb.weight"));
  for (size_t r = 0; r < V; r++)
    for (size_t j = 0; j < E; j++) {
      const float was = before[r * E + j];
      if (rows[r])
        ck_assert_float_eq(w[r * E + j], was - 0.5f);
      else
        ck_assert_float_eq(w[r * E + j], was);
    }
  TLT_ASSERT_FAILS(tl_model_set_row_mask(m, "emb.weight", rows, V - 1),
                   TL_E_SHAPE, "has 12 rows");
  TLT_ASSERT_FAILS(tl_model_set_row_mask(m, "nope", rows, V), TL_E_NOT_FOUND,
                   "'nope'");
  TLT_ASSERT_FAILS(tl_model_set_row_mask(m, "emb.weight", NULL, 3),
                   TL_E_INVALID_ARG, "'rows'");
  OK(tl_model_set_row_mask(m, "emb.weight", NULL, 0));
  free(before);
  tl_optim_free(opt);
  tl_model_free(m);
}
END_TEST

/* ---- optimizer state and exact resume ----------------------------------- */

typedef struct trainer {
  tl_model *model;
  tl_optim *optim;
  tl_sched *sched;
} trainer;

static trainer trainer_create(uint64_t seed, uint64_t total) {
  trainer t;
  t.model = build_lm(seed);
  tl_optim_options oo;
  OK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  OK(tl_optim_create(&t.optim, &t.model, 1, &oo));
  tl_sched_stlr_options so;
  OK(tl_sched_stlr_options_init(&so, TL_SCHED_STLR_OPTIONS_VERSION));
  so.lr_max = 0.02;
  so.total_steps = total;
  OK(tl_sched_stlr_create(&t.sched, &so));
  return t;
}

static void trainer_free(trainer *t) {
  tl_sched_free(t->sched);
  tl_optim_free(t->optim);
  tl_model_free(t->model);
}

/* One step: the batch is a function of the step (the host's data order),
 * the lr comes from the schedule at that step, dropout from the model's
 * RNG, and AdamW's moments from the optimizer. */
static void train_step(trainer *t, uint64_t step) {
  tli_rng data;
  tli_rng_seed(&data, 1000 + step);
  int64_t ids[T * B], targets[T * B];
  for (size_t i = 0; i < T * B; i++) {
    ids[i] = (int64_t)tli_rng_below(&data, V);
    targets[i] = (int64_t)tli_rng_below(&data, V);
  }
  size_t groups = 0;
  OK(tl_optim_num_groups(&groups, t->optim));
  double lr = 0, lrs[8];
  OK(tl_sched_lr(&lr, t->sched, step));
  for (size_t g = 0; g < groups; g++)
    lrs[g] = lr / (double)(1u << (groups - 1 - g)); /* discriminative */
  OK(tl_optim_set_lrs(t->optim, lrs, groups));
  OK(tl_optim_zero_grad(t->optim));
  const float *y = NULL;
  size_t dims[TL_MODEL_MAX_DIMS], ndim = 0;
  const size_t in_dims[2] = {T, B};
  OK(tl_model_forward_ids(&y, dims, &ndim, t->model, ids, in_dims, 2));
  float loss = 0, dy[T * B * V];
  OK(tl_cross_entropy(&loss, dy, y, targets, T * B, V, -100));
  OK(tl_model_backward(NULL, t->model, dy, dims, ndim));
  OK(tl_optim_step(t->optim));
}

#define RESUME_N 6
#define RESUME_M 5

static const char *self_exe;

/* The second half of a resumed run, in a fresh process: a model with a
 * different seed and fresh optimizer get everything from the checkpoint. */
static int resume_main(const char *ckpt_path, const char *out_path) {
  in_child = 1;
  trainer t = trainer_create(999, RESUME_N + RESUME_M);
  tl_ckpt *c = NULL;
  uint64_t step = 0;
  if (tl_ckpt_load(&c, ckpt_path, NULL) != TL_OK ||
      tl_ckpt_restore_model(t.model, c, NULL) != TL_OK ||
      tl_ckpt_restore_optim(t.optim, c) != TL_OK ||
      tl_ckpt_get_step(&step, c) != TL_OK) {
    fprintf(stderr, "resume: %s\n", tl_last_error());
    return 1;
  }
  tl_ckpt_free(c);
  for (uint64_t s = step; s < RESUME_N + RESUME_M; s++)
    train_step(&t, s);
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, t.model, NULL));
  OK(tl_ckpt_store_optim(c, t.optim));
  const tl_status s = tl_ckpt_save(c, out_path);
  tl_ckpt_free(c);
  trainer_free(&t);
  return s == TL_OK ? 0 : 1;
}

START_TEST(resume_in_a_fresh_process_is_bit_identical) {
  char dir[] = "/tmp/tl_resume_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char mid[256], end[256];
  snprintf(mid, sizeof mid, "%s/mid.tlc", dir);
  snprintf(end, sizeof end, "%s/end.tlc", dir);

  /* First half, then save model + optimizer + step (+ RNG via the model). */
  trainer t = trainer_create(42, RESUME_N + RESUME_M);
  for (uint64_t s = 0; s < RESUME_N; s++)
    train_step(&t, s);
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  OK(tl_ckpt_store_model(c, t.model, NULL));
  OK(tl_ckpt_store_optim(c, t.optim));
  OK(tl_ckpt_set_step(c, RESUME_N));
  OK(tl_ckpt_save(c, mid));
  tl_ckpt_free(c);

  /* Second half in a new process image (exec of this binary). */
  fflush(NULL);
  const pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    execl("/proc/self/exe", self_exe, "--resume", mid, end, (char *)NULL);
    _exit(127);
  }
  int wstatus = 0;
  ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
  ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
                "the resumed process failed (status 0x%x)", wstatus);

  /* Uninterrupted reference: keep training the same objects. */
  for (uint64_t s = RESUME_N; s < RESUME_N + RESUME_M; s++)
    train_step(&t, s);
  tl_ckpt *resumed = NULL;
  OK(tl_ckpt_load(&resumed, end, NULL));
  tl_model *check = build_lm(5);
  OK(tl_ckpt_restore_model(check, resumed, NULL));
  float *want = NULL;
  size_t n = 0;
  flat_copy(t.model, &want, &n);
  assert_flat_equals(check, want, n); /* bit-identical parameters */
  ck_assert_int_eq(memcmp(&check->rng, &t.model->rng, sizeof check->rng), 0);
  /* ... and bit-identical optimizer state. */
  size_t size = 0;
  OK(tl_optim_state_size(&size, t.optim));
  unsigned char *state = malloc(size);
  OK(tl_optim_state_save(state, size, t.optim));
  const void *bytes = NULL;
  size_t got = 0;
  OK(tl_ckpt_get_section(&bytes, &got, NULL, resumed, TL_CKPT_SECTION_OPTIM));
  ck_assert_uint_eq(got, size);
  ck_assert_int_eq(memcmp(bytes, state, size), 0);
  /* The run really moved: training changed the parameters after the save. */
  tl_ckpt *first = NULL;
  tl_model *at_mid = build_lm(5);
  OK(tl_ckpt_load(&first, mid, NULL));
  OK(tl_ckpt_restore_model(at_mid, first, NULL));
  float *mid_flat = NULL;
  flat_copy(at_mid, &mid_flat, &n);
  ck_assert(memcmp(mid_flat, want, n * sizeof(float)) != 0);

  free(mid_flat);
  free(state);
  free(want);
  tl_model_free(at_mid);
  tl_model_free(check);
  tl_ckpt_free(first);
  tl_ckpt_free(resumed);
  trainer_free(&t);
  unlink(mid);
  unlink(end);
  rmdir(dir);
}
END_TEST

START_TEST(optimizer_state_kind_and_layout_are_checked) {
  trainer t = trainer_create(1, 10);
  train_step(&t, 0);
  tl_ckpt *c = NULL;
  OK(tl_ckpt_create(&c));
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(t.optim, c), TL_E_NOT_FOUND,
                   "no optimizer state");
  OK(tl_ckpt_store_optim(c, t.optim));
  uint32_t sub = 0;
  const void *bytes = NULL;
  size_t size = 0;
  OK(tl_ckpt_get_section(&bytes, &size, &sub, c, TL_CKPT_SECTION_OPTIM));
  ck_assert_uint_eq(sub, TL_OPTIM_ADAMW);
  tl_model *m = build_lm(2);
  tl_optim_options oo;
  OK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_SGD));
  tl_optim *sgd = NULL;
  OK(tl_optim_create(&sgd, &m, 1, &oo));
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(sgd, c), TL_E_FORMAT, "kind 2");
  /* Same kind, other layout: the optimizer's own check, state unchanged. */
  tl_model *small = NULL;
  OK(tl_model_create(&small, NULL));
  OK(tl_model_add_linear(small, "l", 2, 2, TL_ACTIVATION_NONE));
  OK(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  tl_optim *other = NULL;
  OK(tl_optim_create(&other, &small, 1, &oo));
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(other, c), TL_E_FORMAT, "parameters");
  OK(tl_ckpt_restore_optim(t.optim, c));
  tl_optim_free(other);
  tl_optim_free(sgd);
  tl_model_free(small);
  tl_model_free(m);
  tl_ckpt_free(c);
  trainer_free(&t);
}
END_TEST

/* ---- fuzzer findings (fuzz/fuzz_ckpt_model.c; inputs in regress/) ------- */

/* The bytes tl_optim_state_save writes now, to compare after a failure. */
static unsigned char *optim_bytes(const tl_optim *o, size_t *size) {
  OK(tl_optim_state_size(size, o));
  unsigned char *b = malloc(*size);
  OK(tl_optim_state_save(b, *size, o));
  return b;
}

/* Where float i of the state sits in a state save (after the 48-byte
 * header, the numel and the step counter of each parameter). */
static size_t state_float_at(const tl_optim *o, size_t i) {
  return 48 + 2 * o->n_params * 8 + i * sizeof(float);
}

START_TEST(fuzz_regress_negative_adam_second_moment) {
  /* Found by fuzz_ckpt_model: bit flips in the optimizer section made
   * three exp_avg_sq values negative; the load accepted them and the next
   * Adam step took sqrt of a negative, writing NaN into the parameters. */
  tl_ckpt *c = NULL;
  OK(tl_ckpt_load(&c, TLT_REGRESS_DIR "/optim_negative_exp_avg_sq.tlc", NULL));
  tl_model *m = NULL;
  tl_optim *o = NULL;
  OK(fuzz_build_model(&m, 7));
  OK(fuzz_build_adam(&o, m));
  OK(fuzz_train_step(m, o, 1));
  size_t size = 0, size2 = 0;
  unsigned char *before = optim_bytes(o, &size);
  TLT_ASSERT_FAILS(tl_ckpt_restore_optim(o, c), TL_E_FORMAT,
                   "exp_avg_sq element");
  unsigned char *after = optim_bytes(o, &size2);
  ck_assert_uint_eq(size, size2);
  ck_assert_int_eq(memcmp(before, after, size), 0);
  /* With those values made non-negative the state loads, and a step from
   * it keeps every parameter a number. */
  const void *sec = NULL;
  size_t sec_size = 0;
  uint32_t kind = 0;
  OK(tl_ckpt_get_section(&sec, &sec_size, &kind, c, TL_CKPT_SECTION_OPTIM));
  ck_assert_uint_eq(sec_size, size);
  unsigned char *fixed = malloc(sec_size);
  memcpy(fixed, sec, sec_size);
  int negatives = 0;
  for (size_t e = 0; e < m->numel; e++) {
    unsigned char *at = fixed + state_float_at(o, m->numel + e);
    if (at[3] & 0x80) { /* the sign bit of a little-endian float */
      at[3] &= 0x7f;
      negatives++;
    }
  }
  ck_assert_int_eq(negatives, 3);
  OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_OPTIM, kind, fixed, sec_size));
  OK(tl_ckpt_restore_optim(o, c));
  OK(tl_optim_zero_grad(o));
  OK(tl_optim_step(o));
  for (size_t i = 0; i < m->numel; i++)
    ck_assert_msg(!isnan(m->flat[i]), "parameter %zu is NaN", i);
  free(fixed);
  free(after);
  free(before);
  tl_optim_free(o);
  tl_model_free(m);
  tl_ckpt_free(c);
}
END_TEST

START_TEST(optimizer_step_counters_cannot_exceed_or_wrap) {
  tl_model *m = NULL;
  tl_optim *o = NULL;
  OK(fuzz_build_model(&m, 8));
  OK(fuzz_build_adam(&o, m));
  OK(fuzz_train_step(m, o, 0));
  OK(fuzz_train_step(m, o, 1));
  size_t size = 0;
  unsigned char *saved = optim_bytes(o, &size);
  unsigned char *b = malloc(size);
  /* A parameter cannot have stepped more often than the optimizer. */
  memcpy(b, saved, size);
  tli_store_le64(b + 48 + o->n_params * 8 + 3 * 8, 3);
  TLT_ASSERT_FAILS(tl_optim_state_load(o, b, size), TL_E_FORMAT,
                   "parameter 3 has taken 3 steps, more than the optimizer's "
                   "2");
  /* At the largest step count a step would wrap the counters to 0 (Adam's
   * bias corrections would divide by zero): refused, nothing changes. */
  memcpy(b, saved, size);
  tli_store_le64(b + 40, UINT64_MAX);
  for (size_t k = 0; k < o->n_params; k++)
    tli_store_le64(b + 48 + o->n_params * 8 + k * 8, UINT64_MAX);
  OK(tl_optim_state_load(o, b, size));
  float *before = NULL;
  size_t n = 0;
  flat_copy(m, &before, &n);
  OK(tl_optim_zero_grad(o));
  TLT_ASSERT_FAILS(tl_optim_step(o), TL_E_STATE,
                   "step count is at its maximum");
  assert_flat_equals(m, before, n);
  uint64_t steps = 0;
  OK(tl_optim_step_count(&steps, o));
  ck_assert(steps == UINT64_MAX);
  /* One below the maximum still steps, to the maximum. */
  tli_store_le64(b + 40, UINT64_MAX - 1);
  for (size_t k = 0; k < o->n_params; k++)
    tli_store_le64(b + 48 + o->n_params * 8 + k * 8, UINT64_MAX - 1);
  OK(tl_optim_state_load(o, b, size));
  OK(tl_optim_step(o));
  OK(tl_optim_step_count(&steps, o));
  ck_assert(steps == UINT64_MAX);
  free(before);
  free(b);
  free(saved);
  tl_optim_free(o);
  tl_model_free(m);
}
END_TEST

static Suite *ckpt_model_suite(void) {
  Suite *s = suite_create("ckpt_model");
  TCase *tc = tcase_create("ckpt_model");
  tcase_add_test(tc, put_then_get_copies_parameters_groups_and_rng);
  tcase_add_test(tc, model_save_and_load_through_a_file);
  tcase_add_test(tc, strict_load_reports_and_changes_nothing);
  tcase_add_test(tc, bad_tensors_fail_before_any_parameter_changes);
  tcase_add_test(tc, prefixes_and_name_maps);
  tcase_add_test(tc, tied_decoder_stores_only_its_bias);
  tcase_add_test(tc, rng_section_of_another_writer_is_respected);
  tcase_add_test(tc, all_zero_rng_stream_is_refused);
  tcase_add_test(tc, carried_lstm_state_is_saved_and_restored);
  tcase_add_test(tc, remap_vocab_matches_fastai_match_embeds);
  tcase_add_test(tc, row_mask_trains_only_new_rows);
  tcase_add_test(tc, optimizer_state_kind_and_layout_are_checked);
  tcase_add_test(tc, resume_in_a_fresh_process_is_bit_identical);
  tcase_add_test(tc, fuzz_regress_negative_adam_second_moment);
  tcase_add_test(tc, optimizer_step_counters_cannot_exceed_or_wrap);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) {
  self_exe = argv[0];
  if (argc == 4 && strcmp(argv[1], "--resume") == 0)
    return resume_main(argv[2], argv[3]);
  return tlt_run(ckpt_model_suite());
}
