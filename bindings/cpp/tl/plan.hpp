// libtl for C++, plans (tl/plan.h): tl::Plan, and under
// TL_EXPERIMENTAL_API (defined before including) the plan presets and the
// LR range test tl::lr_find, whose step accepts any callable.
#ifndef TL_PLAN_HPP
#define TL_PLAN_HPP

#include <tl/core.hpp>
#include <tl/optim.hpp>
#include <tl/sched.hpp>

#include <utility>
#include <vector>

namespace tl {

// One stage of a plan (tl_plan_stage without the pointers): which groups
// train, for how many steps, with which base rates. Defaults as
// TL_PLAN_STAGE_INIT: freeze_to(0), reset_state.
struct Stage {
  // How the stage chooses its trainable groups.
  tl_plan_freeze freeze = TL_PLAN_FREEZE_TO;
  // freeze_to's n, or the group of TL_PLAN_ONLY_GROUP.
  std::int64_t freeze_arg = 0;
  // The stage's length (> 0).
  std::uint64_t steps = 0;
  // One base rate per group, or empty: the schedule's rate for all.
  std::vector<double> base_lrs;
  // Clear the optimizer state when the stage starts.
  bool reset_state = true;
};

// A plan (tl_plan): stages of freezing, steps, schedule and rates over the
// optimizer's groups. Move-only; methods mirror the C calls.
class Plan {
public:
  // An empty plan over n_groups groups (tl_plan_create).
  explicit Plan(std::size_t n_groups) {
    tl_plan *raw = nullptr;
    check(tl_plan_create(&raw, n_groups));
    h_.reset(raw);
  }

  // The C handle (still owned); throws tl::StateError when empty.
  tl_plan *get() const { return h_.live("tl::Plan"); }
  // Whether the object holds a plan (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // tl_plan_add_stage with `sched` (copied by the plan); stage.base_lrs
  // must be empty or hold num_groups() rates (tl::ShapeError).
  Plan &add_stage(const Schedule &sched, const Stage &stage) {
    if (!stage.base_lrs.empty())
      detail::expect_size("tl::Plan::add_stage", "base_lrs",
                          stage.base_lrs.size(), num_groups());
    tl_plan_stage s = TL_PLAN_STAGE_INIT;
    s.freeze = stage.freeze;
    s.freeze_arg = stage.freeze_arg;
    s.steps = stage.steps;
    s.sched = sched.get();
    s.base_lrs = stage.base_lrs.empty() ? nullptr : stage.base_lrs.data();
    s.reset_state = stage.reset_state ? 1 : 0;
    check(tl_plan_add_stage(get(), &s));
    return *this;
  }
  // tl_plan_num_stages.
  std::size_t num_stages() const {
    std::size_t n = 0;
    check(tl_plan_num_stages(&n, get()));
    return n;
  }
  // tl_plan_num_groups.
  std::size_t num_groups() const {
    std::size_t n = 0;
    check(tl_plan_num_groups(&n, get()));
    return n;
  }
  // tl_plan_total_steps.
  std::uint64_t total_steps() const {
    std::uint64_t n = 0;
    check(tl_plan_total_steps(&n, get()));
    return n;
  }
  // tl_plan_stage_bounds: (first global step, number of steps).
  std::pair<std::uint64_t, std::uint64_t>
  stage_bounds(std::size_t stage) const {
    std::uint64_t start = 0, steps = 0;
    check(tl_plan_stage_bounds(&start, &steps, get(), stage));
    return {start, steps};
  }
  // tl_plan_stage_at: (stage, step inside it) at a global step.
  std::pair<std::size_t, std::uint64_t> stage_at(std::uint64_t step) const {
    std::size_t stage = 0;
    std::uint64_t local = 0;
    check(tl_plan_stage_at(&stage, &local, get(), step));
    return {stage, local};
  }
  // tl_plan_group_trainable.
  bool group_trainable(std::size_t stage, std::size_t group) const {
    int t = 0;
    check(tl_plan_group_trainable(&t, get(), stage, group));
    return t != 0;
  }
  // tl_plan_lrs: every group's rate at a global step.
  std::vector<double> lrs(std::uint64_t step) const {
    std::vector<double> v(num_groups());
    check(tl_plan_lrs(v.data(), v.size(), get(), step));
    return v;
  }
  // tl_plan_momentum (tl::Unsupported when the stage's schedule has none).
  double momentum(std::uint64_t step) const {
    double v = 0.0;
    check(tl_plan_momentum(&v, get(), step));
    return v;
  }
  // tl_plan_apply: puts the plan's state for `step` into optim; true on a
  // stage's first step.
  bool apply(Optimizer &optim, std::uint64_t step) const {
    int started = 0;
    check(tl_plan_apply(&started, get(), optim.get(), step));
    return started != 0;
  }

#ifdef TL_EXPERIMENTAL_API
  // tl_plan_preset_create (experimental tier).
  static Plan preset(tl_plan_preset preset,
                     const tl_plan_preset_options &options) {
    tl_plan *raw = nullptr;
    check(tl_plan_preset_create(&raw, preset, &options));
    return Plan(raw, nullptr);
  }
#endif

private:
  // Adopts raw; the second argument keeps Plan(0) meaning n_groups 0.
  Plan(tl_plan *raw, std::nullptr_t) noexcept : h_(raw) {}
  Handle<tl_plan, tl_plan_free> h_;
};

#ifdef TL_EXPERIMENTAL_API
// tl_plan_preset_options with `preset`'s defaults
// (TL_PLAN_PRESET_OPTIONS_INIT); set n_groups and the step counts.
struct PresetOptions : tl_plan_preset_options {
  // `preset`'s defaults (the values tl_plan_preset_options_init writes).
  explicit PresetOptions(tl_plan_preset preset) noexcept
      : tl_plan_preset_options TL_PLAN_PRESET_OPTIONS_INIT(preset) {}
};

// tl_lr_find_options with fastai's defaults (TL_LR_FIND_OPTIONS_INIT).
struct LrFindOptions : tl_lr_find_options {
  LrFindOptions() noexcept : tl_lr_find_options TL_LR_FIND_OPTIONS_INIT {}
};

// What tl::lr_find and tl::lr_find_suggest report: the recorded points and
// the suggestions (tl_lr_find_result).
struct LrFindResult {
  // The learning rate of each recorded point.
  std::vector<double> lrs;
  // The smoothed loss of each recorded point.
  std::vector<double> losses;
  // Stopped early (stop_factor or a non-finite loss).
  bool diverged = false;
  // false when too few points remain; the lr_* are then 0.
  bool has_suggestions = false;
  // minimum / 10.
  double lr_min = 0.0;
  // steepest descent.
  double lr_steep = 0.0;
  // valley (fastai's default suggestion).
  double lr_valley = 0.0;
};

namespace detail {
inline void copy_result(LrFindResult &out, const tl_lr_find_result &r) {
  out.diverged = r.diverged != 0;
  out.has_suggestions = r.has_suggestions != 0;
  out.lr_min = r.lr_min;
  out.lr_steep = r.lr_steep;
  out.lr_valley = r.lr_valley;
}
// lr_find's C callback: runs the callable, which returns the batch's loss.
// Whatever it throws is kept in the Trap and becomes a failure status for
// libtl (which then restores everything); never unwinds through C.
template <typename F> struct LrFindCall {
  F *step;
  Trap trap;
  static tl_status trampoline(void *payload, double *out_loss) noexcept {
    auto *self = static_cast<LrFindCall *>(payload);
    return self->trap.run(
        [&] { *out_loss = static_cast<double>((*self->step)()); });
  }
};
} // namespace detail

// The LR range test (tl_lr_find, experimental tier) on optim: `step` is
// any callable returning the loss (convertible to double) of one training
// step it runs with the optimizer. An exception thrown by step ends the
// test (libtl restores the weights, state and rates) and is rethrown here,
// unchanged, after the C call returned.
template <typename F>
LrFindResult lr_find(Optimizer &optim, F &&step,
                     const tl_lr_find_options &options = LrFindOptions()) {
  using Fn = std::remove_reference_t<F>;
  detail::LrFindCall<Fn> call{&step, {}};
  detail::expect_nonempty("tl::lr_find", "options.num_it", options.num_it);
  LrFindResult out;
  out.lrs.resize(options.num_it);
  out.losses.resize(options.num_it);
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  const tl_status s = tl_lr_find(
      &r, out.lrs.data(), out.losses.data(), options.num_it, optim.get(),
      &detail::LrFindCall<Fn>::trampoline, &call, &options);
  call.trap.rethrow();
  check(s);
  out.lrs.resize(r.n);
  out.losses.resize(r.n);
  detail::copy_result(out, r);
  return out;
}

// tl_lr_find_suggest: the suggestions of a recorded test (lrs and losses of
// one size, else tl::ShapeError), num_it as it was run.
inline LrFindResult lr_find_suggest(span<const double> lrs,
                                    span<const double> losses,
                                    std::size_t num_it) {
  detail::expect_size("tl::lr_find_suggest", "losses", losses.size(),
                      lrs.size());
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  check(tl_lr_find_suggest(&r, lrs.data(), losses.data(), lrs.size(), num_it));
  LrFindResult out;
  out.lrs.assign(lrs.begin(), lrs.end());
  out.losses.assign(losses.begin(), losses.end());
  detail::copy_result(out, r);
  return out;
}
#endif // TL_EXPERIMENTAL_API

} // namespace tl

#endif // TL_PLAN_HPP
