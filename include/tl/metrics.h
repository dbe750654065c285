/*
 * libtl metrics: domain similarity and adaptation on plain arrays.
 * Divergences and distances between distributions, Wasserstein and optimal
 * transport, MMD, CORAL, data selection, PCA and cross-lingual alignment.
 *
 * All functions are pure: they read their inputs, write their outputs and
 * keep no state, so any of them may be called from any thread at once.
 * Distribution measures compute in double precision.
 */
#ifndef TL_METRICS_H
#define TL_METRICS_H

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Part 1: divergences, distances, Wasserstein, sliced Wasserstein, Sinkhorn,
 * MMD.
 * ------------------------------------------------------------------------ */

/*
 * Conventions of part 1. Distributions (p, q) are arrays of n >= 1 finite,
 * non-negative float64 weights with a positive sum; every distribution
 * measure normalises them first (so scaling an input changes nothing), as
 * scipy.stats.entropy does. `base` chooses the logarithm: 0 means natural
 * (nats), otherwise base must be finite, > 0 and != 1 (2 gives bits).
 * Results go to *out, which is written only on success.
 *
 * Errors common to all: TL_E_INVALID_ARG for a NULL pointer, n == 0, a
 * negative weight, a zero sum or a bad base/order; TL_E_NUMERIC for NaN or
 * Inf in an input (or a sum that overflows); TL_E_NOMEM when a work buffer
 * cannot be allocated (the divergences and distances allocate nothing).
 * Thread-safety: all functions are pure and reentrant.
 */

/* Kullback-Leibler divergence KL(p || q) = sum p log(p / q) of the
 * normalised inputs (= scipy.stats.entropy(p, q, base)). Terms with p = 0
 * count 0; a bin with q = 0 < p makes the result +inf (not an error). */
TL_API tl_status tl_kl_divergence(double *out, const double *p, const double *q,
                                  size_t n, double base);

/* Shannon entropy H(p) = -sum p log p of the normalised p
 * (= scipy.stats.entropy(p, base=base)). */
TL_API tl_status tl_entropy(double *out, const double *p, size_t n,
                            double base);

/* Jensen-Shannon divergence (KL(p||m) + KL(q||m)) / 2, m = (p + q) / 2.
 * Always finite and in [0, log_base 2]: rounding outside that interval is
 * clamped, so the distance below never becomes NaN (scipy gh-20083). */
TL_API tl_status tl_js_divergence(double *out, const double *p, const double *q,
                                  size_t n, double base);

/* Jensen-Shannon distance sqrt(JS divergence), a metric
 * (= scipy.spatial.distance.jensenshannon(p, q, base)). */
TL_API tl_status tl_js_distance(double *out, const double *p, const double *q,
                                size_t n, double base);

/* Renyi divergence of order alpha > 0 (finite):
 * 1/(alpha - 1) log sum p^alpha q^(1 - alpha); alpha == 1 gives
 * KL(p || q) exactly. Ruder & Plank (2017) use alpha = 0.99. The result is
 * +inf when the sum is 0 (alpha < 1, disjoint supports) or when q = 0 < p
 * (alpha >= 1). */
TL_API tl_status tl_renyi_divergence(double *out, const double *p,
                                     const double *q, size_t n, double alpha,
                                     double base);

/* Bhattacharyya distance -log sum sqrt(p q) (natural log); +inf for
 * disjoint supports, 0 for p == q (negative rounding is clamped to 0). */
TL_API tl_status tl_bhattacharyya(double *out, const double *p, const double *q,
                                  size_t n);

/* Hellinger distance sqrt(sum (sqrt p - sqrt q)^2 / 2), in [0, 1]. */
TL_API tl_status tl_hellinger(double *out, const double *p, const double *q,
                              size_t n);

/* Total variation distance sum |p - q| / 2, in [0, 1]. */
TL_API tl_status tl_total_variation(double *out, const double *p,
                                    const double *q, size_t n);

/* Cosine similarity u.v / (|u| |v|) of two arbitrary finite vectors (not
 * normalised, any sign), clamped to [-1, 1]. A zero vector has no direction:
 * TL_E_INVALID_ARG. The cosine distance of scipy.spatial.distance.cosine is
 * 1 - this value (tl_cosine_distance). */
TL_API tl_status tl_cosine_similarity(double *out, const double *u,
                                      const double *v, size_t n);
/* 1 - tl_cosine_similarity, in [0, 2]; same errors. */
TL_API tl_status tl_cosine_distance(double *out, const double *u,
                                    const double *v, size_t n);

/* Euclidean distance |u - v|_2 of two finite vectors (not normalised);
 * computed with scaling, so it does not overflow before the result does. */
TL_API tl_status tl_euclidean(double *out, const double *u, const double *v,
                              size_t n);

/*
 * 1-D Wasserstein distance between the empirical distributions of u (n
 * values) and v (m values), with optional weights (NULL: uniform). Weights
 * are normalised (each set must be non-negative with a positive sum).
 * W_p = (integral_0^1 |F_u^-1(t) - F_v^-1(t)|^p dt)^(1/p), finite p >= 1.
 * p = 1 equals scipy.stats.wasserstein_distance; for p > 1 the result is
 * POT ot.wasserstein_1d(u, v, wu / sum wu, wv / sum wv, p) ** (1/p).
 * The inputs are not modified: sorted copies are made (n + m values and
 * weights, allocated through the allocator hooks), sorted by an LSD radix
 * sort: O(n + m) time.
 */
TL_API tl_status tl_wasserstein_1d(double *out, const double *u, size_t n,
                                   const double *u_weights, const double *v,
                                   size_t m, const double *v_weights, double p);

/* W_p between two histograms a and b over one shared support x of n
 * non-decreasing finite points, in O(n) and without allocating. Equal to
 * tl_wasserstein_1d(x, a, x, b). */
TL_API tl_status tl_wasserstein_1d_hist(double *out, const double *x,
                                        const double *a, const double *b,
                                        size_t n, double p);

/*
 * Sliced Wasserstein distance between point clouds X (n x d) and Y (m x d),
 * row-major, with optional weights (NULL: uniform; otherwise normalised):
 * SW_p = (mean over k unit directions theta of W_p^p(X theta, Y theta))^(1/p)
 * (Bonneel et al. 2015), the definition of POT
 * ot.sliced_wasserstein_distance.
 */
#define TL_SLICED_OPTIONS_VERSION 1
typedef struct tl_sliced_options {
  unsigned int version;
  size_t n_projections; /* directions drawn; default 50 */
  double p;             /* order, finite >= 1; default 2 */
  uint64_t seed;        /* directions: normal draws normalised; default 0 */
} tl_sliced_options;

/* Fills the defaults above for `version` (TL_E_UNSUPPORTED if unknown). */
TL_API tl_status tl_sliced_options_init(tl_sliced_options *out,
                                        unsigned int version);

/* Random directions from options->seed (NULL options: defaults). The same
 * seed gives the same directions and result (libtl's RNG, not numpy's).
 * Allocates k x (d + n + m) doubles of work memory. */
TL_API tl_status tl_sliced_wasserstein(double *out, const double *x, size_t n,
                                       const double *x_weights, const double *y,
                                       size_t m, const double *y_weights,
                                       size_t d,
                                       const tl_sliced_options *options);

/* The same with caller-given directions: `projections` is k x d row-major,
 * one direction per row, used as given (POT's `projections`, transposed). */
TL_API tl_status tl_sliced_wasserstein_projected(
    double *out, const double *x, size_t n, const double *x_weights,
    const double *y, size_t m, const double *y_weights, size_t d,
    const double *projections, size_t k, double p);

/* The k x d random unit directions tl_sliced_wasserstein uses for `seed`:
 * each row is d standard normal draws divided by their norm. */
TL_API tl_status tl_sliced_directions(double *out, size_t k, size_t d,
                                      uint64_t seed);

/*
 * Entropic optimal transport by Sinkhorn iterations (Cuturi 2013), computed
 * in the log-stabilised form (Schmitzer 2019): the scalings are absorbed
 * into log-domain potentials whenever they leave [1e-50, 1e50], so a small reg
 * neither underflows nor overflows. The iterates are those of POT
 * ot.sinkhorn (v then u per iteration; every 10th iteration, from the 0th,
 * the L2 error of the column marginal is compared with tol), so
 * *out_cost = <gamma, M> equals POT ot.sinkhorn2(a, b, M, reg) with the
 * same max_iter and tol.
 */
#define TL_SINKHORN_OPTIONS_VERSION 1
typedef struct tl_sinkhorn_options {
  unsigned int version;
  size_t max_iter; /* default 1000; >= 1 */
  double tol;      /* L2 column-marginal error to stop at; default 1e-9; > 0 */
} tl_sinkhorn_options;

TL_API tl_status tl_sinkhorn_options_init(tl_sinkhorn_options *out,
                                          unsigned int version);

/* a (n) and b (m) are histograms (NULL: uniform; otherwise non-negative
 * with a positive sum, normalised), M is the n x m row-major cost matrix
 * (finite), reg > 0 finite. Outputs: *out_cost = sum gamma_ij M_ij;
 * out_plan (optional, n x m) receives gamma; *out_iterations (optional) the
 * iterations run; *out_converged (optional) 1 if the marginal error fell
 * below tol, else 0. Not converging within max_iter is not an error: the
 * call returns TL_OK with the last iterate and *out_converged = 0 (POT only
 * warns). Allocates about 2 n m doubles of work memory. */
TL_API tl_status tl_sinkhorn(double *out_cost, double *out_plan,
                             size_t *out_iterations, int *out_converged,
                             const double *a, size_t n, const double *b,
                             size_t m, const double *cost_matrix, double reg,
                             const tl_sinkhorn_options *options);

/*
 * Squared maximum mean discrepancy (Gretton et al. 2012) between X (n x d)
 * and Y (m x d) with the Gaussian kernel k(x, y) = exp(-|x - y|^2 /
 * (2 sigma^2)). Biased: mean K_xx + mean K_yy - 2 mean K_xy over all pairs
 * (>= 0). Unbiased: the K_xx and K_yy means skip the diagonal (needs n, m
 * >= 2) and the result can be negative.
 * sigma = 0 selects the median heuristic: sigma^2 = median / 2, the median
 * (numpy's: mean of the two middle values for an even count) of the squared
 * distances over all (n + m)(n + m - 1) / 2 unordered pairs of distinct rows
 * of the pooled sample [X; Y]. If that median is 0 (most rows coincide) the
 * call fails with TL_E_NUMERIC: pass sigma explicitly.
 */
#define TL_MMD_OPTIONS_VERSION 1
typedef struct tl_mmd_options {
  unsigned int version;
  double sigma; /* kernel bandwidth, > 0; 0 = median heuristic (default) */
  int unbiased; /* 0 (default): biased V-statistic; 1: unbiased U-statistic */
} tl_mmd_options;

TL_API tl_status tl_mmd_options_init(tl_mmd_options *out, unsigned int version);

/* NULL options: defaults. *out_sigma (optional) receives the bandwidth
 * used. Allocates O((n + m)^2) doubles with the median heuristic, O(n + m)
 * rows of work memory otherwise. */
TL_API tl_status tl_mmd2(double *out, double *out_sigma, const double *x,
                         size_t n, const double *y, size_t m, size_t d,
                         const tl_mmd_options *options);

/* (end of part 1) */

/* ------------------------------------------------------------------------
 * Part 2: proxy A-distance, CORAL, Frechet distance, term distributions and
 * data selection, PCA, Procrustes alignment, CSLS retrieval.
 * ------------------------------------------------------------------------ */

/* (end of part 2) */

#ifdef __cplusplus
}
#endif

#endif /* TL_METRICS_H */
