/* fastai's save_encoder / load_encoder with the vocabulary
 * (include/tl/arch.h): the encoder's parameters, the token of each
 * embedding row and the architecture in one checkpoint; loading remaps the
 * rows when the vocabularies differ (tl_ckpt_remap_vocab). */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "tl/arch.h"
#include "tl/ckpt.h"

/* The prefix of the carried LSTM state tensors tl_ckpt_store_model writes
 * (docs/format.md): an encoder file holds parameters, not an LM's state. */
#define TLI_STATE_PREFIX "@state."

/* The encoder's embedding: its first parameter, (vocab size, dim). */
static tl_status embedding_of(const char **out_name, const tl_model *encoder,
                              size_t n_vocab, const char *fn) {
  size_t n_params = 0;
  TLI_TRY(tl_model_num_params(&n_params, encoder));
  TLI_CHECK(n_params > 0, TL_E_SHAPE,
            "%s: the encoder has no parameters (its first layer must be an "
            "embedding)",
            fn);
  const char *name = NULL;
  TLI_TRY(tl_model_param_name(&name, encoder, 0));
  size_t nd = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
  TLI_TRY(tl_model_param_shape(&nd, dims, &numel, encoder, name));
  TLI_CHECK(nd == 2 && dims[0] == n_vocab, TL_E_SHAPE,
            "%s: the encoder's first parameter '%s' is not an embedding of "
            "the vocabulary's %zu rows (shape (%zu, %zu))",
            fn, name, n_vocab, dims[0], nd == 2 ? dims[1] : (size_t)1);
  *out_name = name;
  return TL_OK;
}

static tl_status save_into(tl_ckpt *ck, const tl_model *encoder,
                           const tl_vocab *vocab, size_t n_vocab,
                           const char *path) {
  TLI_TRY(tl_ckpt_store_model(ck, encoder, NULL));
  /* Drop carried states (an LM encoder's last windows): a classifier
   * starts each document from zeros. Removing from the end keeps the
   * indices of those not yet seen. */
  size_t n = 0;
  TLI_TRY(tl_ckpt_tensor_count(&n, ck));
  for (size_t i = n; i-- > 0;) {
    tl_ckpt_tensor_desc d = TL_CKPT_TENSOR_DESC_INIT;
    TLI_TRY(tl_ckpt_tensor_info(&d, ck, i));
    if (strncmp(d.name, TLI_STATE_PREFIX, strlen(TLI_STATE_PREFIX)) == 0)
      TLI_TRY(tl_ckpt_remove_tensor(ck, i));
  }
  const char *const *tokens = NULL;
  TLI_TRY(tl_vocab_tokens(&tokens, vocab));
  TLI_TRY(tl_ckpt_set_vocab(ck, tokens, n_vocab));
  const tl_model *models[1] = {encoder};
  const char *prefixes[1] = {""};
  TLI_TRY(tl_ckpt_store_arch(ck, models, prefixes, 1));
  return tl_ckpt_save(ck, path);
}

tl_status tl_encoder_save(const tl_model *encoder, const tl_vocab *vocab,
                          const char *path) {
  const char *fn = "tl_encoder_save";
  TLI_CHECK_PTR(fn, encoder);
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK_PTR(fn, path);
  size_t n_vocab = 0;
  TLI_TRY(tl_vocab_size(&n_vocab, vocab));
  const char *emb = NULL;
  TLI_TRY(embedding_of(&emb, encoder, n_vocab, fn));
  tl_ckpt *ck = NULL;
  TLI_TRY(tl_ckpt_create(&ck));
  const tl_status st = save_into(ck, encoder, vocab, n_vocab, path);
  tl_ckpt_free(ck);
  return st;
}

/* 1 when the checkpoint's vocabulary is exactly tokens[0..n). */
static int same_vocab(const tl_ckpt *ck, const char *const *tokens, size_t n) {
  size_t m = 0;
  if (tl_ckpt_vocab_size(&m, ck) != TL_OK || m != n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    const char *t = NULL;
    if (tl_ckpt_vocab_token(&t, ck, i) != TL_OK || strcmp(t, tokens[i]) != 0)
      return 0;
  }
  return 1;
}

static tl_status load_from(tl_model *encoder, tl_ckpt *ck,
                           const tl_vocab *vocab, size_t n_vocab,
                           const char *emb, uint8_t *out_is_new,
                           const char *fn) {
  const char *const *tokens = NULL;
  TLI_TRY(tl_vocab_tokens(&tokens, vocab));
  size_t old = 0;
  const int has_vocab = tl_ckpt_vocab_size(&old, ck) == TL_OK;
  tl_clear_error();
  if (out_is_new != NULL)
    memset(out_is_new, 0, n_vocab);
  if (has_vocab && !same_vocab(ck, tokens, n_vocab)) {
    size_t index = 0;
    TLI_CHECK(tl_ckpt_find_tensor(&index, ck, emb) == TL_OK, TL_E_NOT_FOUND,
              "%s: the file has no tensor '%s' (the encoder's embedding)", fn,
              emb);
    TLI_TRY(tl_ckpt_remap_vocab(out_is_new, ck, tokens, n_vocab, &emb, 1));
  }
  tl_model_load_options o = TL_MODEL_LOAD_OPTIONS_INIT;
  /* fastai's load_encoder moves weights only; the dropout stream stays. */
  o.restore_rng = 0;
  return tl_ckpt_restore_model(encoder, ck, &o);
}

tl_status tl_encoder_load(tl_model *encoder, const tl_vocab *vocab,
                          const char *path, uint8_t *out_is_new) {
  const char *fn = "tl_encoder_load";
  TLI_CHECK_PTR(fn, encoder);
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK_PTR(fn, path);
  size_t n_vocab = 0;
  TLI_TRY(tl_vocab_size(&n_vocab, vocab));
  const char *emb = NULL;
  TLI_TRY(embedding_of(&emb, encoder, n_vocab, fn));
  tl_ckpt *ck = NULL;
  TLI_TRY(tl_ckpt_load(&ck, path, NULL));
  tl_status st = load_from(encoder, ck, vocab, n_vocab, emb, out_is_new, fn);
  tl_ckpt_free(ck);
  if (st != TL_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", tl_last_error());
    st = tli_fail(st, "%s: %s: %s", fn, path, msg);
  }
  return st;
}
