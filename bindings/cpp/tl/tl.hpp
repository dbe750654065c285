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
  Error(tl_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  tl_status status() const noexcept { return status_; }
  const char *status_name() const noexcept { return tl_status_string(status_); }

private:
  tl_status status_;
};

// Throws tl::Error for a failing status; returns quietly on TL_OK.
inline void check(tl_status status) {
  if (status != TL_OK)
    throw Error(status, tl_last_error());
}

inline std::string version() { return tl_version_string(); }

inline void set_num_threads(int n) { check(tl_set_num_threads(n)); }

// Owns a libtl handle T* and frees it with Free; move-only.
template <typename T, void (*Free)(T *)> class Handle {
public:
  Handle() noexcept = default;
  explicit Handle(T *raw) noexcept : raw_(raw) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  Handle(Handle &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Handle &operator=(Handle &&other) noexcept {
    if (this != &other)
      reset(std::exchange(other.raw_, nullptr));
    return *this;
  }
  ~Handle() { reset(); }
  T *get() const noexcept { return raw_; }
  T *release() noexcept { return std::exchange(raw_, nullptr); }
  void reset(T *raw = nullptr) noexcept {
    if (raw_ != nullptr)
      Free(raw_);
    raw_ = raw;
  }
  explicit operator bool() const noexcept { return raw_ != nullptr; }

private:
  T *raw_ = nullptr;
};

} // namespace tl

#endif // TL_TL_HPP
