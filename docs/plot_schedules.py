#!/usr/bin/python3
"""Figures of every libtl schedule for docs/schedules.md.

Reads the CSV written by examples/schedules.c (schedule, step, lr, momentum)
and writes PNGs to docs/img/. Run from the source tree after building:

    build/examples/schedules /tmp/schedules.csv
    /usr/bin/python3 docs/plot_schedules.py /tmp/schedules.csv

Needs matplotlib (Debian: python3-matplotlib).
"""
import csv
import os
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
IMG = os.path.join(HERE, "img")

TITLES = OrderedDict([
    ("stlr", "STLR (ULMFiT): cut_frac 0.1, ratio 32"),
    ("cyclic_triangular", "CLR triangular, step 100"),
    ("cyclic_triangular2", "CLR triangular2, step 100"),
    ("cyclic_exp_range", "CLR exp_range, gamma 0.998"),
    ("cosine", "Cosine annealing, T_max 1000"),
    ("cosine_restarts", "SGDR: T_0 100, T_mult 2"),
    ("one_cycle", "One-cycle (PyTorch): pct 0.3, cos"),
    ("one_cycle_three_phase_linear", "One-cycle (PyTorch): three-phase, linear"),
    ("fastai_one_cycle", "One-cycle (fastai fit_one_cycle)"),
    ("warmup_then_cosine", "Sequential: linear warm-up 100, cosine"),
    ("constant", "Constant (x1/3 for 100 steps)"),
    ("step", "Step decay: 250 steps, gamma 0.5"),
    ("exponential", "Exponential: gamma 0.997"),
    ("multi_step", "Multi-step: 300/600/900, gamma 0.3"),
])


def read(path):
    data = OrderedDict()
    with open(path) as f:
        for row in csv.DictReader(f):
            d = data.setdefault(row["schedule"], {"step": [], "lr": [], "mom": []})
            d["step"].append(int(row["step"]))
            d["lr"].append(float(row["lr"]))
            d["mom"].append(float(row["momentum"]) if row["momentum"] else None)
    return data


def plot_one(ax, d, title):
    ax.plot(d["step"], d["lr"], color="tab:blue", lw=1.4)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("step", fontsize=8)
    ax.set_ylabel("lr", color="tab:blue", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax.yaxis.get_offset_text().set_fontsize(7)
    if d["mom"][0] is not None:
        ax2 = ax.twinx()
        ax2.plot(d["step"], d["mom"], color="tab:orange", lw=1.1, ls="--")
        ax2.set_ylabel("momentum", color="tab:orange", fontsize=8)
        ax2.tick_params(labelsize=7)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data = read(sys.argv[1])
    os.makedirs(IMG, exist_ok=True)

    names = [n for n in TITLES if n in data]
    cols = 3
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(13, 2.7 * rows))
    for ax, name in zip(axes.flat, names):
        plot_one(ax, data[name], TITLES[name])
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle("libtl schedules over 1000 steps (lr solid, momentum dashed)",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(os.path.join(IMG, "schedules.png"), dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for g in range(4):
        d = data["stlr_group%d" % g]
        ax.plot(d["step"], d["lr"], lw=1.4,
                label="group %d: lr / 2.6^%d" % (g, 3 - g))
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("lr")
    ax.set_title("Discriminative fine-tuning: tl_sched_fill_group_lrs with STLR")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(IMG, "stlr_groups.png"), dpi=80)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for name, label in (("one_cycle", "PyTorch OneCycleLR"),
                        ("fastai_one_cycle", "fastai fit_one_cycle")):
        d = data[name]
        axes[0].plot(d["step"], d["lr"], label=label)
        axes[1].plot(d["step"], d["mom"], label=label)
    axes[0].set_title("one-cycle learning rate (max 0.01)")
    axes[1].set_title("one-cycle momentum")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(IMG, "one_cycle_flavours.png"), dpi=80)
    plt.close(fig)
    print("wrote", ", ".join(sorted(os.listdir(IMG))))


if __name__ == "__main__":
    main()
