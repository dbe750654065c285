/* fastai's text learners (include/tl/text_learner.h): the LM's groups
 * across two models, a pretrained LM remapped onto a new vocabulary and
 * frozen, a classifier trained a little, exported, loaded back from the
 * file alone and giving the same predictions, get_preds equal to predict
 * document by document (each batch from a zero state, masked pooling), and
 * bad input with status and message. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdlib.h>
#include <unistd.h>

#include "tl_test.h"

static char dir[] = "/tmp/tl_tlearn_XXXXXX";
static char path_buf[256];

static const char *path_of(const char *name) {
  if (dir[sizeof dir - 2] == 'X')
    ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
  return path_buf;
}

static const char *const WORDS[] = {"good",  "bad",   "film", "plot", "actor",
                                    "great", "awful", "the",  "a",    "."};
enum { N_WORDS = 10, N_DOCS = 12 };

static tl_vocab *make_vocab(size_t first, size_t n) {
  const char *tokens[TL_TEXT_NUM_SPECIALS + N_WORDS];
  size_t k = 0;
  for (size_t i = 0; i < TL_TEXT_NUM_SPECIALS; i++)
    tokens[k++] = tl_text_special(i);
  for (size_t i = 0; i < n; i++)
    tokens[k++] = WORDS[(first + i) % N_WORDS];
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create(&v, tokens, k));
  return v;
}

static tl_awd_lstm_options small(void) {
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_clas_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  o.emb_sz = 6;
  o.n_hid = 8;
  o.n_layers = 2;
  o.seed = 4;
  return o;
}

START_TEST(lm_groups_and_pretrained) {
  tl_vocab *v1 = make_vocab(0, N_WORDS), *v2 = make_vocab(3, 6);
  tl_awd_lstm_options o = small();
  tl_text_learner *a = NULL, *b = NULL;
  TLT_ASSERT_OK(tl_language_model_learner(&a, v1, &o, 1.0f, NULL, NULL));
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_text_learner_learner(&l, a));
  size_t n = 0, g = 0;
  TLT_ASSERT_OK(tl_learner_num_groups(&n, l));
  ck_assert_uint_eq(n, 3); /* rnns_0, rnns_1, embedding + decoder */
  TLT_ASSERT_OK(tl_learner_get_group(&g, l, 0, "rnns_1"));
  ck_assert_uint_eq(g, 1);
  TLT_ASSERT_OK(tl_learner_get_group(&g, l, 0, "encoder"));
  ck_assert_uint_eq(g, 2);
  TLT_ASSERT_OK(tl_learner_get_group(&g, l, 1, "decoder"));
  ck_assert_uint_eq(g, 2);
  /* a little LM training through the learner */
  int64_t docs[N_DOCS][9];
  const int64_t *dp[N_DOCS];
  size_t lens[N_DOCS];
  for (size_t d = 0; d < N_DOCS; d++) {
    for (size_t t = 0; t < 9; t++)
      docs[d][t] = (int64_t)(TL_TEXT_NUM_SPECIALS + (d * 3 + t * 7) % N_WORDS);
    dp[d] = docs[d];
    lens[d] = 9;
  }
  tl_lm_loader_options lo = TL_LM_LOADER_OPTIONS_INIT;
  lo.batch_size = 2;
  lo.bptt = 5;
  lo.variable_length = 0;
  tl_lm_loader *tr = NULL;
  TLT_ASSERT_OK(tl_lm_loader_create(&tr, dp, lens, N_DOCS,
                                    TL_TEXT_NUM_SPECIALS + N_WORDS, &lo));
  TLT_ASSERT_OK(tl_learner_set_lm_data(l, tr, NULL, 2, 5));
  tl_fit_options fo = TL_FIT_OPTIONS_INIT;
  fo.lr = 1e-2;
  TLT_ASSERT_OK(tl_learner_fit(l, 1, &fo));
  const char *path = path_of("lm.tlc");
  TLT_ASSERT_OK(tl_text_learner_export(a, path));

  /* pretrained onto another vocabulary: rows remapped, then frozen */
  TLT_ASSERT_OK(tl_language_model_learner(&b, v2, &o, 1.0f, path, NULL));
  tl_learner *lb = NULL;
  TLT_ASSERT_OK(tl_text_learner_learner(&lb, b));
  int tr0 = 1, tr2 = 0;
  TLT_ASSERT_OK(tl_learner_get_group_trainable(&tr0, lb, 0));
  TLT_ASSERT_OK(tl_learner_get_group_trainable(&tr2, lb, 2));
  ck_assert(tr0 == 0 && tr2 == 1);
  tl_model *ea = NULL, *eb = NULL, *db = NULL;
  TLT_ASSERT_OK(tl_learner_model(&ea, l, 0));
  TLT_ASSERT_OK(tl_learner_model(&eb, lb, 0));
  TLT_ASSERT_OK(tl_learner_model(&db, lb, 1));
  enum { VA = TL_TEXT_NUM_SPECIALS + N_WORDS, VB = TL_TEXT_NUM_SPECIALS + 6 };
  float wa[VA * 6], wb[VB * 6], ha[8 * 4 * 6], hb[8 * 4 * 6];
  TLT_ASSERT_OK(tl_model_param_get(wa, VA * 6, ea, "encoder.weight"));
  TLT_ASSERT_OK(tl_model_param_get(wb, VB * 6, eb, "encoder.weight"));
  /* v2's word j (WORDS[3 + j]) is v1's word 3 + j */
  for (size_t j = 0; j < 6; j++)
    ck_assert_int_eq(memcmp(wb + (TL_TEXT_NUM_SPECIALS + j) * 6,
                            wa + (TL_TEXT_NUM_SPECIALS + 3 + j) * 6,
                            6 * sizeof(float)),
                     0);
  ck_assert_int_eq(memcmp(wb, wa, TL_TEXT_NUM_SPECIALS * 6 * sizeof(float)), 0);
  TLT_ASSERT_OK(tl_model_param_get(ha, 8 * 4 * 6, ea, "rnns_0.weight_ih_l0"));
  TLT_ASSERT_OK(tl_model_param_get(hb, 8 * 4 * 6, eb, "rnns_0.weight_ih_l0"));
  ck_assert_int_eq(memcmp(ha, hb, sizeof ha), 0);
  /* the decoder's bias followed the vocabulary too */
  size_t nd, dims[TL_MODEL_MAX_DIMS];
  TLT_ASSERT_OK(tl_model_param_shape(&nd, dims, NULL, db, "decoder.bias"));
  ck_assert_uint_eq(dims[0], VB);
  /* an LM learner does not classify */
  TLT_ASSERT_FAILS(tl_text_learner_predict(NULL, NULL, 0, a, "good", 4),
                   TL_E_STATE, "language-model");
  tl_text_learner_free(b);
  tl_text_learner_free(a);
  tl_lm_loader_free(tr);
  tl_vocab_free(v1);
  tl_vocab_free(v2);
}
END_TEST

/* Texts, their ids and labels for the classifier. */
typedef struct corpus {
  const char *texts[N_DOCS];
  int64_t ids[N_DOCS][16];
  const int64_t *dp[N_DOCS];
  size_t lens[N_DOCS];
  int64_t labels[N_DOCS];
} corpus;

static void make_corpus(corpus *c, const tl_vocab *v) {
  static const char *const texts[N_DOCS] = {"good film",
                                            "bad plot .",
                                            "great actor , good film",
                                            "awful",
                                            "the plot is awful and bad",
                                            "a great great film",
                                            "bad actor",
                                            "good",
                                            "the film . the plot .",
                                            "awful awful film",
                                            "a good actor",
                                            "bad bad bad plot ."};
  tl_tokenizer *tok = NULL;
  TLT_ASSERT_OK(tl_tokenizer_create(&tok, NULL));
  for (size_t d = 0; d < N_DOCS; d++) {
    c->texts[d] = texts[d];
    size_t n = 0;
    TLT_ASSERT_OK(tl_tokenizer_run(&n, tok, texts[d], strlen(texts[d])));
    ck_assert(n <= 16);
    TLT_ASSERT_OK(tl_vocab_encode_run(c->ids[d], n, v, tok));
    c->dp[d] = c->ids[d];
    c->lens[d] = n;
    c->labels[d] = (int64_t)(d % 3 == 1);
  }
  tl_tokenizer_free(tok);
}

static tl_clas_loader *loader_of(const corpus *c, int shuffle) {
  tl_clas_loader_options o = TL_CLAS_LOADER_OPTIONS_INIT;
  o.batch_size = 4;
  o.pad_first = 0;
  o.shuffle = shuffle;
  o.seed = 3;
  tl_clas_loader *l = NULL;
  TLT_ASSERT_OK(tl_clas_loader_create(&l, c->dp, c->lens, c->labels, N_DOCS,
                                      TL_TEXT_NUM_SPECIALS + N_WORDS, 2, &o));
  return l;
}

START_TEST(classifier_export_predict) {
  tl_vocab *v = make_vocab(0, N_WORDS);
  corpus c;
  make_corpus(&c, v);
  const char *label_names[2] = {"neg", "pos"};
  tl_label_vocab *lv = NULL;
  TLT_ASSERT_OK(tl_label_vocab_create(&lv, label_names, 2));
  tl_awd_lstm_options o = small();
  const size_t lin[1] = {5};
  tl_text_learner *t = NULL;
  TLT_ASSERT_OK(tl_text_classifier_learner(&t, v, lv, 0.5f, 0, lin, 1, NULL, 0,
                                           &o, NULL));
  tl_learner *l = NULL;
  TLT_ASSERT_OK(tl_text_learner_learner(&l, t));
  size_t n = 0;
  TLT_ASSERT_OK(tl_learner_num_groups(&n, l));
  ck_assert_uint_eq(n, 4); /* embedding, rnns_0, rnns_1, head */
  tl_clas_loader *tr = loader_of(&c, 1), *va = loader_of(&c, 0);
  TLT_ASSERT_OK(tl_text_learner_set_clas_data(t, tr, va, c.lens, N_DOCS, c.lens,
                                              N_DOCS, 4, 0));
  TLT_ASSERT_OK(tl_learner_add_metric(l, TL_LEARNER_METRIC_ACCURACY, 0));
  TLT_ASSERT_OK(tl_learner_freeze_to(l, -1));
  tl_fit_options fo = TL_FIT_OPTIONS_INIT;
  fo.lr = 1e-2;
  TLT_ASSERT_OK(tl_learner_fit(l, 2, &fo));
  size_t rows = 0;
  TLT_ASSERT_OK(tl_learner_history_num_rows(&rows, l));
  ck_assert_uint_eq(rows, 2);

  /* get_preds == predict, document by document */
  float probs[N_DOCS * 2], p1[2];
  int64_t targets[N_DOCS];
  TLT_ASSERT_OK(tl_text_learner_get_preds(probs, targets, N_DOCS, &n, t, va,
                                          c.lens, N_DOCS, 0));
  ck_assert_uint_eq(n, N_DOCS);
  /* the unshuffled loader's order: longest first, ties in document order;
   * match each row to its document by its target and predict */
  size_t matched = 0;
  for (size_t d = 0; d < N_DOCS; d++) {
    int64_t cls = -1;
    TLT_ASSERT_OK(tl_text_learner_predict(&cls, p1, 2, t, c.texts[d],
                                          strlen(c.texts[d])));
    TLT_ASSERT_CLOSE(p1[0] + p1[1], 1.0, 1e-6, 1.0);
    ck_assert_int_eq(cls, p1[1] > p1[0]);
    for (size_t i = 0; i < N_DOCS; i++)
      if (targets[i] == c.labels[d] && fabsf(probs[2 * i] - p1[0]) < 1e-5f) {
        matched++;
        break;
      }
  }
  ck_assert_uint_eq(matched, N_DOCS);

  /* export, load from the file alone: the same predictions and groups */
  const char *path = path_of("clas.tlc");
  TLT_ASSERT_OK(tl_text_learner_export(t, path));
  tl_text_learner *back = NULL;
  TLT_ASSERT_OK(tl_load_learner(&back, path, NULL));
  const tl_label_vocab *blv = NULL;
  TLT_ASSERT_OK(tl_text_learner_labels(&blv, back));
  const char *name = NULL;
  TLT_ASSERT_OK(tl_label_vocab_label(&name, blv, 1));
  ck_assert_str_eq(name, "pos");
  tl_learner *bl = NULL;
  TLT_ASSERT_OK(tl_text_learner_learner(&bl, back));
  TLT_ASSERT_OK(tl_learner_num_groups(&n, bl));
  ck_assert_uint_eq(n, 4);
  for (size_t d = 0; d < N_DOCS; d++) {
    float p2[2];
    int64_t c1 = -1, c2 = -2;
    TLT_ASSERT_OK(
        tl_text_learner_predict(&c1, p1, 2, t, c.texts[d], strlen(c.texts[d])));
    TLT_ASSERT_OK(tl_text_learner_predict(&c2, p2, 2, back, c.texts[d],
                                          strlen(c.texts[d])));
    ck_assert_int_eq(c1, c2);
    ck_assert(p1[0] == p2[0] && p1[1] == p2[1]);
  }
  float probs2[N_DOCS * 2];
  TLT_ASSERT_OK(tl_text_learner_get_preds(probs2, NULL, N_DOCS, &n, back, va,
                                          c.lens, N_DOCS, 0));
  ck_assert_int_eq(memcmp(probs, probs2, sizeof probs), 0);

  /* save_encoder / load_encoder between learners */
  const char *enc_path = path_of("enc.tlc");
  TLT_ASSERT_OK(tl_text_learner_save_encoder(t, enc_path));
  TLT_ASSERT_OK(tl_text_learner_load_encoder(back, enc_path));

  /* bad input */
  TLT_ASSERT_FAILS(tl_text_learner_predict(NULL, p1, 2, t, "", 0),
                   TL_E_INVALID_ARG, "empty");
  TLT_ASSERT_FAILS(tl_text_learner_predict(NULL, p1, 3, t, "good", 4),
                   TL_E_INVALID_ARG, "n_classes");
  TLT_ASSERT_FAILS(
      tl_text_learner_get_preds(probs, NULL, 3, &n, t, va, c.lens, N_DOCS, 0),
      TL_E_INVALID_ARG, "capacity");
  o.n_hid = 9;
  tl_text_learner *other = NULL;
  TLT_ASSERT_OK(tl_text_classifier_learner(&other, v, lv, 0.5f, 0, lin, 1, NULL,
                                           0, &o, NULL));
  TLT_ASSERT_FAILS(tl_text_learner_load_encoder(other, enc_path), TL_E_SHAPE,
                   "rnns_0.weight_ih_l0");
  tl_text_learner_free(other);
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_learner_model(&m, l, 1));
  const char *plain = path_of("plain.tlc");
  TLT_ASSERT_OK(tl_model_save(m, plain));
  tl_text_learner *none = NULL;
  TLT_ASSERT_FAILS(tl_load_learner(&none, plain, NULL), TL_E_NOT_FOUND,
                   "no architecture section");
  ck_assert_ptr_null(none);
  TLT_ASSERT_FAILS(tl_load_learner(&none, path_of("missing.tlc"), NULL),
                   TL_E_IO, "missing.tlc");
  TLT_ASSERT_FAILS(tl_text_classifier_learner(&none, v, NULL, 0.5f, 0, NULL, 0,
                                              NULL, 0, NULL, NULL),
                   TL_E_INVALID_ARG, "labels");

  tl_text_learner_free(back);
  tl_text_learner_free(t);
  tl_clas_loader_free(tr);
  tl_clas_loader_free(va);
  tl_label_vocab_free(lv);
  tl_vocab_free(v);
}
END_TEST

int main(void) {
  Suite *s = suite_create("text_learner");
  TCase *tc = tcase_create("text_learner");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, lm_groups_and_pretrained);
  tcase_add_test(tc, classifier_export_predict);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
