// README's quick start in C++: a linear classifier trained with AdamW.
// Every failing call throws a tl::Error subclass with libtl's message.
// c++ -std=c++17 -I bindings/cpp quickstart.cpp $(pkg-config --cflags --libs
// tl)
#include <tl/tl.hpp>

#include <cstdio>

int main() try {
  tl::Model m;
  m.add_linear("fc", 2, 2);
  tl::OptimOptions o(TL_OPTIM_ADAMW);
  o.lr = 0.1;
  tl::Optimizer opt(m, o);
  const float x[8] = {1, 0, 0, 1, 1, 0.2f, 0.1f, 1}; // 4 rows, 2 features
  const std::int64_t y[4] = {0, 1, 0, 1};
  for (int step = 0; step < 50; step++) {
    const tl::Activation logits = m.forward(x, {4, 2});
    const tl::Loss loss = tl::cross_entropy(logits.data, y, 2);
    opt.zero_grad();
    m.backward(loss.grad, logits.shape(), false);
    opt.step();
    if (step % 10 == 0)
      std::printf("step %2d loss %.4f\n", step, loss.value);
  }
  return 0;
} catch (const tl::Error &e) {
  std::fprintf(stderr, "%s: %s\n", e.status_name(), e.what());
  return 1;
}
