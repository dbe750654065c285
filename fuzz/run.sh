#!/bin/sh
# Builds and runs the checkpoint-loader fuzzer (libFuzzer, ASan, UBSan).
#   fuzz/run.sh [SECONDS]      (default 60)
# Needs clang and libclang-rt-dev (Debian: clang-14, libclang-rt-14-dev).
# Builds into $TL_FUZZ_BUILD (default build-fuzz/), regenerates the seed
# corpus fuzz/corpus/ (deterministic: it should not change), and keeps the
# inputs the fuzzer discovers in build-fuzz/corpus/. A crash leaves
# build-fuzz/crash-*: reproduce with build-fuzz/fuzz_ckpt_load FILE, commit
# the input under tests/ckpt/regress/ with a test in tests/ckpt that loads
# it, and fix the loader. The first input byte is the harness's mode (see
# fuzz_ckpt_load.c): with bit 0 set the harness repairs CRCs first.
set -eu
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${TL_FUZZ_BUILD:-$root/build-fuzz}
mkdir -p "$out/corpus"
cc=${CC_FUZZ:-clang}
src="$root/lib/core/alloc.c $root/lib/core/byteorder.c $root/lib/core/error.c $root/lib/transfer/ckpt.c
     $root/lib/transfer/ckpt_read.c $root/lib/transfer/ckpt_write.c
     $root/lib/transfer/crc32.c"
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -I$root/include -I$root/lib"
# shellcheck disable=SC2086
$cc $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    $src "$here/fuzz_ckpt_load.c" -o "$out/fuzz_ckpt_load"
# shellcheck disable=SC2086
$cc $flags $src "$here/make_corpus.c" -o "$out/make_corpus"
mkdir -p "$here/corpus"
"$out/make_corpus" "$here/corpus"
exec "$out/fuzz_ckpt_load" -max_total_time="$secs" -max_len=65536 \
    -rss_limit_mb=1024 -artifact_prefix="$out/" "$out/corpus" "$here/corpus"
