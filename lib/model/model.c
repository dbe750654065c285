/* tl_model: creation, reference counting, the parameter registry and its flat
 * buffers, views and copies. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "model/layer_ops.h"

tl_status tli_buf_reserve_discard(tli_buf *b, size_t n, const char *what) {
  if (n <= b->cap && b->p != NULL)
    return TL_OK;
  void *p = NULL;
  TLI_TRY(tli_alloc_checked(&p, n ? n : 1, sizeof(float), what));
  tli_free(b->p);
  b->p = p;
  b->cap = n;
  return TL_OK;
}

void tli_buf_release(tli_buf *b) {
  tli_free(b->p);
  b->p = NULL;
  b->cap = 0;
}

TLI_VERSION_SIZES(model_options_sizes, TL_MODEL_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_model_options, seed));

tl_status tl_model_options_init(tl_model_options *out, unsigned int version) {
  static const tl_model_options defaults = TL_MODEL_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, model_options_sizes,
                          "tl_model_options_init");
}

tl_status tl_model_create(tl_model **out, const tl_model_options *options) {
  TLI_CHECK_PTR("tl_model_create", out);
  tl_model_options o = TL_MODEL_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, model_options_sizes,
                             "tl_model_create", "options"));
  tl_model *m = NULL;
  TLI_TRY(tli_alloc_checked((void **)&m, 1, sizeof *m, "tl_model_create"));
  memset(m, 0, sizeof *m);
  m->refs = 1;
  m->training = 1;
  m->mode = TL_MODEL_MODE_FINE_TUNE;
  m->train_bn = 1; /* fastai's Learner(train_bn=True) */
  tli_rng_seed(&m->rng, o.seed);
  *out = m;
  return TL_OK;
}

void tli_model_retain(tl_model *m) { m->refs++; }

static void destroy(tl_model *m) {
  for (size_t i = 0; i < m->n_layers; i++) {
    tli_layer *L = &m->layers[i];
    tli_layer_release_all(L);
    if (L->tie_model != NULL && L->tie_model != m)
      tl_model_free(L->tie_model);
  }
  for (size_t i = 0; i < m->n_params; i++)
    tli_free(m->params[i].mask);
  for (size_t i = 0; i < m->n_buffers; i++)
    tli_free(m->buffers[i].data);
  tli_free(m->buffers);
  tli_free(m->layers);
  tli_free(m->params);
  tli_free(m->flat);
  tli_free(m->grad);
  tli_buf_release(&m->in_f);
  tli_buf_release(&m->dy);
  tli_free(m->in_ids);
  tli_free(m->lengths);
  tli_free(m);
}

void tl_model_free(tl_model *model) {
  if (model == NULL)
    return;
  if (--model->refs == 0)
    destroy(model);
}

int tli_param_is_trainable(const tl_model *m, size_t index) {
  return m->mode == TL_MODEL_MODE_FINE_TUNE && m->params[index].trainable;
}

tli_param *tli_model_find_param(const tl_model *m, const char *name) {
  for (size_t i = 0; i < m->n_params; i++)
    if (strcmp(m->params[i].name, name) == 0)
      return &m->params[i];
  return NULL;
}

/* Looks a parameter up for a public function, with the failure message. */
static tl_status find_param(const tl_model *m, tli_param **out,
                            const char *name, const char *fn) {
  TLI_CHECK(name != NULL, TL_E_INVALID_ARG, "%s: argument 'name' is NULL", fn);
  tli_param *p = tli_model_find_param(m, name);
  TLI_CHECK(p != NULL, TL_E_NOT_FOUND, "%s: no parameter named '%s'", fn, name);
  *out = p;
  return TL_OK;
}

tl_status tl_model_num_params(size_t *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_num_params", model);
  TLI_CHECK_PTR("tl_model_num_params", out);
  *out = model->n_params;
  return TL_OK;
}

tl_status tl_model_param_name(const char **out, const tl_model *model,
                              size_t index) {
  TLI_CHECK_PTR("tl_model_param_name", model);
  TLI_CHECK_PTR("tl_model_param_name", out);
  TLI_CHECK(index < model->n_params, TL_E_INVALID_ARG,
            "tl_model_param_name: index %zu out of range (%zu parameters)",
            index, model->n_params);
  *out = model->params[index].name;
  return TL_OK;
}

tl_status tl_model_param_index(size_t *out, const tl_model *model,
                               const char *name) {
  TLI_CHECK_PTR("tl_model_param_index", model);
  TLI_CHECK_PTR("tl_model_param_index", out);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_param_index"));
  *out = (size_t)(p - model->params);
  return TL_OK;
}

tl_status tl_model_param_shape(size_t *out_ndim, size_t *out_dims,
                               size_t *out_numel, const tl_model *model,
                               const char *name) {
  TLI_CHECK_PTR("tl_model_param_shape", model);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_param_shape"));
  if (out_ndim)
    *out_ndim = p->ndim;
  if (out_dims)
    for (size_t i = 0; i < TL_MODEL_MAX_DIMS; i++)
      out_dims[i] = i < p->ndim ? p->dims[i] : 1;
  if (out_numel)
    *out_numel = p->numel;
  return TL_OK;
}

tl_status tl_model_param_offset(size_t *out, const tl_model *model,
                                const char *name) {
  TLI_CHECK_PTR("tl_model_param_offset", model);
  TLI_CHECK_PTR("tl_model_param_offset", out);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_param_offset"));
  *out = p->offset;
  return TL_OK;
}

tl_status tl_model_param_view(float **out_data, float **out_grad,
                              tl_model *model, const char *name) {
  TLI_CHECK_PTR("tl_model_param_view", model);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_param_view"));
  if (out_data)
    *out_data = model->flat + p->offset;
  if (out_grad)
    *out_grad = model->grad + p->offset;
  return TL_OK;
}

tl_status tl_model_param_get(float *out, size_t n, const tl_model *model,
                             const char *name) {
  TLI_CHECK_PTR("tl_model_param_get", model);
  TLI_CHECK_PTR("tl_model_param_get", out);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_param_get"));
  TLI_CHECK(n == p->numel, TL_E_SHAPE,
            "tl_model_param_get: n = %zu but '%s' has %zu elements", n, name,
            p->numel);
  memcpy(out, model->flat + p->offset, n * sizeof(float));
  return TL_OK;
}

tl_status tl_model_param_set(tl_model *model, const char *name,
                             const float *values, size_t n) {
  TLI_CHECK_PTR("tl_model_param_set", model);
  TLI_CHECK_PTR("tl_model_param_set", values);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_param_set"));
  TLI_CHECK(n == p->numel, TL_E_SHAPE,
            "tl_model_param_set: n = %zu but '%s' has %zu elements", n, name,
            p->numel);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(isfinite(values[i]), TL_E_NUMERIC,
              "tl_model_param_set: values[%zu] is not finite ('%s')", i, name);
  memcpy(model->flat + p->offset, values, n * sizeof(float));
  return TL_OK;
}

tl_status tl_model_flat_params(float **out, size_t *out_n, tl_model *model) {
  TLI_CHECK_PTR("tl_model_flat_params", model);
  TLI_CHECK_PTR("tl_model_flat_params", out);
  TLI_CHECK_PTR("tl_model_flat_params", out_n);
  *out = model->flat;
  *out_n = model->numel;
  return TL_OK;
}

tl_status tl_model_flat_grads(float **out, size_t *out_n, tl_model *model) {
  TLI_CHECK_PTR("tl_model_flat_grads", model);
  TLI_CHECK_PTR("tl_model_flat_grads", out);
  TLI_CHECK_PTR("tl_model_flat_grads", out_n);
  *out = model->grad;
  *out_n = model->numel;
  return TL_OK;
}

tl_status tl_model_set_grad_ready_callback(tl_model *model, tl_grad_ready_fn fn,
                                           void *payload) {
  TLI_CHECK_PTR("tl_model_set_grad_ready_callback", model);
  model->grad_ready = fn;
  model->grad_ready_payload = fn != NULL ? payload : NULL;
  return TL_OK;
}

tl_status tl_model_zero_grad(tl_model *model) {
  TLI_CHECK_PTR("tl_model_zero_grad", model);
  if (model->numel)
    memset(model->grad, 0, model->numel * sizeof(float));
  return TL_OK;
}

tl_status tl_model_set_param_trainable(tl_model *model, const char *name,
                                       int trainable) {
  TLI_CHECK_PTR("tl_model_set_param_trainable", model);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_set_param_trainable"));
  TLI_CHECK(trainable == 0 || trainable == 1, TL_E_INVALID_ARG,
            "tl_model_set_param_trainable: trainable must be 0 or 1 (got %d)",
            trainable);
  p->trainable = trainable;
  return TL_OK;
}

tl_status tl_model_get_param_trainable(int *out, const tl_model *model,
                                       const char *name) {
  TLI_CHECK_PTR("tl_model_get_param_trainable", model);
  TLI_CHECK_PTR("tl_model_get_param_trainable", out);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_get_param_trainable"));
  *out = p->trainable;
  return TL_OK;
}

tl_status tl_model_set_param_mask(tl_model *model, const char *name,
                                  const uint8_t *mask, size_t n) {
  TLI_CHECK_PTR("tl_model_set_param_mask", model);
  tli_param *p = NULL;
  TLI_TRY(find_param(model, &p, name, "tl_model_set_param_mask"));
  if (mask == NULL) {
    TLI_CHECK(n == 0, TL_E_INVALID_ARG,
              "tl_model_set_param_mask: mask is NULL but n = %zu", n);
    tli_free(p->mask);
    p->mask = NULL;
    return TL_OK;
  }
  TLI_CHECK(n == p->numel, TL_E_SHAPE,
            "tl_model_set_param_mask: n = %zu but '%s' has %zu elements", n,
            name, p->numel);
  if (p->mask == NULL)
    TLI_TRY(
        tli_alloc_checked((void **)&p->mask, n, 1, "tl_model_set_param_mask"));
  for (size_t i = 0; i < n; i++)
    p->mask[i] = mask[i] != 0;
  return TL_OK;
}

tl_status tl_model_set_row_mask(tl_model *model, const char *name,
                                const uint8_t *rows, size_t n_rows) {
  static const char fn[] = "tl_model_set_row_mask";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, name);
  const tli_param *p = tli_model_find_param(model, name);
  TLI_CHECK(p != NULL, TL_E_NOT_FOUND, "%s: no parameter named '%s'", fn, name);
  if (rows == NULL) {
    TLI_CHECK(n_rows == 0, TL_E_INVALID_ARG,
              "%s: argument 'rows' is NULL with n_rows %zu", fn, n_rows);
    return tl_model_set_param_mask(model, name, NULL, 0);
  }
  TLI_CHECK(p->ndim >= 1 && p->dims[0] == n_rows && n_rows > 0, TL_E_SHAPE,
            "%s: parameter '%s' has %zu rows, n_rows is %zu", fn, name,
            p->ndim ? p->dims[0] : 0, n_rows);
  const size_t row = p->numel / n_rows;
  void *mem = NULL;
  TLI_TRY(tli_alloc_checked(&mem, p->numel, 1, fn));
  uint8_t *mask = mem;
  for (size_t r = 0; r < n_rows; r++)
    memset(mask + r * row, rows[r] != 0, row);
  const tl_status status = tl_model_set_param_mask(model, name, mask, p->numel);
  tli_free(mem);
  return status;
}

/* ---- buffers ------------------------------------------------------------ */

tli_buffer *tli_model_find_buffer(const tl_model *m, const char *name) {
  for (size_t i = 0; i < m->n_buffers; i++)
    if (strcmp(m->buffers[i].name, name) == 0)
      return &m->buffers[i];
  return NULL;
}

static tl_status find_buffer(const tl_model *m, tli_buffer **out,
                             const char *name, const char *fn) {
  TLI_CHECK(name != NULL, TL_E_INVALID_ARG, "%s: argument 'name' is NULL", fn);
  tli_buffer *b = tli_model_find_buffer(m, name);
  TLI_CHECK(b != NULL, TL_E_NOT_FOUND, "%s: no buffer named '%.100s'", fn,
            name);
  *out = b;
  return TL_OK;
}

tl_status tli_buffer_check_values(tli_buffer_kind kind, const double *values,
                                  size_t n, const char *what, const char *fn) {
  for (size_t i = 0; i < n; i++) {
    const double v = values[i];
    if (kind == TLI_BUFFER_COUNT) {
      /* 2^53: every whole number up to it is exact in a double */
      TLI_CHECK(v >= 0.0 && v <= 9007199254740992.0 && v == floor(v),
                TL_E_NUMERIC,
                "%s: %s: the count must be a whole number in [0, 2^53] "
                "(got %g)",
                fn, what, v);
      continue;
    }
    /* A finite double can still overflow float. */
    TLI_CHECK(isfinite(v) && isfinite((float)v), TL_E_NUMERIC,
              "%s: %s: element %zu (%g) is not a finite float", fn, what, i, v);
    TLI_CHECK(kind != TLI_BUFFER_VARIANCE || v >= 0.0, TL_E_NUMERIC,
              "%s: %s: element %zu is a variance and must be >= 0 (got %g)", fn,
              what, i, v);
  }
  return TL_OK;
}

tl_status tl_model_num_buffers(size_t *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_num_buffers", model);
  TLI_CHECK_PTR("tl_model_num_buffers", out);
  *out = model->n_buffers;
  return TL_OK;
}

tl_status tl_model_buffer_name(const char **out, const tl_model *model,
                               size_t index) {
  TLI_CHECK_PTR("tl_model_buffer_name", model);
  TLI_CHECK_PTR("tl_model_buffer_name", out);
  TLI_CHECK(index < model->n_buffers, TL_E_INVALID_ARG,
            "tl_model_buffer_name: index %zu out of range (%zu buffers)", index,
            model->n_buffers);
  *out = model->buffers[index].name;
  return TL_OK;
}

tl_status tl_model_buffer_shape(size_t *out_ndim, size_t *out_dims,
                                size_t *out_numel, const tl_model *model,
                                const char *name) {
  TLI_CHECK_PTR("tl_model_buffer_shape", model);
  tli_buffer *b = NULL;
  TLI_TRY(find_buffer(model, &b, name, "tl_model_buffer_shape"));
  const size_t ndim = b->kind == TLI_BUFFER_COUNT ? 0 : 1;
  if (out_ndim)
    *out_ndim = ndim;
  if (out_dims)
    for (size_t i = 0; i < TL_MODEL_MAX_DIMS; i++)
      out_dims[i] = i < ndim ? b->numel : 1;
  if (out_numel)
    *out_numel = b->numel;
  return TL_OK;
}

tl_status tl_model_buffer_view(const float **out, const tl_model *model,
                               const char *name) {
  static const char fn[] = "tl_model_buffer_view";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, out);
  tli_buffer *b = NULL;
  TLI_TRY(find_buffer(model, &b, name, fn));
  TLI_CHECK(b->kind != TLI_BUFFER_COUNT, TL_E_UNSUPPORTED,
            "%s: '%s' is an integer count, not float values: read it with "
            "tl_model_buffer_get",
            fn, name);
  *out = b->data;
  return TL_OK;
}

tl_status tl_model_buffer_get(double *out, size_t n, const tl_model *model,
                              const char *name) {
  static const char fn[] = "tl_model_buffer_get";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, out);
  tli_buffer *b = NULL;
  TLI_TRY(find_buffer(model, &b, name, fn));
  TLI_CHECK(n == b->numel, TL_E_SHAPE, "%s: n = %zu but '%s' has %zu elements",
            fn, n, name, b->numel);
  if (b->kind == TLI_BUFFER_COUNT)
    out[0] = (double)b->count;
  else
    for (size_t i = 0; i < n; i++)
      out[i] = b->data[i];
  return TL_OK;
}

tl_status tl_model_buffer_set(tl_model *model, const char *name,
                              const double *values, size_t n) {
  static const char fn[] = "tl_model_buffer_set";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, values);
  tli_buffer *b = NULL;
  TLI_TRY(find_buffer(model, &b, name, fn));
  TLI_CHECK(n == b->numel, TL_E_SHAPE, "%s: n = %zu but '%s' has %zu elements",
            fn, n, name, b->numel);
  TLI_TRY(tli_buffer_check_values(b->kind, values, n, name, fn));
  if (b->kind == TLI_BUFFER_COUNT)
    b->count = (int64_t)values[0];
  else
    for (size_t i = 0; i < n; i++)
      b->data[i] = (float)values[i];
  return TL_OK;
}
