/* The SentencePiece calls of a libtl built without SentencePiece: they
 * exist (the ABI does not depend on the build) and say so. */
#include "core/error.h"
#include "tl/text.h"

#define TLI_NO_SPM(fn)                                                         \
  tli_fail(TL_E_UNSUPPORTED,                                                   \
           "%s: libtl was built without SentencePiece (meson "                 \
           "-Dsentencepiece=enabled, package libsentencepiece-dev)",           \
           fn)

tl_status tl_spm_load(tl_spm **out, const char *path) {
  (void)out;
  (void)path;
  return TLI_NO_SPM("tl_spm_load");
}

void tl_spm_free(tl_spm *spm) { (void)spm; }

tl_status tl_spm_size(size_t *out, const tl_spm *spm) {
  (void)out;
  (void)spm;
  return TLI_NO_SPM("tl_spm_size");
}

tl_status tl_spm_piece(const char **out, const tl_spm *spm, int64_t id) {
  (void)out;
  (void)spm;
  (void)id;
  return TLI_NO_SPM("tl_spm_piece");
}

tl_status tl_spm_encode(int64_t *out, size_t cap, size_t *out_n,
                        const tl_spm *spm, const char *text, size_t len) {
  (void)out;
  (void)cap;
  (void)out_n;
  (void)spm;
  (void)text;
  (void)len;
  return TLI_NO_SPM("tl_spm_encode");
}

tl_status tl_spm_decode(char *out, size_t cap, size_t *out_len,
                        const tl_spm *spm, const int64_t *ids, size_t n) {
  (void)out;
  (void)cap;
  (void)out_len;
  (void)spm;
  (void)ids;
  (void)n;
  return TLI_NO_SPM("tl_spm_decode");
}
