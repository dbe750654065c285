#!/usr/bin/python3
"""Layer-kernel benchmark: libtl's linear forward+backward and cross-entropy
against torch (nn.Linear + activation with autograd; F.cross_entropy forward
+ backward), both single-threaded, same shapes, in one run.

Run: /usr/bin/python3 bench/bench_layers.py [build-rel] [reps]
Prints a markdown table (times are medians in ms; ratio = libtl / torch,
< 1 means libtl is faster)."""
import os
import subprocess
import sys
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build-rel"
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
EXE = os.path.join(BUILD, "bench", "bench_layers")

# (label, N rows = T*B, in, out, act) — ULMFiT-sized pieces.
LINEAR = [
    ("classifier head 1 (B=64, 1200->50, relu)", 64, 1200, 50, 1),
    ("classifier head 2 (B=64, 50->2)", 64, 50, 2, 0),
    ("tied decoder (70x4 tokens, 400->4000)", 280, 400, 4000, 0),
    ("square tanh (512, 512->512)", 512, 512, 512, 2),
]
XENT = [("LM loss (280 tokens, 4000 classes)", 280, 4000),
        ("classifier loss (64, 5 classes)", 64, 5)]
# Issue 17's large vocabularies: T*B = 70*32 rows (both sides single-threaded;
# libtl's kernel and its public tl_cross_entropy, which also checks every
# logit is finite). Few repetitions: one call handles 0.1-0.5 GB.
XENT_LARGE = [("70x32 tokens, %dk classes" % (c // 1000), 2240, c, 5)
              for c in (12000, 30000, 60000)]


def run_c(args, reps=None):
    out = subprocess.run([EXE] + [str(a) for a in args] +
                         [str(reps or REPS)],
                         check=True, capture_output=True, text=True).stdout
    return dict(line.split() for line in out.splitlines())


def median_ms(fn):
    fn()
    ts = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return 1e3 * ts[len(ts) // 2]


def main():
    try:
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    acts = {0: lambda z: z, 1: lambda z: z.relu(), 2: torch.tanh if torch else None,
            3: torch.sigmoid if torch else None}
    print("| case | libtl ms | torch ms | ratio |")
    print("|---|---|---|---|")
    for label, n, fin, fout, act in LINEAR:
        c = float(run_c(["linear", n, fin, fout, act])["linear_median_ms"])
        t = float("nan")
        if torch:
            lin = torch.nn.Linear(fin, fout)
            x = torch.randn(n, fin, requires_grad=True)
            dy = torch.randn(n, fout)

            def step():
                x.grad = None  # libtl's dx is zeroed too; dW, db accumulate
                acts[act](lin(x)).backward(dy)
            with torch.enable_grad():
                t = median_ms(step)
        print("| linear fwd+bwd: %s | %.3f | %.3f | %.2f |" % (label, c, t, c / t))
    for label, n, classes in XENT:
        c = float(run_c(["xent", n, classes])["xent_median_ms"])
        t = float("nan")
        if torch:
            logits = (torch.rand(n, classes) * 6 - 3).requires_grad_()
            target = torch.randint(0, classes, (n,))

            def step():
                logits.grad = None
                F.cross_entropy(logits, target).backward()
            t = median_ms(step)
        print("| cross-entropy loss+grad: %s | %.3f | %.3f | %.2f |" % (label, c, t, c / t))
    print()
    print("| softmax cross-entropy fwd+bwd | libtl kernel ms (min) |"
          " libtl tl_cross_entropy ms (min) | torch ms (min) |"
          " torch / libtl API, medians (minima) |")
    print("|---|---|---|---|---|")
    for label, n, classes, reps in XENT_LARGE:
        cs, ts = [], []
        for _ in range(3):  # the sides alternate: load hits both alike
            cs.append(run_c(["xent", n, classes], reps))
            if torch:
                ts.append(torch_xent(torch, F, n, classes, reps))
        km = sorted(float(c["xent_median_ms"]) for c in cs)[1]
        kmin = min(float(c["xent_min_ms"]) for c in cs)
        am = sorted(float(c["xent_api_median_ms"]) for c in cs)[1]
        amin = min(float(c["xent_api_min_ms"]) for c in cs)
        if torch:
            tm = sorted(t[0] for t in ts)[1]
            tmin = min(t[1] for t in ts)
            print("| %s | %.1f (%.1f) | %.1f (%.1f) | %.1f (%.1f) |"
                  " %.2fx (%.2fx) |" % (label, km, kmin, am, amin, tm, tmin,
                                        tm / am, tmin / amin), flush=True)
        else:
            print("| %s | %.1f (%.1f) | %.1f (%.1f) | absent | |"
                  % (label, km, kmin, am, amin), flush=True)


def torch_xent(torch, F, n, classes, reps):
    """Median and minimum (ms) of F.cross_entropy forward + backward."""
    logits = (torch.rand(n, classes) * 6 - 3).requires_grad_()
    target = torch.randint(0, classes, (n,))
    ts = []
    for r in range(reps + 1):
        logits.grad = None
        t0 = time.perf_counter()
        F.cross_entropy(logits, target).backward()
        if r:
            ts.append(1e3 * (time.perf_counter() - t0))
    ts.sort()
    return ts[len(ts) // 2], ts[0]


if __name__ == "__main__":
    main()
