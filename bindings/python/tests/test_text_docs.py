"""The complete example of docs/text.md runs as written."""
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")


def test_docs_text_example_runs(capsys, monkeypatch):
    doc = open(os.path.join(ROOT, "docs", "text.md"), encoding="utf-8").read()
    section = doc.split("## A complete example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/text.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "['xxbos', 'i', 'loved', 'this', 'film', ',', 'it', \"'s\"]"
    vocab_size, n_lm, acc, f1 = out[1].split()
    assert int(vocab_size) % 8 == 0 and int(n_lm) > 0
    assert float(acc) == 0.5 and float(f1) == 0.333
