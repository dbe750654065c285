/* lib/kernels/lstm*.c: forward and backward against torch.nn.LSTM (float64
 * goldens from tests/fixtures/gen_lstm.py), backward against central finite
 * differences of an independent double-precision LSTM, weight drop, frozen
 * weights, accumulation, and no allocation in the hot paths. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/lstm_golden.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "kernels/lstm.h"
#include "tl_test.h"

/* float32 kernels vs float64 torch: the bound, relative to each
 * array's scale (max |value|), so entries near zero compare sensibly. */
#define REL_TOL 1e-5

static double max_abs_d(const double *a, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(a[i]));
  return m;
}

/* Every got[i] within REL_TOL * max(|want[i]|, 0.1 * max|want|). */
static void assert_matches(const char *what, const float *got,
                           const double *want, size_t n) {
  const double floor_ = 0.1 * max_abs_d(want, n) + 1e-30;
  for (size_t i = 0; i < n; i++) {
    const double scale = fmax(fabs(want[i]), floor_);
    const double err = fabs((double)got[i] - want[i]) / scale;
    ck_assert_msg(err <= REL_TOL, "%s[%zu] = %.9g, torch %.9g (rel err %.3g)",
                  what, i, (double)got[i], want[i], err);
  }
}

static float *falloc(size_t n) {
  float *p = tli_calloc(n ? n : 1, sizeof(float));
  ck_assert_ptr_nonnull(p);
  return p;
}

static void fill_uniform(float *a, size_t n, tli_rng *rng, float lo, float hi) {
  for (size_t i = 0; i < n; i++)
    a[i] = lo + (hi - lo) * tli_rng_uniform_f(rng);
}

static int bits_equal(const float *a, const float *b, size_t n) {
  return memcmp(a, b, n * sizeof(float)) == 0;
}

/* ---- one golden case through the stack API -------------------------- */

typedef struct golden_run {
  tli_lstm_dims d;
  size_t L;
  tli_lstm_params params[3];
  float *w_hh_dropped[3];
  tli_lstm_grads grads[3];
  float *y, *hN, *cN, *dx, *dh0, *dc0, *reserve, *ws;
} golden_run;

static size_t layer_in(const lstm_golden *g, size_t k) {
  return k ? g->H : g->in;
}

static void golden_setup(golden_run *r, const lstm_golden *g) {
  memset(r, 0, sizeof *r);
  r->d = (tli_lstm_dims){g->T, g->B, g->in, g->H};
  r->L = g->L;
  const size_t G = 4 * g->H, LBH = g->L * g->B * g->H;
  for (size_t k = 0; k < g->L; k++) {
    const float *w_hh = g->w_hh[k];
    if (g->mask[k] != NULL) {
      /* The weight the recurrence uses: raw * mask. */
      r->w_hh_dropped[k] = falloc(G * g->H);
      for (size_t i = 0; i < G * g->H; i++)
        r->w_hh_dropped[k][i] = g->w_hh[k][i] * g->mask[k][i];
      w_hh = r->w_hh_dropped[k];
    }
    r->params[k] = (tli_lstm_params){g->w_ih[k], w_hh, g->b_ih[k], g->b_hh[k]};
    r->grads[k] = (tli_lstm_grads){falloc(G * layer_in(g, k)), falloc(G * g->H),
                                   falloc(G), falloc(G)};
  }
  r->y = falloc(g->T * g->B * g->H);
  r->hN = falloc(LBH);
  r->cN = falloc(LBH);
  r->dx = falloc(g->T * g->B * g->in);
  r->dh0 = falloc(LBH);
  r->dc0 = falloc(LBH);
  r->reserve = falloc(tli_lstm_stack_reserve_size(&r->d, g->L));
  r->ws = falloc(tli_lstm_stack_backward_workspace_size(&r->d, g->L, 1));
}

static void golden_teardown(golden_run *r) {
  for (size_t k = 0; k < r->L; k++) {
    tli_free(r->w_hh_dropped[k]);
    tli_free(r->grads[k].w_ih);
    tli_free(r->grads[k].w_hh);
    tli_free(r->grads[k].b_ih);
    tli_free(r->grads[k].b_hh);
  }
  float *bufs[] = {r->y,   r->hN,  r->cN,      r->dx,
                   r->dh0, r->dc0, r->reserve, r->ws};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    tli_free(bufs[i]);
}

static void golden_forward_backward(golden_run *r, const lstm_golden *g) {
  tli_lstm_stack_forward_train(&r->d, g->L, r->params, g->lock, g->x, g->h0,
                               g->c0, r->y, r->hN, r->cN, r->reserve);
  tli_lstm_stack_backward(&r->d, g->L, r->params, g->lock, g->mask, g->x, g->h0,
                          g->c0, r->reserve, g->dy, g->dhN, g->dcN, r->dx,
                          r->dh0, r->dc0, r->grads, r->ws);
}

START_TEST(forward_and_backward_match_torch) {
  const lstm_golden *g = &lstm_golden_cases[_i];
  golden_run r;
  golden_setup(&r, g);
  golden_forward_backward(&r, g);
  const size_t TBH = g->T * g->B * g->H, LBH = g->L * g->B * g->H;
  const size_t G = 4 * g->H;
  assert_matches("y", r.y, g->y, TBH);
  assert_matches("hN", r.hN, g->hN, LBH);
  assert_matches("cN", r.cN, g->cN, LBH);
  assert_matches("dx", r.dx, g->dx, g->T * g->B * g->in);
  assert_matches("dh0", r.dh0, g->dh0, LBH);
  assert_matches("dc0", r.dc0, g->dc0, LBH);
  for (size_t k = 0; k < g->L; k++) {
    assert_matches("dw_ih", r.grads[k].w_ih, g->dw_ih[k], G * layer_in(g, k));
    assert_matches("dw_hh", r.grads[k].w_hh, g->dw_hh[k], G * g->H);
    assert_matches("db_ih", r.grads[k].b_ih, g->db_ih[k], G);
    assert_matches("db_hh", r.grads[k].b_hh, g->db_hh[k], G);
  }
  golden_teardown(&r);
}
END_TEST

/* Parameter gradients accumulate: a second backward adds the same amount;
 * activation gradients are overwritten (unchanged by the second call). */
START_TEST(parameter_gradients_accumulate_activation_gradients_do_not) {
  const lstm_golden *g = &lstm_golden_cases[_i];
  golden_run r;
  golden_setup(&r, g);
  golden_forward_backward(&r, g);
  tli_lstm_stack_backward(&r.d, g->L, r.params, g->lock, g->mask, g->x, g->h0,
                          g->c0, r.reserve, g->dy, g->dhN, g->dcN, r.dx, r.dh0,
                          r.dc0, r.grads, r.ws);
  const size_t G = 4 * g->H, LBH = g->L * g->B * g->H;
  assert_matches("dx", r.dx, g->dx, g->T * g->B * g->in);
  assert_matches("dh0", r.dh0, g->dh0, LBH);
  for (size_t k = 0; k < g->L; k++) {
    double *twice =
        tli_alloc(G * (g->in > g->H ? g->in : g->H) * sizeof(double));
    for (size_t i = 0; i < G * layer_in(g, k); i++)
      twice[i] = 2.0 * g->dw_ih[k][i];
    assert_matches("2 dw_ih", r.grads[k].w_ih, twice, G * layer_in(g, k));
    for (size_t i = 0; i < G * g->H; i++)
      twice[i] = 2.0 * g->dw_hh[k][i];
    assert_matches("2 dw_hh", r.grads[k].w_hh, twice, G * g->H);
    for (size_t i = 0; i < G; i++)
      twice[i] = 2.0 * g->db_ih[k][i];
    assert_matches("2 db_ih", r.grads[k].b_ih, twice, G);
    tli_free(twice);
  }
  golden_teardown(&r);
}
END_TEST

/* Inference forward and the streaming step give the training forward's
 * outputs (one-layer cases, no weight drop: the golden y). */
START_TEST(inference_and_step_match_torch) {
  const lstm_golden *g = &lstm_golden_cases[_i];
  if (g->L != 1 || g->mask[0] != NULL)
    return;
  const tli_lstm_dims d = {g->T, g->B, g->in, g->H};
  const tli_lstm_params p = {g->w_ih[0], g->w_hh[0], g->b_ih[0], g->b_hh[0]};
  const size_t BH = g->B * g->H, TBH = g->T * BH;
  float *y = falloc(TBH), *hN = falloc(BH), *cN = falloc(BH);
  float *ws = falloc(tli_lstm_infer_workspace_size(&d));
  tli_lstm_forward_infer(&d, &p, g->x, g->h0, g->c0, y, hN, cN, ws);
  assert_matches("infer y", y, g->y, TBH);
  assert_matches("infer hN", hN, g->hN, BH);
  assert_matches("infer cN", cN, g->cN, BH);

  /* Training forward is bit-identical to inference (same arithmetic). */
  float *y2 = falloc(TBH), *res = falloc(tli_lstm_reserve_size(&d));
  tli_lstm_forward_train(&d, &p, g->x, g->h0, g->c0, y2, NULL, NULL, res);
  ck_assert(bits_equal(y, y2, TBH));

  /* Streaming: T calls of the step on a carried state. */
  float *h = falloc(BH), *c = falloc(BH);
  float *sws = falloc(tli_lstm_step_workspace_size(&d));
  if (g->h0 != NULL) {
    memcpy(h, g->h0, BH * sizeof(float));
    memcpy(c, g->c0, BH * sizeof(float));
  }
  for (size_t t = 0; t < g->T; t++) {
    tli_lstm_step(&d, &p, g->x + t * g->B * g->in, h, c, sws);
    assert_matches("step h", h, g->y + t * BH, BH);
  }
  assert_matches("step c", c, g->cN, BH);
  float *bufs[] = {y, hN, cN, ws, y2, res, h, c, sws};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    tli_free(bufs[i]);
}
END_TEST

/* ---- finite differences of an independent double-precision LSTM ------ */

/* A double LSTM stack written straight from the equations, with the same
 * options (weight-drop masks on raw weight_hh, locked masks between
 * layers). Returns sum(y*dy) + sum(hN*dhN) + sum(cN*dcN). */
typedef struct ref_model {
  size_t T, B, in, H, L;
  double *x, *h0, *c0;
  double *w_ih[3], *w_hh[3], *b_ih[3], *b_hh[3];
  const float *mask[3], *lock[2];
  const float *dy, *dhN, *dcN;
} ref_model;

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

static double ref_loss(const ref_model *m) {
  const size_t T = m->T, B = m->B, H = m->H;
  double *in = calloc(T * B * (m->in > H ? m->in : H), sizeof(double));
  double *out = calloc(T * B * H, sizeof(double));
  double *h = calloc(H, sizeof(double)), *c = calloc(H, sizeof(double));
  double *gates = calloc(4 * H, sizeof(double));
  memcpy(in, m->x, T * B * m->in * sizeof(double));
  double loss = 0.0;
  for (size_t k = 0; k < m->L; k++) {
    const size_t n_in = k ? H : m->in;
    for (size_t b = 0; b < B; b++) {
      for (size_t j = 0; j < H; j++) {
        h[j] = m->h0 ? m->h0[(k * B + b) * H + j] : 0.0;
        c[j] = m->c0 ? m->c0[(k * B + b) * H + j] : 0.0;
      }
      for (size_t t = 0; t < T; t++) {
        const double *xt = in + (t * B + b) * n_in;
        for (size_t r = 0; r < 4 * H; r++) {
          double s = m->b_ih[k][r] + m->b_hh[k][r];
          for (size_t q = 0; q < n_in; q++)
            s += m->w_ih[k][r * n_in + q] * xt[q];
          for (size_t q = 0; q < H; q++) {
            const double w = m->w_hh[k][r * H + q] *
                             (m->mask[k] ? m->mask[k][r * H + q] : 1.0);
            s += w * h[q];
          }
          gates[r] = s;
        }
        for (size_t j = 0; j < H; j++) {
          const double i = sigm(gates[j]), f = sigm(gates[H + j]);
          const double g = tanh(gates[2 * H + j]), o = sigm(gates[3 * H + j]);
          c[j] = f * c[j] + i * g;
          out[(t * B + b) * H + j] = o * tanh(c[j]);
        }
        for (size_t j = 0; j < H; j++)
          h[j] = out[(t * B + b) * H + j];
      }
      for (size_t j = 0; j < H; j++)
        loss += h[j] * m->dhN[(k * B + b) * H + j] +
                c[j] * m->dcN[(k * B + b) * H + j];
    }
    for (size_t t = 0; t < T; t++)
      for (size_t q = 0; q < B * H; q++) {
        const double lk = (k + 1 < m->L && m->lock[k]) ? m->lock[k][q] : 1.0;
        in[t * B * H + q] = out[t * B * H + q] * lk;
      }
  }
  for (size_t q = 0; q < T * B * H; q++)
    loss += out[q] * m->dy[q];
  free(in);
  free(out);
  free(h);
  free(c);
  free(gates);
  return loss;
}

static double *to_double(const float *a, size_t n) {
  if (a == NULL)
    return NULL;
  double *d = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    d[i] = a[i];
  return d;
}

/* Central difference of the loss w.r.t. v[i], in double. */
static double fd(ref_model *m, double *v, size_t i) {
  const double h = 1e-6, keep = v[i];
  v[i] = keep + h;
  const double up = ref_loss(m);
  v[i] = keep - h;
  const double down = ref_loss(m);
  v[i] = keep;
  return (up - down) / (2.0 * h);
}

/* Compares every entry of the float32 gradient with the finite difference;
 * the bound is the float32 kernels' accuracy, relative to the array scale. */
static void check_fd(const char *what, ref_model *m, double *v,
                     const float *grad, size_t n) {
  double *want = calloc(n, sizeof(double));
  ck_assert_ptr_nonnull(want);
  for (size_t i = 0; i < n; i++)
    want[i] = fd(m, v, i);
  assert_matches(what, grad, want, n);
  free(want);
}

START_TEST(backward_matches_double_finite_differences) {
  const lstm_golden *g = &lstm_golden_cases[_i];
  golden_run r;
  golden_setup(&r, g);
  golden_forward_backward(&r, g);
  const size_t G = 4 * g->H, LBH = g->L * g->B * g->H;
  ref_model m;
  memset(&m, 0, sizeof m);
  m.T = g->T;
  m.B = g->B;
  m.in = g->in;
  m.H = g->H;
  m.L = g->L;
  m.x = to_double(g->x, g->T * g->B * g->in);
  m.h0 = to_double(g->h0, LBH);
  m.c0 = to_double(g->c0, LBH);
  for (size_t k = 0; k < g->L; k++) {
    m.w_ih[k] = to_double(g->w_ih[k], G * layer_in(g, k));
    m.w_hh[k] = to_double(g->w_hh[k], G * g->H);
    m.b_ih[k] = to_double(g->b_ih[k], G);
    m.b_hh[k] = to_double(g->b_hh[k], G);
    m.mask[k] = g->mask[k];
  }
  for (size_t k = 0; k + 1 < g->L; k++)
    m.lock[k] = g->lock[k];
  m.dy = g->dy;
  m.dhN = g->dhN;
  m.dcN = g->dcN;
  check_fd("fd dx", &m, m.x, r.dx, g->T * g->B * g->in);
  if (m.h0 != NULL) {
    check_fd("fd dh0", &m, m.h0, r.dh0, LBH);
    check_fd("fd dc0", &m, m.c0, r.dc0, LBH);
  }
  for (size_t k = 0; k < g->L; k++) {
    check_fd("fd dw_ih", &m, m.w_ih[k], r.grads[k].w_ih, G * layer_in(g, k));
    /* With weight drop, the gradient w.r.t. the RAW weight. */
    check_fd("fd dw_hh", &m, m.w_hh[k], r.grads[k].w_hh, G * g->H);
    check_fd("fd db_ih", &m, m.b_ih[k], r.grads[k].b_ih, G);
    check_fd("fd db_hh", &m, m.b_hh[k], r.grads[k].b_hh, G);
  }
  for (size_t k = 0; k < g->L; k++) {
    free(m.w_ih[k]);
    free(m.w_hh[k]);
    free(m.b_ih[k]);
    free(m.b_hh[k]);
  }
  free(m.x);
  free(m.h0);
  free(m.c0);
  golden_teardown(&r);
}
END_TEST

/* ---- frozen weights, skipped dx -------------------------------------- */

typedef struct one_layer {
  tli_lstm_dims d;
  float *w_ih, *w_hh, *b_ih, *b_hh, *x, *h0, *c0, *dy, *y, *reserve, *ws;
  tli_lstm_params p;
} one_layer;

static void one_layer_init(one_layer *l, size_t T, size_t B, size_t in,
                           size_t H, uint64_t seed) {
  tli_rng rng;
  tli_rng_seed(&rng, seed);
  l->d = (tli_lstm_dims){T, B, in, H};
  const size_t G = 4 * H;
  const float k = 1.0f / sqrtf((float)H);
  l->w_ih = falloc(G * in);
  l->w_hh = falloc(G * H);
  l->b_ih = falloc(G);
  l->b_hh = falloc(G);
  l->x = falloc(T * B * in);
  l->h0 = falloc(B * H);
  l->c0 = falloc(B * H);
  l->dy = falloc(T * B * H);
  l->y = falloc(T * B * H);
  fill_uniform(l->w_ih, G * in, &rng, -k, k);
  fill_uniform(l->w_hh, G * H, &rng, -k, k);
  fill_uniform(l->b_ih, G, &rng, -k, k);
  fill_uniform(l->b_hh, G, &rng, -k, k);
  fill_uniform(l->x, T * B * in, &rng, -1.0f, 1.0f);
  fill_uniform(l->h0, B * H, &rng, -0.5f, 0.5f);
  fill_uniform(l->c0, B * H, &rng, -0.5f, 0.5f);
  fill_uniform(l->dy, T * B * H, &rng, -1.0f, 1.0f);
  l->reserve = falloc(tli_lstm_reserve_size(&l->d));
  l->ws = falloc(tli_lstm_backward_workspace_size(&l->d, 1));
  l->p = (tli_lstm_params){l->w_ih, l->w_hh, l->b_ih, l->b_hh};
}

static void one_layer_free(one_layer *l) {
  float *bufs[] = {l->w_ih, l->w_hh, l->b_ih, l->b_hh,    l->x, l->h0,
                   l->c0,   l->dy,   l->y,    l->reserve, l->ws};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    tli_free(bufs[i]);
}

START_TEST(frozen_weights_skip_their_gradients_only) {
  one_layer l;
  one_layer_init(&l, 4, 3, 5, 6, 11);
  const size_t G = 4 * 6, BH = 3 * 6;
  tli_lstm_forward_train(&l.d, &l.p, l.x, l.h0, l.c0, l.y, NULL, NULL,
                         l.reserve);
  float *full[4], *part[4], *dx = falloc(4 * 3 * 5), *dh0 = falloc(BH),
                            *dc0 = falloc(BH);
  float *dx2 = falloc(4 * 3 * 5), *dh02 = falloc(BH), *dc02 = falloc(BH);
  const size_t sizes[4] = {G * 5, G * 6, G, G};
  for (int i = 0; i < 4; i++) {
    full[i] = falloc(sizes[i]);
    part[i] = falloc(sizes[i]);
  }
  tli_lstm_backward_args a = {.x = l.x,
                              .h0 = l.h0,
                              .c0 = l.c0,
                              .reserve = l.reserve,
                              .dy = l.dy,
                              .dx = dx,
                              .dh0 = dh0,
                              .dc0 = dc0};
  tli_lstm_grads gf = {full[0], full[1], full[2], full[3]};
  tli_lstm_backward(&l.d, &l.p, &a, &gf, l.ws);

  /* Weights frozen (NULL: their GEMMs are skipped): the bias and
   * activation gradients are bit-identical. */
  a.dx = dx2;
  a.dh0 = dh02;
  a.dc0 = dc02;
  tli_lstm_grads gp = {NULL, NULL, part[2], part[3]};
  tli_lstm_backward(&l.d, &l.p, &a, &gp, l.ws);
  ck_assert(bits_equal(dx, dx2, 4 * 3 * 5));
  ck_assert(bits_equal(dh0, dh02, BH));
  ck_assert(bits_equal(dc0, dc02, BH));
  ck_assert(bits_equal(full[2], part[2], G));
  ck_assert(bits_equal(full[3], part[3], G));

  /* Everything frozen and dx not wanted (frozen input layer): dh0 / dc0
   * still come out identical. */
  memset(dh02, 0, BH * sizeof(float));
  a.dx = NULL;
  tli_lstm_backward(&l.d, &l.p, &a, NULL, l.ws);
  ck_assert(bits_equal(dh0, dh02, BH));
  ck_assert(bits_equal(dc0, dc02, BH));
  for (int i = 0; i < 4; i++) {
    tli_free(full[i]);
    tli_free(part[i]);
  }
  float *bufs[] = {dx, dh0, dc0, dx2, dh02, dc02};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    tli_free(bufs[i]);
  one_layer_free(&l);
}
END_TEST

/* ---- weight drop ------------------------------------------------------ */

START_TEST(weight_drop_mask_statistics_and_exact_rescaling) {
  const size_t H = 64, n = 4 * H * H;
  const float p = 0.3f, scale = 1.0f / (1.0f - p);
  float *mask = falloc(n), *w = falloc(n), *wd = falloc(n);
  tli_rng rng;
  tli_rng_seed(&rng, 5);
  fill_uniform(w, n, &rng, -1.0f, 1.0f);
  tli_rng_seed(&rng, 77);
  tli_lstm_weight_drop(mask, wd, w, n, p, &rng);
  size_t dropped = 0;
  for (size_t k = 0; k < n; k++) {
    ck_assert(mask[k] == 0.0f || mask[k] == scale);
    ck_assert(wd[k] == w[k] * mask[k]); /* exactly raw * 1/(1-p) or 0 */
    dropped += mask[k] == 0.0f;
  }
  /* Binomial(n, p): within 5 standard deviations. */
  const double sd = sqrt((double)n * p * (1.0 - p));
  ck_assert_msg(fabs((double)dropped - (double)n * p) < 5.0 * sd,
                "dropped %zu of %zu, expected about %.0f", dropped, n,
                (double)n * p);
  /* The expectation is preserved: mean of the mask is about 1. */
  double mean = 0.0;
  for (size_t k = 0; k < n; k++)
    mean += mask[k];
  TLT_ASSERT_CLOSE(mean / (double)n, 1.0, 5.0 * sd / (double)n * scale, 1.0);
  /* The same seed gives the same mask; the draw follows tli_rng_uniform_f. */
  float *mask2 = falloc(n);
  tli_rng_seed(&rng, 77);
  tli_lstm_weight_drop(mask2, wd, w, n, p, &rng);
  ck_assert(bits_equal(mask, mask2, n));
  tli_rng_seed(&rng, 77);
  for (size_t k = 0; k < n; k++)
    ck_assert(mask[k] == (tli_rng_uniform_f(&rng) < p ? 0.0f : scale));
  tli_free(mask);
  tli_free(mask2);
  tli_free(w);
  tli_free(wd);
}
END_TEST

START_TEST(weight_drop_zero_equals_no_dropout) {
  one_layer l;
  one_layer_init(&l, 5, 2, 3, 4, 21);
  const size_t G = 16, H = 4, BH = 8;
  float *mask = falloc(G * H), *wd = falloc(G * H);
  tli_rng rng, before;
  tli_rng_seed(&rng, 9);
  before = rng;
  tli_lstm_weight_drop(mask, wd, l.w_hh, G * H, 0.0f, &rng);
  ck_assert(memcmp(&rng, &before, sizeof rng) == 0); /* no draws */
  ck_assert(bits_equal(wd, l.w_hh, G * H));
  for (size_t k = 0; k < G * H; k++)
    ck_assert(mask[k] == 1.0f);

  /* Forward and backward with the p = 0 mask equal no weight drop. */
  float *g_plain = falloc(G * H), *g_drop = falloc(G * H);
  float *dh0a = falloc(BH), *dh0b = falloc(BH);
  tli_lstm_forward_train(&l.d, &l.p, l.x, l.h0, l.c0, l.y, NULL, NULL,
                         l.reserve);
  tli_lstm_backward_args a = {.x = l.x,
                              .h0 = l.h0,
                              .c0 = l.c0,
                              .reserve = l.reserve,
                              .dy = l.dy,
                              .dh0 = dh0a};
  tli_lstm_grads g1 = {NULL, g_plain, NULL, NULL};
  tli_lstm_backward(&l.d, &l.p, &a, &g1, l.ws);
  float *y2 = falloc(5 * BH);
  const tli_lstm_params pd = {l.w_ih, wd, l.b_ih, l.b_hh};
  tli_lstm_forward_train(&l.d, &pd, l.x, l.h0, l.c0, y2, NULL, NULL, l.reserve);
  ck_assert(bits_equal(l.y, y2, 5 * BH));
  a.w_hh_mask = mask;
  a.dh0 = dh0b;
  tli_lstm_grads g2 = {NULL, g_drop, NULL, NULL};
  tli_lstm_backward(&l.d, &pd, &a, &g2, l.ws);
  ck_assert(bits_equal(dh0a, dh0b, BH));
  for (size_t k = 0; k < G * H; k++)
    TLT_ASSERT_CLOSE(g_drop[k], g_plain[k], 1e-6, 1e-3);
  float *bufs[] = {mask, wd, g_plain, g_drop, dh0a, dh0b, y2};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    tli_free(bufs[i]);
  one_layer_free(&l);
}
END_TEST

/* ---- state carried across windows, aliasing ------------------------- */

/* Two windows of T/2 with (hN, cN) carried equal one window of T; the
 * state arrays may be passed as both h0 and hN. */
START_TEST(state_carries_across_windows) {
  one_layer l;
  one_layer_init(&l, 6, 2, 3, 5, 31);
  const size_t BH = 10, step = 2 * 3;
  float *h = falloc(BH), *c = falloc(BH), *y_half = falloc(3 * BH);
  float *ws = falloc(tli_lstm_infer_workspace_size(&l.d));
  tli_lstm_forward_infer(&l.d, &l.p, l.x, l.h0, l.c0, l.y, NULL, NULL, ws);
  memcpy(h, l.h0, BH * sizeof(float));
  memcpy(c, l.c0, BH * sizeof(float));
  const tli_lstm_dims half = {3, 2, 3, 5};
  tli_lstm_forward_infer(&half, &l.p, l.x, h, c, y_half, h, c, ws);
  tli_lstm_forward_infer(&half, &l.p, l.x + 3 * step, h, c, y_half, h, c, ws);
  ck_assert(bits_equal(y_half, l.y + 3 * BH, 3 * BH));
  float *bufs[] = {h, c, y_half, ws};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    tli_free(bufs[i]);
  one_layer_free(&l);
}
END_TEST

/* ---- activations ------------------------------------------------------ */

START_TEST(gate_activations_are_accurate) {
  /* The vectorised sigmoid/tanh against libm in double, over the range the
   * gates see, through a one-step LSTM with identity-like weights: with
   * H = 1, in = 1, w_ih = (1,1,1,1), no bias, h0 = c0 = 0,
   * h = sigmoid(x) tanh(sigmoid(x) tanh(x)), c = sigmoid(x) tanh(x). */
  const float w_ih[4] = {1, 1, 1, 1}, w_hh[4] = {0, 0, 0, 0};
  const tli_lstm_params p = {w_ih, w_hh, NULL, NULL};
  const tli_lstm_dims d = {1, 1, 1, 1};
  float ws[8];
  double worst = 0.0;
  for (int s = -4000; s <= 4000; s++) {
    const float x = (float)s * 0.005f; /* [-20, 20], includes tiny |x| */
    float h = 0.0f, c = 0.0f;
    tli_lstm_step(&d, &p, &x, &h, &c, ws);
    const double sg = 1.0 / (1.0 + exp(-(double)x));
    const double want_c = sg * tanh((double)x);
    const double want_h = sg * tanh(want_c);
    worst = fmax(worst, fabs(c - want_c) / fmax(fabs(want_c), 1e-30));
    worst = fmax(worst, fabs(h - want_h) / fmax(fabs(want_h), 1e-30));
  }
  ck_assert_msg(worst < 2e-6, "worst relative error %.3g", worst);
}
END_TEST

/* ---- allocation ------------------------------------------------------- */

START_TEST(hot_paths_allocate_nothing) {
  const lstm_golden *g = &lstm_golden_cases[4]; /* three layers */
  golden_run r;
  golden_setup(&r, g);
  one_layer l;
  one_layer_init(&l, 4, 1, 3, 5, 41);
  float *iws = falloc(tli_lstm_infer_workspace_size(&l.d));
  float *sws = falloc(tli_lstm_step_workspace_size(&l.d));
  float *mask = falloc(20 * 5), *wd = falloc(20 * 5);
  tli_rng rng;
  tli_rng_seed(&rng, 1);
  tlt_counter counter;
  tlt_counter_install(&counter);
  for (int rep = 0; rep < 2; rep++) {
    golden_forward_backward(&r, g);
    tli_lstm_weight_drop(mask, wd, l.w_hh, 20 * 5, 0.5f, &rng);
    tli_lstm_forward_infer(&l.d, &l.p, l.x, l.h0, l.c0, l.y, NULL, NULL, iws);
    tli_lstm_step(&l.d, &l.p, l.x, l.h0, l.c0, sws);
  }
  const size_t allocs = counter.allocs;
  tl_set_allocator(NULL);
  ck_assert_uint_eq(allocs, 0);
  tli_free(iws);
  tli_free(sws);
  tli_free(mask);
  tli_free(wd);
  one_layer_free(&l);
  golden_teardown(&r);
}
END_TEST

START_TEST(workspace_sizes_are_documented_values) {
  const tli_lstm_dims d = {7, 3, 5, 4};
  ck_assert_uint_eq(tli_lstm_reserve_size(&d), 7 * 7 * 3 * 4);
  ck_assert_uint_eq(tli_lstm_infer_workspace_size(&d), 4 * 7 * 3 * 4 + 12);
  ck_assert_uint_eq(tli_lstm_step_workspace_size(&d), 4 * 3 * 4);
  ck_assert_uint_eq(tli_lstm_backward_workspace_size(&d, 0),
                    4 * 7 * 3 * 4 + 2 * 12);
  ck_assert_uint_eq(tli_lstm_backward_workspace_size(&d, 1),
                    4 * 7 * 3 * 4 + 2 * 12 + 4 * 4 * 4);
  ck_assert_uint_eq(tli_lstm_stack_reserve_size(&d, 3), 3 * 7 * 84 + 2 * 84);
}
END_TEST

static Suite *lstm_suite(void) {
  Suite *s = suite_create("kernels_lstm");
  const int n = (int)(sizeof lstm_golden_cases / sizeof lstm_golden_cases[0]);
  TCase *tc = tcase_create("torch");
  tcase_add_loop_test(tc, forward_and_backward_match_torch, 0, n);
  tcase_add_loop_test(
      tc, parameter_gradients_accumulate_activation_gradients_do_not, 0, n);
  tcase_add_loop_test(tc, inference_and_step_match_torch, 0, n);
  suite_add_tcase(s, tc);
  tc = tcase_create("finite_differences");
  tcase_add_loop_test(tc, backward_matches_double_finite_differences, 0, n);
  suite_add_tcase(s, tc);
  tc = tcase_create("behaviour");
  tcase_add_test(tc, frozen_weights_skip_their_gradients_only);
  tcase_add_test(tc, weight_drop_mask_statistics_and_exact_rescaling);
  tcase_add_test(tc, weight_drop_zero_equals_no_dropout);
  tcase_add_test(tc, state_carries_across_windows);
  tcase_add_test(tc, gate_activations_are_accurate);
  tcase_add_test(tc, hot_paths_allocate_nothing);
  tcase_add_test(tc, workspace_sizes_are_documented_values);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tlt_run(lstm_suite()); }
