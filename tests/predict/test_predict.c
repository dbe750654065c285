/* Long-document encoding and prediction: chunked encoding with carried
 * state equals one pass over the whole document (fastai's SentenceEncoder
 * keeps whole chunks within the last max_len tokens), probabilities are the
 * softmax of the head on the kept outputs, texts go through the tokenizer
 * and vocabulary, and memory does not grow with document length. */
#include "tl_test.h"

enum { V = 40, E = 6, H = 5, K = 3 };

static tl_model *make_encoder(int stateful) {
  tl_model_options mo;
  TLT_ASSERT_OK(tl_model_options_init(&mo, TL_MODEL_OPTIONS_VERSION));
  mo.seed = 17;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, &mo));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", V, E, NULL));
  tl_lstm_options lo;
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.stateful = stateful;
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", E, H, 2, &lo));
  return m;
}

static tl_model *make_head(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_concat_pool(m, "pool"));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 3 * H, K, TL_ACTIVATION_NONE));
  return m;
}

static tl_doc_encoder *make_doc(tl_model *enc, tl_model *head, size_t bptt,
                                size_t max_len) {
  tl_doc_encoder_options o;
  TLT_ASSERT_OK(
      tl_doc_encoder_options_init(&o, TL_DOC_ENCODER_OPTIONS_VERSION));
  o.bptt = bptt;
  o.max_len = max_len;
  tl_doc_encoder *d = NULL;
  TLT_ASSERT_OK(tl_doc_encoder_create(&d, enc, head, &o));
  return d;
}

START_TEST(chunks_equal_one_pass) {
  tl_model *enc = make_encoder(1), *ref = make_encoder(0);
  TLT_ASSERT_OK(tl_model_eval(ref));
  tl_doc_encoder *d = make_doc(enc, NULL, 5, 10);
  int64_t ids[23];
  for (size_t i = 0; i < 23; i++)
    ids[i] = (int64_t)((i * 7 + 3) % V);
  const float *kept;
  size_t t, h;
  TLT_ASSERT_OK(tl_doc_encoder_encode(&kept, &t, &h, d, ids, 23));
  /* chunks start at 0, 5, 10, 15, 20; kept when 23 - i <= 10: 15 and 20 */
  ck_assert_uint_eq(t, 8);
  ck_assert_uint_eq(h, H);
  const float *y;
  size_t od[TL_MODEL_MAX_DIMS], on;
  const size_t dims[2] = {23, 1};
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &on, ref, ids, dims, 2));
  TLT_ASSERT_ARRAY_CLOSE(kept, y + 15 * H, 8 * H, 1e-5, 1e-6);
  /* max_len covering everything keeps all 23 outputs */
  tl_doc_encoder_free(d);
  d = make_doc(enc, NULL, 5, 1000);
  TLT_ASSERT_OK(tl_doc_encoder_encode(&kept, &t, &h, d, ids, 23));
  ck_assert_uint_eq(t, 23);
  TLT_ASSERT_ARRAY_CLOSE(kept, y, 23 * H, 1e-5, 1e-6);
  tl_doc_encoder_free(d);
  tl_model_free(enc);
  tl_model_free(ref);
}
END_TEST

START_TEST(probabilities) {
  tl_model *enc = make_encoder(1), *head = make_head();
  tl_doc_encoder *d = make_doc(enc, head, 4, 8);
  int64_t ids[19];
  for (size_t i = 0; i < 19; i++)
    ids[i] = (int64_t)((i * 5 + 1) % V);
  float p[K];
  TLT_ASSERT_OK(tl_predict_ids(p, K, d, ids, 19));
  /* the same by hand: encode, head forward, softmax */
  const float *kept;
  size_t t, h;
  TLT_ASSERT_OK(tl_doc_encoder_encode(&kept, &t, &h, d, ids, 19));
  ck_assert_uint_eq(t, 7); /* chunks at 12 and 16 */
  const size_t dims[3] = {t, 1, h};
  const float *logits;
  size_t od[TL_MODEL_MAX_DIMS], on;
  TLT_ASSERT_OK(tl_model_forward(&logits, od, &on, head, kept, dims, 3));
  double s = 0.0, want[K];
  for (size_t k = 0; k < K; k++)
    s += exp((double)logits[k]);
  double sum = 0.0;
  for (size_t k = 0; k < K; k++) {
    want[k] = exp((double)logits[k]) / s;
    sum += p[k];
  }
  TLT_ASSERT_ARRAY_CLOSE(p, want, K, 1e-6, 1e-12);
  TLT_ASSERT_CLOSE(sum, 1.0, 1e-6, 1e-12);
  /* errors */
  TLT_ASSERT_FAILS(tl_predict_ids(p, K + 1, d, ids, 19), TL_E_SHAPE, "(1, 4)");
  TLT_ASSERT_FAILS(tl_predict_ids(p, K, d, ids, 0), TL_E_INVALID_ARG, "empty");
  int64_t bad[3] = {1, V, 2};
  TLT_ASSERT_FAILS(tl_predict_ids(p, K, d, bad, 3), TL_E_INVALID_ARG, "");
  tl_doc_encoder *nohead = make_doc(enc, NULL, 4, 8);
  TLT_ASSERT_FAILS(tl_predict_ids(p, K, nohead, ids, 19), TL_E_STATE, "head");
  tl_doc_encoder_options o;
  TLT_ASSERT_OK(
      tl_doc_encoder_options_init(&o, TL_DOC_ENCODER_OPTIONS_VERSION));
  ck_assert_uint_eq(o.bptt, 72);
  ck_assert_uint_eq(o.max_len, 1440);
  o.max_len = 3;
  o.bptt = 4;
  tl_doc_encoder *x = NULL;
  TLT_ASSERT_FAILS(tl_doc_encoder_create(&x, enc, head, &o), TL_E_INVALID_ARG,
                   "max_len 3");
  tl_doc_encoder_free(nohead);
  tl_doc_encoder_free(d);
  tl_model_free(enc);
  tl_model_free(head);
}
END_TEST

/* Texts: tokenizer + vocabulary + predict_ids; errors name the text. */
START_TEST(predict_texts) {
  tl_model *enc = make_encoder(1), *head = make_head();
  tl_doc_encoder *d = make_doc(enc, head, 4, 8);
  const char *words[] = {"xxunk", "xxpad",  "xxbos", "xxeos", "xxfld",
                         "xxrep", "xxwrep", "xxup",  "xxmaj", "good",
                         "bad",   "movie",  "!",     "."};
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create(&v, words, 14));
  tl_tokenizer *tok = NULL;
  TLT_ASSERT_OK(tl_tokenizer_create(&tok, NULL));
  const char *texts[2] = {"Good movie!", "bad bad movie. Unknown words"};
  const size_t lens[2] = {11, 28};
  float p[2 * K];
  TLT_ASSERT_OK(tl_predict_texts(p, K, d, tok, v, texts, lens, 2));
  for (size_t i = 0; i < 2; i++) {
    size_t n;
    TLT_ASSERT_OK(tl_tokenizer_run(&n, tok, texts[i], lens[i]));
    int64_t ids[32];
    TLT_ASSERT_OK(tl_vocab_encode_run(ids, n, v, tok));
    float q[K];
    TLT_ASSERT_OK(tl_predict_ids(q, K, d, ids, n));
    for (size_t k = 0; k < K; k++)
      ck_assert(p[i * K + k] == q[k]);
  }
  const char *bad[2] = {"fine", "bro\xffken"};
  const size_t blens[2] = {4, 7};
  TLT_ASSERT_FAILS(tl_predict_texts(p, K, d, tok, v, bad, blens, 2),
                   TL_E_FORMAT, "text 1: tl_tokenizer_run");
  tl_tokenizer_free(tok);
  tl_vocab_free(v);
  tl_doc_encoder_free(d);
  tl_model_free(enc);
  tl_model_free(head);
}
END_TEST

/* A long document costs no more memory than a short one with the same
 * chunk shapes: after a warm-up, encoding 100 000 tokens allocates
 * nothing. */
START_TEST(memory_bounded) {
  tlt_counter c;
  tlt_counter_install(&c);
  tl_model *enc = make_encoder(1), *head = make_head();
  tl_doc_encoder *d = make_doc(enc, head, 16, 64);
  static int64_t ids[100003];
  for (size_t i = 0; i < 100003; i++)
    ids[i] = (int64_t)(i % V);
  float p[K];
  TLT_ASSERT_OK(tl_predict_ids(p, K, d, ids, 83)); /* 5 chunks + 3 */
  const size_t before = c.allocs;
  TLT_ASSERT_OK(tl_predict_ids(p, K, d, ids, 100003)); /* 6250 chunks + 3 */
  ck_assert_uint_eq(c.allocs, before);
  tl_doc_encoder_free(d);
  tl_model_free(enc);
  tl_model_free(head);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

/* The LM stream's rows continue from batch to batch, so a stateful
 * encoder fed the batches computes what one pass over whole rows does:
 * the carried LSTM state follows the rows. */
START_TEST(lm_batches_carry_state_along_rows) {
  enum { B = 3, DOCS = 9 };
  static int64_t store[DOCS][16];
  const int64_t *docs[DOCS];
  size_t lens[DOCS];
  for (size_t d = 0; d < DOCS; d++) {
    lens[d] = 4 + (d * 5) % 11;
    for (size_t i = 0; i < lens[d]; i++)
      store[d][i] = (int64_t)((d * 13 + i * 3) % V);
    docs[d] = store[d];
  }
  tl_lm_loader_options o;
  TLT_ASSERT_OK(tl_lm_loader_options_init(&o, TL_LM_LOADER_OPTIONS_VERSION));
  o.batch_size = B;
  o.bptt = 6;
  o.seed = 4;
  tl_lm_loader *ld = NULL;
  TLT_ASSERT_OK(tl_lm_loader_create(&ld, docs, lens, DOCS, V, &o));
  size_t row_len;
  TLT_ASSERT_OK(tl_lm_loader_row_len(&row_len, ld));
  tl_model *enc = make_encoder(1), *ref = make_encoder(0);
  TLT_ASSERT_OK(tl_model_eval(enc));
  TLT_ASSERT_OK(tl_model_eval(ref));
  int64_t *all = malloc(row_len * B * sizeof *all);
  float *got = malloc(row_len * B * H * sizeof *got);
  size_t pos = 0;
  for (;;) {
    const int64_t *x, *y;
    size_t t;
    TLT_ASSERT_OK(tl_lm_loader_next(&x, &y, &t, ld));
    if (t == 0)
      break;
    memcpy(all + pos * B, x, t * B * sizeof *x);
    const size_t dims[2] = {t, B};
    const float *out;
    size_t od[TL_MODEL_MAX_DIMS], on;
    TLT_ASSERT_OK(tl_model_forward_ids(&out, od, &on, enc, x, dims, 2));
    memcpy(got + pos * B * H, out, t * B * H * sizeof *out);
    pos += t;
  }
  ck_assert_uint_eq(pos, row_len);
  const size_t dims[2] = {row_len, B};
  const float *want;
  size_t od[TL_MODEL_MAX_DIMS], on;
  TLT_ASSERT_OK(tl_model_forward_ids(&want, od, &on, ref, all, dims, 2));
  TLT_ASSERT_ARRAY_CLOSE(got, want, row_len * B * H, 1e-5, 1e-6);
  free(all);
  free(got);
  tl_lm_loader_free(ld);
  tl_model_free(enc);
  tl_model_free(ref);
}
END_TEST

int main(void) {
  Suite *s = suite_create("predict");
  TCase *tc = tcase_create("predict");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, chunks_equal_one_pass);
  tcase_add_test(tc, probabilities);
  tcase_add_test(tc, predict_texts);
  tcase_add_test(tc, memory_bounded);
  tcase_add_test(tc, lm_batches_carry_state_along_rows);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
