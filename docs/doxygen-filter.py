#!/usr/bin/env python3
"""Doxygen input filter for libtl's public headers (the file on disk is
unchanged; Doxygen reads what this prints).

The headers use the house style: a plain C comment directly above each
declaration, and a comment after a struct field or enum value on its line.
This turns them into Doxygen blocks:

- the comment that opens the file documents the file (@file), so Doxygen
  lists, and warns about, every declaration in it;
- a comment whose next line is a declaration becomes that declaration's
  block; a comment followed by a blank line (a section banner, a block of
  conventions) stays plain, so it does not attach to whatever comes next;
- a comment after `;`, `,` or `{` on a code line becomes a member comment;
- `#define TL_<X>_VERSION n` (and any macros and comments next to it) that
  sits between a struct's comment and `typedef struct` is moved below the
  struct, so the comment documents the struct, and the version macro gets
  the one sentence every such macro means.
"""
import re
import sys

RULER = re.compile(r"^(\s*/?\*+)\s*[-=]{4,}\s*(\*/)?\s*$")
BANNER_OPEN = re.compile(r"^(\s*)/\*\s*[-=]{4,}\s*$")
VERSION = re.compile(r"^#define (TL_[A-Z0-9_]+_VERSION) +[0-9]+u?\s*$")
STRUCT_END = re.compile(r"^\}\s*([A-Za-z_][A-Za-z0-9_]*)\s*;")


def escape(text):
    """Plain prose to Doxygen: the headers use no Doxygen commands, so a
    backslash, an at sign (Precision@k) or a lone ".." (which Doxygen takes
    for the end of a list) is text, not markup. `code spans` stay as they
    are: Doxygen does not interpret them."""
    parts = text.split("`")
    for k in range(0, len(parts), 2):
        p = parts[k].replace("\\", "\\\\").replace("@", "\\@")
        parts[k] = re.sub(r"(?<=\s)\.\.(?=\s|$)", r"\\.\\.", p)
    return "`".join(parts)


def comment_end(lines, i):
    """Index of the line that closes the comment opened on line i."""
    j = i
    rest = lines[i][lines[i].index("/*") + 2 :]
    while "*/" not in rest:
        j += 1
        if j == len(lines):
            return j - 1
        rest = lines[j]
    return j


def macro_end(lines, i):
    """Index of the last line of the #define starting on line i."""
    while lines[i].rstrip().endswith("\\") and i + 1 < len(lines):
        i += 1
    return i


def move_version_macros(lines):
    out = []
    i = 0
    while i < len(lines):
        m = VERSION.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        # The run: this define, and defines and comments right after it.
        j = macro_end(lines, i) + 1
        while j < len(lines):
            s = lines[j].lstrip()
            if s.startswith("#define"):
                j = macro_end(lines, j) + 1
            elif s.startswith("/*"):
                j = comment_end(lines, j) + 1
            else:
                break
        if j >= len(lines) or not lines[j].startswith("typedef struct"):
            out.append(lines[i])
            i += 1
            continue
        k = j
        while k < len(lines) and not STRUCT_END.match(lines[k]):
            k += 1
        if k == len(lines):
            out.append(lines[i])
            i += 1
            continue
        struct = STRUCT_END.match(lines[k]).group(1)
        run = lines[i:j]
        run[0] = (
            run[0].rstrip("\n")
            + " /**< The version of "
            + struct
            + " this header describes: the value of its version field"
            + " (docs/api-conventions.md). */\n"
        )
        out.extend(lines[j : k + 1])
        out.extend(run)
        i = k + 1
    return out


def convert(lines):
    out = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("/*") and not stripped.startswith("/**"):
            end = comment_end(lines, i)
            block = lines[i : end + 1]
            nxt = lines[end + 1] if end + 1 < n else ""
            block = [escape(b) for b in block]
            if i == 0:
                # The file's opening comment documents the file.
                first = block[0].replace("/*", "/** @file", 1)
                if first.strip() != "/** @file":
                    first = first.replace("/** @file", "/** @file\n *", 1)
                out.append(first)
                out.extend(block[1:])
            elif nxt.strip() and not nxt.lstrip().startswith(("/*", "#if", "#endif")):
                indent = line[: len(line) - len(stripped)]
                if BANNER_OPEN.match(block[0]):
                    block[0] = indent + "/**\n"
                else:
                    block[0] = block[0].replace("/*", "/**", 1)
                for k in range(1, len(block)):
                    r = RULER.match(block[k])
                    if r:
                        block[k] = (" */\n" if r.group(2) else " *\n")
                out.extend(block)
            else:
                out.extend(block)
            i = end + 1
            continue
        m = re.search(r"([;,{])(\s*)/\*(?!\*)", line)
        if m:
            line = line[: m.start()] + m.group(1) + m.group(2) + "/**<" + escape(line[m.end() :])
        out.append(line)
        i += 1
    return out


def convert_cpp(lines):
    """The C++ binding's // comments: the file's opening run documents the
    file, and a run directly above a declaration becomes ///."""
    out = []
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("//") and not stripped.startswith("///"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("//"):
                j += 1
            nxt = lines[j] if j < len(lines) else ""
            opening = all(x.lstrip().startswith("//") for x in lines[:i])
            if opening:  # the file's opening comment documents the file
                line = line.replace("//", "/// @file\n///" if i == 0 else "///", 1)
            elif nxt.strip() and not nxt.lstrip().startswith("#"):
                line = line.replace("//", "///", 1)
        out.append(line)
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.readlines()
    if sys.argv[1].endswith(".h"):
        lines = convert(move_version_macros(lines))
    elif sys.argv[1].endswith(".hpp"):
        lines = convert_cpp(lines)
    sys.stdout.write("".join(lines))


if __name__ == "__main__":
    main()
