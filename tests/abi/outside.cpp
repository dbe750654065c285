// The public headers compile as C++ (extern "C" guards) and link from C++.
#include <tl/tl.h>

#include <cstdio>

int main() {
  std::printf("C++ sees libtl %s\n", tl_version_string());
  return tl_version_number() == TL_VERSION_NUMBER ? 0 : 1;
}
