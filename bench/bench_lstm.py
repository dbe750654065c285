#!/usr/bin/python3
"""Runs bench_lstm (the C kernels) and torch.nn.LSTM on the same shapes in
one run, both single-threaded, and prints a markdown table of times and
ratios (torch time / libtl time: > 1 means libtl is faster).

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/bench_lstm.py \
           [--bin build-rel/bench/bench_lstm] [--quick]
"""
import argparse
import os
import platform
import statistics
import subprocess
import time

# name, T, B, E, H, L, reps (C and torch), target
TRAIN = [
    ("train T=70 B=32 E=H=256 L=2", 70, 32, 256, 256, 2, 10,
     ">= 1.5x torch, >= 75% sgemm"),
    ("train T=70 B=64 E=H=128 L=1", 70, 64, 128, 128, 1, 10, ">= 1.5x torch"),
    ("train AWD T=70 B=32 E=400 H=1152 L=3", 70, 32, 400, 1152, 3, 3,
     "report"),
]
STEP = [("infer step B=1 E=H=128", 128, 128, 2000, "< 20 us")]


def run_c(binary, args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([binary] + [str(a) for a in args], env=env,
                         check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (l.split() for l in out.splitlines())}


def torch_train(torch, T, B, E, H, L, reps):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(E, H, num_layers=L)
    x = torch.randn(T, B, E, requires_grad=True)
    dy = torch.randn(T, B, H)
    times = []
    for r in range(reps + 1):
        t0 = time.perf_counter()
        y, _ = lstm(x)
        y.backward(dy)
        if r:
            times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def torch_step(torch, E, H, reps):
    lstm = torch.nn.LSTM(E, H)
    x = torch.randn(1, 1, E)
    h = (torch.zeros(1, 1, H), torch.zeros(1, 1, H))
    times = []
    with torch.no_grad():
        for r in range(reps + 1):
            t0 = time.perf_counter()
            _, h = lstm(x, h)
            if r:
                times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def model_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build-rel/bench/bench_lstm")
    ap.add_argument("--quick", action="store_true",
                    help="skip the AWD-LSTM size (slow)")
    args = ap.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print("machine: %s, %d cpus, torch %s" % (
        model_name(), os.cpu_count(), torch.__version__ if torch else "absent"))
    print()
    print("| case | libtl median (min) | torch median (min) | torch/libtl |"
          " LSTM GFLOP/s | sgemm GFLOP/s | fraction | target |")
    print("|---|---|---|---|---|---|---|---|")
    for name, T, B, E, H, L, reps, target in TRAIN:
        if args.quick and H > 512:
            continue
        c = run_c(args.bin, ["train", T, B, E, H, L, reps])
        tm, tmin = torch_train(torch, T, B, E, H, L, reps) if torch else (
            float("nan"), float("nan"))
        print("| %s | %.1f ms (%.1f) | %.1f ms (%.1f) | %.2fx | %.1f | %.1f |"
              " %.0f%% | %s |" % (
                  name, c["median_ms"], c["min_ms"], 1e3 * tm, 1e3 * tmin,
                  1e3 * tm / c["median_ms"], c["lstm_gflops"],
                  c["sgemm_gflops"], 100 * c["fraction"], target), flush=True)
    for name, E, H, reps, target in STEP:
        c = run_c(args.bin, ["step", E, H, reps // 10])
        tm, tmin = torch_step(torch, E, H, reps) if torch else (
            float("nan"), float("nan"))
        print("| %s | %.1f us (%.1f) | %.1f us (%.1f) | %.1fx | | | | %s |" % (
            name, c["median_us"], c["min_us"], 1e6 * tm, 1e6 * tmin,
            1e6 * tm / c["median_us"], target), flush=True)


if __name__ == "__main__":
    main()
