// bindings/cpp: errors become tl::Error with libtl's message.
#include <tl/tl.hpp>

#include <cstdio>
#include <cstring>

static int failures = 0;
#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

int main() {
  EXPECT(tl::version() == tl_version_string());
  bool threw = false;
  try {
    tl::set_num_threads(0);
  } catch (const tl::Error &e) {
    threw = true;
    EXPECT(e.status() == TL_E_INVALID_ARG);
    EXPECT(std::strcmp(e.status_name(), "TL_E_INVALID_ARG") == 0);
    EXPECT(std::strstr(e.what(), "n must be >= 1") != nullptr);
  }
  EXPECT(threw);
  tl::set_num_threads(1);
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
