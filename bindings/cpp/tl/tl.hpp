// libtl for C++: a header-only layer over the C ABI (no libtl internals),
// C++17 (std::span under C++20). Failing calls throw a tl::Error subclass
// carrying the status and libtl's message; each handle has a move-only RAII
// class (tl::Model, tl::Optimizer, tl::Schedule, tl::Plan, tl::Checkpoint)
// whose methods mirror the C calls. Define TL_EXPERIMENTAL_API before
// including for the plan presets and tl::lr_find. Guide: docs/cpp.md.
#ifndef TL_TL_HPP
#define TL_TL_HPP

#include <tl/ckpt.hpp>
#include <tl/core.hpp>
#include <tl/metrics.hpp>
#include <tl/model.hpp>
#include <tl/optim.hpp>
#include <tl/plan.hpp>
#include <tl/predict.hpp>
#include <tl/progress.hpp>
#include <tl/sched.hpp>
#include <tl/text.hpp>

#endif // TL_TL_HPP
