/* tl_learner (include/tl/learn.h): creation, the grouping across models,
 * batch sources, loss, metrics, callback registration, history and
 * saving. The loops are in fit.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "learn/learn_internal.h"
#include "model/model_internal.h"
#include "tl/ckpt.h"

TLI_VERSION_SIZES(learner_options_sizes, TL_LEARNER_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_learner_options, ignore_index));
TLI_VERSION_SIZES(batch_source_sizes, TL_BATCH_SOURCE_VERSION,
                  TLI_FIELD_END(tl_batch_source, reset_state));
TLI_VERSION_SIZES(clas_data_options_sizes, TL_CLAS_DATA_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_clas_data_options, n_valid));
TLI_VERSION_SIZES(host_metric_sizes, TL_HOST_METRIC_VERSION,
                  TLI_FIELD_END(tl_host_metric, payload));
TLI_VERSION_SIZES(callback_sizes, TL_CALLBACK_VERSION,
                  TLI_FIELD_END(tl_callback, name));
TLI_VERSION_SIZES(monitor_options_sizes, TL_MONITOR_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_monitor_options, patience));

tl_status tl_learner_options_init(tl_learner_options *out,
                                  unsigned int version) {
  static const tl_learner_options defaults = TL_LEARNER_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, learner_options_sizes,
                          "tl_learner_options_init");
}

tl_status tl_clas_data_options_init(tl_clas_data_options *out,
                                    unsigned int version) {
  static const tl_clas_data_options defaults = TL_CLAS_DATA_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, clas_data_options_sizes,
                          "tl_clas_data_options_init");
}

tl_status tl_monitor_options_init(tl_monitor_options *out,
                                  unsigned int version) {
  static const tl_monitor_options defaults = TL_MONITOR_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, monitor_options_sizes,
                          "tl_monitor_options_init");
}

tl_status tli_learner_grow(void **buf, size_t *cap, size_t need, size_t size,
                           const char *fn) {
  if (need <= *cap)
    return TL_OK;
  void *p = NULL;
  TLI_TRY(tli_alloc_checked(&p, need, size, fn));
  if (*buf != NULL && *cap > 0)
    memcpy(p, *buf, *cap * size);
  tli_free(*buf);
  *buf = p;
  *cap = need;
  return TL_OK;
}

static char *dup_string(const char *s) {
  const size_t n = strlen(s) + 1;
  char *p = tli_alloc(n);
  if (p != NULL)
    memcpy(p, s, n);
  return p;
}

/* ---- creation ------------------------------------------------------------ */

static tl_status check_options(const tl_learner_options *o, const char *fn) {
  TLI_CHECK(o->opt_kind == TL_OPTIM_SGD || o->opt_kind == TL_OPTIM_ADAM ||
                o->opt_kind == TL_OPTIM_ADAMW,
            TL_E_INVALID_ARG, "%s: options->opt_kind %d is not an optimizer",
            fn, (int)o->opt_kind);
  TLI_CHECK(isfinite(o->lr) && o->lr >= 0.0, TL_E_INVALID_ARG,
            "%s: options->lr must be finite and >= 0 (got %g)", fn, o->lr);
  TLI_CHECK(isfinite(o->mom) && o->mom >= 0.0 && o->mom < 1.0, TL_E_INVALID_ARG,
            "%s: options->mom must be in [0, 1) (got %g)", fn, o->mom);
  TLI_CHECK(isfinite(o->sqr_mom) && o->sqr_mom >= 0.0 && o->sqr_mom < 1.0,
            TL_E_INVALID_ARG, "%s: options->sqr_mom must be in [0, 1) (got %g)",
            fn, o->sqr_mom);
  TLI_CHECK(isfinite(o->eps) && o->eps > 0.0, TL_E_INVALID_ARG,
            "%s: options->eps must be finite and > 0 (got %g)", fn, o->eps);
  TLI_CHECK(isfinite(o->wd) && o->wd >= 0.0, TL_E_INVALID_ARG,
            "%s: options->wd must be finite and >= 0 (got %g)", fn, o->wd);
  return TL_OK;
}

static const char *const fixed_columns[] = {"epoch", "train_loss",
                                            "valid_loss"};

tl_status tl_learner_create(tl_learner **out, tl_model *const *models,
                            size_t n_models,
                            const tl_learner_options *options) {
  static const char fn[] = "tl_learner_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, models);
  TLI_CHECK(n_models >= 1, TL_E_INVALID_ARG, "%s: n_models must be >= 1", fn);
  tl_learner_options o = TL_LEARNER_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, learner_options_sizes, fn, "options"));
  TLI_TRY(check_options(&o, fn));
  for (size_t i = 0; i < n_models; i++) {
    TLI_CHECK(models[i] != NULL, TL_E_INVALID_ARG, "%s: models[%zu] is NULL",
              fn, i);
    for (size_t j = 0; j < i; j++)
      TLI_CHECK(models[j] != models[i], TL_E_INVALID_ARG,
                "%s: models[%zu] is models[%zu] (a chain holds distinct "
                "models)",
                fn, i, j);
    size_t nl = 0;
    TLI_TRY(tl_model_num_layers(&nl, models[i]));
    TLI_CHECK(nl > 0, TL_E_STATE, "%s: models[%zu] has no layers", fn, i);
  }
  tl_learner *l = tli_calloc(1, sizeof *l);
  TLI_CHECK(l != NULL, TL_E_NOMEM, "%s: out of memory", fn);
  l->opts = o;
  tl_status st =
      tli_alloc_checked((void **)&l->models, n_models, sizeof *l->models, fn);
  /* zeroed: tli_learner_sync compares them with the models' counts */
  l->n_layers = tli_calloc(n_models, sizeof(size_t));
  l->n_mgroups = tli_calloc(n_models, sizeof(size_t));
  l->n_params = tli_calloc(n_models, sizeof(size_t));
  if (st == TL_OK &&
      (l->n_layers == NULL || l->n_mgroups == NULL || l->n_params == NULL))
    st = tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&l->odims, n_models * TL_MODEL_MAX_DIMS,
                           sizeof(size_t), fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&l->ondim, n_models, sizeof(size_t), fn);
  if (st == TL_OK) {
    l->columns = tli_calloc(4, sizeof(char *));
    if (l->columns == NULL)
      st = tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  }
  for (size_t c = 0; st == TL_OK && c < 4; c++) {
    l->columns[c] = dup_string(c < 3 ? fixed_columns[c] : "time");
    if (l->columns[c] == NULL)
      st = tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  }
  if (st != TL_OK) {
    tl_learner_free(l);
    return st;
  }
  /* The learner holds one reference per model, as an optimizer does: an
   * optimizer over the chain alone would die with the first rebuild. */
  for (size_t i = 0; i < n_models; i++) {
    l->models[i] = models[i];
    tli_model_retain(models[i]);
    l->n_models++;
  }
  st = tli_learner_sync(l, fn);
  if (st != TL_OK) {
    tl_learner_free(l);
    return st;
  }
  *out = l;
  return TL_OK;
}

static void free_src(tli_src *s) {
  tli_free(s->doc_lens);
  tli_free(s->batch_lens);
  memset(s, 0, sizeof *s);
}

void tl_learner_free(tl_learner *l) {
  if (l == NULL)
    return;
  tl_optim_free(l->optim);
  for (size_t i = 0; i < l->n_models; i++)
    tl_model_free(l->models[i]);
  if (l->lgroup != NULL)
    for (size_t i = 0; i < l->n_models; i++)
      tli_free(l->lgroup[i]);
  tli_free(l->lgroup);
  tli_free(l->models);
  tli_free(l->n_layers);
  tli_free(l->n_mgroups);
  tli_free(l->n_params);
  tli_free(l->opt_lg);
  tli_free(l->opt_model);
  tli_free(l->opt_mgroup);
  free_src(&l->train);
  free_src(&l->valid);
  for (size_t i = 0; i < l->n_metrics; i++)
    tli_free(l->metrics[i].name);
  tli_free(l->metrics);
  if (l->columns != NULL)
    for (size_t c = 0; c < 4 + l->n_metrics; c++)
      tli_free(l->columns[c]);
  tli_free(l->columns);
  for (size_t i = 0; i < l->n_cbs; i++) {
    tli_free(l->cbs[i].name);
    tli_free(l->cbs[i].monitor);
    tli_free(l->cbs[i].path);
  }
  tli_free(l->cbs);
  tli_free(l->reporters);
  tli_free(l->history);
  tli_free(l->dy);
  tli_free(l->lg_lrs);
  tli_free(l->opt_lrs);
  tli_free(l->opt_base);
  tli_free(l->f1_pred);
  tli_free(l->f1_target);
  tli_free(l->metric_values);
  tli_free(l->odims);
  tli_free(l->ondim);
  tli_free(l);
}

tl_status tl_learner_num_models(size_t *out, const tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_num_models", out);
  TLI_CHECK_PTR("tl_learner_num_models", learner);
  *out = learner->n_models;
  return TL_OK;
}

tl_status tl_learner_model(tl_model **out, const tl_learner *learner,
                           size_t index) {
  TLI_CHECK_PTR("tl_learner_model", out);
  TLI_CHECK_PTR("tl_learner_model", learner);
  TLI_CHECK(index < learner->n_models, TL_E_INVALID_ARG,
            "tl_learner_model: index %zu is out of range (the chain has %zu "
            "models)",
            index, learner->n_models);
  *out = learner->models[index];
  return TL_OK;
}

tl_status tl_learner_optim(tl_optim **out, tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_optim", out);
  TLI_CHECK_PTR("tl_learner_optim", learner);
  TLI_TRY(tli_learner_sync(learner, "tl_learner_optim"));
  *out = learner->optim;
  return TL_OK;
}

/* ---- grouping -------------------------------------------------------------
 * The optimizer's groups are the models' groups concatenated. In the default
 * grouping learner group o is optimizer group o. In the custom grouping the
 * learner renumbers each model's layer groups by rank among the learner
 * groups its layers belong to, so model m's group r is the r-th smallest
 * learner group present in m, and builds the optimizer on that. */

static tl_status build_optim(tl_learner *l, const char *fn) {
  tl_optim_options oo;
  TLI_TRY(
      tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, l->opts.opt_kind));
  oo.lr = l->opts.lr;
  oo.momentum = l->opts.mom;
  oo.beta2 = l->opts.sqr_mom;
  oo.eps = l->opts.eps;
  oo.weight_decay = l->opts.wd;
  tl_optim *optim = NULL;
  TLI_TRY(tl_optim_create(&optim, l->models, l->n_models, &oo));
  size_t n = 0;
  tl_status st = tl_optim_num_groups(&n, optim);
  size_t *lg = NULL, *om = NULL, *og = NULL;
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&lg, n ? n : 1, sizeof(size_t), fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&om, n ? n : 1, sizeof(size_t), fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&og, n ? n : 1, sizeof(size_t), fn);
  size_t o = 0, n_groups = 0;
  for (size_t m = 0; st == TL_OK && m < l->n_models; m++) {
    size_t ng = 0;
    st = tl_model_num_groups(&ng, l->models[m]);
    for (size_t g = 0; st == TL_OK && g < ng; g++, o++) {
      om[o] = m;
      og[o] = g;
      lg[o] = o;
      if (l->custom) {
        /* the g-th smallest learner group of model m's layers */
        size_t prev = SIZE_MAX, rank = 0;
        for (;;) {
          size_t next = SIZE_MAX;
          for (size_t k = 0; k < l->n_layers[m]; k++) {
            const size_t v = l->lgroup[m][k];
            if ((prev == SIZE_MAX || v > prev) && v < next)
              next = v;
          }
          if (rank == g || next == SIZE_MAX) {
            lg[o] = next;
            break;
          }
          prev = next;
          rank++;
        }
      }
      if (lg[o] + 1 > n_groups)
        n_groups = lg[o] + 1;
    }
  }
  if (st == TL_OK && l->custom)
    for (size_t m = 0; m < l->n_models; m++)
      for (size_t k = 0; k < l->n_layers[m]; k++)
        if (l->lgroup[m][k] + 1 > n_groups)
          n_groups = l->lgroup[m][k] + 1;
  if (st != TL_OK) {
    tli_free(lg);
    tli_free(om);
    tli_free(og);
    tl_optim_free(optim);
    return st;
  }
  tl_optim_free(l->optim);
  tli_free(l->opt_lg);
  tli_free(l->opt_model);
  tli_free(l->opt_mgroup);
  l->optim = optim;
  l->opt_lg = lg, l->opt_model = om, l->opt_mgroup = og;
  l->n_opt_groups = n;
  l->n_groups = n_groups;
  return TL_OK;
}

/* Renumbers each model's layer groups from the custom grouping. */
static tl_status apply_custom(tl_learner *l, const char *fn) {
  for (size_t m = 0; m < l->n_models; m++) {
    for (size_t k = 0; k < l->n_layers[m]; k++) {
      size_t rank = 0;
      const size_t v = l->lgroup[m][k];
      for (size_t j = 0; j < l->n_layers[m]; j++) {
        /* count distinct learner groups below v */
        const size_t w = l->lgroup[m][j];
        if (w >= v)
          continue;
        int first = 1;
        for (size_t i = 0; i < j; i++)
          if (l->lgroup[m][i] == w)
            first = 0;
        rank += (size_t)first;
      }
      const char *name = NULL;
      TLI_TRY(tl_model_layer_name(&name, l->models[m], k));
      TLI_TRY(tl_model_set_group(l->models[m], name, rank));
    }
  }
  (void)fn;
  return TL_OK;
}

tl_status tli_learner_sync(tl_learner *l, const char *fn) {
  int changed = l->optim == NULL || l->regroup;
  for (size_t m = 0; m < l->n_models; m++) {
    size_t nl = 0, ng = 0, np = 0;
    TLI_TRY(tl_model_num_layers(&nl, l->models[m]));
    TLI_TRY(tl_model_num_groups(&ng, l->models[m]));
    TLI_TRY(tl_model_num_params(&np, l->models[m]));
    if (l->custom && nl != l->n_layers[m])
      return tli_fail(TL_E_STATE,
                      "%s: models[%zu] has %zu layers, %zu when its layers "
                      "were grouped (tl_learner_set_group): create a new "
                      "learner after changing a model",
                      fn, m, nl, l->n_layers[m]);
    if (nl != l->n_layers[m] || ng != l->n_mgroups[m] || np != l->n_params[m])
      changed = 1;
  }
  if (!changed)
    return TL_OK;
  /* The running fit holds per-group buffers sized for this optimizer. */
  TLI_CHECK(!l->in_fit, TL_E_STATE,
            "%s: a model of the learner changed structure during a fit", fn);
  if (l->custom)
    TLI_TRY(apply_custom(l, fn));
  TLI_TRY(build_optim(l, fn));
  for (size_t m = 0; m < l->n_models; m++) {
    tl_model_num_layers(&l->n_layers[m], l->models[m]);
    tl_model_num_groups(&l->n_mgroups[m], l->models[m]);
    tl_model_num_params(&l->n_params[m], l->models[m]);
  }
  l->regroup = 0;
  return TL_OK;
}

tl_status tl_learner_set_group(tl_learner *learner, size_t model_index,
                               const char *layer, size_t group) {
  static const char fn[] = "tl_learner_set_group";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, layer);
  tl_learner *l = learner;
  TLI_CHECK(!l->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  TLI_CHECK(model_index < l->n_models, TL_E_INVALID_ARG,
            "%s: model_index %zu is out of range (the chain has %zu models)",
            fn, model_index, l->n_models);
  size_t index = 0;
  TLI_TRY(tl_model_layer_index(&index, l->models[model_index], layer));
  TLI_TRY(tli_learner_sync(l, fn));
  size_t total = 0;
  for (size_t m = 0; m < l->n_models; m++)
    total += l->n_layers[m];
  TLI_CHECK(group < total, TL_E_INVALID_ARG,
            "%s: group %zu is out of range (must be < %zu, the number of "
            "layers of the chain)",
            fn, group, total);
  if (!l->custom) {
    /* Start from the default grouping: each layer's learner group is its
     * optimizer group. */
    size_t **lg = tli_calloc(l->n_models, sizeof *lg);
    TLI_CHECK(lg != NULL, TL_E_NOMEM, "%s: out of memory", fn);
    tl_status st = TL_OK;
    size_t offset = 0;
    for (size_t m = 0; st == TL_OK && m < l->n_models; m++) {
      st = tli_alloc_checked((void **)&lg[m], l->n_layers[m], sizeof(size_t),
                             fn);
      for (size_t k = 0; st == TL_OK && k < l->n_layers[m]; k++) {
        const char *name = NULL;
        size_t g = 0;
        st = tl_model_layer_name(&name, l->models[m], k);
        if (st == TL_OK)
          st = tl_model_get_group(&g, l->models[m], name);
        lg[m][k] = offset + g;
      }
      offset += l->n_mgroups[m];
    }
    if (st != TL_OK) {
      for (size_t m = 0; m < l->n_models; m++)
        tli_free(lg[m]);
      tli_free(lg);
      return st;
    }
    l->lgroup = lg;
    l->custom = 1;
  }
  l->lgroup[model_index][index] = group;
  l->regroup = 1;
  return TL_OK;
}

tl_status tl_learner_get_group(size_t *out, tl_learner *learner,
                               size_t model_index, const char *layer) {
  static const char fn[] = "tl_learner_get_group";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, layer);
  TLI_CHECK(model_index < learner->n_models, TL_E_INVALID_ARG,
            "%s: model_index %zu is out of range (the chain has %zu models)",
            fn, model_index, learner->n_models);
  size_t index = 0, g = 0;
  TLI_TRY(tl_model_layer_index(&index, learner->models[model_index], layer));
  TLI_TRY(tli_learner_sync(learner, fn));
  if (learner->custom) {
    *out = learner->lgroup[model_index][index];
    return TL_OK;
  }
  TLI_TRY(tl_model_get_group(&g, learner->models[model_index], layer));
  size_t offset = 0;
  for (size_t m = 0; m < model_index; m++)
    offset += learner->n_mgroups[m];
  *out = offset + g;
  return TL_OK;
}

tl_status tl_learner_num_groups(size_t *out, tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_num_groups", out);
  TLI_CHECK_PTR("tl_learner_num_groups", learner);
  TLI_TRY(tli_learner_sync(learner, "tl_learner_num_groups"));
  *out = learner->n_groups;
  return TL_OK;
}

tl_status tl_learner_freeze_to(tl_learner *learner, int64_t n) {
  static const char fn[] = "tl_learner_freeze_to";
  TLI_CHECK_PTR(fn, learner);
  tl_learner *l = learner;
  TLI_CHECK(!l->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  TLI_TRY(tli_learner_sync(l, fn));
  const int64_t g = (int64_t)l->n_groups;
  TLI_CHECK(n >= -g && n <= g, TL_E_INVALID_ARG,
            "%s: n = %lld is out of range for %lld learner groups "
            "(|n| <= %lld)",
            fn, (long long)n, (long long)g, (long long)g);
  const size_t k = (size_t)(n < 0 ? g + n : n);
  for (size_t o = 0; o < l->n_opt_groups; o++)
    TLI_TRY(tl_optim_set_group_trainable(l->optim, o, l->opt_lg[o] >= k));
  /* fastai's Learner.freeze_to clears the optimizer state. */
  return tl_optim_reset_state(l->optim);
}

tl_status tl_learner_freeze(tl_learner *learner) {
  return tl_learner_freeze_to(learner, -1);
}

tl_status tl_learner_unfreeze(tl_learner *learner) {
  return tl_learner_freeze_to(learner, 0);
}

tl_status tl_learner_get_group_trainable(int *out, tl_learner *learner,
                                         size_t group) {
  static const char fn[] = "tl_learner_get_group_trainable";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, learner);
  TLI_TRY(tli_learner_sync(learner, fn));
  TLI_CHECK(group < learner->n_groups, TL_E_INVALID_ARG,
            "%s: group %zu is out of range (%zu learner groups)", fn, group,
            learner->n_groups);
  int any = 0;
  for (size_t o = 0; o < learner->n_opt_groups; o++) {
    if (learner->opt_lg[o] != group)
      continue;
    int t = 0;
    TLI_TRY(tl_model_get_group_trainable(
        &t, learner->models[learner->opt_model[o]], learner->opt_mgroup[o]));
    any |= t;
  }
  *out = any;
  return TL_OK;
}

/* ---- data ---------------------------------------------------------------- */

static tl_status copy_source(tli_src *dst, const tl_batch_source *src,
                             const char *fn, const char *arg) {
  tl_batch_source s = TL_BATCH_SOURCE_INIT;
  TLI_TRY(TLI_OPTIONS_COPY(&s, src, batch_source_sizes, fn, arg));
  TLI_CHECK(s.next != NULL, TL_E_INVALID_ARG, "%s: %s->next is NULL", fn, arg);
  memset(dst, 0, sizeof *dst);
  dst->kind = TLI_SRC_HOST;
  dst->host = s;
  dst->n_batches = s.n_batches;
  dst->reset_state = s.reset_state != 0;
  return TL_OK;
}

tl_status tl_learner_set_data(tl_learner *learner, const tl_batch_source *train,
                              const tl_batch_source *valid) {
  static const char fn[] = "tl_learner_set_data";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, train);
  TLI_CHECK(!learner->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  tli_src t, v;
  memset(&v, 0, sizeof v);
  TLI_TRY(copy_source(&t, train, fn, "train"));
  if (valid != NULL)
    TLI_TRY(copy_source(&v, valid, fn, "valid"));
  free_src(&learner->train);
  free_src(&learner->valid);
  learner->train = t;
  learner->valid = v;
  return TL_OK;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) {
  return a / b + (a % b != 0);
}

tl_status tl_learner_set_lm_data(tl_learner *learner, tl_lm_loader *train,
                                 tl_lm_loader *valid, size_t batch_size,
                                 size_t bptt) {
  static const char fn[] = "tl_learner_set_lm_data";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, train);
  TLI_CHECK(!learner->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  TLI_CHECK(batch_size > 0, TL_E_INVALID_ARG, "%s: batch_size must be > 0", fn);
  TLI_CHECK(bptt > 0, TL_E_INVALID_ARG, "%s: bptt must be > 0", fn);
  size_t rt = 0, rv = 0;
  TLI_TRY(tl_lm_loader_row_len(&rt, train));
  if (valid != NULL)
    TLI_TRY(tl_lm_loader_row_len(&rv, valid));
  free_src(&learner->train);
  free_src(&learner->valid);
  /* fastai's LMDataLoader: n_batches = ceil(bl / seq_len), bl = row_len */
  learner->train.kind = TLI_SRC_LM;
  learner->train.lm = train;
  learner->train.lm_batch = batch_size;
  learner->train.n_batches = ceil_div(rt, bptt);
  learner->train.reset_state = 1;
  if (valid != NULL) {
    learner->valid.kind = TLI_SRC_LM;
    learner->valid.lm = valid;
    learner->valid.lm_batch = batch_size;
    learner->valid.n_batches = ceil_div(rv, bptt);
    learner->valid.reset_state = 1;
  }
  return TL_OK;
}

static tl_status clas_src(tli_src *s, tl_clas_loader *loader,
                          const size_t *lens, size_t n, size_t batch_size,
                          size_t max_len, const char *fn, const char *arg) {
  memset(s, 0, sizeof *s);
  s->kind = TLI_SRC_CLAS;
  s->clas = loader;
  s->max_len = max_len;
  s->n_batches = ceil_div(n, batch_size);
  if (lens != NULL && n > 0) {
    for (size_t i = 0; i < n; i++)
      TLI_CHECK(lens[i] > 0, TL_E_INVALID_ARG, "%s: options->%s[%zu] is 0", fn,
                arg, i);
    TLI_TRY(tli_alloc_checked((void **)&s->doc_lens, n, sizeof(size_t), fn));
    memcpy(s->doc_lens, lens, n * sizeof(size_t));
    s->n_docs = n;
  }
  return TL_OK;
}

tl_status tl_learner_set_clas_data(tl_learner *learner, tl_clas_loader *train,
                                   tl_clas_loader *valid,
                                   const tl_clas_data_options *options) {
  static const char fn[] = "tl_learner_set_clas_data";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, train);
  TLI_CHECK(!learner->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  tl_clas_data_options o = TL_CLAS_DATA_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, clas_data_options_sizes, fn, "options"));
  TLI_CHECK(o.batch_size > 0, TL_E_INVALID_ARG,
            "%s: options->batch_size must be > 0", fn);
  tli_src t, v;
  memset(&v, 0, sizeof v);
  TLI_TRY(clas_src(&t, train, o.train_lens, o.n_train, o.batch_size, o.max_len,
                   fn, "train_lens"));
  if (valid != NULL) {
    tl_status st = clas_src(&v, valid, o.valid_lens, o.n_valid, o.batch_size,
                            o.max_len, fn, "valid_lens");
    if (st != TL_OK) {
      free_src(&t);
      return st;
    }
  }
  free_src(&learner->train);
  free_src(&learner->valid);
  learner->train = t;
  learner->valid = v;
  return TL_OK;
}

/* ---- loss ---------------------------------------------------------------- */

tl_status tl_learner_set_loss(tl_learner *learner, tl_loss_fn fn,
                              void *payload) {
  TLI_CHECK_PTR("tl_learner_set_loss", learner);
  TLI_CHECK(!learner->in_fit, TL_E_STATE,
            "tl_learner_set_loss: not allowed during a fit");
  learner->loss_fn = fn;
  learner->loss_payload = fn != NULL ? payload : NULL;
  return TL_OK;
}

/* ---- metrics ------------------------------------------------------------- */

static tl_status add_metric(tl_learner *l, const tli_metric *m,
                            const char *name, const char *fn) {
  TLI_CHECK(!l->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  const size_t n = l->n_metrics;
  tli_metric *ms = tli_calloc(n + 1, sizeof *ms);
  char **cols = tli_calloc(n + 5, sizeof *cols);
  char *copy = dup_string(name), *col = dup_string(name);
  double *vals = tli_calloc(n + 1, sizeof(double));
  if (ms == NULL || cols == NULL || copy == NULL || col == NULL ||
      vals == NULL) {
    tli_free(ms);
    tli_free(cols);
    tli_free(copy);
    tli_free(col);
    tli_free(vals);
    return tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  }
  if (n > 0)
    memcpy(ms, l->metrics, n * sizeof *ms);
  ms[n] = *m;
  ms[n].name = copy;
  if (m->kind == TLI_METRIC_HOST)
    ms[n].host.name = copy;
  /* columns: epoch, train_loss, valid_loss, metrics..., time */
  for (size_t c = 0; c < 3 + n; c++)
    cols[c] = l->columns[c];
  cols[3 + n] = col;
  cols[4 + n] = l->columns[3 + n];
  tli_free(l->metrics);
  tli_free(l->columns);
  tli_free(l->metric_values);
  l->metrics = ms;
  l->columns = cols;
  l->metric_values = vals;
  l->n_metrics = n + 1;
  /* The history of earlier fits has another width: drop it. */
  l->hist_rows = 0;
  return TL_OK;
}

tl_status tl_learner_add_metric(tl_learner *learner, tl_learner_metric metric,
                                size_t n_classes) {
  static const char fn[] = "tl_learner_add_metric";
  TLI_CHECK_PTR(fn, learner);
  tli_metric m;
  memset(&m, 0, sizeof m);
  const char *name = NULL;
  switch (metric) {
  case TL_LEARNER_METRIC_ACCURACY:
    m.kind = TLI_METRIC_ACCURACY;
    name = "accuracy";
    break;
  case TL_LEARNER_METRIC_MACRO_F1:
    TLI_CHECK(n_classes >= 1, TL_E_INVALID_ARG,
              "%s: n_classes must be >= 1 for TL_LEARNER_METRIC_MACRO_F1", fn);
    m.kind = TLI_METRIC_MACRO_F1;
    m.n_classes = n_classes;
    name = "f1_score";
    break;
  case TL_LEARNER_METRIC_PERPLEXITY:
    m.kind = TLI_METRIC_PERPLEXITY;
    name = "perplexity";
    break;
  default:
    return tli_fail(TL_E_INVALID_ARG, "%s: metric %d is not a built-in metric",
                    fn, (int)metric);
  }
  return add_metric(learner, &m, name, fn);
}

tl_status tl_learner_add_host_metric(tl_learner *learner,
                                     const tl_host_metric *metric) {
  static const char fn[] = "tl_learner_add_host_metric";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, metric);
  tli_metric m;
  memset(&m, 0, sizeof m);
  m.kind = TLI_METRIC_HOST;
  tl_host_metric h;
  memset(&h, 0, sizeof h);
  h.version = TL_HOST_METRIC_VERSION;
  TLI_TRY(TLI_OPTIONS_COPY(&h, metric, host_metric_sizes, fn, "metric"));
  TLI_CHECK(h.name != NULL && h.name[0] != '\0', TL_E_INVALID_ARG,
            "%s: metric->name is NULL or empty", fn);
  TLI_CHECK(h.reset != NULL, TL_E_INVALID_ARG, "%s: metric->reset is NULL", fn);
  TLI_CHECK(h.accumulate != NULL, TL_E_INVALID_ARG,
            "%s: metric->accumulate is NULL", fn);
  TLI_CHECK(h.value != NULL, TL_E_INVALID_ARG, "%s: metric->value is NULL", fn);
  m.host = h;
  return add_metric(learner, &m, h.name, fn);
}

/* ---- callbacks ------------------------------------------------------------
 */

static tl_status add_cb(tl_learner *l, const tli_cb *cb, const char *fn) {
  TLI_CHECK(!l->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  tli_cb *cbs = tli_calloc(l->n_cbs + 1, sizeof *cbs);
  TLI_CHECK(cbs != NULL, TL_E_NOMEM, "%s: out of memory", fn);
  if (l->n_cbs > 0)
    memcpy(cbs, l->cbs, l->n_cbs * sizeof *cbs);
  cbs[l->n_cbs] = *cb;
  tli_free(l->cbs);
  l->cbs = cbs;
  l->n_cbs++;
  return TL_OK;
}

static tl_status add_named_cb(tl_learner *l, tli_cb *cb, const char *name,
                              const char *fn) {
  cb->name = dup_string(name);
  if (cb->name == NULL) {
    tli_free(cb->monitor);
    tli_free(cb->path);
    return tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  }
  const tl_status st = add_cb(l, cb, fn);
  if (st != TL_OK) {
    tli_free(cb->name);
    tli_free(cb->monitor);
    tli_free(cb->path);
  }
  return st;
}

tl_status tl_learner_add_callback(tl_learner *learner,
                                  const tl_callback *callback) {
  static const char fn[] = "tl_learner_add_callback";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, callback);
  tl_callback c;
  memset(&c, 0, sizeof c);
  c.version = TL_CALLBACK_VERSION;
  TLI_TRY(TLI_OPTIONS_COPY(&c, callback, callback_sizes, fn, "callback"));
  TLI_CHECK(c.fn != NULL, TL_E_INVALID_ARG, "%s: callback->fn is NULL", fn);
  tli_cb cb;
  memset(&cb, 0, sizeof cb);
  cb.kind = TLI_CB_HOST;
  cb.host = c;
  char name[64];
  if (c.name == NULL)
    snprintf(name, sizeof name, "callback %zu", learner->n_cbs);
  return add_named_cb(learner, &cb, c.name != NULL ? c.name : name, fn);
}

tl_status tl_learner_request_stop(tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_request_stop", learner);
  if (learner->in_fit)
    learner->stop_requested = 1;
  return TL_OK;
}

tl_status tl_learner_add_grad_clip(tl_learner *learner, double max_norm) {
  static const char fn[] = "tl_learner_add_grad_clip";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK(isfinite(max_norm) && max_norm > 0.0, TL_E_INVALID_ARG,
            "%s: max_norm must be finite and > 0 (got %g)", fn, max_norm);
  tli_cb cb;
  memset(&cb, 0, sizeof cb);
  cb.kind = TLI_CB_CLIP;
  cb.max_norm = max_norm;
  return add_named_cb(learner, &cb, "GradientClip", fn);
}

tl_status tl_learner_add_grad_accum(tl_learner *learner, size_t n_batches) {
  static const char fn[] = "tl_learner_add_grad_accum";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK(n_batches >= 1, TL_E_INVALID_ARG, "%s: n_batches must be >= 1", fn);
  for (size_t i = 0; i < learner->n_cbs; i++)
    TLI_CHECK(learner->cbs[i].kind != TLI_CB_ACCUM, TL_E_STATE,
              "%s: the learner already accumulates gradients", fn);
  tli_cb cb;
  memset(&cb, 0, sizeof cb);
  cb.kind = TLI_CB_ACCUM;
  cb.n_acc = n_batches;
  return add_named_cb(learner, &cb, "GradientAccumulation", fn);
}

static tl_status monitor_cb(tli_cb *cb, const tl_monitor_options *options,
                            const char *fn) {
  tl_monitor_options o = TL_MONITOR_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, monitor_options_sizes, fn, "options"));
  TLI_CHECK(o.monitor != NULL && o.monitor[0] != '\0', TL_E_INVALID_ARG,
            "%s: options->monitor is NULL or empty", fn);
  TLI_CHECK(o.comp == TL_LEARNER_COMPARE_AUTO ||
                o.comp == TL_LEARNER_COMPARE_LESS ||
                o.comp == TL_LEARNER_COMPARE_GREATER,
            TL_E_INVALID_ARG, "%s: options->comp %d is not a comparison", fn,
            (int)o.comp);
  TLI_CHECK(isfinite(o.min_delta) && o.min_delta >= 0.0, TL_E_INVALID_ARG,
            "%s: options->min_delta must be finite and >= 0 (got %g)", fn,
            o.min_delta);
  TLI_CHECK(o.patience >= 1, TL_E_INVALID_ARG,
            "%s: options->patience must be >= 1", fn);
  memset(cb, 0, sizeof *cb);
  cb->comp = o.comp;
  if (cb->comp == TL_LEARNER_COMPARE_AUTO)
    /* fastai: np.less if 'loss' in monitor or 'error' in monitor */
    cb->comp =
        strstr(o.monitor, "loss") != NULL || strstr(o.monitor, "error") != NULL
            ? TL_LEARNER_COMPARE_LESS
            : TL_LEARNER_COMPARE_GREATER;
  cb->min_delta = o.min_delta;
  cb->patience = o.patience;
  cb->monitor = dup_string(o.monitor);
  TLI_CHECK(cb->monitor != NULL, TL_E_NOMEM, "%s: out of memory", fn);
  return TL_OK;
}

tl_status tl_learner_add_early_stopping(tl_learner *learner,
                                        const tl_monitor_options *options) {
  static const char fn[] = "tl_learner_add_early_stopping";
  TLI_CHECK_PTR(fn, learner);
  tli_cb cb;
  TLI_TRY(monitor_cb(&cb, options, fn));
  cb.kind = TLI_CB_EARLY_STOP;
  return add_named_cb(learner, &cb, "EarlyStoppingCallback", fn);
}

tl_status tl_learner_add_save_model(tl_learner *learner, const char *path,
                                    const tl_monitor_options *options) {
  static const char fn[] = "tl_learner_add_save_model";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, path);
  TLI_CHECK(path[0] != '\0', TL_E_INVALID_ARG, "%s: path is empty", fn);
  tli_cb cb;
  TLI_TRY(monitor_cb(&cb, options, fn));
  cb.kind = TLI_CB_SAVE_MODEL;
  cb.path = dup_string(path);
  if (cb.path == NULL) {
    tli_free(cb.monitor);
    return tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  }
  return add_named_cb(learner, &cb, "SaveModelCallback", fn);
}

tl_status tl_learner_add_csv_logger(tl_learner *learner, const char *path,
                                    int append) {
  static const char fn[] = "tl_learner_add_csv_logger";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, path);
  TLI_CHECK(path[0] != '\0', TL_E_INVALID_ARG, "%s: path is empty", fn);
  tli_cb cb;
  memset(&cb, 0, sizeof cb);
  cb.kind = TLI_CB_CSV;
  cb.append = append != 0;
  cb.path = dup_string(path);
  TLI_CHECK(cb.path != NULL, TL_E_NOMEM, "%s: out of memory", fn);
  return add_named_cb(learner, &cb, "CSVLogger", fn);
}

tl_status tl_learner_add_reporter(tl_learner *learner, tl_reporter *reporter) {
  static const char fn[] = "tl_learner_add_reporter";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, reporter);
  TLI_CHECK(!learner->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  tl_reporter **r = tli_calloc(learner->n_reporters + 1, sizeof *r);
  TLI_CHECK(r != NULL, TL_E_NOMEM, "%s: out of memory", fn);
  if (learner->n_reporters > 0)
    memcpy(r, learner->reporters, learner->n_reporters * sizeof *r);
  r[learner->n_reporters] = reporter;
  tli_free(learner->reporters);
  learner->reporters = r;
  learner->n_reporters++;
  return TL_OK;
}

tl_status tl_learner_clear_callbacks(tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_clear_callbacks", learner);
  TLI_CHECK(!learner->in_fit, TL_E_STATE,
            "tl_learner_clear_callbacks: not allowed during a fit");
  for (size_t i = 0; i < learner->n_cbs; i++) {
    tli_free(learner->cbs[i].name);
    tli_free(learner->cbs[i].monitor);
    tli_free(learner->cbs[i].path);
  }
  tli_free(learner->cbs);
  learner->cbs = NULL;
  learner->n_cbs = 0;
  tli_free(learner->reporters);
  learner->reporters = NULL;
  learner->n_reporters = 0;
  return TL_OK;
}

/* ---- history ---------------------------------------------------------------
 */

tl_status tl_learner_num_metrics(size_t *out, const tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_num_metrics", out);
  TLI_CHECK_PTR("tl_learner_num_metrics", learner);
  *out = learner->n_metrics;
  return TL_OK;
}

tl_status tl_learner_history_num_columns(size_t *out,
                                         const tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_history_num_columns", out);
  TLI_CHECK_PTR("tl_learner_history_num_columns", learner);
  *out = 4 + learner->n_metrics;
  return TL_OK;
}

tl_status tl_learner_history_column_name(const char **out,
                                         const tl_learner *learner,
                                         size_t column) {
  static const char fn[] = "tl_learner_history_column_name";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK(column < 4 + learner->n_metrics, TL_E_INVALID_ARG,
            "%s: column %zu is out of range (%zu columns)", fn, column,
            4 + learner->n_metrics);
  *out = learner->columns[column];
  return TL_OK;
}

tl_status tl_learner_history_num_rows(size_t *out, const tl_learner *learner) {
  TLI_CHECK_PTR("tl_learner_history_num_rows", out);
  TLI_CHECK_PTR("tl_learner_history_num_rows", learner);
  *out = learner->hist_rows;
  return TL_OK;
}

tl_status tl_learner_history_value(double *out, const tl_learner *learner,
                                   size_t row, size_t column) {
  static const char fn[] = "tl_learner_history_value";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, learner);
  const size_t w = 4 + learner->n_metrics;
  TLI_CHECK(row < learner->hist_rows, TL_E_INVALID_ARG,
            "%s: row %zu is out of range (%zu rows)", fn, row,
            learner->hist_rows);
  TLI_CHECK(column < w, TL_E_INVALID_ARG,
            "%s: column %zu is out of range (%zu columns)", fn, column, w);
  *out = learner->history[row * w + column];
  return TL_OK;
}

/* ---- saving ----------------------------------------------------------------
 */

tl_status tl_learner_save(const tl_learner *learner, const char *path) {
  static const char fn[] = "tl_learner_save";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, path);
  tl_ckpt *ck = NULL;
  TLI_TRY(tl_ckpt_create(&ck));
  tl_status st = TL_OK;
  for (size_t m = 0; st == TL_OK && m < learner->n_models; m++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%zu.", m);
    st = tl_ckpt_store_model(ck, learner->models[m], prefix);
  }
  if (st == TL_OK)
    st = tl_ckpt_save(ck, path);
  tl_ckpt_free(ck);
  return st;
}

tl_status tl_learner_load(tl_learner *learner, const char *path) {
  static const char fn[] = "tl_learner_load";
  TLI_CHECK_PTR(fn, learner);
  TLI_CHECK_PTR(fn, path);
  TLI_CHECK(!learner->in_fit, TL_E_STATE, "%s: not allowed during a fit", fn);
  TLI_TRY(tli_learner_sync(learner, fn));
  tl_ckpt *ck = NULL;
  TLI_TRY(tl_ckpt_load(&ck, path, NULL));
  /* Every model is checked against the file (a dry run on copies would
   * need models we cannot build here), so check first that each model's
   * prefix fills it exactly, then restore: restore_model itself checks
   * before it changes a model, so a failure can only come from the first
   * model whose tensors do not match, before any later model changes. */
  tl_status st = TL_OK;
  size_t used = 0, total = 0;
  st = tl_ckpt_tensor_count(&total, ck);
  for (size_t m = 0; st == TL_OK && m < learner->n_models; m++) {
    size_t np = 0;
    st = tl_model_num_params(&np, learner->models[m]);
    for (size_t p = 0; st == TL_OK && p < np; p++) {
      const char *name = NULL;
      char full[160];
      size_t idx = 0;
      st = tl_model_param_name(&name, learner->models[m], p);
      if (st != TL_OK)
        break;
      snprintf(full, sizeof full, "%zu.%s", m, name);
      st = tl_ckpt_find_tensor(&idx, ck, full);
      if (st == TL_OK) {
        tl_ckpt_tensor_desc d;
        memset(&d, 0, sizeof d);
        d.version = TL_CKPT_TENSOR_DESC_VERSION;
        size_t nd = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
        st = tl_ckpt_tensor_info(&d, ck, idx);
        if (st == TL_OK)
          st =
              tl_model_param_shape(&nd, dims, &numel, learner->models[m], name);
        if (st == TL_OK && d.numel != numel)
          st = tli_fail(TL_E_SHAPE,
                        "%s: tensor '%s' of '%s' has %zu values, the "
                        "parameter %zu",
                        fn, full, path, (size_t)d.numel, numel);
        used++;
      } else {
        st = tli_fail(TL_E_NOT_FOUND,
                      "%s: '%s' has no tensor '%s' for models[%zu]", fn, path,
                      full, m);
      }
    }
  }
  if (st == TL_OK && used != total)
    st = tli_fail(TL_E_NOT_FOUND,
                  "%s: '%s' holds %zu tensors, the models %zu parameters", fn,
                  path, total, used);
  /* restore_model checks a model's tensors before changing it; what only
   * a later model's restore can find (a dtype, a NaN) rolls back the
   * parameters of the models restored before it. */
  size_t done = 0, total_floats = 0;
  float *backup = NULL;
  for (size_t m = 0; st == TL_OK && m < learner->n_models; m++) {
    float *w = NULL;
    size_t n = 0;
    st = tl_model_flat_params(&w, &n, learner->models[m]);
    total_floats += n;
  }
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&backup, total_floats ? total_floats : 1,
                           sizeof(float), fn);
  for (size_t m = 0, off = 0; st == TL_OK && m < learner->n_models; m++) {
    float *w = NULL;
    size_t n = 0;
    tl_model_flat_params(&w, &n, learner->models[m]);
    memcpy(backup + off, w, n * sizeof(float));
    off += n;
  }
  for (size_t m = 0; st == TL_OK && m < learner->n_models; m++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%zu.", m);
    tl_model_load_options lo = TL_MODEL_LOAD_OPTIONS_INIT;
    lo.prefix = prefix;
    lo.strict = 1;
    st = tl_ckpt_restore_model(learner->models[m], ck, &lo);
    if (st == TL_OK)
      done++;
  }
  if (st != TL_OK && backup != NULL)
    for (size_t m = 0, off = 0; m < done; m++) {
      float *w = NULL;
      size_t n = 0;
      tl_model_flat_params(&w, &n, learner->models[m]);
      memcpy(w, backup + off, n * sizeof(float));
      off += n;
    }
  tli_free(backup);
  tl_ckpt_free(ck);
  if (st == TL_OK)
    st = tl_optim_reset_state(learner->optim);
  return st;
}
