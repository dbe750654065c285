/* End to end, fastai's match_embeds with the text layer's vocabularies:
 * a model whose rows follow vocabulary A (built from corpus A) is saved
 * with A in a checkpoint; vocabulary B comes from corpus B (some tokens
 * shared, some new); tl_ckpt_remap_vocab maps the checkpoint onto B and it
 * loads into a model sized for B: shared tokens keep their rows, new ones
 * get the mean row, and a row mask from the new-token flags lets one
 * AdamW step move only the new rows. */
#include "tl_test.h"

#define EMB 3

static const char *const corpus_a[2] = {"the cat sat on the mat.",
                                        "the cat ate."};
static const char *const corpus_b[2] = {"the dog sat on the log.",
                                        "a bird ate."};
/* Tokens of B that A lacks (fastai's rules give "xxbos the dog sat on the
 * log ." and "xxbos a bird ate ."). */
static const char *const new_in_b[4] = {"dog", "log", "a", "bird"};

static tl_vocab *vocab_of(const char *const *texts) {
  const size_t lens[2] = {strlen(texts[0]), strlen(texts[1])};
  tl_text_corpus *corpus = NULL;
  TLT_ASSERT_OK(tl_text_corpus_tokenize(&corpus, texts, lens, 2, NULL, 1));
  tl_token_counts *counts = NULL;
  TLT_ASSERT_OK(tl_token_counts_create(&counts));
  TLT_ASSERT_OK(tl_token_counts_add_corpus(counts, corpus));
  tl_vocab_options o;
  TLT_ASSERT_OK(tl_vocab_options_init(&o, TL_VOCAB_OPTIONS_VERSION));
  o.min_freq = 1;
  o.pad_multiple = 0;
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create_from_counts(&v, counts, &o));
  tl_token_counts_free(counts);
  tl_text_corpus_free(corpus);
  return v;
}

/* Embedding (V, EMB) then an untied decoder Linear(EMB, V): three tensors
 * whose first dimension is the vocabulary. */
static tl_model *model_of(size_t v, uint64_t seed) {
  tl_model_options mo;
  TLT_ASSERT_OK(tl_model_options_init(&mo, TL_MODEL_OPTIONS_VERSION));
  mo.seed = seed;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, &mo));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", v, EMB, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "dec", EMB, v, TL_ACTIVATION_NONE));
  return m;
}

static const char *const row_params[3] = {"emb.weight", "dec.weight",
                                          "dec.bias"};
static const size_t row_width[3] = {EMB, EMB, 1};

START_TEST(match_embeds_end_to_end) {
  tl_vocab *va = vocab_of(corpus_a), *vb = vocab_of(corpus_b);
  size_t na = 0, nb = 0;
  TLT_ASSERT_OK(tl_vocab_size(&na, va));
  TLT_ASSERT_OK(tl_vocab_size(&nb, vb));
  /* 9 specials + the . cat sat on mat ate; 9 + the . sat on log dog a bird
   * ate. */
  ck_assert_uint_eq(na, 16);
  ck_assert_uint_eq(nb, 18);
  tl_model *ma = model_of(na, 1);

  /* Save model A and vocabulary A in one checkpoint image, load it back. */
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  TLT_ASSERT_OK(tl_ckpt_store_model(c, ma, NULL));
  const char *const *toks_a = NULL, *const *toks_b = NULL;
  TLT_ASSERT_OK(tl_vocab_tokens(&toks_a, va));
  TLT_ASSERT_OK(tl_vocab_tokens(&toks_b, vb));
  TLT_ASSERT_OK(tl_ckpt_set_vocab(c, toks_a, na));
  size_t size = 0, written = 0;
  TLT_ASSERT_OK(tl_ckpt_serialized_size(&size, c));
  unsigned char *img = malloc(size);
  ck_assert_ptr_nonnull(img);
  TLT_ASSERT_OK(tl_ckpt_save_buffer(img, size, &written, c));
  tl_ckpt_free(c);
  c = NULL;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&c, img, written, NULL));
  free(img);

  uint8_t is_new[18];
  memset(is_new, 0xAA, sizeof is_new);
  TLT_ASSERT_OK(tl_ckpt_remap_vocab(is_new, c, toks_b, nb, row_params, 3));
  tl_model *mb = model_of(nb, 2); /* other seed: every row must be loaded */
  TLT_ASSERT_OK(tl_ckpt_restore_model(mb, c, NULL));

  /* The new flags are exactly the four new tokens. */
  size_t n_new = 0;
  for (size_t j = 0; j < nb; j++) {
    ck_assert(is_new[j] == 0 || is_new[j] == 1);
    n_new += is_new[j];
  }
  ck_assert_uint_eq(n_new, 4);
  for (size_t k = 0; k < 4; k++) {
    int64_t id = -1, unk = -1, in_a = -1;
    TLT_ASSERT_OK(tl_vocab_id(&id, vb, new_in_b[k], strlen(new_in_b[k])));
    TLT_ASSERT_OK(tl_vocab_id(&unk, vb, "xxunk", 5));
    TLT_ASSERT_OK(tl_vocab_id(&in_a, va, new_in_b[k], strlen(new_in_b[k])));
    ck_assert_int_ne(id, unk);
    ck_assert_int_eq(in_a, 0); /* unknown to A: xxunk, id 0 */
    ck_assert_int_eq(is_new[id], 1);
  }

  for (size_t p = 0; p < 3; p++) {
    const size_t w = row_width[p];
    float *old = NULL, *got = NULL;
    TLT_ASSERT_OK(tl_model_param_view(&old, NULL, ma, row_params[p]));
    TLT_ASSERT_OK(tl_model_param_view(&got, NULL, mb, row_params[p]));
    /* The mean of A's rows, in double, rounded once. */
    float mean[EMB];
    for (size_t k = 0; k < w; k++) {
      double s = 0;
      for (size_t r = 0; r < na; r++)
        s += old[r * w + k];
      mean[k] = (float)(s / (double)na);
    }
    for (size_t j = 0; j < nb; j++) {
      int64_t ja = -1;
      TLT_ASSERT_OK(tl_vocab_id(&ja, va, toks_b[j], strlen(toks_b[j])));
      const int shared = strcmp(toks_a[ja], toks_b[j]) == 0;
      ck_assert_int_eq(is_new[j], !shared);
      if (shared)
        ck_assert_msg(
            memcmp(got + j * w, old + (size_t)ja * w, w * sizeof(float)) == 0,
            "%s row of '%s' differs from A's row %lld", row_params[p],
            toks_b[j], (long long)ja);
      else
        TLT_ASSERT_ARRAY_CLOSE(got + j * w, mean, w, 1e-6, 1e-7);
    }
  }

  /* One AdamW step with every vocabulary-indexed row masked but the new
   * ones: the batch uses old and new tokens, so old rows do get gradients
   * (and weight decay would move them) but must not change. */
  for (size_t p = 0; p < 3; p++)
    TLT_ASSERT_OK(tl_model_set_row_mask(mb, row_params[p], is_new, nb));
  tl_optim_options oo;
  TLT_ASSERT_OK(
      tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  oo.lr = 0.01;
  oo.weight_decay = 0.1;
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &mb, 1, &oo));
  float *before[3];
  size_t numel[3];
  for (size_t p = 0; p < 3; p++) {
    float *v = NULL;
    TLT_ASSERT_OK(tl_model_param_view(&v, NULL, mb, row_params[p]));
    numel[p] = nb * row_width[p];
    before[p] = malloc(numel[p] * sizeof(float));
    memcpy(before[p], v, numel[p] * sizeof(float));
  }
  int64_t dog = -1, the = -1, bird = -1, sat = -1;
  TLT_ASSERT_OK(tl_vocab_id(&dog, vb, "dog", 3));
  TLT_ASSERT_OK(tl_vocab_id(&the, vb, "the", 3));
  TLT_ASSERT_OK(tl_vocab_id(&bird, vb, "bird", 4));
  TLT_ASSERT_OK(tl_vocab_id(&sat, vb, "sat", 3));
  const int64_t ids[4] = {the, dog, sat, bird},
                targets[4] = {dog, sat, bird, the};
  const size_t dims[1] = {4};
  const float *y = NULL;
  size_t ydims[8], yndim = 0;
  TLT_ASSERT_OK(tl_model_zero_grad(mb));
  TLT_ASSERT_OK(tl_model_forward_ids(&y, ydims, &yndim, mb, ids, dims, 1));
  ck_assert(yndim == 2 && ydims[0] == 4 && ydims[1] == nb);
  float loss = 0, *dy = malloc(4 * nb * sizeof(float));
  TLT_ASSERT_OK(tl_cross_entropy(&loss, dy, y, targets, 4, nb, -100));
  TLT_ASSERT_OK(tl_model_backward(NULL, mb, dy, ydims, 2));
  TLT_ASSERT_OK(tl_optim_step(opt));

  for (size_t p = 0; p < 3; p++) {
    const size_t w = row_width[p];
    float *now = NULL, *grad = NULL;
    TLT_ASSERT_OK(tl_model_param_view(&now, &grad, mb, row_params[p]));
    size_t moved_old_grads = 0;
    for (size_t j = 0; j < nb; j++)
      for (size_t k = 0; k < w; k++) {
        const size_t i = j * w + k;
        if (!is_new[j]) {
          ck_assert_msg(memcmp(&now[i], &before[p][i], sizeof(float)) == 0,
                        "%s[%zu] of the old token '%s' moved", row_params[p], i,
                        toks_b[j]);
          moved_old_grads += grad[i] != 0.0f;
          continue;
        }
        /* torch.optim.AdamW, first step: w (1 - lr wd) - lr g / (|g| +
         * eps) (bias corrections make m_hat = g, v_hat = g^2). */
        const double g = grad[i], w0 = before[p][i];
        const double want =
            w0 * (1 - oo.lr * oo.weight_decay) - oo.lr * g / (fabs(g) + oo.eps);
        TLT_ASSERT_CLOSE(now[i], want, 1e-5, 1e-7);
      }
    /* The old rows had gradients: the mask, not their absence, held them. */
    ck_assert_uint_gt(moved_old_grads, 0);
  }
  /* The new embedding rows in the batch moved by about lr. */
  float *emb = NULL;
  TLT_ASSERT_OK(tl_model_param_view(&emb, NULL, mb, "emb.weight"));
  for (size_t k = 0; k < EMB; k++) {
    ck_assert(fabsf(emb[dog * EMB + k] - before[0][dog * EMB + k]) > 0.005f);
    ck_assert(fabsf(emb[bird * EMB + k] - before[0][bird * EMB + k]) > 0.005f);
  }

  free(dy);
  for (size_t p = 0; p < 3; p++)
    free(before[p]);
  tl_optim_free(opt);
  tl_ckpt_free(c);
  tl_model_free(ma);
  tl_model_free(mb);
  tl_vocab_free(va);
  tl_vocab_free(vb);
}
END_TEST

TCase *labels_tcase_match_embeds(void);
TCase *labels_tcase_match_embeds(void) {
  TCase *tc = tcase_create("match_embeds");
  tcase_add_test(tc, match_embeds_end_to_end);
  return tc;
}
