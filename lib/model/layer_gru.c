/* The GRU layer (torch.nn.GRU, time-major, unidirectional, num_layers
 * stacked), optionally stateful like the LSTM: each forward starts from the
 * previous forward's final h of the same batch size, and backward stops at
 * the window's start (truncated BPTT). In training, as the LSTM's AWD
 * options: weight_p drops weight_hh (DropConnect, one mask per forward) and
 * hidden_p applies locked dropout between stacked layers.
 *
 * Buffers: out is the top layer's output; aux the outputs of the layers
 * below it ((num_layers - 1) * T*B*H) and, with hidden_p, those outputs
 * after dropout (the next layer's input), all kept for backward; mask the
 * training masks: [hidden masks ((num_layers - 1) * B*H) | weight-drop
 * masks (num_layers * 3H*H) | dropped weights (num_layers * 3H*H)], each
 * part only when its option is on; reserve the kernels' per-layer reserves;
 * work the kernel workspace, then (backward) two T*B*H ping-pong buffers
 * for the gradients between stacked layers and, with weight drop, the 3H*H
 * gradient w.r.t. the dropped weight. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "kernels/dropout.h"
#include "kernels/gru.h"
#include "kernels/lstm.h"
#include "model/layer_ops.h"

static size_t carried_state(const tli_layer *L, size_t *depth) {
  *depth = L->cfg.gru.num_layers;
  return L->cfg.gru.o.stateful ? 1 : 0;
}

/* The training masks in L->mask (NULL parts when the option is off). */
typedef struct gru_masks {
  float *hidden[TLI_LSTM_MAX_LAYERS]; /* below layer k+1's input, B*H */
  float *wmask[TLI_LSTM_MAX_LAYERS], *wdrop[TLI_LSTM_MAX_LAYERS]; /* 3H*H */
  size_t total;
} gru_masks;

static void masks_layout(gru_masks *p, const tli_layer *L, float *base) {
  const size_t B = L->in_dims[1], H = L->out_features;
  const size_t nl = L->cfg.gru.num_layers;
  size_t off = 0;
  memset(p, 0, sizeof *p);
  if (L->cfg.gru.o.hidden_p > 0.0f)
    for (size_t k = 0; k + 1 < nl; k++, off += B * H)
      p->hidden[k] = base ? base + off : NULL;
  if (L->cfg.gru.o.weight_p > 0.0f)
    for (size_t k = 0; k < nl; k++, off += 6 * H * H) {
      p->wmask[k] = base ? base + off : NULL;
      p->wdrop[k] = base ? base + off + 3 * H * H : NULL;
    }
  p->total = off;
}

/* Layer k's parameters; with weight drop on, the recurrence uses the
 * dropped weight_hh. */
static tli_gru_params params_of(const tl_model *m, const tli_layer *L, size_t k,
                                const gru_masks *masks) {
  const tli_param *p = &m->params[L->first_param + 4 * k];
  tli_gru_params out = {m->flat + p[0].offset, m->flat + p[1].offset,
                        m->flat + p[2].offset, m->flat + p[3].offset};
  if (masks->wdrop[k] != NULL)
    out.w_hh = masks->wdrop[k];
  return out;
}

/* Layer k's output: aux for the layers below the top, out for the top. */
static float *layer_y(const tli_layer *L, size_t k) {
  const size_t n = L->in_dims[0] * L->in_dims[1] * L->out_features;
  return k + 1 == L->cfg.gru.num_layers ? L->out.p : L->aux.p + k * n;
}

/* Layer k's input (k >= 1): layer k-1's output, after hidden dropout when
 * it is on (kept in aux after the layer outputs). */
static float *layer_x(const tli_layer *L, size_t k, const gru_masks *masks) {
  const size_t n = L->in_dims[0] * L->in_dims[1] * L->out_features;
  const size_t nl = L->cfg.gru.num_layers;
  if (masks->hidden[k - 1] == NULL)
    return layer_y(L, k - 1);
  return L->aux.p + (nl - 1 + k - 1) * n;
}

static tl_status forward(tl_model *m, tli_layer *L, const float *x,
                         const int64_t *ids) {
  (void)ids;
  const size_t T = L->in_dims[0], B = L->in_dims[1], H = L->out_features;
  const size_t nl = L->cfg.gru.num_layers, BH = B * H;
  const tl_gru_options *o = &L->cfg.gru.o;
  const int train = tli_model_training(m);
  const int hidden = train && o->hidden_p > 0.0f;
  tli_gru_dims d = {T, B, L->in_features, H};
  gru_masks masks;
  masks_layout(&masks, L, NULL);
  TLI_TRY(tli_buf_reserve_discard(&L->out, T * BH, "GRU output"));
  TLI_TRY(tli_buf_reserve_discard(&L->aux, (hidden ? 2 : 1) * (nl - 1) * T * BH,
                                  "GRU layer outputs"));
  TLI_TRY(tli_buf_reserve_discard(&L->work, tli_gru_forward_workspace_size(&d),
                                  "GRU forward workspace"));
  if (train) {
    TLI_TRY(tli_buf_reserve_discard(&L->reserve, nl * tli_gru_reserve_size(&d),
                                    "GRU training reserve"));
    TLI_TRY(
        tli_buf_reserve_discard(&L->mask, masks.total, "GRU dropout masks"));
    masks_layout(&masks, L, L->mask.p);
    for (size_t k = 0; k + 1 < nl; k++)
      if (masks.hidden[k])
        tli_dropout_mask(masks.hidden[k], BH, o->hidden_p, &m->rng);
    for (size_t k = 0; k < nl; k++)
      if (masks.wdrop[k]) {
        const tli_param *w_hh = &m->params[L->first_param + 4 * k + 1];
        tli_lstm_weight_drop(masks.wmask[k], masks.wdrop[k],
                             m->flat + w_hh->offset, 3 * H * H, o->weight_p,
                             &m->rng);
      }
  }
  float *state = NULL;
  const float *h0 = NULL;
  size_t depth = 0;
  if (tli_layer_forward_carry(m, L, &depth) > 0) {
    TLI_TRY(tli_layer_state_for_batch(L, 1, depth, &state));
    h0 = state;
    if (train) {
      /* backward needs this window's initial state: keep a copy, the
       * carried one becomes the final state */
      TLI_TRY(
          tli_buf_reserve_discard(&L->state0, nl * BH, "GRU initial state"));
      memcpy(L->state0.p, state, nl * BH * sizeof(float));
      h0 = L->state0.p;
    }
  }
  for (size_t k = 0; k < nl; k++) {
    d.input_size = k ? H : L->in_features;
    /* in eval masks has only NULL parts: raw weights, no dropout */
    const float *xk = x;
    if (k > 0) {
      float *xd = layer_x(L, k, &masks);
      if (xd != layer_y(L, k - 1))
        tli_dropout_locked_apply(xd, layer_y(L, k - 1), masks.hidden[k - 1], T,
                                 BH);
      xk = xd;
    }
    const tli_gru_params p = params_of(m, L, k, &masks);
    float *reserve = train ? L->reserve.p + k * tli_gru_reserve_size(&d) : NULL;
    /* hN may alias h0 (eval updates the carried state in place) */
    tli_gru_forward(&d, &p, xk, h0 ? h0 + k * BH : NULL, layer_y(L, k),
                    state ? state + k * BH : NULL, reserve, L->work.p);
  }
  L->y = L->out.p;
  return TL_OK;
}

static int layer_has_grad(const tl_model *m, const tli_layer *L, size_t k) {
  for (size_t j = 0; j < 4; j++)
    if (tli_param_is_trainable(m, L->first_param + 4 * k + j))
      return 1;
  return 0;
}

static tl_status backward(tl_model *m, tli_layer *L, float *dy, int want_dx) {
  const size_t T = L->in_dims[0], B = L->in_dims[1], H = L->out_features;
  const size_t nl = L->cfg.gru.num_layers, BH = B * H;
  tli_gru_dims d = {T, B, H, H};
  gru_masks masks;
  masks_layout(&masks, L, L->mask.p);
  const size_t ws = tli_gru_backward_workspace_size(&d);
  const size_t wd = L->cfg.gru.o.weight_p > 0.0f ? 3 * H * H : 0;
  TLI_TRY(tli_buf_reserve_discard(&L->work, ws + 2 * T * BH + wd,
                                  "GRU backward workspace"));
  if (want_dx)
    TLI_TRY(tli_buf_reserve_discard(&L->dx, T * B * L->in_features,
                                    "GRU input gradient"));
  float *dw_dropped = L->work.p + ws + 2 * T * BH;
  /* The lowest stacked layer backward must reach. */
  size_t lo = nl;
  for (size_t k = 0; k < nl && lo == nl; k++)
    if (layer_has_grad(m, L, k))
      lo = k;
  if (want_dx)
    lo = 0;
  const float *h0 = L->cfg.gru.o.stateful ? L->state0.p : NULL;
  const float *g = dy;
  for (size_t k = nl; k-- > lo;) {
    d.input_size = k ? H : L->in_features;
    const tli_gru_params p = params_of(m, L, k, &masks);
    float *gp[4];
    for (size_t j = 0; j < 4; j++) {
      const size_t i = L->first_param + 4 * k + j;
      gp[j] =
          tli_param_is_trainable(m, i) ? m->grad + m->params[i].offset : NULL;
    }
    /* with weight drop the kernel's dW_hh is w.r.t. the dropped weight:
     * collected apart, masked into the raw weight's gradient below */
    float *dw_hh = gp[1];
    if (dw_hh != NULL && masks.wmask[k] != NULL) {
      memset(dw_dropped, 0, 3 * H * H * sizeof(float));
      gp[1] = dw_dropped;
    }
    tli_gru_grads grads = {gp[0], gp[1], gp[2], gp[3]};
    float *dx =
        k > lo ? L->work.p + ws + (k % 2) * T * BH : (want_dx ? L->dx.p : NULL);
    const size_t rs = tli_gru_reserve_size(&d);
    tli_gru_backward_args a = {k ? layer_x(L, k, &masks) : L->x,
                               h0 ? h0 + k * BH : NULL,
                               layer_y(L, k),
                               L->reserve.p + k * rs,
                               g,
                               NULL,
                               dx,
                               NULL};
    tli_gru_backward(&d, &p, &a, &grads, L->work.p);
    if (gp[1] == dw_dropped)
      for (size_t i = 0; i < 3 * H * H; i++)
        dw_hh[i] += masks.wmask[k][i] * dw_dropped[i];
    if (dx != NULL && k > 0 && masks.hidden[k - 1] != NULL)
      tli_dropout_locked_apply(dx, dx, masks.hidden[k - 1], T, BH);
    g = dx;
  }
  return TL_OK;
}

static size_t register_params(const tli_layer *L, tli_param_spec *specs) {
  return tli_layer_recurrent_params(L, specs, L->cfg.gru.num_layers, 3);
}

/* Architecture settings: num_layers, weight_p, hidden_p, stateful. */
static size_t arch_values(const tli_layer *L, double *v) {
  v[0] = (double)L->cfg.gru.num_layers;
  v[1] = L->cfg.gru.o.weight_p;
  v[2] = L->cfg.gru.o.hidden_p;
  v[3] = L->cfg.gru.o.stateful;
  return 4;
}

static tl_status arch_decode(tli_layer *proto, const double *v, size_t n,
                             const char *fn) {
  const char *k = "gru";
  tl_gru_options o = TL_GRU_OPTIONS_INIT;
  int64_t nl = 0, stateful = 0;
  TLI_TRY(tli_arch_count(n, 4, k, fn));
  TLI_TRY(tli_arch_int(&nl, v[0], 1, TLI_LSTM_MAX_LAYERS, k, "num_layers", fn));
  TLI_TRY(tli_arch_float(&o.weight_p, v[1], k, "weight_p", fn));
  TLI_TRY(tli_arch_float(&o.hidden_p, v[2], k, "hidden_p", fn));
  TLI_TRY(tli_arch_int(&stateful, v[3], 0, 1, k, "stateful", fn));
  o.stateful = (int)stateful;
  proto->cfg.gru.num_layers = (size_t)nl;
  proto->cfg.gru.o = o;
  return TL_OK;
}

static tl_status arch_add(tl_model *m, const tli_layer *proto, const char *name,
                          tl_model *tie_model, const char *tie_layer) {
  (void)tie_model;
  (void)tie_layer;
  return tl_model_add_gru(m, name, proto->in_features, proto->out_features,
                          proto->cfg.gru.num_layers, &proto->cfg.gru.o);
}

const tli_layer_ops tli_layer_gru_ops = {
    .kind_name = "gru",
    .register_params = register_params,
    .out_shape = tli_layer_recurrent_out_shape,
    .forward = forward,
    .backward = backward,
    /* inference keeps out, aux and work */
    .release_training = tli_layer_release_common_training,
    .carried_state = carried_state,
    .state_parts = 1,
    .arch_values = arch_values,
    .arch_decode = arch_decode,
    .arch_add = arch_add,
};

TLI_VERSION_SIZES(gru_options_sizes, TL_GRU_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_gru_options, stateful));

tl_status tl_gru_options_init(tl_gru_options *out, unsigned int version) {
  static const tl_gru_options defaults = TL_GRU_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, gru_options_sizes,
                          "tl_gru_options_init");
}

tl_status tl_model_add_gru(tl_model *model, const char *name, size_t input_size,
                           size_t hidden_size, size_t num_layers,
                           const tl_gru_options *options) {
  const char *fn = "tl_model_add_gru";
  TLI_CHECK_PTR(fn, model);
  TLI_TRY(tli_build_check_name(model, name, fn));
  tl_gru_options o = TL_GRU_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&o, options, gru_options_sizes, fn, "options"));
  TLI_TRY(tli_build_check_recurrent(input_size, hidden_size, num_layers, fn));
  TLI_TRY(tli_build_check_prob(o.weight_p, "options->weight_p", fn));
  TLI_TRY(tli_build_check_prob(o.hidden_p, "options->hidden_p", fn));
  TLI_CHECK(o.stateful == 0 || o.stateful == 1, TL_E_INVALID_ARG,
            "%s: options->stateful must be 0 or 1 (got %d)", fn, o.stateful);
  TLI_TRY(tli_build_check_chain(model, input_size, fn));
  tli_layer proto = tli_layer_proto(TLI_LAYER_GRU, input_size, hidden_size);
  proto.cfg.gru.num_layers = num_layers;
  proto.cfg.gru.o = o;
  return tli_model_append_layer(model, &proto, name, fn);
}
