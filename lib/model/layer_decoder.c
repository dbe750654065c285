/* The decoder: a linear layer without activation (..., in) -> (..., out)
 * whose weight may be the embedding of this or another model (weight
 * tying, as AWD-LSTM's language model); it then registers only its bias
 * and holds a reference to the owner. Forward and backward are the linear
 * layer's (layer_linear.c), which read the tied weight. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "model/layer_ops.h"

static size_t register_params(const tli_layer *L, tli_param_spec *specs) {
  const double bound = 1.0 / sqrt((double)L->in_features);
  size_t n = 0;
  if (L->tie_model == NULL)
    specs[n++] = (tli_param_spec){"weight",
                                  2,
                                  {L->out_features, L->in_features},
                                  TLI_INIT_UNIFORM,
                                  bound};
  specs[n++] = (tli_param_spec){
      "bias", 1, {L->out_features, 1}, TLI_INIT_UNIFORM, bound};
  return n;
}

/* No settings: in and out features and the tie are the record's own
 * fields. */
static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  return tl_model_add_decoder(m, name, proto->in_features, proto->out_features,
                              tie_model, tie_layer);
}

const tli_layer_ops tli_layer_decoder_ops = {
    .kind_name = "decoder",
    .register_params = register_params,
    .out_shape = tli_layer_linear_out_shape,
    .forward = tli_layer_linear_forward,
    .backward = tli_layer_linear_backward,
    .release_training = tli_layer_release_scratch,
    .arch_add = arch_add,
};

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
  TLI_TRY(tli_build_check_name(model, name, fn));
  TLI_TRY(tli_build_check_size(in_features, "in_features", fn));
  TLI_TRY(tli_build_check_size(out_features, "out_features", fn));
  TLI_TRY(tli_build_check_chain(model, in_features, fn));
  tli_layer proto =
      tli_layer_proto(TLI_LAYER_DECODER, in_features, out_features);
  proto.cfg.act = TL_ACTIVATION_NONE;
  if (tie_layer == NULL) {
    TLI_CHECK(tie_model == NULL, TL_E_INVALID_ARG,
              "%s: tie_model given but tie_layer is NULL", fn);
    return tli_model_append_layer(model, &proto, name, fn);
  }
  tl_model *owner = tie_model ? tie_model : model;
  const tli_layer *E = NULL;
  for (size_t i = 0; i < owner->n_layers; i++)
    if (strcmp(owner->layers[i].name, tie_layer) == 0)
      E = &owner->layers[i];
  TLI_CHECK(E != NULL, TL_E_NOT_FOUND, "%s: tie_layer '%.80s' not found", fn,
            tie_layer);
  TLI_CHECK(tli_layer_ops_for(E->kind) == &tli_layer_embedding_ops,
            TL_E_INVALID_ARG, "%s: tie_layer '%s' is not an embedding", fn,
            tie_layer);
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
  TLI_TRY(tli_model_append_layer(model, &proto, name, fn));
  if (owner != model)
    tli_model_retain(owner);
  return TL_OK;
}
