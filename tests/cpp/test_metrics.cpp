// The metric wrappers (tl/metrics.hpp) against the C calls: the same
// inputs give the same numbers bit for bit, the options structs hold the
// TL_*_OPTIONS_INIT defaults, and bad input throws the tl::Error subclass
// of C's status, or the binding's own ShapeError / InvalidArgument for
// sizes that do not agree before any C call.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <cmath>
#include <vector>

// Deterministic data: a smooth function of the index, shifted by `salt`.
static std::vector<double> data(size_t n, double salt, bool positive = false) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; i++) {
    const double x = std::sin(0.37 * static_cast<double>(i) + salt) +
                     0.1 * static_cast<double>(i % 5);
    v[i] = positive ? std::fabs(x) + 0.01 : x;
  }
  return v;
}

static bool same(double a, double b) {
  return same_bits(std::vector<double>{a}, std::vector<double>{b});
}

static void distributions() {
  const auto p = data(7, 0.1, true), q = data(7, 0.9, true);
  double r = 0;
  C_OK(tl_kl_divergence(&r, p.data(), q.data(), 7, 2.0));
  EXPECT(same(tl::kl_divergence(p, q, 2.0), r));
  C_OK(tl_entropy(&r, p.data(), 7, 0.0));
  EXPECT(same(tl::entropy(p), r) && r > 0);
  C_OK(tl_js_divergence(&r, p.data(), q.data(), 7, 0.0));
  EXPECT(same(tl::js_divergence(p, q), r));
  C_OK(tl_js_distance(&r, p.data(), q.data(), 7, 2.0));
  EXPECT(same(tl::js_distance(p, q, 2.0), r));
  C_OK(tl_renyi_divergence(&r, p.data(), q.data(), 7, 0.99, 0.0));
  EXPECT(same(tl::renyi_divergence(p, q, 0.99), r));
  C_OK(tl_bhattacharyya(&r, p.data(), q.data(), 7));
  EXPECT(same(tl::bhattacharyya(p, q), r));
  C_OK(tl_hellinger(&r, p.data(), q.data(), 7));
  EXPECT(same(tl::hellinger(p, q), r));
  C_OK(tl_total_variation(&r, p.data(), q.data(), 7));
  EXPECT(same(tl::total_variation(p, q), r));
  const auto u = data(9, 0.3), v = data(9, 1.3);
  C_OK(tl_cosine_similarity(&r, u.data(), v.data(), 9));
  EXPECT(same(tl::cosine_similarity(u, v), r));
  C_OK(tl_cosine_distance(&r, u.data(), v.data(), 9));
  EXPECT(same(tl::cosine_distance(u, v), r));
  C_OK(tl_euclidean(&r, u.data(), v.data(), 9));
  EXPECT(same(tl::euclidean(u, v), r) && r > 0);
  // errors: the binding's size checks and C's statuses
  EXPECT_THROW(tl::kl_divergence(p, u), tl::ShapeError,
               "tl::kl_divergence: the second array has 9");
  EXPECT_THROW(tl::entropy(std::vector<double>{}), tl::InvalidArgument,
               "tl::entropy: n is 0");
  const std::vector<double> neg = {0.5, -0.1, 0.6};
  EXPECT_THROW(tl::entropy(neg), tl::InvalidArgument, "tl_entropy");
  EXPECT_THROW(tl::entropy(p, 1.0), tl::InvalidArgument, "base");
  const std::vector<double> nan = {0.5, NAN, 0.6};
  EXPECT_THROW(tl::entropy(nan), tl::NumericError, "tl_entropy");
  const std::vector<double> z = {0, 0, 0};
  EXPECT_THROW(tl::cosine_similarity(z, neg), tl::InvalidArgument,
               "tl_cosine_similarity");
  EXPECT_THROW(
      tl::euclidean(std::vector<double>{1e308}, std::vector<double>{-1e308}),
      tl::NumericError, "overflows");
}

static void transport() {
  const auto u = data(11, 0.2), v = data(6, 2.0);
  const auto wu = data(11, 0.5, true), wv = data(6, 0.7, true);
  double r = 0;
  C_OK(tl_wasserstein_1d(&r, u.data(), 11, nullptr, v.data(), 6, nullptr, 1.0));
  EXPECT(same(tl::wasserstein_1d(u, v), r));
  C_OK(tl_wasserstein_1d(&r, u.data(), 11, wu.data(), v.data(), 6, wv.data(),
                         2.0));
  EXPECT(same(tl::wasserstein_1d(u, v, 2.0, wu, wv), r));
  const std::vector<double> x = {-1, 0, 0.5, 2, 3};
  const auto a = data(5, 0.1, true), b = data(5, 1.1, true);
  C_OK(tl_wasserstein_1d_hist(&r, x.data(), a.data(), b.data(), 5, 1.5));
  EXPECT(same(tl::wasserstein_1d_hist(x, a, b, 1.5), r));
  // point clouds, d = 3
  const size_t d = 3;
  const auto X = data(8 * d, 0.4), Y = data(5 * d, 1.7);
  tl_sliced_options so = TL_SLICED_OPTIONS_INIT;
  so.n_projections = 20;
  so.seed = 3;
  tl::SlicedOptions cso;
  EXPECT(cso.n_projections == 50 && cso.p == 2.0 && cso.seed == 0);
  cso.n_projections = 20;
  cso.seed = 3;
  C_OK(tl_sliced_wasserstein(&r, X.data(), 8, nullptr, Y.data(), 5, nullptr, d,
                             &so));
  EXPECT(same(tl::sliced_wasserstein(X, Y, d, cso), r));
  std::vector<double> dirs(4 * d);
  C_OK(tl_sliced_directions(dirs.data(), 4, d, 9));
  EXPECT(same_bits(tl::sliced_directions(4, d, 9), dirs));
  const auto wx = data(8, 0.3, true);
  C_OK(tl_sliced_wasserstein_projected(&r, X.data(), 8, wx.data(), Y.data(), 5,
                                       nullptr, d, dirs.data(), 4, 1.0));
  EXPECT(same(tl::sliced_wasserstein_projected(X, Y, d, dirs, 1.0, wx), r));
  // Sinkhorn on the 8 x 5 squared-distance matrix
  std::vector<double> M(8 * 5);
  for (size_t i = 0; i < 8; i++)
    for (size_t j = 0; j < 5; j++)
      for (size_t k = 0; k < d; k++)
        M[i * 5 + j] +=
            (X[i * d + k] - Y[j * d + k]) * (X[i * d + k] - Y[j * d + k]);
  tl_sinkhorn_options sk = TL_SINKHORN_OPTIONS_INIT;
  tl::SinkhornOptions csk;
  EXPECT(csk.max_iter == 1000 && csk.tol == 1e-9);
  std::vector<double> plan(40);
  size_t it = 0;
  int conv = 0;
  C_OK(tl_sinkhorn(&r, plan.data(), &it, &conv, wx.data(), 8, nullptr, 5,
                   M.data(), 0.5, &sk));
  const tl::SinkhornResult s = tl::sinkhorn(M, 8, 5, 0.5, csk, wx);
  EXPECT(same(s.cost, r) && same_bits(s.plan, plan) && s.iterations == it &&
         s.converged == (conv != 0) && s.converged);
  // MMD, median heuristic and given sigma, biased and not
  tl_mmd_options mo = TL_MMD_OPTIONS_INIT;
  tl::MmdOptions cmo;
  EXPECT(cmo.sigma == 0.0 && cmo.unbiased == 0);
  double sigma = 0;
  C_OK(tl_mmd2(&r, &sigma, X.data(), 8, Y.data(), 5, d, &mo));
  tl::MmdResult mm = tl::mmd2(X, Y, d, cmo);
  EXPECT(same(mm.mmd2, r) && same(mm.sigma, sigma) && sigma > 0);
  mo.sigma = cmo.sigma = 0.7;
  mo.unbiased = cmo.unbiased = 1;
  C_OK(tl_mmd2(&r, &sigma, X.data(), 8, Y.data(), 5, d, &mo));
  mm = tl::mmd2(X, Y, d, cmo);
  EXPECT(same(mm.mmd2, r) && mm.sigma == 0.7);
  // errors
  EXPECT_THROW(tl::sliced_wasserstein(X, data(7, 0.0), d), tl::ShapeError,
               "y has 7 elements, not a multiple of d = 3");
  EXPECT_THROW(tl::sliced_wasserstein(X, Y, 0), tl::InvalidArgument, "d is 0");
  EXPECT_THROW(tl::wasserstein_1d(u, v, 1.0, wv), tl::ShapeError,
               "u_weights has 6");
  EXPECT_THROW(tl::wasserstein_1d(u, v, 0.5), tl::InvalidArgument,
               "tl_wasserstein_1d");
  EXPECT_THROW(tl::sinkhorn(M, 8, 4, 0.5), tl::ShapeError, "cost_matrix");
  EXPECT_THROW(tl::sinkhorn(M, 8, 5, -1.0), tl::InvalidArgument, "reg");
  tl::SlicedOptions bad;
  bad.version = 99;
  EXPECT_THROW(tl::sliced_wasserstein(X, Y, d, bad), tl::Unsupported,
               "version");
}

static void domains_and_selection() {
  const size_t d = 4;
  const auto xs = data(12 * d, 0.2), xt = data(10 * d, 2.2);
  double r = 0, err = 0;
  tl_proxy_a_options po = TL_PROXY_A_OPTIONS_INIT;
  tl::ProxyAOptions cpo;
  EXPECT(cpo.train_fraction == 0.8 && cpo.epochs == 200 && cpo.lr == 0.5 &&
         cpo.l2 == 1e-3 && cpo.seed == 0);
  C_OK(tl_proxy_a_distance(&r, &err, xs.data(), 12, xt.data(), 10, d, &po));
  const tl::ProxyAResult pa = tl::proxy_a_distance(xs, xt, d, cpo);
  EXPECT(same(pa.distance, r) && same(pa.error, err));
  C_OK(tl_coral_distance(&r, xs.data(), 12, xt.data(), 10, d));
  EXPECT(same(tl::coral_distance(xs, xt, d), r) && r > 0);
  std::vector<double> al(12 * d);
  C_OK(tl_coral_align(al.data(), xs.data(), 12, xt.data(), 10, d, 1e-3));
  EXPECT(same_bits(tl::coral_align(xs, xt, d, 1e-3), al));
  C_OK(tl_frechet_distance(&r, xs.data(), 12, xt.data(), 10, d));
  EXPECT(same(tl::frechet_distance(xs, xt, d), r));
  const std::vector<double> mu1 = {0, 1}, mu2 = {1, 0}, c1 = {2, 0.5, 0.5, 1},
                            c2 = {1, 0, 0, 3};
  C_OK(tl_frechet_distance_gaussian(&r, mu1.data(), c1.data(), mu2.data(),
                                    c2.data(), 2));
  EXPECT(same(tl::frechet_distance_gaussian(mu1, c1, mu2, c2), r));
  // term distributions and selection features
  const size_t V = 9;
  std::vector<std::int64_t> ids(30);
  for (size_t i = 0; i < ids.size(); i++)
    ids[i] = static_cast<std::int64_t>((i * i + 3 * i) % V);
  std::vector<double> td(V);
  C_OK(tl_term_distribution(td.data(), ids.data(), ids.size(), V, 0.5));
  EXPECT(same_bits(tl::term_distribution(ids, V, 0.5), td));
  const auto target = data(V, 0.6, true);
  std::vector<double> ts(TL_TERM_SIMILARITY_COUNT);
  C_OK(tl_term_similarity(ts.data(), td.data(), target.data(), V, 0.99));
  EXPECT(same_bits(tl::term_similarity(td, target), ts));
  const std::vector<size_t> offsets = {0, 7, 15, 22, 30};
  const auto wv = data(V * 3, 0.8);
  tl_selection_options se = TL_SELECTION_OPTIONS_INIT;
  se.smoothing = 0.1;
  tl::SelectionOptions cse;
  EXPECT(cse.renyi_alpha == 0.99 && cse.smoothing == 0.0);
  cse.smoothing = 0.1;
  std::vector<double> feats(4 * TL_SELECTION_FEATURE_COUNT);
  C_OK(tl_selection_features(feats.data(), ids.data(), offsets.data(), 4, V,
                             target.data(), wv.data(), 3, &se));
  EXPECT(same_bits(tl::selection_features(ids, offsets, target, cse, wv, 3),
                   feats));
  C_OK(tl_selection_features(feats.data(), ids.data(), offsets.data(), 4, V,
                             target.data(), nullptr, 0, &se));
  EXPECT(same_bits(tl::selection_features(ids, offsets, target, cse), feats));
  const auto theta = data(TL_SELECTION_FEATURE_COUNT, 0.1);
  std::vector<size_t> top(2);
  std::vector<double> scores(4);
  C_OK(tl_select_top(top.data(), scores.data(), feats.data(), 4,
                     TL_SELECTION_FEATURE_COUNT, theta.data(), 2));
  const tl::Selection sel = tl::select_top(feats, theta, 2);
  EXPECT(sel.indices == top && same_bits(sel.scores, scores));
  EXPECT_THROW(
      tl::selection_features(ids, std::vector<size_t>{0, 7, 31}, target),
      tl::ShapeError, "offsets end past ids' 30");
  EXPECT_THROW(tl::selection_features(ids, offsets, target, cse, wv, 2),
               tl::ShapeError, "word_vectors has 27");
  EXPECT_THROW(tl::term_distribution(std::vector<std::int64_t>{1, 9}, V),
               tl::InvalidArgument, "tl_term_distribution");
  EXPECT_THROW(tl::select_top(feats, theta, 5), tl::InvalidArgument,
               "tl_select_top");
}

static void pca_and_alignment() {
  const size_t d = 4, n = 10;
  const auto x = data(n * d, 0.3), y = data(6 * d, 1.9);
  std::vector<double> mean(d), comp(2 * d), var(2), ratio(2);
  C_OK(tl_pca_fit(mean.data(), comp.data(), var.data(), ratio.data(), x.data(),
                  n, d, 2));
  const tl::Pca p = tl::pca_fit(x, d, 2);
  EXPECT(same_bits(p.mean, mean) && same_bits(p.components, comp) &&
         same_bits(p.variance, var) && same_bits(p.variance_ratio, ratio));
  std::vector<double> proj(6 * 2);
  C_OK(tl_pca_transform(proj.data(), y.data(), 6, d, mean.data(), comp.data(),
                        2));
  EXPECT(same_bits(tl::pca_transform(p, y), proj));
  tl_pca_select_options ps = TL_PCA_SELECT_OPTIONS_INIT;
  ps.criterion = TL_PCA_SELECT_MEAN_DISTANCE;
  ps.fit = TL_PCA_SELECT_FIT_BOTH;
  tl::PcaSelectOptions cps;
  EXPECT(cps.n_components == 0 && cps.criterion == TL_PCA_SELECT_CENTROID &&
         cps.fit == TL_PCA_SELECT_FIT_TARGET);
  cps.criterion = TL_PCA_SELECT_MEAN_DISTANCE;
  cps.fit = TL_PCA_SELECT_FIT_BOTH;
  std::vector<size_t> idx(3);
  std::vector<double> dist(3);
  C_OK(tl_pca_select(idx.data(), dist.data(), x.data(), n, y.data(), 6, d, 3,
                     &ps));
  const tl::Selection s = tl::pca_select(x, y, d, 3, cps);
  EXPECT(s.indices == idx && same_bits(s.scores, dist));
  // Procrustes on n pairs, CSLS and precision@k
  const auto xa = data(n * d, 0.5), ya = data(n * d, 0.9);
  std::vector<double> w(d * d);
  C_OK(tl_procrustes(w.data(), xa.data(), ya.data(), n, d));
  EXPECT(same_bits(tl::procrustes(xa, ya, d), w));
  tl_csls_options co = TL_CSLS_OPTIONS_INIT;
  co.knn = 3;
  co.top = 2;
  tl::CslsOptions cco;
  EXPECT(cco.knn == 10 && cco.top == 1);
  cco.knn = 3;
  cco.top = 2;
  std::vector<size_t> ri(n * 2);
  std::vector<double> rs(n * 2);
  C_OK(tl_csls_retrieve(ri.data(), rs.data(), xa.data(), n, ya.data(), n, d,
                        &co));
  const tl::Selection cs = tl::csls_retrieve(xa, ya, d, cco);
  EXPECT(cs.indices == ri && same_bits(cs.scores, rs));
  const std::vector<size_t> gs = {0, 1, 2, 2, 5}, gt = {ri[0], 4, ri[5], 1, 9};
  double r = 0;
  C_OK(tl_precision_at_k(&r, ri.data(), n, 2, 2, gs.data(), gt.data(), 5));
  EXPECT(same(tl::precision_at_k(cs.indices, 2, 2, gs, gt), r) && r > 0);
  EXPECT_THROW(tl::precision_at_k(cs.indices, 2, 2, gs, ri), tl::ShapeError,
               "gold_tgt has 20");
  EXPECT_THROW(tl::pca_fit(x, d, 5), tl::InvalidArgument, "tl_pca_fit");
  EXPECT_THROW(tl::procrustes(xa, y, d), tl::ShapeError, "y has 24");
  cco.knn = 11;
  EXPECT_THROW(tl::csls_retrieve(xa, ya, d, cco), tl::InvalidArgument, "knn");
  tl::Pca broken = p;
  broken.components.pop_back();
  EXPECT_THROW(tl::pca_transform(broken, y), tl::ShapeError,
               "pca.components has 7");
}

int main() {
  distributions();
  transport();
  domains_and_selection();
  pca_and_alignment();
  return report();
}
