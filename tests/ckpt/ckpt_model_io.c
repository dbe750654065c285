/* Models in checkpoints (lib/ckpt/ckpt_model.c, ckpt_rng.c): store and
 * restore, files, strict and partial loads, prefixes and name maps, tied
 * decoders, RNG sections, carried LSTM state; nothing changes on failure. */
#include "ckpt_model_common.h"

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

TCase *ckpt_model_tcase_ckpt_model_io(void);
TCase *ckpt_model_tcase_ckpt_model_io(void) {
  TCase *tc = tcase_create("model_io");
  tcase_add_test(tc, put_then_get_copies_parameters_groups_and_rng);
  tcase_add_test(tc, model_save_and_load_through_a_file);
  tcase_add_test(tc, strict_load_reports_and_changes_nothing);
  tcase_add_test(tc, bad_tensors_fail_before_any_parameter_changes);
  tcase_add_test(tc, prefixes_and_name_maps);
  tcase_add_test(tc, tied_decoder_stores_only_its_bias);
  tcase_add_test(tc, rng_section_of_another_writer_is_respected);
  tcase_add_test(tc, all_zero_rng_stream_is_refused);
  tcase_add_test(tc, carried_lstm_state_is_saved_and_restored);
  return tc;
}
