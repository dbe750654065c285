// libtl for C++, optimizers (tl/optim.h): tl::Optimizer and the
// discriminative learning-rate helpers.
#ifndef TL_OPTIM_HPP
#define TL_OPTIM_HPP

#include <tl/core.hpp>
#include <tl/model.hpp>

#include <functional>
#include <vector>

namespace tl {

// tl_optim_options with PyTorch's defaults for `kind`
// (TL_OPTIM_OPTIONS_INIT).
struct OptimOptions : tl_optim_options {
  // PyTorch's defaults for `kind` (the values tl_optim_options_init writes).
  explicit OptimOptions(tl_optim_kind kind = TL_OPTIM_ADAM) noexcept
      : tl_optim_options TL_OPTIM_OPTIONS_INIT(kind) {}
};

// An optimizer (tl_optim) over one or more models, whose groups are the
// models' groups concatenated. It holds a reference on each model, so the
// Model objects may be destroyed first. Move-only; methods mirror the C
// calls and throw tl::Error subclasses.
class Optimizer {
public:
  // An optimizer over one model.
  Optimizer(Model &model, const tl_optim_options &options) {
    tl_model *m = model.get();
    create(&m, 1, options);
  }
  // An optimizer over several models, e.g. {encoder, head}.
  Optimizer(std::initializer_list<std::reference_wrapper<Model>> models,
            const tl_optim_options &options) {
    init(models.begin(), models.size(), options);
  }
  // An optimizer over the models of a vector.
  Optimizer(const std::vector<std::reference_wrapper<Model>> &models,
            const tl_optim_options &options) {
    init(models.data(), models.size(), options);
  }

  // The C handle (still owned); throws tl::StateError when empty.
  tl_optim *get() const { return h_.live("tl::Optimizer"); }
  // Whether the object holds an optimizer (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // tl_optim_num_groups.
  std::size_t num_groups() const {
    std::size_t n = 0;
    check(tl_optim_num_groups(&n, get()));
    return n;
  }
  // tl_optim_set_group_hparam.
  void set_group_hparam(std::size_t group, tl_optim_hparam which,
                        double value) {
    check(tl_optim_set_group_hparam(get(), group, which, value));
  }
  // tl_optim_get_group_hparam.
  double group_hparam(std::size_t group, tl_optim_hparam which) const {
    double v = 0.0;
    check(tl_optim_get_group_hparam(&v, get(), group, which));
    return v;
  }
  // tl_optim_set_group_lr.
  void set_group_lr(std::size_t group, double lr) {
    check(tl_optim_set_group_lr(get(), group, lr));
  }
  // tl_optim_get_group_lr.
  double group_lr(std::size_t group) const {
    double v = 0.0;
    check(tl_optim_get_group_lr(&v, get(), group));
    return v;
  }
  // tl_optim_set_lrs: one rate per group (tl::ShapeError otherwise).
  void set_lrs(span<const double> lrs) {
    check(tl_optim_set_lrs(get(), lrs.data(), lrs.size()));
  }
  // Every group's learning rate.
  std::vector<double> lrs() const {
    std::vector<double> v(num_groups());
    for (std::size_t g = 0; g < v.size(); g++)
      v[g] = group_lr(g);
    return v;
  }
  // tl_optim_freeze_to (resets the state as fastai does).
  void freeze_to(std::int64_t n) { check(tl_optim_freeze_to(get(), n)); }
  // tl_optim_set_group_trainable.
  void set_group_trainable(std::size_t group, bool trainable) {
    check(tl_optim_set_group_trainable(get(), group, trainable ? 1 : 0));
  }
  // tl_optim_zero_grad.
  void zero_grad() { check(tl_optim_zero_grad(get())); }
  // tl_optim_clip_grad_norm: returns the norm before clipping.
  double clip_grad_norm(double max_norm) {
    double norm = 0.0;
    check(tl_optim_clip_grad_norm(&norm, get(), max_norm));
    return norm;
  }
  // tl_optim_step.
  void step() { check(tl_optim_step(get())); }
  // tl_optim_step_count.
  std::uint64_t step_count() const {
    std::uint64_t n = 0;
    check(tl_optim_step_count(&n, get()));
    return n;
  }
  // tl_optim_reset_state.
  void reset_state() { check(tl_optim_reset_state(get())); }
  // tl_optim_state_size and tl_optim_state_save: the state as bytes.
  std::vector<std::uint8_t> state() const {
    std::size_t n = 0;
    check(tl_optim_state_size(&n, get()));
    std::vector<std::uint8_t> bytes(n);
    check(tl_optim_state_save(bytes.data(), bytes.size(), get()));
    return bytes;
  }
  // tl_optim_state_load.
  void load_state(span<const std::uint8_t> bytes) {
    check(tl_optim_state_load(get(), bytes.data(), bytes.size()));
  }

private:
  void create(tl_model *const *models, std::size_t n,
              const tl_optim_options &options) {
    tl_optim *raw = nullptr;
    check(tl_optim_create(&raw, models, n, &options));
    h_.reset(raw);
  }
  void init(const std::reference_wrapper<Model> *models, std::size_t n,
            const tl_optim_options &options) {
    std::vector<tl_model *> raw(n);
    for (std::size_t i = 0; i < n; i++)
      raw[i] = models[i].get().get();
    create(raw.data(), n, options);
  }
  Handle<tl_optim, tl_optim_free> h_;
};

// tl_lrs_even: n rates from lo to hi, evenly in log space.
inline std::vector<double> lrs_even(std::size_t n, double lo, double hi) {
  detail::expect_nonempty("tl::lrs_even", "n", n);
  std::vector<double> v(n);
  check(tl_lrs_even(v.data(), n, lo, hi));
  return v;
}
// tl_lrs_slice: n - 1 rates at hi / 10, the last at hi.
inline std::vector<double> lrs_slice(std::size_t n, double hi) {
  detail::expect_nonempty("tl::lrs_slice", "n", n);
  std::vector<double> v(n);
  check(tl_lrs_slice(v.data(), n, hi));
  return v;
}
// tl_lrs_factor: top / factor^(n-1-i) (ULMFiT: factor 2.6).
inline std::vector<double> lrs_factor(std::size_t n, double top,
                                      double factor) {
  detail::expect_nonempty("tl::lrs_factor", "n", n);
  std::vector<double> v(n);
  check(tl_lrs_factor(v.data(), n, top, factor));
  return v;
}

} // namespace tl

#endif // TL_OPTIM_HPP
