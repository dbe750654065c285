// libtl for C++, metrics (tl/metrics.h): free functions over spans (any
// contiguous double / int64 range: std::vector, std::array, C arrays),
// returning values or std::vector copies, and the options structs with
// their TL_*_OPTIONS_INIT defaults. Matrices are row-major spans with their
// width d: rows = size / d (tl::ShapeError when it does not divide).
#ifndef TL_METRICS_HPP
#define TL_METRICS_HPP

#include <tl/core.hpp>

#include <tl/metrics.h>

#include <string>
#include <vector>

namespace tl {

// tl_sliced_options with the defaults (TL_SLICED_OPTIONS_INIT).
struct SlicedOptions : tl_sliced_options {
  SlicedOptions() noexcept : tl_sliced_options TL_SLICED_OPTIONS_INIT {}
};
// tl_sinkhorn_options with POT's defaults (TL_SINKHORN_OPTIONS_INIT).
struct SinkhornOptions : tl_sinkhorn_options {
  SinkhornOptions() noexcept : tl_sinkhorn_options TL_SINKHORN_OPTIONS_INIT {}
};
// tl_mmd_options with the defaults (TL_MMD_OPTIONS_INIT).
struct MmdOptions : tl_mmd_options {
  MmdOptions() noexcept : tl_mmd_options TL_MMD_OPTIONS_INIT {}
};
// tl_proxy_a_options with the defaults (TL_PROXY_A_OPTIONS_INIT).
struct ProxyAOptions : tl_proxy_a_options {
  ProxyAOptions() noexcept : tl_proxy_a_options TL_PROXY_A_OPTIONS_INIT {}
};
// tl_selection_options with Ruder & Plank's settings
// (TL_SELECTION_OPTIONS_INIT).
struct SelectionOptions : tl_selection_options {
  SelectionOptions() noexcept
      : tl_selection_options TL_SELECTION_OPTIONS_INIT {}
};
// tl_pca_select_options with the defaults (TL_PCA_SELECT_OPTIONS_INIT).
struct PcaSelectOptions : tl_pca_select_options {
  PcaSelectOptions() noexcept
      : tl_pca_select_options TL_PCA_SELECT_OPTIONS_INIT {}
};
// tl_csls_options with MUSE's settings (TL_CSLS_OPTIONS_INIT).
struct CslsOptions : tl_csls_options {
  CslsOptions() noexcept : tl_csls_options TL_CSLS_OPTIONS_INIT {}
};

namespace detail {
// The rows of a row-major matrix of width d held in `size` elements.
inline std::size_t rows_of(const char *who, const char *what, std::size_t size,
                           std::size_t d) {
  if (d == 0)
    throw InvalidArgument(TL_E_INVALID_ARG, std::string(who) + ": d is 0");
  if (size % d != 0)
    throw ShapeError(
        TL_E_SHAPE,
        std::string(who) + ": " + what + " has " + std::to_string(size) +
            " elements, not a multiple of d = " + std::to_string(d));
  return size / d;
}
// a * b, or tl::ShapeError when it overflows size_t.
inline std::size_t mul(const char *who, std::size_t a, std::size_t b) {
  if (a != 0 && b > SIZE_MAX / a)
    throw ShapeError(TL_E_SHAPE, std::string(who) + ": sizes overflow");
  return a * b;
}
// Optional weights: empty means NULL (uniform), else `want` of them.
inline const double *weights(const char *who, const char *what,
                             span<const double> w, std::size_t want) {
  if (w.empty())
    return nullptr;
  expect_size(who, what, w.size(), want);
  return w.data();
}
// Two distributions or vectors of one size, at least one element.
inline void same_nonempty(const char *who, std::size_t a, std::size_t b) {
  expect_nonempty(who, "n", a);
  expect_size(who, "the second array", b, a);
}
// A C measure of two arrays of one size: fn(&out, p, q, n, extra...).
template <typename Fn, typename... Extra>
double pairwise(const char *who, Fn fn, span<const double> p,
                span<const double> q, Extra... extra) {
  same_nonempty(who, p.size(), q.size());
  double v = 0.0;
  check(fn(&v, p.data(), q.data(), p.size(), extra...));
  return v;
}
} // namespace detail

// ---- divergences and distances (base 0: natural log) ----------------------

// tl_kl_divergence: KL(p || q).
inline double kl_divergence(span<const double> p, span<const double> q,
                            double base = 0.0) {
  return detail::pairwise("tl::kl_divergence", tl_kl_divergence, p, q, base);
}
// tl_entropy: H(p).
inline double entropy(span<const double> p, double base = 0.0) {
  detail::expect_nonempty("tl::entropy", "n", p.size());
  double v = 0.0;
  check(tl_entropy(&v, p.data(), p.size(), base));
  return v;
}
// tl_js_divergence.
inline double js_divergence(span<const double> p, span<const double> q,
                            double base = 0.0) {
  return detail::pairwise("tl::js_divergence", tl_js_divergence, p, q, base);
}
// tl_js_distance.
inline double js_distance(span<const double> p, span<const double> q,
                          double base = 0.0) {
  return detail::pairwise("tl::js_distance", tl_js_distance, p, q, base);
}
// tl_renyi_divergence of order alpha.
inline double renyi_divergence(span<const double> p, span<const double> q,
                               double alpha, double base = 0.0) {
  return detail::pairwise("tl::renyi_divergence", tl_renyi_divergence, p, q,
                          alpha, base);
}
// tl_bhattacharyya.
inline double bhattacharyya(span<const double> p, span<const double> q) {
  return detail::pairwise("tl::bhattacharyya", tl_bhattacharyya, p, q);
}
// tl_hellinger.
inline double hellinger(span<const double> p, span<const double> q) {
  return detail::pairwise("tl::hellinger", tl_hellinger, p, q);
}
// tl_total_variation.
inline double total_variation(span<const double> p, span<const double> q) {
  return detail::pairwise("tl::total_variation", tl_total_variation, p, q);
}
// tl_cosine_similarity.
inline double cosine_similarity(span<const double> u, span<const double> v) {
  return detail::pairwise("tl::cosine_similarity", tl_cosine_similarity, u, v);
}
// tl_cosine_distance.
inline double cosine_distance(span<const double> u, span<const double> v) {
  return detail::pairwise("tl::cosine_distance", tl_cosine_distance, u, v);
}
// tl_euclidean.
inline double euclidean(span<const double> u, span<const double> v) {
  return detail::pairwise("tl::euclidean", tl_euclidean, u, v);
}

// ---- Wasserstein, Sinkhorn, MMD -------------------------------------------

// tl_wasserstein_1d: W_p between the values u and v; weights empty for
// uniform, else one per value.
inline double wasserstein_1d(span<const double> u, span<const double> v,
                             double p = 1.0, span<const double> u_weights = {},
                             span<const double> v_weights = {}) {
  const char *who = "tl::wasserstein_1d";
  detail::expect_nonempty(who, "u", u.size());
  detail::expect_nonempty(who, "v", v.size());
  double r = 0.0;
  check(tl_wasserstein_1d(
      &r, u.data(), u.size(),
      detail::weights(who, "u_weights", u_weights, u.size()), v.data(),
      v.size(), detail::weights(who, "v_weights", v_weights, v.size()), p));
  return r;
}
// tl_wasserstein_1d_hist: histograms a and b over the support x.
inline double wasserstein_1d_hist(span<const double> x, span<const double> a,
                                  span<const double> b, double p = 1.0) {
  const char *who = "tl::wasserstein_1d_hist";
  detail::expect_nonempty(who, "x", x.size());
  detail::expect_size(who, "a", a.size(), x.size());
  detail::expect_size(who, "b", b.size(), x.size());
  double r = 0.0;
  check(tl_wasserstein_1d_hist(&r, x.data(), a.data(), b.data(), x.size(), p));
  return r;
}
// tl_sliced_wasserstein between the rows of x and y (width d).
inline double
sliced_wasserstein(span<const double> x, span<const double> y, std::size_t d,
                   const tl_sliced_options &options = SlicedOptions(),
                   span<const double> x_weights = {},
                   span<const double> y_weights = {}) {
  const char *who = "tl::sliced_wasserstein";
  const std::size_t n = detail::rows_of(who, "x", x.size(), d);
  const std::size_t m = detail::rows_of(who, "y", y.size(), d);
  detail::expect_nonempty(who, "x's rows", n);
  detail::expect_nonempty(who, "y's rows", m);
  double r = 0.0;
  check(tl_sliced_wasserstein(
      &r, x.data(), n, detail::weights(who, "x_weights", x_weights, n),
      y.data(), m, detail::weights(who, "y_weights", y_weights, m), d,
      &options));
  return r;
}
// tl_sliced_wasserstein_projected: with the directions given (k x d).
inline double sliced_wasserstein_projected(span<const double> x,
                                           span<const double> y, std::size_t d,
                                           span<const double> projections,
                                           double p = 2.0,
                                           span<const double> x_weights = {},
                                           span<const double> y_weights = {}) {
  const char *who = "tl::sliced_wasserstein_projected";
  const std::size_t n = detail::rows_of(who, "x", x.size(), d);
  const std::size_t m = detail::rows_of(who, "y", y.size(), d);
  const std::size_t k =
      detail::rows_of(who, "projections", projections.size(), d);
  detail::expect_nonempty(who, "x's rows", n);
  detail::expect_nonempty(who, "y's rows", m);
  detail::expect_nonempty(who, "projections' rows", k);
  double r = 0.0;
  check(tl_sliced_wasserstein_projected(
      &r, x.data(), n, detail::weights(who, "x_weights", x_weights, n),
      y.data(), m, detail::weights(who, "y_weights", y_weights, m), d,
      projections.data(), k, p));
  return r;
}
// tl_sliced_directions: the k x d directions of `seed`.
inline std::vector<double> sliced_directions(std::size_t k, std::size_t d,
                                             std::uint64_t seed = 0) {
  std::vector<double> v(detail::mul("tl::sliced_directions", k, d));
  check(tl_sliced_directions(v.data(), k, d, seed));
  return v;
}

// What tl::sinkhorn returns.
struct SinkhornResult {
  // <gamma, M>.
  double cost = 0.0;
  // gamma, n x m row-major.
  std::vector<double> plan;
  // The iterations run.
  std::size_t iterations = 0;
  // Whether the marginal error fell below tol.
  bool converged = false;
};
// tl_sinkhorn on the n x m cost matrix; a and b empty for uniform, else n
// and m weights.
inline SinkhornResult
sinkhorn(span<const double> cost_matrix, std::size_t n, std::size_t m,
         double reg, const tl_sinkhorn_options &options = SinkhornOptions(),
         span<const double> a = {}, span<const double> b = {}) {
  const char *who = "tl::sinkhorn";
  detail::expect_nonempty(who, "n", n);
  detail::expect_nonempty(who, "m", m);
  detail::expect_size(who, "cost_matrix", cost_matrix.size(),
                      detail::mul(who, n, m));
  SinkhornResult r;
  r.plan.resize(n * m);
  int conv = 0;
  check(tl_sinkhorn(&r.cost, r.plan.data(), &r.iterations, &conv,
                    detail::weights(who, "a", a, n), n,
                    detail::weights(who, "b", b, m), m, cost_matrix.data(), reg,
                    &options));
  r.converged = conv != 0;
  return r;
}

// What tl::mmd2 returns.
struct MmdResult {
  // The squared MMD.
  double mmd2 = 0.0;
  // The bandwidth used.
  double sigma = 0.0;
};
// tl_mmd2 between the rows of x and y (width d).
inline MmdResult mmd2(span<const double> x, span<const double> y, std::size_t d,
                      const tl_mmd_options &options = MmdOptions()) {
  const char *who = "tl::mmd2";
  const std::size_t n = detail::rows_of(who, "x", x.size(), d);
  const std::size_t m = detail::rows_of(who, "y", y.size(), d);
  detail::expect_nonempty(who, "x's rows", n);
  detail::expect_nonempty(who, "y's rows", m);
  MmdResult r;
  check(tl_mmd2(&r.mmd2, &r.sigma, x.data(), n, y.data(), m, d, &options));
  return r;
}

// ---- proxy A-distance, CORAL, Frechet -------------------------------------

// What tl::proxy_a_distance returns.
struct ProxyAResult {
  // 2 (1 - 2 err).
  double distance = 0.0;
  // The classifier's held-out error.
  double error = 0.0;
};
// tl_proxy_a_distance between source xs and target xt (width d).
inline ProxyAResult
proxy_a_distance(span<const double> xs, span<const double> xt, std::size_t d,
                 const tl_proxy_a_options &options = ProxyAOptions()) {
  const char *who = "tl::proxy_a_distance";
  const std::size_t ns = detail::rows_of(who, "xs", xs.size(), d);
  const std::size_t nt = detail::rows_of(who, "xt", xt.size(), d);
  detail::expect_nonempty(who, "xs's rows", ns);
  detail::expect_nonempty(who, "xt's rows", nt);
  ProxyAResult r;
  check(tl_proxy_a_distance(&r.distance, &r.error, xs.data(), ns, xt.data(), nt,
                            d, &options));
  return r;
}
// tl_coral_distance between xs and xt (width d).
inline double coral_distance(span<const double> xs, span<const double> xt,
                             std::size_t d) {
  const char *who = "tl::coral_distance";
  const std::size_t ns = detail::rows_of(who, "xs", xs.size(), d);
  const std::size_t nt = detail::rows_of(who, "xt", xt.size(), d);
  detail::expect_nonempty(who, "xs's rows", ns);
  detail::expect_nonempty(who, "xt's rows", nt);
  double r = 0.0;
  check(tl_coral_distance(&r, xs.data(), ns, xt.data(), nt, d));
  return r;
}
// tl_coral_align: xs aligned to xt's covariance (ns x d).
inline std::vector<double> coral_align(span<const double> xs,
                                       span<const double> xt, std::size_t d,
                                       double lambda) {
  const char *who = "tl::coral_align";
  const std::size_t ns = detail::rows_of(who, "xs", xs.size(), d);
  const std::size_t nt = detail::rows_of(who, "xt", xt.size(), d);
  detail::expect_nonempty(who, "xs's rows", ns);
  detail::expect_nonempty(who, "xt's rows", nt);
  std::vector<double> out(xs.size());
  check(tl_coral_align(out.data(), xs.data(), ns, xt.data(), nt, d, lambda));
  return out;
}
// tl_frechet_distance between Gaussians fitted to x1 and x2 (width d).
inline double frechet_distance(span<const double> x1, span<const double> x2,
                               std::size_t d) {
  const char *who = "tl::frechet_distance";
  const std::size_t n1 = detail::rows_of(who, "x1", x1.size(), d);
  const std::size_t n2 = detail::rows_of(who, "x2", x2.size(), d);
  detail::expect_nonempty(who, "x1's rows", n1);
  detail::expect_nonempty(who, "x2's rows", n2);
  double r = 0.0;
  check(tl_frechet_distance(&r, x1.data(), n1, x2.data(), n2, d));
  return r;
}
// tl_frechet_distance_gaussian: means of d, covariances of d x d.
inline double frechet_distance_gaussian(span<const double> mu1,
                                        span<const double> cov1,
                                        span<const double> mu2,
                                        span<const double> cov2) {
  const char *who = "tl::frechet_distance_gaussian";
  const std::size_t d = mu1.size();
  detail::expect_nonempty(who, "d", d);
  detail::expect_size(who, "mu2", mu2.size(), d);
  detail::expect_size(who, "cov1", cov1.size(), detail::mul(who, d, d));
  detail::expect_size(who, "cov2", cov2.size(), d * d);
  double r = 0.0;
  check(tl_frechet_distance_gaussian(&r, mu1.data(), cov1.data(), mu2.data(),
                                     cov2.data(), d));
  return r;
}

// ---- term distributions and data selection ---------------------------------

// tl_term_distribution: vocab_size probabilities of ids, add-k smoothed.
inline std::vector<double> term_distribution(span<const std::int64_t> ids,
                                             std::size_t vocab_size,
                                             double smoothing = 0.0) {
  std::vector<double> out(vocab_size);
  check(tl_term_distribution(out.data(), ids.data(), ids.size(), vocab_size,
                             smoothing));
  return out;
}
// tl_term_similarity: the TL_TERM_SIMILARITY_COUNT measures of p and q,
// indexed by tl_selection_feature.
inline std::vector<double> term_similarity(span<const double> p,
                                           span<const double> q,
                                           double alpha = 0.99) {
  detail::same_nonempty("tl::term_similarity", p.size(), q.size());
  std::vector<double> out(TL_TERM_SIMILARITY_COUNT);
  check(tl_term_similarity(out.data(), p.data(), q.data(), p.size(), alpha));
  return out;
}
// tl_selection_features of the examples ids[offsets[i]..offsets[i+1])
// against target (vocab_size entries): n x TL_SELECTION_FEATURE_COUNT.
// word_vectors empty: no quadratic entropy; else vocab_size x embed_dim.
inline std::vector<double>
selection_features(span<const std::int64_t> ids,
                   span<const std::size_t> offsets, span<const double> target,
                   const tl_selection_options &options = SelectionOptions(),
                   span<const double> word_vectors = {},
                   std::size_t embed_dim = 0) {
  const char *who = "tl::selection_features";
  if (offsets.size() < 2)
    throw InvalidArgument(TL_E_INVALID_ARG,
                          std::string(who) +
                              ": offsets needs n + 1 >= 2 entries, has " +
                              std::to_string(offsets.size()));
  if (offsets[offsets.size() - 1] > ids.size())
    throw ShapeError(TL_E_SHAPE, std::string(who) + ": offsets end past ids' " +
                                     std::to_string(ids.size()) + " ids");
  detail::expect_nonempty(who, "target", target.size());
  if (!word_vectors.empty())
    detail::expect_size(who, "word_vectors", word_vectors.size(),
                        detail::mul(who, target.size(), embed_dim));
  const std::size_t n = offsets.size() - 1;
  std::vector<double> out(detail::mul(who, n, TL_SELECTION_FEATURE_COUNT));
  check(tl_selection_features(
      out.data(), ids.data(), offsets.data(), n, target.size(), target.data(),
      word_vectors.empty() ? nullptr : word_vectors.data(),
      word_vectors.empty() ? 0 : embed_dim, &options));
  return out;
}

// What tl::select_top and tl::pca_select return.
struct Selection {
  // The chosen rows, best first.
  std::vector<std::size_t> indices;
  // select_top: every row's score; pca_select: the chosen rows' distances.
  std::vector<double> scores;
};
// tl_select_top: the k best rows of features (n x f) scored by theta (f).
inline Selection select_top(span<const double> features,
                            span<const double> theta, std::size_t k) {
  const char *who = "tl::select_top";
  detail::expect_nonempty(who, "theta", theta.size());
  const std::size_t n =
      detail::rows_of(who, "features", features.size(), theta.size());
  Selection s;
  s.indices.resize(k);
  s.scores.resize(n);
  check(tl_select_top(s.indices.data(), s.scores.data(), features.data(), n,
                      theta.size(), theta.data(), k));
  return s;
}

// ---- PCA, Procrustes, CSLS --------------------------------------------------

// A PCA fitted by tl::pca_fit.
struct Pca {
  // d means.
  std::vector<double> mean;
  // k x d orthonormal rows.
  std::vector<double> components;
  // k explained variances.
  std::vector<double> variance;
  // k explained variance ratios.
  std::vector<double> variance_ratio;
  // The data's width.
  std::size_t d = 0;
  // The components kept.
  std::size_t k = 0;
};
// tl_pca_fit of x (width d), k components.
inline Pca pca_fit(span<const double> x, std::size_t d, std::size_t k) {
  const char *who = "tl::pca_fit";
  const std::size_t n = detail::rows_of(who, "x", x.size(), d);
  detail::expect_nonempty(who, "x's rows", n);
  Pca p;
  p.d = d;
  p.k = k;
  p.mean.resize(d);
  p.components.resize(detail::mul(who, k, d));
  p.variance.resize(k);
  p.variance_ratio.resize(k);
  check(tl_pca_fit(p.mean.data(), p.components.data(), p.variance.data(),
                   p.variance_ratio.data(), x.data(), n, d, k));
  return p;
}
// tl_pca_transform: x (width pca.d) projected, rows x pca.k.
inline std::vector<double> pca_transform(const Pca &pca, span<const double> x) {
  const char *who = "tl::pca_transform";
  const std::size_t m = detail::rows_of(who, "x", x.size(), pca.d);
  detail::expect_nonempty(who, "x's rows", m);
  detail::expect_size(who, "pca.mean", pca.mean.size(), pca.d);
  detail::expect_size(who, "pca.components", pca.components.size(),
                      detail::mul(who, pca.k, pca.d));
  std::vector<double> out(detail::mul(who, m, pca.k));
  check(tl_pca_transform(out.data(), x.data(), m, pca.d, pca.mean.data(),
                         pca.components.data(), pca.k));
  return out;
}
// tl_pca_select: the k source rows of xs closest to xt (width d) in PCA
// space; scores are their distances.
inline Selection
pca_select(span<const double> xs, span<const double> xt, std::size_t d,
           std::size_t k,
           const tl_pca_select_options &options = PcaSelectOptions()) {
  const char *who = "tl::pca_select";
  const std::size_t ns = detail::rows_of(who, "xs", xs.size(), d);
  const std::size_t nt = detail::rows_of(who, "xt", xt.size(), d);
  detail::expect_nonempty(who, "xs's rows", ns);
  detail::expect_nonempty(who, "xt's rows", nt);
  Selection s;
  s.indices.resize(k);
  s.scores.resize(k);
  check(tl_pca_select(s.indices.data(), s.scores.data(), xs.data(), ns,
                      xt.data(), nt, d, k, &options));
  return s;
}
// tl_procrustes: the d x d orthogonal W with W x_i ~ y_i (x, y of width d).
inline std::vector<double> procrustes(span<const double> x,
                                      span<const double> y, std::size_t d) {
  const char *who = "tl::procrustes";
  const std::size_t n = detail::rows_of(who, "x", x.size(), d);
  detail::expect_nonempty(who, "x's rows", n);
  detail::expect_size(who, "y", y.size(), x.size());
  std::vector<double> w(detail::mul(who, d, d));
  check(tl_procrustes(w.data(), x.data(), y.data(), n, d));
  return w;
}
// tl_csls_retrieve: per query row of xq, the options.top best rows of y
// (both width d); indices and scores are nq x top.
inline Selection csls_retrieve(span<const double> xq, span<const double> y,
                               std::size_t d,
                               const tl_csls_options &options = CslsOptions()) {
  const char *who = "tl::csls_retrieve";
  const std::size_t nq = detail::rows_of(who, "xq", xq.size(), d);
  const std::size_t nt = detail::rows_of(who, "y", y.size(), d);
  detail::expect_nonempty(who, "xq's rows", nq);
  detail::expect_nonempty(who, "y's rows", nt);
  Selection s;
  s.indices.resize(detail::mul(who, nq, options.top));
  s.scores.resize(s.indices.size());
  check(tl_csls_retrieve(s.indices.data(), s.scores.data(), xq.data(), nq,
                         y.data(), nt, d, &options));
  return s;
}
// tl_precision_at_k: retrieved is n_queries x top; gold pairs of one size.
inline double precision_at_k(span<const std::size_t> retrieved, std::size_t top,
                             std::size_t k, span<const std::size_t> gold_src,
                             span<const std::size_t> gold_tgt) {
  const char *who = "tl::precision_at_k";
  const std::size_t nq =
      detail::rows_of(who, "retrieved", retrieved.size(), top);
  detail::expect_nonempty(who, "gold_src", gold_src.size());
  detail::expect_size(who, "gold_tgt", gold_tgt.size(), gold_src.size());
  double r = 0.0;
  check(tl_precision_at_k(&r, retrieved.data(), nq, top, k, gold_src.data(),
                          gold_tgt.data(), gold_src.size()));
  return r;
}

} // namespace tl

#endif // TL_METRICS_HPP
