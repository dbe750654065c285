// SentencePiece behind libtl's C API (include/tl/text.h). C++ stays in this
// file: the public header is C. Every entry point catches everything, so no
// C++ exception crosses into C callers.
#include <sentencepiece_processor.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "core/error.h"
#include "tl/text.h"
#include "unicode.h"
}

struct tl_spm {
  sentencepiece::SentencePieceProcessor sp;
};

extern "C" tl_status tl_spm_load(tl_spm **out, const char *path) {
  const char *fn = "tl_spm_load";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, path);
  // A missing file is an I/O error, not a malformed model.
  std::FILE *f = std::fopen(path, "rb");
  if (f == nullptr)
    return tli_fail(TL_E_IO, "%s: cannot open '%s'", fn, path);
  std::fclose(f);
  try {
    tl_spm *m = new tl_spm;
    const auto st = m->sp.Load(path);
    if (!st.ok()) {
      delete m;
      return tli_fail(TL_E_FORMAT, "%s: '%s' is not a SentencePiece model: %s",
                      fn, path, st.ToString().c_str());
    }
    *out = m;
    return TL_OK;
  } catch (const std::bad_alloc &) {
    return tli_fail(TL_E_NOMEM, "%s: out of memory loading '%s'", fn, path);
  } catch (...) {
    return tli_fail(TL_E_FORMAT, "%s: '%s' could not be loaded", fn, path);
  }
}

extern "C" void tl_spm_free(tl_spm *spm) { delete spm; }

extern "C" tl_status tl_spm_size(size_t *out, const tl_spm *spm) {
  TLI_CHECK_PTR("tl_spm_size", out);
  TLI_CHECK_PTR("tl_spm_size", spm);
  *out = static_cast<size_t>(spm->sp.GetPieceSize());
  return TL_OK;
}

extern "C" tl_status tl_spm_piece(const char **out, const tl_spm *spm,
                                  int64_t id) {
  TLI_CHECK_PTR("tl_spm_piece", out);
  TLI_CHECK_PTR("tl_spm_piece", spm);
  const int64_t n = spm->sp.GetPieceSize();
  TLI_CHECK(id >= 0 && id < n, TL_E_INVALID_ARG,
            "tl_spm_piece: id %lld is outside the model [0, %lld)",
            static_cast<long long>(id), static_cast<long long>(n));
  *out = spm->sp.IdToPiece(static_cast<int>(id)).c_str();
  return TL_OK;
}

extern "C" tl_status tl_spm_encode(int64_t *out, size_t cap, size_t *out_n,
                                   const tl_spm *spm, const char *text,
                                   size_t len) {
  const char *fn = "tl_spm_encode";
  TLI_CHECK_PTR(fn, out_n);
  TLI_CHECK_PTR(fn, spm);
  TLI_CHECK(text != nullptr || len == 0, TL_E_INVALID_ARG,
            "%s: argument 'text' is NULL with len %zu", fn, len);
  TLI_CHECK(out != nullptr || cap == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with cap %zu", fn, cap);
  try {
    // SentencePiece would quietly take invalid UTF-8; libtl's rule is a
    // TL_E_FORMAT naming the offset, as for the word tokenizer.
    std::vector<uint32_t> cps(len + 1);
    size_t ncp = 0, bad = 0;
    if (tli_utf8_decode(cps.data(), &ncp, &bad,
                        reinterpret_cast<const uint8_t *>(text), len,
                        0) != TL_OK)
      return tli_fail(TL_E_FORMAT,
                      "%s: text is not valid UTF-8 at byte offset %zu", fn,
                      bad);
    std::vector<int> ids;
    const auto st = spm->sp.Encode(std::string(text ? text : "", len), &ids);
    if (!st.ok())
      return tli_fail(TL_E_INTERNAL, "%s: SentencePiece: %s", fn,
                      st.ToString().c_str());
    *out_n = ids.size();
    if (out == nullptr)
      return TL_OK;
    TLI_CHECK(cap >= ids.size(), TL_E_INVALID_ARG,
              "%s: cap %zu is too small (%zu ids)", fn, cap, ids.size());
    for (size_t i = 0; i < ids.size(); i++)
      out[i] = ids[i];
    return TL_OK;
  } catch (const std::bad_alloc &) {
    return tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  } catch (...) {
    return tli_fail(TL_E_INTERNAL, "%s: SentencePiece failed", fn);
  }
}

extern "C" tl_status tl_spm_decode(char *out, size_t cap, size_t *out_len,
                                   const tl_spm *spm, const int64_t *ids,
                                   size_t n) {
  const char *fn = "tl_spm_decode";
  TLI_CHECK_PTR(fn, spm);
  TLI_CHECK(ids != nullptr || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'ids' is NULL with n %zu", fn, n);
  TLI_CHECK(out != nullptr || cap == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with cap %zu", fn, cap);
  const int64_t size = spm->sp.GetPieceSize();
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(ids[i] >= 0 && ids[i] < size, TL_E_INVALID_ARG,
              "%s: ids[%zu] = %lld is outside the model [0, %lld)", fn, i,
              static_cast<long long>(ids[i]), static_cast<long long>(size));
  try {
    std::vector<int> v(ids, ids + n);
    std::string text;
    const auto st = spm->sp.Decode(v, &text);
    if (!st.ok())
      return tli_fail(TL_E_INTERNAL, "%s: SentencePiece: %s", fn,
                      st.ToString().c_str());
    if (out_len)
      *out_len = text.size();
    if (out == nullptr)
      return TL_OK;
    TLI_CHECK(cap > text.size(), TL_E_INVALID_ARG,
              "%s: cap %zu is too small (%zu bytes needed with the NUL)", fn,
              cap, text.size() + 1);
    std::memcpy(out, text.c_str(), text.size() + 1);
    return TL_OK;
  } catch (const std::bad_alloc &) {
    return tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  } catch (...) {
    return tli_fail(TL_E_INTERNAL, "%s: SentencePiece failed", fn);
  }
}
