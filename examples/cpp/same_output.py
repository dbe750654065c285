#!/usr/bin/env python3
"""Runs a C example and its C++ rewrite and fails unless they print the
same bytes: the C++ binding adds no arithmetic of its own, so the same seeds
and calls must give the same numbers.

usage: same_output.py C_PROGRAM CPP_PROGRAM
"""
import subprocess
import sys


def main():
    c, cpp = sys.argv[1], sys.argv[2]
    out_c = subprocess.run([c], check=True, capture_output=True).stdout
    out_cpp = subprocess.run([cpp], check=True, capture_output=True).stdout
    if out_c != out_cpp:
        print(f"{cpp} printed:\n{out_cpp.decode()}\n{c} printed:\n{out_c.decode()}")
        sys.exit(1)
    print(f"{len(out_c.splitlines())} lines, identical")


if __name__ == "__main__":
    main()
