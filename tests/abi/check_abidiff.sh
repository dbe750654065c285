#!/bin/sh
# Compares libtl.so with the committed abidw baseline. Added functions are
# fine (--no-added-syms); any other change to what the baseline exports fails.
# abidiff's exit status is a bit field: 1 error, 2 usage, 4 ABI change,
# 8 incompatible change. Bit 4 fails too: abidiff reports a parameter added
# to an existing function only as a "change", yet every caller breaks. A
# deliberate compatible change (a field appended to an options struct) is
# accepted by refreshing the baseline with a CHANGELOG entry.
# The experimental tier (abi/experimental.suppr) is exported but not held.
# Usage: check_abidiff.sh LIB BASELINE PUBLIC_HEADERS_DIR SYMBOLS_FILE SUPPRESSIONS
set -u
lib=$1 baseline=$2 headers=$3 symbols=$4 suppressions=$5
# The baseline must cover every exported function, or changes to the ones it
# lacks would pass unseen: a symbol added to abi/libtl.symbols needs a
# refreshed baseline (./run abi-baseline) in the same change.
missing=$(sed 's/@.*//' "$symbols" | while read -r name; do
  grep -q "elf-symbol name='$name'" "$baseline" || echo "$name"
done)
if [ -n "$missing" ]; then
  echo "the ABI baseline lacks these exported functions (run ./run abi-baseline):" >&2
  echo "$missing" >&2
  exit 1
fi
abidiff --no-added-syms --suppressions "$suppressions" --headers-dir2 "$headers" \
  "$baseline" "$lib"
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
  echo "abidiff could not compare (status $rc)" >&2
  exit 1
fi
if [ $((rc & 12)) -ne 0 ]; then
  echo "ABI change against $baseline: restore compatibility, or" >&2
  echo "bump the soname, refresh the baseline (./run abi-baseline) and add a CHANGELOG entry" >&2
  exit 1
fi
echo "abidiff: no incompatible change against $(basename "$baseline") (status $rc)"
