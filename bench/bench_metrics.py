#!/usr/bin/python3
"""Benchmarks libtl's metrics (part 1) against SciPy and POT in one run.

libtl is called through the Python binding (ctypes; the call overhead is
microseconds against milliseconds of work). Build a release library first:
    meson setup build-rel -Dbuildtype=release && ninja -C build-rel
    TL_LIBRARY=build-rel/lib/libtl.so /usr/bin/python3 bench/bench_metrics.py
Each timing is the best of several repeats, libtl and the reference
alternating (so both see the same load); ratio = reference / libtl (> 1:
libtl is faster). |diff| is the difference of the two results (sliced:
with the same directions; Sinkhorn: relative). OpenBLAS threads: libtl uses 1 (its default);
numpy/POT use OpenBLAS's own default unless OPENBLAS_NUM_THREADS is set.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bindings",
                                "python"))
import tl  # noqa: E402
import tl.metrics as M  # noqa: E402


def best_pair(ours, ref, repeat):
    """Best time of each, the two calls alternating so that both see the
    same load on a shared machine."""
    t_ours, t_ref = [], []
    for _ in range(repeat):
        for fn, times in ((ours, t_ours), (ref, t_ref)):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return min(t_ours), min(t_ref)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="smaller sizes (a smoke run, not the published table)")
    args = ap.parse_args()
    import ot
    import scipy.spatial.distance as ssd
    import scipy.stats as ss

    q = args.quick
    rng = np.random.default_rng(0)
    rows = []

    def row(name, fns, refname, check):
        ours, ref = fns
        rows.append((name, ours, ref, refname, check))
        print("%-44s libtl %9.2f ms  %-8s %9.2f ms  ratio %6.1fx  |diff| %.1e"
              % (name, ours * 1e3, refname, ref * 1e3, ref / ours, check),
              flush=True)

    n = 10 ** 5 if q else 10 ** 6
    p, r_ = rng.random(n), rng.random(n)
    a = M.kl_divergence(p, r_)
    fast = 5 * args.repeat  # milliseconds each: more repeats are cheap
    row("KL divergence, %d bins" % n,
        best_pair(lambda: M.kl_divergence(p, r_), lambda: ss.entropy(p, r_),
                  fast), "scipy", abs(a - ss.entropy(p, r_)))
    a = M.js_distance(p, r_)
    row("JS distance, %d bins" % n,
        best_pair(lambda: M.js_distance(p, r_),
                  lambda: ssd.jensenshannon(p, r_), fast), "scipy",
        abs(a - ssd.jensenshannon(p, r_)))

    u, v = rng.normal(size=n), rng.normal(size=n) * 1.3 + 0.1
    a = M.wasserstein_1d(u, v)
    row("W1, %d + %d samples" % (n, n),
        best_pair(lambda: M.wasserstein_1d(u, v),
                  lambda: ss.wasserstein_distance(u, v), args.repeat),
        "scipy", abs(a - ss.wasserstein_distance(u, v)))
    uw, vw = rng.random(n), rng.random(n)
    a = M.wasserstein_1d(u, v, uw, vw)
    row("W1 weighted, %d + %d samples" % (n, n),
        best_pair(lambda: M.wasserstein_1d(u, v, uw, vw),
                  lambda: ss.wasserstein_distance(u, v, uw, vw), args.repeat),
        "scipy", abs(a - ss.wasserstein_distance(u, v, uw, vw)))

    ns = 2000 if q else 10 ** 4
    X = rng.normal(size=(ns, 300))
    Y = rng.normal(size=(ns, 300)) * 1.1 + 0.05
    proj = M.sliced_directions(50, 300, seed=0)
    a = M.sliced_wasserstein(X, Y, projections=proj)
    ref = ot.sliced_wasserstein_distance(X, Y, projections=proj.T,
                                         n_projections=50)
    row("sliced W2, %d x 300 per side, 50 dirs" % ns,
        best_pair(lambda: M.sliced_wasserstein(X, Y, n_projections=50),
                  lambda: ot.sliced_wasserstein_distance(
                      X, Y, n_projections=50, seed=0), args.repeat),
        "POT", abs(a - ref))

    nk = 300 if q else 1000
    A, B = rng.normal(size=(nk, 2)), rng.normal(size=(nk, 2)) + 0.5
    C = ot.dist(A, B)
    C /= C.max()
    wa, wb = ot.unif(nk), ot.unif(nk)
    for reg in (0.05, 0.01):
        res = M.sinkhorn(wa, wb, C, reg, return_plan=True)
        ref = ot.sinkhorn2(wa, wb, C, reg, stopThr=1e-9, numItermax=1000)
        row("Sinkhorn %dx%d reg %g (%d it)" % (nk, nk, reg,
                                               res["iterations"]),
            best_pair(lambda: M.sinkhorn(wa, wb, C, reg),
                      lambda: ot.sinkhorn2(wa, wb, C, reg, stopThr=1e-9,
                                           numItermax=1000), args.repeat),
            "POT",
            abs(res["cost"] - float(ref)) / abs(float(ref)))

    print()
    print("| benchmark | libtl (ms) | reference | reference (ms) | speed-up |")
    print("|---|---:|---|---:|---:|")
    for name, ours, ref, refname, _ in rows:
        print("| %s | %.2f | %s | %.2f | %.1fx |" % (name, ours * 1e3, refname,
                                                    ref * 1e3, ref / ours))


if __name__ == "__main__":
    main()
