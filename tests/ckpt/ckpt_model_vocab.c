/* Vocabulary remapping (lib/ckpt/ckpt_vocab.c) against fastai's
 * match_embeds, and row masks that train only the new rows. */
#include "ckpt_model_common.h"

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

TCase *ckpt_model_tcase_ckpt_model_vocab(void);
TCase *ckpt_model_tcase_ckpt_model_vocab(void) {
  TCase *tc = tcase_create("vocab_remap");
  tcase_add_test(tc, remap_vocab_matches_fastai_match_embeds);
  tcase_add_test(tc, row_mask_trains_only_new_rows);
  return tc;
}
