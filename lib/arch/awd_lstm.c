/* fastai's AWD-LSTM language model and classifier encoder built from the
 * public model API (include/tl/arch.h): one single-layer LSTM per AWD layer
 * so that each is its own layer group, as fastai's splits want. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "tl/arch.h"

/* fastai's AWD_LSTM.initrange and LinearDecoder's: U(-0.1, 0.1). */
#define TLI_AWD_INITRANGE 0.1

TLI_VERSION_SIZES(awd_lstm_options_sizes, TL_AWD_LSTM_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_awd_lstm_options, seed));

tl_status tl_awd_lstm_options_init(tl_awd_lstm_options *out,
                                   unsigned int version) {
  static const tl_awd_lstm_options defaults = TL_AWD_LSTM_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, awd_lstm_options_sizes,
                          "tl_awd_lstm_options_init");
}

tl_status tl_awd_lstm_clas_options_init(tl_awd_lstm_options *out,
                                        unsigned int version) {
  /* fastai's awd_lstm_clas_config: only the dropouts differ. */
  static const tl_awd_lstm_options defaults = {TL_AWD_LSTM_OPTIONS_VERSION,
                                               400,
                                               1152,
                                               3,
                                               1,
                                               0.4f,
                                               0.3f,
                                               0.4f,
                                               0.05f,
                                               0.5f,
                                               2.0f,
                                               1.0f,
                                               0};
  return TLI_OPTIONS_INIT(out, &defaults, version, awd_lstm_options_sizes,
                          "tl_awd_lstm_clas_options_init");
}

/* The options with drop_mult applied, every field checked (the add calls
 * check again, but a message naming the AWD option is clearer). */
static tl_status scaled_options(tl_awd_lstm_options *o,
                                const tl_awd_lstm_options *options,
                                int clas_defaults, size_t vocab_size,
                                float drop_mult, const char *fn) {
  if (clas_defaults)
    TLI_TRY(tl_awd_lstm_clas_options_init(o, TL_AWD_LSTM_OPTIONS_VERSION));
  else
    TLI_TRY(tl_awd_lstm_options_init(o, TL_AWD_LSTM_OPTIONS_VERSION));
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(o, options, awd_lstm_options_sizes, fn, "options"));
  TLI_CHECK(vocab_size >= 1 && vocab_size <= (size_t)1 << 30, TL_E_INVALID_ARG,
            "%s: vocab_size must be in [1, 2^30] (got %zu)", fn, vocab_size);
  TLI_CHECK(o->emb_sz >= 1 && o->emb_sz <= (size_t)1 << 24, TL_E_INVALID_ARG,
            "%s: options->emb_sz must be in [1, 2^24] (got %zu)", fn,
            o->emb_sz);
  TLI_CHECK(o->n_hid >= 1 && o->n_hid <= (size_t)1 << 24, TL_E_INVALID_ARG,
            "%s: options->n_hid must be in [1, 2^24] (got %zu)", fn, o->n_hid);
  TLI_CHECK(o->n_layers >= 1 && o->n_layers <= 16, TL_E_INVALID_ARG,
            "%s: options->n_layers must be in [1, 16] (got %zu)", fn,
            o->n_layers);
  TLI_CHECK(o->pad_token >= -1 && o->pad_token < (int64_t)vocab_size,
            TL_E_INVALID_ARG,
            "%s: options->pad_token %lld must be -1 or in [0, vocab_size %zu)",
            fn, (long long)o->pad_token, vocab_size);
  TLI_CHECK(isfinite(drop_mult) && drop_mult >= 0.0f, TL_E_INVALID_ARG,
            "%s: drop_mult must be finite and >= 0 (got %g)", fn,
            (double)drop_mult);
  struct {
    float *p;
    const char *name;
  } probs[5] = {{&o->output_p, "output_p"},
                {&o->hidden_p, "hidden_p"},
                {&o->input_p, "input_p"},
                {&o->embed_p, "embed_p"},
                {&o->weight_p, "weight_p"}};
  for (size_t i = 0; i < 5; i++) {
    const float p = *probs[i].p * drop_mult;
    TLI_CHECK(isfinite(p) && p >= 0.0f && p < 1.0f, TL_E_INVALID_ARG,
              "%s: options->%s %g times drop_mult %g is %g, outside [0, 1)", fn,
              probs[i].name, (double)*probs[i].p, (double)drop_mult, (double)p);
    *probs[i].p = p;
  }
  TLI_CHECK(isfinite(o->ar_alpha) && o->ar_alpha >= 0.0f, TL_E_INVALID_ARG,
            "%s: options->ar_alpha must be finite and >= 0", fn);
  TLI_CHECK(isfinite(o->tar_beta) && o->tar_beta >= 0.0f, TL_E_INVALID_ARG,
            "%s: options->tar_beta must be finite and >= 0", fn);
  return TL_OK;
}

/* The AWD_LSTM encoder: embedding "encoder" then rnns_0..rnns_{L-1}. lm:
 * the last layer drops its output with output_p (the LM decoder's
 * output_dp, see arch.h). */
static tl_status build_encoder(tl_model *m, size_t vocab_size,
                               const tl_awd_lstm_options *o, int lm) {
  tl_embedding_options eo = TL_EMBEDDING_OPTIONS_INIT;
  eo.padding_idx = o->pad_token;
  eo.embed_p = o->embed_p;
  TLI_TRY(tl_model_add_embedding(m, "encoder", vocab_size, o->emb_sz, &eo));
  for (size_t k = 0; k < o->n_layers; k++) {
    const int last = k + 1 == o->n_layers;
    tl_lstm_options lo = TL_LSTM_OPTIONS_INIT;
    lo.weight_p = o->weight_p;
    lo.input_p = k == 0 ? o->input_p : 0.0f;
    /* fastai: hidden_dps[k] after every layer but the last */
    lo.output_p = last ? (lm ? o->output_p : 0.0f) : o->hidden_p;
    lo.ar_alpha = last ? o->ar_alpha : 0.0f;
    lo.tar_beta = last ? o->tar_beta : 0.0f;
    lo.stateful = 1;
    char name[32];
    snprintf(name, sizeof name, "rnns_%zu", k);
    const size_t in = k == 0 ? o->emb_sz : o->n_hid;
    const size_t out = last ? o->emb_sz : o->n_hid;
    TLI_TRY(tl_model_add_lstm(m, name, in, out, 1, &lo));
  }
  /* fastai: self.encoder.weight.data.uniform_(-initrange, initrange) after
   * nn.Embedding's init, so the padding row is drawn too. A stream jumped
   * away from the model's own keeps dropout masks independent of it. */
  float *w = NULL;
  TLI_TRY(tl_model_param_view(&w, NULL, m, "encoder.weight"));
  tli_rng rng;
  tli_rng_seed(&rng, o->seed);
  tli_rng_jump(&rng);
  const size_t n = vocab_size * o->emb_sz;
  for (size_t i = 0; i < n; i++)
    w[i] = (float)((2.0 * tli_rng_uniform(&rng) - 1.0) * TLI_AWD_INITRANGE);
  return TL_OK;
}

static tl_status new_model(tl_model **out, uint64_t seed) {
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = seed;
  return tl_model_create(out, &mo);
}

tl_status tl_awd_lstm_lm_create(tl_model **out_encoder, tl_model **out_decoder,
                                size_t vocab_size,
                                const tl_awd_lstm_options *options,
                                float drop_mult) {
  const char *fn = "tl_awd_lstm_lm_create";
  TLI_CHECK_PTR(fn, out_encoder);
  TLI_CHECK_PTR(fn, out_decoder);
  tl_awd_lstm_options o;
  TLI_TRY(scaled_options(&o, options, 0, vocab_size, drop_mult, fn));
  tl_model *enc = NULL, *dec = NULL;
  tl_status st = new_model(&enc, o.seed);
  if (st == TL_OK)
    st = build_encoder(enc, vocab_size, &o, 1);
  /* fastai's awd_lstm_lm_split: each LSTM a group, the embedding last. */
  for (size_t k = 0; st == TL_OK && k <= o.n_layers; k++) {
    char name[32];
    snprintf(name, sizeof name, "rnns_%zu", k);
    st = tl_model_set_group(enc, k < o.n_layers ? name : "encoder", k);
  }
  /* The decoder's own stream: seed + 1 keeps its dropout-free init apart
   * from the encoder's (it only draws a bias that is then zeroed). */
  if (st == TL_OK)
    st = new_model(&dec, o.seed + 1);
  if (st == TL_OK)
    st = tl_model_add_decoder(dec, "decoder", o.emb_sz, vocab_size, enc,
                              "encoder");
  float *bias = NULL;
  if (st == TL_OK)
    st = tl_model_param_view(&bias, NULL, dec, "decoder.bias");
  if (st != TL_OK) {
    tl_model_free(dec);
    tl_model_free(enc);
    return st;
  }
  memset(bias, 0, vocab_size * sizeof *bias); /* fastai: bias.data.zero_() */
  *out_encoder = enc;
  *out_decoder = dec;
  return TL_OK;
}

tl_status tl_awd_lstm_encoder_create(tl_model **out, size_t vocab_size,
                                     const tl_awd_lstm_options *options,
                                     float drop_mult) {
  const char *fn = "tl_awd_lstm_encoder_create";
  TLI_CHECK_PTR(fn, out);
  tl_awd_lstm_options o;
  TLI_TRY(scaled_options(&o, options, 1, vocab_size, drop_mult, fn));
  tl_model *enc = NULL;
  tl_status st = new_model(&enc, o.seed);
  if (st == TL_OK)
    st = build_encoder(enc, vocab_size, &o, 0);
  if (st != TL_OK) {
    tl_model_free(enc);
    return st;
  }
  *out = enc; /* groups: layer index = fastai's awd_lstm_clas_split */
  return TL_OK;
}

/* ---- the classifier head --------------------------------------------- */

static tl_status build_head(tl_model *m, size_t n_features, size_t n_classes,
                            const size_t *lin_ftrs, size_t n_lin,
                            const float *ps) {
  TLI_TRY(tl_model_add_concat_pool(m, "pool"));
  size_t in = 3 * n_features;
  for (size_t i = 0; i <= n_lin; i++) {
    const size_t out = i < n_lin ? lin_ftrs[i] : n_classes;
    char name[48];
    snprintf(name, sizeof name, "layers_%zu_bn", i);
    TLI_TRY(tl_model_add_batchnorm1d(m, name, in, NULL));
    if (ps[i] != 0.0f) { /* fastai: if p != 0: layers.append(Dropout(p)) */
      snprintf(name, sizeof name, "layers_%zu_drop", i);
      TLI_TRY(tl_model_add_dropout(m, name, TL_DROPOUT_STANDARD, ps[i]));
    }
    tl_linear_options lo = TL_LINEAR_OPTIONS_INIT;
    lo.bias = 0; /* LinBnDrop: bias = not bn */
    lo.activation = i < n_lin ? TL_ACTIVATION_RELU : TL_ACTIVATION_NONE;
    snprintf(name, sizeof name, "layers_%zu_lin", i);
    TLI_TRY(tl_model_add_linear_ex(m, name, in, out, &lo));
    in = out;
  }
  /* awd_lstm_clas_split: the whole head is one group */
  size_t n = 0;
  TLI_TRY(tl_model_num_layers(&n, m));
  for (size_t l = 0; l < n; l++) {
    const char *name = NULL;
    TLI_TRY(tl_model_layer_name(&name, m, l));
    TLI_TRY(tl_model_set_group(m, name, 0));
  }
  return TL_OK;
}

static tl_status check_head(size_t n_features, size_t n_classes,
                            const size_t *lin_ftrs, size_t n_lin,
                            const float *ps, size_t n_ps, const char *fn) {
  TLI_CHECK(n_features >= 1 && n_features <= (size_t)1 << 28, TL_E_INVALID_ARG,
            "%s: n_features must be in [1, 2^28] (got %zu)", fn, n_features);
  TLI_CHECK(n_classes >= 1 && n_classes <= (size_t)1 << 30, TL_E_INVALID_ARG,
            "%s: n_classes must be in [1, 2^30] (got %zu)", fn, n_classes);
  TLI_CHECK(n_lin <= TL_ARCH_MAX_LIN_FTRS, TL_E_INVALID_ARG,
            "%s: n_lin_ftrs %zu is above %d", fn, n_lin, TL_ARCH_MAX_LIN_FTRS);
  TLI_CHECK(lin_ftrs != NULL || n_lin == 0, TL_E_INVALID_ARG,
            "%s: argument 'lin_ftrs' is NULL", fn);
  for (size_t i = 0; i < n_lin; i++)
    TLI_CHECK(
        lin_ftrs[i] >= 1 && lin_ftrs[i] <= (size_t)1 << 30, TL_E_INVALID_ARG,
        "%s: lin_ftrs[%zu] must be in [1, 2^30] (got %zu)", fn, i, lin_ftrs[i]);
  TLI_CHECK(ps != NULL, TL_E_INVALID_ARG, "%s: argument 'ps' is NULL", fn);
  TLI_CHECK(n_ps == n_lin + 1, TL_E_INVALID_ARG,
            "%s: n_ps is %zu but the head has %zu linear layers (n_lin_ftrs "
            "+ 1)",
            fn, n_ps, n_lin + 1);
  for (size_t i = 0; i < n_ps; i++)
    TLI_CHECK(isfinite(ps[i]) && ps[i] >= 0.0f && ps[i] < 1.0f,
              TL_E_INVALID_ARG, "%s: ps[%zu] must be in [0, 1) (got %g)", fn, i,
              (double)ps[i]);
  return TL_OK;
}

tl_status tl_pooling_linear_create(tl_model **out, size_t n_features,
                                   size_t n_classes, const size_t *lin_ftrs,
                                   size_t n_lin_ftrs, const float *ps,
                                   size_t n_ps, uint64_t seed) {
  const char *fn = "tl_pooling_linear_create";
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(
      check_head(n_features, n_classes, lin_ftrs, n_lin_ftrs, ps, n_ps, fn));
  tl_model *m = NULL;
  tl_status st = new_model(&m, seed);
  if (st == TL_OK)
    st = build_head(m, n_features, n_classes, lin_ftrs, n_lin_ftrs, ps);
  if (st != TL_OK) {
    tl_model_free(m);
    return st;
  }
  *out = m;
  return TL_OK;
}

tl_status tl_awd_lstm_clas_create(tl_model **out_encoder, tl_model **out_head,
                                  size_t vocab_size, size_t n_classes,
                                  const tl_awd_lstm_options *options,
                                  float drop_mult, const size_t *lin_ftrs,
                                  size_t n_lin_ftrs, const float *ps,
                                  size_t n_ps) {
  const char *fn = "tl_awd_lstm_clas_create";
  TLI_CHECK_PTR(fn, out_encoder);
  TLI_CHECK_PTR(fn, out_head);
  tl_awd_lstm_options o;
  TLI_TRY(scaled_options(&o, options, 1, vocab_size, drop_mult, fn));
  /* fastai's get_text_classifier: lin_ftrs None -> [50], ps None -> [0.1]
   * per hidden layer, then ps = [output_p] + ps */
  static const size_t default_lin[1] = {50};
  if (lin_ftrs == NULL) {
    TLI_CHECK(n_lin_ftrs == 0, TL_E_INVALID_ARG,
              "%s: lin_ftrs is NULL (fastai's [50]) but n_lin_ftrs is %zu", fn,
              n_lin_ftrs);
    lin_ftrs = default_lin;
    n_lin_ftrs = 1;
  }
  TLI_CHECK(n_lin_ftrs <= TL_ARCH_MAX_LIN_FTRS, TL_E_INVALID_ARG,
            "%s: n_lin_ftrs %zu is above %d", fn, n_lin_ftrs,
            TL_ARCH_MAX_LIN_FTRS);
  TLI_CHECK(ps == NULL || n_ps == n_lin_ftrs, TL_E_INVALID_ARG,
            "%s: n_ps is %zu but there are %zu hidden layers (lin_ftrs)", fn,
            n_ps, n_lin_ftrs);
  float all_ps[TL_ARCH_MAX_LIN_FTRS + 1];
  all_ps[0] = o.output_p; /* already times drop_mult */
  for (size_t i = 0; i < n_lin_ftrs; i++)
    all_ps[i + 1] = ps != NULL ? ps[i] : 0.1f;
  TLI_TRY(check_head(o.emb_sz, n_classes, lin_ftrs, n_lin_ftrs, all_ps,
                     n_lin_ftrs + 1, fn));
  tl_model *enc = NULL, *head = NULL;
  tl_status st = new_model(&enc, o.seed);
  if (st == TL_OK)
    st = build_encoder(enc, vocab_size, &o, 0);
  if (st == TL_OK)
    st = new_model(&head, o.seed + 1);
  if (st == TL_OK)
    st = build_head(head, o.emb_sz, n_classes, lin_ftrs, n_lin_ftrs, all_ps);
  if (st != TL_OK) {
    tl_model_free(head);
    tl_model_free(enc);
    return st;
  }
  *out_encoder = enc;
  *out_head = head;
  return TL_OK;
}
