#!/bin/sh
# libtl.so carries the SONAME libtl.so.<soversion>. Usage: check_soname.sh LIB SOVERSION
set -eu
soname=$(objdump -p "$1" | awk '$1 == "SONAME" {print $2}')
if [ "$soname" != "libtl.so.$2" ]; then
  echo "SONAME is '$soname', expected libtl.so.$2" >&2
  exit 1
fi
echo "SONAME $soname"
