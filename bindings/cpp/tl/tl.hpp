// libtl for C++: a header-only layer over the C ABI (no libtl internals).
// Failing calls throw tl::Error carrying the status and libtl's message;
// handles are owned by move-only RAII wrappers whose destructors call the
// matching tl_*_free.
#ifndef TL_TL_HPP
#define TL_TL_HPP

#include <tl/tl.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace tl {

// A libtl call failed: status() is the tl_status, what() libtl's message.
class Error : public std::runtime_error {
public:
  // An error for `status` with libtl's message (tl_last_error()).
  Error(tl_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  // The failing call's status code.
  tl_status status() const noexcept { return status_; }
  // The status code's name, e.g. "TL_E_SHAPE" (tl_status_string).
  const char *status_name() const noexcept { return tl_status_string(status_); }

private:
  tl_status status_;
};

// Throws tl::Error for a failing status; returns quietly on TL_OK.
inline void check(tl_status status) {
  if (status != TL_OK)
    throw Error(status, tl_last_error());
}

// The loaded library's version, e.g. "0.1.0" (tl_version_string).
inline std::string version() { return tl_version_string(); }

// tl_set_num_threads: the OpenBLAS thread count; throws for n < 1.
inline void set_num_threads(int n) { check(tl_set_num_threads(n)); }

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

private:
  T *raw_ = nullptr;
};

} // namespace tl

#endif // TL_TL_HPP
