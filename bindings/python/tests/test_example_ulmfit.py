"""examples/ulmfit.py (the ULMFiT pipeline through the binding) gives the
numbers of the C program examples/ulmfit/ulmfit.c: both run on one small
setting and must agree on everything they print and save (perplexities,
accuracies and macro-F1 to the last bit, the encoder files and the exported
classifier byte for byte, the predictions)."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCRIPT = os.path.join(ROOT, "examples", "ulmfit.py")
DATA = os.path.join(ROOT, "data")
# --quick's methods (ULMFiT, scratch, bag of words) on 2 labels per class,
# 2 LM documents in batches of 16 and 20 test passages: seconds, not the
# minutes of the real thing, but every stage runs. One thread each, so the
# two programs can share the two cores.
ARGS = ["--quick", "--budgets", "2", "--lm-docs", "2", "--lm-bs", "16",
        "--test-max", "20", "--threads", "1", "--data", DATA]
ENCODERS = ["encoder_pretrained.tlc", "encoder_finetuned.tlc", "classifier.tlc"]


def _program():
    path = os.environ.get("TL_ULMFIT_PROGRAM")
    if path:
        return path
    lib = os.environ.get("TL_LIBRARY", "")
    build = os.path.dirname(os.path.dirname(os.path.abspath(lib)))
    path = os.path.join(build, "examples", "ulmfit")
    if not os.path.exists(path):
        pytest.skip("no examples/ulmfit next to $TL_LIBRARY (set "
                    "TL_ULMFIT_PROGRAM to the built C program)")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        # Minutes under the sanitizers; the C pipeline is checked there by
        # the meson test example-ulmfit, the binding by the other tests.
        pytest.skip("not under ASan")
    if not os.path.exists(os.path.join(DATA, "ulmfit_lm.tlc")):
        pytest.skip("data/ulmfit_lm.tlc is not there")
    program = _program()
    tmp = tmp_path_factory.mktemp("ulmfit")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.join(ROOT, "bindings", "python"), os.environ.get("PYTHONPATH", "")]))
    procs = {}
    for name, cmd in (("c", [program]), ("py", [sys.executable, SCRIPT])):
        work = tmp / name
        procs[name] = (work, subprocess.Popen(
            cmd + ARGS + ["--work", str(work), "--json", str(tmp / (name + ".json"))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    out = {}
    for name, (work, p) in procs.items():
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, "%s failed:\n%s" % (name, stderr[-3000:])
        with open(tmp / (name + ".json")) as f:
            out[name] = {"work": work, "stdout": stdout, "json": json.load(f)}
    return out["c"], out["py"]


def test_same_printed_results(runs):
    c, py = runs
    # Everything but the closing "N s in all": the perplexities, the table,
    # the predictions of the exported classifier with their probabilities.
    assert c["stdout"].splitlines()[:-1] == py["stdout"].splitlines()[:-1]
    assert "target LM perplexity" in c["stdout"] and "predict:" in c["stdout"]


def test_same_numbers_to_the_last_bit(runs):
    c, py = runs
    cj, pj = c["json"], py["json"]
    # C's JSON has 6 (perplexities: 4) decimals; its cache files have all.
    for key, value in cj.items():
        if key in ("seconds", "runs"):
            continue
        if isinstance(value, float):
            digits = 4 if key.startswith("lm_perplexity") else 6
            assert float("%.*f" % (digits, pj[key])) == value, key
        else:
            assert pj[key] == value, key
    with open(c["work"] / "encoder_finetuned.tlc.ppl") as f:
        before, after = (float(v) for v in f.read().split())
    assert (pj["lm_perplexity_before"], pj["lm_perplexity_after"]) == (before, after)
    assert after < before  # the LM was fine-tuned
    cached = {}
    with open(c["work"] / "runs.tsv") as f:
        for line in f:
            key, values = line.rstrip("\n").split("\t")
            method, budget, seed = (kv.split("=")[-1] for kv in key.split()[:3])
            acc, f1, _ = (float(v) for v in values.split())
            cached[method, budget, int(seed)] = (acc, f1)
    assert [(r["method"], r["labels_per_class"], r["seed"]) for r in cj["runs"]] == \
        [(r["method"], r["labels_per_class"], r["seed"]) for r in pj["runs"]] == \
        [("ulmfit", "2", 0), ("scratch", "2", 0), ("bag_of_words", "2", 0)]
    for r in pj["runs"]:
        assert cached[r["method"], r["labels_per_class"], r["seed"]] == (
            r["accuracy"], r["macro_f1"]), r["method"]


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_same_models_byte_for_byte(runs):
    c, py = runs
    # The LM encoders before and after stage 2 and the ULMFiT classifier:
    # one step with another momentum already changes the classifier's bytes
    # (which the printed probabilities, to 3 decimals, may not show).
    for name in ENCODERS:
        assert _sha256(c["work"] / name) == _sha256(py["work"] / name), name
