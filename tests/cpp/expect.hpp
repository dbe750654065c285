// The C++ binding tests' checks: EXPECT counts failures, EXPECT_THROW
// checks the exception's type and that its message names `needle`.
#ifndef TL_TESTS_CPP_EXPECT_HPP
#define TL_TESTS_CPP_EXPECT_HPP

#include <cstdio>
#include <cstring>
#include <string>

static int failures = 0;

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

// Runs stmt; expects it to throw Type whose what() contains needle.
#define EXPECT_THROW(stmt, Type, needle)                                       \
  do {                                                                         \
    bool threw_ = false;                                                       \
    try {                                                                      \
      stmt;                                                                    \
    } catch (const Type &e_) {                                                 \
      threw_ = true;                                                           \
      if (std::strstr(e_.what(), needle) == nullptr) {                         \
        std::fprintf(stderr, "%s:%d: message '%s' lacks '%s'\n", __FILE__,     \
                     __LINE__, e_.what(), needle);                             \
        failures++;                                                            \
      }                                                                        \
    } catch (...) {                                                            \
      std::fprintf(stderr, "%s:%d: %s threw another type\n", __FILE__,         \
                   __LINE__, #stmt);                                           \
      failures++;                                                              \
      threw_ = true;                                                           \
    }                                                                          \
    if (!threw_) {                                                             \
      std::fprintf(stderr, "%s:%d: %s did not throw\n", __FILE__, __LINE__,    \
                   #stmt);                                                     \
      failures++;                                                              \
    }                                                                          \
  } while (0)

// Checks a C call made to produce a reference value.
#define C_OK(call)                                                             \
  do {                                                                         \
    if ((call) != TL_OK) {                                                     \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__,       \
                   #call, tl_last_error());                                    \
      failures++;                                                              \
    }                                                                          \
  } while (0)

// Bit-identical float/double ranges.
template <typename A, typename B>
static bool same_bits(const A &a, const B &b) {
  if (a.size() != b.size())
    return false;
  return a.size() == 0 || std::memcmp(&*a.begin(), &*b.begin(),
                                      a.size() * sizeof(*a.begin())) == 0;
}

static int report() {
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}

#endif
