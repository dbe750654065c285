// libtl for C++, checkpoints (tl/ckpt.h): tl::Checkpoint, model and
// optimizer transfer with a report callback that accepts any callable, and
// tl::save_model / tl::load_model.
#ifndef TL_CKPT_HPP
#define TL_CKPT_HPP

#include <tl/core.hpp>
#include <tl/model.hpp>
#include <tl/optim.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tl {

// tl_ckpt_load_options with the defaults (TL_CKPT_LOAD_OPTIONS_INIT).
struct CkptLoadOptions : tl_ckpt_load_options {
  CkptLoadOptions() noexcept : tl_ckpt_load_options TL_CKPT_LOAD_OPTIONS_INIT {}
};

// Options of Checkpoint::restore_model and tl::load_model
// (tl_model_load_options with owned strings and a callable report).
struct ModelLoadOptions {
  // Every parameter filled and every considered tensor used, else
  // tl::NotFound and nothing changes.
  bool strict = true;
  // Only tensors whose names start with prefix, matched without it (empty:
  // all tensors); also the RNG stream restored.
  std::string prefix;
  // (tensor name after the prefix, parameter it fills) pairs.
  std::vector<std::pair<std::string, std::string>> map;
  // Restore the model's RNG stream named prefix if present.
  bool restore_rng = true;
  // Called with each missing parameter and unexpected tensor (may be
  // empty). An exception it throws is caught at the C boundary, the rest
  // of the load runs, and it is rethrown once libtl returned (in non-strict
  // mode the model may then already hold the matching tensors).
  std::function<void(tl_load_issue, const std::string &)> report;
};

// The description of one tensor (tl_ckpt_tensor_info, name copied).
struct TensorInfo {
  // The tensor's name.
  std::string name;
  // Element type.
  tl_ckpt_dtype dtype = TL_CKPT_F32;
  // The dims (empty for a scalar).
  std::vector<std::size_t> shape;
  // Number of elements.
  std::size_t numel = 0;
  // Number of bytes.
  std::size_t nbytes = 0;
  // Layer group, or TL_CKPT_NO_GROUP.
  std::uint32_t group = TL_CKPT_NO_GROUP;
};

// An opaque section's bytes (a view into the checkpoint) and subkind.
struct Section {
  // The bytes, valid until the section is replaced or the checkpoint freed.
  span<const std::uint8_t> bytes;
  // Its writer-defined subkind.
  std::uint32_t subkind = 0;
};

namespace detail {
template <typename T> struct DtypeOf;
// float tensors are TL_CKPT_F32.
template <> struct DtypeOf<float> {
  static constexpr tl_ckpt_dtype value = TL_CKPT_F32;
};
// double tensors are TL_CKPT_F64.
template <> struct DtypeOf<double> {
  static constexpr tl_ckpt_dtype value = TL_CKPT_F64;
};
// int64 tensors are TL_CKPT_I64.
template <> struct DtypeOf<std::int64_t> {
  static constexpr tl_ckpt_dtype value = TL_CKPT_I64;
};
// uint8 tensors are TL_CKPT_U8.
template <> struct DtypeOf<std::uint8_t> {
  static constexpr tl_ckpt_dtype value = TL_CKPT_U8;
};
// int32 tensors are TL_CKPT_I32.
template <> struct DtypeOf<std::int32_t> {
  static constexpr tl_ckpt_dtype value = TL_CKPT_I32;
};

// The report callback's payload: the callable and the exception it threw.
struct ReportCall {
  const std::function<void(tl_load_issue, const std::string &)> *fn;
  Trap trap;
  static void trampoline(void *payload, tl_load_issue issue,
                         const char *name) noexcept {
    auto *self = static_cast<ReportCall *>(payload);
    if (self->trap.error)
      return; // the first exception wins; later reports are dropped
    self->trap.run([&] { (*self->fn)(issue, name); });
  }
};

// Runs a C load with `options` turned into tl_model_load_options.
template <typename Call>
void with_load_options(const ModelLoadOptions &options, Call &&call) {
  tl_model_load_options o = TL_MODEL_LOAD_OPTIONS_INIT;
  o.strict = options.strict ? 1 : 0;
  o.prefix = c_str_or_null(options.prefix);
  std::vector<const char *> from, to;
  for (const auto &m : options.map) {
    from.push_back(m.first.c_str());
    to.push_back(m.second.c_str());
  }
  o.map_from = from.empty() ? nullptr : from.data();
  o.map_to = to.empty() ? nullptr : to.data();
  o.map_n = from.size();
  o.restore_rng = options.restore_rng ? 1 : 0;
  ReportCall rc{&options.report, {}};
  if (options.report) {
    o.report = &ReportCall::trampoline;
    o.report_payload = &rc;
  }
  const tl_status s = call(&o);
  rc.trap.rethrow();
  check(s);
}

inline std::vector<const char *>
c_strs(const std::vector<std::string> &strings) {
  std::vector<const char *> p(strings.size());
  for (std::size_t i = 0; i < strings.size(); i++)
    p[i] = strings[i].c_str();
  return p;
}
} // namespace detail

// A checkpoint (tl_ckpt): named tensors, metadata, vocabulary, step and
// opaque sections. Move-only; methods mirror the C calls.
class Checkpoint {
public:
  // An empty checkpoint (tl_ckpt_create).
  Checkpoint() {
    tl_ckpt *raw = nullptr;
    check(tl_ckpt_create(&raw));
    h_.reset(raw);
  }
  // tl_ckpt_load of the file at path.
  static Checkpoint
  load(const std::string &path,
       const tl_ckpt_load_options &options = CkptLoadOptions()) {
    tl_ckpt *raw = nullptr;
    check(tl_ckpt_load(&raw, path.c_str(), &options));
    return Checkpoint(raw);
  }
  // tl_ckpt_load_buffer of a file image (copied).
  static Checkpoint
  from_buffer(span<const std::uint8_t> image,
              const tl_ckpt_load_options &options = CkptLoadOptions()) {
    tl_ckpt *raw = nullptr;
    check(tl_ckpt_load_buffer(&raw, image.data(), image.size(), &options));
    return Checkpoint(raw);
  }

  // The C handle (still owned); throws tl::StateError when empty.
  tl_ckpt *get() const { return h_.live("tl::Checkpoint"); }
  // Whether the object holds a checkpoint (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // ---- tensors ----

  // tl_ckpt_add_tensor of a typed buffer: data.size() must equal the
  // shape's product (tl::ShapeError, checked before the copy).
  template <typename T>
  void add_tensor(const std::string &name, const Shape &shape,
                  span<const T> data) {
    detail::expect_size("tl::Checkpoint::add_tensor", "data", data.size(),
                        shape.numel("tl::Checkpoint::add_tensor"));
    check(tl_ckpt_add_tensor(get(), name.c_str(), detail::DtypeOf<T>::value,
                             shape.size(), shape.data(), data.data()));
  }
  // As above, from a std::vector.
  template <typename T>
  void add_tensor(const std::string &name, const Shape &shape,
                  const std::vector<T> &data) {
    add_tensor<T>(name, shape, span<const T>(data.data(), data.size()));
  }
  // tl_ckpt_remove_tensor.
  void remove_tensor(std::size_t index) {
    check(tl_ckpt_remove_tensor(get(), index));
  }
  // tl_ckpt_tensor_count.
  std::size_t tensor_count() const {
    std::size_t n = 0;
    check(tl_ckpt_tensor_count(&n, get()));
    return n;
  }
  // tl_ckpt_find_tensor.
  std::size_t find_tensor(const std::string &name) const {
    std::size_t i = 0;
    check(tl_ckpt_find_tensor(&i, get(), name.c_str()));
    return i;
  }
  // tl_ckpt_tensor_info.
  TensorInfo tensor_info(std::size_t index) const {
    tl_ckpt_tensor_desc d = TL_CKPT_TENSOR_DESC_INIT;
    check(tl_ckpt_tensor_info(&d, get(), index));
    TensorInfo t;
    t.name = d.name;
    t.dtype = d.dtype;
    t.shape.assign(d.shape, d.shape + d.rank);
    t.numel = d.numel;
    t.nbytes = d.nbytes;
    t.group = d.group;
    return t;
  }
  // A typed read-only view of tensor `index` (tl_ckpt_tensor_data); T must
  // match its dtype (tl::FormatError otherwise).
  template <typename T> span<const T> tensor(std::size_t index) const {
    const TensorInfo t = tensor_info(index);
    if (t.dtype != detail::DtypeOf<T>::value)
      throw FormatError(TL_E_FORMAT, "tl::Checkpoint::tensor: tensor '" +
                                         t.name + "' has dtype " +
                                         std::to_string(t.dtype) +
                                         ", not the one asked for");
    const void *p = nullptr;
    check(tl_ckpt_tensor_data(&p, get(), index));
    return span<const T>(static_cast<const T *>(p), t.numel);
  }
  // The typed view of the tensor called name.
  template <typename T> span<const T> tensor(const std::string &name) const {
    return tensor<T>(find_tensor(name));
  }
  // tl_ckpt_set_tensor_group.
  void set_tensor_group(std::size_t index, std::uint32_t group) {
    check(tl_ckpt_set_tensor_group(get(), index, group));
  }

  // ---- metadata, vocabulary, step, sections ----

  // tl_ckpt_set_meta.
  void set_meta(const std::string &key, const std::string &value) {
    check(tl_ckpt_set_meta(get(), key.c_str(), value.c_str()));
  }
  // tl_ckpt_get_meta (copied; tl::NotFound when absent).
  std::string meta(const std::string &key) const {
    const char *v = nullptr;
    check(tl_ckpt_get_meta(&v, get(), key.c_str()));
    return v;
  }
  // Every (key, value) pair in order (tl_ckpt_meta_count, tl_ckpt_meta_at).
  std::vector<std::pair<std::string, std::string>> metadata() const {
    std::size_t n = 0;
    check(tl_ckpt_meta_count(&n, get()));
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < n; i++) {
      const char *k = nullptr, *v = nullptr;
      check(tl_ckpt_meta_at(&k, &v, get(), i));
      out.emplace_back(k, v);
    }
    return out;
  }
  // tl_ckpt_set_vocab.
  void set_vocab(const std::vector<std::string> &tokens) {
    const std::vector<const char *> p = detail::c_strs(tokens);
    check(tl_ckpt_set_vocab(get(), p.empty() ? nullptr : p.data(), p.size()));
  }
  // tl_ckpt_clear_vocab.
  void clear_vocab() { check(tl_ckpt_clear_vocab(get())); }
  // The vocabulary (tl_ckpt_vocab_size, tl_ckpt_vocab_token; tl::NotFound
  // when the checkpoint has none).
  std::vector<std::string> vocab() const {
    std::size_t n = 0;
    check(tl_ckpt_vocab_size(&n, get()));
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; i++) {
      const char *t = nullptr;
      check(tl_ckpt_vocab_token(&t, get(), i));
      out.emplace_back(t);
    }
    return out;
  }
  // tl_ckpt_set_step.
  void set_step(std::uint64_t step) { check(tl_ckpt_set_step(get(), step)); }
  // tl_ckpt_get_step (tl::NotFound when none was recorded).
  std::uint64_t step() const {
    std::uint64_t s = 0;
    check(tl_ckpt_get_step(&s, get()));
    return s;
  }
  // tl_ckpt_set_section.
  void set_section(tl_ckpt_section kind, std::uint32_t subkind,
                   span<const std::uint8_t> bytes) {
    check(
        tl_ckpt_set_section(get(), kind, subkind, bytes.data(), bytes.size()));
  }
  // tl_ckpt_get_section.
  Section section(tl_ckpt_section kind) const {
    const void *p = nullptr;
    std::size_t n = 0;
    Section s;
    check(tl_ckpt_get_section(&p, &n, &s.subkind, get(), kind));
    s.bytes = span<const std::uint8_t>(static_cast<const std::uint8_t *>(p), n);
    return s;
  }
  // tl_ckpt_clear_section.
  void clear_section(tl_ckpt_section kind) {
    check(tl_ckpt_clear_section(get(), kind));
  }

  // ---- saving ----

  // tl_ckpt_save (atomic).
  void save(const std::string &path) const {
    check(tl_ckpt_save(get(), path.c_str()));
  }
  // The file image (tl_ckpt_serialized_size, tl_ckpt_save_buffer).
  std::vector<std::uint8_t> to_buffer() const {
    std::size_t n = 0;
    check(tl_ckpt_serialized_size(&n, get()));
    std::vector<std::uint8_t> image(n);
    std::size_t written = 0;
    check(tl_ckpt_save_buffer(image.data(), image.size(), &written, get()));
    image.resize(written);
    return image;
  }

  // ---- models and optimizers ----

  // tl_ckpt_store_model (prefix empty: none).
  void store_model(const Model &model, const std::string &prefix = "") {
    check(tl_ckpt_store_model(get(), model.get(), prefix.c_str()));
  }
  // tl_ckpt_restore_model.
  void
  restore_model(Model &model,
                const ModelLoadOptions &options = ModelLoadOptions()) const {
    detail::with_load_options(options, [&](const tl_model_load_options *o) {
      return tl_ckpt_restore_model(model.get(), get(), o);
    });
  }
  // tl_ckpt_store_optim.
  void store_optim(const Optimizer &optim) {
    check(tl_ckpt_store_optim(get(), optim.get()));
  }
  // tl_ckpt_restore_optim.
  void restore_optim(Optimizer &optim) const {
    check(tl_ckpt_restore_optim(optim.get(), get()));
  }
  // tl_ckpt_remap_vocab: returns one flag per new token, 1 for tokens new
  // to the checkpoint's vocabulary.
  std::vector<std::uint8_t>
  remap_vocab(const std::vector<std::string> &new_vocab,
              const std::vector<std::string> &names) {
    detail::expect_nonempty("tl::Checkpoint::remap_vocab", "new_vocab.size()",
                            new_vocab.size());
    const std::vector<const char *> v = detail::c_strs(new_vocab);
    const std::vector<const char *> n = detail::c_strs(names);
    std::vector<std::uint8_t> is_new(new_vocab.size());
    check(tl_ckpt_remap_vocab(is_new.data(), get(),
                              v.empty() ? nullptr : v.data(), v.size(),
                              n.empty() ? nullptr : n.data(), n.size()));
    return is_new;
  }

private:
  explicit Checkpoint(tl_ckpt *raw) noexcept : h_(raw) {}
  Handle<tl_ckpt, tl_ckpt_free> h_;
};

// tl_model_save: the model's parameters and RNG stream, atomically.
inline void save_model(const Model &model, const std::string &path) {
  check(tl_model_save(model.get(), path.c_str()));
}
// tl_model_load.
inline void load_model(Model &model, const std::string &path,
                       const ModelLoadOptions &options = ModelLoadOptions()) {
  detail::with_load_options(options, [&](const tl_model_load_options *o) {
    return tl_model_load(model.get(), path.c_str(), o);
  });
}

} // namespace tl

#endif // TL_CKPT_HPP
