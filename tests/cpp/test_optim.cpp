// tl::Optimizer against the C API: the same models, options and steps give
// bit-identical weights; state round-trips; groups span models; bad input
// throws.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <vector>

static const float X[8] = {1, 0, 0, 1, 1, 0.2f, 0.1f, 1};
static const std::int64_t Y[4] = {0, 1, 0, 1};

int main() {
  // ---- C reference: 20 AdamW steps of README's quick start ----
  tl_model *c = nullptr;
  C_OK(tl_model_create(&c, nullptr));
  C_OK(tl_model_add_linear(c, "fc", 2, 2, TL_ACTIVATION_NONE));
  tl_optim_options co = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_ADAMW);
  co.lr = 0.1;
  tl_optim *copt = nullptr;
  C_OK(tl_optim_create(&copt, &c, 1, &co));
  const size_t dims[2] = {4, 2};
  float closs[20];
  for (int i = 0; i < 20; i++) {
    const float *lg = nullptr;
    size_t od[TL_MODEL_MAX_DIMS], on = 0;
    float dl[8];
    C_OK(tl_model_forward(&lg, od, &on, c, X, dims, 2));
    C_OK(tl_cross_entropy(&closs[i], dl, lg, Y, 4, 2, -100));
    C_OK(tl_optim_zero_grad(copt));
    C_OK(tl_model_backward(nullptr, c, dl, od, on));
    C_OK(tl_optim_step(copt));
  }
  float *cp = nullptr;
  size_t cn = 0;
  C_OK(tl_model_flat_params(&cp, &cn, c));
  size_t cstate_n = 0;
  C_OK(tl_optim_state_size(&cstate_n, copt));
  std::vector<std::uint8_t> cstate(cstate_n);
  C_OK(tl_optim_state_save(cstate.data(), cstate_n, copt));

  // ---- the binding ----
  tl::Model m;
  m.add_linear("fc", 2, 2);
  tl::OptimOptions o(TL_OPTIM_ADAMW);
  EXPECT(o.weight_decay == 1e-2 && o.momentum == 0.9 &&
         o.kind == TL_OPTIM_ADAMW);
  o.lr = 0.1;
  tl::Optimizer opt(m, o);
  for (int i = 0; i < 20; i++) {
    const tl::Activation lg = m.forward(X, {4, 2});
    const tl::Loss loss = tl::cross_entropy(lg.data, Y, 2);
    EXPECT(loss.value == closs[i]);
    opt.zero_grad();
    m.backward(loss.grad, lg.shape(), false);
    opt.step();
  }
  EXPECT(opt.step_count() == 20);
  EXPECT(same_bits(m.flat_params(), tl::span<const float>(cp, cn)));
  EXPECT(opt.state() == cstate);

  // State: reset, then load the saved bytes back.
  const std::vector<std::uint8_t> saved = opt.state();
  opt.reset_state();
  EXPECT(opt.step_count() == 0);
  opt.load_state(saved);
  EXPECT(opt.step_count() == 20 && opt.state() == saved);
  std::vector<std::uint8_t> broken = saved;
  broken[0] ^= 0xFF;
  EXPECT_THROW(opt.load_state(broken), tl::FormatError, "tl_optim_state_load");
  EXPECT(opt.step_count() == 20);

  // Hyperparameters, per group.
  EXPECT(opt.num_groups() == 1 && opt.group_lr(0) == 0.1);
  opt.set_group_lr(0, 0.05);
  opt.set_group_hparam(0, TL_OPTIM_WEIGHT_DECAY, 0.5);
  EXPECT(opt.group_hparam(0, TL_OPTIM_WEIGHT_DECAY) == 0.5);
  EXPECT(opt.lrs() == std::vector<double>{0.05});
  EXPECT_THROW(opt.set_group_lr(0, -1.0), tl::InvalidArgument, "lr");
  EXPECT_THROW(opt.set_group_lr(3, 0.1), tl::InvalidArgument, "group");
  EXPECT_THROW(opt.set_lrs(std::vector<double>{0.1, 0.2}), tl::ShapeError,
               "tl_optim_set_lrs");
  EXPECT(opt.clip_grad_norm(1e9) >= 0.0);

  // ---- two models, one optimizer: groups concatenate ----
  tl::Model enc = tl::Model::with_seed(1), head = tl::Model::with_seed(2);
  enc.add_linear("a", 3, 4, TL_ACTIVATION_RELU).add_linear("b", 4, 4);
  head.add_linear("fc", 4, 2);
  tl::Optimizer both({enc, head}, tl::OptimOptions(TL_OPTIM_SGD));
  EXPECT(both.num_groups() == 3);
  const std::vector<double> lrs = tl::lrs_factor(3, 1e-2, 2.6);
  double clrs[3];
  C_OK(tl_lrs_factor(clrs, 3, 1e-2, 2.6));
  EXPECT(same_bits(lrs, tl::span<const double>(clrs, 3)));
  both.set_lrs(lrs);
  EXPECT(both.lrs() == lrs);
  both.freeze_to(-1);
  EXPECT(!enc.group_trainable(0) && !enc.group_trainable(1) &&
         head.group_trainable(0));
  both.set_group_trainable(0, true);
  EXPECT(enc.group_trainable(0));
  double ce[4], cs[4];
  C_OK(tl_lrs_even(ce, 4, 1e-4, 1e-2));
  C_OK(tl_lrs_slice(cs, 4, 1e-2));
  EXPECT(same_bits(tl::lrs_even(4, 1e-4, 1e-2), tl::span<const double>(ce, 4)));
  EXPECT(same_bits(tl::lrs_slice(4, 1e-2), tl::span<const double>(cs, 4)));
  EXPECT_THROW(tl::lrs_even(0, 1e-4, 1e-2), tl::InvalidArgument,
               "tl::lrs_even: n is 0");

  // The optimizer holds its models: destroying the Model objects first is
  // safe, and the optimizer still steps them.
  {
    tl::Model tmp;
    tmp.add_linear("fc", 2, 2);
    tl::Optimizer keep(tmp, tl::OptimOptions(TL_OPTIM_SGD));
    { tl::Model gone = std::move(tmp); }
    keep.zero_grad();
    keep.step();
    EXPECT(keep.step_count() == 1);
  }

  // Bad options and use after move.
  tl::OptimOptions bad(TL_OPTIM_SGD);
  bad.nesterov = 1; // needs momentum
  EXPECT_THROW(tl::Optimizer(m, bad), tl::InvalidArgument, "nesterov");
  tl::Optimizer moved = std::move(opt);
  EXPECT(!opt && moved);
  EXPECT_THROW(opt.step(), tl::StateError, "tl::Optimizer");
  tl::Model taken = std::move(enc);
  EXPECT_THROW(tl::Optimizer(enc, tl::OptimOptions()), tl::StateError,
               "tl::Model: the object is empty");
  EXPECT_THROW(tl::Optimizer({taken, enc}, tl::OptimOptions()), tl::StateError,
               "tl::Model");
  enc = std::move(taken);
  EXPECT_THROW(tl::Optimizer(enc, tl::OptimOptions()).freeze_to(9),
               tl::InvalidArgument, "tl_optim_freeze_to");

  tl_optim_free(copt);
  tl_model_free(c);
  return report();
}
