#!/usr/bin/env python3
"""ULMFiT end to end through the Python binding: the pipeline of the C
program examples/ulmfit/ulmfit.c (docs/ulmfit.md), written the way a fastai
notebook reads.

    PYTHONPATH=bindings/python TL_LIBRARY=build/lib/libtl.so \\
        python3 examples/ulmfit.py --quick

For the same settings and seed it prints the same numbers as
build/examples/ulmfit: the held-out perplexity of the target LM before and
after fine-tuning, and test accuracy / macro-F1 of every method
(bindings/python/tests/test_example_ulmfit.py runs both on a small setting
and compares them). Same data, same split, same calls into libtl in the
same order; numpy only does what the C program does by hand (tf-idf,
pooling, standardising), in the same floating-point order.

  stage 1  the shipped pretrained AWD-LSTM LM (data/ulmfit_lm.tlc);
           pretraining it from scratch (ulmfit --full) is C only, and so
           is reading the general domain (data/nlp_corpus.txt.xz)
  stage 2  fine-tune the LM on the target documents
  stage 3  the classifier: load_encoder, gradual unfreezing
  stage 4  baselines: ULMFiT without LM fine-tuning, from scratch, feature
           extraction (frozen pretrained encoder + logistic regression) and
           a tf-idf bag of words, all on the same labelled subsets
  stage 5  the table and --json; the domain-similarity report is C only
  stage 6  predict with the exported classifier

Unlike the C program it keeps no cache of results between runs (--work only
holds the encoders and the exported classifier).
"""
import argparse
import itertools
import json
import lzma
import math
import os
import sys
import tempfile
import time

import numpy as np

import tl

CLASSES = ["news", "religion", "hobbies", "government", "learned"]
# The classifier's labels: tl.LabelVocab sorts labels (fastai's
# CategoryMap), and these sort in class order, so the trained ids name the
# right genre (as corpora.c's ul_class_label).
LABELS = ["A news", "D religion", "E hobbies", "H government", "J learned"]
GENRES = ["A", "D", "E", "H", "J"]  # of CLASSES; the other 10: general domain
TRAIN, VALID, TEST = 0, 1, 2
MOMS = (0.8, 0.7, 0.8)  # fastai's text learners
LR_DIV = 2.6 * 2.6 * 2.6 * 2.6  # ULMFiT's 2.6^4, multiplied as classify.c does
METHODS = ["ulmfit", "no_lm_finetune", "scratch", "feature_extraction",
           "bag_of_words"]
DEMO_TEXTS = [
    "The mayor told reporters on Tuesday that the city council would vote "
    "next week on the new budget, which includes money for schools and roads.",
    "The results of the experiment suggest that the rate of the reaction "
    "depends on the temperature of the solution and on the concentration of "
    "the catalyst."]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="50 labels per class, 8 LM documents, 300 test "
                   "passages; ulmfit, scratch and bag of words only")
    p.add_argument("--data", default="data")
    p.add_argument("--pretrained", help="default: DATA/ulmfit_lm.tlc")
    p.add_argument("--work", help="encoders and classifier (default: a "
                   "temporary directory)")
    p.add_argument("--json")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--budgets", help="labels per class, e.g. 25,50,100,all")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--lm-epochs", type=int)
    p.add_argument("--lm-docs", type=int, help="target documents for stage 2")
    p.add_argument("--lm-bs", type=int, default=64)
    p.add_argument("--test-max", type=int, help="test passages evaluated")
    a = p.parse_args(argv)
    # ulmfit.c's defaults, then what --quick changes, then explicit flags.
    a.lm_frozen_epochs, a.stage_epochs, a.min_steps = 1, [1, 1, 1, 2], 12
    a.methods = list(METHODS)
    budgets, lm_epochs, lm_docs, test_max = "100", 1, 0, 0
    if a.quick:
        budgets, lm_docs, test_max = "50", 8, 300
        a.lm_frozen_epochs, a.stage_epochs[3], a.min_steps = 0, 1, 0
        a.methods = ["ulmfit", "scratch", "bag_of_words"]
    a.budgets = [0 if b == "all" else int(b)
                 for b in (a.budgets or budgets).split(",")]
    a.lm_epochs = lm_epochs if a.lm_epochs is None else a.lm_epochs
    a.lm_docs = lm_docs if a.lm_docs is None else a.lm_docs
    a.test_max = test_max if a.test_max is None else a.test_max
    a.pretrained = a.pretrained or os.path.join(a.data, "ulmfit_lm.tlc")
    return a


# ---- data (corpora.c) ---------------------------------------------------------

def read_brown(data):
    """The Brown documents of the task genres (text, class) and their
    passages of 5 consecutive sentences (text, class, document)."""
    path = os.path.join(data, "brown.tsv.xz")
    with lzma.open(path) as f:
        lines = f.read().decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    rows = [line.split("\t", 2) for line in lines]  # document, genre, sentence
    if any(len(r) != 3 for r in rows):
        raise ValueError(path + ": expected document<TAB>genre<TAB>sentence")
    docs, passages = [], []
    for _, doc in itertools.groupby(rows, key=lambda r: r[0]):
        lines_of_doc = list(doc)
        genre, sentences = lines_of_doc[0][1], [r[2] for r in lines_of_doc]
        if genre not in GENRES:
            continue  # general domain: pretraining only
        k, d = GENRES.index(genre), len(docs)
        docs.append((" ".join(sentences), k))
        passages.extend((" ".join(sentences[i:i + 5]), k, d)
                        for i in range(0, len(sentences) - 4, 5))
    return docs, passages


def split_documents(doc_labels, valid_frac=0.1, test_frac=0.25, seed=0):
    """Side of each document: the test documents stratified by genre, then
    validation among the rest (valid_frac is a share of all documents)."""
    is_test = tl.split_stratified(doc_labels, test_frac, len(CLASSES), seed)
    rest = np.flatnonzero(~is_test)
    is_valid = tl.split_stratified(doc_labels[rest], valid_frac / (1.0 - test_frac),
                                   len(CLASSES), seed ^ 0x9e3779b97f4a7c15)
    side = np.where(is_test, TEST, TRAIN)
    side[rest[is_valid]] = VALID
    return side


# ---- the logistic regression of the baselines (logreg.c) ----------------------

def logreg_fit_predict(x, y, xt, seed, C=1.0, iterations=300, lr=0.05):
    """scikit-learn's LogisticRegression objective (mean cross-entropy +
    ||W||^2 / (2 C n), the bias free) fitted full-batch with a tl.Model
    linear layer and Adam; the predicted class of each row of xt."""
    model = tl.Model(seed=seed)
    model.add_linear("fc", x.shape[1], len(CLASSES))
    opt = tl.Optimizer(model, "adam", lr=lr)
    w, gw = model.param_view("fc.weight"), model.grad_view("fc.weight")
    l2 = np.float32(1.0 / (C * len(x)))
    for _ in range(iterations):
        opt.zero_grad()
        _, dlogits = tl.cross_entropy(model.forward(x), y)
        model.backward(dlogits, input_grad=False)
        gw += l2 * w  # the L2 term's gradient, by hand to leave the bias free
        opt.step()
    model.eval()
    return model.forward(xt).argmax(1)


def sequential_sum(rows):
    """Sum of float64 rows added one after the other, as the C loops do
    (numpy's own sums may pair terms differently)."""
    out = np.zeros(rows.shape[1])
    for r in rows:
        out += r
    return out


# ---- stage 4 baselines ---------------------------------------------------------

def bag_of_words(tokens, labels, train, test, seed, max_features=10000):
    """tf-idf (scikit-learn's TfidfVectorizer: smooth idf, unit rows) over
    the max_features most frequent training tokens, and logreg (bow.c)."""
    counts = tl.TokenCounts()
    for i in train:
        counts.add(tokens[i])
    feats = tl.Vocab.from_counts(counts, min_freq=1, pad_multiple=0,
                                 max_vocab=max_features + len(tl.SPECIALS))
    n_feat = len(feats) - 3  # ids 0-2 (xxunk, xxpad, xxbos) are no words

    def count_rows(docs):
        x = np.zeros((len(docs), n_feat), dtype=np.float32)
        for r, i in enumerate(docs):
            ids = feats.encode(tokens[i])
            np.add.at(x[r], ids[ids >= 3] - 3, 1.0)
        return x

    x, xt = count_rows(train), count_rows(test)
    df = (x != 0).sum(0)
    idf = np.array([math.log((1.0 + len(train)) / (1.0 + d)) + 1.0 for d in df])

    def tfidf(rows):
        rows = (rows * idf).astype(np.float32)
        sq = rows.astype(np.float64) ** 2
        norm = np.cumsum(sq, axis=1)[:, -1]  # left to right, as bow.c
        inv = 1.0 / np.sqrt(np.where(norm > 0, norm, 1.0))  # 0 rows stay 0
        return (rows * inv[:, None]).astype(np.float32)

    return logreg_fit_predict(tfidf(x), labels[train], tfidf(xt), seed)


class Features:
    """Feature extraction: fastai's concat pooling [last, max, mean] of the
    frozen pretrained encoder's outputs (classify.c's ul_features_*)."""

    def __init__(self, pretrained, config, tokens):
        vocab = tl.Vocab(tl.checkpoint.Checkpoint.load(pretrained).vocab)
        self.lm = tl.language_model_learner(vocab, pretrained=pretrained,
                                            config=config)
        self.enc = tl.Predictor(self.lm.models[0], None)
        self.vocab, self.tokens, self.cache = vocab, tokens, {}

    def __call__(self, passages):
        for i in passages:
            if i not in self.cache:
                y = self.enc.encode(self.vocab.encode(self.tokens[i]))[:, 0, :]
                mean = sequential_sum(y.astype(np.float64)) / len(y)
                self.cache[i] = np.concatenate(
                    [y[-1], y.max(0), mean.astype(np.float32)])
        return np.stack([self.cache[i] for i in passages])


def feature_extraction(features, labels, train, test, seed):
    x, xt = features(train).astype(np.float64), features(test).astype(np.float64)
    mean = sequential_sum(x) / len(x)
    sd = np.sqrt(sequential_sum((x - mean) ** 2) / len(x))
    inv = 1.0 / np.where(sd > 0, sd, 1.0)
    return logreg_fit_predict(((x - mean) * inv).astype(np.float32), labels[train],
                              ((xt - mean) * inv).astype(np.float32), seed)


# ---- the pipeline --------------------------------------------------------------

def main(argv=None):
    a = parse_args(argv)
    t0 = time.time()
    tl.set_num_threads(a.threads)
    work = a.work or tempfile.mkdtemp(prefix="ulmfit_py_")
    os.makedirs(work, exist_ok=True)
    enc_pre, enc_ft = (os.path.join(work, "encoder_%s.tlc" % k)
                       for k in ("pretrained", "finetuned"))
    export = os.path.join(work, "classifier.tlc")

    # Data: documents split by genre, passages inherit their document's side.
    docs, passages = read_brown(a.data)
    doc_labels = np.array([k for _, k in docs])
    doc_side = split_documents(doc_labels)
    labels = np.array([k for _, k, _ in passages])
    side = np.array([doc_side[d] for _, _, d in passages])

    # Tokens (fastai's rules) and the vocabulary of the training documents.
    tok = tl.Tokenizer()
    doc_tokens = tok.tokenize_many([t for t, _ in docs], a.threads)
    counts = tl.TokenCounts()
    for d in np.flatnonzero(doc_side == TRAIN):
        counts.add(doc_tokens[d])
    vocab = tl.Vocab.from_counts(counts, min_freq=3, max_vocab=60000)
    doc_ids = [vocab.encode(t) for t in doc_tokens]
    tokens = tok.tokenize_many([t for t, _, _ in passages], a.threads)
    ids = [vocab.encode(t) for t in tokens]

    train_all, test = np.flatnonzero(side == TRAIN), np.flatnonzero(side == TEST)
    if a.test_max and a.test_max < len(test):  # evenly spaced: every genre
        test = test[[i * len(test) // a.test_max for i in range(a.test_max)]]
    if a.lm_docs:  # stage 2 on the first lm_docs training documents
        doc_side = doc_side.copy()
        for s, keep in ((TRAIN, a.lm_docs), (TEST, (a.lm_docs + 1) // 2)):
            doc_side[np.flatnonzero(doc_side == s)[keep:]] = VALID
    print("task: %d passages (%d train, %d test, %d evaluated), target "
          "vocabulary %d" % (len(passages), len(train_all),
                             np.sum(side == TEST), len(test), len(vocab)),
          file=sys.stderr)

    # Stage 1: the pretrained LM's sizes, from its checkpoint's metadata.
    meta = tl.checkpoint.Checkpoint.load(a.pretrained).meta
    cfg = dict(kv.split("=") for kv in meta["ulmfit.config"].split())
    config = {"emb_sz": int(cfg["emb"]), "n_hid": int(cfg["hid"]),
              "n_layers": int(cfg["layers"])}

    # Stage 2: fine-tune the LM on the target training documents.
    def lm_loader(s, **kw):
        return tl.LMLoader([doc_ids[d] for d in np.flatnonzero(doc_side == s)],
                           len(vocab), bs=a.lm_bs, bptt=70, seed=0, **kw)

    lm_train = lm_loader(TRAIN)
    lm_valid = lm_loader(TEST, variable_length=False, shuffle=False)
    lm = tl.language_model_learner(vocab, drop_mult=0.3, pretrained=a.pretrained,
                                   config=config, train=lm_train, valid=lm_valid,
                                   metrics=["perplexity"], progress=True)
    ppl_before = lm.validate()[1]
    lm.save_encoder(enc_pre)
    lm.set_data(lm_train)  # perplexity measured once before, once after
    if a.lm_frozen_epochs:
        lm.fit_one_cycle(a.lm_frozen_epochs, 2e-2, moms=MOMS)
    lm.unfreeze()
    if a.lm_epochs:
        lm.fit_one_cycle(a.lm_epochs, 2e-3, moms=MOMS)
    lm.set_data(lm_train, lm_valid)
    ppl_after = lm.validate()[1]
    lm.save_encoder(enc_ft)
    lm.close()
    print("target LM perplexity (held-out target documents): %.2f with the "
          "pretrained LM, %.2f fine-tuned" % (ppl_before, ppl_after))

    # Stage 3: the classifier, with gradual unfreezing from an encoder, or
    # trained from scratch (encoder None).
    def classify(train, encoder, seed, export_to=None, lr=2e-2, bs=32):
        train_dl = tl.ClasLoader([ids[i] for i in train], labels[train], len(vocab),
                                 len(CLASSES), bs=bs, pad_first=False, seed=seed)
        test_dl = tl.ClasLoader([ids[i] for i in test], labels[test], len(vocab),
                                len(CLASSES), bs=64, shuffle=False,
                                pad_first=False, seed=seed)
        learn = tl.text_classifier_learner(
            vocab, tl.LabelVocab(LABELS), drop_mult=0.5, max_len=0,
            config=config, seed=seed, train=train_dl, progress=True)
        # Epochs per stage: at least min_steps steps each.
        batches = math.ceil(len(train) / bs)
        scale = 1 if batches >= a.min_steps else math.ceil(a.min_steps / batches)
        e = [n * scale for n in a.stage_epochs]
        if encoder:
            learn.load_encoder(encoder)
            learn.freeze()
            learn.fit_one_cycle(e[0], lr, moms=MOMS)
            learn.freeze_to(-2)
            learn.fit_one_cycle(e[1], slice(lr / 2 / LR_DIV, lr / 2), moms=MOMS)
            learn.freeze_to(-3)
            learn.fit_one_cycle(e[2], slice(lr / 4 / LR_DIV, lr / 4), moms=MOMS)
            learn.unfreeze()
            learn.fit_one_cycle(e[3], slice(lr / 20 / LR_DIV, lr / 20), moms=MOMS)
        else:
            learn.unfreeze()
            learn.fit_one_cycle(sum(e), 1e-2, moms=MOMS)
        probs, truth = learn.get_preds(test_dl)
        if export_to:
            learn.export(export_to)
        learn.close()
        return probs.argmax(1), truth

    # Stages 3 and 4: every method on the same labelled subset per budget
    # and seed.
    features = None
    results = {}  # (method, budget, seed) -> (accuracy, macro-F1, seconds)
    for budget in a.budgets:
        for seed in range(a.seeds):
            train = (train_all if budget == 0 else train_all[tl.subset_per_class(
                labels[train_all], budget, len(CLASSES), seed)])
            for m in a.methods:
                t = time.time()
                truth = labels[test]
                if m in ("ulmfit", "no_lm_finetune", "scratch"):
                    enc = {"ulmfit": enc_ft, "no_lm_finetune": enc_pre}.get(m)
                    main = m == "ulmfit" and budget == a.budgets[0] and seed == 0
                    pred, truth = classify(train, enc, seed, export if main else None)
                elif m == "feature_extraction":
                    if features is None:
                        features = Features(a.pretrained, config, tokens)
                        features(test)
                    pred = feature_extraction(features, labels, train, test, seed)
                else:
                    pred = bag_of_words(tokens, labels, train, test, seed)
                r = tl.text.classification_metrics(pred, truth, len(CLASSES))
                results[m, budget, seed] = (r["accuracy"], r["macro_f1"],
                                            time.time() - t)
                print("%s, %s labels per class, seed %d: accuracy %.4f, "
                      "macro-F1 %.4f" % (m, budget or "all", seed, r["accuracy"],
                                         r["macro_f1"]), file=sys.stderr)

    # Stage 5: the table (mean +- sd over seeds) and the JSON.
    def stats(m, b, field):
        v = [results[m, b, s][field] for s in range(a.seeds)]
        return np.mean(v), (np.std(v, ddof=1) if len(v) > 1 else 0.0), len(v)

    print("\nTest accuracy / macro-F1 on %d passages (mean +- sd over seeds)"
          % len(test))
    print("%-20s" % "labels per class"
          + "".join(" %25s" % (b or "all") for b in a.budgets))
    for m in a.methods:
        cells = []
        for b in a.budgets:
            acc, sd, n = stats(m, b, 0)
            cells.append(" %25s" % ("%.3f+-%.3f / %.3f (%d)"
                                    % (acc, sd, stats(m, b, 1)[0], n)))
        print("%-20s" % m + "".join(cells))
    seconds = time.time() - t0
    if a.json:  # ulmfit.c's fields, at full precision
        b = a.budgets[0]

        def mean(m, field=0):
            return float(stats(m, b, field)[0]) if m in a.methods else None

        out = {"labels_per_class": b or "all",
               "transfer_accuracy": mean("ulmfit"),
               "scratch_accuracy": mean("scratch"),
               "feature_extraction_accuracy": mean("feature_extraction"),
               "bow_accuracy": mean("bag_of_words"),
               "no_lm_finetune_accuracy": mean("no_lm_finetune"),
               "transfer_macro_f1": mean("ulmfit", 1),
               "scratch_macro_f1": mean("scratch", 1),
               "test_passages": len(test),
               "lm_perplexity_before": ppl_before,
               "lm_perplexity_after": ppl_after,
               "runs": [{"method": m, "labels_per_class": str(b or "all"),
                         "seed": s, "accuracy": r[0], "macro_f1": r[1],
                         "seconds": round(r[2], 1)}
                        for (m, b, s), r in sorted(
                            results.items(), key=lambda kv: METHODS.index(kv[0][0]))],
               "seconds": round(seconds, 1)}
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)

    # Stage 6: predict with the exported classifier.
    if "ulmfit" in a.methods:
        clas = tl.load_learner(export)
        print()
        for text in DEMO_TEXTS:
            label, _, probs = clas.predict(text)
            print("predict: %s\n  -> %s (%s)" % (text, label, ", ".join(
                "%s %.3f" % (clas.labels.label(k), p) for k, p in enumerate(probs))))
    print("\n%.0f s in all" % seconds)


if __name__ == "__main__":
    main()
