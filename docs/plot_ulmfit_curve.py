#!/usr/bin/python3
"""Learning curves of the ULMFiT example (docs/ulmfit.md) as a PNG.

Reads the CSV that `build/examples/ulmfit` writes (WORK/results.csv, or
--csv PATH: method,labels_per_class,seed,accuracy,macro_f1,seconds) and
draws test accuracy against labelled passages per class for each method,
mean over seeds with the spread as error bars, like Figure 3 of the ULMFiT
paper. Needs Debian's python3-matplotlib (apt-get install
python3-matplotlib); the library and its tests do not.

Usage: docs/plot_ulmfit_curve.py RESULTS.csv [OUT.png]
       (default OUT: docs/ulmfit_curve.png)
"""
import csv
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "ulmfit": "ULMFiT (LM fine-tuned, gradual unfreezing)",
    "no_lm_finetune": "ULMFiT without LM fine-tuning",
    "scratch": "same classifier from scratch",
    "feature_extraction": "feature extraction (frozen encoder + LR)",
    "bag_of_words": "tf-idf + logistic regression",
}


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    out = argv[2] if len(argv) == 3 else "docs/ulmfit_curve.png"
    rows = defaultdict(list)  # (method, budget) -> accuracies
    n_all = None
    with open(argv[1], newline="") as f:
        for r in csv.DictReader(f):
            rows[(r["method"], r["labels_per_class"])].append(float(r["accuracy"]))
    budgets = sorted({b for _, b in rows if b != "all"}, key=int)
    # "all" is drawn at the training set's passages per class on average.
    x_of = {b: int(b) for b in budgets}
    if any(b == "all" for _, b in rows):
        n_all = 2727 / 5
        x_of["all"] = n_all
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, label in LABELS.items():
        pts = sorted(
            ((x_of[b], statistics.mean(a), statistics.stdev(a) if len(a) > 1 else 0.0)
             for (m, b), a in rows.items() if m == method),
            key=lambda p: p[0])
        if not pts:
            continue
        xs, ys, es = zip(*pts)
        ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=label)
    ax.set_xscale("log")
    ticks = [x_of[b] for b in budgets] + ([n_all] if n_all else [])
    ax.set_xticks(ticks)
    ax.set_xticklabels(budgets + (["all (2,727)"] if n_all else []))
    ax.set_xlabel("labelled passages per class")
    ax.set_ylabel("test accuracy (5 genres, 1,002 passages)")
    ax.set_title("Brown genre task: transfer vs. baselines (mean ± sd over seeds)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main(sys.argv)
