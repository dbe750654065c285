"""tl.metrics Part 2: proxy A-distance, CORAL, Frechet, data selection, PCA,
Procrustes, CSLS. References are plain numpy; scipy/sklearn cross-checks are
extra and skipped when those packages are missing."""
import numpy as np
import pytest

import tl
import tl.metrics as m


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _sym_sqrt(c):
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def test_coral_distance_is_the_deep_coral_loss(rng):
    xs, xt = rng.normal(size=(40, 5)), rng.normal(size=(30, 5)) * 2
    d = 5
    want = np.sum((np.cov(xs, rowvar=False) - np.cov(xt, rowvar=False)) ** 2) / (4 * d * d)
    assert m.coral_distance(xs, xt) == pytest.approx(want, rel=1e-12)
    assert isinstance(m.coral_distance(xs, xt), float)


def test_coral_align_recolours_to_the_target_covariance(rng):
    xs = rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4))
    xt = rng.normal(size=(60, 4)) @ rng.normal(size=(4, 4))
    out = m.coral_align(xs, xt, lam=0.0)
    np.testing.assert_allclose(np.cov(out, rowvar=False), np.cov(xt, rowvar=False),
                               rtol=1e-9, atol=1e-10)
    cs = np.cov(xs, rowvar=False) + np.eye(4)
    ct = np.cov(xt, rowvar=False) + np.eye(4)
    want = xs @ np.linalg.inv(_sym_sqrt(cs)) @ _sym_sqrt(ct)
    np.testing.assert_allclose(m.coral_align(xs, xt), want, rtol=1e-10, atol=1e-12)


def test_coral_align_matches_scipy_sqrtm(rng):
    linalg = pytest.importorskip("scipy.linalg")
    xs, xt = rng.normal(size=(20, 3)) + 2, rng.normal(size=(25, 3)) * 3
    cs = np.cov(xs, rowvar=False) + 1e-5 * np.eye(3)
    ct = np.cov(xt, rowvar=False) + 1e-5 * np.eye(3)
    want = xs @ np.real(linalg.inv(linalg.sqrtm(cs))) @ np.real(linalg.sqrtm(ct))
    np.testing.assert_allclose(m.coral_align(xs, xt, lam=1e-5), want, rtol=1e-9)


def test_coral_singular_source_raises_numeric_error(rng):
    xs = rng.normal(size=(10, 3))
    xs[:, 2] = xs[:, 0]
    with pytest.raises(tl.NumericError, match="singular"):
        m.coral_align(xs, rng.normal(size=(10, 3)), lam=0.0)
    assert np.all(np.isfinite(m.coral_align(xs, rng.normal(size=(10, 3)), lam=1e-5)))


def test_frechet_distance_matches_the_fid_formula(rng):
    x1 = rng.normal(size=(40, 4)) @ rng.normal(size=(4, 4))
    x2 = rng.normal(size=(50, 4)) + 1
    mu1, mu2 = x1.mean(0), x2.mean(0)
    c1, c2 = np.cov(x1, rowvar=False), np.cov(x2, rowvar=False)
    r = _sym_sqrt(c1)
    want = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * _sym_sqrt(r @ c2 @ r))
    assert m.frechet_distance(x1, x2) == pytest.approx(want, rel=1e-10)
    assert m.frechet_distance_gaussian(mu1, c1, mu2, c2) == pytest.approx(want, rel=1e-10)
    assert m.frechet_distance(x1, x1) == pytest.approx(0.0, abs=1e-10)


def test_frechet_distance_matches_scipy(rng):
    linalg = pytest.importorskip("scipy.linalg")
    x1, x2 = rng.normal(size=(30, 3)), rng.normal(size=(30, 3)) * 2
    c1, c2 = np.cov(x1, rowvar=False), np.cov(x2, rowvar=False)
    want = (np.sum((x1.mean(0) - x2.mean(0)) ** 2)
            + np.trace(c1 + c2 - 2 * np.real(linalg.sqrtm(c1 @ c2))))
    assert m.frechet_distance(x1, x2) == pytest.approx(want, rel=1e-10)


def test_term_distribution_counts_and_smooths():
    ids = [0, 2, 2, 3]
    np.testing.assert_allclose(m.term_distribution(ids, 5), [.25, 0, .5, .25, 0])
    np.testing.assert_allclose(m.term_distribution(ids, 5, smoothing=1.0),
                               (np.array([1, 0, 2, 1, 0]) + 1) / 9)
    with pytest.raises(tl.InvalidArgumentError, match=r"ids\[1\] = 5"):
        m.term_distribution([0, 5], 5)
    with pytest.raises(tl.InvalidArgumentError, match="integers"):
        m.term_distribution([0.5, 1.0], 5)


def test_term_similarity_matches_numpy(rng):
    p, q = rng.random(6), rng.random(6)
    pn, qn = p / p.sum(), q / q.sum()
    mid = (pn + qn) / 2
    js = 0.5 * (np.sum(pn * np.log(pn / mid)) + np.sum(qn * np.log(qn / mid)))
    renyi = np.log(np.sum(pn ** .99 * qn ** .01)) / (.99 - 1)
    cos = pn @ qn / np.linalg.norm(pn) / np.linalg.norm(qn)
    want = [js, renyi, cos, np.linalg.norm(pn - qn), np.abs(pn - qn).sum(),
            -np.log(np.sum(np.sqrt(pn * qn)))]
    np.testing.assert_allclose(m.term_similarity(p, q), want, rtol=1e-10)
    spatial = pytest.importorskip("scipy.spatial.distance")
    assert m.term_similarity(p, q)[0] == pytest.approx(spatial.jensenshannon(p, q) ** 2,
                                                       rel=1e-10)


def test_selection_features_follow_ruder_and_plank():
    examples = [[0, 1, 1], [2, 3, 3, 3]]
    target = np.array([.1, .2, .3, .4])
    f = m.selection_features(examples, 4, target)
    assert f.shape == (2, len(m.FEATURE_NAMES))
    col = {name: i for i, name in enumerate(m.FEATURE_NAMES)}
    P = np.array([1, 2, 1, 3]) / 7  # all examples together
    np.testing.assert_allclose(f[:, col["num_types"]], [2, 2])
    np.testing.assert_allclose(f[:, col["type_token_ratio"]], [2 / 3, 2 / 4])
    np.testing.assert_allclose(f[0, col["entropy"]], -(P[0] * np.log(P[0]) + P[1] * np.log(P[1])))
    np.testing.assert_allclose(f[1, col["simpson"]], P[2] ** 2 + P[3] ** 2)
    np.testing.assert_allclose(f[1, col["renyi_entropy"]],
                               np.log(P[2] ** .99 + P[3] ** .99) / (1 - .99))
    np.testing.assert_allclose(f[:, col["quadratic_entropy"]], 0.0)
    np.testing.assert_allclose(f[0, :6], m.term_similarity([1, 2, 0, 0], target), rtol=1e-12)
    vectors = np.eye(4)  # orthogonal: only the diagonal pairs count
    g = m.selection_features(examples, 4, target, word_vectors=vectors)
    np.testing.assert_allclose(g[0, col["quadratic_entropy"]], P[0] ** 2 + P[1] ** 2)
    with pytest.raises(tl.InvalidArgumentError, match="example 1 is empty"):
        m.selection_features([[0], []], 4, target)


def test_select_top_breaks_ties_by_lower_index():
    features = np.array([[1.0], [3.0], [1.0], [3.0], [2.0]])
    idx, scores = m.select_top(features, [2.0], 4)
    assert idx.tolist() == [1, 3, 4, 0]
    np.testing.assert_allclose(scores, [2, 6, 2, 6, 4])
    with pytest.raises(tl.InvalidArgumentError, match="k must"):
        m.select_top(features, [1.0], 0)
    with pytest.raises(tl.NumericError, match="features"):
        m.select_top([[np.inf]], [1.0], 1)


def test_pca_fit_matches_numpy_svd(rng):
    x = rng.normal(size=(40, 5)) @ rng.normal(size=(5, 5))
    mean, comps, var, ratio = m.pca_fit(x, 3, return_ratio=True)
    u, s, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    signs = np.sign(vt[np.arange(5), np.argmax(np.abs(vt), axis=1)])
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(comps, (vt * signs[:, None])[:3], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(var, s[:3] ** 2 / 39, rtol=1e-10)
    np.testing.assert_allclose(ratio, s[:3] ** 2 / np.sum(s ** 2), rtol=1e-10)
    np.testing.assert_allclose(m.pca_transform(x, mean, comps), (x - mean) @ comps.T,
                               rtol=1e-10, atol=1e-12)


def test_pca_fit_agrees_with_sklearn_up_to_sign(rng):
    decomposition = pytest.importorskip("sklearn.decomposition")
    x = rng.normal(size=(30, 4)) @ rng.normal(size=(4, 4))
    ref = decomposition.PCA(n_components=2, svd_solver="full").fit(x)
    mean, comps, var = m.pca_fit(x, 2)
    np.testing.assert_allclose(var, ref.explained_variance_, rtol=1e-10)
    # sklearn < 1.5 fixes signs from U, >= 1.5 (and libtl) from the components.
    signs = np.sign(np.sum(comps * ref.components_, axis=1))
    np.testing.assert_allclose(comps, ref.components_ * signs[:, None], rtol=1e-9, atol=1e-12)


def test_pca_select_picks_the_rows_near_the_target(rng):
    xt = rng.normal(size=(30, 3)) + 5
    xs = np.vstack([rng.normal(size=(20, 3)) - 5, rng.normal(size=(5, 3)) * 0.1 + 5])
    idx, dist = m.pca_select(xs, xt, 5)
    assert sorted(idx.tolist()) == [20, 21, 22, 23, 24]
    assert np.all(np.diff(dist) >= 0)
    idx2, _ = m.pca_select(xs, xt, 5, n_components=2, criterion="mean_distance", fit="both")
    assert sorted(idx2.tolist()) == [20, 21, 22, 23, 24]
    with pytest.raises(tl.InvalidArgumentError, match="k must"):
        m.pca_select(xs, xt, 26)


def test_procrustes_recovers_a_planted_rotation(rng):
    x = rng.normal(size=(100, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    w = m.procrustes(x, x @ q.T)
    np.testing.assert_allclose(w.T @ w, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(w, q, atol=1e-12)
    np.testing.assert_allclose(x @ w.T, x @ q.T, atol=1e-11)


def test_csls_matches_a_dense_numpy_reference(rng):
    xq, y = rng.normal(size=(40, 5)), rng.normal(size=(35, 5))
    k, top = 4, 3
    qn = xq / np.linalg.norm(xq, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    sim = qn @ yn.T
    rt = np.sort(sim, axis=1)[:, -k:].mean(1)
    rs = np.sort(sim, axis=0)[-k:, :].mean(0)
    scores = 2 * sim - rt[:, None] - rs[None, :]
    want = np.argsort(-scores, axis=1, kind="stable")[:, :top]
    idx, got = m.csls_retrieve(xq, y, k=k, top=top)
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(got, np.take_along_axis(scores, want, 1), rtol=1e-12, atol=1e-12)
    with pytest.raises(tl.InvalidArgumentError, match="knn"):
        m.csls_retrieve(xq, y, k=36)


def test_precision_at_k_over_distinct_source_words():
    retrieved = np.array([[5, 1], [7, 8], [3, 4]])
    assert m.precision_at_k(retrieved, [0, 0, 1, 2], [1, 2, 8, 3], k=1) == pytest.approx(1 / 3)
    assert m.precision_at_k(retrieved, [0, 0, 1, 2], [1, 2, 8, 3], k=2) == pytest.approx(1.0)
    with pytest.raises(tl.InvalidArgumentError, match="gold_src"):
        m.precision_at_k(retrieved, [3], [1])
    with pytest.raises(tl.InvalidArgumentError, match="negative"):
        m.precision_at_k(retrieved, [-1], [1])


def test_proxy_a_distance_separable_and_reproducible(rng):
    xs = rng.normal(size=(50, 3)) + [6, 0, 0]
    xt = rng.normal(size=(50, 3))
    dist, err = m.proxy_a_distance(xs, xt, return_error=True)
    assert (dist, err) == (2.0, 0.0)
    same = rng.normal(size=(60, 3))
    a = m.proxy_a_distance(same, same, seed=3)
    assert a == m.proxy_a_distance(same, same, seed=3)
    assert a < 1.0


@pytest.mark.parametrize("call, exc, word", [
    (lambda: m.coral_distance(np.ones((4, 2)), np.ones((4, 3))), tl.ShapeError, "columns"),
    (lambda: m.coral_align(np.eye(3), np.eye(3), lam=-1), tl.InvalidArgumentError, "lambda"),
    (lambda: m.coral_distance(np.zeros((0, 2)), np.ones((4, 2))), tl.InvalidArgumentError, "xs"),
    (lambda: m.frechet_distance(np.full((3, 2), np.nan), np.ones((3, 2))), tl.NumericError, "x1"),
    (lambda: m.pca_fit(np.ones((5, 3)), 0), tl.InvalidArgumentError, "k must"),
    (lambda: m.pca_fit(np.ones((5, 3)), 4), tl.InvalidArgumentError, "k must"),
    (lambda: m.pca_fit(np.ones((5, 3)), -1), tl.InvalidArgumentError, "k must be >= 0"),
    (lambda: m.procrustes(np.ones((4, 2)), np.ones((5, 2))), tl.ShapeError, "shape"),
    (lambda: m.pca_select(np.ones((4, 2)), np.ones((4, 2)), 1, criterion="x"),
     tl.InvalidArgumentError, "criterion"),
    (lambda: m.proxy_a_distance(np.ones((4, 2)), np.ones((4, 2)), train_fraction=1.5),
     tl.InvalidArgumentError, "train_fraction"),
    (lambda: m.term_similarity([1, 2], [1, 2], alpha=1.0), tl.InvalidArgumentError, "alpha"),
    (lambda: m.selection_features([[0]], 2, [1, 1], renyi_alpha=1.0),
     tl.InvalidArgumentError, "renyi_alpha"),
])
def test_bad_input_raises_with_the_message(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_csls_across_several_query_blocks(rng):
    # libtl scores queries in blocks of 256: 600 queries cross two borders.
    xq, y = rng.normal(size=(600, 8)), rng.normal(size=(300, 8))
    qn = xq / np.linalg.norm(xq, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    sim = qn @ yn.T
    rt = np.sort(sim, axis=1)[:, -10:].mean(1)
    rs = np.sort(sim, axis=0)[-10:, :].mean(0)
    scores = 2 * sim - rt[:, None] - rs[None, :]
    want = np.argsort(-scores, axis=1, kind="stable")[:, :5]
    idx, got = m.csls_retrieve(xq, y, top=5)
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(got, np.take_along_axis(scores, want, 1), rtol=1e-12, atol=1e-12)


def test_pca_fit_on_wide_data(rng):
    x = rng.normal(size=(6, 10))  # n < d: at most n - 1 informative components
    mean, comps, var = m.pca_fit(x, 4)
    u, s, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    signs = np.sign(vt[np.arange(6), np.argmax(np.abs(vt), axis=1)])
    np.testing.assert_allclose(comps, (vt * signs[:, None])[:4], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(var, s[:4] ** 2 / 5, rtol=1e-10)


@pytest.mark.parametrize("cov1, cov2, word", [
    (-np.eye(2), np.eye(2), "'cov1' is not positive semi-definite"),
    (np.eye(2), np.diag([4.0, -1.0]), "'cov2' is not positive semi-definite"),
    (np.array([[2.0, 0.3], [0.1, 1.0]]), np.eye(2), "'cov1' is not symmetric"),
])
def test_frechet_gaussian_refuses_invalid_covariances(cov1, cov2, word):
    with pytest.raises(tl.InvalidArgumentError, match=word):
        m.frechet_distance_gaussian(np.zeros(2), cov1, np.zeros(2), cov2)


def test_frechet_gaussian_accepts_rank_deficient_sample_covariances(rng):
    # FID with fewer samples than dimensions: np.cov is PSD up to rounding.
    for n, d in ((3, 8), (10, 64), (40, 64)):
        c1 = np.cov(rng.normal(size=(n, d)), rowvar=False)
        c2 = np.cov(rng.normal(size=(n, d)) * 3, rowvar=False)
        mu = np.zeros(d)
        got = m.frechet_distance_gaussian(mu, c1, mu, c2)
        s1 = _sym_sqrt(c1)
        want = np.trace(c1 + c2) - 2 * np.sum(
            np.sqrt(np.clip(np.linalg.eigvalsh(s1 @ c2 @ s1), 0, None)))
        assert got == pytest.approx(want, rel=1e-8, abs=1e-8)


def test_proxy_a_distance_needs_two_rows_per_domain_and_split(rng):
    xs, xt = rng.normal(size=(10, 2)), rng.normal(size=(10, 2)) + 5
    with pytest.raises(ValueError, match="each must be >= 2"):
        m.proxy_a_distance(xs, xt, train_fraction=0.1)  # 1 training row each
    with pytest.raises(ValueError, match="held-out parts of 1 and 2"):
        m.proxy_a_distance(xs[:5], xt, train_fraction=0.8)
    assert m.proxy_a_distance(xs[:6], xt[:6]) == 2.0  # 4 + 2 rows each


def test_nan_input_raises_value_error(rng):
    x = rng.normal(size=(6, 3))
    bad = x.copy()
    bad[2, 1] = np.nan
    for call in (lambda: m.coral_distance(bad, x),
                 lambda: m.frechet_distance(x, bad),
                 lambda: m.proxy_a_distance(bad, x),
                 lambda: m.procrustes(bad, x),
                 lambda: m.pca_fit(bad, 2)):
        with pytest.raises(ValueError, match="non-finite"):
            call()
