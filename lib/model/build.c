/* Building the layer stack: validation of names and chained shapes, the
 * parameter records of each layer, growth of the flat buffers and PyTorch's
 * default initialisation. Every add_* validates everything and allocates
 * everything before it changes the model, so a failed call changes nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "model/model_internal.h"

typedef enum init_kind { INIT_UNIFORM, INIT_NORMAL } init_kind;

typedef struct param_spec {
  const char *suffix;
  size_t ndim;
  size_t dims[2];
  init_kind init;
  double bound; /* uniform: U(-bound, bound) */
} param_spec;

static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n >= TLI_NAME_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

static tl_status check_common(const tl_model *m, const char *name,
                              const char *fn) {
  TLI_CHECK(name != NULL, TL_E_INVALID_ARG, "%s: argument 'name' is NULL", fn);
  TLI_CHECK(valid_name(name), TL_E_INVALID_ARG,
            "%s: name '%.80s' must be 1 to %d characters of [A-Za-z0-9_]", fn,
            name, TLI_NAME_MAX - 1);
  for (size_t i = 0; i < m->n_layers; i++)
    TLI_CHECK(strcmp(m->layers[i].name, name) != 0, TL_E_STATE,
              "%s: a layer named '%s' already exists", fn, name);
  return TL_OK;
}

/* Feature size the next layer receives (0: unknown until forward). */
static size_t last_features(const tl_model *m) {
  return m->n_layers ? m->layers[m->n_layers - 1].out_features : 0;
}

static tl_status check_chain(const tl_model *m, size_t in, const char *fn) {
  size_t prev = last_features(m);
  TLI_CHECK(prev == 0 || in == prev, TL_E_SHAPE,
            "%s: input size %zu does not match the previous layer's output "
            "size %zu",
            fn, in, prev);
  return TL_OK;
}

static tl_status check_prob(float p, const char *arg, const char *fn) {
  TLI_CHECK(isfinite(p) && p >= 0.0f && p < 1.0f, TL_E_INVALID_ARG,
            "%s: %s must be in [0, 1) (got %g)", fn, arg, (double)p);
  return TL_OK;
}

static tl_status check_size(size_t v, const char *arg, const char *fn) {
  TLI_CHECK(v >= 1 && v <= (size_t)1 << 30, TL_E_INVALID_ARG,
            "%s: %s must be in [1, 2^30] (got %zu)", fn, arg, v);
  return TL_OK;
}

static void init_values(tli_rng *rng, float *v, size_t n, const param_spec *s) {
  for (size_t i = 0; i < n; i++) {
    if (s->init == INIT_NORMAL)
      v[i] = (float)tli_rng_normal(rng);
    else
      v[i] = (float)((2.0 * tli_rng_uniform(rng) - 1.0) * s->bound);
  }
}

/* Appends a layer (copied from *proto, given its name) and its parameters.
 * All memory is obtained first; on failure the model is unchanged. */
static tl_status append_layer(tl_model *m, const tli_layer *proto,
                              const char *name, const param_spec *specs,
                              size_t n_specs, const char *fn) {
  size_t add = 0;
  for (size_t i = 0; i < n_specs; i++) {
    size_t n = specs[i].dims[0];
    if (specs[i].ndim == 2 && !tli_mul_size(&n, n, specs[i].dims[1]))
      return tli_fail(TL_E_NOMEM, "%s: parameter size overflows", fn);
    TLI_CHECK(add + n >= add, TL_E_NOMEM, "%s: parameter size overflows", fn);
    add += n;
  }
  size_t numel = m->numel + add;
  TLI_CHECK(numel >= m->numel, TL_E_NOMEM, "%s: parameter size overflows", fn);

  tli_layer *layers = NULL;
  tli_param *params = NULL;
  float *flat = NULL, *grad = NULL;
  tl_status st =
      tli_alloc_checked((void **)&layers, m->n_layers + 1, sizeof *layers, fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&params, m->n_params + n_specs + 1,
                           sizeof *params, fn);
  if (st == TL_OK)
    st =
        tli_alloc_checked((void **)&flat, numel ? numel : 1, sizeof(float), fn);
  if (st == TL_OK)
    st =
        tli_alloc_checked((void **)&grad, numel ? numel : 1, sizeof(float), fn);
  if (st != TL_OK) {
    tli_free(layers);
    tli_free(params);
    tli_free(flat);
    tli_free(grad);
    return st;
  }
  if (m->n_layers)
    memcpy(layers, m->layers, m->n_layers * sizeof *layers);
  if (m->n_params)
    memcpy(params, m->params, m->n_params * sizeof *params);
  if (m->numel) {
    memcpy(flat, m->flat, m->numel * sizeof(float));
    memcpy(grad, m->grad, m->numel * sizeof(float));
  }
  memset(grad + m->numel, 0, add * sizeof(float));

  tli_layer *L = &layers[m->n_layers];
  *L = *proto;
  snprintf(L->name, sizeof L->name, "%s", name);
  L->group = m->n_layers;
  L->first_param = m->n_params;
  L->n_params = n_specs;

  size_t off = m->numel;
  for (size_t i = 0; i < n_specs; i++) {
    tli_param *p = &params[m->n_params + i];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s.%s", name, specs[i].suffix);
    p->ndim = specs[i].ndim;
    p->numel = 1;
    for (size_t d = 0; d < TL_MODEL_MAX_DIMS; d++)
      p->dims[d] = d < p->ndim ? specs[i].dims[d] : 1;
    for (size_t d = 0; d < p->ndim; d++)
      p->numel *= p->dims[d];
    p->offset = off;
    p->layer = m->n_layers;
    p->trainable = 1;
    init_values(&m->rng, flat + off, p->numel, &specs[i]);
    off += p->numel;
  }

  tli_free(m->layers);
  tli_free(m->params);
  tli_free(m->flat);
  tli_free(m->grad);
  m->layers = layers;
  m->params = params;
  m->flat = flat;
  m->grad = grad;
  m->numel = numel;
  m->n_layers++;
  m->n_params += n_specs;
  m->structure++;
  m->have_train_forward = 0;
  return TL_OK;
}

TLI_VERSION_SIZES(embedding_options_sizes, TL_EMBEDDING_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_embedding_options, embed_p));

tl_status tl_embedding_options_init(tl_embedding_options *out,
                                    unsigned int version) {
  static const tl_embedding_options defaults = TL_EMBEDDING_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, embedding_options_sizes,
                          "tl_embedding_options_init");
}

tl_status tl_model_add_embedding(tl_model *model, const char *name,
                                 size_t num_embeddings, size_t dim,
                                 const tl_embedding_options *options) {
  const char *fn = "tl_model_add_embedding";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(check_common(model, name, fn));
  tl_embedding_options o = TL_EMBEDDING_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, embedding_options_sizes, fn, "options"));
  TLI_TRY(check_size(num_embeddings, "num_embeddings", fn));
  TLI_TRY(check_size(dim, "dim", fn));
  TLI_CHECK(o.padding_idx >= -1 && o.padding_idx < (int64_t)num_embeddings,
            TL_E_INVALID_ARG,
            "%s: options->padding_idx %lld must be -1 or in [0, %zu)", fn,
            (long long)o.padding_idx, num_embeddings);
  TLI_TRY(check_prob(o.embed_p, "options->embed_p", fn));
  TLI_CHECK(model->n_layers == 0, TL_E_STATE,
            "%s: an embedding must be the first layer (the model has %zu)", fn,
            model->n_layers);
  tli_layer proto;
  memset(&proto, 0, sizeof proto);
  proto.kind = TLI_LAYER_EMBEDDING;
  proto.in_features = 0;
  proto.out_features = dim;
  proto.p = o.embed_p;
  proto.padding_idx = o.padding_idx;
  param_spec spec = {"weight", 2, {num_embeddings, dim}, INIT_NORMAL, 0.0};
  TLI_TRY(append_layer(model, &proto, name, &spec, 1, fn));
  if (o.padding_idx >= 0) {
    const tli_param *w = &model->params[model->n_params - 1];
    memset(model->flat + w->offset + (size_t)o.padding_idx * dim, 0,
           dim * sizeof(float));
  }
  return TL_OK;
}

TLI_VERSION_SIZES(lstm_options_sizes, TL_LSTM_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_lstm_options, stateful));

tl_status tl_lstm_options_init(tl_lstm_options *out, unsigned int version) {
  static const tl_lstm_options defaults = TL_LSTM_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, lstm_options_sizes,
                          "tl_lstm_options_init");
}

tl_status tl_model_add_lstm(tl_model *model, const char *name,
                            size_t input_size, size_t hidden_size,
                            size_t num_layers, const tl_lstm_options *options) {
  const char *fn = "tl_model_add_lstm";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(check_common(model, name, fn));
  tl_lstm_options o = TL_LSTM_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, lstm_options_sizes, fn, "options"));
  TLI_TRY(check_size(input_size, "input_size", fn));
  TLI_TRY(check_size(hidden_size, "hidden_size", fn));
  TLI_CHECK(hidden_size <= (size_t)1 << 24, TL_E_INVALID_ARG,
            "%s: hidden_size %zu is too large", fn, hidden_size);
  TLI_CHECK(num_layers >= 1 && num_layers <= TLI_LSTM_MAX_LAYERS,
            TL_E_INVALID_ARG, "%s: num_layers must be in [1, %d] (got %zu)", fn,
            TLI_LSTM_MAX_LAYERS, num_layers);
  TLI_TRY(check_prob(o.weight_p, "options->weight_p", fn));
  TLI_TRY(check_prob(o.input_p, "options->input_p", fn));
  TLI_TRY(check_prob(o.hidden_p, "options->hidden_p", fn));
  TLI_TRY(check_prob(o.output_p, "options->output_p", fn));
  TLI_CHECK(isfinite(o.ar_alpha) && o.ar_alpha >= 0.0f, TL_E_INVALID_ARG,
            "%s: options->ar_alpha must be finite and >= 0", fn);
  TLI_CHECK(isfinite(o.tar_beta) && o.tar_beta >= 0.0f, TL_E_INVALID_ARG,
            "%s: options->tar_beta must be finite and >= 0", fn);
  TLI_CHECK(o.stateful == 0 || o.stateful == 1, TL_E_INVALID_ARG,
            "%s: options->stateful must be 0 or 1 (got %d)", fn, o.stateful);
  TLI_TRY(check_chain(model, input_size, fn));

  static const char *const kinds[4] = {"weight_ih_l", "weight_hh_l",
                                       "bias_ih_l", "bias_hh_l"};
  char suffixes[TLI_LSTM_MAX_LAYERS * 4][24];
  param_spec specs[TLI_LSTM_MAX_LAYERS * 4];
  const double bound = 1.0 / sqrt((double)hidden_size);
  for (size_t k = 0; k < num_layers; k++) {
    for (size_t j = 0; j < 4; j++) {
      param_spec *s = &specs[4 * k + j];
      snprintf(suffixes[4 * k + j], sizeof suffixes[0], "%s%zu", kinds[j], k);
      s->suffix = suffixes[4 * k + j];
      s->init = INIT_UNIFORM;
      s->bound = bound;
      s->dims[0] = 4 * hidden_size;
      s->ndim = j < 2 ? 2 : 1;
      s->dims[1] = j == 0 ? (k == 0 ? input_size : hidden_size) : hidden_size;
    }
  }
  tli_layer proto;
  memset(&proto, 0, sizeof proto);
  proto.kind = TLI_LAYER_LSTM;
  proto.in_features = input_size;
  proto.out_features = hidden_size;
  proto.num_layers = num_layers;
  proto.lstm = o;
  return append_layer(model, &proto, name, specs, 4 * num_layers, fn);
}

static tl_status check_act(tl_activation act, const char *fn) {
  TLI_CHECK(act == TL_ACTIVATION_NONE || act == TL_ACTIVATION_RELU ||
                act == TL_ACTIVATION_TANH || act == TL_ACTIVATION_SIGMOID,
            TL_E_INVALID_ARG, "%s: activation %d is unknown", fn, (int)act);
  return TL_OK;
}

tl_status tl_model_add_linear(tl_model *model, const char *name,
                              size_t in_features, size_t out_features,
                              tl_activation activation) {
  const char *fn = "tl_model_add_linear";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(check_common(model, name, fn));
  TLI_TRY(check_size(in_features, "in_features", fn));
  TLI_TRY(check_size(out_features, "out_features", fn));
  TLI_TRY(check_act(activation, fn));
  TLI_TRY(check_chain(model, in_features, fn));
  const double bound = 1.0 / sqrt((double)in_features);
  param_spec specs[2] = {
      {"weight", 2, {out_features, in_features}, INIT_UNIFORM, bound},
      {"bias", 1, {out_features, 1}, INIT_UNIFORM, bound}};
  tli_layer proto;
  memset(&proto, 0, sizeof proto);
  proto.kind = TLI_LAYER_LINEAR;
  proto.in_features = in_features;
  proto.out_features = out_features;
  proto.act = activation;
  return append_layer(model, &proto, name, specs, 2, fn);
}

tl_status tl_model_add_dropout(tl_model *model, const char *name,
                               tl_dropout_kind kind, float p) {
  const char *fn = "tl_model_add_dropout";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(check_common(model, name, fn));
  TLI_CHECK(kind == TL_DROPOUT_STANDARD || kind == TL_DROPOUT_LOCKED,
            TL_E_INVALID_ARG, "%s: kind %d is unknown", fn, (int)kind);
  TLI_TRY(check_prob(p, "p", fn));
  tli_layer proto;
  memset(&proto, 0, sizeof proto);
  proto.kind = TLI_LAYER_DROPOUT;
  proto.in_features = last_features(model);
  proto.out_features = proto.in_features;
  proto.drop = kind;
  proto.p = p;
  return append_layer(model, &proto, name, NULL, 0, fn);
}

tl_status tl_model_add_concat_pool(tl_model *model, const char *name) {
  const char *fn = "tl_model_add_concat_pool";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(check_common(model, name, fn));
  tli_layer proto;
  memset(&proto, 0, sizeof proto);
  proto.kind = TLI_LAYER_CONCAT_POOL;
  proto.in_features = last_features(model);
  proto.out_features = 3 * proto.in_features;
  return append_layer(model, &proto, name, NULL, 0, fn);
}

/* 1 if a decoder of `from` (or of a model it ties to) is tied to `to`. */
static int ties_to(const tl_model *from, const tl_model *to, int depth) {
  if (depth > 64)
    return 1; /* deeper than any sane stack: refuse rather than recurse */
  for (size_t i = 0; i < from->n_layers; i++) {
    const tl_model *t = from->layers[i].tie_model;
    if (t == NULL || t == from)
      continue;
    if (t == to || ties_to(t, to, depth + 1))
      return 1;
  }
  return 0;
}

tl_status tl_model_add_decoder(tl_model *model, const char *name,
                               size_t in_features, size_t out_features,
                               tl_model *tie_model, const char *tie_layer) {
  const char *fn = "tl_model_add_decoder";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(check_common(model, name, fn));
  TLI_TRY(check_size(in_features, "in_features", fn));
  TLI_TRY(check_size(out_features, "out_features", fn));
  TLI_TRY(check_chain(model, in_features, fn));
  tli_layer proto;
  memset(&proto, 0, sizeof proto);
  proto.kind = TLI_LAYER_DECODER;
  proto.in_features = in_features;
  proto.out_features = out_features;
  proto.act = TL_ACTIVATION_NONE;
  const double bound = 1.0 / sqrt((double)in_features);
  param_spec specs[2] = {
      {"weight", 2, {out_features, in_features}, INIT_UNIFORM, bound},
      {"bias", 1, {out_features, 1}, INIT_UNIFORM, bound}};
  if (tie_layer == NULL) {
    TLI_CHECK(tie_model == NULL, TL_E_INVALID_ARG,
              "%s: tie_model given but tie_layer is NULL", fn);
    return append_layer(model, &proto, name, specs, 2, fn);
  }
  tl_model *owner = tie_model ? tie_model : model;
  const tli_layer *E = NULL;
  for (size_t i = 0; i < owner->n_layers; i++)
    if (strcmp(owner->layers[i].name, tie_layer) == 0)
      E = &owner->layers[i];
  TLI_CHECK(E != NULL, TL_E_NOT_FOUND, "%s: tie_layer '%.80s' not found", fn,
            tie_layer);
  TLI_CHECK(E->kind == TLI_LAYER_EMBEDDING, TL_E_INVALID_ARG,
            "%s: tie_layer '%s' is not an embedding", fn, tie_layer);
  const tli_param *w = &owner->params[E->first_param];
  TLI_CHECK(w->dims[0] == out_features && w->dims[1] == in_features, TL_E_SHAPE,
            "%s: tied embedding '%s' is (%zu, %zu) but the decoder needs "
            "(out_features %zu, in_features %zu)",
            fn, tie_layer, w->dims[0], w->dims[1], out_features, in_features);
  TLI_CHECK(owner == model || !ties_to(owner, model, 0), TL_E_STATE,
            "%s: tying to '%s' would make a cycle of tied models", fn,
            tie_layer);
  proto.tie_model = owner;
  proto.tie_param = E->first_param;
  TLI_TRY(append_layer(model, &proto, name, &specs[1], 1, fn));
  if (owner != model)
    tli_model_retain(owner);
  return TL_OK;
}
