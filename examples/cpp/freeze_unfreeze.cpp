// Gradual unfreezing (ULMFiT) in C++: examples/freeze_unfreeze.c with the
// C++ binding, same seeds and data, so it prints the same numbers.
//
// Encoder model: embedding -> 2-layer LSTM (groups: 0 embedding, 1 LSTM).
// Head model: masked concat pooling -> dropout -> linear (one group).
// One optimizer spans both models, so its groups are [emb, rnn, head].
// Stages: head only, then LSTM + head, then all, with ULMFiT's
// discriminative rates lr / 2.6^k; the loss goes down.
#include <tl/tl.hpp>

#include <cstdio>
#include <vector>

namespace {

constexpr std::size_t V = 20, T = 12, B = 32, E = 16, H = 24;
constexpr int STEPS = 60;

// A small deterministic generator for the data (libtl seeds its own).
unsigned long long state = 12345;
unsigned next_rand() {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<unsigned>(state >> 33);
}

struct Batch {
  std::vector<std::int64_t> ids = std::vector<std::int64_t>(T * B);
  std::vector<std::size_t> lengths = std::vector<std::size_t>(B);
  std::vector<std::int64_t> labels = std::vector<std::int64_t>(B);
};

// Sequences of tokens 1..V-1 (0 pads the end); label 1 when 7 occurs.
void make_batch(Batch &b) {
  for (std::size_t s = 0; s < B; s++) {
    b.lengths[s] = 4 + next_rand() % (T - 3);
    bool has7 = false;
    const int want = static_cast<int>(next_rand() % 2);
    for (std::size_t t = 0; t < T; t++) {
      std::int64_t tok = 0;
      if (t < b.lengths[s]) {
        tok = 1 + static_cast<std::int64_t>(next_rand() % (V - 1));
        if (tok == 7 && !want)
          tok = 8;
        has7 = has7 || tok == 7;
      }
      b.ids[t * B + s] = tok;
    }
    if (want && !has7)
      b.ids[(next_rand() % b.lengths[s]) * B + s] = 7;
    b.labels[s] = want;
  }
}

} // namespace

int main() try {
  tl::EmbeddingOptions eo;
  eo.padding_idx = 0;
  tl::LstmOptions lo;
  lo.weight_p = 0.1f;
  lo.hidden_p = 0.1f;
  tl::Model enc = tl::Model::with_seed(1);
  enc.add_embedding("emb", V, E, eo).add_lstm("rnn", E, H, 2, lo);

  tl::Model head = tl::Model::with_seed(2);
  head.add_concat_pool("pool")
      .add_dropout("drop", 0.1f)
      .add_linear("fc", 3 * H, 2);
  head.set_group("drop", 0);
  head.set_group("fc", 0);

  tl::OptimOptions oo(TL_OPTIM_ADAMW);
  oo.momentum = 0.9;
  oo.beta2 = 0.99;
  oo.eps = 1e-5;
  tl::Optimizer opt({enc, head}, oo);
  const std::size_t n_groups = opt.num_groups();
  const char *group_names[3] = {"emb", "rnn", "head"};

  Batch b;
  const long stages[3] = {-1, -2, 0};
  const double lr = 1e-2;
  for (int stage = 0; stage < 3; stage++) {
    opt.freeze_to(stages[stage]); // resets Adam state
    const std::vector<double> lrs = tl::lrs_factor(n_groups, lr, 2.6);
    opt.set_lrs(lrs);
    std::printf("stage %d: freeze_to(%ld)\n", stage + 1, stages[stage]);
    for (std::size_t g = 0; g < n_groups; g++) {
      const bool trains =
          g < 2 ? enc.group_trainable(g) : head.group_trainable(0);
      std::printf("  group %zu %-5s %-7s lr %.5f\n", g, group_names[g],
                  trains ? "trains" : "frozen", lrs[g]);
    }
    double sum = 0.0;
    for (int step = 1; step <= STEPS; step++) {
      make_batch(b);
      opt.zero_grad();
      const tl::Activation h = enc.forward_ids(b.ids, {T, B});
      head.set_lengths(b.lengths);
      const tl::Activation logits = head.forward(h.data, h.shape());
      const tl::Loss loss = tl::cross_entropy(logits.data, b.labels, 2);
      // the encoder's backward is skipped when it is frozen
      const tl::Activation dh = head.backward(loss.grad, logits.shape());
      enc.backward(dh.data, h.shape(), false);
      opt.clip_grad_norm(1.0);
      opt.step();
      sum += loss.value;
      if (step % 20 == 0) {
        std::printf("  steps %3d-%3d  mean loss %.4f\n", step - 19, step,
                    sum / 20.0);
        sum = 0.0;
      }
    }
  }

  // evaluation on fresh batches
  enc.eval();
  head.eval();
  double acc = 0.0;
  for (int i = 0; i < 10; i++) {
    make_batch(b);
    const tl::Activation h = enc.forward_ids(b.ids, {T, B});
    head.set_lengths(b.lengths);
    const tl::Activation logits = head.forward(h.data, h.shape());
    acc += tl::accuracy(logits.data, b.labels, 2) / 10.0;
  }
  std::printf("held-out accuracy %.3f\n", acc);
  return 0;
} catch (const tl::Error &e) {
  std::fprintf(stderr, "%s: %s\n", e.status_name(), e.what());
  return 1;
}
