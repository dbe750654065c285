/* Internal: fully connected layer y = act(x W^T + b), as torch nn.Linear
 * followed by an activation, with its backward.
 *
 * Shapes (row-major): x (n, in), W (out, in) as nn.Linear.weight, b (out),
 * y (n, out). A time-major batch (T, B, F) is n = T * B rows.
 *
 * Backward ACCUMULATES (+=) into dx, dw and db, as PyTorch's autograd does
 * into .grad: the caller zeroes them once per step. Passing NULL for dw/db
 * skips that gradient (a frozen layer); NULL for dx skips the input gradient
 * (the first layer). A decoder tied to an embedding passes the embedding
 * matrix (V, E) as w and the embedding's gradient array as dw, so the decoder
 * gradient adds onto the lookup's sparse gradient in the same buffer.
 *
 * Stateless: nothing allocates; the caller passes every buffer. Shapes are
 * preconditions (the model validates them); they must fit a BLAS int. */
#ifndef TLI_KERNELS_LINEAR_H
#define TLI_KERNELS_LINEAR_H

#include <stddef.h>

/* Activation applied after the affine map. Internal only: lib/model maps
 * the public tl_activation onto it; no file or ABI holds these values. */
typedef enum tli_act {
  TLI_ACT_IDENTITY = 0,
  TLI_ACT_RELU = 1,   /* max(z, 0); gradient 0 at z <= 0, as torch */
  TLI_ACT_TANH = 2,   /* tanh(z) */
  TLI_ACT_SIGMOID = 3 /* 1 / (1 + exp(-z)), evaluated without overflow */
} tli_act;

/* y[i] = act(z[i]) for i < n. y may alias z (in place). */
void tli_act_forward(float *y, const float *z, size_t n, tli_act act);

/* dz[i] = dy[i] * act'(z[i]), written (not accumulated), expressed through
 * the activation's OUTPUT y (relu: y > 0; tanh: 1 - y^2; sigmoid: y(1-y)),
 * so the forward need not keep z. dz may alias dy. Identity copies dy
 * (nothing when dz == dy). */
void tli_act_backward(float *dz, const float *dy, const float *y, size_t n,
                      tli_act act);

/* y (n, out) = act(x (n, in) W^T + b). b may be NULL (no bias). y must not
 * alias x or w. */
void tli_linear_forward(float *y, const float *x, const float *w,
                        const float *b, size_t n, size_t in, size_t out,
                        tli_act act);

/* Backward of tli_linear_forward. dy (n, out) is the gradient with respect
 * to the activation output y; y is that forward's output (unused for the
 * identity, may then be NULL).
 *   dz           = dy * act'(.)            (into work; see below)
 *   dx (n, in)  += dz W                     if dx != NULL
 *   dw (out, in)+= dz^T x                   if dw != NULL
 *   db (out)    += column sums of dz        if db != NULL
 * work: n * out floats for dz, or NULL when act is TLI_ACT_IDENTITY. work
 * may be dy itself (dy is then overwritten with dz). dx must not alias x,
 * w or dy; dw must not alias w or x. */
void tli_linear_backward(float *dx, float *dw, float *db, float *work,
                         const float *dy, const float *x, const float *w,
                         const float *y, size_t n, size_t in, size_t out,
                         tli_act act);

#endif
