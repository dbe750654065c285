#!/bin/sh
# An outside program builds with nothing but `pkg-config --cflags --libs tl`,
# against the build tree (meson-uninstalled) and against a staged install
# (meson install --destdir). Usage: check_pkgconfig.sh BUILD_ROOT SOURCE_ROOT
set -eu
build=$1 src=$2
cc=${CC:-cc}
# A sanitized libtl needs a sanitized program (the runtime must come first).
case ${TL_SANITIZE:-none} in
  none) ;;
  *) cc="$cc -fsanitize=$TL_SANITIZE" ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prog=$src/tests/abi/outside.c

# 1. The uninstalled build tree.
PKG_CONFIG_PATH=$build/meson-uninstalled
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs tl)
$cc -std=c11 -Wall -Werror -o "$tmp/outside-tree" "$prog" $flags
LD_LIBRARY_PATH=$build/lib "$tmp/outside-tree"

# 2. A staged install, found through its own tl.pc.
meson install -C "$build" --destdir "$tmp/stage" --no-rebuild --quiet >/dev/null
pc=$(find "$tmp/stage" -name tl.pc | head -n 1)
[ -n "$pc" ] || { echo "meson install did not install tl.pc" >&2; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$tmp/stage
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
flags=$(pkg-config --cflags --libs tl)
$cc -std=c11 -Wall -Werror -o "$tmp/outside-installed" "$prog" $flags
libdir=$(dirname "$(find "$tmp/stage" -name 'libtl.so.*' | head -n 1)")
LD_LIBRARY_PATH=$libdir "$tmp/outside-installed"
# The program must have bound the staged library, not the build tree's.
LD_LIBRARY_PATH=$libdir ldd "$tmp/outside-installed" | grep -q "$tmp/stage" || {
  echo "the installed build did not link the staged libtl" >&2; exit 1; }

# 3. The C++ binding as installed (every header tl.hpp includes), when a C++
# compiler exists.
cxx=${CXX:-c++}
if command -v "$cxx" >/dev/null 2>&1; then
  case ${TL_SANITIZE:-none} in
    none) ;;
    *) cxx="$cxx -fsanitize=$TL_SANITIZE" ;;
  esac
  $cxx -std=c++17 -Wall -Werror -o "$tmp/outside-cpp" \
    "$src/tests/abi/outside_binding.cpp" $flags
  LD_LIBRARY_PATH=$libdir "$tmp/outside-cpp"
fi
echo "pkg-config: build tree and staged install both build and run"
