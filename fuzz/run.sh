#!/bin/sh
# Builds and runs the fuzzers (libFuzzer, ASan, UBSan):
#   fuzz_ckpt_load   the container loader (tl_ckpt_load_buffer);
#   fuzz_ckpt_model  model-level parsing of an accepted container
#                    (tl_ckpt_restore_model, tl_ckpt_restore_optim);
#   fuzz_text        the text layer on untrusted bytes: the tokenizer (both
#                    invalid-UTF-8 modes), the label-vocabulary text form,
#                    token counts and vocabularies.
#   fuzz/run.sh [SECONDS]      (default 60, split evenly between the three)
# Needs clang, libclang-rt-dev (Debian: clang-14, libclang-rt-14-dev) and
# pkg-config's openblas and lapacke. Builds into $TL_FUZZ_BUILD (default
# build-fuzz/), regenerates the seed corpus fuzz/corpus/ (deterministic: it
# should not change), which both targets start from, and keeps the inputs
# each discovers in build-fuzz/corpus/ (loader) and
# build-fuzz/corpus-model/. A crash leaves build-fuzz/<target>-crash-*:
# reproduce with build-fuzz/<target> FILE, commit the input under
# tests/ckpt/regress/ with a test in tests/ckpt that loads it, and fix the
# code. The first input byte is the harnesses' mode (fuzz_ckpt_load.c): with
# bit 0 set they repair CRCs first.
set -eu
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${TL_FUZZ_BUILD:-$root/build-fuzz}
mkdir -p "$out/corpus" "$out/corpus-model" "$out/obj"
cc=${CC_FUZZ:-clang}
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -I$root/include -I$root/lib"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
libs="$(pkg-config --libs openblas lapacke) -lm -lpthread"
# shellcheck disable=SC2046
flags="$flags $(pkg-config --cflags openblas lapacke)"

# The library without the metrics layer (no checkpoint code uses it),
# instrumented for coverage, compiled once per run into objects that the
# three programs share. Object names keep the folder: lib/kernels/loss.c and
# lib/model/loss.c both exist.
objs=""
for src in "$root"/lib/core/*.c "$root"/lib/kernels/*.c "$root"/lib/model/*.c \
           "$root"/lib/optim/*.c "$root"/lib/ckpt/*.c "$root"/lib/text/*.c; do
  rel=${src#"$root"/lib/}
  obj="$out/obj/$(echo "$rel" | tr / _).o"
  # shellcheck disable=SC2086
  $cc $flags $san -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  objs="$objs $obj"
done
for target in fuzz_ckpt_load fuzz_ckpt_model fuzz_text; do
  # shellcheck disable=SC2086
  $cc $flags $san -fsanitize=fuzzer "$here/$target.c" $objs $libs \
      -o "$out/$target"
done
# shellcheck disable=SC2086
$cc $flags $san "$here/make_corpus.c" $objs $libs -o "$out/make_corpus"
mkdir -p "$here/corpus"
"$out/make_corpus" "$here/corpus"

# A third of the time each (at least 1 s); all must finish clean.
third=$((secs / 3))
[ "$third" -ge 1 ] || third=1
rest=$((secs - 2 * third))
[ "$rest" -ge 1 ] || rest=1
half=$third
mkdir -p "$out/corpus-text"
status=0
OPENBLAS_NUM_THREADS=1 "$out/fuzz_ckpt_load" -max_total_time="$rest" \
    -max_len=65536 -rss_limit_mb=1024 -artifact_prefix="$out/fuzz_ckpt_load-" \
    "$out/corpus" "$here/corpus" || status=1
OPENBLAS_NUM_THREADS=1 "$out/fuzz_ckpt_model" -max_total_time="$half" \
    -max_len=65536 -rss_limit_mb=1024 -artifact_prefix="$out/fuzz_ckpt_model-" \
    "$out/corpus-model" "$here/corpus" || status=1
OPENBLAS_NUM_THREADS=1 "$out/fuzz_text" -max_total_time="$third" \
    -max_len=4096 -rss_limit_mb=1024 -artifact_prefix="$out/fuzz_text-" \
    "$out/corpus-text" "$here/corpus-text" || status=1
exit $status
