/* Layers and layer groups: lookup, group assignment and fastai freezing
 * (freeze_to with negative indices, freeze, unfreeze, chain-thaw). */
#include <inttypes.h>
#include <string.h>

#include "core/error.h"
#include "model/layer_ops.h"

static tl_status find_layer(const tl_model *m, size_t *out, const char *name,
                            const char *fn) {
  TLI_CHECK(name != NULL, TL_E_INVALID_ARG, "%s: argument 'layer' is NULL", fn);
  for (size_t i = 0; i < m->n_layers; i++)
    if (strcmp(m->layers[i].name, name) == 0) {
      *out = i;
      return TL_OK;
    }
  return tli_fail(TL_E_NOT_FOUND, "%s: no layer named '%.80s'", fn, name);
}

tl_status tl_model_num_layers(size_t *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_num_layers", model);
  TLI_CHECK_PTR("tl_model_num_layers", out);
  *out = model->n_layers;
  return TL_OK;
}

tl_status tl_model_layer_name(const char **out, const tl_model *model,
                              size_t index) {
  TLI_CHECK_PTR("tl_model_layer_name", model);
  TLI_CHECK_PTR("tl_model_layer_name", out);
  TLI_CHECK(index < model->n_layers, TL_E_INVALID_ARG,
            "tl_model_layer_name: index %zu out of range (%zu layers)", index,
            model->n_layers);
  *out = model->layers[index].name;
  return TL_OK;
}

tl_status tl_model_layer_kind(const char **out, const tl_model *model,
                              size_t index) {
  TLI_CHECK_PTR("tl_model_layer_kind", model);
  TLI_CHECK_PTR("tl_model_layer_kind", out);
  TLI_CHECK(index < model->n_layers, TL_E_INVALID_ARG,
            "tl_model_layer_kind: index %zu out of range (%zu layers)", index,
            model->n_layers);
  *out = tli_layer_ops_for(model->layers[index].kind)->kind_name;
  return TL_OK;
}

tl_status tl_model_layer_index(size_t *out, const tl_model *model,
                               const char *name) {
  TLI_CHECK_PTR("tl_model_layer_index", model);
  TLI_CHECK_PTR("tl_model_layer_index", out);
  return find_layer(model, out, name, "tl_model_layer_index");
}

size_t tli_model_num_groups(const tl_model *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_layers; i++)
    if (m->layers[i].group + 1 > n)
      n = m->layers[i].group + 1;
  return n;
}

tl_status tl_model_set_group(tl_model *model, const char *layer, size_t group) {
  TLI_CHECK_PTR("tl_model_set_group", model);
  size_t i = 0;
  TLI_TRY(find_layer(model, &i, layer, "tl_model_set_group"));
  TLI_CHECK(group < model->n_layers, TL_E_INVALID_ARG,
            "tl_model_set_group: group %zu must be < the number of layers "
            "(%zu)",
            group, model->n_layers);
  model->layers[i].group = group;
  return TL_OK;
}

tl_status tl_model_get_group(size_t *out, const tl_model *model,
                             const char *layer) {
  TLI_CHECK_PTR("tl_model_get_group", model);
  TLI_CHECK_PTR("tl_model_get_group", out);
  size_t i = 0;
  TLI_TRY(find_layer(model, &i, layer, "tl_model_get_group"));
  *out = model->layers[i].group;
  return TL_OK;
}

tl_status tl_model_num_groups(size_t *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_num_groups", model);
  TLI_CHECK_PTR("tl_model_num_groups", out);
  *out = tli_model_num_groups(model);
  return TL_OK;
}

/* 1 for a layer whose parameters train_bn keeps trainable in a frozen
 * group (fastai's force_train on BatchNorm parameters). */
static int kept_by_train_bn(const tl_model *m, const tli_layer *L) {
  return m->train_bn && tli_layer_ops_for(L->kind)->normalisation;
}

/* Sets layer L's frozen flag and its parameters' trainable flags. */
static void set_layer_frozen(tl_model *m, tli_layer *L, int frozen) {
  L->frozen = frozen;
  const int trainable = !frozen || kept_by_train_bn(m, L);
  for (size_t k = 0; k < L->n_params; k++)
    m->params[L->first_param + k].trainable = trainable;
}

void tli_model_set_group_flag(tl_model *m, size_t group, int trainable) {
  for (size_t l = 0; l < m->n_layers; l++)
    if (m->layers[l].group == group)
      set_layer_frozen(m, &m->layers[l], !trainable);
}

void tli_model_apply_freeze_to(tl_model *m, size_t n) {
  for (size_t l = 0; l < m->n_layers; l++)
    set_layer_frozen(m, &m->layers[l], m->layers[l].group < n);
}

tl_status tl_model_set_train_bn(tl_model *model, int train_bn) {
  static const char fn[] = "tl_model_set_train_bn";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK(train_bn == 0 || train_bn == 1, TL_E_INVALID_ARG,
            "%s: train_bn must be 0 or 1 (got %d)", fn, train_bn);
  model->train_bn = train_bn;
  /* Normalisation layers of groups frozen before now follow the new
   * setting, so the flags never depend on the order of the calls. */
  for (size_t l = 0; l < model->n_layers; l++) {
    tli_layer *L = &model->layers[l];
    if (L->frozen && tli_layer_ops_for(L->kind)->normalisation)
      set_layer_frozen(model, L, 1);
  }
  return TL_OK;
}

tl_status tl_model_get_train_bn(int *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_get_train_bn", model);
  TLI_CHECK_PTR("tl_model_get_train_bn", out);
  *out = model->train_bn;
  return TL_OK;
}

tl_status tl_model_freeze_to(tl_model *model, int64_t n) {
  TLI_CHECK_PTR("tl_model_freeze_to", model);
  const int64_t g = (int64_t)tli_model_num_groups(model);
  TLI_CHECK(n >= -g && n <= g, TL_E_INVALID_ARG,
            "tl_model_freeze_to: n = %" PRId64 " is outside [-%" PRId64
            ", %" PRId64 "] (the model has %" PRId64 " groups)",
            n, g, g, g);
  tli_model_apply_freeze_to(model, (size_t)(n < 0 ? g + n : n));
  return TL_OK;
}

tl_status tl_model_freeze(tl_model *model) {
  TLI_CHECK_PTR("tl_model_freeze", model);
  TLI_CHECK(model->n_layers > 0, TL_E_STATE,
            "tl_model_freeze: the model has no layers");
  return tl_model_freeze_to(model, -1);
}

tl_status tl_model_unfreeze(tl_model *model) {
  TLI_CHECK_PTR("tl_model_unfreeze", model);
  return tl_model_freeze_to(model, 0);
}

tl_status tl_model_set_group_trainable(tl_model *model, size_t group,
                                       int trainable) {
  TLI_CHECK_PTR("tl_model_set_group_trainable", model);
  const size_t g = tli_model_num_groups(model);
  TLI_CHECK(group < g, TL_E_INVALID_ARG,
            "tl_model_set_group_trainable: group %zu out of range (%zu "
            "groups)",
            group, g);
  TLI_CHECK(trainable == 0 || trainable == 1, TL_E_INVALID_ARG,
            "tl_model_set_group_trainable: trainable must be 0 or 1 (got %d)",
            trainable);
  tli_model_set_group_flag(model, group, trainable);
  return TL_OK;
}

tl_status tl_model_get_group_trainable(int *out, const tl_model *model,
                                       size_t group) {
  TLI_CHECK_PTR("tl_model_get_group_trainable", model);
  TLI_CHECK_PTR("tl_model_get_group_trainable", out);
  const size_t g = tli_model_num_groups(model);
  TLI_CHECK(group < g, TL_E_INVALID_ARG,
            "tl_model_get_group_trainable: group %zu out of range (%zu groups)",
            group, g);
  int any = 0;
  for (size_t i = 0; i < model->n_params; i++) {
    const tli_layer *L = &model->layers[model->params[i].layer];
    /* a frozen group stays frozen though train_bn trains its BatchNorm */
    if (L->group == group && model->params[i].trainable &&
        !(L->frozen && kept_by_train_bn(model, L)))
      any = 1;
  }
  *out = any;
  return TL_OK;
}
