/*
 * libtl metrics: domain similarity and adaptation on plain arrays.
 * Divergences and distances between distributions, Wasserstein and optimal
 * transport, MMD, CORAL, data selection, PCA and cross-lingual alignment.
 *
 * All functions are pure: they read their inputs, write their outputs and
 * keep no state, so any of them may be called from any thread at once.
 * Distribution measures compute in double precision.
 *
 * Every array is float64, including point clouds and embeddings that are
 * often float32 (sliced Wasserstein, MMD, Procrustes, CSLS): these
 * functions reduce many terms or factorise matrices, which float32 would
 * do with too few digits, so a float32 entry point would only convert to a
 * float64 copy. Convert float32 data once into a buffer you own (the
 * conversion is exact); the Python binding converts float32 arrays itself.
 * See docs/metrics.md, "Why float64 only".
 */
/*
 * Scaling and overflow (one rule for every function of this header):
 * - Inputs may lie anywhere in the finite float64 range, subnormals
 *   included. Functions compute with power-of-two rescaling where their
 *   intermediate sums, squares or reciprocals could leave the range, so a
 *   result never depends on where in that range the inputs lie: scaling
 *   every input by 2^k (for which the scaled inputs stay exact) scales the
 *   result by 2^(j k), j the result's degree (0 for divergences, cosine,
 *   ratios, rankings and rotations; 1 for distances; 2 for variances and
 *   the Frechet distance; 4 for the CORAL distance).
 * - A result whose exact value is finite but beyond DBL_MAX is
 *   TL_E_NUMERIC, with a message naming the function and saying "overflows"
 *   (tl_euclidean([1e308], [-1e308]) like tl_wasserstein_1d); the outputs
 *   are not written. A result that underflows is returned rounded (to a
 *   subnormal or 0).
 * - +inf is returned with TL_OK only where the exact value is infinite, as
 *   documented per function (KL with q = 0 < p, Renyi and Bhattacharyya for
 *   disjoint supports). No function returns NaN with TL_OK.
 * docs/metrics.md, "Scaling and overflow", has the details.
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
 * measure normalises them first (so scaling an input changes nothing, over
 * the whole positive range: sums below 5.6e-309 or beyond DBL_MAX are
 * normalised through a power-of-two scale, never a reciprocal that could
 * overflow), as scipy.stats.entropy does. `base` chooses the logarithm: 0 means
 * natural (nats), otherwise base must be finite, > 0 and != 1 (2 gives bits).
 * Results go to *out, which is written only on success.
 *
 * Errors common to all: TL_E_INVALID_ARG for a NULL pointer, n == 0, a
 * negative weight, a zero sum or a bad base/order; TL_E_NUMERIC for NaN or
 * Inf in an input or a result beyond DBL_MAX (the rule above); TL_E_NOMEM when
 * a work buffer cannot be allocated (the divergences and distances allocate
 * nothing). TL_E_UNSUPPORTED for an options struct whose version is unknown.
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
 * KL(p || q) exactly. For |alpha - 1| <= 1/2 the sum minus 1 is
 * accumulated directly (expm1/log1p), so orders next to 1 (1 +- 1e-14) are
 * accurate to rounding and tend to KL. Ruder & Plank (2017) use alpha = 0.99.
 * The result is +inf when the sum is 0 (alpha < 1, disjoint supports) or when q
 * = 0 < p (alpha >= 1). */
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
 * computed with scaling, so it does not overflow before the result does; a
 * distance beyond DBL_MAX is TL_E_NUMERIC. */
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
 * Values whose differences or p-th powers would overflow (1e200 with
 * p = 2) are scaled by a power of two first, so the distance is returned
 * whenever it is representable; a distance beyond DBL_MAX (u = -1e308,
 * v = 1e308) is TL_E_NUMERIC. The same holds for tl_wasserstein_1d_hist
 * and sliced Wasserstein.
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
  /* TL_SLICED_OPTIONS_VERSION */
  unsigned int version;
  size_t n_projections; /* directions drawn; default 50 */
  double p;             /* order, finite >= 1; default 2 */
  uint64_t seed;        /* directions: normal draws normalised; default 0 */
} tl_sliced_options;
/* The defaults of tl_sliced_options_init as a static initialiser:
 * tl_sliced_options o = TL_SLICED_OPTIONS_INIT; */
#define TL_SLICED_OPTIONS_INIT                                                 \
  { TL_SLICED_OPTIONS_VERSION, 50, 2.0, 0 }

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
  /* TL_SINKHORN_OPTIONS_VERSION */
  unsigned int version;
  size_t max_iter; /* default 1000; >= 1 */
  double tol;      /* L2 column-marginal error to stop at; default 1e-9; > 0 */
} tl_sinkhorn_options;
/* The defaults of tl_sinkhorn_options_init as a static initialiser:
 * tl_sinkhorn_options o = TL_SINKHORN_OPTIONS_INIT; */
#define TL_SINKHORN_OPTIONS_INIT                                               \
  { TL_SINKHORN_OPTIONS_VERSION, 1000, 1e-9 }

/* Fills *out with POT ot.sinkhorn's defaults (max_iter 1000, tol 1e-9).
 * Errors: TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version). */
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
 * call fails with TL_E_NUMERIC: pass sigma explicitly. Data outside
 * [2^-400, 2^400] is scaled by a power of two with sigma (the kernel
 * depends on |x - y| / sigma only), so data near 1e200 gives the value of
 * the same data near 1; a median-heuristic sigma beyond DBL_MAX is
 * TL_E_NUMERIC when out_sigma is requested.
 */
#define TL_MMD_OPTIONS_VERSION 1
typedef struct tl_mmd_options {
  /* TL_MMD_OPTIONS_VERSION */
  unsigned int version;
  double sigma; /* kernel bandwidth, > 0; 0 = median heuristic (default) */
  int unbiased; /* 0 (default): biased V-statistic; 1: unbiased U-statistic */
} tl_mmd_options;
/* The defaults of tl_mmd_options_init as a static initialiser:
 * tl_mmd_options o = TL_MMD_OPTIONS_INIT; */
#define TL_MMD_OPTIONS_INIT                                                    \
  { TL_MMD_OPTIONS_VERSION, 0.0, 0 }

/* Fills *out with the defaults (median heuristic, biased). Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version). */
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
 *
 * Matrices are float64, row-major, one sample per row: an n x d matrix holds
 * n samples of dimension d. Every function checks its arguments (NULL, zero
 * or mismatched sizes, NaN/Inf, options version) before writing anything;
 * on failure the outputs are untouched and tl_last_error() names the
 * function and the argument. All functions are reentrant and allocate only
 * temporary work memory (through the allocator hooks), freed before return.
 * Sample covariances use the n - 1 denominator (numpy.cov, sklearn).
 * ------------------------------------------------------------------------ */

/* Proxy A-distance (Ben-David et al. 2007; TLlib a_distance.py): a linear
 * domain classifier separates source rows (label 1) from target rows
 * (label 0); with err its error on held-out rows, the distance is
 * 2 (1 - 2 err), in [-2, 2]. Near 0: the domains are indistinguishable;
 * near 2: perfectly separable. err > 0.5 gives a negative value, which is
 * returned as is (not clamped).
 *
 * The classifier is L2-regularised logistic regression trained by
 * full-batch gradient descent in double precision on features standardised
 * with the training rows' mean and standard deviation (constant features are
 * left centred). The split is stratified: the rows of each domain are
 * shuffled with the seeded libtl RNG and its first floor(train_fraction *
 * rows) are used for training (floor(train_fraction * ns) source and
 * floor(train_fraction * nt) target rows), the rest for the error. Each of
 * those four parts must hold at least 2 rows (with the default 0.8: ns, nt
 * >= 6); a smaller part makes the estimate meaningless (one training row
 * gives a constant classifier and err = 1, i.e. -2). A held-out row is
 * classified as source when its logit is >= 0. Same inputs and seed: same
 * result. Each feature is standardised through a power-of-two scale, so
 * data of any magnitude gives the same split. A step size the descent
 * cannot survive (weights overflowing, e.g. lr = 1e308) is TL_E_NUMERIC
 * naming opts->lr. */
#define TL_PROXY_A_OPTIONS_VERSION 1
typedef struct tl_proxy_a_options {
  unsigned int version;  /* TL_PROXY_A_OPTIONS_VERSION */
  double train_fraction; /* in (0, 1); default 0.8 (TLlib) */
  size_t epochs;         /* full-batch gradient steps, >= 1; default 200 */
  double lr;             /* step size, > 0; default 0.5 */
  double l2;             /* weight penalty l2/2 |w|^2 (not the bias), >= 0;
                            default 1e-3 */
  uint64_t seed;         /* shuffle seed; default 0 */
} tl_proxy_a_options;
/* The defaults of tl_proxy_a_options_init as a static initialiser:
 * tl_proxy_a_options o = TL_PROXY_A_OPTIONS_INIT; */
#define TL_PROXY_A_OPTIONS_INIT                                                \
  { TL_PROXY_A_OPTIONS_VERSION, 0.8, 200, 0.5, 1e-3, 0 }

/* Fills *out with the defaults of `version`. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (unknown version). */
TL_API tl_status tl_proxy_a_options_init(tl_proxy_a_options *out,
                                         unsigned int version);

/* Proxy A-distance between source xs (ns x d) and target xt (nt x d).
 * *out_distance = 2 (1 - 2 err); out_error (may be NULL) receives err.
 * opts NULL: defaults. Errors: TL_E_INVALID_ARG (NULL, a zero size, bad
 * option, fewer than 2 rows of a domain in the training or held-out part),
 * TL_E_UNSUPPORTED (options version), TL_E_NUMERIC (NaN/Inf input),
 * TL_E_NOMEM. */
TL_API tl_status tl_proxy_a_distance(double *out_distance, double *out_error,
                                     const double *xs, size_t ns,
                                     const double *xt, size_t nt, size_t d,
                                     const tl_proxy_a_options *opts);

/* CORAL distance (Sun & Saenko 2016, Deep CORAL loss):
 * |Cs - Ct|_F^2 / (4 d^2), Cs and Ct the sample covariances of xs (ns x d)
 * and xt (nt x d). ns, nt >= 2. Errors: TL_E_INVALID_ARG, TL_E_NUMERIC
 * (NaN/Inf), TL_E_NOMEM. */
TL_API tl_status tl_coral_distance(double *out, const double *xs, size_t ns,
                                   const double *xt, size_t nt, size_t d);

/* CORAL alignment (Sun, Feng & Saenko 2016): out (ns x d) =
 * xs Cs^(-1/2) Ct^(1/2) with Cs = cov(xs) + lambda I, Ct = cov(xt) +
 * lambda I. The rows are not centred (as in the paper's code and ADAPT).
 * The aligned rows have covariance Ct - lambda Ct^(1/2) Cs^(-1) Ct^(1/2), which
 * is cov(xt) exactly when lambda = 0. lambda >= 0: the paper uses 1 with
 * standardised features, ADAPT 1e-5. out may not alias xs. Matrix square
 * roots come from symmetric eigen-decompositions (LAPACK dsyevd); tiny
 * negative eigenvalues of Ct are rounded up to 0.
 * Errors: TL_E_INVALID_ARG (NULL, ns or nt < 2, d 0, lambda < 0 or not
 * finite), TL_E_NUMERIC (NaN/Inf input; Cs singular, i.e. its smallest
 * eigenvalue <= d * eps * largest: raise lambda), TL_E_NOMEM. */
TL_API tl_status tl_coral_align(double *out, const double *xs, size_t ns,
                                const double *xt, size_t nt, size_t d,
                                double lambda);

/* Frechet distance between Gaussians fitted to x1 (n1 x d) and x2 (n2 x d),
 * the FID formula: |mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)).
 * tr((C1 C2)^(1/2)) is computed as the sum of the square roots of the
 * eigenvalues of the symmetric C1^(1/2) C2 C1^(1/2) (negative rounding
 * residue counts as 0), so it needs no complex arithmetic. Tiny negative
 * results from rounding are returned as 0. n1, n2 >= 2.
 * Errors: TL_E_INVALID_ARG, TL_E_NUMERIC (NaN/Inf), TL_E_NOMEM. */
TL_API tl_status tl_frechet_distance(double *out, const double *x1, size_t n1,
                                     const double *x2, size_t n2, size_t d);

/* The same from given means (d) and covariances (d x d). Each covariance
 * is checked to be one: symmetric up to rounding, |c_ij - c_ji| <= 1e-12 *
 * max|c| (the symmetrised (c + c^T) / 2 is used), and positive
 * semi-definite up to rounding, smallest eigenvalue >= -d * DBL_EPSILON *
 * (largest eigenvalue magnitude). Negative eigenvalues within that
 * tolerance are rounding and count as 0. The check costs one symmetric
 * eigen-decomposition per covariance.
 * Errors: TL_E_INVALID_ARG (NULL, d 0, a covariance that is not symmetric or
 * not positive semi-definite, naming cov1 or cov2), TL_E_NUMERIC (NaN/Inf),
 * TL_E_NOMEM. */
TL_API tl_status tl_frechet_distance_gaussian(double *out, const double *mu1,
                                              const double *cov1,
                                              const double *mu2,
                                              const double *cov2, size_t d);

/* Term distribution of a token-id sequence over a vocabulary of vocab_size
 * types: out[v] = (count(v) + smoothing) / (n + smoothing * vocab_size).
 * Every id must be in [0, vocab_size). n may be 0 only when smoothing > 0
 * (the result is then uniform). Errors: TL_E_INVALID_ARG (NULL, vocab 0,
 * id out of range, smoothing < 0 or not finite, no tokens and no
 * smoothing, n + smoothing * vocab_size overflowing). */
TL_API tl_status tl_term_distribution(double *out, const int64_t *ids, size_t n,
                                      size_t vocab_size, double smoothing);

/* Indices into the rows written by tl_term_similarity (first six) and
 * tl_selection_features (all twelve). Similarities compare p (an example or
 * a corpus) with q (the target); diversities describe the example. */
typedef enum tl_selection_feature {
  TL_SELECTION_FEATURE_JENSEN_SHANNON =
      0,                           /* JS divergence, nats, in [0, ln 2] */
  TL_SELECTION_FEATURE_RENYI = 1,  /* Renyi divergence D_alpha(p || q), nats */
  TL_SELECTION_FEATURE_COSINE = 2, /* cosine similarity of p and q */
  TL_SELECTION_FEATURE_EUCLIDEAN = 3,     /* |p - q|_2 */
  TL_SELECTION_FEATURE_VARIATIONAL = 4,   /* |p - q|_1 */
  TL_SELECTION_FEATURE_BHATTACHARYYA = 5, /* -log sum sqrt(p q) */
  TL_SELECTION_FEATURE_NUM_TYPES = 6,     /* distinct ids in the example */
  /* distinct ids / tokens in the example */
  TL_SELECTION_FEATURE_TYPE_TOKEN_RATIO = 7,
  TL_SELECTION_FEATURE_ENTROPY = 8, /* -sum over types P log P */
  TL_SELECTION_FEATURE_SIMPSON = 9, /* sum over types P^2 */
  TL_SELECTION_FEATURE_RENYI_ENTROPY =
      10, /* log(sum over types P^alpha)/(1-alpha) */
  TL_SELECTION_FEATURE_QUADRATIC_ENTROPY =
      11, /* sum over type pairs cos(v_a, v_b) P_a P_b */
  /* the number of features: columns of tl_selection_features' output */
  TL_SELECTION_FEATURE_COUNT = 12
} tl_selection_feature;
/* Values tl_term_similarity writes: the similarity features, indices
 * 0..5 of tl_selection_feature. */
#define TL_TERM_SIMILARITY_COUNT 6

/* The six similarity measures of Ruder & Plank (2017) between two
 * distributions p and q of length n (corpus-to-corpus domain similarity):
 * out[TL_SELECTION_FEATURE_JENSEN_SHANNON ..
 * TL_SELECTION_FEATURE_BHATTACHARYYA]. p and q are normalised to sum 1 first.
 * alpha is the Renyi order, > 0 and != 1 (Ruder & Plank: 0.99). Disjoint
 * supports make the Renyi (alpha < 1) and Bhattacharyya values +Inf (the
 * paper's code maps them to 0; libtl returns the true value, smooth q to avoid
 * it). Errors: TL_E_INVALID_ARG (NULL, n 0, negative entries, zero sums, bad
 * alpha), TL_E_NUMERIC (NaN/Inf). */
TL_API tl_status tl_term_similarity(double *out, const double *p,
                                    const double *q, size_t n, double alpha);

/* Options of tl_selection_features: the Renyi order and add-k smoothing. */
#define TL_SELECTION_OPTIONS_VERSION 1
typedef struct tl_selection_options {
  unsigned int version; /* TL_SELECTION_OPTIONS_VERSION */
  double renyi_alpha;   /* > 0, != 1; default 0.99 (Ruder & Plank) */
  double smoothing;     /* add-k for each example's distribution, >= 0;
                           default 0 */
} tl_selection_options;
/* The defaults of tl_selection_options_init as a static initialiser:
 * tl_selection_options o = TL_SELECTION_OPTIONS_INIT; */
#define TL_SELECTION_OPTIONS_INIT                                              \
  { TL_SELECTION_OPTIONS_VERSION, 0.99, 0.0 }

/* Fills *out with Ruder & Plank's settings (renyi_alpha 0.99, no
 * smoothing). Errors: TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED
 * (version). */
TL_API tl_status tl_selection_options_init(tl_selection_options *out,
                                           unsigned int version);

/* Data-selection features (Ruder & Plank 2017, learn-to-select-data
 * features.py) of n source examples. Example i is the token ids
 * ids[offsets[i] .. offsets[i+1]) (offsets has n + 1 entries, starts at 0
 * and never decreases; no example may be empty). out is n x
 * TL_SELECTION_FEATURE_COUNT. Similarities compare the example's term
 * distribution (add-k smoothed by opts->smoothing) with `target` (vocab_size
 * entries, non-negative, normalised here). Diversities sum over the example's
 * distinct types, with P the term distribution of all n examples together
 * (unsmoothed, as in the paper). Quadratic entropy needs word vectors
 * (vocab_size x embed_dim, row v for id v); with word_vectors NULL its column
 * is 0. A zero word vector has cosine 0 with everything. The paper's JS has a
 * typo (KL(p,m) twice); libtl computes the true JS divergence, and returns
 * divergences, not 1 - divergence. Cost: O(tokens + vocab_size) without
 * smoothing (the similarities are summed over each example's types only), O(n *
 * vocab_size) with it, plus O(sum over examples of types^2 * embed_dim) for
 * quadratic entropy. opts NULL: defaults. Large renyi_alpha values are safe:
 * the Renyi divergence is summed as p (q/p)^(1 - alpha), the Renyi entropy with
 * the largest P factored out, so neither becomes NaN or a spurious +Inf from
 * underflow (a true overflow of the divergence is still +Inf).
 * Errors: TL_E_INVALID_ARG (NULL, sizes, ids, offsets, empty example, bad
 * target or options, smoothing * vocab_size overflowing), TL_E_UNSUPPORTED
 * (options version), TL_E_NUMERIC (NaN/Inf in target or vectors, a non-zero
 * word vector whose squared norm overflows or is below DBL_MIN: rescale all
 * vectors, which changes no cosine), TL_E_NOMEM. */
TL_API tl_status tl_selection_features(double *out, const int64_t *ids,
                                       const size_t *offsets, size_t n,
                                       size_t vocab_size, const double *target,
                                       const double *word_vectors,
                                       size_t embed_dim,
                                       const tl_selection_options *opts);

/* Scores n examples, score_i = features[i] . theta (features n x f), and
 * writes the indices of the k best into out_indices in descending score
 * order; equal scores keep the lower index first. out_scores (may be NULL)
 * receives all n scores. 1 <= k <= n.
 * Scores are computed with power-of-two scaling, so only a score beyond
 * DBL_MAX (not an overflowing product) is an error.
 * Errors: TL_E_INVALID_ARG (NULL, sizes, k), TL_E_NUMERIC (a NaN/Inf
 * feature or weight: e.g. an infinite divergence; smooth the target; a
 * score beyond DBL_MAX), TL_E_NOMEM. */
TL_API tl_status tl_select_top(size_t *out_indices, double *out_scores,
                               const double *features, size_t n, size_t f,
                               const double *theta, size_t k);

/* PCA fit of x (n x d), n >= 2, 1 <= k <= min(n, d), by the thin SVD of the
 * centred data (LAPACK dgesdd), as sklearn.decomposition.PCA with
 * svd_solver='full': out_mean (d), out_components (k x d, orthonormal rows,
 * by decreasing variance), out_variance (k): S^2 / (n - 1).
 * out_variance_ratio (k, may be NULL): variance / total variance. Signs:
 * the largest-magnitude entry of each component is positive (first one on
 * a tie), as sklearn >= 1.5 (svd_flip with u_based_decision=False).
 * Data outside [2^-400, 2^400] is centred after a power-of-two scale, so
 * components and ratios do not depend on its magnitude.
 * Errors: TL_E_INVALID_ARG (NULL, sizes, k), TL_E_NUMERIC (NaN/Inf, SVD
 * failure, a variance beyond DBL_MAX, e.g. data near 1e160), TL_E_NOMEM. */
TL_API tl_status tl_pca_fit(double *out_mean, double *out_components,
                            double *out_variance, double *out_variance_ratio,
                            const double *x, size_t n, size_t d, size_t k);

/* Projection of x (m x d) on a fitted PCA: out (m x k) = (x - mean) C^T.
 * x - mean is taken of power-of-two-scaled values, so data near DBL_MAX of
 * both signs projects; a projection beyond DBL_MAX is TL_E_NUMERIC (out
 * untouched). */
TL_API tl_status tl_pca_transform(double *out, const double *x, size_t m,
                                  size_t d, const double *mean,
                                  const double *components, size_t k);

/* How tl_pca_select ranks source rows in the projected space. */
typedef enum tl_pca_select_criterion {
  TL_PCA_SELECT_CENTROID = 0,     /* distance to the target centroid */
  TL_PCA_SELECT_MEAN_DISTANCE = 1 /* mean distance to the target rows */
} tl_pca_select_criterion;
/* Which rows tl_pca_select fits its PCA to. */
typedef enum tl_pca_select_fit {
  TL_PCA_SELECT_FIT_TARGET = 0, /* the subspace of the target rows */
  TL_PCA_SELECT_FIT_BOTH =
      1 /* the subspace of source and target rows together */
} tl_pca_select_fit;

/* Options of tl_pca_select: components kept, ranking, rows fitted. */
#define TL_PCA_SELECT_OPTIONS_VERSION 1
typedef struct tl_pca_select_options {
  unsigned int version;              /* TL_PCA_SELECT_OPTIONS_VERSION */
  size_t n_components;               /* 0 (default): min(rows fitted, d) */
  tl_pca_select_criterion criterion; /* default TL_PCA_SELECT_CENTROID */
  tl_pca_select_fit fit;             /* default TL_PCA_SELECT_FIT_TARGET */
} tl_pca_select_options;
/* The defaults of tl_pca_select_options_init as a static initialiser:
 * tl_pca_select_options o = TL_PCA_SELECT_OPTIONS_INIT; */
#define TL_PCA_SELECT_OPTIONS_INIT                                             \
  {                                                                            \
    TL_PCA_SELECT_OPTIONS_VERSION, 0, TL_PCA_SELECT_CENTROID,                  \
        TL_PCA_SELECT_FIT_TARGET                                               \
  }

/* Fills *out with the defaults (every component, distance to the target
 * centroid, PCA of the target rows). Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version). */
TL_API tl_status tl_pca_select_options_init(tl_pca_select_options *out,
                                            unsigned int version);

/* Instance selection in PCA space: fits a PCA (opts->fit), projects source
 * xs (ns x d) and target xt (nt x d), and writes the indices of the k source
 * rows closest to the target (opts->criterion, Euclidean distance in the
 * projected space) into out_indices, closest first, equal distances by
 * lower index. out_distances (k, may be NULL) receives their distances.
 * 1 <= k <= ns; the fitted rows must number >= 2. opts NULL: defaults.
 * Errors: TL_E_INVALID_ARG, TL_E_UNSUPPORTED (options version),
 * TL_E_NUMERIC, TL_E_NOMEM. */
TL_API tl_status tl_pca_select(size_t *out_indices, double *out_distances,
                               const double *xs, size_t ns, const double *xt,
                               size_t nt, size_t d, size_t k,
                               const tl_pca_select_options *opts);

/* Orthogonal Procrustes (Schonemann 1966; MUSE trainer.py procrustes):
 * x (n x d) holds the source vectors and y (n x d) the target vectors of n
 * dictionary pairs, row i of x translating to row i of y. out_w (d x d) =
 * U V^T with U S V^T = svd(y^T x) minimises sum |W x_i - y_i|^2 over
 * orthogonal W. Orientation: W acts on column vectors, W x_i ~ y_i, so the
 * mapped source matrix is x W^T (row-major), as MUSE's nn.Linear mapping.
 * Errors: TL_E_INVALID_ARG (NULL, n or d 0), TL_E_NUMERIC (NaN/Inf, SVD
 * failure), TL_E_NOMEM. */
TL_API tl_status tl_procrustes(double *out_w, const double *x, const double *y,
                               size_t n, size_t d);

/* Options of tl_csls_retrieve: neighbourhood size and candidates kept. */
#define TL_CSLS_OPTIONS_VERSION 1
typedef struct tl_csls_options {
  unsigned int version; /* TL_CSLS_OPTIONS_VERSION */
  size_t knn;           /* neighbourhood size for r_S and r_T; default 10 */
  size_t top;           /* candidates written per query; default 1 */
} tl_csls_options;
/* The defaults of tl_csls_options_init as a static initialiser:
 * tl_csls_options o = TL_CSLS_OPTIONS_INIT; */
#define TL_CSLS_OPTIONS_INIT                                                   \
  { TL_CSLS_OPTIONS_VERSION, 10, 1 }

/* Fills *out with MUSE's settings (knn 10) and one candidate per query.
 * Errors: TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version). */
TL_API tl_status tl_csls_options_init(tl_csls_options *out,
                                      unsigned int version);

/* CSLS retrieval (Conneau et al. 2018; MUSE word_translation.py): for every
 * mapped source vector q_i (row of xq, nq x d) and target vector y_j (row of
 * y, nt x d), CSLS(i, j) = 2 cos(q_i, y_j) - r_T(q_i) - r_S(y_j), where
 * r_T(q_i) is the mean cosine of q_i's knn nearest rows of y and r_S(y_j) the
 * mean cosine of y_j's knn nearest rows of xq. Pass the whole mapped source
 * vocabulary as xq (MUSE computes r_S over it) and read the rows you need.
 * out_indices (nq x top) receives, per query, the target indices of the top
 * best scores, best first, equal scores by lower index; out_scores (nq x
 * top, may be NULL) the scores. knn must be in [1, min(nq, nt)] (libtl
 * rejects, never clamps, a larger knn); top in [1, nt]. All-zero rows are
 * rejected (cosine undefined); norms are taken with scaling, so any other
 * finite row ([1e-320, 0, 0], [1e300, 1e300, 1e300]) has a direction. Work
 * memory: normalised copies of xq and y and a block of at most 256 x nt
 * similarities. opts NULL: defaults. Errors: TL_E_INVALID_ARG, TL_E_UNSUPPORTED
 * (options version), TL_E_NUMERIC (NaN/Inf), TL_E_NOMEM. */
TL_API tl_status tl_csls_retrieve(size_t *out_indices, double *out_scores,
                                  const double *xq, size_t nq, const double *y,
                                  size_t nt, size_t d,
                                  const tl_csls_options *opts);

/* Precision@k of a retrieval (MUSE word_translation.py): retrieved is
 * n_queries x top ranked target indices (as tl_csls_retrieve writes). The
 * gold dictionary is n_gold pairs (gold_src[i], gold_tgt[i]); a source word
 * may have several translations. *out = the fraction of distinct gold source
 * words with at least one gold translation among their first k retrieved.
 * 1 <= k <= top; gold_src[i] < n_queries.
 * Errors: TL_E_INVALID_ARG (NULL, sizes, k, index out of range),
 * TL_E_NOMEM. */
TL_API tl_status tl_precision_at_k(double *out, const size_t *retrieved,
                                   size_t n_queries, size_t top, size_t k,
                                   const size_t *gold_src,
                                   const size_t *gold_tgt, size_t n_gold);

/* (end of part 2) */

#ifdef __cplusplus
}
#endif

#endif /* TL_METRICS_H */
