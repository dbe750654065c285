"""tl.metrics part 1: divergences, Wasserstein, sliced Wasserstein, Sinkhorn
and MMD through ctypes. The documented vectors and properties need numpy
only; cross-checks against SciPy and POT are skipped when those are absent
(the C suite carries the committed golden values)."""
import math

import numpy as np
import pytest

import tl
import tl.metrics as M


# --- documented vectors (REFERENCE.md) -------------------------------------

def test_documented_vectors():
    assert M.entropy([.5, .5], [.9, .1], base=2) == pytest.approx(
        0.7369655941662062, rel=1e-15)
    assert M.kl_divergence([.5, .5], [.9, .1], base=2) == pytest.approx(
        0.7369655941662062, rel=1e-15)
    assert M.js_distance([1, 0, 0], [0, 1, 0], base=2) == 1.0
    assert M.js_distance([1, 0], [.5, .5]) == pytest.approx(
        0.46450140402245893, rel=1e-15)
    assert M.wasserstein_1d([0, 1, 3], [5, 6, 8]) == pytest.approx(5.0)
    assert M.wasserstein_1d([0, 1], [0, 1], [3, 1], [2, 2]) == pytest.approx(
        0.25)
    assert M.sinkhorn([.5, .5], [.5, .5], [[0, 1], [1, 0]], 1) == \
        pytest.approx(0.26894142136999516, rel=1e-12)


# --- properties (numpy only) ----------------------------------------------

rng = np.random.default_rng(5)
P = rng.random(40) + 1e-3
Q = rng.random(40) + 1e-3


@pytest.mark.parametrize("fn", [M.kl_divergence, M.js_divergence,
                                M.js_distance, M.bhattacharyya, M.hellinger,
                                M.total_variation,
                                lambda p, q: M.renyi(p, q, 0.99)])
def test_identity_and_scale_invariance(fn):
    assert fn(P, P) == pytest.approx(0.0, abs=1e-12)
    assert fn(3 * P, Q) == pytest.approx(fn(P, Q), rel=1e-12)
    assert fn(P, Q) > 0


def test_entropy_and_kl_edge_cases():
    assert M.entropy(np.ones(8), base=2) == pytest.approx(3.0)
    assert math.isinf(M.kl_divergence([1, 1], [1, 0]))
    assert M.kl_divergence([1, 0], [1, 1]) == pytest.approx(math.log(2))
    assert M.renyi(P, Q, 1.0) == M.kl_divergence(P, Q)
    assert math.isinf(M.bhattacharyya([1, 0], [0, 1]))
    assert M.js_divergence([1, 0], [0, 1]) == math.log(2)
    assert M.hellinger([1, 0], [0, 1]) == 1.0


def test_js_never_nan_for_near_identical_float32_inputs():
    for _ in range(50):
        p = rng.random(100)
        q = (p / p.sum()).astype(np.float32).astype(np.float64)
        d = M.js_distance(p, q)
        assert not math.isnan(d) and d >= 0.0


def test_cosine_and_euclidean():
    u, v = np.array([1.0, 2.0, 3.0]), np.array([-2.0, -4.0, -6.0])
    assert M.cosine_similarity(u, v) == -1.0
    assert M.cosine(u, v) == 2.0
    assert M.euclidean(u, v) == pytest.approx(np.linalg.norm(u - v))


def test_wasserstein_properties():
    u, v = rng.normal(size=500), rng.normal(size=300)
    assert M.wasserstein_1d(u, u) == 0.0
    assert M.wasserstein_1d(u, u + 2.5, p=2) == pytest.approx(2.5)
    assert M.wasserstein_1d(u, v, p=3) == pytest.approx(
        M.wasserstein_1d(v, u, p=3), rel=1e-13)
    x = np.sort(rng.normal(size=30))
    a, b = rng.random(30), rng.random(30)
    assert M.wasserstein_1d_hist(x, a, b, p=2) == pytest.approx(
        M.wasserstein_1d(x, x, a, b, p=2), rel=1e-13)


def test_sliced_seed_and_identity():
    X, Y = rng.normal(size=(200, 6)), rng.normal(size=(150, 6)) + 0.5
    assert M.sliced_wasserstein(X, X) == 0.0
    assert M.sliced_wasserstein(X, Y, seed=3) == M.sliced_wasserstein(
        X, Y, seed=3)
    assert M.sliced_wasserstein(X, Y, seed=3) != M.sliced_wasserstein(
        X, Y, seed=4)
    dirs = M.sliced_directions(50, 6, seed=3)
    assert np.allclose(np.linalg.norm(dirs, axis=1), 1.0)
    assert M.sliced_wasserstein(X, Y, seed=3) == M.sliced_wasserstein(
        X, Y, projections=dirs)


def test_sinkhorn_plan_and_flags():
    A, B = rng.normal(size=(20, 2)), rng.normal(size=(15, 2))
    C = ((A[:, None] - B[None]) ** 2).sum(-1)
    res = M.sinkhorn(None, None, C, 0.5, return_plan=True)
    assert res["converged"] and res["iterations"] >= 1
    assert res["plan"].shape == (20, 15)
    assert np.allclose(res["plan"].sum(1), 1 / 20)
    assert res["cost"] == pytest.approx((res["plan"] * C).sum())
    res = M.sinkhorn(None, None, C, 1e-3, max_iter=2, return_plan=True)
    assert not res["converged"] and res["iterations"] == 2
    assert math.isfinite(res["cost"])


def test_mmd_against_numpy():
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(35, 3)) + 0.3

    def sqd(A, B):
        return ((A[:, None] - B[None]) ** 2).sum(-1)

    Z = np.vstack([X, Y])
    med = np.median(sqd(Z, Z)[np.triu_indices(len(Z), 1)])
    sigma = math.sqrt(med / 2)
    k = lambda d2: np.exp(-d2 / (2 * sigma ** 2))
    kxx, kyy, kxy = k(sqd(X, X)), k(sqd(Y, Y)), k(sqd(X, Y))
    biased = kxx.mean() + kyy.mean() - 2 * kxy.mean()
    n, m = len(X), len(Y)
    unbiased = ((kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) /
                (m * (m - 1)) - 2 * kxy.mean())
    value, used = M.mmd2(X, Y, return_sigma=True)
    assert used == pytest.approx(sigma, rel=1e-12)
    assert value == pytest.approx(biased, rel=1e-10)
    assert M.mmd2(X, Y, unbiased=True) == pytest.approx(unbiased, rel=1e-10)
    assert M.mmd2(X, X) == pytest.approx(0.0, abs=1e-14)


# --- rejections carry libtl's message --------------------------------------

@pytest.mark.parametrize("call, exc, words", [
    (lambda: M.kl_divergence([], []), ValueError, "n must be >= 1"),
    (lambda: M.kl_divergence([1, 2], [1, 2, 3]), ValueError, "same length"),
    (lambda: M.kl_divergence([1, -1], [1, 1]), ValueError, "p[1] is negative"),
    (lambda: M.kl_divergence([0, 0], [1, 1]), ValueError, "p sums to 0"),
    (lambda: M.kl_divergence([1, 1], [1, 1], base=1), ValueError, "base"),
    (lambda: M.kl_divergence([1, 1], [1, 1], base=-2), ValueError, "base"),
    (lambda: M.kl_divergence([1, np.nan], [1, 1]), tl.NumericError,
     "p[1] is not finite"),
    (lambda: M.js_distance([1, 1], [np.inf, 1]), tl.NumericError,
     "q[0] is not finite"),
    (lambda: M.renyi([1, 1], [1, 1], 0), ValueError, "alpha"),
    (lambda: M.cosine([0, 0], [1, 1]), ValueError, "zero vector"),
    (lambda: M.wasserstein_1d([], [1.0]), ValueError, "u is empty"),
    (lambda: M.wasserstein_1d([1.0], [1.0], [-1.0]), ValueError,
     "u_weights[0] is negative"),
    (lambda: M.wasserstein_1d([1.0, 2], [1.0], None, [0.0]), ValueError,
     "v_weights sums to 0"),
    (lambda: M.wasserstein_1d([1.0, np.nan], [1.0]), tl.NumericError,
     "u[1] is not finite"),
    (lambda: M.wasserstein_1d([1.0], [1.0], p=0.5), ValueError,
     "p must be finite and >= 1"),
    (lambda: M.wasserstein_1d_hist([1, 0], [1, 1], [1, 1]), ValueError,
     "x must be sorted"),
    (lambda: M.sliced_wasserstein(np.ones((3, 2)), np.ones((3, 3))),
     ValueError, "same number of columns"),
    (lambda: M.sliced_wasserstein(np.ones((3, 2)), np.ones((3, 2)), p=0.5),
     ValueError, "p must be"),
    (lambda: M.sliced_wasserstein(np.ones((3, 2)), np.ones((3, 2)),
                                  n_projections=0), ValueError,
     "number of projections"),
    (lambda: M.sinkhorn(None, None, np.ones((2, 2)), 0.0), ValueError,
     "reg must be finite and > 0"),
    (lambda: M.sinkhorn([1, -1], None, np.ones((2, 2)), 1.0), ValueError,
     "a[1] is negative"),
    (lambda: M.sinkhorn(None, None, [[0, np.nan], [1, 0]], 1.0),
     tl.NumericError, "cost_matrix[1] is not finite"),
    (lambda: M.sinkhorn(None, None, np.ones((2, 2)), 1.0, tol=0), ValueError,
     "tol"),
    (lambda: M.mmd2(np.ones((3, 2)), np.ones((3, 3))), ValueError,
     "same number of columns"),
    (lambda: M.mmd2(np.ones((1, 2)), np.ones((3, 2)), sigma=1.0,
                    unbiased=True), ValueError, "at least 2 rows"),
    (lambda: M.mmd2(np.ones((3, 2)), np.ones((3, 2))), tl.NumericError,
     "median heuristic"),
])
def test_bad_input_raises_with_message(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)
    assert isinstance(info.value, tl.Error)


# --- cross-checks (need SciPy / POT) ----------------------------------------

def test_against_scipy():
    ss = pytest.importorskip("scipy.stats")
    ssd = pytest.importorskip("scipy.spatial.distance")
    assert M.kl_divergence(P, Q) == pytest.approx(ss.entropy(P, Q), rel=1e-10)
    assert M.entropy(P, base=2) == pytest.approx(ss.entropy(P, base=2),
                                                 rel=1e-10)
    assert M.js_distance(P, Q, base=2) == pytest.approx(
        ssd.jensenshannon(P, Q, base=2), rel=1e-10)
    assert M.cosine(P - .5, Q - .5) == pytest.approx(
        ssd.cosine(P - .5, Q - .5), rel=1e-10)
    u, v = rng.normal(size=1000), rng.normal(size=700) * 2
    uw, vw = rng.random(1000), rng.random(700)
    assert M.wasserstein_1d(u, v, uw, vw) == pytest.approx(
        ss.wasserstein_distance(u, v, uw, vw), rel=1e-10)


def test_against_pot():
    ot = pytest.importorskip("ot")
    u, v = rng.normal(size=1000), rng.normal(size=700) * 2
    uw, vw = rng.random(1000), rng.random(700)
    assert M.wasserstein_1d(u, v, uw, vw, p=2) == pytest.approx(
        ot.wasserstein_1d(u, v, uw / uw.sum(), vw / vw.sum(), p=2) ** .5,
        rel=1e-10)
    X, Y = rng.normal(size=(300, 5)), rng.normal(size=(200, 5)) + .2
    proj = M.sliced_directions(30, 5, seed=1)
    assert M.sliced_wasserstein(X, Y, projections=proj) == pytest.approx(
        ot.sliced_wasserstein_distance(X, Y, projections=proj.T,
                                       n_projections=30), rel=1e-10)
    C = ot.dist(X[:60], Y[:50])
    C /= C.max()
    for reg in (1.0, 0.05):
        assert M.sinkhorn(None, None, C, reg) == pytest.approx(
            ot.sinkhorn2(ot.unif(60), ot.unif(50), C, reg), rel=1e-6)


# --- bad input values are ValueErrors; base=None is the natural log ---------

def test_numeric_error_is_a_value_error_and_an_arithmetic_error():
    assert issubclass(tl.NumericError, ValueError)
    assert issubclass(tl.NumericError, ArithmeticError)
    assert issubclass(tl.NumericError, tl.Error)
    mro = tl.NumericError.__mro__
    assert mro.index(tl.Error) < mro.index(ValueError) < \
        mro.index(ArithmeticError)
    err = tl.NumericError("f: x[0] is not finite", tl.Status.NUMERIC, "f")
    assert (err.status, err.message, str(err)) == (
        tl.Status.NUMERIC, "f: x[0] is not finite", "f: x[0] is not finite")


@pytest.mark.parametrize("call", [
    lambda: M.kl_divergence([1, np.nan], [1, 1]),
    lambda: M.entropy([np.inf, 1]),
    lambda: M.js_distance([1, 1], [np.nan, 1]),
    lambda: M.wasserstein_1d([0.0, np.nan], [1.0]),
    lambda: M.sliced_wasserstein(np.full((3, 2), np.nan), np.ones((3, 2))),
    lambda: M.mmd2(np.ones((3, 2)), np.full((3, 2), np.inf), sigma=1.0),
    lambda: M.euclidean([1, np.nan], [1, 1]),
])
def test_nan_and_inf_input_raise_value_error(call):
    with pytest.raises(ValueError, match="not finite") as info:
        call()
    assert isinstance(info.value, tl.NumericError)


def test_wasserstein_overflow_raises_instead_of_returning_inf():
    with pytest.raises(ValueError, match="overflows"):
        M.wasserstein_1d([-1e308], [1e308])
    # W_2 = 1e200 is representable although its square is not: computed on
    # values scaled by a power of two (metrics.h, "Scaling and overflow").
    assert M.wasserstein_1d([1e200], [0.0], p=2) == pytest.approx(1e200)
    assert M.wasserstein_1d([-4e307], [4e307]) == pytest.approx(8e307)


def test_one_overflow_rule_and_tiny_sums():
    # The same rule for every metric: a result beyond DBL_MAX raises.
    with pytest.raises(tl.NumericError, match="tl_euclidean: the distance "
                       "overflows"):
        M.euclidean([1e308], [-1e308])
    # Sums whose reciprocal overflows are normalised exactly (issue 11).
    p, q = np.array([1.0, 2.0]) * 1e-310, np.array([2.0, 1.0]) * 1e-310
    assert M.hellinger(p, q) == pytest.approx(
        np.sqrt(2 / 3) - np.sqrt(1 / 3), rel=1e-14)
    assert M.total_variation(p, q) == pytest.approx(1 / 3, rel=1e-14)


@pytest.mark.parametrize("fn", [
    lambda base: M.kl_divergence([.5, .5], [.9, .1], base=base),
    lambda base: M.entropy([.5, .5], base=base),
    lambda base: M.js_divergence([1, 0], [.5, .5], base=base),
    lambda base: M.js_distance([1, 0], [.5, .5], base=base),
    lambda base: M.renyi([.5, .5], [.9, .1], 0.5, base=base),
])
@pytest.mark.parametrize("base", [0, 0.0, -2, 1, 1.0, np.inf, np.nan])
def test_bad_base_raises_value_error(fn, base):
    with pytest.raises(ValueError, match="base must be None") as info:
        fn(base)
    assert isinstance(info.value, tl.InvalidArgumentError)


def test_base_none_is_natural_log_and_e_agrees():
    kl = M.kl_divergence([.5, .5], [.9, .1])
    assert kl == pytest.approx(0.5 * math.log(.5 / .9) + 0.5 * math.log(5),
                               rel=1e-14)
    assert M.kl_divergence([.5, .5], [.9, .1], base=math.e) == \
        pytest.approx(kl, rel=1e-14)
    assert M.kl_divergence([.5, .5], [.9, .1], base=2) == \
        pytest.approx(kl / math.log(2), rel=1e-14)


def test_float32_input_is_converted_exactly():
    # The C API is float64 only (docs/metrics.md, "Why float64 only"): the
    # binding converts float32 arrays, exactly, so results match bit for bit.
    rng = np.random.default_rng(7)
    x32 = rng.normal(size=(30, 4)).astype(np.float32)
    y32 = (rng.normal(size=(25, 4)) + 0.5).astype(np.float32)
    x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
    assert M.sliced_wasserstein(x32, y32, seed=3) == \
        M.sliced_wasserstein(x64, y64, seed=3)
    assert M.mmd2(x32, y32) == M.mmd2(x64, y64)
    assert np.array_equal(M.procrustes(x32[:20], y32[:20]),
                          M.procrustes(x64[:20], y64[:20]))
    i32, s32 = M.csls_retrieve(x32, y32, k=3, top=2)
    i64, s64 = M.csls_retrieve(x64, y64, k=3, top=2)
    assert np.array_equal(i32, i64) and np.array_equal(s32, s64)
