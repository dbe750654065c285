#!/usr/bin/env python3
"""Every public declaration in include/tl has a comment of its own.

The suite's copy of the rule `./run docs` enforces with Doxygen
(docs/Doxyfile.in: WARN_IF_UNDOCUMENTED, FAIL_ON_WARNINGS), so that it holds
on machines without Doxygen and cannot regress unnoticed:

- a TL_API function, a typedef (opaque handle, struct, enum, callback) and a
  #define need a comment block that ends on the line just above them (a
  blank line in between detaches it, as docs/doxygen-filter.py does);
- a struct whose comment sits above its `#define TL_<X>_VERSION` (and the
  macros right after it) is documented by that comment, and the version
  macro by the struct (the filter moves it below the struct and says what
  it is); other macros in that run still need their own comment;
- a macro defined inside an #if chain (TL_API) is documented by the comment
  above the chain's #if;
- a struct field and an enum value need a comment on their line (or, for
  a value clang-format split over two lines, on the second) or a comment
  block just above.

usage: check_api_docs.py HEADER_DIR ...; prints each undocumented
declaration as file:line and exits 1 if there is one.
"""
import os
import re
import sys

VERSION_MACRO = re.compile(r"^#define (TL_[A-Z0-9_]+_VERSION) ")
DEFINE = re.compile(r"^#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)")


class Header:
    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.lines = f.read().split("\n")
        n = len(self.lines)
        # comment_end[i]: line i closes a comment block that starts a line.
        # in_comment[i]: line i is inside (or opens/closes) such a block.
        self.comment_end = [False] * n
        self.in_comment = [False] * n
        self.code = [""] * n  # the line without comments
        i = 0
        while i < n:
            line = self.lines[i]
            if line.lstrip().startswith("/*"):
                j = i
                while "*/" not in (line[line.index("/*") + 2 :] if j == i else self.lines[j]):
                    j += 1
                for k in range(i, j + 1):
                    self.in_comment[k] = True
                self.comment_end[j] = True
                i = j + 1
                continue
            self.code[i] = re.sub(r"/\*.*?(\*/|$)", "", line)
            i += 1
        # A trailing comment may continue over later lines: mark them.
        open_trailing = False
        for i in range(n):
            if self.in_comment[i]:
                continue
            if open_trailing:
                self.code[i] = ""
                self.in_comment[i] = True
                open_trailing = "*/" not in self.lines[i]
                continue
            line = self.lines[i]
            k = line.find("/*")
            if k >= 0 and "*/" not in line[k:]:
                open_trailing = True

    def documented_above(self, i):
        return i > 0 and self.comment_end[i - 1]

    def macro_start(self, i):
        """First line of the #define whose last line is i, if any."""
        j = i
        while j > 0 and self.lines[j - 1].rstrip().endswith("\\"):
            j -= 1
        return j if self.lines[j].startswith("#define") else None

    def version_run_start(self, i):
        """If line i (a typedef struct) is preceded by a run opened by a
        TL_<X>_VERSION macro (macros and comments only), its first line."""
        j = i - 1
        start = None
        while j >= 0:
            if self.comment_end[j]:
                while not self.lines[j].lstrip().startswith("/*"):
                    j -= 1
                j -= 1
                continue
            m = self.macro_start(j)
            if m is None:
                break
            if VERSION_MACRO.match(self.lines[m]):
                start = m
            j = m - 1
        return start

    def in_version_run(self, i):
        """Whether the #define on line i is part of a version run that
        precedes a typedef struct; returns (run_start, is_version_macro)."""
        j = i
        while j < len(self.lines):
            line = self.lines[j]
            if line.startswith("typedef struct"):
                start = self.version_run_start(j)
                if start is not None and start <= i:
                    return start, start == i
                return None, False
            if line.startswith("#define"):
                while self.lines[j].rstrip().endswith("\\"):
                    j += 1
                j += 1
            elif self.in_comment[j]:
                j += 1
            else:
                return None, False
        return None, False


def check(path):
    h = Header(path)
    lines = h.lines
    problems = []
    checked = 0
    depth = 0  # brace depth outside extern "C"
    struct_depth = None
    i = 0
    n = len(lines)
    while i < n:
        code = h.code[i]
        stripped = code.strip()
        if h.in_comment[i] or not stripped:
            i += 1
            continue
        line = lines[i]
        if struct_depth is not None:
            # Inside a typedef struct body: fields.
            if stripped.startswith("}"):
                struct_depth = None
            elif stripped.endswith(";"):
                checked += 1
                name = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"\[.*", "", stripped))
                if "/*" not in line and not h.documented_above(i):
                    field = name[-1] if name else stripped
                    if "(*" in stripped:
                        field = re.search(r"\(\s*\*\s*(\w+)", stripped).group(1)
                    problems.append((i, "field " + field))
            i += 1
            continue
        if line.startswith("#"):
            m = DEFINE.match(line)
            end = i
            while lines[end].rstrip().endswith("\\"):
                end += 1
            if m:
                name = m.group(1)
                prev = lines[i - 1] if i > 0 else ""
                guard = prev.startswith("#ifndef") and prev.split()[1:2] == [name]
                if not guard:
                    checked += 1
                    ok = h.documented_above(i) or "/*" in line
                    if not ok and re.match(r"#\s*(if|elif|else)", prev):
                        j = i - 1
                        while j > 0 and not re.match(r"#\s*if", lines[j]):
                            j -= 1
                        ok = h.documented_above(j)
                    if not ok:
                        start, is_version = h.in_version_run(i)
                        ok = is_version and h.documented_above(start)
                    if not ok:
                        problems.append((i, "macro " + name))
            i = end + 1
            continue
        if line.startswith("typedef"):
            checked += 1
            body = " ".join(h.code[i : i + 4])
            m = (
                re.match(r"typedef\s+(?:struct|enum)\s+(\w+)", body)
                or re.search(r"\(\s*\*\s*(\w+)\s*\)", body)
                or re.search(r"(\w+)\s*;", body)
            )
            name = m.group(1) if m else stripped
            ok = h.documented_above(i)
            if not ok and line.startswith("typedef struct"):
                start = h.version_run_start(i)
                ok = start is not None and h.documented_above(start)
            if not ok:
                problems.append((i, "type " + name))
            if line.startswith("typedef struct") and "{" in line:
                struct_depth = 1
            elif "{" in line:  # an enum body: each value
                i += 1
                while "}" not in h.code[i]:
                    m = re.match(r"\s*(TL_\w+)", h.code[i])
                    if m:
                        checked += 1
                        # The comment is above, on the line, or after the
                        # value when clang-format moved it to the next line.
                        end = i
                        while not re.search(r"[,}]|^\s*$", h.code[end]) and "/*" not in lines[end]:
                            end += 1
                        if not (h.documented_above(i) or "/*" in lines[i] or "/*" in lines[end]):
                            problems.append((i, "enum value " + m.group(1)))
                    i += 1
            i += 1
            continue
        if line.startswith("TL_API"):
            checked += 1
            j = i
            decl = h.code[i]
            while ";" not in h.code[j]:
                j += 1
                decl += " " + h.code[j]
            m = re.search(r"\b(\w+)\s*\(", decl)
            name = m.group(1) if m else stripped
            if not h.documented_above(i):
                problems.append((i, "function " + name))
            i = j + 1
            continue
        i += 1
    return checked, problems


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    headers = []
    for arg in sys.argv[1:]:
        if os.path.isdir(arg):
            headers += sorted(
                os.path.join(arg, f) for f in os.listdir(arg) if f.endswith(".h")
            )
        else:
            headers.append(arg)
    total = 0
    bad = []
    for path in headers:
        checked, problems = check(path)
        total += checked
        bad += [(path, line, what) for line, what in problems]
    for path, line, what in bad:
        print(f"{path}:{line + 1}: {what} has no comment of its own")
    print(f"{total} public declarations in {len(headers)} headers, {len(bad)} undocumented")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
