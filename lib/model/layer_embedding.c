/* The embedding layer (torch.nn.Embedding, with AWD-LSTM's embedding
 * dropout of whole rows): int64 ids of any shape -> that shape + (dim). It
 * must be the first layer; the model then takes ids. */
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "model/layer_ops.h"

static size_t register_params(const tli_layer *L, tli_param_spec *specs) {
  specs[0] =
      (tli_param_spec){"weight",
                       2,
                       {L->cfg.embedding.num_embeddings, L->out_features},
                       TLI_INIT_NORMAL,
                       0.0};
  return 1;
}

static tl_status out_shape(const tl_model *m, const tli_layer *L,
                           size_t *out_dims, size_t *out_ndim,
                           const size_t *in_dims, size_t in_ndim) {
  (void)m;
  (void)in_dims;
  TLI_CHECK(in_ndim < TL_MODEL_MAX_DIMS, TL_E_SHAPE,
            "layer '%s': ids may have at most %d dims", L->name,
            TL_MODEL_MAX_DIMS - 1);
  out_dims[in_ndim] = L->out_features;
  *out_ndim = in_ndim + 1;
  return TL_OK;
}

static tl_status forward(tl_model *m, tli_layer *L, const float *x,
                         const int64_t *ids) {
  (void)x;
  const size_t n_in = tli_dims_prod(L->in_dims, L->in_ndim);
  const size_t n_out = tli_dims_prod(L->out_dims, L->out_ndim);
  const tli_param *w = &m->params[L->first_param];
  const float p = L->cfg.embedding.embed_p;
  const float *scale = NULL;
  TLI_TRY(tli_buf_reserve_discard(&L->out, n_out, "embedding output"));
  if (tli_model_training(m) && p > 0.0f) {
    TLI_TRY(tli_buf_reserve_discard(&L->mask, w->dims[0], "embedding dropout"));
    tli_dropout_mask(L->mask.p, w->dims[0], p, &m->rng);
    scale = L->mask.p;
  }
  tli_embedding_forward(L->out.p, m->flat + w->offset, scale, ids, n_in,
                        w->dims[1]);
  L->y = L->out.p;
  return TL_OK;
}

static tl_status backward(tl_model *m, tli_layer *L, float *dy, int want_dx) {
  (void)want_dx; /* ids have no gradient */
  const size_t n_in = tli_dims_prod(L->in_dims, L->in_ndim);
  const tli_param *w = &m->params[L->first_param];
  if (!tli_param_is_trainable(m, L->first_param))
    return TL_OK;
  const float *scale = (L->cfg.embedding.embed_p > 0.0f) ? L->mask.p : NULL;
  tli_embedding_backward(m->grad + w->offset, dy, scale, m->in_ids, n_in,
                         w->dims[1], L->cfg.embedding.padding_idx);
  return TL_OK;
}

static tl_status check_ids(const tl_model *m, const tli_layer *L,
                           const int64_t *ids, size_t n, const char *fn) {
  const tli_param *w = &m->params[L->first_param];
  const size_t bad = tli_embedding_find_bad_id(ids, n, w->dims[0]);
  TLI_CHECK(bad == n, TL_E_INVALID_ARG,
            "%s: ids[%zu] = %lld is outside [0, %zu)", fn, bad,
            bad < n ? (long long)ids[bad] : 0LL, w->dims[0]);
  return TL_OK;
}

/* Architecture settings: num_embeddings, padding_idx, embed_p. */
static size_t arch_values(const tli_layer *L, double *v) {
  v[0] = (double)L->cfg.embedding.num_embeddings;
  v[1] = (double)L->cfg.embedding.padding_idx;
  v[2] = (double)L->cfg.embedding.embed_p;
  return 3;
}

static tl_status arch_decode(tli_layer *proto, const double *v, size_t n,
                             const char *fn) {
  const char *k = "embedding";
  int64_t num = 0, pad = 0;
  TLI_TRY(tli_arch_count(n, 3, k, fn));
  TLI_TRY(
      tli_arch_int(&num, v[0], 1, (int64_t)1 << 30, k, "num_embeddings", fn));
  TLI_TRY(tli_arch_int(&pad, v[1], -1, (int64_t)1 << 30, k, "padding_idx", fn));
  TLI_TRY(
      tli_arch_float(&proto->cfg.embedding.embed_p, v[2], k, "embed_p", fn));
  proto->cfg.embedding.num_embeddings = (size_t)num;
  proto->cfg.embedding.padding_idx = pad;
  return TL_OK;
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  (void)tie_model;
  (void)tie_layer;
  tl_embedding_options o = TL_EMBEDDING_OPTIONS_INIT;
  o.padding_idx = proto->cfg.embedding.padding_idx;
  o.embed_p = proto->cfg.embedding.embed_p;
  return tl_model_add_embedding(m, name, proto->cfg.embedding.num_embeddings,
                                proto->out_features, &o);
}

const tli_layer_ops tli_layer_embedding_ops = {
    .kind_name = "embedding",
    .register_params = register_params,
    .out_shape = out_shape,
    .forward = forward,
    .backward = backward,
    .release_training = tli_layer_release_scratch,
    .check_ids = check_ids,
    .arch_values = arch_values,
    .arch_decode = arch_decode,
    .arch_add = arch_add,
};

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
  TLI_TRY(tli_build_check_name(model, name, fn));
  tl_embedding_options o = TL_EMBEDDING_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, embedding_options_sizes, fn, "options"));
  TLI_TRY(tli_build_check_size(num_embeddings, "num_embeddings", fn));
  TLI_TRY(tli_build_check_size(dim, "dim", fn));
  TLI_CHECK(o.padding_idx >= -1 && o.padding_idx < (int64_t)num_embeddings,
            TL_E_INVALID_ARG,
            "%s: options->padding_idx %lld must be -1 or in [0, %zu)", fn,
            (long long)o.padding_idx, num_embeddings);
  TLI_TRY(tli_build_check_prob(o.embed_p, "options->embed_p", fn));
  TLI_CHECK(model->n_layers == 0, TL_E_STATE,
            "%s: an embedding must be the first layer (the model has %zu)", fn,
            model->n_layers);
  tli_layer proto = tli_layer_proto(TLI_LAYER_EMBEDDING, 0, dim);
  proto.cfg.embedding.embed_p = o.embed_p;
  proto.cfg.embedding.padding_idx = o.padding_idx;
  proto.cfg.embedding.num_embeddings = num_embeddings;
  TLI_TRY(tli_model_append_layer(model, &proto, name, fn));
  if (o.padding_idx >= 0) {
    const tli_param *w = &model->params[model->n_params - 1];
    memset(model->flat + w->offset + (size_t)o.padding_idx * dim, 0,
           dim * sizeof(float));
  }
  return TL_OK;
}
