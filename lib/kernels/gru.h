/* Internal: stateless float32 GRU kernels with PyTorch nn.GRU's numerics and
 * layout. One layer, unidirectional. Per layer k the parameters are exactly
 * torch.nn.GRU's weight_ih_l{k} (3H x in), weight_hh_l{k} (3H x H),
 * bias_ih_l{k} (3H), bias_hh_l{k} (3H), row-major, the 3H rows in gate
 * order r, z, n:
 *
 *   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)         rows [0, H)
 *   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)         rows [H, 2H)
 *   n = tanh   (W_in x + b_in + r * (W_hn h + b_hn))   rows [2H, 3H)
 *   h' = (1 - z) * n + z * h
 *
 * Sequences are time-major: x (T, B, in), y (T, B, H); states (B, H).
 * As the LSTM kernels (lstm.h): one GEMM projects the inputs of all T
 * steps, one GEMM per step the recurrence; nothing allocates, keeps state
 * or reports errors; callers validate shapes and pass workspaces whose
 * sizes the *_size functions give in floats. Parameter gradients ACCUMULATE
 * (+=), activation gradients (dx, dh0) are OVERWRITTEN. */
#ifndef TLI_KERNELS_GRU_H
#define TLI_KERNELS_GRU_H

#include <stddef.h>

/* T, B, input_size, hidden_size >= 1; T*B, 3H and in must fit a BLAS int. */
typedef struct tli_gru_dims {
  size_t T;
  size_t B;
  size_t input_size;
  size_t hidden_size; /* H */
} tli_gru_dims;

typedef struct tli_gru_params {
  const float *w_ih; /* 3H x input_size */
  const float *w_hh; /* 3H x H */
  const float *b_ih; /* 3H */
  const float *b_hh; /* 3H */
} tli_gru_params;

/* Same shapes; a NULL array is frozen and its work skipped. */
typedef struct tli_gru_grads {
  float *w_ih;
  float *w_hh;
  float *b_ih;
  float *b_hh;
} tli_gru_grads;

/* What a training forward keeps for backward: r, z, n and W_hn h + b_hn of
 * every step, 4*T*B*H floats. */
size_t tli_gru_reserve_size(const tli_gru_dims *d);
/* Scratch of tli_gru_forward: 3*T*B*H + 3*B*H floats. */
size_t tli_gru_forward_workspace_size(const tli_gru_dims *d);
/* Scratch of tli_gru_backward: 6*T*B*H + B*H floats. */
size_t tli_gru_backward_workspace_size(const tli_gru_dims *d);

/* Forward over T steps. x (T,B,in); h0 (B,H) or NULL for zeros. Writes y
 * (T,B,H), the hidden state of every step, and when hN is not NULL the
 * last one (hN may alias h0). reserve: NULL (inference) or
 * tli_gru_reserve_size floats for tli_gru_backward, which also reads x, h0
 * and y unchanged. */
void tli_gru_forward(const tli_gru_dims *d, const tli_gru_params *p,
                     const float *x, const float *h0, float *y, float *hN,
                     float *reserve, float *workspace);

/* Backward through all T steps of a training forward.
 * dy (T,B,H) and dhN (B,H) may be NULL (zeros). dx (T,B,in) and dh0 (B,H)
 * are overwritten when not NULL; grads (NULL: all frozen) accumulate. */
typedef struct tli_gru_backward_args {
  const float *x;
  const float *h0;
  const float *y;
  const float *reserve;
  const float *dy;
  const float *dhN;
  float *dx;
  float *dh0;
} tli_gru_backward_args;
void tli_gru_backward(const tli_gru_dims *d, const tli_gru_params *p,
                      const tli_gru_backward_args *a, tli_gru_grads *grads,
                      float *workspace);

#endif
