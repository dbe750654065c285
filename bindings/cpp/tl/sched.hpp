// libtl for C++, schedules (tl/sched.h): tl::Schedule with one static
// factory per method, and the options structs with libtl's defaults.
#ifndef TL_SCHED_HPP
#define TL_SCHED_HPP

#include <tl/core.hpp>

#include <functional>
#include <vector>

namespace tl {

// tl_sched_stlr_options with the ULMFiT defaults; set total_steps.
struct StlrOptions : tl_sched_stlr_options {
  StlrOptions() noexcept : tl_sched_stlr_options TL_SCHED_STLR_OPTIONS_INIT {}
};
// tl_sched_cyclic_options with CyclicLR's defaults.
struct CyclicOptions : tl_sched_cyclic_options {
  CyclicOptions() noexcept
      : tl_sched_cyclic_options TL_SCHED_CYCLIC_OPTIONS_INIT {}
};
// tl_sched_cosine_options with the defaults; set t_max.
struct CosineOptions : tl_sched_cosine_options {
  CosineOptions() noexcept
      : tl_sched_cosine_options TL_SCHED_COSINE_OPTIONS_INIT {}
};
// tl_sched_cosine_restarts_options with the defaults; set t_0.
struct CosineRestartsOptions : tl_sched_cosine_restarts_options {
  CosineRestartsOptions() noexcept
      : tl_sched_cosine_restarts_options TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT {
  }
};
// tl_sched_one_cycle_options with OneCycleLR's defaults; set total_steps.
struct OneCycleOptions : tl_sched_one_cycle_options {
  OneCycleOptions() noexcept
      : tl_sched_one_cycle_options TL_SCHED_ONE_CYCLE_OPTIONS_INIT {}
};
// tl_sched_fastai_one_cycle_options with fit_one_cycle's defaults; set
// total_steps.
struct FastaiOneCycleOptions : tl_sched_fastai_one_cycle_options {
  FastaiOneCycleOptions() noexcept
      : tl_sched_fastai_one_cycle_options
        TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT {}
};
// tl_sched_linear_options with LinearLR's defaults.
struct LinearOptions : tl_sched_linear_options {
  LinearOptions() noexcept
      : tl_sched_linear_options TL_SCHED_LINEAR_OPTIONS_INIT {}
};
// tl_sched_constant_options with the defaults (a plain 0.01).
struct ConstantOptions : tl_sched_constant_options {
  ConstantOptions() noexcept
      : tl_sched_constant_options TL_SCHED_CONSTANT_OPTIONS_INIT {}
};
// tl_sched_step_options with StepLR's defaults; set step_size.
struct StepOptions : tl_sched_step_options {
  StepOptions() noexcept : tl_sched_step_options TL_SCHED_STEP_OPTIONS_INIT {}
};
// tl_sched_exponential_options with the defaults.
struct ExponentialOptions : tl_sched_exponential_options {
  ExponentialOptions() noexcept
      : tl_sched_exponential_options TL_SCHED_EXPONENTIAL_OPTIONS_INIT {}
};
// tl_sched_multi_step_options with MultiStepLR's defaults; the milestones
// are passed to Schedule::multi_step.
struct MultiStepOptions : tl_sched_multi_step_options {
  MultiStepOptions() noexcept
      : tl_sched_multi_step_options TL_SCHED_MULTI_STEP_OPTIONS_INIT {}
};

// An immutable schedule (tl_sched): the rate (and momentum) as a pure
// function of the step. Built by the static factories, one per C
// constructor; move-only; queries mirror the C calls.
class Schedule {
public:
  // tl_sched_stlr_create.
  static Schedule stlr(const tl_sched_stlr_options &o) {
    return make(tl_sched_stlr_create, o);
  }
  // tl_sched_cyclic_create.
  static Schedule cyclic(const tl_sched_cyclic_options &o) {
    return make(tl_sched_cyclic_create, o);
  }
  // tl_sched_cosine_create.
  static Schedule cosine(const tl_sched_cosine_options &o) {
    return make(tl_sched_cosine_create, o);
  }
  // tl_sched_cosine_restarts_create.
  static Schedule cosine_restarts(const tl_sched_cosine_restarts_options &o) {
    return make(tl_sched_cosine_restarts_create, o);
  }
  // tl_sched_one_cycle_create.
  static Schedule one_cycle(const tl_sched_one_cycle_options &o) {
    return make(tl_sched_one_cycle_create, o);
  }
  // tl_sched_fastai_one_cycle_create.
  static Schedule fastai_one_cycle(const tl_sched_fastai_one_cycle_options &o) {
    return make(tl_sched_fastai_one_cycle_create, o);
  }
  // tl_sched_linear_create.
  static Schedule linear(const tl_sched_linear_options &o) {
    return make(tl_sched_linear_create, o);
  }
  // tl_sched_constant_create.
  static Schedule constant(const tl_sched_constant_options &o) {
    return make(tl_sched_constant_create, o);
  }
  // A plain constant rate lr (tl_sched_constant_create).
  static Schedule constant(double lr) {
    ConstantOptions o;
    o.lr = lr;
    return constant(o);
  }
  // tl_sched_step_create.
  static Schedule step(const tl_sched_step_options &o) {
    return make(tl_sched_step_create, o);
  }
  // tl_sched_exponential_create.
  static Schedule exponential(const tl_sched_exponential_options &o) {
    return make(tl_sched_exponential_create, o);
  }
  // tl_sched_multi_step_create with `milestones` (copied) in place of
  // o.milestones / o.n_milestones.
  static Schedule
  multi_step(span<const std::uint64_t> milestones,
             const tl_sched_multi_step_options &o = MultiStepOptions()) {
    tl_sched_multi_step_options c = o;
    c.milestones = milestones.data();
    c.n_milestones = milestones.size();
    return make(tl_sched_multi_step_create, c);
  }
  // tl_sched_sequential_create: scheds[i] runs until milestones[i] (n - 1
  // milestones for n schedules, else tl::ShapeError); the children are
  // copied, so they may be destroyed afterwards.
  static Schedule
  sequential(std::initializer_list<std::reference_wrapper<const Schedule>> s,
             span<const std::uint64_t> milestones) {
    return sequential(std::vector<std::reference_wrapper<const Schedule>>(s),
                      milestones);
  }
  // As above, from a vector of schedules.
  static Schedule
  sequential(const std::vector<std::reference_wrapper<const Schedule>> &s,
             span<const std::uint64_t> milestones) {
    if (s.size() != milestones.size() + 1)
      throw ShapeError(TL_E_SHAPE,
                       "tl::Schedule::sequential: " + std::to_string(s.size()) +
                           " schedules need " +
                           std::to_string(s.empty() ? 0 : s.size() - 1) +
                           " milestones, got " +
                           std::to_string(milestones.size()));
    std::vector<const tl_sched *> raw(s.size());
    for (std::size_t i = 0; i < s.size(); i++)
      raw[i] = s[i].get().get();
    tl_sched *out = nullptr;
    check(tl_sched_sequential_create(&out, raw.data(), raw.size(),
                                     milestones.empty() ? nullptr
                                                        : milestones.data()));
    return Schedule(out);
  }

  // The C handle (still owned); throws tl::StateError when empty.
  const tl_sched *get() const { return h_.live("tl::Schedule"); }
  // Whether the object holds a schedule (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // tl_sched_lr.
  double lr(std::uint64_t step) const {
    double v = 0.0;
    check(tl_sched_lr(&v, get(), step));
    return v;
  }
  // tl_sched_momentum (tl::Unsupported where there is none).
  double momentum(std::uint64_t step) const {
    double v = 0.0;
    check(tl_sched_momentum(&v, get(), step));
    return v;
  }
  // tl_sched_has_momentum.
  bool has_momentum() const { return tl_sched_has_momentum(get()) != 0; }
  // tl_sched_get_kind.
  tl_sched_kind kind() const {
    tl_sched_kind k = TL_SCHED_STLR;
    check(tl_sched_get_kind(&k, get()));
    return k;
  }
  // tl_sched_total_steps (0: unbounded).
  std::uint64_t total_steps() const {
    std::uint64_t n = 0;
    check(tl_sched_total_steps(&n, get()));
    return n;
  }
  // tl_sched_reference_lr.
  double reference_lr(std::uint64_t step = 0) const {
    double v = 0.0;
    check(tl_sched_reference_lr(&v, get(), step));
    return v;
  }
  // tl_sched_multiplier.
  double multiplier(std::uint64_t step) const {
    double v = 0.0;
    check(tl_sched_multiplier(&v, get(), step));
    return v;
  }
  // tl_sched_fill_group_lrs: base_lrs[g] * multiplier(step).
  std::vector<double> group_lrs(span<const double> base_lrs,
                                std::uint64_t step) const {
    detail::expect_nonempty("tl::Schedule::group_lrs", "n_groups",
                            base_lrs.size());
    std::vector<double> v(base_lrs.size());
    check(tl_sched_fill_group_lrs(v.data(), v.size(), get(), base_lrs.data(),
                                  step));
    return v;
  }
  // tl_sched_fill_group_momenta: the momentum at step for n_groups groups.
  std::vector<double> group_momenta(std::size_t n_groups,
                                    std::uint64_t step) const {
    detail::expect_nonempty("tl::Schedule::group_momenta", "n_groups",
                            n_groups);
    std::vector<double> v(n_groups);
    check(tl_sched_fill_group_momenta(v.data(), n_groups, get(), step));
    return v;
  }

private:
  explicit Schedule(tl_sched *raw) noexcept : h_(raw) {}
  template <typename O>
  static Schedule make(tl_status (*create)(tl_sched **, const O *),
                       const O &o) {
    tl_sched *out = nullptr;
    check(create(&out, &o));
    return Schedule(out);
  }
  Handle<tl_sched, tl_sched_free> h_;
};

namespace detail {
inline std::vector<const tl_sched *>
raw_scheds(const std::vector<std::reference_wrapper<const Schedule>> &s) {
  std::vector<const tl_sched *> raw(s.size());
  for (std::size_t i = 0; i < s.size(); i++)
    raw[i] = s[i].get().get();
  return raw;
}
} // namespace detail

// tl_sched_fill_group_lrs_each: group g follows scheds[g].
inline std::vector<double>
group_lrs_each(const std::vector<std::reference_wrapper<const Schedule>> &s,
               std::uint64_t step) {
  detail::expect_nonempty("tl::group_lrs_each", "n_groups", s.size());
  const std::vector<const tl_sched *> raw = detail::raw_scheds(s);
  std::vector<double> v(s.size());
  check(tl_sched_fill_group_lrs_each(v.data(), v.size(), raw.data(), step));
  return v;
}
// tl_sched_fill_group_momenta_each: group g's momentum from scheds[g].
inline std::vector<double>
group_momenta_each(const std::vector<std::reference_wrapper<const Schedule>> &s,
                   std::uint64_t step) {
  detail::expect_nonempty("tl::group_momenta_each", "n_groups", s.size());
  const std::vector<const tl_sched *> raw = detail::raw_scheds(s);
  std::vector<double> v(s.size());
  check(tl_sched_fill_group_momenta_each(v.data(), v.size(), raw.data(), step));
  return v;
}

} // namespace tl

#endif // TL_SCHED_HPP
