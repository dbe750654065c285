#include "kernels/loss.h"

#include "kernels/lstm_math.h"

#include <assert.h>
#include <math.h>
#include <string.h>

size_t tli_loss_find_bad_target(const int64_t *targets, size_t n, size_t c,
                                int64_t ignore_index) {
  for (size_t i = 0; i < n; i++) {
    const int64_t t = targets[i];
    if (t == ignore_index)
      continue;
    if (t < 0 || (uint64_t)t >= (uint64_t)c)
      return i;
  }
  return n;
}

/* max and log(sum(exp(x - max))) of one row: log-sum-exp = max + the
 * second. Summing in double keeps the tail of a large vocabulary. */
static void tli_row_lse(const float *row, size_t c, float *out_max,
                        double *out_log_sum) {
  float mx = row[0];
  for (size_t j = 1; j < c; j++)
    if (row[j] > mx)
      mx = row[j];
  double sum = 0.0;
  for (size_t j = 0; j < c; j++)
    sum += exp((double)row[j] - (double)mx);
  *out_max = mx;
  /* c >= 1 and the max contributes exp(0) = 1, so sum >= 1. */
  // cppcheck-suppress invalidFunctionArg
  *out_log_sum = log(sum);
}

void tli_log_softmax(float *out, const float *logits, size_t n, size_t c) {
  if (c == 0)
    return;
  for (size_t i = 0; i < n; i++) {
    const float *row = logits + i * c;
    float *dst = out + i * c;
    float mx;
    double ls;
    tli_row_lse(row, c, &mx, &ls);
    for (size_t j = 0; j < c; j++)
      dst[j] = (float)((double)row[j] - (double)mx - ls);
  }
}

void tli_softmax(float *out, const float *logits, size_t n, size_t c) {
  if (c == 0)
    return;
  for (size_t i = 0; i < n; i++) {
    const float *row = logits + i * c;
    float *dst = out + i * c;
    float mx;
    double ls;
    tli_row_lse(row, c, &mx, &ls);
    for (size_t j = 0; j < c; j++)
      dst[j] = (float)exp((double)row[j] - (double)mx - ls);
  }
}

/* exp(x) for x <= 0 on TLI_VLEN lanes (the cephes polynomial of
 * lstm_math.h, about 1 ulp), 0 where the true value is below the smallest
 * normal float: such a term adds nothing to a sum that is >= 1. */
TLI_VINLINE tli_vf tli_ce_vexp(tli_vf x) {
  const tli_vf zero = {0};
  return tli_vselect(x < zero - 87.0f, zero, tli_vexp(x));
}

/* One counted row: returns -log softmax(row)[t] and, if drow is not NULL,
 * writes (softmax(row) - onehot(t)) * gscale into it. The exponentials are
 * computed once (TLI_VLEN at a time instead of a libm call each: over a
 * 10^4-word vocabulary they are most of the loss's time), stored in drow
 * and normalised in place, so each element is read before it is written
 * and drow may be row. Their sum is kept in double lanes, added in a fixed
 * order, so the loss is the same whether or not drow is given. */
TLI_CPU_BODY double tli_ce_row_body(float *drow, const float *row, size_t c,
                                    size_t t, double gscale) {
  /* The max, TLI_VLEN lanes at a time (a scalar compare per element took
   * a quarter of the row's time); the same value as a scalar scan, so the
   * same bits downstream (the logits are finite: no NaN ordering). */
  tli_vf vm = (tli_vf){0} + row[0];
  size_t j0 = 0;
  for (; j0 + TLI_VLEN <= c; j0 += TLI_VLEN) {
    tli_vf v;
    memcpy(&v, row + j0, sizeof v);
    vm = tli_vselect(v > vm, v, vm);
  }
  float mx = vm[0];
  for (int k = 1; k < TLI_VLEN; k++)
    if (vm[k] > mx)
      mx = vm[k];
  for (; j0 < c; j0++)
    if (row[j0] > mx)
      mx = row[j0];
  const float shifted_t = row[t] - mx;
  const tli_vf vmx = (tli_vf){0} + mx;
  /* exp(x - max) stored into drow and summed in double, lane k of the sum
   * taking elements k, k + TLI_VLEN, ... in order (then the lanes in
   * order): full blocks first, with the sum in 4-double halves that stay in
   * registers (an 8-double vector went through the stack on every block),
   * then the partial block. */
  typedef double tli_vd4 __attribute__((vector_size(4 * sizeof(double))));
  tli_vd4 s0 = {0};
#if TLI_VLEN == 8
  tli_vd4 s1 = {0};
#define TLI_CE_ADD(e)                                                          \
  do {                                                                         \
    s0 += __builtin_convertvector(                                             \
        __builtin_shufflevector((e), (e), 0, 1, 2, 3), tli_vd4);               \
    s1 += __builtin_convertvector(                                             \
        __builtin_shufflevector((e), (e), 4, 5, 6, 7), tli_vd4);               \
  } while (0)
#else
#define TLI_CE_ADD(e) (s0 += __builtin_convertvector((e), tli_vd4))
#endif
  size_t j = 0;
  for (; j + TLI_VLEN <= c; j += TLI_VLEN) {
    tli_vf x;
    memcpy(&x, row + j, sizeof x);
    const tli_vf e = tli_ce_vexp(x - vmx);
    TLI_CE_ADD(e);
    if (drow)
      memcpy(drow + j, &e, sizeof e);
  }
  if (j < c) {
    const size_t n = c - j;
    tli_vi lane = {0};
    for (int k = 1; k < TLI_VLEN; k++)
      lane[k] = k;
    tli_vf e = tli_ce_vexp(tli_vload(row + j, n) - vmx);
    /* lanes past the row: 0, not exp(0 - mx) */
    e = tli_vselect(lane < (tli_vi){0} + (int32_t)n, e, (tli_vf){0});
    TLI_CE_ADD(e);
    if (drow)
      tli_vstore(drow + j, e, n);
  }
#undef TLI_CE_ADD
  double sum = 0.0;
  for (int k = 0; k < 4; k++)
    sum += s0[k];
#if TLI_VLEN == 8
  for (int k = 0; k < 4; k++)
    sum += s1[k];
#endif
  /* The max contributes exp(0) = 1, so sum >= 1. */
  // cppcheck-suppress invalidFunctionArg
  const double log_sum = log(sum);
  if (drow) {
    const float scale = (float)(gscale / sum);
    for (size_t k = 0; k < c; k++)
      drow[k] *= scale;
    drow[t] -= (float)gscale;
  }
  return log_sum - (double)shifted_t;
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static double tli_ce_row_avx2(float *drow, const float *row,
                                                  size_t c, size_t t,
                                                  double gscale) {
  return tli_ce_row_body(drow, row, c, t, gscale);
}
#endif

static double tli_ce_row(float *drow, const float *row, size_t c, size_t t,
                         double gscale) {
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2())
    return tli_ce_row_avx2(drow, row, c, t, gscale);
#endif
  return tli_ce_row_body(drow, row, c, t, gscale);
}

/* The first non-finite element of x[0..n), or n: its exponent field all
 * ones, tested 4 * TLI_VLEN lanes at a time (a scalar isfinite per logit
 * was a tenth of tl_cross_entropy's time over a 12k vocabulary). */
TLI_CPU_BODY size_t tli_find_nonfinite_body(const float *x, size_t n) {
  const tli_vi expo = (tli_vi){0} + 0x7f800000;
  size_t i = 0;
  for (; i + 4 * TLI_VLEN <= n; i += 4 * TLI_VLEN) {
    tli_vi bad = {0};
    for (size_t k = 0; k < 4; k++) {
      tli_vf v;
      memcpy(&v, x + i + k * TLI_VLEN, sizeof v);
      bad |= ((tli_vi)v & expo) == expo;
    }
    int32_t any = 0;
    for (int l = 0; l < TLI_VLEN; l++)
      any |= bad[l];
    if (any)
      break; /* the scalar scan below finds which */
  }
  for (; i < n; i++)
    if (!isfinite(x[i]))
      return i;
  return n;
}

#ifdef TLI_CPU_DISPATCH
TLI_CPU_TARGET_AVX2 static size_t tli_find_nonfinite_avx2(const float *x,
                                                          size_t n) {
  return tli_find_nonfinite_body(x, n);
}
#endif

size_t tli_find_nonfinite(const float *x, size_t n) {
#ifdef TLI_CPU_DISPATCH
  if (tli_cpu_has_avx2())
    return tli_find_nonfinite_avx2(x, n);
#endif
  return tli_find_nonfinite_body(x, n);
}

float tli_cross_entropy(float *dlogits, const float *logits,
                        const int64_t *targets, size_t n, size_t c,
                        int64_t ignore_index, float grad_scale,
                        size_t *out_count) {
  /* Preconditions the model layer validates (tli_loss_find_bad_target). */
  assert(logits != NULL && targets != NULL && c > 0);
  assert(tli_loss_find_bad_target(targets, n, c, ignore_index) == n);
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += targets[i] != ignore_index;
  if (out_count)
    *out_count = count;
  /* 1/count is the mean's weight; with no counted row every row is ignored
   * and the loss and gradient are 0 (torch would give NaN). */
  const double inv = count ? 1.0 / (double)count : 0.0;
  const double gscale = (double)grad_scale * inv;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    float *drow = dlogits ? dlogits + i * c : NULL;
    if (targets[i] == ignore_index) {
      for (size_t j = 0; drow && j < c; j++)
        drow[j] = 0.0f;
      continue;
    }
    total += tli_ce_row(drow, logits + i * c, c, (size_t)targets[i], gscale);
  }
  return (float)(total * inv);
}

float tli_accuracy(const float *logits, const int64_t *targets, size_t n,
                   size_t c, int64_t ignore_index, size_t *out_correct,
                   size_t *out_count) {
  assert(logits != NULL && targets != NULL);
  assert(tli_loss_find_bad_target(targets, n, c, ignore_index) == n);
  size_t correct = 0, count = 0;
  for (size_t i = 0; i < n; i++) {
    if (targets[i] == ignore_index || c == 0)
      continue;
    const float *row = logits + i * c;
    size_t best = 0;
    for (size_t j = 1; j < c; j++)
      if (row[j] > row[best]) /* strict: ties keep the lowest class */
        best = j;
    count++;
    correct += best == (size_t)targets[i];
  }
  if (out_correct)
    *out_correct = correct;
  if (out_count)
    *out_count = count;
  return count ? (float)((double)correct / (double)count) : 0.0f;
}
