#!/usr/bin/python3
"""Peak resident memory of a training step, libtl against torch (issue 17,
item 5). Each side runs in its own fresh process (bench_memory for libtl,
a child python for torch), single-threaded, a few steps of the same shape;
each reports its resident size before the model exists (rss_start: for
torch after `import torch`, which alone maps a few hundred MiB), once the
model, optimizer and host arrays exist (rss_built), and its high-water mark
after the steps (VmHWM). step_delta = peak - rss_start is the memory the
training needs on top of the bare process: parameters, gradients, optimizer
state, activations, the logits and their gradient.

Usage: /usr/bin/python3 bench/bench_memory.py [--bin build-rel/bench/bench_memory]
"""
import argparse
import os
import subprocess
import sys

# name, bench_memory arguments, torch child's arguments
CASES = [
    ("LM step: emb 128, LSTM 256 + 128, tied decoder 12k, CE, clip, Adam"
     " (T=70 B=32)", ["lm", 12000, 128, 256, 70, 32], ["lm", 12000, 128, 256,
                                                       70, 32]),
    ("LSTM train step T=70 B=32 E=H=256 L=2", ["lstm", 70, 32, 256, 256, 2],
     ["lstm", 70, 32, 256, 256, 2]),
    ("LSTM train step T=70 B=64 E=H=128 L=1", ["lstm", 70, 64, 128, 128, 1],
     ["lstm", 70, 64, 128, 128, 1]),
    ("LSTM train step AWD size T=70 B=32 E=400 H=1152 L=3",
     ["lstm", 70, 32, 400, 1152, 3], ["lstm", 70, 32, 400, 1152, 3]),
]

TORCH_CHILD = r'''
import sys
def mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return float(line.split()[1]) / 1024.0
import torch
import torch.nn.functional as F
torch.set_num_threads(1)
start = mib("VmRSS")
args = sys.argv[1:]
steps = 3
if args[0] == "lm":
    V, E, H, T, B = map(int, args[1:])
    emb = torch.nn.Embedding(V, E)
    l0, l1 = torch.nn.LSTM(E, H), torch.nn.LSTM(H, E)
    dec = torch.nn.Linear(E, V)
    dec.weight = emb.weight
    params = list(emb.parameters()) + list(l0.parameters()) + \
        list(l1.parameters()) + [dec.bias]
    opt = torch.optim.Adam(params)
    ids = torch.arange(T * B).mul(7919).remainder(V).reshape(T, B)
    targets = torch.arange(T * B).mul(104729).add(3).remainder(V)
    built = mib("VmRSS")
    for _ in range(steps):
        opt.zero_grad()
        y, _ = l0(emb(ids))
        y, _ = l1(y)
        loss = F.cross_entropy(dec(y).reshape(T * B, V), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.1)
        opt.step()
else:
    T, B, E, H, L = map(int, args[1:])
    lstm = torch.nn.LSTM(E, H, num_layers=L)
    x = torch.arange(T * B * E).remainder(11).float().div(11).sub(0.5)
    x = x.reshape(T, B, E).requires_grad_()
    dy = torch.arange(T * B * H).remainder(13).float().div(13).sub(0.5)
    dy = dy.reshape(T, B, H)
    built = mib("VmRSS")
    for _ in range(steps):
        lstm.zero_grad()
        x.grad = None
        y, _ = lstm(x)
        y.backward(dy)
peak = mib("VmHWM")
print("rss_start %.1f\nrss_built %.1f\npeak %.1f\nstep_delta %.1f" % (
    start, built, peak, peak - start))
'''


def parse(out):
    return {k: float(v) for k, v in (l.split() for l in out.splitlines())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build-rel/bench/bench_memory")
    args = ap.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    print("| training step | libtl start / built / peak MiB | libtl step"
          " delta MiB | torch start / built / peak MiB | torch step delta MiB"
          " | libtl / torch delta |")
    print("|---|---|---|---|---|---|")
    for name, cargs, targs in CASES:
        c = parse(subprocess.run([args.bin] + [str(a) for a in cargs],
                                 env=env, check=True, capture_output=True,
                                 text=True).stdout)
        if have_torch:
            t = parse(subprocess.run(
                [sys.executable, "-c", TORCH_CHILD] + [str(a) for a in targs],
                env=env, check=True, capture_output=True, text=True).stdout)
            tcol = "%.0f / %.0f / %.0f | %.0f | %.2f" % (
                t["rss_start"], t["rss_built"], t["peak"], t["step_delta"],
                c["step_delta"] / t["step_delta"])
        else:
            tcol = "absent | | "
        print("| %s | %.0f / %.0f / %.0f | %.0f | %s |" % (
            name, c["rss_start"], c["rss_built"], c["peak"], c["step_delta"],
            tcol), flush=True)


if __name__ == "__main__":
    main()
