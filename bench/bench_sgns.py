#!/usr/bin/python3
"""Skip-gram with negative sampling: libtl's tl_sgns_train (bench_sgns)
against Debian's python3-gensim (Word2Vec(sg=1, hs=0)) on the same corpus:
the first sentences of data/nlp_corpus.txt.xz, lower-cased and split on
[a-z0-9']+ (the same ids for both), with the same hyperparameters (word2vec's
defaults: dim 100, window 5, negative 5, sample 1e-3, min_count 5, 5 epochs).

Prints a markdown table: words per second per thread (corpus words before
sub-sampling, over all epochs: word2vec's and gensim's own rate) for 1 and
2 threads, and a word-similarity sanity check: the Spearman correlation
between the two models' cosines over fixed random pairs of frequent words,
against the same correlation between two gensim runs with different seeds
(the noise floor of one implementation); and the neighbours of a few words.

Usage: /usr/bin/python3 bench/bench_sgns.py [--bin build-rel/bench/bench_sgns]
       [--words 300000] [--quick]
"""
import argparse
import lzma
import os
import re
import struct
import subprocess
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TOKEN = re.compile(r"[a-z0-9']+")
PARAMS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5)
QUERIES = ["film", "movie", "good", "government", "money", "music", "water", "three"]


def corpus(n_words):
    sents, total = [], 0
    with lzma.open(os.path.join(ROOT, "data", "nlp_corpus.txt.xz"), "rt",
                   encoding="utf-8") as f:
        for line in f:
            toks = TOKEN.findall(line.lower())
            if toks:
                sents.append(toks)
                total += len(toks)
            if total >= n_words:
                break
    return sents, total


def run_libtl(binary, sents, vocab, threads, seed):
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.array([index[w] for s in sents for w in s], dtype="<i8")
    lens = np.array([len(s) for s in sents], dtype="<u8")
    with tempfile.TemporaryDirectory() as tmp:
        cpath, opath = os.path.join(tmp, "corpus.bin"), os.path.join(tmp, "emb.f32")
        with open(cpath, "wb") as f:
            f.write(struct.pack("<3Q", ids.size, lens.size, len(vocab)))
            f.write(ids.tobytes())
            f.write(lens.tobytes())
        p = PARAMS
        out = subprocess.run([binary, cpath, opath, str(p["dim"]), str(p["window"]),
                              str(p["negative"]), repr(p["sample"]), str(p["min_count"]),
                              str(p["epochs"]), str(threads), str(seed)],
                             check=True, capture_output=True, text=True).stdout
        r = {k: float(v) for k, v in (line.split() for line in out.splitlines())}
        emb = np.fromfile(opath, dtype=np.float32).reshape(len(vocab), p["dim"])
    return emb, r["seconds"]


def run_gensim(sents, threads, seed):
    from gensim.models import Word2Vec
    p = PARAMS
    t0 = time.perf_counter()
    m = Word2Vec(sents, vector_size=p["dim"], window=p["window"], negative=p["negative"],
                 sample=p["sample"], min_count=p["min_count"], epochs=p["epochs"], sg=1,
                 hs=0, workers=threads, seed=seed)
    return m.wv, time.perf_counter() - t0


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def unit(e):
    n = np.linalg.norm(e, axis=1, keepdims=True)
    return e / np.where(n > 0, n, 1)


def neighbours(e, words, vocab, k=5):
    u = unit(e)
    out = {}
    for w in words:
        if w in vocab:
            i = vocab.index(w)
            order = np.argsort(-(u @ u[i]))
            out[w] = [vocab[j] for j in order if j != i][:k]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build-rel", "bench", "bench_sgns"))
    ap.add_argument("--words", type=int, default=300000)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n_words = 60000 if a.quick else a.words
    try:
        import gensim  # noqa: F401
    except ImportError:
        print("bench_sgns: needs Debian's python3-gensim (apt-get install -y python3-gensim)")
        return
    sents, total = corpus(n_words)
    counts = {}
    for s in sents:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    # Every word gets an id; libtl drops those below min_count itself.
    vocab = sorted(counts, key=lambda w: (-counts[w], w))
    print("corpus: %d sentences, %d words, %d types (%d with count >= %d)\n" % (
        len(sents), total, len(vocab), sum(c >= PARAMS["min_count"] for c in counts.values()),
        PARAMS["min_count"]))
    rows, models = [], {}
    for threads in (1, 2):
        emb, t = run_libtl(a.bin, sents, vocab, threads, seed=1)
        rows.append(("libtl tl_sgns_train", threads, total * PARAMS["epochs"] / t / threads, t))
        models[("libtl", threads)] = emb
        wv, t = run_gensim(sents, threads, seed=1)
        rows.append(("gensim %s Word2Vec(sg=1)" % gensim.__version__, threads,
                     total * PARAMS["epochs"] / t / threads, t))
        models[("gensim", threads)] = np.stack([wv[w] if w in wv.key_to_index
                                                else np.zeros(PARAMS["dim"], np.float32)
                                                for w in vocab])
    wv2, _ = run_gensim(sents, 1, seed=2)
    gensim2 = np.stack([wv2[w] if w in wv2.key_to_index else np.zeros(PARAMS["dim"], np.float32)
                        for w in vocab])
    print("| trainer | threads | words/s per thread | seconds |")
    print("|---|---|---|---|")
    for name, th, wps, t in rows:
        print("| %s | %d | %.0f | %.2f |" % (name, th, wps, t))
    # Pairs of words among the 2000 most frequent (all above min_count).
    top = min(2000, sum(c >= 50 for c in counts.values()))
    rng = np.random.RandomState(0)
    i, j = rng.randint(0, top, 5000), rng.randint(0, top, 5000)
    keep = i != j
    i, j = i[keep], j[keep]

    def cos(e):
        u = unit(e)
        return np.sum(u[i] * u[j], axis=1)
    c_tl, c_gs, c_gs2 = cos(models[("libtl", 1)]), cos(models[("gensim", 1)]), cos(gensim2)
    print("\nSpearman correlation of pair cosines (%d pairs of the %d most frequent words):\n"
          % (i.size, top))
    print("| models | rho |")
    print("|---|---|")
    print("| libtl (seed 1) vs gensim (seed 1) | %.3f |" % spearman(c_tl, c_gs))
    print("| gensim (seed 1) vs gensim (seed 2) | %.3f |" % spearman(c_gs, c_gs2))
    print("| libtl 1 thread vs libtl 2 threads | %.3f |"
          % spearman(c_tl, cos(models[("libtl", 2)])))
    print("\nNearest neighbours (cosine), 1 thread:\n")
    n_tl = neighbours(models[("libtl", 1)], QUERIES, vocab)
    n_gs = neighbours(models[("gensim", 1)], QUERIES, vocab)
    print("| word | libtl | gensim |")
    print("|---|---|---|")
    for w in QUERIES:
        if w in n_tl:
            print("| %s | %s | %s |" % (w, ", ".join(n_tl[w]), ", ".join(n_gs[w])))


if __name__ == "__main__":
    main()
