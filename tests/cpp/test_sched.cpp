// tl::Schedule against the C API: every factory gives the rates (and
// momenta) of the matching C constructor, bit for bit, with the defaults of
// the TL_*_OPTIONS_INIT macros; bad options and queries throw.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <vector>

static const std::uint64_t STEPS[] = {0, 1, 7, 30, 99, 100, 250};

// lr (and momentum where defined) of s equal those of the C schedule c.
static bool same_as(const tl::Schedule &s, tl_sched *c) {
  bool ok = s.has_momentum() == (tl_sched_has_momentum(c) != 0);
  for (std::uint64_t t : STEPS) {
    double lr = 0.0;
    if (tl_sched_lr(&lr, c, t) != TL_OK)
      return false;
    ok = ok && s.lr(t) == lr;
    if (s.has_momentum()) {
      double mom = 0.0;
      if (tl_sched_momentum(&mom, c, t) != TL_OK)
        return false;
      ok = ok && s.momentum(t) == mom;
    }
  }
  tl_sched_free(c);
  return ok;
}

int main() {
  tl_sched *c = nullptr;
  {
    tl_sched_stlr_options o = TL_SCHED_STLR_OPTIONS_INIT;
    o.total_steps = 100;
    C_OK(tl_sched_stlr_create(&c, &o));
    tl::StlrOptions p;
    p.total_steps = 100;
    const tl::Schedule s = tl::Schedule::stlr(p);
    EXPECT(same_as(s, c));
    EXPECT(s.kind() == TL_SCHED_STLR && s.total_steps() == 100);
    EXPECT(s.reference_lr() == 0.01 && s.multiplier(10) == s.lr(10) / 0.01);
    EXPECT_THROW(s.momentum(3), tl::Unsupported, "tl_sched_momentum");
  }
  {
    tl_sched_cyclic_options o = TL_SCHED_CYCLIC_OPTIONS_INIT;
    o.step_size_up = 20;
    o.mode = TL_SCHED_CYCLIC_TRIANGULAR2;
    C_OK(tl_sched_cyclic_create(&c, &o));
    tl::CyclicOptions p;
    p.step_size_up = 20;
    p.mode = TL_SCHED_CYCLIC_TRIANGULAR2;
    EXPECT(same_as(tl::Schedule::cyclic(p), c));
  }
  {
    tl_sched_cosine_options o = TL_SCHED_COSINE_OPTIONS_INIT;
    o.t_max = 50;
    o.eta_min = 1e-4;
    C_OK(tl_sched_cosine_create(&c, &o));
    tl::CosineOptions p;
    p.t_max = 50;
    p.eta_min = 1e-4;
    EXPECT(same_as(tl::Schedule::cosine(p), c));
  }
  {
    tl_sched_cosine_restarts_options o = TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT;
    o.t_0 = 10;
    o.t_mult = 2;
    C_OK(tl_sched_cosine_restarts_create(&c, &o));
    tl::CosineRestartsOptions p;
    p.t_0 = 10;
    p.t_mult = 2;
    EXPECT(same_as(tl::Schedule::cosine_restarts(p), c));
  }
  {
    tl_sched_one_cycle_options o = TL_SCHED_ONE_CYCLE_OPTIONS_INIT;
    o.total_steps = 100;
    o.three_phase = 1;
    C_OK(tl_sched_one_cycle_create(&c, &o));
    tl::OneCycleOptions p;
    p.total_steps = 100;
    p.three_phase = 1;
    EXPECT(same_as(tl::Schedule::one_cycle(p), c));
  }
  {
    tl_sched_fastai_one_cycle_options o =
        TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT;
    o.total_steps = 100;
    C_OK(tl_sched_fastai_one_cycle_create(&c, &o));
    tl::FastaiOneCycleOptions p;
    p.total_steps = 100;
    const tl::Schedule s = tl::Schedule::fastai_one_cycle(p);
    EXPECT(s.group_momenta(3, 10) == std::vector<double>(3, s.momentum(10)));
    EXPECT(same_as(s, c));
  }
  {
    tl_sched_linear_options o = TL_SCHED_LINEAR_OPTIONS_INIT;
    C_OK(tl_sched_linear_create(&c, &o));
    EXPECT(same_as(tl::Schedule::linear(tl::LinearOptions()), c));
  }
  {
    tl_sched_constant_options o = TL_SCHED_CONSTANT_OPTIONS_INIT;
    o.lr = 0.3;
    C_OK(tl_sched_constant_create(&c, &o));
    EXPECT(same_as(tl::Schedule::constant(0.3), c));
  }
  {
    tl_sched_step_options o = TL_SCHED_STEP_OPTIONS_INIT;
    o.step_size = 7;
    C_OK(tl_sched_step_create(&c, &o));
    tl::StepOptions p;
    p.step_size = 7;
    EXPECT(same_as(tl::Schedule::step(p), c));
  }
  {
    tl_sched_exponential_options o = TL_SCHED_EXPONENTIAL_OPTIONS_INIT;
    C_OK(tl_sched_exponential_create(&c, &o));
    EXPECT(same_as(tl::Schedule::exponential(tl::ExponentialOptions()), c));
  }
  const std::vector<std::uint64_t> ms{5, 30, 30};
  {
    tl_sched_multi_step_options o = TL_SCHED_MULTI_STEP_OPTIONS_INIT;
    o.milestones = ms.data();
    o.n_milestones = ms.size();
    C_OK(tl_sched_multi_step_create(&c, &o));
    EXPECT(same_as(tl::Schedule::multi_step(ms), c));
  }
  {
    // sequential: warm-up then cosine, children copied (destroyed first)
    tl_sched_linear_options lo = TL_SCHED_LINEAR_OPTIONS_INIT;
    tl_sched_cosine_options co = TL_SCHED_COSINE_OPTIONS_INIT;
    co.t_max = 60;
    tl_sched *a = nullptr, *b = nullptr;
    C_OK(tl_sched_linear_create(&a, &lo));
    C_OK(tl_sched_cosine_create(&b, &co));
    const tl_sched *kids[2] = {a, b};
    const std::uint64_t at[1] = {5};
    C_OK(tl_sched_sequential_create(&c, kids, 2, at));
    tl_sched_free(a);
    tl_sched_free(b);
    tl::Schedule seq = [&] {
      tl::CosineOptions p;
      p.t_max = 60;
      const tl::Schedule warm = tl::Schedule::linear(tl::LinearOptions());
      const tl::Schedule cos = tl::Schedule::cosine(p);
      return tl::Schedule::sequential({warm, cos}, at);
    }();
    EXPECT(seq.kind() == TL_SCHED_SEQUENTIAL && seq.total_steps() == 65);
    double base[3] = {1e-3, 2e-3, 4e-3}, clrs[3];
    C_OK(tl_sched_fill_group_lrs(clrs, 3, c, base, 9));
    EXPECT(same_bits(seq.group_lrs(base, 9), tl::span<const double>(clrs, 3)));
    const tl::Schedule k = tl::Schedule::constant(0.5);
    const std::vector<double> each = tl::group_lrs_each({seq, k}, 9);
    EXPECT(each.size() == 2 && each[0] == seq.lr(9) && each[1] == 0.5);
    EXPECT_THROW(tl::group_momenta_each({seq, k}, 9), tl::Unsupported,
                 "momentum");
    EXPECT(same_as(seq, c));
    EXPECT_THROW(tl::Schedule::sequential({seq, k}, {}), tl::ShapeError,
                 "2 schedules need 1 milestones, got 0");
    const std::uint64_t zero[1] = {0};
    EXPECT_THROW(tl::Schedule::sequential({seq, k}, zero), tl::InvalidArgument,
                 "milestones");

    // Use after move.
    tl::Schedule moved = std::move(seq);
    EXPECT(!seq && moved.lr(0) > 0.0);
    EXPECT_THROW(seq.lr(0), tl::StateError, "tl::Schedule");
    EXPECT_THROW(seq.has_momentum(), tl::StateError, "moved from");
    EXPECT_THROW(tl::Schedule::sequential({seq, k}, at), tl::StateError,
                 "tl::Schedule");
  }

  // Options the C constructors reject, with the message naming the option.
  tl::StlrOptions no_steps; // total_steps 0 by default
  EXPECT_THROW(tl::Schedule::stlr(no_steps), tl::InvalidArgument,
               "total_steps");
  tl::CosineOptions neg;
  neg.t_max = 5;
  neg.base_lr = -1.0;
  EXPECT_THROW(tl::Schedule::cosine(neg), tl::InvalidArgument, "base_lr");
  EXPECT_THROW(tl::Schedule::multi_step({}), tl::InvalidArgument, "milestones");
  tl::ExponentialOptions grow;
  grow.gamma = 10.0;
  EXPECT_THROW(tl::Schedule::exponential(grow).lr(1000), tl::NumericError,
               "tl_sched_lr");
  const tl::Schedule zero_rate = tl::Schedule::constant(0.0);
  EXPECT_THROW(zero_rate.multiplier(0), tl::StateError, "tl_sched_multiplier");
  EXPECT_THROW(tl::Schedule::constant(1.0).group_lrs({}, 0),
               tl::InvalidArgument, "n_groups");
  return report();
}
