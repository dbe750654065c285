// libtl for C++, models (tl/model.h): tl::Model, the layer options with
// libtl's defaults, activation views, and the losses.
#ifndef TL_MODEL_HPP
#define TL_MODEL_HPP

#include <tl/core.hpp>

#include <string>
#include <vector>

namespace tl {

// tl_model_options with libtl's defaults (TL_MODEL_OPTIONS_INIT).
struct ModelOptions : tl_model_options {
  ModelOptions() noexcept : tl_model_options TL_MODEL_OPTIONS_INIT {}
};
// tl_embedding_options with libtl's defaults (TL_EMBEDDING_OPTIONS_INIT).
struct EmbeddingOptions : tl_embedding_options {
  EmbeddingOptions() noexcept
      : tl_embedding_options TL_EMBEDDING_OPTIONS_INIT {}
};
// tl_lstm_options with libtl's defaults (TL_LSTM_OPTIONS_INIT).
struct LstmOptions : tl_lstm_options {
  LstmOptions() noexcept : tl_lstm_options TL_LSTM_OPTIONS_INIT {}
};
// tl_gru_options with libtl's defaults (TL_GRU_OPTIONS_INIT).
struct GruOptions : tl_gru_options {
  GruOptions() noexcept : tl_gru_options TL_GRU_OPTIONS_INIT {}
};

// tl_batchnorm_options with libtl's defaults (TL_BATCHNORM_OPTIONS_INIT:
// momentum 0.1, eps 1e-5, affine).
struct BatchnormOptions : tl_batchnorm_options {
  BatchnormOptions() noexcept
      : tl_batchnorm_options TL_BATCHNORM_OPTIONS_INIT {}
};

// An activation returned by forward or backward: a read-only view of the
// model's buffer (valid until the model's next forward, backward or mode
// change, as in C) and its dims.
struct Activation {
  // The values, dims' product of them.
  span<const float> data;
  // The dims; the first ndim are used.
  std::array<std::size_t, TL_MODEL_MAX_DIMS> dims{};
  // The number of dims.
  std::size_t ndim = 0;
  // The dims as a Shape, to pass to the next model's forward or backward.
  Shape shape() const {
    return Shape(span<const std::size_t>(dims.data(), ndim));
  }
};

// A model (tl_model): layers, parameters and gradients in two flat buffers,
// groups, freezing, modes. Move-only; the destructor drops this reference
// (tl_model_free: an optimizer or a tied decoder keeps the memory alive).
// Every method mirrors the C call of the same name and throws the tl::Error
// subclass of a failing status; a moved-from Model throws tl::StateError.
class Model {
public:
  // An empty model with default options (seed 0).
  Model() : Model(ModelOptions()) {}
  // An empty model with the given options (tl_model_create).
  explicit Model(const tl_model_options &options) {
    tl_model *raw = nullptr;
    check(tl_model_create(&raw, &options));
    h_.reset(raw);
  }
  // An empty model whose initialisation and dropout use `seed`.
  static Model with_seed(std::uint64_t seed) {
    ModelOptions o;
    o.seed = seed;
    return Model(o);
  }
  // Takes ownership of a tl_model reference (e.g. from C code).
  static Model adopt(tl_model *raw) noexcept {
    Model m(nullptr);
    m.h_.reset(raw);
    return m;
  }

  // The C handle (still owned), for C calls the binding does not wrap;
  // throws tl::StateError when empty.
  tl_model *get() const { return h_.live("tl::Model"); }
  // Whether the object holds a model (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // ---- building (each returns *this, so calls chain) ----

  // tl_model_add_embedding.
  Model &
  add_embedding(const std::string &name, std::size_t num_embeddings,
                std::size_t dim,
                const tl_embedding_options &options = EmbeddingOptions()) {
    check(tl_model_add_embedding(get(), name.c_str(), num_embeddings, dim,
                                 &options));
    return *this;
  }
  // tl_model_add_lstm.
  Model &add_lstm(const std::string &name, std::size_t input_size,
                  std::size_t hidden_size, std::size_t num_layers = 1,
                  const tl_lstm_options &options = LstmOptions()) {
    check(tl_model_add_lstm(get(), name.c_str(), input_size, hidden_size,
                            num_layers, &options));
    return *this;
  }
  // tl_model_add_gru.
  Model &add_gru(const std::string &name, std::size_t input_size,
                 std::size_t hidden_size, std::size_t num_layers = 1,
                 const tl_gru_options &options = GruOptions()) {
    check(tl_model_add_gru(get(), name.c_str(), input_size, hidden_size,
                           num_layers, &options));
    return *this;
  }
  // tl_model_add_batchnorm1d: torch.nn.BatchNorm1d on (B, F), or (..., F)
  // taken as rows; running statistics are buffers (buffer_names).
  Model &
  add_batchnorm1d(const std::string &name, std::size_t num_features,
                  const tl_batchnorm_options &options = BatchnormOptions()) {
    check(
        tl_model_add_batchnorm1d(get(), name.c_str(), num_features, &options));
    return *this;
  }
  // tl_model_add_linear.
  Model &add_linear(const std::string &name, std::size_t in_features,
                    std::size_t out_features,
                    tl_activation activation = TL_ACTIVATION_NONE) {
    check(tl_model_add_linear(get(), name.c_str(), in_features, out_features,
                              activation));
    return *this;
  }
  // tl_model_add_dropout.
  Model &add_dropout(const std::string &name, float p,
                     tl_dropout_kind kind = TL_DROPOUT_STANDARD) {
    check(tl_model_add_dropout(get(), name.c_str(), kind, p));
    return *this;
  }
  // tl_model_add_concat_pool.
  Model &add_concat_pool(const std::string &name) {
    check(tl_model_add_concat_pool(get(), name.c_str()));
    return *this;
  }
  // tl_model_add_decoder with a weight of its own.
  Model &add_decoder(const std::string &name, std::size_t in_features,
                     std::size_t out_features) {
    check(tl_model_add_decoder(get(), name.c_str(), in_features, out_features,
                               nullptr, nullptr));
    return *this;
  }
  // tl_model_add_decoder tied to the embedding `tie_layer` of tie_model
  // (*this for a tie inside this model).
  Model &add_decoder(const std::string &name, std::size_t in_features,
                     std::size_t out_features, Model &tie_model,
                     const std::string &tie_layer) {
    check(tl_model_add_decoder(get(), name.c_str(), in_features, out_features,
                               tie_model.get(), tie_layer.c_str()));
    return *this;
  }

  // ---- layers and groups ----

  // tl_model_num_layers.
  std::size_t num_layers() const {
    std::size_t n = 0;
    check(tl_model_num_layers(&n, get()));
    return n;
  }
  // tl_model_layer_name (copied).
  std::string layer_name(std::size_t index) const {
    const char *s = nullptr;
    check(tl_model_layer_name(&s, get(), index));
    return s;
  }
  // tl_model_layer_index.
  std::size_t layer_index(const std::string &name) const {
    std::size_t i = 0;
    check(tl_model_layer_index(&i, get(), name.c_str()));
    return i;
  }
  // tl_model_set_group.
  void set_group(const std::string &layer, std::size_t group) {
    check(tl_model_set_group(get(), layer.c_str(), group));
  }
  // tl_model_get_group.
  std::size_t group(const std::string &layer) const {
    std::size_t g = 0;
    check(tl_model_get_group(&g, get(), layer.c_str()));
    return g;
  }
  // tl_model_num_groups.
  std::size_t num_groups() const {
    std::size_t n = 0;
    check(tl_model_num_groups(&n, get()));
    return n;
  }
  // tl_model_freeze_to: groups [n:] trainable (n < 0 counts from the end).
  void freeze_to(std::int64_t n) { check(tl_model_freeze_to(get(), n)); }
  // tl_model_freeze: only the last group trainable.
  void freeze() { check(tl_model_freeze(get())); }
  // tl_model_unfreeze: every group trainable.
  void unfreeze() { check(tl_model_unfreeze(get())); }
  // tl_model_set_group_trainable.
  void set_group_trainable(std::size_t group, bool trainable) {
    check(tl_model_set_group_trainable(get(), group, trainable ? 1 : 0));
  }
  // tl_model_get_group_trainable.
  bool group_trainable(std::size_t group) const {
    int t = 0;
    check(tl_model_get_group_trainable(&t, get(), group));
    return t != 0;
  }

  // tl_model_set_train_bn: fastai's train_bn (default true).
  void set_train_bn(bool train_bn) {
    check(tl_model_set_train_bn(get(), train_bn ? 1 : 0));
  }
  // tl_model_get_train_bn.
  bool train_bn() const {
    int t = 0;
    check(tl_model_get_train_bn(&t, get()));
    return t != 0;
  }

  // ---- buffers (BatchNorm running statistics; not parameters) ----

  // tl_model_num_buffers.
  std::size_t num_buffers() const {
    std::size_t n = 0;
    check(tl_model_num_buffers(&n, get()));
    return n;
  }
  // tl_model_buffer_name (copied).
  std::string buffer_name(std::size_t index) const {
    const char *s = nullptr;
    check(tl_model_buffer_name(&s, get(), index));
    return s;
  }
  // Every buffer name, in order.
  std::vector<std::string> buffer_names() const {
    std::vector<std::string> names;
    const std::size_t n = num_buffers();
    names.reserve(n);
    for (std::size_t i = 0; i < n; i++)
      names.push_back(buffer_name(i));
    return names;
  }
  // tl_model_buffer_shape: {F} for a statistic, {} for the count.
  std::vector<std::size_t> buffer_shape(const std::string &name) const {
    std::size_t ndim = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
    check(tl_model_buffer_shape(&ndim, dims, &numel, get(), name.c_str()));
    return std::vector<std::size_t>(dims, dims + ndim);
  }
  // A read-only view of a running statistic (tl_model_buffer_view), valid
  // until the structure changes; tl::Unsupported for the count.
  span<const float> buffer_view(const std::string &name) const {
    const float *p = nullptr;
    check(tl_model_buffer_view(&p, get(), name.c_str()));
    std::size_t ndim = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
    check(tl_model_buffer_shape(&ndim, dims, &numel, get(), name.c_str()));
    return span<const float>(p, numel);
  }
  // A copy of a buffer as doubles (tl_model_buffer_get; the count exact).
  std::vector<double> buffer_get(const std::string &name) const {
    std::size_t ndim = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
    check(tl_model_buffer_shape(&ndim, dims, &numel, get(), name.c_str()));
    std::vector<double> v(numel);
    check(tl_model_buffer_get(v.data(), v.size(), get(), name.c_str()));
    return v;
  }
  // tl_model_buffer_set: values.size() must equal the numel (tl::ShapeError);
  // NaN/Inf, a negative running_var or a bad count give tl::NumericError.
  void buffer_set(const std::string &name, span<const double> values) {
    check(
        tl_model_buffer_set(get(), name.c_str(), values.data(), values.size()));
  }

  // ---- parameters ----

  // tl_model_num_params.
  std::size_t num_params() const {
    std::size_t n = 0;
    check(tl_model_num_params(&n, get()));
    return n;
  }
  // tl_model_param_name (copied).
  std::string param_name(std::size_t index) const {
    const char *s = nullptr;
    check(tl_model_param_name(&s, get(), index));
    return s;
  }
  // Every parameter name, in order.
  std::vector<std::string> param_names() const {
    std::vector<std::string> names;
    const std::size_t n = num_params();
    names.reserve(n);
    for (std::size_t i = 0; i < n; i++)
      names.push_back(param_name(i));
    return names;
  }
  // tl_model_param_index.
  std::size_t param_index(const std::string &name) const {
    std::size_t i = 0;
    check(tl_model_param_index(&i, get(), name.c_str()));
    return i;
  }
  // tl_model_param_shape: the parameter's dims.
  std::vector<std::size_t> param_shape(const std::string &name) const {
    std::size_t ndim = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
    check(tl_model_param_shape(&ndim, dims, &numel, get(), name.c_str()));
    return std::vector<std::size_t>(dims, dims + ndim);
  }
  // tl_model_param_shape: the parameter's number of elements.
  std::size_t param_numel(const std::string &name) const {
    std::size_t ndim = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
    check(tl_model_param_shape(&ndim, dims, &numel, get(), name.c_str()));
    return numel;
  }
  // tl_model_param_offset: in floats, in both flat buffers.
  std::size_t param_offset(const std::string &name) const {
    std::size_t off = 0;
    check(tl_model_param_offset(&off, get(), name.c_str()));
    return off;
  }
  // A read/write view of a parameter's values (tl_model_param_view), valid
  // until the model's structure changes.
  span<float> param(const std::string &name) {
    float *data = nullptr;
    const std::size_t n = param_numel(name);
    check(tl_model_param_view(&data, nullptr, get(), name.c_str()));
    return span<float>(data, n);
  }
  // A read/write view of a parameter's gradient (tl_model_param_view).
  span<float> grad(const std::string &name) {
    float *g = nullptr;
    const std::size_t n = param_numel(name);
    check(tl_model_param_view(nullptr, &g, get(), name.c_str()));
    return span<float>(g, n);
  }
  // A copy of a parameter's values (tl_model_param_get).
  std::vector<float> param_get(const std::string &name) const {
    std::vector<float> v(param_numel(name));
    check(tl_model_param_get(v.data(), v.size(), get(), name.c_str()));
    return v;
  }
  // tl_model_param_set: values.size() must equal the parameter's numel
  // (tl::ShapeError otherwise); NaN/Inf give tl::NumericError.
  void param_set(const std::string &name, span<const float> values) {
    check(
        tl_model_param_set(get(), name.c_str(), values.data(), values.size()));
  }
  // The flat parameter buffer (tl_model_flat_params), a read/write view
  // valid until the structure changes.
  span<float> flat_params() {
    float *p = nullptr;
    std::size_t n = 0;
    check(tl_model_flat_params(&p, &n, get()));
    return span<float>(p, n);
  }
  // The flat gradient buffer (tl_model_flat_grads), as flat_params.
  span<float> flat_grads() {
    float *p = nullptr;
    std::size_t n = 0;
    check(tl_model_flat_grads(&p, &n, get()));
    return span<float>(p, n);
  }
  // tl_model_set_param_trainable.
  void set_param_trainable(const std::string &name, bool trainable) {
    check(tl_model_set_param_trainable(get(), name.c_str(), trainable ? 1 : 0));
  }
  // tl_model_get_param_trainable.
  bool param_trainable(const std::string &name) const {
    int t = 0;
    check(tl_model_get_param_trainable(&t, get(), name.c_str()));
    return t != 0;
  }
  // tl_model_set_param_mask: mask.size() must equal the numel; an empty
  // mask removes it.
  void set_param_mask(const std::string &name, span<const std::uint8_t> mask) {
    check(tl_model_set_param_mask(get(), name.c_str(),
                                  mask.empty() ? nullptr : mask.data(),
                                  mask.size()));
  }
  // tl_model_set_row_mask: one flag per row of the first dimension; an
  // empty mask removes it.
  void set_row_mask(const std::string &name, span<const std::uint8_t> rows) {
    check(tl_model_set_row_mask(get(), name.c_str(),
                                rows.empty() ? nullptr : rows.data(),
                                rows.size()));
  }

  // ---- modes, forward, backward ----

  // tl_model_train.
  void train() { check(tl_model_train(get())); }
  // tl_model_eval.
  void eval() { check(tl_model_eval(get())); }
  // tl_model_is_training.
  bool is_training() const {
    int t = 0;
    check(tl_model_is_training(&t, get()));
    return t != 0;
  }
  // tl_model_set_mode.
  void set_mode(tl_model_mode mode) { check(tl_model_set_mode(get(), mode)); }
  // tl_model_get_mode.
  tl_model_mode mode() const {
    tl_model_mode m = TL_MODEL_MODE_FINE_TUNE;
    check(tl_model_get_mode(&m, get()));
    return m;
  }
  // tl_model_set_lengths: one length per sequence of the batch (copied);
  // an empty span restores full lengths.
  void set_lengths(span<const std::size_t> lengths) {
    check(tl_model_set_lengths(
        get(), lengths.empty() ? nullptr : lengths.data(), lengths.size()));
  }
  // tl_model_forward of x with `dims`: x.size() must be the dims' product
  // (tl::ShapeError, checked before the call, which reads that many).
  Activation forward(span<const float> x, const Shape &dims) {
    detail::expect_size("tl::Model::forward", "x", x.size(),
                        dims.numel("tl::Model::forward"));
    Activation y;
    const float *p = nullptr;
    check(tl_model_forward(&p, y.dims.data(), &y.ndim, get(), x.data(),
                           dims.data(), dims.size()));
    // forward accepted dims, so there are at most TL_MODEL_MAX_DIMS
    last_in_.ndim = dims.size();
    for (std::size_t i = 0; i < dims.size(); i++)
      last_in_.dims[i] = dims[i];
    return finish(y, p);
  }
  // tl_model_forward_ids: ids.size() must be the dims' product.
  Activation forward_ids(span<const std::int64_t> ids, const Shape &dims) {
    detail::expect_size("tl::Model::forward_ids", "ids", ids.size(),
                        dims.numel("tl::Model::forward_ids"));
    Activation y;
    const float *p = nullptr;
    check(tl_model_forward_ids(&p, y.dims.data(), &y.ndim, get(), ids.data(),
                               dims.data(), dims.size()));
    last_in_.ndim = 0; // no input gradient for ids
    return finish(y, p);
  }
  // tl_model_backward of dy (the last forward's output dims): returns the
  // gradient w.r.t. that forward's input when input_grad (empty for a model
  // that takes ids); input_grad false lets backward stop below the lowest
  // trainable layer.
  Activation backward(span<const float> dy, const Shape &dims,
                      bool input_grad = true) {
    detail::expect_size("tl::Model::backward", "dy", dy.size(),
                        dims.numel("tl::Model::backward"));
    const float *dx = nullptr;
    check(tl_model_backward(input_grad ? &dx : nullptr, get(), dy.data(),
                            dims.data(), dims.size()));
    Activation out;
    if (dx != nullptr && last_in_.ndim > 0) {
      out = last_in_;
      std::size_t n = 1;
      for (std::size_t i = 0; i < out.ndim; i++)
        n *= out.dims[i];
      out.data = span<const float>(dx, n);
    }
    return out;
  }
  // tl_model_reset_state.
  void reset_state() { check(tl_model_reset_state(get())); }
  // tl_model_aux_loss.
  double aux_loss() const {
    double v = 0.0;
    check(tl_model_aux_loss(&v, get()));
    return v;
  }
  // tl_model_zero_grad.
  void zero_grad() { check(tl_model_zero_grad(get())); }

private:
  explicit Model(std::nullptr_t) noexcept {}
  Activation finish(Activation &y, const float *p) {
    std::size_t n = 1;
    for (std::size_t i = 0; i < y.ndim; i++)
      n *= y.dims[i];
    y.data = span<const float>(p, n);
    return y;
  }
  Handle<tl_model, tl_model_free> h_;
  // The dims of the last float forward's input, the shape of backward's dx.
  Activation last_in_;
};

// ---- losses (pure functions) ----

// The result of tl::cross_entropy: the mean loss and d loss / d logits.
struct Loss {
  // The mean cross-entropy.
  float value = 0.0f;
  // Its gradient, one per logit.
  std::vector<float> grad;
};

// tl_cross_entropy of logits (n, c) against n targets; logits.size() must
// be targets.size() * c (tl::ShapeError).
inline Loss cross_entropy(span<const float> logits,
                          span<const std::int64_t> targets, std::size_t c,
                          std::int64_t ignore_index = -100) {
  const std::size_t n = targets.size();
  if (c == 0 || logits.size() / c != n || logits.size() % c != 0)
    throw ShapeError(
        TL_E_SHAPE,
        "tl::cross_entropy: logits has " + std::to_string(logits.size()) +
            " values, expected targets.size() * c = " + std::to_string(n) +
            " * " + std::to_string(c));
  Loss out;
  out.grad.resize(logits.size());
  check(tl_cross_entropy(&out.value, out.grad.data(), logits.data(),
                         targets.data(), n, c, ignore_index));
  return out;
}

// tl_accuracy of logits (n, c) against n targets.
inline float accuracy(span<const float> logits,
                      span<const std::int64_t> targets, std::size_t c,
                      std::int64_t ignore_index = -100) {
  const std::size_t n = targets.size();
  if (c == 0 || logits.size() / c != n || logits.size() % c != 0)
    throw ShapeError(TL_E_SHAPE, "tl::accuracy: logits has " +
                                     std::to_string(logits.size()) +
                                     " values, expected targets.size() * c");
  float a = 0.0f;
  check(tl_accuracy(&a, logits.data(), targets.data(), n, c, ignore_index));
  return a;
}

} // namespace tl

#endif // TL_MODEL_HPP
