// tl::Checkpoint against the C API: the same content gives the same file
// image byte for byte; models and optimizers round-trip exactly; the load
// report accepts any callable and a throwing one is rethrown after the C
// call; wrong sizes and dtypes throw.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

int main() {
  const std::vector<float> w{1.5f, -2.0f, 0.25f, 3.0f, 4.0f, -5.5f};
  const std::vector<std::int64_t> ids{7, -1, 42};
  const std::size_t wshape[2] = {2, 3}, ishape[1] = {3};
  const char *vocab[3] = {"<pad>", "a", "b"};
  const std::uint8_t rng[4] = {1, 2, 3, 4};

  // ---- the same checkpoint built in C and in C++ ----
  tl_ckpt *c = nullptr;
  C_OK(tl_ckpt_create(&c));
  C_OK(tl_ckpt_add_tensor(c, "w", TL_CKPT_F32, 2, wshape, w.data()));
  C_OK(tl_ckpt_add_tensor(c, "ids", TL_CKPT_I64, 1, ishape, ids.data()));
  C_OK(tl_ckpt_set_tensor_group(c, 0, 1));
  C_OK(tl_ckpt_set_meta(c, "arch", "lstm"));
  C_OK(tl_ckpt_set_vocab(c, vocab, 3));
  C_OK(tl_ckpt_set_step(c, 99));
  C_OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, 7, rng, 4));
  size_t csize = 0, cwritten = 0;
  C_OK(tl_ckpt_serialized_size(&csize, c));
  std::vector<std::uint8_t> cimage(csize);
  C_OK(tl_ckpt_save_buffer(cimage.data(), csize, &cwritten, c));

  tl::Checkpoint k;
  k.add_tensor("w", {2, 3}, w);
  k.add_tensor("ids", {3}, ids);
  k.set_tensor_group(0, 1);
  k.set_meta("arch", "lstm");
  k.set_vocab({"<pad>", "a", "b"});
  k.set_step(99);
  k.set_section(TL_CKPT_SECTION_RNG, 7, rng);
  const std::vector<std::uint8_t> image = k.to_buffer();
  EXPECT(image == cimage);

  // ---- reading back ----
  const tl::Checkpoint r = tl::Checkpoint::from_buffer(image);
  EXPECT(r.tensor_count() == 2 && r.find_tensor("ids") == 1);
  const tl::TensorInfo ti = r.tensor_info(0);
  EXPECT(ti.name == "w" && ti.dtype == TL_CKPT_F32 && ti.numel == 6 &&
         ti.nbytes == 24 && ti.group == 1);
  EXPECT((ti.shape == std::vector<std::size_t>{2, 3}));
  EXPECT(same_bits(r.tensor<float>("w"), w));
  EXPECT(same_bits(r.tensor<std::int64_t>(1), ids));
  EXPECT(r.meta("arch") == "lstm");
  EXPECT((r.metadata() ==
          std::vector<std::pair<std::string, std::string>>{{"arch", "lstm"}}));
  EXPECT((r.vocab() == std::vector<std::string>{"<pad>", "a", "b"}));
  EXPECT(r.step() == 99);
  const tl::Section sec = r.section(TL_CKPT_SECTION_RNG);
  EXPECT(sec.subkind == 7 &&
         same_bits(sec.bytes, tl::span<const std::uint8_t>(rng)));

  // ---- bad input ----
  EXPECT_THROW(k.add_tensor("x", {2, 2}, w), tl::ShapeError,
               "data has 6 elements, expected 4");
  EXPECT_THROW(k.add_tensor("w", {2, 3}, w), tl::InvalidArgument, "w");
  EXPECT_THROW(r.tensor<double>("w"), tl::FormatError, "tensor 'w' has dtype");
  EXPECT_THROW(r.tensor<float>("nope"), tl::NotFound, "nope");
  EXPECT_THROW(r.meta("nope"), tl::NotFound, "nope");
  EXPECT_THROW(tl::Checkpoint().step(), tl::NotFound, "tl_ckpt_get_step");
  EXPECT_THROW(tl::Checkpoint().vocab(), tl::NotFound, "tl_ckpt_vocab_size");
  std::vector<std::uint8_t> corrupt = image;
  corrupt[corrupt.size() / 2] ^= 0x5A;
  EXPECT_THROW(tl::Checkpoint::from_buffer(corrupt), tl::FormatError,
               "tl_ckpt_load_buffer");
  EXPECT_THROW(tl::Checkpoint::from_buffer(
                   tl::span<const std::uint8_t>(image.data(), 10)),
               tl::FormatError, "tl_ckpt_load_buffer");
  k.remove_tensor(1);
  k.clear_vocab();
  k.clear_section(TL_CKPT_SECTION_RNG);
  EXPECT(k.tensor_count() == 1);
  EXPECT_THROW(k.section(TL_CKPT_SECTION_RNG), tl::NotFound, "section");
  tl::Checkpoint gone = std::move(k);
  EXPECT_THROW(k.tensor_count(), tl::StateError, "tl::Checkpoint");
  EXPECT(gone.tensor_count() == 1);

  // ---- models and optimizers: exact round trip through a file ----
  char dir[] = "/tmp/tl_cpp_ckpt_XXXXXX";
  EXPECT(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/model.tlc";
  tl::Model a = tl::Model::with_seed(11);
  a.add_embedding("emb", 5, 3).add_lstm("rnn", 3, 4).add_linear("fc", 4, 2);
  tl::Optimizer ao(a, tl::OptimOptions(TL_OPTIM_ADAM));
  const std::vector<float> x0 = a.param_get("fc.weight");
  tl::Checkpoint s;
  s.store_model(a, "0.");
  s.store_optim(ao);
  s.save(path);

  const tl::Checkpoint l = tl::Checkpoint::load(path);
  EXPECT(l.to_buffer() == s.to_buffer());
  tl::Model b = tl::Model::with_seed(99); // other initial weights
  b.add_embedding("emb", 5, 3).add_lstm("rnn", 3, 4).add_linear("fc", 4, 2);
  EXPECT(b.param_get("fc.weight") != x0);
  tl::ModelLoadOptions lo;
  lo.prefix = "0.";
  l.restore_model(b, lo);
  EXPECT(same_bits(b.flat_params(), a.flat_params()));
  tl::Optimizer bo(b, tl::OptimOptions(TL_OPTIM_ADAM));
  l.restore_optim(bo);
  EXPECT(bo.state() == ao.state());
  tl::Optimizer sgd(b, tl::OptimOptions(TL_OPTIM_SGD));
  EXPECT_THROW(l.restore_optim(sgd), tl::FormatError, "tl_ckpt_restore_optim");

  // tl::save_model / tl::load_model, and the report as any callable.
  tl::save_model(a, path);
  tl::Model part;
  part.add_embedding("emb", 5, 3)
      .add_lstm("rnn", 3, 4)
      .add_linear("head", 4, 2);
  std::vector<std::string> missing, unexpected;
  tl::ModelLoadOptions rep;
  rep.strict = false;
  rep.report = [&](tl_load_issue issue, const std::string &name) {
    (issue == TL_LOAD_MISSING ? missing : unexpected).push_back(name);
  };
  tl::load_model(part, path, rep);
  EXPECT((missing == std::vector<std::string>{"head.weight", "head.bias"}));
  EXPECT((unexpected == std::vector<std::string>{"fc.weight", "fc.bias"}));
  EXPECT(same_bits(part.param_get("rnn.weight_hh_l0"),
                   a.param_get("rnn.weight_hh_l0")));
  // strict: the C call fails, nothing changes, and the C message names the
  // first missing parameter
  tl::Model fresh;
  fresh.add_embedding("emb", 5, 3)
      .add_lstm("rnn", 3, 4)
      .add_linear("head", 4, 2);
  const std::vector<float> untouched = fresh.param_get("emb.weight");
  EXPECT_THROW(tl::load_model(fresh, path), tl::NotFound, "head.weight");
  EXPECT(fresh.param_get("emb.weight") == untouched);
  // a name map fills head.* from fc.*
  tl::ModelLoadOptions mapped;
  mapped.map = {{"fc.weight", "head.weight"}, {"fc.bias", "head.bias"}};
  tl::load_model(fresh, path, mapped);
  EXPECT(same_bits(fresh.flat_params(), a.flat_params()));

  // A report that throws: the exception is held while libtl finishes the
  // call, then rethrown; in strict mode the model is untouched.
  tl::Model again;
  again.add_embedding("emb", 5, 3)
      .add_lstm("rnn", 3, 4)
      .add_linear("head", 4, 2);
  const std::vector<float> before = again.param_get("emb.weight");
  tl::ModelLoadOptions throwing;
  int reports = 0;
  throwing.report = [&](tl_load_issue, const std::string &name) {
    reports++;
    throw std::invalid_argument("refused " + name);
  };
  EXPECT_THROW(tl::load_model(again, path, throwing), std::invalid_argument,
               "refused fc.weight");
  EXPECT(reports == 1); // later reports are dropped once one threw
  EXPECT(again.param_get("emb.weight") == before);

  // Vocabulary remap against C.
  tl::Checkpoint v;
  v.store_model(a);
  v.set_vocab({"<pad>", "x", "y", "z", "w"});
  const std::vector<std::uint8_t> is_new =
      v.remap_vocab({"<pad>", "z", "new", "x"}, {"emb.weight"});
  EXPECT((is_new == std::vector<std::uint8_t>{0, 0, 1, 0}));
  EXPECT(v.tensor_info(v.find_tensor("emb.weight")).shape[0] == 4);
  const tl::span<const float> e = v.tensor<float>("emb.weight");
  const std::vector<float> ae = a.param_get("emb.weight");
  EXPECT(e[3] == ae[9] && e[4] == ae[10] && e[5] == ae[11]); // "z" was row 3
  EXPECT_THROW(v.remap_vocab({}, {"emb.weight"}), tl::InvalidArgument,
               "new_vocab.size() is 0");

  EXPECT_THROW(tl::Checkpoint::load(std::string(dir) + "/absent"), tl::IoError,
               "absent");
  unlink(path.c_str());
  rmdir(dir);
  tl_ckpt_free(c);
  return report();
}
