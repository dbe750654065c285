// tl::Plan and (experimental) presets and tl::lr_find against the C API:
// same stages, same rates and trainable groups; lr_find with a lambda gives
// the C callback's record bit for bit; a throwing step is rethrown after
// libtl restored everything, never unwound through C.
#define TL_EXPERIMENTAL_API
#include <tl/tl.hpp>

#include "expect.hpp"

#include <stdexcept>
#include <vector>

static const float X[8] = {1, 0, 0, 1, 1, 0.2f, 0.1f, 1};
static const std::int64_t Y[4] = {0, 1, 0, 1};

// One training step of the quick start's classifier in C (lr_find's C
// callback), payload {model, optim}.
struct CStep {
  tl_model *m;
  tl_optim *o;
};
static tl_status c_step(void *payload, double *out_loss) {
  CStep *s = static_cast<CStep *>(payload);
  const size_t dims[2] = {4, 2};
  const float *lg = nullptr;
  size_t od[TL_MODEL_MAX_DIMS], on = 0;
  float dl[8], loss = 0.0f;
  tl_status st = tl_model_forward(&lg, od, &on, s->m, X, dims, 2);
  if (st == TL_OK)
    st = tl_cross_entropy(&loss, dl, lg, Y, 4, 2, -100);
  if (st == TL_OK)
    st = tl_optim_zero_grad(s->o);
  if (st == TL_OK)
    st = tl_model_backward(nullptr, s->m, dl, od, on);
  if (st == TL_OK)
    st = tl_optim_step(s->o);
  *out_loss = loss;
  return st;
}

// The same step through the binding.
static double cpp_step(tl::Model &m, tl::Optimizer &o) {
  const tl::Activation lg = m.forward(X, {4, 2});
  const tl::Loss loss = tl::cross_entropy(lg.data, Y, 2);
  o.zero_grad();
  m.backward(loss.grad, lg.shape(), false);
  o.step();
  return loss.value;
}

struct Boom {
  int at;
};

int main() {
  // ---- a hand-built plan: frozen head stage, then all with base rates ----
  tl_sched_constant_options ko = TL_SCHED_CONSTANT_OPTIONS_INIT;
  ko.lr = 0.01;
  tl_sched *ck = nullptr;
  C_OK(tl_sched_constant_create(&ck, &ko));
  tl_sched_fastai_one_cycle_options fo = TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT;
  fo.total_steps = 20;
  tl_sched *cf = nullptr;
  C_OK(tl_sched_fastai_one_cycle_create(&cf, &fo));
  tl_plan *cp = nullptr;
  C_OK(tl_plan_create(&cp, 3));
  tl_plan_stage st = TL_PLAN_STAGE_INIT;
  st.freeze_arg = -1;
  st.steps = 10;
  st.sched = ck;
  C_OK(tl_plan_add_stage(cp, &st));
  const double base[3] = {1e-4, 1e-3, 1e-2};
  st.freeze_arg = 0;
  st.steps = 20;
  st.sched = cf;
  st.base_lrs = base;
  st.reset_state = 0;
  C_OK(tl_plan_add_stage(cp, &st));

  tl::FastaiOneCycleOptions fp;
  fp.total_steps = 20;
  tl::Plan plan(3);
  {
    tl::Stage a;
    a.freeze_arg = -1;
    a.steps = 10;
    tl::Stage b;
    b.steps = 20;
    b.base_lrs.assign(base, base + 3);
    b.reset_state = false;
    // the plan copies its schedules: they may go out of scope
    plan.add_stage(tl::Schedule::constant(0.01), a)
        .add_stage(tl::Schedule::fastai_one_cycle(fp), b);
  }
  EXPECT(plan.num_stages() == 2 && plan.num_groups() == 3);
  EXPECT(plan.total_steps() == 30);
  EXPECT((plan.stage_bounds(1) ==
          std::pair<std::uint64_t, std::uint64_t>{10, 20}));
  EXPECT((plan.stage_at(12) == std::pair<std::size_t, std::uint64_t>{1, 2}));
  EXPECT(!plan.group_trainable(0, 0) && plan.group_trainable(0, 2));
  EXPECT(plan.group_trainable(1, 0));
  for (std::uint64_t t : {0u, 5u, 10u, 17u, 29u, 40u}) {
    double clrs[3];
    C_OK(tl_plan_lrs(clrs, 3, cp, t));
    EXPECT(same_bits(plan.lrs(t), tl::span<const double>(clrs, 3)));
  }
  double cmom = 0.0;
  C_OK(tl_plan_momentum(&cmom, cp, 15));
  EXPECT(plan.momentum(15) == cmom);
  EXPECT_THROW(plan.momentum(3), tl::Unsupported, "has no momentum");

  // apply puts the same rates and flags into an optimizer as in C.
  tl::Model enc = tl::Model::with_seed(1), head = tl::Model::with_seed(2);
  enc.add_linear("a", 2, 3).add_linear("b", 3, 2);
  head.add_linear("fc", 2, 2);
  tl::Optimizer opt({enc, head}, tl::OptimOptions(TL_OPTIM_ADAM));
  EXPECT(plan.apply(opt, 0));
  EXPECT(!enc.group_trainable(0) && head.group_trainable(0));
  EXPECT(!plan.apply(opt, 1));
  EXPECT(plan.apply(opt, 10));
  EXPECT(enc.group_trainable(0));
  EXPECT(opt.lrs() == plan.lrs(10));
  EXPECT(opt.group_hparam(0, TL_OPTIM_MOMENTUM) == plan.momentum(10));
  tl::Optimizer one_group(head, tl::OptimOptions());
  EXPECT_THROW(plan.apply(one_group, 0), tl::ShapeError, "tl_plan_apply");

  // Bad stages.
  tl::Stage wrong;
  wrong.steps = 5;
  wrong.base_lrs = {1e-3, 1e-3};
  EXPECT_THROW(plan.add_stage(tl::Schedule::constant(0.1), wrong),
               tl::ShapeError, "base_lrs has 2 elements, expected 3");
  wrong.base_lrs.clear();
  wrong.steps = 0;
  EXPECT_THROW(plan.add_stage(tl::Schedule::constant(0.1), wrong),
               tl::InvalidArgument, "steps");
  EXPECT_THROW(tl::Plan(0), tl::InvalidArgument, "n_groups");
  EXPECT_THROW(tl::Plan(2).lrs(0), tl::StateError, "tl_plan_lrs");

  // ---- presets (experimental) ----
  for (tl_plan_preset p :
       {TL_PLAN_PRESET_ULMFIT, TL_PLAN_PRESET_CHAIN_THAW,
        TL_PLAN_PRESET_FINE_TUNE, TL_PLAN_PRESET_FEATURE_EXTRACTION}) {
    tl_plan_preset_options co = TL_PLAN_PRESET_OPTIONS_INIT(p);
    co.n_groups = 3;
    co.stage_steps = 4;
    co.final_steps = 8;
    tl_plan *cpre = nullptr;
    C_OK(tl_plan_preset_create(&cpre, p, &co));
    tl::PresetOptions po(p);
    po.n_groups = 3;
    po.stage_steps = 4;
    po.final_steps = 8;
    const tl::Plan pre = tl::Plan::preset(p, po);
    std::uint64_t ctotal = 0;
    C_OK(tl_plan_total_steps(&ctotal, cpre));
    EXPECT(pre.total_steps() == ctotal);
    for (std::uint64_t t = 0; t < ctotal; t += 3) {
      double clrs[3];
      C_OK(tl_plan_lrs(clrs, 3, cpre, t));
      EXPECT(same_bits(pre.lrs(t), tl::span<const double>(clrs, 3)));
    }
    tl_plan_free(cpre);
  }
  EXPECT_THROW(tl::Plan::preset(TL_PLAN_PRESET_ULMFIT,
                                tl::PresetOptions(TL_PLAN_PRESET_ULMFIT)),
               tl::InvalidArgument, "n_groups");

  // ---- lr_find: a lambda against the C callback ----
  tl_model *cm = nullptr;
  C_OK(tl_model_create(&cm, nullptr));
  C_OK(tl_model_add_linear(cm, "fc", 2, 2, TL_ACTIVATION_NONE));
  tl_optim_options coo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_SGD);
  coo.momentum = 0.9;
  tl_optim *co = nullptr;
  C_OK(tl_optim_create(&co, &cm, 1, &coo));
  tl_lr_find_options lfo = TL_LR_FIND_OPTIONS_INIT;
  lfo.num_it = 40;
  lfo.stop_factor = 0.0;
  std::vector<double> clr(40), closs(40);
  tl_lr_find_result cres = TL_LR_FIND_RESULT_INIT;
  CStep payload{cm, co};
  C_OK(tl_lr_find(&cres, clr.data(), closs.data(), 40, co, c_step, &payload,
                  &lfo));
  clr.resize(cres.n);
  closs.resize(cres.n);

  tl::Model m;
  m.add_linear("fc", 2, 2);
  tl::OptimOptions oo(TL_OPTIM_SGD);
  oo.momentum = 0.9;
  tl::Optimizer o(m, oo);
  const std::vector<float> before = m.param_get("fc.weight");
  tl::LrFindOptions lf;
  lf.num_it = 40;
  lf.stop_factor = 0.0;
  int calls = 0;
  const tl::LrFindResult r = tl::lr_find(
      o,
      [&] {
        calls++;
        return cpp_step(m, o);
      },
      lf);
  EXPECT(calls == 40 && r.lrs.size() == cres.n);
  EXPECT(same_bits(r.lrs, clr) && same_bits(r.losses, closs));
  EXPECT(r.has_suggestions == (cres.has_suggestions != 0));
  EXPECT(r.lr_valley == cres.lr_valley && r.lr_min == cres.lr_min &&
         r.lr_steep == cres.lr_steep && r.diverged == (cres.diverged != 0));
  EXPECT(m.param_get("fc.weight") == before); // the test leaves no trace
  const tl::LrFindResult sug = tl::lr_find_suggest(r.lrs, r.losses, 40);
  EXPECT(sug.lr_valley == r.lr_valley && sug.lr_steep == r.lr_steep);
  EXPECT_THROW(tl::lr_find_suggest(r.lrs, std::vector<double>(3, 1.0), 40),
               tl::ShapeError, "losses has 3");

  // A step that throws: the exception comes back unchanged, after libtl
  // restored the weights and the learning rate.
  const double lr_before = o.group_lr(0);
  int n = 0;
  bool caught = false;
  try {
    tl::lr_find(o, [&]() -> double {
      if (++n == 5)
        throw Boom{n};
      return cpp_step(m, o);
    });
  } catch (const Boom &b) {
    caught = b.at == 5;
  }
  EXPECT(caught && n == 5);
  EXPECT(m.param_get("fc.weight") == before && o.group_lr(0) == lr_before);
  // A tl::Error thrown inside (here: a wrong size) keeps its type, and a
  // standard exception too.
  EXPECT_THROW(tl::lr_find(o,
                           [&] {
                             return m.forward(X, {3, 2}).data[0];
                           }),
               tl::ShapeError, "x has 8 elements, expected 6");
  EXPECT_THROW(
      tl::lr_find(o, []() -> double { throw std::runtime_error("x"); }),
      std::runtime_error, "x");
  // even a tl::Error made with TL_OK stops the test instead of passing an
  // unset loss on
  EXPECT_THROW(
      tl::lr_find(o, []() -> double { throw tl::Error(TL_OK, "ok?"); }),
      tl::Error, "ok?");
  EXPECT(m.param_get("fc.weight") == before && o.group_lr(0) == lr_before);
  // A failing status without an exception: the C error, as tl::Error.
  tl::LrFindOptions bad;
  bad.num_it = 0;
  EXPECT_THROW(tl::lr_find(
                   o, [] { return 1.0; }, bad),
               tl::InvalidArgument, "num_it");
  // A non-finite loss ends the test early (not an error).
  const tl::LrFindResult nan = tl::lr_find(o, [] { return 1.0 / 0.0; });
  EXPECT(nan.diverged && nan.lrs.empty());

  tl::Plan moved = std::move(plan);
  EXPECT_THROW(plan.num_stages(), tl::StateError, "tl::Plan");
  EXPECT(moved.num_stages() == 2);

  tl_optim_free(co);
  tl_model_free(cm);
  tl_plan_free(cp);
  tl_sched_free(ck);
  tl_sched_free(cf);
  return report();
}
