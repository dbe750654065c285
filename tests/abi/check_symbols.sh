#!/bin/sh
# The shared library exports exactly the functions in abi/libtl.symbols
# (libdrm's core-symbols-check habit), each in a versioned node, and nothing
# outside tl_*. Usage: check_symbols.sh LIBTL_SO SYMBOLS_FILE
set -eu
lib=$1 want=$2
got=$(mktemp)
trap 'rm -f "$got"' EXIT
# Defined dynamic symbols, minus the version-node markers themselves.
nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | LC_ALL=C sort > "$got"
if ! diff -u "$want" "$got"; then
  echo "exported symbols differ from $want (lines with + are exported but not listed; - listed but missing)" >&2
  echo "if the change is intended, update $want and CHANGELOG.md" >&2
  exit 1
fi
echo "symbols: $(wc -l < "$got") exported, all listed"
