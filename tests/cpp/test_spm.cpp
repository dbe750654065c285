// tl::SentencePiece against the C calls on the committed test model and
// its golden cases (tests/fixtures/gen_spm.py). Skipped, as the C test is,
// when libtl was built without SentencePiece; then the binding must throw
// tl::Unsupported.
#include <tl/tl.hpp>

#include "expect.hpp"

#include "../fixtures/spm_golden.h"

#include <string>
#include <vector>

#ifndef TLT_SPM_MODEL
#error "TLT_SPM_MODEL (the test model's path) must be defined by meson"
#endif

int main() {
  tl_spm *c = nullptr;
  const tl_status s = tl_spm_load(&c, TLT_SPM_MODEL);
  if (s == TL_E_UNSUPPORTED) {
    EXPECT_THROW(tl::SentencePiece m(TLT_SPM_MODEL), tl::Unsupported, "");
    std::printf("SKIP: libtl was built without SentencePiece (%d failed)\n",
                failures);
    return failures == 0 ? 77 : 1; // meson's skip code
  }
  C_OK(s);
  const tl::SentencePiece m(TLT_SPM_MODEL);
  EXPECT(m.size() == SPM_SIZE);
  for (size_t k = 0; k < SPM_N_CASES; k++) {
    const spm_case &g = spm_cases[k];
    const std::string text(g.text, g.len);
    size_t n = 0;
    C_OK(tl_spm_encode(nullptr, 0, &n, c, g.text, g.len));
    std::vector<std::int64_t> want(n);
    if (n > 0)
      C_OK(tl_spm_encode(want.data(), n, &n, c, g.text, g.len));
    const std::vector<std::int64_t> ids = m.encode(text);
    EXPECT(ids == want);
    EXPECT(ids == std::vector<std::int64_t>(g.ids, g.ids + g.n));
    for (size_t i = 0; i < ids.size(); i++) {
      const char *piece = nullptr;
      C_OK(tl_spm_piece(&piece, c, ids[i]));
      EXPECT(m.piece(ids[i]) == piece && m.piece(ids[i]) == g.pieces[i]);
    }
    size_t len = 0;
    C_OK(tl_spm_decode(nullptr, 0, &len, c, want.data(), want.size()));
    std::string back(len + 1, '\0');
    C_OK(tl_spm_decode(&back[0], back.size(), nullptr, c, want.data(),
                       want.size()));
    back.resize(len);
    EXPECT(m.decode(ids) == back && back == g.decoded);
  }
  EXPECT_THROW(tl::SentencePiece("/nonexistent/x.model"), tl::IoError,
               "/nonexistent/x.model");
  EXPECT_THROW(m.encode("ab\xff"), tl::FormatError, "byte offset 2");
  const std::int64_t bad[2] = {3, SPM_SIZE};
  EXPECT_THROW(m.decode(bad), tl::InvalidArgument, "ids[1]");
  EXPECT_THROW(m.piece(-1), tl::InvalidArgument, "id -1");
  tl_spm_free(c);
  return report();
}
