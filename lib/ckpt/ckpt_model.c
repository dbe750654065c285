/* Models in and out of checkpoints: parameters as f32 tensors under their
 * torch-style names, buffers (BatchNorm running statistics: f32, and the
 * count as an i64 scalar, as torch's state_dict), layer groups, the model's
 * RNG stream; loads that are
 * strict or partial, with a prefix and an explicit name map, and that check
 * everything before the first parameter is written. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ckpt/ckpt_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "model/layer_ops.h"

/* Builds prefix + name into a new string. */
static char *tli_join(const char *prefix, const char *name) {
  const size_t a = strlen(prefix), b = strlen(name);
  char *s = tli_alloc(a + b + 1);
  if (s != NULL) {
    memcpy(s, prefix, a);
    memcpy(s + a, name, b + 1);
  }
  return s;
}

/* Runtime state of a stateful layer (the layer table's carried_state: an
 * LSTM's (h, c) has shape (2, num_layers, B, H), a GRU's h (1, num_layers,
 * B, H)) is stored as the tensor "@state.<layer>": '@' is never in a
 * parameter name, so these never collide with parameters and loads tell
 * them apart. */
#define TLI_STATE_PREFIX "@state."

static int tli_has_carried_state(const tli_layer *L) {
  size_t depth;
  return tli_layer_carried_state(L, &depth) > 0 && L->state_batch > 0;
}

/* Item i of what store_model stores: parameters, buffers, then carried
 * states. Fills the name (without prefix), dtype, shape and data; 0 if item
 * i stores nothing. */
typedef struct tli_item {
  char name[TLI_PNAME_MAX + sizeof TLI_STATE_PREFIX];
  tl_ckpt_dtype dtype;
  size_t rank, dims[4];
  const void *data;
  uint32_t group;
} tli_item;

static int tli_model_item(const tl_model *m, size_t i, tli_item *it) {
  if (i < m->n_params) {
    const tli_param *p = &m->params[i];
    snprintf(it->name, sizeof it->name, "%s", p->name);
    it->rank = p->ndim;
    memcpy(it->dims, p->dims, p->ndim * sizeof(size_t));
    it->dtype = TL_CKPT_F32;
    it->data = m->flat + p->offset;
    it->group = (uint32_t)m->layers[p->layer].group;
    return 1;
  }
  i -= m->n_params;
  if (i < m->n_buffers) {
    const tli_buffer *b = &m->buffers[i];
    snprintf(it->name, sizeof it->name, "%s", b->name);
    const int count = b->kind == TLI_BUFFER_COUNT;
    it->dtype = count ? TL_CKPT_I64 : TL_CKPT_F32;
    it->rank = count ? 0 : 1;
    it->dims[0] = b->numel;
    it->data = count ? (const void *)&b->count : (const void *)b->data;
    it->group = (uint32_t)m->layers[b->layer].group;
    return 1;
  }
  const tli_layer *L = &m->layers[i - m->n_buffers];
  if (!tli_has_carried_state(L))
    return 0;
  snprintf(it->name, sizeof it->name, TLI_STATE_PREFIX "%s", L->name);
  it->rank = 4;
  it->dims[0] = tli_layer_carried_state(L, &it->dims[1]);
  it->dims[2] = L->state_batch;
  it->dims[3] = L->out_features;
  it->dtype = TL_CKPT_F32;
  it->data = L->state.p;
  it->group = TL_CKPT_NO_GROUP;
  return 1;
}

tl_status tl_ckpt_store_model(tl_ckpt *ckpt, const tl_model *model,
                              const char *prefix) {
  static const char fn[] = "tl_ckpt_store_model";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK_PTR(fn, model);
  if (prefix == NULL)
    prefix = "";
  const size_t plen = strlen(prefix);
  TLI_CHECK(plen + sizeof(tli_item) <= TL_CKPT_MAX_STRING, TL_E_INVALID_ARG,
            "%s: prefix is longer than %u bytes", fn,
            (unsigned)(TL_CKPT_MAX_STRING - sizeof(tli_item)));
  const size_t n_items = model->n_params + model->n_buffers + model->n_layers;
  tli_item it;
  /* Every check first, so a failure leaves ckpt as it was. */
  for (size_t i = 0; i < n_items; i++) {
    if (!tli_model_item(model, i, &it))
      continue;
    char *full = tli_join(prefix, it.name);
    TLI_CHECK(full != NULL, TL_E_NOMEM, "%s: out of memory", fn);
    const int taken = tli_ckpt_find(ckpt, full, NULL) != NULL;
    if (taken) {
      tli_fail(TL_E_INVALID_ARG, "%s: the checkpoint already has a tensor '%s'",
               fn, full);
      tli_free(full);
      return TL_E_INVALID_ARG;
    }
    tli_free(full);
  }
  void *rng_bytes = NULL;
  size_t rng_size = 0;
  TLI_TRY(
      tli_ckpt_rng_with(ckpt, prefix, &model->rng, &rng_bytes, &rng_size, fn));

  const size_t first = ckpt->n_tensors;
  tl_status status = TL_OK;
  for (size_t i = 0; i < n_items && status == TL_OK; i++) {
    if (!tli_model_item(model, i, &it))
      continue;
    char *full = tli_join(prefix, it.name);
    if (full == NULL) {
      status = tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
      break;
    }
    status =
        tl_ckpt_add_tensor(ckpt, full, it.dtype, it.rank, it.dims, it.data);
    if (status == TL_OK)
      ckpt->tensors[ckpt->n_tensors - 1].group = it.group;
    tli_free(full);
  }
  if (status != TL_OK) {
    while (ckpt->n_tensors > first)
      tl_ckpt_remove_tensor(ckpt, ckpt->n_tensors - 1);
    tli_free(rng_bytes);
    return status;
  }
  tli_free(ckpt->rng.bytes);
  ckpt->rng = (tli_ckpt_blob){1, TL_CKPT_RNG_STREAMS, rng_bytes, rng_size};
  return TL_OK;
}

TLI_VERSION_SIZES(model_load_options_sizes, TL_MODEL_LOAD_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_model_load_options, report_payload));

tl_status tl_model_load_options_init(tl_model_load_options *out,
                                     unsigned int version) {
  static const tl_model_load_options defaults = TL_MODEL_LOAD_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, model_load_options_sizes,
                          "tl_model_load_options_init");
}

/* The plan of a load: for each model parameter, the tensor that fills it
 * (or SIZE_MAX). */
typedef struct tli_load_plan {
  size_t *source;  /* n_params entries */
  size_t *bsource; /* n_buffers entries: the tensor that fills a buffer */
  size_t *state;   /* n_layers entries: the tensor of a carried state */
  size_t missing, unexpected;
  const char *first_missing, *first_unexpected;
} tli_load_plan;

static tl_status tli_check_map(const tl_model *model,
                               const tl_model_load_options *o, const char *fn) {
  TLI_CHECK(o->map_n == 0 || (o->map_from != NULL && o->map_to != NULL),
            TL_E_INVALID_ARG,
            "%s: options->map_from and map_to must be set when map_n is %zu",
            fn, o->map_n);
  for (size_t i = 0; i < o->map_n; i++) {
    TLI_CHECK(o->map_from[i] != NULL && o->map_to[i] != NULL, TL_E_INVALID_ARG,
              "%s: options->map entry %zu is NULL", fn, i);
    TLI_CHECK(tli_model_find_param(model, o->map_to[i]) != NULL ||
                  tli_model_find_buffer(model, o->map_to[i]) != NULL,
              TL_E_INVALID_ARG,
              "%s: options->map_to[%zu] '%s' is not a parameter or buffer of "
              "the model",
              fn, i, o->map_to[i]);
    for (size_t j = 0; j < i; j++)
      TLI_CHECK(strcmp(o->map_from[i], o->map_from[j]) != 0, TL_E_INVALID_ARG,
                "%s: options->map_from has '%s' twice", fn, o->map_from[i]);
  }
  return TL_OK;
}

/* The parameter a checkpoint tensor fills, or NULL (then *buffer is the
 * buffer it fills, or NULL: unexpected); tensors outside the prefix are not
 * considered (*considered = 0), carried states are *considered = 2. */
static const tli_param *tli_target(const tl_model *model, const char *name,
                                   const tl_model_load_options *o,
                                   int *considered, const tli_buffer **buffer) {
  *buffer = NULL;
  const size_t plen = o->prefix != NULL ? strlen(o->prefix) : 0;
  *considered = plen == 0 || strncmp(name, o->prefix, plen) == 0;
  if (!*considered)
    return NULL;
  const char *key = name + plen;
  if (strncmp(key, TLI_STATE_PREFIX, strlen(TLI_STATE_PREFIX)) == 0) {
    *considered = 2;
    return NULL;
  }
  for (size_t i = 0; i < o->map_n; i++)
    if (strcmp(key, o->map_from[i]) == 0) {
      key = o->map_to[i];
      break;
    }
  const tli_param *p = tli_model_find_param(model, key);
  if (p == NULL)
    *buffer = tli_model_find_buffer(model, key);
  return p;
}

/* A tensor that fills a buffer: f32 (F) of finite values (a variance >= 0)
 * for a statistic, an i64 scalar >= 0 (or of shape (1)) for a count. */
static tl_status tli_check_buffer(const tli_ckpt_tensor *t, const tli_buffer *b,
                                  const char *fn) {
  if (b->kind == TLI_BUFFER_COUNT) {
    TLI_CHECK(t->dtype == TL_CKPT_I64 && t->numel == 1 && t->rank <= 1,
              TL_E_SHAPE,
              "%s: tensor '%s' must be an i64 scalar to fill the count '%s'",
              fn, t->name, b->name);
    int64_t v;
    memcpy(&v, t->data, sizeof v);
    TLI_CHECK(v >= 0, TL_E_NUMERIC, "%s: tensor '%s' is a negative count", fn,
              t->name);
    return TL_OK;
  }
  TLI_CHECK(t->dtype == TL_CKPT_F32, TL_E_FORMAT,
            "%s: tensor '%s' has dtype %d; buffers load from f32 (%d)", fn,
            t->name, (int)t->dtype, (int)TL_CKPT_F32);
  TLI_CHECK(t->rank == 1 && t->shape[0] == b->numel, TL_E_SHAPE,
            "%s: tensor '%s' must have shape (%zu) to fill buffer '%s'", fn,
            t->name, b->numel, b->name);
  const float *v = t->data;
  for (size_t i = 0; i < t->numel; i++) {
    const double x = v[i];
    TLI_TRY(tli_buffer_check_values(b->kind, &x, 1, t->name, fn));
  }
  return TL_OK;
}

static tl_status tli_check_pair(const tli_ckpt_tensor *t, const tli_param *p,
                                const char *fn) {
  TLI_CHECK(t->dtype == TL_CKPT_F32, TL_E_FORMAT,
            "%s: tensor '%s' has dtype %d; parameters load from f32 (%d)", fn,
            t->name, (int)t->dtype, (int)TL_CKPT_F32);
  int same = t->rank == p->ndim;
  for (size_t d = 0; same && d < p->ndim; d++)
    same = t->shape[d] == p->dims[d];
  if (!same) {
    char got[128] = "(", want[128] = "(";
    for (size_t d = 0; d < t->rank; d++)
      snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu",
               d ? ", " : "", t->shape[d]);
    for (size_t d = 0; d < p->ndim; d++)
      snprintf(want + strlen(want), sizeof want - strlen(want), "%s%zu",
               d ? ", " : "", p->dims[d]);
    return tli_fail(TL_E_SHAPE,
                    "%s: tensor '%s' has shape %s), parameter '%s' is %s)", fn,
                    t->name, got, p->name, want);
  }
  const float *v = t->data;
  for (size_t i = 0; i < t->numel; i++)
    TLI_CHECK(isfinite(v[i]), TL_E_NUMERIC,
              "%s: tensor '%s' has a non-finite value at element %zu", fn,
              t->name, i);
  return TL_OK;
}

/* A carried state "@state.<layer>": restored into a stateful layer of that
 * name (shape (parts, depth, B, H) as its carried_state says, finite);
 * ignored otherwise, so an LM checkpoint loads into a stateless classifier
 * encoder. */
static tl_status tli_plan_state(tli_load_plan *plan, const tl_model *model,
                                const tl_ckpt *ckpt, size_t index,
                                const tl_model_load_options *o,
                                const char *fn) {
  const tli_ckpt_tensor *t = &ckpt->tensors[index];
  const size_t plen = o->prefix != NULL ? strlen(o->prefix) : 0;
  const char *layer = t->name + plen + strlen(TLI_STATE_PREFIX);
  for (size_t l = 0; l < model->n_layers; l++) {
    const tli_layer *L = &model->layers[l];
    size_t depth = 0;
    const size_t parts = tli_layer_carried_state(L, &depth);
    if (strcmp(L->name, layer) != 0 || parts == 0)
      continue;
    TLI_CHECK(t->dtype == TL_CKPT_F32 && t->rank == 4 && t->shape[0] == parts &&
                  t->shape[1] == depth && t->shape[2] > 0 &&
                  t->shape[3] == L->out_features,
              TL_E_SHAPE,
              "%s: carried state '%s' is not f32 (%zu, %zu, B, %zu) for layer "
              "'%s'",
              fn, t->name, parts, depth, L->out_features, L->name);
    const float *v = t->data;
    for (size_t i = 0; i < t->numel; i++)
      TLI_CHECK(isfinite(v[i]), TL_E_NUMERIC,
                "%s: tensor '%s' has a non-finite value at element %zu", fn,
                t->name, i);
    plan->state[l] = index;
  }
  return TL_OK;
}

/* Records that tensor i fills buffer b. */
static tl_status tli_plan_buffer(tli_load_plan *plan, const tl_model *model,
                                 const tl_ckpt *ckpt, size_t i,
                                 const tli_buffer *b, const char *fn) {
  const tli_ckpt_tensor *t = &ckpt->tensors[i];
  const size_t k = (size_t)(b - model->buffers);
  TLI_CHECK(plan->bsource[k] == SIZE_MAX, TL_E_INVALID_ARG,
            "%s: tensors '%s' and '%s' both fill buffer '%s'", fn,
            ckpt->tensors[plan->bsource[k]].name, t->name, b->name);
  TLI_TRY(tli_check_buffer(t, b, fn));
  plan->bsource[k] = i;
  return TL_OK;
}

/* Counts (and reports) what the plan leaves unfilled. */
static void tli_plan_missing(tli_load_plan *plan, const tl_model *model,
                             const tl_model_load_options *o) {
  for (size_t k = 0; k < model->n_params; k++)
    if (plan->source[k] == SIZE_MAX) {
      if (plan->missing++ == 0)
        plan->first_missing = model->params[k].name;
      if (o->report != NULL)
        o->report(o->report_payload, TL_LOAD_MISSING, model->params[k].name);
    }
  for (size_t k = 0; k < model->n_buffers; k++)
    if (plan->bsource[k] == SIZE_MAX) {
      if (plan->missing++ == 0)
        plan->first_missing = model->buffers[k].name;
      if (o->report != NULL)
        o->report(o->report_payload, TL_LOAD_MISSING, model->buffers[k].name);
    }
}

static tl_status tli_plan_load(tli_load_plan *plan, const tl_model *model,
                               const tl_ckpt *ckpt,
                               const tl_model_load_options *o, const char *fn) {
  for (size_t k = 0; k < model->n_params; k++)
    plan->source[k] = SIZE_MAX;
  for (size_t k = 0; k < model->n_buffers; k++)
    plan->bsource[k] = SIZE_MAX;
  for (size_t l = 0; l < model->n_layers; l++)
    plan->state[l] = SIZE_MAX;
  for (size_t i = 0; i < ckpt->n_tensors; i++) {
    const tli_ckpt_tensor *t = &ckpt->tensors[i];
    int considered;
    const tli_buffer *buffer;
    const tli_param *p = tli_target(model, t->name, o, &considered, &buffer);
    if (!considered)
      continue;
    if (considered == 2) {
      TLI_TRY(tli_plan_state(plan, model, ckpt, i, o, fn));
      continue;
    }
    if (buffer != NULL) {
      TLI_TRY(tli_plan_buffer(plan, model, ckpt, i, buffer, fn));
      continue;
    }
    if (p == NULL) {
      if (plan->unexpected++ == 0)
        plan->first_unexpected = t->name;
      if (o->report != NULL)
        o->report(o->report_payload, TL_LOAD_UNEXPECTED, t->name);
      continue;
    }
    const size_t k = (size_t)(p - model->params);
    TLI_CHECK(plan->source[k] == SIZE_MAX, TL_E_INVALID_ARG,
              "%s: tensors '%s' and '%s' both fill parameter '%s'", fn,
              ckpt->tensors[plan->source[k]].name, t->name, p->name);
    TLI_TRY(tli_check_pair(t, p, fn));
    plan->source[k] = i;
  }
  tli_plan_missing(plan, model, o);
  if (o->strict && (plan->missing > 0 || plan->unexpected > 0))
    return tli_fail(TL_E_NOT_FOUND,
                    "%s: strict load: %zu parameter(s)/buffer(s) missing "
                    "(first '%s'), "
                    "%zu unexpected tensor(s) (first '%s')",
                    fn, plan->missing,
                    plan->missing ? plan->first_missing : "-", plan->unexpected,
                    plan->unexpected ? plan->first_unexpected : "-");
  return TL_OK;
}

/* The plan's tables and a fresh buffer for every carried state it
 * restores: everything is allocated before anything in the model changes. */
typedef struct tli_restore_buffers {
  size_t *source;  /* n_params */
  size_t *bsource; /* n_buffers */
  size_t *state;   /* n_layers */
  float **states;  /* n_layers, NULL where the plan restores no state */
} tli_restore_buffers;

static void tli_restore_buffers_free(tli_restore_buffers *b, size_t n_layers) {
  for (size_t l = 0; b->states != NULL && l < n_layers; l++)
    tli_free(b->states[l]);
  tli_free(b->states);
  tli_free(b->state);
  tli_free(b->bsource);
  tli_free(b->source);
}

static tl_status tli_restore_tables_alloc(tli_restore_buffers *b,
                                          const tl_model *model,
                                          const char *fn) {
  *b = (tli_restore_buffers){0};
  void *source = NULL, *bsource = NULL, *state = NULL, *states = NULL;
  tl_status status =
      tli_alloc_checked(&source, model->n_params, sizeof(size_t), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&bsource, model->n_buffers, sizeof(size_t), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&state, model->n_layers, sizeof(size_t), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&states, model->n_layers, sizeof(float *), fn);
  b->source = source, b->bsource = bsource, b->state = state;
  b->states = states;
  if (status == TL_OK)
    memset(b->states, 0, model->n_layers * sizeof(float *));
  return status;
}

static tl_status tli_restore_states_alloc(tli_restore_buffers *b,
                                          const tl_model *model,
                                          const tl_ckpt *ckpt, const char *fn) {
  for (size_t l = 0; l < model->n_layers; l++)
    if (b->state[l] != SIZE_MAX) {
      void *mem = NULL;
      TLI_TRY(tli_alloc_checked(&mem, ckpt->tensors[b->state[l]].numel,
                                sizeof(float), fn));
      b->states[l] = mem;
    }
  return TL_OK;
}

/* Writes the planned parameters and carried states into the model; cannot
 * fail. New weights make an old carried state meaningless: stateful layers
 * take the checkpoint's state, or start from zeros. */
static void tli_restore_apply(tl_model *model, const tl_ckpt *ckpt,
                              tli_restore_buffers *b) {
  for (size_t k = 0; k < model->n_params; k++)
    if (b->source[k] != SIZE_MAX) {
      const tli_ckpt_tensor *t = &ckpt->tensors[b->source[k]];
      memcpy(model->flat + model->params[k].offset, t->data, t->nbytes);
    }
  for (size_t k = 0; k < model->n_buffers; k++)
    if (b->bsource[k] != SIZE_MAX) {
      const tli_ckpt_tensor *t = &ckpt->tensors[b->bsource[k]];
      tli_buffer *buf = &model->buffers[k];
      if (buf->kind == TLI_BUFFER_COUNT)
        memcpy(&buf->count, t->data, sizeof buf->count);
      else
        memcpy(buf->data, t->data, t->nbytes);
    }
  for (size_t l = 0; l < model->n_layers; l++) {
    tli_layer *L = &model->layers[l];
    if (b->state[l] == SIZE_MAX) {
      L->state_batch = 0; /* stateful layers restart from zeros */
      continue;
    }
    const tli_ckpt_tensor *t = &ckpt->tensors[b->state[l]];
    memcpy(b->states[l], t->data, t->nbytes);
    tli_free(L->state.p);
    L->state.p = b->states[l];
    L->state.cap = t->numel;
    L->state_batch = t->shape[2];
    b->states[l] = NULL; /* the layer owns it now */
  }
}

tl_status tl_ckpt_restore_model(tl_model *model, const tl_ckpt *ckpt,
                                const tl_model_load_options *options) {
  static const char fn[] = "tl_ckpt_restore_model";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, ckpt);
  tl_model_load_options o = TL_MODEL_LOAD_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&o, options, model_load_options_sizes, fn, "options"));
  TLI_TRY(tli_check_map(model, &o, fn));
  tli_rng rng;
  int have_rng = 0;
  if (o.restore_rng)
    TLI_TRY(tli_ckpt_rng_find(ckpt, o.prefix != NULL ? o.prefix : "", &rng,
                              &have_rng, fn));

  tli_restore_buffers b;
  tl_status status = tli_restore_tables_alloc(&b, model, fn);
  tli_load_plan plan;
  memset(&plan, 0, sizeof plan);
  plan.source = b.source;
  plan.bsource = b.bsource;
  plan.state = b.state;
  if (status == TL_OK)
    status = tli_plan_load(&plan, model, ckpt, &o, fn);
  if (status == TL_OK)
    status = tli_restore_states_alloc(&b, model, ckpt, fn);
  if (status == TL_OK) {
    tli_restore_apply(model, ckpt, &b);
    if (have_rng)
      model->rng = rng;
  }
  tli_restore_buffers_free(&b, model->n_layers);
  return status;
}

tl_status tl_model_save(const tl_model *model, const char *path) {
  TLI_CHECK_PTR("tl_model_save", model);
  TLI_CHECK_PTR("tl_model_save", path);
  tl_ckpt *ckpt = NULL;
  TLI_TRY(tl_ckpt_create(&ckpt));
  tl_status status = tl_ckpt_store_model(ckpt, model, NULL);
  if (status == TL_OK)
    status = tl_ckpt_save(ckpt, path);
  tl_ckpt_free(ckpt);
  return status;
}

tl_status tl_model_load(tl_model *model, const char *path,
                        const tl_model_load_options *options) {
  TLI_CHECK_PTR("tl_model_load", model);
  TLI_CHECK_PTR("tl_model_load", path);
  tl_ckpt *ckpt = NULL;
  TLI_TRY(tl_ckpt_load(&ckpt, path, NULL));
  const tl_status status = tl_ckpt_restore_model(model, ckpt, options);
  tl_ckpt_free(ckpt);
  return status;
}
