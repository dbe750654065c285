#!/usr/bin/env python3
"""The layering of docs/architecture.md holds in the code.

Reads the layer table of docs/architecture.md (rows whose first cell is a
`lib/<folder>`: its "may include" and "public header" cells) and checks:

- every folder of lib/ has a row, and no row marked "(planned)" exists yet;
- the allowed arrows form no cycle;
- every `#include "<folder>/<file>"` in lib/<a> names a's own folder or one
  a may include, and every `#include "tl/<h>.h"` a public header of those;
- every `#include "tl/<h>.h"` in a public header names a header of the same
  or an allowed folder (tl.h, the umbrella, includes them all);
- examples/ and bindings/cpp include public headers only.

usage: check_layers.py SOURCE_ROOT; prints each violation, exits 1 if any.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^">]+)[">]', re.M)
FOLDER = re.compile(r"`lib/([a-z_]+)`")
HEADER = re.compile(r"`tl/([a-z_]+\.h)`")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def parse_table(doc):
    layers = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`lib/"):
            continue
        name = FOLDER.match(cells[0]).group(1)
        layers[name] = {
            "planned": "(planned)" in cells[0],
            "may": set(FOLDER.findall(cells[2])),
            "headers": set(HEADER.findall(cells[3])),
        }
    return layers


def find_cycle(layers):
    state = {}

    def visit(a, path):
        state[a] = 1
        for b in sorted(layers[a]["may"]):
            if b not in layers:
                continue
            if state.get(b) == 1:
                return path + [b]
            if b not in state:
                found = visit(b, path + [b])
                if found:
                    return found
        state[a] = 2
        return None

    for a in sorted(layers):
        if a not in state:
            found = visit(a, [a])
            if found:
                return found
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    doc_path = os.path.join(root, "docs", "architecture.md")
    layers = parse_table(read(doc_path))
    errors = []
    if not layers:
        errors.append(f"{doc_path}: no layer table found")
    owner = {h: a for a, v in layers.items() for h in v["headers"]}

    lib = os.path.join(root, "lib")
    present = sorted(d for d in os.listdir(lib) if os.path.isdir(os.path.join(lib, d)))
    for d in present:
        if d not in layers:
            errors.append(f"lib/{d}: not in the layer table of docs/architecture.md")
        elif layers[d]["planned"]:
            errors.append(f"lib/{d}: exists but docs/architecture.md marks it planned")
    for a, v in layers.items():
        for b in v["may"]:
            if b not in layers:
                errors.append(f"docs/architecture.md: lib/{a} may include unknown lib/{b}")
    cycle = find_cycle(layers)
    if cycle:
        errors.append("docs/architecture.md: the arrows form a cycle: " + " -> ".join(cycle))

    def allowed_folders(a):
        return {a} | layers[a]["may"]

    def allowed_headers(a):
        return {h for f in allowed_folders(a) if f in layers for h in layers[f]["headers"]}

    for a in present:
        if a not in layers:
            continue
        folder = os.path.join(lib, a)
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"lib/{a}/{name}"
            for inc in INCLUDE.findall(read(os.path.join(folder, name))):
                if "/" not in inc:
                    continue  # system headers and same-folder includes
                top, rest = inc.split("/", 1)
                if top == "tl":
                    if rest not in owner:
                        errors.append(f"{rel}: includes {inc}, which no layer owns")
                    elif rest not in allowed_headers(a):
                        errors.append(
                            f"{rel}: includes {inc} (lib/{owner[rest]}), "
                            f"but lib/{a} may include only {sorted(allowed_folders(a))}")
                elif top in layers or os.path.isdir(os.path.join(lib, top)):
                    if top not in allowed_folders(a):
                        errors.append(
                            f"{rel}: includes {inc}, but lib/{a} may include only "
                            f"{sorted(allowed_folders(a))}")

    inc_dir = os.path.join(root, "include", "tl")
    for name in sorted(os.listdir(inc_dir)):
        if not name.endswith(".h") or name == "tl.h":
            continue
        rel = f"include/tl/{name}"
        if name not in owner:
            errors.append(f"{rel}: no layer of docs/architecture.md owns it")
            continue
        for inc in INCLUDE.findall(read(os.path.join(inc_dir, name))):
            if inc.startswith("tl/") and inc[3:] not in allowed_headers(owner[name]):
                errors.append(f"{rel}: includes {inc} against the arrows of lib/{owner[name]}")

    for sub in ("examples", os.path.join("examples", "cpp"),
                os.path.join("bindings", "cpp", "tl")):
        d = os.path.join(root, sub)
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h", ".cpp", ".hpp")):
                continue
            for inc in INCLUDE.findall(read(os.path.join(d, name))):
                if "/" in inc and inc.split("/", 1)[0] in set(present) | set(layers):
                    errors.append(f"{sub}/{name}: includes internal {inc}; use include/tl only")

    for e in errors:
        print(e)
    print(f"{len(present)} folders of lib/ against docs/architecture.md: {len(errors)} violations")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
