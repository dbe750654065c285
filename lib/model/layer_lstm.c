/* The LSTM layer (torch.nn.LSTM, time-major) with AWD-LSTM's regularisers:
 * weight drop on weight_hh, locked dropout on the input, between stacked
 * layers and on the output, and AR/TAR on the output. Training runs the
 * kernels' stacked forward that keeps a reserve for backward; eval runs the
 * inference kernel layer by layer and keeps nothing.
 *
 * aux holds, in training: [input after dropout (T*B*in) | input mask
 * (B*in) | raw output (T*B*H) | output mask (B*H) | L-1 hidden masks (B*H
 * each) | L weight-drop masks (4H*H each) | L dropped weights (4H*H each)];
 * each part only when its option is on. In eval it holds the two (T*B*H)
 * ping-pong buffers between layers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "kernels/dropout.h"
#include "kernels/lstm.h"
#include "kernels/regularize.h"
#include "model/layer_ops.h"

typedef struct lstm_parts {
  float *xin, *mask_in, *yraw, *mask_out, *hidden[TLI_LSTM_MAX_LAYERS];
  float *wmask[TLI_LSTM_MAX_LAYERS], *wdrop[TLI_LSTM_MAX_LAYERS];
  size_t total;
} lstm_parts;

/* Lays the training parts out in base (NULL: only count them). */
static void layout(lstm_parts *p, const tli_layer *L, float *base) {
  const size_t T = L->in_dims[0], B = L->in_dims[1], in = L->in_features;
  const size_t H = L->out_features, nl = L->cfg.lstm.num_layers;
  const tl_lstm_options *o = &L->cfg.lstm.o;
  size_t off = 0;
  memset(p, 0, sizeof *p);
#define TAKE(ptr, n)                                                           \
  do {                                                                         \
    (ptr) = base ? base + off : NULL;                                          \
    off += (n);                                                                \
  } while (0)
  if (o->input_p > 0.0f) {
    TAKE(p->xin, T * B * in);
    TAKE(p->mask_in, B * in);
  }
  if (o->output_p > 0.0f) {
    TAKE(p->yraw, T * B * H);
    TAKE(p->mask_out, B * H);
  }
  if (o->hidden_p > 0.0f)
    for (size_t k = 0; k + 1 < nl; k++)
      TAKE(p->hidden[k], B * H);
  if (o->weight_p > 0.0f)
    for (size_t k = 0; k < nl; k++) {
      TAKE(p->wmask[k], 4 * H * H);
      TAKE(p->wdrop[k], 4 * H * H);
    }
#undef TAKE
  p->total = off;
}

static void params_of(const tl_model *m, const tli_layer *L,
                      tli_lstm_params *out, const lstm_parts *parts) {
  for (size_t k = 0; k < L->cfg.lstm.num_layers; k++) {
    const tli_param *p = &m->params[L->first_param + 4 * k];
    out[k].w_ih = m->flat + p[0].offset;
    out[k].w_hh =
        parts && parts->wdrop[k] ? parts->wdrop[k] : m->flat + p[1].offset;
    out[k].b_ih = m->flat + p[2].offset;
    out[k].b_hh = m->flat + p[3].offset;
  }
}

static size_t carried_state(const tli_layer *L, size_t *depth) {
  *depth = L->cfg.lstm.num_layers;
  return L->cfg.lstm.o.stateful ? 2 : 0;
}

/* The carried (h, c), each (L, B, H), zeroed when the batch size changed
 * or after a reset, of a stateful layer or of any layer during a step
 * (tli_layer_forward_carry); NULLs when this forward carries nothing. */
static tl_status carried_hc(const tl_model *m, tli_layer *L, float **h,
                            float **c) {
  *h = *c = NULL;
  size_t depth = 0;
  if (tli_layer_forward_carry(m, L, &depth) == 0)
    return TL_OK;
  float *s = NULL;
  TLI_TRY(tli_layer_state_for_batch(L, 2, depth, &s));
  *h = s;
  *c = s + depth * L->in_dims[1] * L->out_features;
  return TL_OK;
}

static tl_status forward_infer(tl_model *m, tli_layer *L, const float *x) {
  const size_t T = L->in_dims[0], B = L->in_dims[1], H = L->out_features;
  const size_t nl = L->cfg.lstm.num_layers;
  tli_lstm_dims d = {T, B, L->in_features, H};
  tli_lstm_dims dh = {T, B, H, H};
  size_t ws = tli_lstm_infer_workspace_size(&d);
  const size_t ws2 = tli_lstm_infer_workspace_size(&dh);
  if (ws2 > ws)
    ws = ws2;
  TLI_TRY(tli_buf_reserve_discard(&L->out, T * B * H, "LSTM output"));
  TLI_TRY(tli_buf_reserve_discard(&L->work, ws, "LSTM inference workspace"));
  if (nl > 1)
    TLI_TRY(
        tli_buf_reserve_discard(&L->aux, 2 * T * B * H, "LSTM layer outputs"));
  tli_lstm_params p[TLI_LSTM_MAX_LAYERS];
  params_of(m, L, p, NULL);
  float *hs = NULL, *cs = NULL;
  TLI_TRY(carried_hc(m, L, &hs, &cs));
  const float *cur = x;
  for (size_t k = 0; k < nl; k++) {
    float *y = k + 1 == nl ? L->out.p : L->aux.p + (k % 2) * T * B * H;
    /* the kernel allows hN/cN to alias h0/c0: the state updates in place */
    float *h = hs ? hs + k * B * H : NULL, *c = cs ? cs + k * B * H : NULL;
    tli_lstm_forward_infer(k == 0 ? &d : &dh, &p[k], cur, h, c, y, h, c,
                           L->work.p);
    cur = y;
  }
  L->y = L->out.p;
  return TL_OK;
}

static tl_status forward(tl_model *m, tli_layer *L, const float *x,
                         const int64_t *ids) {
  (void)ids;
  if (!tli_model_training(m))
    return forward_infer(m, L, x);
  const size_t T = L->in_dims[0], B = L->in_dims[1], in = L->in_features;
  const size_t H = L->out_features, nl = L->cfg.lstm.num_layers;
  const tl_lstm_options *o = &L->cfg.lstm.o;
  tli_lstm_dims d = {T, B, in, H};
  lstm_parts parts;
  layout(&parts, L, NULL);
  TLI_TRY(tli_buf_reserve_discard(&L->out, T * B * H, "LSTM output"));
  TLI_TRY(
      tli_buf_reserve_discard(&L->aux, parts.total, "LSTM dropout buffers"));
  TLI_TRY(tli_buf_reserve_discard(&L->reserve,
                                  tli_lstm_stack_reserve_size(&d, nl),
                                  "LSTM training reserve"));
  layout(&parts, L, L->aux.p);

  const float *xin = x;
  if (parts.xin) {
    tli_dropout_mask(parts.mask_in, B * in, o->input_p, &m->rng);
    tli_dropout_locked_apply(parts.xin, x, parts.mask_in, T, B * in);
    xin = parts.xin;
  }
  const float *hmask[TLI_LSTM_MAX_LAYERS] = {NULL};
  for (size_t k = 0; k + 1 < nl; k++)
    if (parts.hidden[k]) {
      tli_dropout_mask(parts.hidden[k], B * H, o->hidden_p, &m->rng);
      hmask[k] = parts.hidden[k];
    }
  for (size_t k = 0; k < nl; k++)
    if (parts.wdrop[k]) {
      const tli_param *w_hh = &m->params[L->first_param + 4 * k + 1];
      tli_lstm_weight_drop(parts.wmask[k], parts.wdrop[k],
                           m->flat + w_hh->offset, 4 * H * H, o->weight_p,
                           &m->rng);
    }
  tli_lstm_params p[TLI_LSTM_MAX_LAYERS];
  params_of(m, L, p, &parts);
  float *yraw = parts.yraw ? parts.yraw : L->out.p;
  float *hs = NULL, *cs = NULL;
  const float *h0 = NULL, *c0 = NULL;
  TLI_TRY(carried_hc(m, L, &hs, &cs));
  if (hs) {
    /* backward needs this window's initial state: keep a copy, the carried
     * one becomes the final state */
    const size_t sn = nl * B * H;
    TLI_TRY(tli_buf_reserve_discard(&L->state0, 2 * sn, "LSTM initial state"));
    memcpy(L->state0.p, hs, 2 * sn * sizeof(float));
    h0 = L->state0.p;
    c0 = L->state0.p + sn;
  }
  tli_lstm_stack_forward_train(&d, nl, p, nl > 1 ? hmask : NULL, xin, h0, c0,
                               yraw, hs, cs, L->reserve.p);
  if (parts.yraw) {
    tli_dropout_mask(parts.mask_out, B * H, o->output_p, &m->rng);
    tli_dropout_locked_apply(L->out.p, yraw, parts.mask_out, T, B * H);
  }
  if (o->ar_alpha > 0.0f)
    m->aux_loss += tli_ar_penalty(NULL, L->out.p, T * B * H, o->ar_alpha);
  if (o->tar_beta > 0.0f)
    m->aux_loss += tli_tar_penalty(NULL, yraw, T, B * H, o->tar_beta);
  L->y = L->out.p;
  return TL_OK;
}

static tl_status backward(tl_model *m, tli_layer *L, float *dy, int want_dx) {
  const size_t T = L->in_dims[0], B = L->in_dims[1], in = L->in_features;
  const size_t H = L->out_features, nl = L->cfg.lstm.num_layers;
  const tl_lstm_options *o = &L->cfg.lstm.o;
  tli_lstm_dims d = {T, B, in, H};
  lstm_parts parts;
  layout(&parts, L, L->aux.p);
  const int wd = o->weight_p > 0.0f;
  TLI_TRY(tli_buf_reserve_discard(
      &L->work, tli_lstm_stack_backward_workspace_size(&d, nl, wd),
      "LSTM backward workspace"));
  if (want_dx)
    TLI_TRY(tli_buf_reserve_discard(&L->dx, T * B * in, "LSTM input gradient"));

  const float *yraw = parts.yraw ? parts.yraw : L->out.p;
  if (m->reg_pending && o->ar_alpha > 0.0f)
    tli_ar_penalty(dy, L->out.p, T * B * H, o->ar_alpha);
  if (parts.yraw)
    tli_dropout_locked_apply(dy, dy, parts.mask_out, T, B * H);
  if (m->reg_pending && o->tar_beta > 0.0f)
    tli_tar_penalty(dy, yraw, T, B * H, o->tar_beta);

  tli_lstm_params p[TLI_LSTM_MAX_LAYERS];
  tli_lstm_grads g[TLI_LSTM_MAX_LAYERS];
  params_of(m, L, p, &parts);
  int any = 0;
  for (size_t k = 0; k < nl; k++) {
    float *gp[4];
    for (size_t j = 0; j < 4; j++) {
      const size_t i = L->first_param + 4 * k + j;
      gp[j] =
          tli_param_is_trainable(m, i) ? m->grad + m->params[i].offset : NULL;
      any |= gp[j] != NULL;
    }
    g[k].w_ih = gp[0];
    g[k].w_hh = gp[1];
    g[k].b_ih = gp[2];
    g[k].b_hh = gp[3];
  }
  const float *hmask[TLI_LSTM_MAX_LAYERS] = {NULL};
  const float *wmask[TLI_LSTM_MAX_LAYERS] = {NULL};
  for (size_t k = 0; k < nl; k++) {
    hmask[k] = k + 1 < nl ? parts.hidden[k] : NULL;
    wmask[k] = parts.wmask[k];
  }
  const float *xin = parts.xin ? parts.xin : L->x;
  float *dx = want_dx ? L->dx.p : NULL;
  const float *h0 = NULL, *c0 = NULL;
  if (o->stateful) {
    h0 = L->state0.p;
    c0 = L->state0.p + nl * B * H;
  }
  tli_lstm_stack_backward(&d, nl, p, nl > 1 ? hmask : NULL, wd ? wmask : NULL,
                          xin, h0, c0, L->reserve.p, dy, NULL, NULL, dx, NULL,
                          NULL, any ? g : NULL, L->work.p);
  if (dx && parts.mask_in)
    tli_dropout_locked_apply(dx, dx, parts.mask_in, T, B * in);
  return TL_OK;
}

static size_t register_params(const tli_layer *L, tli_param_spec *specs) {
  return tli_layer_recurrent_params(L, specs, L->cfg.lstm.num_layers, 4);
}

/* Architecture settings: num_layers, then tl_lstm_options' fields in
 * order (weight_p, input_p, hidden_p, output_p, ar_alpha, tar_beta,
 * stateful). */
static size_t arch_values(const tli_layer *L, double *v) {
  const tl_lstm_options *o = &L->cfg.lstm.o;
  v[0] = (double)L->cfg.lstm.num_layers;
  v[1] = o->weight_p;
  v[2] = o->input_p;
  v[3] = o->hidden_p;
  v[4] = o->output_p;
  v[5] = o->ar_alpha;
  v[6] = o->tar_beta;
  v[7] = o->stateful;
  return 8;
}

static tl_status arch_decode(tli_layer *proto, const double *v, size_t n,
                             const char *fn) {
  const char *k = "lstm";
  tl_lstm_options o = TL_LSTM_OPTIONS_INIT;
  int64_t nl = 0, stateful = 0;
  TLI_TRY(tli_arch_count(n, 8, k, fn));
  TLI_TRY(tli_arch_int(&nl, v[0], 1, TLI_LSTM_MAX_LAYERS, k, "num_layers", fn));
  TLI_TRY(tli_arch_float(&o.weight_p, v[1], k, "weight_p", fn));
  TLI_TRY(tli_arch_float(&o.input_p, v[2], k, "input_p", fn));
  TLI_TRY(tli_arch_float(&o.hidden_p, v[3], k, "hidden_p", fn));
  TLI_TRY(tli_arch_float(&o.output_p, v[4], k, "output_p", fn));
  TLI_TRY(tli_arch_float(&o.ar_alpha, v[5], k, "ar_alpha", fn));
  TLI_TRY(tli_arch_float(&o.tar_beta, v[6], k, "tar_beta", fn));
  TLI_TRY(tli_arch_int(&stateful, v[7], 0, 1, k, "stateful", fn));
  o.stateful = (int)stateful;
  proto->cfg.lstm.num_layers = (size_t)nl;
  proto->cfg.lstm.o = o;
  return TL_OK;
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  (void)tie_model;
  (void)tie_layer;
  return tl_model_add_lstm(m, name, proto->in_features, proto->out_features,
                           proto->cfg.lstm.num_layers, &proto->cfg.lstm.o);
}

const tli_layer_ops tli_layer_lstm_ops = {
    .kind_name = "lstm",
    .register_params = register_params,
    .out_shape = tli_layer_recurrent_out_shape,
    .forward = forward,
    .backward = backward,
    /* inference keeps out, aux and work */
    .release_training = tli_layer_release_common_training,
    .carried_state = carried_state,
    .state_parts = 2,
    .arch_values = arch_values,
    .arch_decode = arch_decode,
    .arch_add = arch_add,
};

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
  TLI_TRY(tli_build_check_name(model, name, fn));
  tl_lstm_options o = TL_LSTM_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, lstm_options_sizes, fn, "options"));
  TLI_TRY(tli_build_check_recurrent(input_size, hidden_size, num_layers, fn));
  TLI_TRY(tli_build_check_prob(o.weight_p, "options->weight_p", fn));
  TLI_TRY(tli_build_check_prob(o.input_p, "options->input_p", fn));
  TLI_TRY(tli_build_check_prob(o.hidden_p, "options->hidden_p", fn));
  TLI_TRY(tli_build_check_prob(o.output_p, "options->output_p", fn));
  TLI_CHECK(isfinite(o.ar_alpha) && o.ar_alpha >= 0.0f, TL_E_INVALID_ARG,
            "%s: options->ar_alpha must be finite and >= 0", fn);
  TLI_CHECK(isfinite(o.tar_beta) && o.tar_beta >= 0.0f, TL_E_INVALID_ARG,
            "%s: options->tar_beta must be finite and >= 0", fn);
  TLI_CHECK(o.stateful == 0 || o.stateful == 1, TL_E_INVALID_ARG,
            "%s: options->stateful must be 0 or 1 (got %d)", fn, o.stateful);
  TLI_TRY(tli_build_check_chain(model, input_size, fn));
  tli_layer proto = tli_layer_proto(TLI_LAYER_LSTM, input_size, hidden_size);
  proto.cfg.lstm.num_layers = num_layers;
  proto.cfg.lstm.o = o;
  return tli_model_append_layer(model, &proto, name, fn);
}
