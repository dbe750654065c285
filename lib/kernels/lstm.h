/* Internal: stateless float32 LSTM kernels with PyTorch nn.LSTM's numerics
 * and layout (see docs/kernels.md, section "LSTM").
 *
 * One layer, unidirectional. Per layer k the parameters are exactly
 * torch.nn.LSTM's weight_ih_l{k} (4H x in), weight_hh_l{k} (4H x H),
 * bias_ih_l{k} (4H), bias_hh_l{k} (4H), row-major, the 4H rows in gate order
 * i, f, g, o:
 *
 *   i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)   rows [0, H)
 *   f = sigmoid(W_if x + b_if + W_hf h + b_hf)   rows [H, 2H)
 *   g = tanh   (W_ig x + b_ig + W_hg h + b_hg)   rows [2H, 3H)
 *   o = sigmoid(W_io x + b_io + W_ho h + b_ho)   rows [3H, 4H)
 *   c' = f * c + i * g,   h' = o * tanh(c')
 *
 * Sequences are time-major: x (T, B, in), y (T, B, H); states (B, H).
 *
 * Nothing here allocates, keeps state or reports errors: callers (the model
 * layer, the tests) validate shapes and pass workspaces whose sizes the
 * *_size functions give in floats. Preconditions are assert()ed in debug
 * builds. Every array is dense row-major; distinct arrays must not overlap
 * unless a function says otherwise. Workspace contents on entry do not
 * matter (except the training reserve, which backward reads).
 *
 * Gradient semantics: parameter gradients (tli_lstm_grads) ACCUMULATE (+=),
 * as in PyTorch; activation gradients (dx, dh0, dc0) are OVERWRITTEN. */
#ifndef TLI_KERNELS_LSTM_H
#define TLI_KERNELS_LSTM_H

#include <stddef.h>

#include "core/rng.h"

/* Shape of one layer's call. T >= 1, B >= 1, input_size >= 1,
 * hidden_size >= 1; every GEMM dimension (T*B, 4H, in) must fit a BLAS int. */
typedef struct tli_lstm_dims {
  size_t T;           /* time steps */
  size_t B;           /* batch */
  size_t input_size;  /* features of x */
  size_t hidden_size; /* H */
} tli_lstm_dims;

/* One layer's parameters (read only). b_ih / b_hh may be NULL (no bias).
 * w_hh is the weight the recurrence USES: with weight drop on, pass the
 * dropped copy made by tli_lstm_weight_drop, not the raw weight. */
typedef struct tli_lstm_params {
  const float *w_ih; /* 4H x input_size */
  const float *w_hh; /* 4H x H */
  const float *b_ih; /* 4H or NULL */
  const float *b_hh; /* 4H or NULL */
} tli_lstm_params;

/* One layer's parameter gradients, same shapes as tli_lstm_params. Backward
 * ADDS into each non-NULL array. A NULL array is frozen: its work is skipped
 * entirely (a NULL w_ih / w_hh skips that weight's big GEMM). */
typedef struct tli_lstm_grads {
  float *w_ih;
  float *w_hh; /* gradient w.r.t. the RAW weight_hh when weight drop is on */
  float *b_ih;
  float *b_hh;
} tli_lstm_grads;

/* ---- sizes (in floats) ------------------------------------------------ */

/* Training reserve written by tli_lstm_forward_train and read by
 * tli_lstm_backward: 7*T*B*H floats (gate activations i,f,g,o, c_t,
 * tanh(c_t), h_t for every step). */
size_t tli_lstm_reserve_size(const tli_lstm_dims *d);
/* Scratch for tli_lstm_forward_infer: 4*T*B*H + B*H floats. */
size_t tli_lstm_infer_workspace_size(const tli_lstm_dims *d);
/* Scratch for tli_lstm_step (d->T is ignored): 4*B*H floats. */
size_t tli_lstm_step_workspace_size(const tli_lstm_dims *d);
/* Scratch for tli_lstm_backward: 4*T*B*H + 2*B*H floats, plus 4*H*H when
 * weight_drop is non-zero (the gradient w.r.t. the dropped weight before
 * masking). */
size_t tli_lstm_backward_workspace_size(const tli_lstm_dims *d,
                                        int weight_drop);

/* ---- forward ---------------------------------------------------------- */

/* Training forward of one layer over T steps.
 * x (T,B,in); h0, c0 (B,H) or NULL for zeros. Writes y (T,B,H) and, when
 * non-NULL, hN, cN (B,H) (which may be the same arrays as h0 / c0: they are
 * written last). reserve: tli_lstm_reserve_size floats, kept unchanged
 * until the matching tli_lstm_backward. x must also stay unchanged. */
void tli_lstm_forward_train(const tli_lstm_dims *d, const tli_lstm_params *p,
                            const float *x, const float *h0, const float *c0,
                            float *y, float *hN, float *cN, float *reserve);

/* Inference forward: the same bits as tli_lstm_forward_train, keeps
 * nothing; except one step (T = 1) of at most TLI_MATVEC_MAX_ROWS
 * (kernels/matvec.h) sequences, which takes the matrix-vector path of
 * tli_lstm_step (the same values up to float rounding, the same bits as
 * tli_lstm_step). hN / cN may be NULL, or alias h0 / c0. workspace:
 * tli_lstm_infer_workspace_size floats. */
void tli_lstm_forward_infer(const tli_lstm_dims *d, const tli_lstm_params *p,
                            const float *x, const float *h0, const float *c0,
                            float *y, float *hN, float *cN, float *workspace);

/* One inference step for streaming (any B; up to TLI_MATVEC_MAX_ROWS
 * (kernels/matvec.h) it uses matrix-vector products; the same bits as
 * tli_lstm_forward_infer at T = 1). x (B,in); h, c (B,H) hold the state on
 * entry (not NULL) and are updated in place. workspace:
 * tli_lstm_step_workspace_size floats. */
void tli_lstm_step(const tli_lstm_dims *d, const tli_lstm_params *p,
                   const float *x, float *h, float *c, float *workspace);

/* ---- backward --------------------------------------------------------- */

/* Inputs and outputs of tli_lstm_backward besides dims and params. */
typedef struct tli_lstm_backward_args {
  const float *x;       /* (T,B,in) the forward's input */
  const float *h0;      /* (B,H) the forward's h0, or NULL for zeros */
  const float *c0;      /* (B,H) the forward's c0, or NULL for zeros */
  const float *reserve; /* the forward's reserve */
  const float *dy;      /* (T,B,H) dL/dy, or NULL for zeros */
  const float *dhN;     /* (B,H) dL/dhN, or NULL for zeros */
  const float *dcN;     /* (B,H) dL/dcN, or NULL for zeros */
  /* DropConnect mask of weight_hh (4H*H, entries 0 or 1/(1-p)) used by the
   * forward, or NULL when weight drop was off. With a mask, grads->w_hh
   * receives mask * dL/dW_dropped, the gradient w.r.t. the raw weight. */
  const float *w_hh_mask;
  float *dx;  /* (T,B,in) overwritten, or NULL to skip (frozen input) */
  float *dh0; /* (B,H) overwritten, or NULL to skip */
  float *dc0; /* (B,H) overwritten, or NULL to skip */
} tli_lstm_backward_args;

/* Backward of one layer through all T steps. grads may be NULL (every
 * parameter frozen). workspace: tli_lstm_backward_workspace_size(d,
 * a->w_hh_mask != NULL) floats. The reserve is read, not modified. */
void tli_lstm_backward(const tli_lstm_dims *d, const tli_lstm_params *p,
                       const tli_lstm_backward_args *a, tli_lstm_grads *grads,
                       float *workspace);

/* ---- weight drop (AWD-LSTM DropConnect on weight_hh) ------------------- */

/* Draws one mask for n = 4H*H weights: mask[k] = 1/(1-p) with probability
 * 1-p, else 0, from rng (one tli_rng_uniform_f draw per weight, in order),
 * and writes w_dropped = w_raw * mask. 0 <= p < 1; p == 0 gives mask 1 and
 * w_dropped == w_raw exactly, without consuming rng draws. */
void tli_lstm_weight_drop(float *mask, float *w_dropped, const float *w_raw,
                          size_t n, float p, tli_rng *rng);

/* ---- multi-layer convenience (torch.nn.LSTM(num_layers=L)) ------------- */

/* L layers stacked; layer 0 has input_size d->input_size, the others H.
 * params / grads are arrays of L. h0, c0, hN, cN are (L,B,H) (NULL: zeros /
 * not wanted). drop_masks: NULL, or L-1 locked-dropout masks (B,H) applied
 * to the output of layer k before layer k+1 (the same mask at every step,
 * entries 0 or 1/(1-p), as AWD-LSTM's LockedDropout); NULL entries mean no
 * dropout at that boundary. The masks must stay unchanged until backward.
 * reserve: tli_lstm_stack_reserve_size floats. */
size_t tli_lstm_stack_reserve_size(const tli_lstm_dims *d, size_t L);
size_t tli_lstm_stack_backward_workspace_size(const tli_lstm_dims *d, size_t L,
                                              int weight_drop);

void tli_lstm_stack_forward_train(const tli_lstm_dims *d, size_t L,
                                  const tli_lstm_params *params,
                                  const float *const *drop_masks,
                                  const float *x, const float *h0,
                                  const float *c0, float *y, float *hN,
                                  float *cN, float *reserve);

/* w_hh_masks: NULL, or L entries (each NULL or that layer's weight-drop
 * mask). dx, dh0, dc0 overwritten (NULL: skip); grads accumulate. */
void tli_lstm_stack_backward(
    const tli_lstm_dims *d, size_t L, const tli_lstm_params *params,
    const float *const *drop_masks, const float *const *w_hh_masks,
    const float *x, const float *h0, const float *c0, const float *reserve,
    const float *dy, const float *dhN, const float *dcN, float *dx, float *dh0,
    float *dc0, tli_lstm_grads *grads, float *workspace);

#endif
