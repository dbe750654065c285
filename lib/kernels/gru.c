/* One GRU layer, forward and backward (see gru.h). The input projections
 * of all T steps are one GEMM, the recurrence one GEMM per step; the gate
 * math is a fused scalar pass per step. Backward keeps the gate gradients
 * of every step so that dx, dW_ih and dW_hh are three GEMMs over the whole
 * sequence after the per-step recurrence. */
#include "kernels/gru.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/blas.h"
#include "kernels/matvec.h"

size_t tli_gru_reserve_size(const tli_gru_dims *d) {
  return 4 * d->T * d->B * d->hidden_size;
}

size_t tli_gru_forward_workspace_size(const tli_gru_dims *d) {
  return 3 * d->T * d->B * d->hidden_size + 3 * d->B * d->hidden_size;
}

size_t tli_gru_backward_workspace_size(const tli_gru_dims *d) {
  return 6 * d->T * d->B * d->hidden_size + d->B * d->hidden_size;
}

static void assert_dims(const tli_gru_dims *d, const tli_gru_params *p) {
  (void)d;
  (void)p;
  assert(d != NULL && p != NULL && p->w_ih != NULL && p->w_hh != NULL);
  assert(d->T >= 1 && d->B >= 1 && d->input_size >= 1 && d->hidden_size >= 1);
#ifndef NDEBUG
  const size_t blas_dims[] = {d->T * d->B, 3 * d->hidden_size, d->input_size};
  assert(tli_blas_dims_ok(blas_dims, 3));
#endif
}

static float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

void tli_gru_forward(const tli_gru_dims *d, const tli_gru_params *p,
                     const float *x, const float *h0, float *y, float *hN,
                     float *reserve, float *workspace) {
  assert_dims(d, p);
  assert(x != NULL && y != NULL && workspace != NULL);
  const size_t T = d->T, B = d->B, H = d->hidden_size, in = d->input_size;
  const size_t G = 3 * H, BH = B * H;
  float *gi = workspace, *gh = workspace + T * B * G;
  /* gi = X W_ih^T for every step; the biases are added in the cell. A few
   * rows (a streaming step, a small batch) take kernels/matvec.h: sgemm
   * would pack the whole weight on every call. */
  if (T * B <= TLI_MATVEC_MAX_ROWS)
    tli_matvec_rows(T * B, G, p->w_ih, in, x, NULL, 0, NULL, gi, 0);
  else
    tli_sgemm(0, 1, T * B, G, in, 1.0f, x, in, p->w_ih, in, 0.0f, gi, G);
  for (size_t t = 0; t < T; t++) {
    const float *hp = t ? y + (t - 1) * BH : h0;
    if (hp != NULL && B <= TLI_MATVEC_MAX_ROWS)
      tli_matvec_rows(B, G, p->w_hh, H, hp, NULL, 0, NULL, gh, 0);
    else if (hp != NULL)
      tli_sgemm(0, 1, B, G, H, 1.0f, hp, H, p->w_hh, H, 0.0f, gh, G);
    else
      memset(gh, 0, B * G * sizeof(float));
    const float *git = gi + t * B * G;
    float *ht = y + t * BH;
    float *rr = reserve ? reserve + t * BH : NULL;
    for (size_t b = 0; b < B; b++) {
      const float *gib = git + b * G, *ghb = gh + b * G;
      for (size_t j = 0; j < H; j++) {
        const float bir = p->b_ih ? p->b_ih[j] : 0.0f;
        const float biz = p->b_ih ? p->b_ih[H + j] : 0.0f;
        const float bin = p->b_ih ? p->b_ih[2 * H + j] : 0.0f;
        const float bhr = p->b_hh ? p->b_hh[j] : 0.0f;
        const float bhz = p->b_hh ? p->b_hh[H + j] : 0.0f;
        const float bhn = p->b_hh ? p->b_hh[2 * H + j] : 0.0f;
        const float r = sigmoid(gib[j] + bir + ghb[j] + bhr);
        const float z = sigmoid(gib[H + j] + biz + ghb[H + j] + bhz);
        const float hn = ghb[2 * H + j] + bhn;
        const float n = tanhf(gib[2 * H + j] + bin + r * hn);
        const float h = hp ? hp[b * H + j] : 0.0f;
        ht[b * H + j] = (1.0f - z) * n + z * h;
        if (rr != NULL) {
          const size_t k = b * H + j, step = T * BH;
          rr[k] = r;
          rr[step + k] = z;
          rr[2 * step + k] = n;
          rr[3 * step + k] = hn;
        }
      }
    }
  }
  if (hN != NULL && hN != y + (T - 1) * BH)
    memmove(hN, y + (T - 1) * BH, BH * sizeof(float));
}

/* Adds the column sums of m (rows x cols) to out. */
static void add_col_sums(float *out, const float *m, size_t rows, size_t cols) {
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < cols; j++)
      out[j] += m[i * cols + j];
}

void tli_gru_backward(const tli_gru_dims *d, const tli_gru_params *p,
                      const tli_gru_backward_args *a, tli_gru_grads *grads,
                      float *workspace) {
  assert_dims(d, p);
  assert(a != NULL && a->x != NULL && a->y != NULL && a->reserve != NULL);
  assert(workspace != NULL);
  const size_t T = d->T, B = d->B, H = d->hidden_size, in = d->input_size;
  const size_t G = 3 * H, BH = B * H, step = T * BH;
  float *dgi = workspace, *dgh = workspace + T * B * G;
  float *dh = workspace + 2 * T * B * G;
  const float *R = a->reserve, *Z = R + step, *N = R + 2 * step,
              *HN = R + 3 * step;
  if (a->dhN != NULL)
    memcpy(dh, a->dhN, BH * sizeof(float));
  else
    memset(dh, 0, BH * sizeof(float));
  for (size_t t = T; t-- > 0;) {
    const float *hp = t ? a->y + (t - 1) * BH : a->h0;
    const float *dyt = a->dy ? a->dy + t * BH : NULL;
    float *dgit = dgi + t * B * G, *dght = dgh + t * B * G;
    for (size_t b = 0; b < B; b++)
      for (size_t j = 0; j < H; j++) {
        const size_t k = t * BH + b * H + j;
        float g = dh[b * H + j];
        if (dyt != NULL)
          g += dyt[b * H + j];
        const float r = R[k], z = Z[k], n = N[k], hn = HN[k];
        const float h = hp ? hp[b * H + j] : 0.0f;
        const float dn = g * (1.0f - z) * (1.0f - n * n);
        const float dz = g * (h - n) * z * (1.0f - z);
        const float dr = dn * hn * r * (1.0f - r);
        float *gib = dgit + b * G, *ghb = dght + b * G;
        gib[j] = ghb[j] = dr;
        gib[H + j] = ghb[H + j] = dz;
        gib[2 * H + j] = dn;
        ghb[2 * H + j] = dn * r;
        dh[b * H + j] = g * z; /* the direct path; the GEMM adds the rest */
      }
    if (t > 0 || a->dh0 != NULL)
      tli_sgemm(0, 0, B, H, G, 1.0f, dght, G, p->w_hh, H, 1.0f, dh, H);
  }
  if (a->dh0 != NULL)
    memcpy(a->dh0, dh, BH * sizeof(float));
  if (a->dx != NULL)
    tli_sgemm(0, 0, T * B, in, G, 1.0f, dgi, G, p->w_ih, in, 0.0f, a->dx, in);
  if (grads == NULL)
    return;
  if (grads->w_ih != NULL)
    tli_sgemm(1, 0, G, in, T * B, 1.0f, dgi, G, a->x, in, 1.0f, grads->w_ih,
              in);
  if (grads->w_hh != NULL) {
    /* step t's recurrence read y_{t-1}: one GEMM for t >= 1, h0 for t = 0 */
    if (T > 1)
      tli_sgemm(1, 0, G, H, (T - 1) * B, 1.0f, dgh + B * G, G, a->y, H, 1.0f,
                grads->w_hh, H);
    if (a->h0 != NULL)
      tli_sgemm(1, 0, G, H, B, 1.0f, dgh, G, a->h0, H, 1.0f, grads->w_hh, H);
  }
  if (grads->b_ih != NULL)
    add_col_sums(grads->b_ih, dgi, T * B, G);
  if (grads->b_hh != NULL)
    add_col_sums(grads->b_hh, dgh, T * B, G);
}
