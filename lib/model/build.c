/* Building the layer stack: the argument checks the add functions share
 * (names, chained shapes, probabilities, sizes) and appending a layer with
 * the parameters its kind registers (layer_ops.h), grown flat buffers and
 * PyTorch's default initialisation. Every add function (in its kind's
 * layer_<kind>.c) validates everything and allocates everything before it
 * changes the model, so a failed call changes nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "model/layer_ops.h"

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

tl_status tli_build_check_name(const tl_model *m, const char *name,
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

size_t tli_build_last_features(const tl_model *m) {
  return m->n_layers ? m->layers[m->n_layers - 1].out_features : 0;
}

tl_status tli_build_check_chain(const tl_model *m, size_t in, const char *fn) {
  size_t prev = tli_build_last_features(m);
  TLI_CHECK(prev == 0 || in == prev, TL_E_SHAPE,
            "%s: input size %zu does not match the previous layer's output "
            "size %zu",
            fn, in, prev);
  return TL_OK;
}

tl_status tli_build_check_prob(float p, const char *arg, const char *fn) {
  TLI_CHECK(isfinite(p) && p >= 0.0f && p < 1.0f, TL_E_INVALID_ARG,
            "%s: %s must be in [0, 1) (got %g)", fn, arg, (double)p);
  return TL_OK;
}

tl_status tli_build_check_size(size_t v, const char *arg, const char *fn) {
  TLI_CHECK(v >= 1 && v <= (size_t)1 << 30, TL_E_INVALID_ARG,
            "%s: %s must be in [1, 2^30] (got %zu)", fn, arg, v);
  return TL_OK;
}

tl_status tli_build_check_recurrent(size_t input_size, size_t hidden_size,
                                    size_t num_layers, const char *fn) {
  TLI_TRY(tli_build_check_size(input_size, "input_size", fn));
  TLI_TRY(tli_build_check_size(hidden_size, "hidden_size", fn));
  TLI_CHECK(hidden_size <= (size_t)1 << 24, TL_E_INVALID_ARG,
            "%s: hidden_size %zu is too large", fn, hidden_size);
  TLI_CHECK(num_layers >= 1 && num_layers <= TLI_LSTM_MAX_LAYERS,
            TL_E_INVALID_ARG, "%s: num_layers must be in [1, %d] (got %zu)", fn,
            TLI_LSTM_MAX_LAYERS, num_layers);
  return TL_OK;
}

tli_layer tli_layer_proto(tli_layer_kind kind, size_t in_features,
                          size_t out_features) {
  tli_layer L;
  memset(&L, 0, sizeof L);
  L.kind = kind;
  L.in_features = in_features;
  L.out_features = out_features;
  return L;
}

static void init_values(tli_rng *rng, float *v, size_t n,
                        const tli_param_spec *s) {
  for (size_t i = 0; i < n; i++) {
    if (s->init == TLI_INIT_CONSTANT)
      v[i] = (float)s->bound;
    else if (s->init == TLI_INIT_NORMAL)
      v[i] = (float)tli_rng_normal(rng);
    else
      v[i] = (float)((2.0 * tli_rng_uniform(rng) - 1.0) * s->bound);
  }
}

/* The grown arrays of an append, obtained before the model changes. */
typedef struct grown {
  tli_layer *layers;
  tli_param *params;
  float *flat, *grad;
  size_t numel; /* the model's numel after the append */
  tli_buffer *buffers;
  float *buffer_data[TLI_LAYER_MAX_BUFFERS]; /* NULL for a count */
} grown;

static void grown_free(grown *g) {
  tli_free(g->layers);
  tli_free(g->params);
  tli_free(g->flat);
  tli_free(g->grad);
  tli_free(g->buffers);
  for (size_t i = 0; i < TLI_LAYER_MAX_BUFFERS; i++)
    tli_free(g->buffer_data[i]);
}

/* Step 1: the parameter count of the new layer must not overflow. */
static tl_status append_validate(const tl_model *m, const tli_param_spec *specs,
                                 size_t n_specs, size_t *numel,
                                 const char *fn) {
  size_t add = 0;
  for (size_t i = 0; i < n_specs; i++) {
    size_t n = specs[i].dims[0];
    if (specs[i].ndim == 2 && !tli_mul_size(&n, n, specs[i].dims[1]))
      return tli_fail(TL_E_NOMEM, "%s: parameter size overflows", fn);
    TLI_CHECK(add + n >= add, TL_E_NOMEM, "%s: parameter size overflows", fn);
    add += n;
  }
  *numel = m->numel + add;
  TLI_CHECK(*numel >= m->numel, TL_E_NOMEM, "%s: parameter size overflows", fn);
  return TL_OK;
}

/* Step 2: every array, one slot/element larger, with the old contents
 * copied and the new gradient zeroed; on failure nothing is kept. */
static tl_status append_allocate(const tl_model *m, size_t n_specs,
                                 const tli_buffer_spec *bspecs, size_t n_bspecs,
                                 size_t total, grown *g, const char *fn) {
  const size_t numel = total ? total : 1;
  memset(g, 0, sizeof *g);
  g->numel = total;
  tl_status st = tli_alloc_checked((void **)&g->layers, m->n_layers + 1,
                                   sizeof *g->layers, fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&g->params, m->n_params + n_specs + 1,
                           sizeof *g->params, fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&g->flat, numel, sizeof(float), fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&g->grad, numel, sizeof(float), fn);
  if (st == TL_OK)
    st = tli_alloc_checked((void **)&g->buffers, m->n_buffers + n_bspecs + 1,
                           sizeof *g->buffers, fn);
  for (size_t i = 0; i < n_bspecs && st == TL_OK; i++)
    if (bspecs[i].kind != TLI_BUFFER_COUNT)
      st = tli_alloc_checked((void **)&g->buffer_data[i], bspecs[i].numel,
                             sizeof(float), fn);
  if (st != TL_OK) {
    grown_free(g);
    return st;
  }
  if (m->n_buffers)
    memcpy(g->buffers, m->buffers, m->n_buffers * sizeof *g->buffers);
  if (m->n_layers)
    memcpy(g->layers, m->layers, m->n_layers * sizeof *g->layers);
  if (m->n_params)
    memcpy(g->params, m->params, m->n_params * sizeof *g->params);
  if (m->numel) {
    memcpy(g->flat, m->flat, m->numel * sizeof(float));
    memcpy(g->grad, m->grad, m->numel * sizeof(float));
  }
  memset(g->grad + m->numel, 0, (g->numel - m->numel) * sizeof(float));
  return TL_OK;
}

/* Step 3 (cannot fail): the layer and parameter records, initial values
 * drawn from the model's RNG in registration order, and the swap. */
static void append_buffers(tl_model *m, grown *g, const tli_layer *L,
                           const tli_buffer_spec *bspecs, size_t n_bspecs) {
  for (size_t i = 0; i < n_bspecs; i++) {
    tli_buffer *b = &g->buffers[m->n_buffers + i];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%.63s.%.23s", L->name, bspecs[i].suffix);
    b->kind = bspecs[i].kind;
    b->numel = bspecs[i].kind == TLI_BUFFER_COUNT ? 1 : bspecs[i].numel;
    b->layer = m->n_layers;
    b->data = g->buffer_data[i]; /* the buffer owns it now */
    g->buffer_data[i] = NULL;
    if (b->kind == TLI_BUFFER_COUNT)
      b->count = (int64_t)bspecs[i].init;
    else
      for (size_t k = 0; k < b->numel; k++)
        b->data[k] = (float)bspecs[i].init;
  }
  tli_free(m->buffers);
  m->buffers = g->buffers;
  m->n_buffers += n_bspecs;
}

static void append_compute(tl_model *m, grown *g, const tli_layer *proto,
                           const char *name, const tli_param_spec *specs,
                           size_t n_specs, const tli_buffer_spec *bspecs,
                           size_t n_bspecs) {
  tli_layer *L = &g->layers[m->n_layers];
  *L = *proto;
  snprintf(L->name, sizeof L->name, "%s", name);
  L->group = m->n_layers;
  L->first_param = m->n_params;
  L->n_params = n_specs;
  L->first_buffer = m->n_buffers;
  L->n_buffers = n_bspecs;
  append_buffers(m, g, L, bspecs, n_bspecs);

  size_t off = m->numel;
  for (size_t i = 0; i < n_specs; i++) {
    tli_param *p = &g->params[m->n_params + i];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%.63s.%.23s", L->name, specs[i].suffix);
    p->ndim = specs[i].ndim;
    p->numel = 1;
    for (size_t d = 0; d < TL_MODEL_MAX_DIMS; d++)
      p->dims[d] = d < p->ndim ? specs[i].dims[d] : 1;
    for (size_t d = 0; d < p->ndim; d++)
      p->numel *= p->dims[d];
    p->offset = off;
    p->layer = m->n_layers;
    p->trainable = 1;
    init_values(&m->rng, g->flat + off, p->numel, &specs[i]);
    off += p->numel;
  }

  tli_free(m->layers);
  tli_free(m->params);
  tli_free(m->flat);
  tli_free(m->grad);
  m->layers = g->layers;
  m->params = g->params;
  m->flat = g->flat;
  m->grad = g->grad;
  m->numel = g->numel;
  m->n_layers++;
  m->n_params += n_specs;
  m->structure++;
  m->have_train_forward = 0;
}

tl_status tli_model_append_layer(tl_model *m, const tli_layer *proto,
                                 const char *name, const char *fn) {
  const tli_layer_ops *ops = tli_layer_ops_for(proto->kind);
  tli_param_spec specs[TLI_LAYER_MAX_PARAMS];
  const size_t n_specs =
      ops->register_params ? ops->register_params(proto, specs) : 0;
  tli_buffer_spec bspecs[TLI_LAYER_MAX_BUFFERS];
  const size_t n_bspecs =
      ops->register_buffers ? ops->register_buffers(proto, bspecs) : 0;
  size_t numel = 0;
  TLI_TRY(append_validate(m, specs, n_specs, &numel, fn));
  grown g;
  TLI_TRY(append_allocate(m, n_specs, bspecs, n_bspecs, numel, &g, fn));
  append_compute(m, &g, proto, name, specs, n_specs, bspecs, n_bspecs);
  return TL_OK;
}

tl_status tli_arch_count(size_t n, size_t want, const char *kind,
                         const char *fn) {
  TLI_CHECK(n == want, TL_E_FORMAT,
            "%s: a '%s' layer takes %zu settings, the section gives %zu", fn,
            kind, want, n);
  return TL_OK;
}

tl_status tli_arch_int(int64_t *out, double v, int64_t lo, int64_t hi,
                       const char *kind, const char *what, const char *fn) {
  /* Compare as doubles first: casting a double outside int64's range is
   * undefined behaviour. */
  TLI_CHECK(isfinite(v) && v >= (double)lo && v <= (double)hi && v == floor(v),
            TL_E_FORMAT,
            "%s: setting %s of a '%s' layer is %g, not an integer in "
            "[%lld, %lld]",
            fn, what, kind, v, (long long)lo, (long long)hi);
  *out = (int64_t)v;
  return TL_OK;
}

tl_status tli_arch_float(float *out, double v, const char *kind,
                         const char *what, const char *fn) {
  TLI_CHECK(isfinite(v) && fabs(v) <= 3.4e38, TL_E_FORMAT,
            "%s: setting %s of a '%s' layer is %g, not a finite float", fn,
            what, kind, v);
  *out = (float)v;
  return TL_OK;
}
