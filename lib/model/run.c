/* Running a model: train/eval and fine-tune/feature-extraction modes,
 * sequence lengths, forward (float or ids) and backward through the stack.
 * Everything is validated before any layer runs; workspaces only grow. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "model/layer_ops.h"

/* 1 if the model's first layer takes int64 ids (an embedding). */
static int takes_ids(const tl_model *m) {
  return m->n_layers > 0 &&
         tli_layer_ops_for(m->layers[0].kind)->check_ids != NULL;
}

static void release_training(tl_model *m) {
  for (size_t i = 0; i < m->n_layers; i++)
    tli_layer_release_training(&m->layers[i]);
  tli_buf_release(&m->dy);
  m->have_train_forward = 0;
}

tl_status tl_model_train(tl_model *model) {
  TLI_CHECK_PTR("tl_model_train", model);
  TLI_CHECK(model->mode == TL_MODEL_MODE_FINE_TUNE, TL_E_STATE,
            "tl_model_train: the model is in feature-extraction mode");
  model->training = 1;
  return TL_OK;
}

tl_status tl_model_eval(tl_model *model) {
  TLI_CHECK_PTR("tl_model_eval", model);
  model->training = 0;
  model->have_train_forward = 0;
  return TL_OK;
}

tl_status tl_model_is_training(int *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_is_training", model);
  TLI_CHECK_PTR("tl_model_is_training", out);
  *out = model->training && model->mode == TL_MODEL_MODE_FINE_TUNE;
  return TL_OK;
}

tl_status tl_model_set_mode(tl_model *model, tl_model_mode mode) {
  TLI_CHECK_PTR("tl_model_set_mode", model);
  TLI_CHECK(
      mode == TL_MODEL_MODE_FINE_TUNE || mode == TL_MODEL_MODE_FEATURE_EXTRACT,
      TL_E_INVALID_ARG, "tl_model_set_mode: mode %d is unknown", (int)mode);
  model->mode = mode;
  if (mode == TL_MODEL_MODE_FEATURE_EXTRACT) {
    model->training = 0;
    release_training(model);
  }
  return TL_OK;
}

tl_status tl_model_get_mode(tl_model_mode *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_get_mode", model);
  TLI_CHECK_PTR("tl_model_get_mode", out);
  *out = model->mode;
  return TL_OK;
}

tl_status tl_model_set_lengths(tl_model *model, const size_t *lengths,
                               size_t batch) {
  TLI_CHECK_PTR("tl_model_set_lengths", model);
  if (lengths == NULL) {
    TLI_CHECK(batch == 0, TL_E_INVALID_ARG,
              "tl_model_set_lengths: lengths is NULL but batch = %zu", batch);
    tli_free(model->lengths);
    model->lengths = NULL;
    model->n_lengths = model->lengths_cap = 0;
    return TL_OK;
  }
  TLI_CHECK(batch >= 1, TL_E_INVALID_ARG,
            "tl_model_set_lengths: batch must be >= 1");
  for (size_t b = 0; b < batch; b++)
    TLI_CHECK(lengths[b] >= 1, TL_E_INVALID_ARG,
              "tl_model_set_lengths: lengths[%zu] must be >= 1 (got 0)", b);
  if (model->lengths_cap < batch) {
    size_t *p = NULL;
    TLI_TRY(tli_alloc_checked((void **)&p, batch, sizeof(size_t),
                              "tl_model_set_lengths"));
    tli_free(model->lengths);
    model->lengths = p;
    model->lengths_cap = batch;
  }
  memcpy(model->lengths, lengths, batch * sizeof(size_t));
  model->n_lengths = batch;
  return TL_OK;
}

tl_status tl_model_reset_state(tl_model *model) {
  TLI_CHECK_PTR("tl_model_reset_state", model);
  for (size_t i = 0; i < model->n_layers; i++)
    model->layers[i].state_batch = 0;
  return TL_OK;
}

tl_status tl_model_aux_loss(double *out, const tl_model *model) {
  TLI_CHECK_PTR("tl_model_aux_loss", model);
  TLI_CHECK_PTR("tl_model_aux_loss", out);
  *out = model->aux_loss;
  return TL_OK;
}

static tl_status check_dims(const size_t *dims, size_t ndim, size_t *count,
                            const char *fn) {
  TLI_CHECK(dims != NULL, TL_E_INVALID_ARG, "%s: argument 'dims' is NULL", fn);
  TLI_CHECK(ndim >= 1 && ndim <= TL_MODEL_MAX_DIMS, TL_E_INVALID_ARG,
            "%s: ndim must be in [1, %d] (got %zu)", fn, TL_MODEL_MAX_DIMS,
            ndim);
  size_t n = 1;
  for (size_t i = 0; i < ndim; i++) {
    TLI_CHECK(dims[i] >= 1, TL_E_INVALID_ARG, "%s: dims[%zu] is 0", fn, i);
    TLI_CHECK(tli_mul_size(&n, n, dims[i]) && n < (size_t)1 << 31,
              TL_E_INVALID_ARG, "%s: dims multiply to 2^31 or more", fn);
  }
  *count = n;
  return TL_OK;
}

/* Computes every layer's input and output dims; fails before anything
 * runs when a shape does not chain. Run with commit 0 to validate only,
 * then with commit 1 to record the dims in the layers. */
static tl_status plan_pass(tl_model *m, const size_t *dims, size_t ndim,
                           const char *fn, int commit, size_t *out_count) {
  size_t cur[TL_MODEL_MAX_DIMS], cn = ndim;
  memcpy(cur, dims, ndim * sizeof(size_t));
  for (size_t i = 0; i < m->n_layers; i++) {
    tli_layer *L = &m->layers[i];
    size_t next[TL_MODEL_MAX_DIMS], nn = 0;
    tl_status st = tli_layer_out_shape(m, L, next, &nn, cur, cn);
    if (st != TL_OK) {
      char msg[400]; /* the layer's message, copied: tli_fail reuses it */
      snprintf(msg, sizeof msg, "%s", tl_last_error());
      return tli_fail(st, "%s: %s", fn, msg);
    }
    size_t count = 1;
    for (size_t k = 0; k < nn; k++)
      TLI_CHECK(tli_mul_size(&count, count, next[k]) && count < (size_t)1 << 31,
                TL_E_INVALID_ARG,
                "%s: layer '%s' output has 2^31 or more elements", fn, L->name);
    if (commit) {
      L->in_ndim = cn;
      memcpy(L->in_dims, cur, cn * sizeof(size_t));
      L->out_ndim = nn;
      memcpy(L->out_dims, next, nn * sizeof(size_t));
    }
    memcpy(cur, next, nn * sizeof(size_t));
    cn = nn;
    if (out_count != NULL)
      *out_count = count;
  }
  return TL_OK;
}

/* Gradients added at layer outputs belong to one forward: forget them. */
static void forget_taps(tl_model *m) {
  for (size_t i = 0; i < m->n_layers; i++)
    m->layers[i].tap_pending = 0;
}

static tl_status run_forward(tl_model *m, const float **out_y, size_t *out_dims,
                             size_t *out_ndim, const float *x,
                             const int64_t *ids) {
  m->have_train_forward = 0;
  forget_taps(m);
  m->aux_loss = 0.0;
  const float *cur = x;
  for (size_t i = 0; i < m->n_layers; i++) {
    TLI_TRY(tli_layer_forward(m, &m->layers[i], cur, ids));
    cur = m->layers[i].y;
  }
  const tli_layer *top = &m->layers[m->n_layers - 1];
  m->have_train_forward = m->training && m->mode == TL_MODEL_MODE_FINE_TUNE;
  m->reg_pending = m->have_train_forward;
  *out_y = top->y;
  if (out_dims)
    for (size_t k = 0; k < TL_MODEL_MAX_DIMS; k++)
      out_dims[k] = k < top->out_ndim ? top->out_dims[k] : 1;
  if (out_ndim)
    *out_ndim = top->out_ndim;
  return TL_OK;
}

tl_status tl_model_forward(const float **out_y, size_t *out_dims,
                           size_t *out_ndim, tl_model *model, const float *x,
                           const size_t *dims, size_t ndim) {
  const char *fn = "tl_model_forward";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, out_y);
  TLI_CHECK_PTR(fn, x);
  size_t n = 0;
  TLI_TRY(check_dims(dims, ndim, &n, fn));
  TLI_CHECK(model->n_layers > 0, TL_E_STATE, "%s: the model has no layers", fn);
  TLI_CHECK(!takes_ids(model), TL_E_STATE,
            "%s: the model starts with an embedding: use "
            "tl_model_forward_ids",
            fn);
  TLI_TRY(plan_pass(model, dims, ndim, fn, 0, NULL));
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(isfinite(x[i]), TL_E_NUMERIC, "%s: x[%zu] is not finite", fn, i);
  model->have_train_forward = 0; /* from here on the old activations go */
  TLI_TRY(plan_pass(model, dims, ndim, fn, 1, NULL));
  TLI_TRY(tli_buf_reserve_discard(&model->in_f, n, "model input copy"));
  memcpy(model->in_f.p, x, n * sizeof(float));
  model->in_ndim = ndim;
  memcpy(model->in_dims, dims, ndim * sizeof(size_t));
  return run_forward(model, out_y, out_dims, out_ndim, model->in_f.p, NULL);
}

tl_status tl_model_forward_ids(const float **out_y, size_t *out_dims,
                               size_t *out_ndim, tl_model *model,
                               const int64_t *ids, const size_t *dims,
                               size_t ndim) {
  const char *fn = "tl_model_forward_ids";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, out_y);
  TLI_CHECK_PTR(fn, ids);
  size_t n = 0;
  TLI_TRY(check_dims(dims, ndim, &n, fn));
  TLI_CHECK(takes_ids(model), TL_E_STATE,
            "%s: the model does not start with an embedding", fn);
  TLI_TRY(plan_pass(model, dims, ndim, fn, 0, NULL));
  const tli_layer *first = &model->layers[0];
  TLI_TRY(tli_layer_ops_for(first->kind)->check_ids(model, first, ids, n, fn));
  model->have_train_forward = 0; /* from here on the old activations go */
  TLI_TRY(plan_pass(model, dims, ndim, fn, 1, NULL));
  if (model->in_ids_cap < n) {
    int64_t *p = NULL;
    TLI_TRY(tli_alloc_checked((void **)&p, n, sizeof(int64_t),
                              "model input ids copy"));
    tli_free(model->in_ids);
    model->in_ids = p;
    model->in_ids_cap = n;
  }
  memcpy(model->in_ids, ids, n * sizeof(int64_t));
  model->in_ndim = ndim;
  memcpy(model->in_dims, dims, ndim * sizeof(size_t));
  return run_forward(model, out_y, out_dims, out_ndim, NULL, model->in_ids);
}

/* ---- streaming inference: one time step at a time ----------------------- */

/* The window of one step, validated against the model: dims (1, batch) for
 * ids or (1, batch, in_features), the total input count in *n_in and the
 * output floats per sequence in *out_features. Changes nothing. */
static tl_status step_plan(tl_model *m, size_t batch, size_t in_features,
                           size_t *dims, size_t *ndim, size_t *n_in,
                           size_t *out_features, const char *fn) {
  TLI_CHECK(m->n_layers > 0, TL_E_STATE, "%s: the model has no layers", fn);
  TLI_CHECK(batch >= 1 && batch < (size_t)1 << 31, TL_E_INVALID_ARG,
            "%s: batch must be in [1, 2^31) (got %zu)", fn, batch);
  for (size_t i = 0; i < m->n_layers; i++) {
    const tli_layer *L = &m->layers[i];
    const tli_layer_ops *ops = tli_layer_ops_for(L->kind);
    TLI_CHECK(!ops->whole_sequence, TL_E_UNSUPPORTED,
              "%s: layer '%s' (%s) reduces over the time axis: the model "
              "cannot run one step at a time",
              fn, L->name, ops->kind_name);
  }
  if (takes_ids(m)) {
    TLI_CHECK(in_features == 0, TL_E_INVALID_ARG,
              "%s: the model takes ids (its first layer is an embedding): "
              "in_features must be 0 (got %zu)",
              fn, in_features);
    dims[0] = 1;
    dims[1] = batch;
    *ndim = 2;
  } else {
    TLI_CHECK(in_features >= 1, TL_E_INVALID_ARG,
              "%s: in_features must be >= 1 for a model taking floats", fn);
    dims[0] = 1;
    dims[1] = batch;
    dims[2] = in_features;
    *ndim = 3;
  }
  TLI_TRY(check_dims(dims, *ndim, n_in, fn));
  size_t count = 0;
  TLI_TRY(plan_pass(m, dims, *ndim, fn, 0, &count));
  *out_features = count / batch;
  return TL_OK;
}

/* Runs one step (or, with carry TLI_CARRY_NONE, the dry run of prepare) on
 * the input already copied into the model (in_f / in_ids), in eval mode,
 * the model's mode restored after. */
static tl_status step_run(tl_model *m, const size_t *dims, size_t ndim,
                          tli_carry carry, const char *fn) {
  const int training = m->training;
  m->have_train_forward = 0;
  TLI_TRY(plan_pass(m, dims, ndim, fn, 1, NULL));
  m->in_ndim = ndim;
  memcpy(m->in_dims, dims, ndim * sizeof(size_t));
  m->training = 0;
  m->carry = carry;
  const float *y = NULL;
  const int ids = takes_ids(m);
  const tl_status st = run_forward(m, &y, NULL, NULL, ids ? NULL : m->in_f.p,
                                   ids ? m->in_ids : NULL);
  m->carry = TLI_CARRY_OPTION;
  m->training = training;
  return st;
}

/* The model's input copy holds n values (ids or floats). */
static tl_status step_reserve_input(tl_model *m, size_t n, const char *fn) {
  if (!takes_ids(m))
    return tli_buf_reserve_discard(&m->in_f, n, "model input copy");
  if (m->in_ids_cap < n) {
    int64_t *p = NULL;
    TLI_TRY(tli_alloc_checked((void **)&p, n, sizeof(int64_t), fn));
    tli_free(m->in_ids);
    m->in_ids = p;
    m->in_ids_cap = n;
  }
  return TL_OK;
}

tl_status tl_model_step_prepare(size_t *out_features, tl_model *model,
                                size_t batch, size_t in_features) {
  const char *fn = "tl_model_step_prepare";
  TLI_CHECK_PTR(fn, model);
  size_t dims[3], ndim = 0, n = 0, of = 0;
  TLI_TRY(step_plan(model, batch, in_features, dims, &ndim, &n, &of, fn));
  TLI_TRY(step_reserve_input(model, n, fn));
  if (takes_ids(model))
    memset(model->in_ids, 0, n * sizeof(int64_t)); /* id 0 always exists */
  else
    memset(model->in_f.p, 0, n * sizeof(float));
  /* the state a step carries: grown now, so the step's zeroing of a new
   * batch size's state allocates nothing (another batch size's carried
   * state is forgotten, as a step at this size would) */
  for (size_t i = 0; i < model->n_layers; i++) {
    tli_layer *L = &model->layers[i];
    const size_t parts = tli_layer_ops_for(L->kind)->state_parts;
    size_t depth = 0;
    if (parts == 0 || L->state_batch == batch)
      continue;
    (void)tli_layer_carried_state(L, &depth);
    TLI_TRY(tli_buf_reserve_discard(
        &L->state, parts * depth * batch * L->out_features, "carried state"));
    L->state_batch = 0;
  }
  TLI_TRY(step_run(model, dims, ndim, TLI_CARRY_NONE, fn));
  if (out_features != NULL)
    *out_features = of;
  return TL_OK;
}

/* The step of both entry points, after their input checks. */
static tl_status step_common(float *out, size_t out_n, tl_model *m,
                             const float *x, const int64_t *ids, size_t batch,
                             size_t in_features, const char *fn) {
  size_t dims[3], ndim = 0, n = 0, of = 0;
  TLI_TRY(step_plan(m, batch, in_features, dims, &ndim, &n, &of, fn));
  TLI_CHECK(out_n == batch * of, TL_E_INVALID_ARG,
            "%s: out_n must be batch * out_features = %zu * %zu = %zu (got "
            "%zu)",
            fn, batch, of, batch * of, out_n);
  if (ids != NULL) {
    const tli_layer *first = &m->layers[0];
    TLI_TRY(tli_layer_ops_for(first->kind)->check_ids(m, first, ids, n, fn));
  } else {
    for (size_t i = 0; i < n; i++)
      TLI_CHECK(isfinite(x[i]), TL_E_NUMERIC, "%s: x[%zu] is not finite", fn,
                i);
  }
  TLI_TRY(step_reserve_input(m, n, fn));
  if (ids != NULL)
    memcpy(m->in_ids, ids, n * sizeof(int64_t));
  else
    memcpy(m->in_f.p, x, n * sizeof(float));
  TLI_TRY(step_run(m, dims, ndim, TLI_CARRY_ALL, fn));
  memcpy(out, m->layers[m->n_layers - 1].y, out_n * sizeof(float));
  return TL_OK;
}

tl_status tl_model_step(float *out, size_t out_n, tl_model *model,
                        const float *x, size_t batch, size_t in_features) {
  const char *fn = "tl_model_step";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, x);
  TLI_CHECK(model->n_layers == 0 || !takes_ids(model), TL_E_STATE,
            "%s: the model starts with an embedding: use tl_model_step_ids",
            fn);
  return step_common(out, out_n, model, x, NULL, batch, in_features, fn);
}

tl_status tl_model_step_ids(float *out, size_t out_n, tl_model *model,
                            const int64_t *ids, size_t batch) {
  const char *fn = "tl_model_step_ids";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, ids);
  TLI_CHECK(model->n_layers == 0 || takes_ids(model), TL_E_STATE,
            "%s: the model does not start with an embedding: use "
            "tl_model_step",
            fn);
  return step_common(out, out_n, model, NULL, ids, batch, 0, fn);
}

tl_status tl_model_reset_row(tl_model *model, size_t row) {
  const char *fn = "tl_model_reset_row";
  TLI_CHECK_PTR(fn, model);
  for (size_t i = 0; i < model->n_layers; i++) {
    const tli_layer *L = &model->layers[i];
    TLI_CHECK(L->state_batch == 0 || row < L->state_batch, TL_E_INVALID_ARG,
              "%s: row %zu is out of range: layer '%s' carries the state of "
              "%zu sequences",
              fn, row, L->name, L->state_batch);
  }
  for (size_t i = 0; i < model->n_layers; i++) {
    tli_layer *L = &model->layers[i];
    const size_t parts = tli_layer_ops_for(L->kind)->state_parts;
    size_t depth = 0;
    if (parts == 0 || L->state_batch == 0)
      continue;
    (void)tli_layer_carried_state(L, &depth);
    const size_t B = L->state_batch, H = L->out_features;
    for (size_t v = 0; v < parts * depth; v++)
      memset(L->state.p + (v * B + row) * H, 0, H * sizeof(float));
  }
  return TL_OK;
}

/* 1 if backward through layer i updates some parameter (its own, or a tied
 * weight in another model). */
static int layer_trains(const tl_model *m, const tli_layer *L) {
  for (size_t k = 0; k < L->n_params; k++)
    if (tli_param_is_trainable(m, L->first_param + k))
      return 1;
  return L->tie_model != NULL &&
         tli_param_is_trainable(L->tie_model, L->tie_param);
}

tl_status tl_model_backward(const float **out_dx, tl_model *model,
                            const float *dy, const size_t *dims, size_t ndim) {
  const char *fn = "tl_model_backward";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, dy);
  size_t n = 0;
  TLI_TRY(check_dims(dims, ndim, &n, fn));
  TLI_CHECK(model->mode == TL_MODEL_MODE_FINE_TUNE, TL_E_STATE,
            "%s: the model is in feature-extraction mode", fn);
  TLI_CHECK(model->have_train_forward, TL_E_STATE,
            "%s: no train-mode forward to differentiate (call "
            "tl_model_train, then tl_model_forward)",
            fn);
  const tli_layer *top = &model->layers[model->n_layers - 1];
  int same = ndim == top->out_ndim;
  for (size_t k = 0; same && k < ndim; k++)
    same = dims[k] == top->out_dims[k];
  TLI_CHECK(same, TL_E_SHAPE,
            "%s: dy must have the forward output's %zu dims (first %zu)", fn,
            top->out_ndim, top->out_dims[0]);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(isfinite(dy[i]), TL_E_NUMERIC, "%s: dy[%zu] is not finite", fn,
              i);
  const int want_input = out_dx != NULL && !takes_ids(model);

  /* The lowest layer that must run: 0 when the input gradient is wanted,
   * else the lowest one with something to train. */
  size_t lo = model->n_layers;
  for (size_t i = 0; i < model->n_layers; i++)
    if (layer_trains(model, &model->layers[i])) {
      lo = i;
      break;
    }
  if (want_input)
    lo = 0;
  if (out_dx)
    *out_dx = NULL;
  if (lo == model->n_layers) {
    forget_taps(model);
    if (model->grad_ready != NULL) /* nothing trains: all is final */
      model->grad_ready(model->grad_ready_payload, model, 0);
    return TL_OK;
  }

  TLI_TRY(tli_buf_reserve_discard(&model->dy, n, "model output gradient copy"));
  memcpy(model->dy.p, dy, n * sizeof(float));
  float *g = model->dy.p;
  for (size_t i = model->n_layers; i-- > lo;) {
    tli_layer *L = &model->layers[i];
    const int want_dx = i > lo || want_input;
    if (L->tap_pending) { /* a head reading this layer: its gradient adds */
      const size_t nt = tli_dims_prod(L->out_dims, L->out_ndim);
      for (size_t k = 0; k < nt; k++)
        g[k] += L->tap.p[k];
      L->tap_pending = 0;
    }
    TLI_TRY(tli_layer_backward(model, L, g, want_dx));
    g = L->dx.p;
    /* Layer i's own parameters, and every later layer's, are final (a
     * tied decoder's weight lives in its embedding, which comes first);
     * a layer without parameters adds nothing new. */
    if (model->grad_ready != NULL && L->n_params > 0 && i > 0)
      model->grad_ready(model->grad_ready_payload, model,
                        model->params[L->first_param].offset);
  }
  forget_taps(model); /* taps below lo change nothing: nothing trains there */
  if (model->grad_ready != NULL) /* everything, frozen layers below lo too */
    model->grad_ready(model->grad_ready_payload, model, 0);
  model->reg_pending = 0;
  if (want_input)
    *out_dx = model->layers[0].dx.p;
  return TL_OK;
}

/* ---- taps: heads reading any layer (multi-task learning) ---------------- */

static tl_status find_layer(tli_layer **out, const tl_model *m,
                            const char *name, const char *fn) {
  TLI_CHECK_PTR(fn, name);
  for (size_t i = 0; i < m->n_layers; i++)
    if (strcmp(m->layers[i].name, name) == 0) {
      *out = (tli_layer *)&m->layers[i];
      return TL_OK;
    }
  return tli_fail(TL_E_NOT_FOUND, "%s: no layer named '%s'", fn, name);
}

tl_status tl_model_layer_output(const float **out_y, size_t *out_dims,
                                size_t *out_ndim, const tl_model *model,
                                const char *layer) {
  const char *fn = "tl_model_layer_output";
  TLI_CHECK_PTR(fn, out_y);
  TLI_CHECK_PTR(fn, model);
  tli_layer *L = NULL;
  TLI_TRY(find_layer(&L, model, layer, fn));
  TLI_CHECK(L->y != NULL && L->out_ndim > 0, TL_E_STATE,
            "%s: layer '%s' has no output yet (run a forward first)", fn,
            layer);
  *out_y = L->y;
  if (out_dims)
    for (size_t k = 0; k < TL_MODEL_MAX_DIMS; k++)
      out_dims[k] = k < L->out_ndim ? L->out_dims[k] : 1;
  if (out_ndim)
    *out_ndim = L->out_ndim;
  return TL_OK;
}

tl_status tl_model_layer_output_grad(tl_model *model, const char *layer,
                                     const float *dy, const size_t *dims,
                                     size_t ndim) {
  const char *fn = "tl_model_layer_output_grad";
  TLI_CHECK_PTR(fn, model);
  TLI_CHECK_PTR(fn, dy);
  tli_layer *L = NULL;
  TLI_TRY(find_layer(&L, model, layer, fn));
  size_t n = 0;
  TLI_TRY(check_dims(dims, ndim, &n, fn));
  TLI_CHECK(model->mode == TL_MODEL_MODE_FINE_TUNE, TL_E_STATE,
            "%s: the model is in feature-extraction mode", fn);
  TLI_CHECK(model->have_train_forward, TL_E_STATE,
            "%s: no train-mode forward to differentiate (call "
            "tl_model_train, then tl_model_forward)",
            fn);
  int same = ndim == L->out_ndim;
  for (size_t k = 0; same && k < ndim; k++)
    same = dims[k] == L->out_dims[k];
  TLI_CHECK(same, TL_E_SHAPE,
            "%s: dy must have the %zu dims of layer '%s''s output (first "
            "%zu)",
            fn, L->out_ndim, layer, L->out_dims[0]);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(isfinite(dy[i]), TL_E_NUMERIC, "%s: dy[%zu] is not finite", fn,
              i);
  if (!L->tap_pending) {
    TLI_TRY(tli_buf_reserve_discard(&L->tap, n, "layer output gradient"));
    memcpy(L->tap.p, dy, n * sizeof(float));
    L->tap_pending = 1;
  } else {
    for (size_t i = 0; i < n; i++)
      L->tap.p[i] += dy[i];
  }
  return TL_OK;
}
