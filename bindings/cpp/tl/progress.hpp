// libtl for C++, progress (tl/progress.h): tl::Progress, whose step and
// epoch callbacks and clock are any callables, and tl::Reporter (terminal
// or CSV).
#ifndef TL_PROGRESS_HPP
#define TL_PROGRESS_HPP

#include <tl/core.hpp>

#include <tl/progress.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace tl {

// tl_progress_options with the defaults (TL_PROGRESS_OPTIONS_INIT): one
// epoch, unknown step counts, beta 0.98, no C callbacks, monotonic clock.
struct ProgressOptions : tl_progress_options {
  ProgressOptions() noexcept : tl_progress_options TL_PROGRESS_OPTIONS_INIT {}
};

// The C++ callbacks of a tl::Progress: any callables (lambdas,
// std::function, function objects). With both on_step and on_epoch empty
// the options' C callbacks (or NULLs) are used as given; a C++ one beside a
// C one is refused (tl::InvalidArgument), as they would share one payload.
// A clock replaces the options' C clock; empty, the C clock (or
// CLOCK_MONOTONIC) is used.
struct ProgressCallbacks {
  // Called at each step, before the reporters.
  std::function<void(const tl_progress_record &)> on_step;
  // Called at each epoch's end, before the reporters.
  std::function<void(const tl_epoch_record &)> on_epoch;
  // A monotonic clock in seconds (tests pass their own).
  std::function<double()> clock;
};

// Where records are written (tl_reporter): a terminal or CSV files.
// Move-only; it must outlive the trackers it is added to.
class Reporter {
public:
  // tl_reporter_create_terminal on stream (NULL: stderr), which must
  // outlive the reporter.
  static Reporter terminal(std::FILE *stream = nullptr,
                           tl_reporter_mode mode = TL_REPORTER_MODE_AUTO) {
    tl_reporter *raw = nullptr;
    check(tl_reporter_create_terminal(&raw, stream, mode));
    return Reporter(raw);
  }
  // tl_reporter_create_csv: step rows to steps_path, epoch rows to
  // epochs_path; an empty path writes no such file.
  static Reporter csv(const std::string &steps_path,
                      const std::string &epochs_path) {
    tl_reporter *raw = nullptr;
    check(tl_reporter_create_csv(&raw, detail::c_str_or_null(steps_path),
                                 detail::c_str_or_null(epochs_path)));
    return Reporter(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_reporter *get() const { return h_.live("tl::Reporter"); }
  // Whether the object holds a reporter (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // Flushes and closes the files now (tl_reporter_free); the object is
  // then empty.
  void close() noexcept { h_.reset(); }

private:
  explicit Reporter(tl_reporter *raw) noexcept : h_(raw) {}
  Handle<tl_reporter, tl_reporter_free> h_;
};

namespace detail {
// A tracker's callables and the exception one of them threw. It lives on
// the heap, so its address (the C payload) survives moves of the Progress.
struct ProgressState {
  ProgressCallbacks cb;
  Trap trap;
  double last_clock = 0.0;
  static void on_step(void *payload, const tl_progress_record *rec) noexcept {
    auto *s = static_cast<ProgressState *>(payload);
    if (!s->trap.error) // after a throw, the rest of the C call goes quiet
      s->trap.run([&] { s->cb.on_step(*rec); });
  }
  static void on_epoch(void *payload, const tl_epoch_record *rec) noexcept {
    auto *s = static_cast<ProgressState *>(payload);
    if (!s->trap.error)
      s->trap.run([&] { s->cb.on_epoch(*rec); });
  }
  // libtl needs a time even when the clock threw: the last good one,
  // which keeps elapsed monotonic while the exception is on its way.
  static double clock(void *payload) noexcept {
    auto *s = static_cast<ProgressState *>(payload);
    if (!s->trap.error) {
      double t = s->last_clock;
      s->trap.run([&] { t = s->cb.clock(); });
      if (!s->trap.error)
        s->last_clock = t;
    }
    return s->last_clock;
  }
  // After a C call: rethrows what a callable threw during it (clearing it,
  // so the tracker stays usable), else checks the status.
  void finish(tl_status status) {
    if (std::exception_ptr e = std::exchange(trap.error, nullptr))
      std::rethrow_exception(e);
    check(status);
  }
};
} // namespace detail

// A progress tracker (tl_progress): smoothed loss, timing, callbacks and
// reporters. Move-only; one thread at a time.
//
// An exception thrown by a callable never crosses libtl's C frames: the
// trampoline catches it, the rest of that C call runs without calling the
// callables again (the step is still counted and the reporters still
// write it), and the exception is rethrown, unchanged, once the C call has
// returned. The tracker stays usable.
class Progress {
public:
  // tl_progress_create with options (copied) and the C++ callbacks.
  explicit Progress(const tl_progress_options &options = ProgressOptions(),
                    ProgressCallbacks callbacks = {})
      : state_(std::make_unique<detail::ProgressState>()) {
    state_->cb = std::move(callbacks);
    tl_progress_options o = options;
    // any C++ callback takes the one payload, so a C callback kept beside
    // it would be handed the wrong payload: refuse the mix
    const bool cpp = state_->cb.on_step || state_->cb.on_epoch;
    if (cpp && (o.on_step != nullptr || o.on_epoch != nullptr))
      throw InvalidArgument(TL_E_INVALID_ARG,
                            "tl::Progress: options has C callbacks and "
                            "callbacks has C++ ones; give one kind");
    if (cpp) {
      o.payload = state_.get();
      if (state_->cb.on_step)
        o.on_step = &detail::ProgressState::on_step;
      if (state_->cb.on_epoch)
        o.on_epoch = &detail::ProgressState::on_epoch;
    }
    if (state_->cb.clock) {
      o.clock = &detail::ProgressState::clock;
      o.clock_payload = state_.get();
    }
    tl_progress *raw = nullptr;
    const tl_status s = tl_progress_create(&raw, &o);
    h_.reset(raw);
    state_->finish(s);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_progress *get() const { return h_.live("tl::Progress"); }
  // Whether the object holds a tracker (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // tl_progress_add_reporter (kept by reference: reporter must outlive
  // this tracker's use).
  Progress &add_reporter(Reporter &reporter) {
    check(tl_progress_add_reporter(get(), reporter.get()));
    return *this;
  }
  // tl_progress_step: one step of stage with its loss and the learning
  // rate of each layer group.
  void step(tl_progress_stage stage, double loss, span<const double> lrs = {}) {
    tl_progress *p = get();
    state_->finish(tl_progress_step(p, stage, loss, lrs.data(), lrs.size()));
  }
  // tl_progress_end_epoch: valid_loss (NaN: none) and the epoch's metrics,
  // names and values of one size (tl::ShapeError).
  void end_epoch(double valid_loss = std::numeric_limits<double>::quiet_NaN(),
                 const std::vector<std::string> &metric_names = {},
                 span<const double> metrics = {}) {
    detail::expect_size("tl::Progress::end_epoch", "metrics", metrics.size(),
                        metric_names.size());
    tl_progress *p = get();
    std::vector<const char *> names;
    for (const auto &n : metric_names)
      names.push_back(n.c_str());
    state_->finish(tl_progress_end_epoch(p, valid_loss, names.data(),
                                         metrics.data(), metrics.size()));
  }

private:
  // Declared first so it is destroyed last: the tracker refers to it.
  std::unique_ptr<detail::ProgressState> state_;
  Handle<tl_progress, tl_progress_free> h_;
};

} // namespace tl

#endif // TL_PROGRESS_HPP
