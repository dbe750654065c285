"""The walk-through of docs/python.md runs as written and prints what the
page says it prints."""
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")


def _blocks(doc):
    section = doc.split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"It prints:\n\n```\n(.*?)```", section, re.S).group(1)
    return code, shown.splitlines()


def test_docs_python_walkthrough_runs(capsys, monkeypatch, tmp_path):
    doc = open(os.path.join(ROOT, "docs", "python.md"), encoding="utf-8").read()
    code, shown = _blocks(doc)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    exec(compile(code, "docs/python.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    # The page shows exactly what the code prints.
    assert out == shown
    assert out[0] == "3 ['emb', 'rnn', 'pool', 'head']"
    assert out[1] == "['head.weight', 'head.bias'] ['dec.bias']"
    assert out[2] == "[False, False, True]"          # freeze_to(-1): the head
    n_stages, total, lrs = out[3].split(" ", 2)
    assert (n_stages, total) == ("3", "20")
    first, last = (float(v) for v in out[4].split())
    assert last < first / 10                           # it learned the task
    acc, f1 = (float(v) for v in out[5].split())
    assert acc == 1.0 and f1 == 1.0
    assert 0.0 < float(out[6]) < 1.0                   # a JS distance
    assert out[7] == "True"                            # save/load round trip
    assert os.listdir(tmp_path) == []                  # the example cleans up
