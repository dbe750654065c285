#!/usr/bin/python3
"""Runs bench_text (the word tokenizer, single-threaded) and prints a
markdown table of its throughput. Target: at least 20 MB/s of English text.

Usage: /usr/bin/python3 bench/bench_text.py [--bin build-rel/bench/bench_text] [--quick]
"""
import argparse
import subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build-rel/bench/bench_text")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    mb, rounds = ("5", "3") if a.quick else ("20", "5")
    out = subprocess.run([a.bin, mb, "2000", rounds], check=True,
                         capture_output=True, text=True).stdout
    r = {k: float(v) for k, v in (line.split() for line in out.splitlines())}
    print("| benchmark | MB/s median | MB/s best | tokens/s | target |")
    print("|---|---|---|---|---|")
    print("| tokenizer, %.0f MB in %d docs | %.1f | %.1f | %.3g | >= 20 MB/s |" % (
        r["bytes"] / 1e6, r["docs"], r["mb_per_s_median"], r["mb_per_s_best"],
        r["tokens_per_s"]))


if __name__ == "__main__":
    main()
