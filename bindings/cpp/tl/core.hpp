// libtl for C++, core: the exception hierarchy, tl::check, the span and
// shape types the other headers take, and the generic handle owner.
// Header-only over the public C ABI (no libtl internals).
#ifndef TL_CORE_HPP
#define TL_CORE_HPP

#include <tl/tl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#define TL_HPP_STD_SPAN 1
#endif

namespace tl {

// ---- errors ---------------------------------------------------------------

// A libtl call failed: status() is the tl_status, what() libtl's message
// (tl_last_error), or the binding's own message for a check made on the C++
// side (an empty handle, sizes that do not agree) before any C call.
class Error : public std::runtime_error {
public:
  // An error for `status` with `message`.
  Error(tl_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  // The failing call's status code.
  tl_status status() const noexcept { return status_; }
  // The status code's name, e.g. "TL_E_SHAPE" (tl_status_string).
  const char *status_name() const noexcept { return tl_status_string(status_); }

private:
  tl_status status_;
};

// One subclass per status family, so callers catch what they can handle.
// Each is a tl::Error, whose status() tells the exact code.

// TL_E_INVALID_ARG: a bad argument (NULL, size, range, enum).
class InvalidArgument : public Error {
public:
  using Error::Error;
};
// TL_E_NOMEM: an allocation failed.
class OutOfMemory : public Error {
public:
  using Error::Error;
};
// TL_E_SHAPE: array shapes or sizes do not agree.
class ShapeError : public Error {
public:
  using Error::Error;
};
// TL_E_STATE: the call does not fit the object's state (also: a C++ object
// used after it was moved from).
class StateError : public Error {
public:
  using Error::Error;
};
// TL_E_IO: the operating system refused a file operation.
class IoError : public Error {
public:
  using Error::Error;
};
// TL_E_FORMAT: a file or buffer is malformed.
class FormatError : public Error {
public:
  using Error::Error;
};
// TL_E_NUMERIC: NaN or Inf in an input, or a result overflowed.
class NumericError : public Error {
public:
  using Error::Error;
};
// TL_E_NOT_FOUND: a name or key does not exist.
class NotFound : public Error {
public:
  using Error::Error;
};
// TL_E_UNSUPPORTED: valid, but not supported.
class Unsupported : public Error {
public:
  using Error::Error;
};
// TL_E_INTERNAL (or an unknown code): a bug in libtl.
class InternalError : public Error {
public:
  using Error::Error;
};

// Throws the tl::Error subclass of `status` with `message`. status must be a
// failure.
[[noreturn]] inline void throw_error(tl_status status,
                                     const std::string &message) {
  switch (status) {
  case TL_E_INVALID_ARG: throw InvalidArgument(status, message);
  case TL_E_NOMEM: throw OutOfMemory(status, message);
  case TL_E_SHAPE: throw ShapeError(status, message);
  case TL_E_STATE: throw StateError(status, message);
  case TL_E_IO: throw IoError(status, message);
  case TL_E_FORMAT: throw FormatError(status, message);
  case TL_E_NUMERIC: throw NumericError(status, message);
  case TL_E_NOT_FOUND: throw NotFound(status, message);
  case TL_E_UNSUPPORTED: throw Unsupported(status, message);
  default: throw InternalError(status, message);
  }
}

// Throws the tl::Error subclass of a failing status with libtl's message;
// returns quietly on TL_OK.
inline void check(tl_status status) {
  if (status != TL_OK)
    throw_error(status, tl_last_error());
}

// The loaded library's version, e.g. "0.1.0" (tl_version_string).
inline std::string version() { return tl_version_string(); }

// tl_set_num_threads: the OpenBLAS thread count; throws for n < 1.
inline void set_num_threads(int n) { check(tl_set_num_threads(n)); }
// tl_get_num_threads: the thread count libtl's BLAS calls run with.
inline int num_threads() { return tl_get_num_threads(); }

// ---- callbacks ------------------------------------------------------------

namespace detail {
// Carries an exception from a callback across libtl's C frames: the
// trampoline catches it (C++ exceptions must not unwind through C code),
// returns a failure status to libtl, and the wrapper rethrows it once the C
// call has returned.
struct Trap {
  std::exception_ptr error;
  // Runs f() and catches whatever it throws; returns the status to give
  // libtl: TL_OK, the (failing) status of a tl::Error, else TL_E_STATE.
  template <typename F> tl_status run(F &&f) noexcept {
    try {
      std::forward<F>(f)();
      return TL_OK;
    } catch (const Error &e) {
      error = std::current_exception();
      // a hand-made tl::Error may carry TL_OK: libtl must still see a failure
      return e.status() < 0 ? e.status() : TL_E_STATE;
    } catch (...) {
      error = std::current_exception();
      // libtl may quote the thread's last message in its own: it is not
      // this failure's, so drop it
      tl_clear_error();
      return TL_E_STATE;
    }
  }
  // Rethrows the caught exception, if any.
  void rethrow() const {
    if (error)
      std::rethrow_exception(error);
  }
};
} // namespace detail

// ---- spans and shapes -----------------------------------------------------

#ifdef TL_HPP_STD_SPAN
// A view of contiguous elements: std::span under C++20.
template <typename T> using span = std::span<T>;
#else
// A view of contiguous elements (pointer + size), std::span's subset that
// libtl's calls need, for C++17. Implicit from arrays and from containers
// with data() and size() (std::vector, std::array, std::string).
template <typename T> class span {
public:
  // The element type, as std::span's.
  using element_type = T;
  // The element type without const, as std::span's.
  using value_type = std::remove_cv_t<T>;
  // A pointer into the view.
  using iterator = T *;
  // An empty view.
  constexpr span() noexcept = default;
  // A view of data[0..size).
  constexpr span(T *data, std::size_t size) noexcept
      : data_(data), size_(size) {}
  // A view of a C array.
  template <std::size_t N>
  constexpr span(T (&array)[N]) noexcept : data_(array), size_(N) {}
  // A view of a container's elements.
  template <
      typename C,
      typename = std::enable_if_t<
          !std::is_same_v<std::decay_t<C>, span> &&
          std::is_convertible_v<
              std::remove_pointer_t<decltype(std::declval<C &>().data())> (*)[],
              T (*)[]>>>
  constexpr span(C &&container) noexcept
      : data_(container.data()), size_(container.size()) {}
  // A read-only view of a writable one.
  template <typename U, typename = std::enable_if_t<
                            std::is_convertible_v<U (*)[], T (*)[]>>>
  constexpr span(const span<U> &other) noexcept
      : data_(other.data()), size_(other.size()) {}
  // The first element (null when empty).
  constexpr T *data() const noexcept { return data_; }
  // The number of elements.
  constexpr std::size_t size() const noexcept { return size_; }
  // Whether the view holds nothing.
  constexpr bool empty() const noexcept { return size_ == 0; }
  // Element i (unchecked, as std::span).
  constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }
  // Iterators over the elements.
  constexpr T *begin() const noexcept { return data_; }
  // One past the last element.
  constexpr T *end() const noexcept { return data_ + size_; }

private:
  T *data_ = nullptr;
  std::size_t size_ = 0;
};
#endif

// The dimensions of an array (up to 8, a checkpoint's largest rank), held
// by value: `{T, B, F}`, a std::vector<size_t>, or an activation's shape().
class Shape {
public:
  // The largest number of dimensions a Shape holds.
  static constexpr std::size_t max_rank = 8;
  // A rank-0 shape (a scalar).
  Shape() noexcept = default;
  // The dimensions listed; throws tl::InvalidArgument for more than 8.
  Shape(std::initializer_list<std::size_t> dims) {
    assign(dims.begin(), dims.size());
  }
  // The dimensions in a contiguous range.
  Shape(span<const std::size_t> dims) { assign(dims.data(), dims.size()); }
  // A std::vector's dimensions.
  Shape(const std::vector<std::size_t> &dims) {
    assign(dims.data(), dims.size());
  }
  // The dimensions, for passing to C.
  const std::size_t *data() const noexcept { return dims_.data(); }
  // The number of dimensions.
  std::size_t size() const noexcept { return rank_; }
  // Dimension i (unchecked).
  std::size_t operator[](std::size_t i) const noexcept { return dims_[i]; }
  // The product of the dimensions; throws tl::ShapeError when it overflows
  // size_t.
  std::size_t numel(const char *who) const {
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank_; i++) {
      if (dims_[i] != 0 && n > SIZE_MAX / dims_[i])
        throw ShapeError(TL_E_SHAPE,
                         std::string(who) + ": the dims' product overflows");
      n *= dims_[i];
    }
    return n;
  }
  // The dimensions as a vector.
  std::vector<std::size_t> to_vector() const {
    return std::vector<std::size_t>(dims_.begin(), dims_.begin() + rank_);
  }

private:
  void assign(const std::size_t *dims, std::size_t rank) {
    if (rank > max_rank)
      throw InvalidArgument(TL_E_INVALID_ARG,
                            "tl::Shape: " + std::to_string(rank) +
                                " dims, at most 8");
    for (std::size_t i = 0; i < rank; i++)
      dims_[i] = dims[i];
    rank_ = rank;
  }
  std::array<std::size_t, max_rank> dims_{};
  std::size_t rank_ = 0;
};

namespace detail {
// Throws tl::ShapeError unless a buffer of `have` elements matches `want`.
inline void expect_size(const char *who, const char *what, std::size_t have,
                        std::size_t want) {
  if (have != want)
    throw ShapeError(TL_E_SHAPE, std::string(who) + ": " + what + " has " +
                                     std::to_string(have) +
                                     " elements, expected " +
                                     std::to_string(want));
}
// Throws tl::InvalidArgument when n is 0: a C call given an empty
// std::vector's data() would name a NULL pointer, not the real mistake.
inline void expect_nonempty(const char *who, const char *what, std::size_t n) {
  if (n == 0)
    throw InvalidArgument(TL_E_INVALID_ARG,
                          std::string(who) + ": " + what + " is 0 (empty)");
}
// `s`'s characters, or NULL for an empty string when empty means "none".
inline const char *c_str_or_null(const std::string &s) {
  return s.empty() ? nullptr : s.c_str();
}
} // namespace detail

// ---- handles --------------------------------------------------------------

// Owns a libtl handle T* and frees it with Free; move-only.
template <typename T, void (*Free)(T *)> class Handle {
public:
  Handle() noexcept = default;
  // Takes ownership of raw (may be null).
  explicit Handle(T *raw) noexcept : raw_(raw) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  // Takes other's handle; other becomes empty.
  Handle(Handle &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  // Frees the handle held, then takes other's; other becomes empty.
  Handle &operator=(Handle &&other) noexcept {
    if (this != &other)
      reset(std::exchange(other.raw_, nullptr));
    return *this;
  }
  ~Handle() { reset(); }
  // The handle, still owned (null when empty).
  T *get() const noexcept { return raw_; }
  // Gives up ownership: returns the handle, which the caller must free.
  T *release() noexcept { return std::exchange(raw_, nullptr); }
  // Frees the handle held (if any) and takes raw.
  void reset(T *raw = nullptr) noexcept {
    if (raw_ != nullptr)
      Free(raw_);
    raw_ = raw;
  }
  // Whether a handle is held.
  explicit operator bool() const noexcept { return raw_ != nullptr; }
  // The handle, or tl::StateError naming `who` when empty (moved from):
  // every wrapper method goes through it, so use after move is an
  // exception, never a NULL passed on.
  T *live(const char *who) const {
    if (raw_ == nullptr)
      throw StateError(TL_E_STATE,
                       std::string(who) +
                           ": the object is empty (moved from or released)");
    return raw_;
  }

private:
  T *raw_ = nullptr;
};

} // namespace tl

#endif // TL_CORE_HPP
