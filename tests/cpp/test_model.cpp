// tl::Model against the C API: the same seed and calls give bit-identical
// parameters, activations and gradients; views alias the model's buffers;
// wrong sizes, bad values and use after move throw, never crash.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <cmath>
#include <vector>

static std::vector<float> ramp(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; i++)
    v[i] = scale * std::sin(0.7f * static_cast<float>(i) + 0.3f);
  return v;
}

int main() {
  // ---- the reference, in C: LSTM(3 -> 5, 2 layers) then linear(5 -> 2) --
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = 7;
  tl_model *c = nullptr;
  C_OK(tl_model_create(&c, &mo));
  tl_lstm_options lo = TL_LSTM_OPTIONS_INIT;
  lo.weight_p = 0.25f; // dropout masks drawn from the seed, too
  C_OK(tl_model_add_lstm(c, "rnn", 3, 5, 2, &lo));
  C_OK(tl_model_add_linear(c, "fc", 5, 2, TL_ACTIVATION_TANH));
  const std::vector<float> x = ramp(4 * 2 * 3, 1.0f);
  const size_t xd[3] = {4, 2, 3};
  const float *cy = nullptr;
  size_t cyd[TL_MODEL_MAX_DIMS], cyn = 0;
  C_OK(tl_model_forward(&cy, cyd, &cyn, c, x.data(), xd, 3));
  const std::vector<float> cy_copy(cy, cy + 4 * 2 * 2);
  const std::vector<float> dy = ramp(4 * 2 * 2, 0.5f);
  const float *cdx = nullptr;
  C_OK(tl_model_backward(&cdx, c, dy.data(), cyd, cyn));
  const std::vector<float> cdx_copy(cdx, cdx + x.size());
  float *cp = nullptr, *cg = nullptr;
  size_t cn = 0;
  C_OK(tl_model_flat_params(&cp, &cn, c));
  C_OK(tl_model_flat_grads(&cg, &cn, c));

  // ---- the same through the binding ----
  tl::LstmOptions lstm;
  lstm.weight_p = 0.25f;
  tl::Model m = tl::Model::with_seed(7);
  m.add_lstm("rnn", 3, 5, 2, lstm).add_linear("fc", 5, 2, TL_ACTIVATION_TANH);
  EXPECT(m.num_layers() == 2 && m.layer_name(1) == "fc");
  EXPECT(m.layer_index("rnn") == 0);
  EXPECT(m.num_params() == 10 && m.param_name(0) == "rnn.weight_ih_l0");
  EXPECT(m.param_names().back() == "fc.bias");
  EXPECT(m.param_index("fc.weight") == 8);
  EXPECT(
      (m.param_shape("rnn.weight_ih_l0") == std::vector<std::size_t>{20, 3}));
  EXPECT(m.param_numel("fc.weight") == 10);
  EXPECT(same_bits(m.flat_params(), tl::span<const float>(cp, cn)));

  const tl::Activation y = m.forward(x, {4, 2, 3});
  EXPECT(y.ndim == 3 && y.dims[0] == 4 && y.dims[1] == 2 && y.dims[2] == 2);
  EXPECT(same_bits(y.data, cy_copy));
  const tl::Activation dx = m.backward(dy, y.shape());
  EXPECT(dx.ndim == 3 && dx.dims[2] == 3);
  EXPECT(same_bits(dx.data, cdx_copy));
  EXPECT(same_bits(m.flat_grads(), tl::span<const float>(cg, cn)));

  // Views alias the model's flat buffers at the parameter's offset.
  tl::span<float> w = m.param("fc.weight");
  tl::span<float> gw = m.grad("fc.weight");
  const std::size_t off = m.param_offset("fc.weight");
  EXPECT(w.data() == m.flat_params().data() + off && w.size() == 10);
  EXPECT(gw.data() == m.flat_grads().data() + off);
  std::vector<float> ones(10, 1.0f);
  m.param_set("fc.weight", ones);
  EXPECT(w[3] == 1.0f && m.param_get("fc.weight") == ones);
  m.zero_grad();
  EXPECT(gw[0] == 0.0f);

  // Groups and freezing read back as the C calls set them.
  m.set_group("fc", 1);
  EXPECT(m.num_groups() == 2 && m.group("fc") == 1);
  m.freeze();
  EXPECT(!m.group_trainable(0) && m.group_trainable(1));
  EXPECT(!m.param_trainable("rnn.bias_hh_l1"));
  m.unfreeze();
  m.set_param_trainable("fc.bias", false);
  EXPECT(!m.param_trainable("fc.bias"));
  m.freeze_to(0);
  m.set_group_trainable(1, false);
  EXPECT(!m.group_trainable(1));
  const std::vector<std::uint8_t> mask(10, 1), rows(2, 1);
  m.set_param_mask("fc.weight", mask);
  m.set_param_mask("fc.weight", {});
  m.set_row_mask("fc.weight", rows);
  EXPECT_THROW(m.set_param_mask("fc.weight",
                                tl::span<const std::uint8_t>(mask.data(), 9)),
               tl::ShapeError, "mask");

  // Modes.
  m.eval();
  EXPECT(!m.is_training());
  m.set_mode(TL_MODEL_MODE_FEATURE_EXTRACT);
  EXPECT(m.mode() == TL_MODEL_MODE_FEATURE_EXTRACT);
  EXPECT_THROW(m.train(), tl::StateError, "tl_model_train");
  m.set_mode(TL_MODEL_MODE_FINE_TUNE);
  m.train();
  EXPECT(m.is_training() && m.aux_loss() == 0.0);
  m.reset_state();

  // ---- bad input: clear exceptions, nothing read out of bounds ----
  EXPECT_THROW(m.forward(x, {4, 2, 4}), tl::ShapeError,
               "tl::Model::forward: x has 24 elements, expected 32");
  EXPECT_THROW(m.forward(x, {24}), tl::ShapeError, "tl_model_forward");
  EXPECT_THROW(m.backward(dy, {4, 2, 3}), tl::ShapeError, "dy has 16");
  EXPECT_THROW(m.param_set("fc.weight", tl::span<const float>(ones.data(), 9)),
               tl::ShapeError, "tl_model_param_set");
  std::vector<float> bad(10, 0.0f);
  bad[4] = std::nanf("");
  EXPECT_THROW(m.param_set("fc.weight", bad), tl::NumericError, "not finite");
  EXPECT_THROW(m.param("nope"), tl::NotFound, "nope");
  EXPECT_THROW(m.add_linear("fc", 2, 2), tl::Error, "fc");
  EXPECT_THROW(m.add_linear("bad name", 2, 2), tl::InvalidArgument, "name");

  // Use after move: the moved-from object throws StateError, the new owner
  // works and is the same model.
  tl::Model moved(std::move(m));
  EXPECT(!m && moved);
  EXPECT_THROW(m.num_layers(), tl::StateError,
               "tl::Model: the object is empty");
  EXPECT_THROW(m.forward(x, {4, 2, 3}), tl::StateError, "moved from");
  EXPECT(moved.num_layers() == 2);
  tl::Model other;
  other = std::move(moved); // frees other's empty model, takes moved's
  EXPECT(other.num_layers() == 2 && !moved);

  // ---- ids, embedding, tied decoder, losses, against C ----
  tl_model *clm = nullptr;
  mo.seed = 3;
  C_OK(tl_model_create(&clm, &mo));
  tl_embedding_options eo = TL_EMBEDDING_OPTIONS_INIT;
  eo.padding_idx = 0;
  C_OK(tl_model_add_embedding(clm, "emb", 6, 4, &eo));
  C_OK(tl_model_add_decoder(clm, "dec", 4, 6, clm, "emb"));
  const std::vector<std::int64_t> ids{1, 2, 5, 0, 3, 4};
  const size_t idd[2] = {3, 2};
  const float *clog = nullptr;
  size_t cld[TL_MODEL_MAX_DIMS], cln = 0;
  C_OK(tl_model_forward_ids(&clog, cld, &cln, clm, ids.data(), idd, 2));
  const std::vector<std::int64_t> targets{2, 5, 0, 3, 4, 1};
  float closs = 0.0f, cacc = 0.0f;
  std::vector<float> cdl(36);
  C_OK(tl_cross_entropy(&closs, cdl.data(), clog, targets.data(), 6, 6, 0));
  C_OK(tl_accuracy(&cacc, clog, targets.data(), 6, 6, 0));

  tl::EmbeddingOptions emb;
  emb.padding_idx = 0;
  tl::Model lm = tl::Model::with_seed(3);
  lm.add_embedding("emb", 6, 4, emb).add_decoder("dec", 4, 6, lm, "emb");
  const tl::Activation logits = lm.forward_ids(ids, {3, 2});
  EXPECT(logits.ndim == 3 && logits.data.size() == 36);
  EXPECT(same_bits(logits.data, tl::span<const float>(clog, 36)));
  const tl::Loss loss = tl::cross_entropy(logits.data, targets, 6, 0);
  EXPECT(loss.value == closs && same_bits(loss.grad, cdl));
  EXPECT(tl::accuracy(logits.data, targets, 6, 0) == cacc);
  // a model that takes ids gives no input gradient
  EXPECT(lm.backward(loss.grad, logits.shape()).data.empty());
  EXPECT_THROW(tl::cross_entropy(logits.data, targets, 5), tl::ShapeError,
               "expected targets.size() * c");
  EXPECT_THROW(lm.forward_ids(ids, {4, 2}), tl::ShapeError, "ids has 6");
  const std::vector<std::int64_t> out_of_range{1, 2, 9, 0, 3, 4};
  EXPECT_THROW(lm.forward_ids(out_of_range, {3, 2}), tl::InvalidArgument,
               "tl_model_forward_ids");
  const std::vector<std::size_t> lengths{3, 2};
  lm.set_lengths(lengths);
  lm.set_lengths({});

  // A GRU and dropout build as in C (same parameter count and values).
  tl_model *cg2 = nullptr;
  C_OK(tl_model_create(&cg2, &mo));
  tl_gru_options go = TL_GRU_OPTIONS_INIT;
  C_OK(tl_model_add_gru(cg2, "gru", 2, 3, 1, &go));
  C_OK(tl_model_add_dropout(cg2, "drop", TL_DROPOUT_LOCKED, 0.5f));
  C_OK(tl_model_add_concat_pool(cg2, "pool"));
  float *gp = nullptr;
  size_t gn = 0;
  C_OK(tl_model_flat_params(&gp, &gn, cg2));
  tl::Model g = tl::Model::with_seed(3);
  g.add_gru("gru", 2, 3).add_dropout("drop", 0.5f, TL_DROPOUT_LOCKED);
  g.add_concat_pool("pool");
  EXPECT(same_bits(g.flat_params(), tl::span<const float>(gp, gn)));
  EXPECT_THROW(g.add_dropout("d2", 1.5f), tl::InvalidArgument, "p");

  // BatchNorm1d and its buffers as in C: same outputs and statistics bit
  // for bit, train_bn, and the checks throwing.
  tl_model *cb = nullptr;
  mo.seed = 7;
  C_OK(tl_model_create(&cb, &mo));
  C_OK(tl_model_add_linear(cb, "fc", 3, 4, TL_ACTIVATION_RELU));
  tl_batchnorm_options bo = TL_BATCHNORM_OPTIONS_INIT;
  bo.momentum = 0.25;
  C_OK(tl_model_add_batchnorm1d(cb, "bn", 4, &bo));
  const std::vector<float> bx = ramp(5 * 3, 2.0f);
  const size_t bxd[2] = {5, 3};
  const float *cby = nullptr;
  size_t cbyd[TL_MODEL_MAX_DIMS], cbyn = 0;
  C_OK(tl_model_forward(&cby, cbyd, &cbyn, cb, bx.data(), bxd, 2));
  const float *crv = nullptr;
  C_OK(tl_model_buffer_view(&crv, cb, "bn.running_var"));
  tl::BatchnormOptions bno;
  bno.momentum = 0.25;
  tl::Model bn = tl::Model::with_seed(7);
  bn.add_linear("fc", 3, 4, TL_ACTIVATION_RELU).add_batchnorm1d("bn", 4, bno);
  EXPECT((bn.buffer_names() ==
          std::vector<std::string>{"bn.running_mean", "bn.running_var",
                                   "bn.num_batches_tracked"}));
  EXPECT((bn.buffer_shape("bn.running_mean") == std::vector<std::size_t>{4}));
  EXPECT(bn.buffer_shape("bn.num_batches_tracked").empty());
  EXPECT(bn.param_numel("bn.weight") == 4 && bn.flat_params().size() == 24);
  const tl::Activation by = bn.forward(bx, {5, 3});
  EXPECT(same_bits(by.data, tl::span<const float>(cby, 20)));
  EXPECT(same_bits(bn.buffer_view("bn.running_var"),
                   tl::span<const float>(crv, 4)));
  EXPECT(bn.buffer_get("bn.num_batches_tracked") == std::vector<double>{1.0});
  EXPECT(bn.train_bn());
  bn.set_train_bn(false);
  bn.freeze_to(2);
  EXPECT(!bn.train_bn() && !bn.param_trainable("bn.weight"));
  bn.forward(bx, {5, 3}); // frozen: the statistics stay
  EXPECT(bn.buffer_get("bn.num_batches_tracked") == std::vector<double>{1.0});
  const std::vector<double> var{1.0, 2.0, 0.5, 4.0};
  bn.buffer_set("bn.running_var", var);
  EXPECT(bn.buffer_get("bn.running_var") == var);
  const std::vector<double> negative{1.0, -2.0, 0.5, 4.0};
  EXPECT_THROW(bn.buffer_set("bn.running_var", negative), tl::NumericError,
               ">= 0");
  EXPECT_THROW(bn.buffer_set("bn.running_var", {var.data(), 3}), tl::ShapeError,
               "running_var");
  EXPECT_THROW(bn.buffer_view("bn.num_batches_tracked"), tl::Unsupported,
               "tl_model_buffer_get");
  bno.eps = 0.0;
  EXPECT_THROW(bn.add_batchnorm1d("bn2", 4, bno), tl::InvalidArgument, "eps");
  bn.set_train_bn(true);
  const std::vector<float> one_row(bx.begin(), bx.begin() + 3);
  EXPECT_THROW(bn.forward(one_row, {1, 3}), tl::ShapeError,
               "more than 1 value");
  tl_model_free(cb);

  // adopt() takes a C reference and frees it.
  tl_model *raw = nullptr;
  C_OK(tl_model_create(&raw, nullptr));
  tl::Model adopted = tl::Model::adopt(raw);
  EXPECT(adopted.get() == raw && adopted.num_layers() == 0);

  tl_model_free(cg2);
  tl_model_free(clm);
  tl_model_free(c);
  return report();
}
