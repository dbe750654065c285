// bindings/cpp core: errors become the tl::Error subclass of their status
// with libtl's message; tl::Handle owns and frees; tl::Shape bounds.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <type_traits>
#include <vector>

// Every handle class is move-only, and moves never throw (so containers
// of them move rather than copy).
template <typename T> constexpr bool move_only() {
  return !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T> &&
         std::is_nothrow_move_constructible_v<T> &&
         std::is_nothrow_move_assignable_v<T>;
}
static_assert(move_only<tl::Model>(), "tl::Model");
static_assert(move_only<tl::Optimizer>(), "tl::Optimizer");
static_assert(move_only<tl::Schedule>(), "tl::Schedule");
static_assert(move_only<tl::Plan>(), "tl::Plan");
static_assert(move_only<tl::Checkpoint>(), "tl::Checkpoint");
static_assert(move_only<tl::Handle<tl_model, tl_model_free>>(), "tl::Handle");

int main() {
  EXPECT(tl::version() == tl_version_string());
  bool threw = false;
  try {
    tl::set_num_threads(0);
  } catch (const tl::InvalidArgument &e) {
    threw = true;
    EXPECT(e.status() == TL_E_INVALID_ARG);
    EXPECT(std::strcmp(e.status_name(), "TL_E_INVALID_ARG") == 0);
    EXPECT(std::strstr(e.what(), "n must be >= 1") != nullptr);
  }
  EXPECT(threw);
  tl::set_num_threads(1);
  EXPECT(tl::num_threads() >= 1);

  // Every failing status maps to its own subclass, all caught as tl::Error.
  const struct {
    tl_status s;
    const char *name;
  } codes[] = {{TL_E_INVALID_ARG, "TL_E_INVALID_ARG"},
               {TL_E_NOMEM, "TL_E_NOMEM"},
               {TL_E_SHAPE, "TL_E_SHAPE"},
               {TL_E_STATE, "TL_E_STATE"},
               {TL_E_IO, "TL_E_IO"},
               {TL_E_FORMAT, "TL_E_FORMAT"},
               {TL_E_NUMERIC, "TL_E_NUMERIC"},
               {TL_E_NOT_FOUND, "TL_E_NOT_FOUND"},
               {TL_E_UNSUPPORTED, "TL_E_UNSUPPORTED"},
               {TL_E_INTERNAL, "TL_E_INTERNAL"}};
  for (const auto &c : codes) {
    try {
      tl::throw_error(c.s, "msg");
    } catch (const tl::Error &e) {
      EXPECT(e.status() == c.s);
      EXPECT(std::strcmp(e.status_name(), c.name) == 0);
      const bool right_type =
          (c.s == TL_E_INVALID_ARG) ==
              (dynamic_cast<const tl::InvalidArgument *>(&e) != nullptr) &&
          (c.s == TL_E_NOMEM) ==
              (dynamic_cast<const tl::OutOfMemory *>(&e) != nullptr) &&
          (c.s == TL_E_SHAPE) ==
              (dynamic_cast<const tl::ShapeError *>(&e) != nullptr) &&
          (c.s == TL_E_STATE) ==
              (dynamic_cast<const tl::StateError *>(&e) != nullptr) &&
          (c.s == TL_E_IO) ==
              (dynamic_cast<const tl::IoError *>(&e) != nullptr) &&
          (c.s == TL_E_FORMAT) ==
              (dynamic_cast<const tl::FormatError *>(&e) != nullptr) &&
          (c.s == TL_E_NUMERIC) ==
              (dynamic_cast<const tl::NumericError *>(&e) != nullptr) &&
          (c.s == TL_E_NOT_FOUND) ==
              (dynamic_cast<const tl::NotFound *>(&e) != nullptr) &&
          (c.s == TL_E_UNSUPPORTED) ==
              (dynamic_cast<const tl::Unsupported *>(&e) != nullptr) &&
          (c.s == TL_E_INTERNAL) ==
              (dynamic_cast<const tl::InternalError *>(&e) != nullptr);
      EXPECT(right_type);
    }
  }
  // tl::check passes TL_OK and throws libtl's current message otherwise.
  tl::check(TL_OK);
  EXPECT_THROW(tl::check(tl_model_create(nullptr, nullptr)),
               tl::InvalidArgument, "out");

  // A Handle frees what it owns; a moved-from one is empty and live()
  // throws instead of handing out NULL.
  tl_sched *raw = nullptr;
  tl_sched_constant_options co = TL_SCHED_CONSTANT_OPTIONS_INIT;
  C_OK(tl_sched_constant_create(&raw, &co));
  tl::Handle<tl_sched, tl_sched_free> h(raw);
  tl::Handle<tl_sched, tl_sched_free> h2(std::move(h));
  EXPECT(!h && h2 && h2.get() == raw);
  EXPECT_THROW(h.live("here"), tl::StateError, "here: the object is empty");
  EXPECT(h2.live("x") == raw);

  // Shapes: up to 8 dims, product overflow is a ShapeError.
  const tl::Shape s{2, 3, 4};
  EXPECT(s.size() == 3 && s.numel("t") == 24);
  EXPECT_THROW(tl::Shape({1, 1, 1, 1, 1, 1, 1, 1, 1}), tl::InvalidArgument,
               "9 dims, at most 8");
  const tl::Shape big{SIZE_MAX / 2, 3};
  EXPECT_THROW(big.numel("who"), tl::ShapeError, "who: the dims' product");
  const std::vector<std::size_t> dv{5, 6};
  EXPECT(tl::Shape(dv).to_vector() == dv);
  return report();
}
