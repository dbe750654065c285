"""tl.TaskSampler and the multi-task / self-labelling helpers (tl/transfer.h)
against numpy computations of the same formulas, and on bad input."""
import numpy as np
import pytest

import tl

SIZES = [100, 1000, 10, 5000]


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("mode,tau,weights", [
    ("uniform", 1.0, np.ones(4)),
    ("proportional", 1.0, np.array(SIZES, float)),
    ("inverse", 1.0, 1 / np.array(SIZES, float)),
    ("temperature", 2.0, np.array(SIZES, float) ** 0.5),
    ("temperature", 0.5, np.array(SIZES, float) ** 2.0),
])
def test_sampler_probs(mode, tau, weights):
    s = tl.TaskSampler(SIZES, mode=mode, tau=tau)
    np.testing.assert_allclose(s.probs(), weights / weights.sum(), rtol=1e-14)


def test_sampler_annealed_and_seeded():
    s = tl.TaskSampler(SIZES, mode="annealed", tau=1.0, tau_end=5.0, anneal_steps=100, seed=3)
    draws = [s.sample() for _ in range(50)]
    assert s.num_draws == 50
    w = np.array(SIZES, float) ** (1.0 + (0.2 - 1.0) * 0.5)
    np.testing.assert_allclose(s.probs(), w / w.sum(), rtol=1e-13)
    again = tl.TaskSampler(SIZES, mode="annealed", tau=1.0, tau_end=5.0, anneal_steps=100,
                           seed=3)
    assert [again.sample() for _ in range(50)] == draws
    counts = np.bincount([s.sample() for _ in range(20000)], minlength=4)
    p = (np.array(SIZES, float) ** 0.2) / (np.array(SIZES, float) ** 0.2).sum()
    assert np.all(np.abs(counts - 20000 * p) < 5 * np.sqrt(20000 * p * (1 - p)) + 1)


def test_sampler_bad_input():
    with pytest.raises(tl.InvalidArgumentError, match="task 1"):
        tl.TaskSampler([5, 0])
    with pytest.raises(tl.InvalidArgumentError, match="tau"):
        tl.TaskSampler(SIZES, mode="temperature", tau=0.0)
    with pytest.raises(tl.InvalidArgumentError, match="mode"):
        tl.TaskSampler(SIZES, mode="softmax")
    with pytest.raises(tl.InvalidArgumentError):
        tl.TaskSampler([])
    with pytest.raises(tl.InvalidArgumentError):
        tl.TaskSampler([3, -1])


def test_uncertainty_weighting():
    losses = np.array([0.5, 2.0, 1.3])
    s = np.array([0.1, -0.7, 1.2], dtype=np.float32)
    grad = np.zeros(3, dtype=np.float32)
    total, w = tl.uncertainty_weighting(losses, s, grad=grad)
    sd = s.astype(np.float64)
    assert total == pytest.approx(np.sum(np.exp(-sd) * losses + sd), rel=1e-14)
    np.testing.assert_allclose(w, np.exp(-sd), rtol=1e-14)
    np.testing.assert_allclose(grad, 1 - np.exp(-sd) * losses, rtol=1e-6)
    with pytest.raises(tl.NumericError):
        tl.uncertainty_weighting([1.0, np.nan, 1.0], s)
    with pytest.raises(tl.ShapeError):
        tl.uncertainty_weighting([1.0], s)


def test_dwa():
    prev, prev2 = np.array([1.0, 0.8, 2.0]), np.array([1.2, 0.9, 1.5])
    r = prev / prev2
    np.testing.assert_allclose(tl.dwa_weights(prev, prev2, 2.0), 3 * _softmax(r / 2.0),
                               rtol=1e-14)
    np.testing.assert_array_equal(tl.dwa_weights(n=3), np.ones(3))
    with pytest.raises(tl.InvalidArgumentError):
        tl.dwa_weights(prev, prev2, 0.0)


def test_soft_share():
    a, b = tl.Model(seed=1), tl.Model(seed=2)
    for m in (a, b):
        m.add_linear("fc", 3, 4)
    a.zero_grad()
    b.zero_grad()
    wa, wb = a.param("fc.weight").copy(), b.param("fc.weight").copy()
    pen = tl.soft_share_l2(a, ["fc.weight"], b, ["fc.weight"], 0.3)
    d = wa.astype(np.float64) - wb.astype(np.float64)
    assert pen == pytest.approx(0.3 * np.sum(d * d), rel=1e-12)
    np.testing.assert_allclose(a.grad_view("fc.weight"), 0.6 * d, rtol=1e-6)
    np.testing.assert_allclose(b.grad_view("fc.weight"), -0.6 * d, rtol=1e-6)
    with pytest.raises(tl.NotFoundError, match="nope"):
        tl.soft_share_l2(a, ["nope"], b, ["fc.weight"], 0.3)


def test_distill_matches_formula():
    rng = np.random.default_rng(0)
    zs = rng.standard_normal((6, 4)).astype(np.float32)
    t1 = (rng.standard_normal((6, 4)) * 2).astype(np.float32)
    t2 = (rng.standard_normal((6, 4)) * 2).astype(np.float32)
    T = 3.0
    loss, grad = tl.distill_loss(zs, [t1, t2], weights=[1.0, 3.0], temperature=T)
    p = 0.25 * _softmax(t1.astype(np.float64) / T) + 0.75 * _softmax(t2.astype(np.float64) / T)
    q = _softmax(zs.astype(np.float64) / T)
    assert loss == pytest.approx(T * T * np.mean(-np.sum(p * np.log(q), 1)), rel=1e-12)
    np.testing.assert_allclose(grad, T * (q - p) / 6, rtol=1e-5, atol=1e-8)
    with pytest.raises(tl.ShapeError):
        tl.distill_loss(zs, [t1[:5]])
    with pytest.raises(tl.InvalidArgumentError):
        tl.distill_loss(zs, [])


def test_pseudo_labels():
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.05, 0.05, 0.9],
                      [0.4, 0.35, 0.25], [0.1, 0.85, 0.05]])
    sel, lab = tl.pseudo_label_select(probs, threshold=0.75)
    np.testing.assert_array_equal(sel, probs.max(1) > 0.75)
    np.testing.assert_array_equal(lab, probs.argmax(1))
    sel, _ = tl.pseudo_label_select(probs, k=2)
    np.testing.assert_array_equal(np.flatnonzero(sel), [2, 4])
    sel, _ = tl.pseudo_label_select(probs, k=1, per_class=True)
    np.testing.assert_array_equal(np.flatnonzero(sel), [0, 2, 4])
    with pytest.raises(tl.InvalidArgumentError, match="row 0"):
        tl.pseudo_label_select([[0.5, 0.6]])
    with pytest.raises(tl.InvalidArgumentError, match="threshold"):
        tl.pseudo_label_select(probs, threshold=2.0)


def test_tri_training_agreement():
    # Models 1 and 2 agree everywhere and are always right on the labelled
    # rows (e_0 = 0 < 0.5): every unlabelled row joins model 0's set with
    # their label; models 0 and 2 (or 0 and 1) disagree on labelled rows
    # where model 0 is wrong, so those pairs' error is 0 as well.
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    right = y.copy()
    u1 = np.array([2, 2, 1, 0, 0])
    tri = tl.TriTraining()
    join, lab, upd = tri.round([right, right, right], y, [u1, u1, u1])
    assert upd.all()
    assert join.all()
    np.testing.assert_array_equal(lab, np.stack([u1] * 3))
    # Same predictions again: e_i is not below e'_i any more, nothing joins.
    join, lab, upd = tri.round([right, right, right], y, [u1, u1, u1])
    assert not upd.any() and not join.any() and (lab == -1).all()
    dis = tl.TriTraining(disagreement=True)
    join, _, _ = dis.round([right, right, right], y, [u1, u1, u1])
    assert not join.any()  # model i never disagrees with the other two
    with pytest.raises(tl.ShapeError):
        tri.round([right, right], y, [u1, u1, u1])


def _js(p, q):
    m = (p + q) / 2
    return 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))


def test_source_weights_from_js_divergence():
    rng = np.random.default_rng(4)
    target = rng.dirichlet(np.ones(10))
    sources = [0.8 * target + 0.2 * rng.dirichlet(np.ones(10)), rng.dirichlet(np.ones(10))]
    d = np.array([tl.metrics.js_divergence(s, target) for s in sources])
    np.testing.assert_allclose(d, [_js(s, target) for s in sources], rtol=1e-12)
    np.testing.assert_allclose(tl.source_weights(d, temperature=0.1),
                               _softmax(-d / 0.1), rtol=1e-14)
    np.testing.assert_allclose(tl.source_weights(d, mode="inverse"),
                               (1 / d) / np.sum(1 / d), rtol=1e-14)
    b = np.log(2)
    np.testing.assert_allclose(tl.source_weights(d, mode="linear", bound=b),
                               (b - d) / np.sum(b - d), rtol=1e-14)
    np.testing.assert_array_equal(tl.source_weights([0.0, 0.3, 0.0], mode="inverse"),
                                  [0.5, 0.0, 0.5])
    with pytest.raises(tl.InvalidArgumentError, match="bound"):
        tl.source_weights(d, mode="linear")
    with pytest.raises(tl.InvalidArgumentError, match="divergences\\[1\\]"):
        tl.source_weights([0.1, np.nan])
    with pytest.raises(tl.InvalidArgumentError, match="mode"):
        tl.source_weights(d, mode="max")
    with pytest.raises(tl.InvalidArgumentError, match="temperature"):
        tl.source_weights(d, temperature=-1.0)


def test_ensemble_average():
    rng = np.random.default_rng(5)
    probs = [rng.dirichlet(np.ones(3), 4) for _ in range(3)]
    w = np.array([0.2, 0.5, 0.3])
    np.testing.assert_allclose(tl.ensemble_average(probs, weights=w * 10),
                               sum(wk * p for wk, p in zip(w, probs)), rtol=1e-14)
    np.testing.assert_allclose(tl.ensemble_average(probs), sum(probs) / 3, rtol=1e-14)
    with pytest.raises(tl.ShapeError):
        tl.ensemble_average([probs[0], probs[1][:3]])
    with pytest.raises(tl.ShapeError):
        tl.ensemble_average(probs, weights=[1.0, 1.0])
    bad = probs[1].copy()
    bad[2] *= 1.1
    with pytest.raises(tl.InvalidArgumentError, match="model 1 row 2"):
        tl.ensemble_average([probs[0], bad])
    with pytest.raises(tl.InvalidArgumentError):
        tl.ensemble_average([])


def test_mcd_confidence():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((20, 5)).astype(np.float32)
    y = np.arange(20) % 3
    cen = tl.class_centroids(x, y, 3)
    np.testing.assert_allclose(cen, [x[y == k].astype(np.float64).mean(0) for k in range(3)],
                               rtol=1e-12, atol=1e-15)
    h = rng.standard_normal((7, 5)).astype(np.float32)
    hd = h.astype(np.float64)
    cos = (hd @ cen.T) / np.linalg.norm(hd, axis=1)[:, None] / np.linalg.norm(cen, axis=1)
    score, nearest = tl.mcd_confidence(h, cen)
    srt = np.sort(cos, 1)
    np.testing.assert_allclose(score, srt[:, -1] - srt[:, -2], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(nearest, cos.argmax(1))
    score2, _ = tl.mcd_confidence(h, cen[:2])
    np.testing.assert_allclose(score2, np.abs(cos[:, 0] - cos[:, 1]), rtol=1e-12, atol=1e-15)
    with pytest.raises(tl.InvalidArgumentError, match="class 3"):
        tl.class_centroids(x, y, 4)
    with pytest.raises(tl.InvalidArgumentError, match="c is 1"):
        tl.mcd_confidence(h, cen[:1])
    with pytest.raises(tl.ShapeError):
        tl.mcd_confidence(h[:, :4], cen)
    with pytest.raises(tl.ShapeError):
        tl.class_centroids(x, y[:5], 3)


def test_co_training_select():
    rng = np.random.default_rng(7)
    pa = rng.dirichlet(np.ones(3), 15)
    pb = rng.dirichlet(np.ones(3), 15)
    per_class = [2, 1, 1]

    def choose(p):
        join, lab = np.zeros(15, bool), np.full(15, -1)
        pred = p.argmax(1)
        for k in range(3):
            rows = sorted(np.flatnonzero(pred == k), key=lambda i: (-p[i, k], i))
            rows = rows[:per_class[k]]
            join[rows], lab[rows] = True, k
        return join, lab

    join, lab = tl.co_training_select(pa, pb, per_class)
    ja, la = choose(pb)
    jb, lb = choose(pa)
    np.testing.assert_array_equal(join, [ja, jb])
    np.testing.assert_array_equal(lab, [la, lb])
    with pytest.raises(tl.ShapeError):
        tl.co_training_select(pa, pb[:3], per_class)
    with pytest.raises(tl.ShapeError):
        tl.co_training_select(pa, pb, [1, 1])
    with pytest.raises(tl.InvalidArgumentError, match="per_class"):
        tl.co_training_select(pa, pb, [0, 0, 0])
    bad = pb.copy()
    bad[4, 0] += 0.5
    with pytest.raises(tl.InvalidArgumentError, match="model 1 row 4"):
        tl.co_training_select(pa, bad, per_class)
    with pytest.raises(tl.InvalidArgumentError):
        tl.co_training_select(pa, pb, [1, -1, 1])


def test_democratic_co_learning():
    # Three models right on every labelled row (interval [1, 1], weight 1).
    # Unlabelled row 0: models 0 and 1 say 2, model 2 says 1: it joins
    # model 2's set labelled 2 (estimated error 0, so Angluin & Laird's
    # m (1 - 2e/m)^2 grows from 4 to 5). Row 1: all agree. Row 2: no
    # majority. Next round: row 0 is held already, nothing joins.
    y = np.array([0, 1, 2, 0])
    pu = [np.array([2, 1, 0]), np.array([2, 1, 1]), np.array([1, 1, 2])]
    dem = tl.DemocraticCoLearning(3, 4, 3)
    join, lab, upd = dem.round([y, y, y], y, pu)
    want = np.zeros((3, 3), bool)
    want[2, 0] = True
    np.testing.assert_array_equal(join, want)
    np.testing.assert_array_equal(lab, np.where(want, 2, -1))
    np.testing.assert_array_equal(upd, [False, False, True])
    join, lab, upd = dem.round([y, y, y], y, pu)
    assert not join.any() and not upd.any() and (lab == -1).all()
    with pytest.raises(tl.InvalidArgumentError, match="n_models"):
        tl.DemocraticCoLearning(2, 4, 3)
    with pytest.raises(tl.ShapeError):
        dem.round([y, y], y, pu)
    with pytest.raises(tl.ShapeError):
        dem.round([y, y, y], y, [p[:2] for p in pu])
    with pytest.raises(tl.InvalidArgumentError, match="negative"):
        dem.round([y, y, y], y, [pu[0], pu[1], np.array([1, -1, 2])])


def test_soft_share_trace_matches_svd():
    models = [tl.Model(seed=s) for s in (1, 2, 3)]
    for m in models:
        m.add_linear("fc", 3, 4)
        m.zero_grad()
    lam = 0.4
    w = np.stack([m.param("fc.weight").ravel().astype(np.float64) for m in models])
    b = np.stack([m.param("fc.bias").ravel().astype(np.float64) for m in models])
    pen = tl.soft_share_trace(models, ["fc.weight", "fc.bias"], lam)
    want = lam * (np.linalg.svd(w, compute_uv=False).sum() +
                  np.linalg.svd(b, compute_uv=False).sum())
    assert pen == pytest.approx(want, rel=1e-12)
    u, _, vt = np.linalg.svd(w, full_matrices=False)
    g = lam * u @ vt  # d nuclear norm / d W for a full-rank W
    for i, m in enumerate(models):
        np.testing.assert_allclose(m.grad_view("fc.weight").ravel(), g[i], rtol=1e-5,
                                   atol=1e-6)
    # one list per model gives the same
    for m in models:
        m.zero_grad()
    pen2 = tl.soft_share_trace(models, [["fc.weight"]] * 3, lam)
    assert pen2 == pytest.approx(lam * np.linalg.svd(w, compute_uv=False).sum(), rel=1e-12)
    with pytest.raises(tl.NotFoundError, match="nope"):
        tl.soft_share_trace(models, ["nope"], lam)
    with pytest.raises(tl.ShapeError):
        tl.soft_share_trace(models, [["fc.weight"], ["fc.bias"], ["fc.weight"]], lam)
    with pytest.raises(tl.InvalidArgumentError, match="n_models"):
        tl.soft_share_trace(models[:1], ["fc.weight"], lam)
    with pytest.raises(tl.ShapeError):
        tl.soft_share_trace(models, [["fc.weight"], ["fc.weight"]], lam)


def test_gradnorm_formula():
    w = np.array([0.7, 1.1, 1.2], dtype=np.float32)
    norms = np.array([11.5, 16.6, 0.8])
    losses, init = np.array([1.2, 3.0, 0.5]), np.array([2.0, 9.0, 0.4])
    grad = np.zeros(3, dtype=np.float32)
    lgrad, targets = tl.gradnorm(w, norms, losses, init, alpha=1.5, grad=grad)
    G = w.astype(np.float64) * norms
    ratio = losses / init
    want_t = G.mean() * (ratio / ratio.mean()) ** 1.5
    np.testing.assert_allclose(targets, want_t, rtol=1e-14)
    assert lgrad == pytest.approx(np.abs(G - want_t).sum(), rel=1e-14)
    np.testing.assert_allclose(grad, np.sign(G - want_t) * norms, rtol=1e-6)
    w2 = np.array([0.5, 1.0, 2.5], dtype=np.float32)
    tl.gradnorm_rescale(w2)
    np.testing.assert_allclose(w2, [0.375, 0.75, 1.875], rtol=1e-7)
    with pytest.raises(tl.InvalidArgumentError, match="task 1"):
        tl.gradnorm([1.0, -1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(tl.ShapeError):
        tl.gradnorm(w, norms[:2], losses, init)
    with pytest.raises(tl.InvalidArgumentError):
        tl.gradnorm_rescale([1.0, 2.0])
    with pytest.raises(tl.InvalidArgumentError, match="grad"):
        tl.gradnorm(w, norms, losses, init, grad=np.zeros(3))
