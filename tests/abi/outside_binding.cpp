// An outside C++ program using the C++ binding as installed (tl/tl.hpp and
// the headers it includes), built through pkg-config by check_pkgconfig.sh.
#define TL_EXPERIMENTAL_API
#include <tl/tl.hpp>

#include <cstdio>

int main() {
  tl::Model m;
  m.add_linear("fc", 2, 2);
  try {
    tl::set_num_threads(0);
    return 1;
  } catch (const tl::InvalidArgument &) {
  }
  std::printf("outside C++ program: libtl %s, %zu parameters\n",
              tl::version().c_str(), m.num_params());
  return m.num_params() == 2 ? 0 : 1;
}
