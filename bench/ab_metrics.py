"""A/B timing of two libtl builds in one process, interleaved, so that the
load of a shared machine hits both alike: has a change made the metrics
slower? Prints the best time of each over the rounds.

    bench/ab_metrics.py OLD/libtl.so NEW/libtl.so [rounds]

Build the old side from a worktree of the commit to compare against
(docs/performance.md, "Checking for a regression")."""
import ctypes
import sys
import time

import numpy as np

P = ctypes.POINTER(ctypes.c_double)


def load(path):
    lib = ctypes.CDLL(path)
    lib.tl_wasserstein_1d.argtypes = [P, P, ctypes.c_size_t, P, P,
                                      ctypes.c_size_t, P, ctypes.c_double]
    lib.tl_kl_divergence.argtypes = [P, P, P, ctypes.c_size_t, ctypes.c_double]
    lib.tl_js_distance.argtypes = [P, P, P, ctypes.c_size_t, ctypes.c_double]
    return lib


def ptr(a):
    return a.ctypes.data_as(P) if a is not None else None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    libs = {"A": load(sys.argv[1]), "B": load(sys.argv[2])}
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    rng = np.random.default_rng(0)
    n = 1000000
    u, v = rng.normal(size=n), rng.normal(1, 2, size=n)
    wu, wv = rng.random(n), rng.random(n)
    p, q = rng.random(n), rng.random(n)
    out = ctypes.c_double()
    cases = {
        "W1, 1e6 + 1e6 samples": lambda lib: lib.tl_wasserstein_1d(
            ctypes.byref(out), ptr(u), n, None, ptr(v), n, None, 1.0),
        "W1 weighted": lambda lib: lib.tl_wasserstein_1d(
            ctypes.byref(out), ptr(u), n, ptr(wu), ptr(v), n, ptr(wv), 1.0),
        "KL, 1e6 bins": lambda lib: lib.tl_kl_divergence(
            ctypes.byref(out), ptr(p), ptr(q), n, 0.0),
        "JS distance, 1e6 bins": lambda lib: lib.tl_js_distance(
            ctypes.byref(out), ptr(p), ptr(q), n, 0.0),
    }
    best = {(c, k): float("inf") for c in cases for k in libs}
    for _ in range(rounds):
        for c, run in cases.items():
            for k, lib in libs.items():
                t = time.perf_counter()
                if run(lib) != 0:
                    sys.exit("%s failed on %s" % (c, k))
                best[c, k] = min(best[c, k], time.perf_counter() - t)
    print("| case | A (ms) | B (ms) | B / A |")
    print("|---|---:|---:|---:|")
    for c in cases:
        a, b = best[c, "A"], best[c, "B"]
        print("| %s | %.2f | %.2f | %.3f |" % (c, 1e3 * a, 1e3 * b, b / a))


if __name__ == "__main__":
    main()
