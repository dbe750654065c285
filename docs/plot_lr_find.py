#!/usr/bin/python3
"""Plots the record of an LR range test as a PNG (fastai's
Recorder.plot_lr_find): smoothed loss against learning rate on a log axis,
with the suggestions marked.

Reads the CSV that tl_learner_lr_find (C) or tl.Learner.lr_find(csv=...)
(Python) writes: comment lines starting with '#' (the suggestions and the
"falling_at_end" flag), then "lr,loss" and one row per point.

    /usr/bin/python3 docs/plot_lr_find.py lr_find.csv lr_find.png

Needs matplotlib (Debian: python3-matplotlib).
"""
import csv
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    """(lrs, losses, suggestions dict, falling_at_end) from the CSV."""
    lrs, losses, sugg, falling = [], [], {}, False
    with open(path, newline="") as f:
        rows = []
        for line in f:
            if line.startswith("#"):
                for name, value in re.findall(r"(minimum|steep|valley) ([0-9.eE+-]+)", line):
                    sugg[name] = float(value)
                m = re.search(r"falling_at_end (\d)", line)
                if m:
                    falling = m.group(1) == "1"
            else:
                rows.append(line)
    for row in csv.DictReader(rows):
        lrs.append(float(row["lr"]))
        losses.append(float(row["loss"]))
    return lrs, losses, sugg, falling


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: plot_lr_find.py RECORD.csv OUT.png")
    lrs, losses, sugg, falling = read(argv[1])
    if not lrs:
        sys.exit("%s has no points" % argv[1])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(lrs, losses)
    ax.set_xscale("log")
    ax.set_xlabel("Learning Rate")
    ax.set_ylabel("Loss (smoothed)")
    markers = {"minimum": "ro", "steep": "g^", "valley": "bs"}
    for name, lr in sugg.items():
        # the suggestion's loss: the recorded point nearest in log lr
        i = min(range(len(lrs)), key=lambda k: abs(lrs[k] / lr - 1.0))
        ax.plot([lr], [losses[i]], markers[name], label="%s: %.2e" % (name, lr))
    title = "LR range test"
    if falling:
        title += " (loss still falling at the end: raise end_lr)"
    ax.set_title(title, fontsize=9)
    if sugg:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(argv[2], dpi=100)
    print("wrote %s (%d points)" % (argv[2], len(lrs)))


if __name__ == "__main__":
    main(sys.argv)
