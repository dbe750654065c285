#!/usr/bin/env python3
"""Type-checks the Python binding with mypy: the package through its stubs
(bindings/python/tl/*.pyi) and every Python snippet of the documentation
(README.md, docs/*.md) and every Python example (examples/**/*.py that
imports tl), as a reader would paste them against the installed package.

Each document's ```python blocks are joined, in order, into one module
(later blocks use names earlier ones define). docs/python.md is a complete
program (bindings/python/tests/test_python_docs.py runs it), so it is
checked as it is; the other documents show fragments that name things they
do not define (`ids_per_doc`, `n_epochs`), so for them mypy's undefined-name
error is off while every attribute, call and argument is still checked
against the stubs.

usage: check_python_types.py [mypy arguments...]   (from the source root)
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPLETE = {"docs/python.md"}
HEADER = "import numpy as np\nimport tl\n"


def snippets(path):
    text = open(path, encoding="utf-8").read()
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def main():
    docs = ["README.md"] + sorted(
        os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    examples = [p for p in sorted(glob.glob(os.path.join(ROOT, "examples", "**", "*.py"),
                                            recursive=True))
                if re.search(r"^\s*(import tl|from tl\b)",
                             open(p, encoding="utf-8").read(), re.M)]
    with tempfile.TemporaryDirectory(prefix="tl-mypy-") as tmp:
        files = []
        for doc in docs:
            blocks = snippets(os.path.join(ROOT, doc))
            if not blocks:
                continue
            name = re.sub(r"\W", "_", doc[:-3]) + ".py"
            head = "" if doc in COMPLETE else \
                '# mypy: disable-error-code="name-defined"\n' + HEADER
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                f.write("# %s's Python blocks\n%s" % (doc, head))
                f.write("\n".join(blocks))
            files.append(os.path.join(tmp, name))
        print("mypy: package tl (stubs), %d documents' snippets (%s), %d examples"
              % (len(files), ", ".join(os.path.basename(f) for f in files), len(examples)), flush=True)
        cmd = [sys.executable, "-m", "mypy", "--no-incremental",
               "--cache-dir", os.path.join(tmp, ".mypy_cache"),
               "--python-executable", sys.executable,
               "tl"] + files + examples + sys.argv[1:]
        return subprocess.call(cmd, cwd=os.path.join(ROOT, "bindings", "python"))


if __name__ == "__main__":
    sys.exit(main())
