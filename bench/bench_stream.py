#!/usr/bin/python3
"""Streaming inference: one step of one sequence, in C (bench_stream, the
public tl_model_step), through the Python binding (Model.step) and through
torch (nn.LSTM and nn.LSTMCell with the state carried, no_grad), all
single-threaded, in one run. Prints a markdown table; ratio = torch's time
over libtl's through Python (> 1: libtl faster), against the faster of
torch's two ways.

Rows: an LSTM E = H = 128 (float input vector in, h out) and fastai's
AWD-LSTM LM (embedding 128, LSTM 256 + 128, tied decoder over 12k words:
one token id in, 12k logits out).

The sides alternate over a few rounds so that load from other processes
hits all alike; each round times batches of steps, and the table gives the
median over rounds of each round's median per step and the best minimum.

Usage: OPENBLAS_NUM_THREADS=1 TL_LIBRARY=$PWD/build-rel/lib/libtl.so \\
           /usr/bin/python3 bench/bench_stream.py [--bin build-rel/bench/bench_stream]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bindings",
                                "python"))
import tl  # noqa: E402

ROUNDS = 5


def run_c(binary, args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([binary] + [str(a) for a in args], env=env,
                         check=True, capture_output=True, text=True).stdout
    d = {k: float(v) for k, v in (l.split() for l in out.splitlines())}
    return d["median_us"], d["min_us"]


def timed(fn, inner, samples):
    """Median and minimum time per call (us) over samples of inner calls."""
    fn()
    ts = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        ts.append((time.perf_counter() - t0) / inner)
    return 1e6 * statistics.median(ts), 1e6 * min(ts)


def lstm_cases(torch, E, H):
    m = tl.Model(seed=0)
    m.add_lstm("rnn", E, H)
    m.step_prepare(1, E)
    x = np.random.default_rng(0).standard_normal(E).astype(np.float32)
    cases = {"libtl python": lambda: m.step(x)}
    if torch:
        lstm, cell = torch.nn.LSTM(E, H), torch.nn.LSTMCell(E, H)
        xt = torch.from_numpy(x).reshape(1, 1, E)
        xc = xt.reshape(1, E)
        st = {"lstm": (torch.zeros(1, 1, H), torch.zeros(1, 1, H)),
              "cell": (torch.zeros(1, H), torch.zeros(1, H))}

        def t_lstm():
            with torch.no_grad():
                _, st["lstm"] = lstm(xt, st["lstm"])

        def t_cell():
            with torch.no_grad():
                st["cell"] = cell(xc, st["cell"])
        cases["torch nn.LSTM"] = t_lstm
        cases["torch nn.LSTMCell"] = t_cell
    return cases


def lm_cases(torch, V, E, H):
    enc, dec = tl.arch.awd_lstm_lm(V, config={"emb_sz": E, "n_hid": H,
                                               "n_layers": 2})
    enc.step_prepare(1)
    dec.step_prepare(1, E)
    tok = [5]

    def tl_step():
        h = enc.step(tok[0])
        dec.step(h)
        tok[0] = (tok[0] * 31 + 7) % V
    cases = {"libtl python": tl_step}
    if torch:
        emb = torch.nn.Embedding(V, E)
        l1, l2 = torch.nn.LSTM(E, H), torch.nn.LSTM(H, E)
        decoder = torch.nn.Linear(E, V)
        decoder.weight = emb.weight
        st = {1: None, 2: None}

        def t_step():
            with torch.no_grad():
                x = emb(torch.tensor([[tok[0]]]))
                y, st[1] = l1(x, st[1])
                y, st[2] = l2(y, st[2])
                decoder(y)
            tok[0] = (tok[0] * 31 + 7) % V
        cases["torch"] = t_step
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build-rel/bench/bench_stream")
    args = ap.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    tl.set_num_threads(1)
    print("torch %s, load average at start %.2f" % (
        torch.__version__ if torch else "absent", os.getloadavg()[0]))
    print()
    print("| case | libtl C median (min) | libtl Python median (min) |"
          " Python overhead (min - min) | torch median (min) |"
          " torch / libtl Python |"
          " target |")
    print("|---|---|---|---|---|---|---|")
    rows = [
        ("LSTM step B=1 E=H=128", ["lstm", 128, 128, 1, 1, 50],
         lambda: lstm_cases(torch, 128, 128), 1000, 20,
         "< 5 us in C; >= 5x torch"),
        ("AWD-LSTM LM token, 12k words (128, 256+128)",
         ["lm", 12000, 128, 256, 2, 10], lambda: lm_cases(torch, 12000, 128,
                                                           256), 50, 10,
         "report"),
    ]
    for name, cargs, make, inner, samples, target in rows:
        cases = make()
        res = {k: [] for k in cases}
        cres = []
        for _ in range(ROUNDS):
            cres.append(run_c(args.bin, cargs))
            for k, fn in cases.items():
                res[k].append(timed(fn, inner, samples))
        med = {k: statistics.median(r[0] for r in v) for k, v in res.items()}
        mn = {k: min(r[1] for r in v) for k, v in res.items()}
        cm = statistics.median(c[0] for c in cres)
        cmin = min(c[1] for c in cres)
        torch_keys = [k for k in cases if k.startswith("torch")]
        if torch_keys:
            best = min(torch_keys, key=lambda k: med[k])
            tcol = "%.1f us (%.1f) [%s]" % (med[best], mn[best], best)
            ratio = "%.1fx (min %.1fx)" % (med[best] / med["libtl python"],
                                           mn[best] / mn["libtl python"])
        else:
            tcol, ratio = "absent", ""
        print("| %s | %.1f us (%.1f) | %.1f us (%.1f) | %.1f us | %s | %s |"
              " %s |" % (name, cm, cmin, med["libtl python"],
                         mn["libtl python"], mn["libtl python"] - cmin, tcol,
                         ratio, target), flush=True)
        for k in torch_keys:
            print("|   %s | | | | %.1f us (%.1f) | %.1fx | |" % (
                k, med[k], mn[k], med[k] / med["libtl python"]))


if __name__ == "__main__":
    main()
