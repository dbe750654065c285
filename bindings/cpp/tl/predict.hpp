// libtl for C++, prediction (tl/predict.h): tl::DocEncoder, the
// long-document encoder and classifier of a ULMFiT model.
#ifndef TL_PREDICT_HPP
#define TL_PREDICT_HPP

#include <tl/core.hpp>
#include <tl/model.hpp>
#include <tl/text.hpp>

#include <tl/predict.h>

#include <string>
#include <vector>

namespace tl {

// tl_doc_encoder_options with fastai's SentenceEncoder defaults
// (TL_DOC_ENCODER_OPTIONS_INIT).
struct DocEncoderOptions : tl_doc_encoder_options {
  DocEncoderOptions() noexcept
      : tl_doc_encoder_options TL_DOC_ENCODER_OPTIONS_INIT {}
};

// The kept outputs of DocEncoder::encode: a view (valid until the
// encoder's next call) of (len, 1, hidden) floats.
struct Encoded {
  // The len * hidden values, time-major.
  span<const float> data;
  // T, the outputs kept.
  std::size_t len = 0;
  // H, the encoder's output width.
  std::size_t hidden = 0;
  // The dims (T, 1, H) to pass to the head's Model::forward.
  Shape shape() const { return Shape{len, 1, hidden}; }
};

// A long-document encoder (tl_doc_encoder) over an encoder model and an
// optional head. The models are referenced, not copied: they must outlive
// the DocEncoder (as in C). Move-only; one thread at a time.
class DocEncoder {
public:
  // tl_doc_encoder_create without a head (encoding only).
  explicit DocEncoder(Model &encoder, const tl_doc_encoder_options &options =
                                          DocEncoderOptions()) {
    create(encoder.get(), nullptr, options);
  }
  // tl_doc_encoder_create with a head (prediction).
  DocEncoder(Model &encoder, Model &head,
             const tl_doc_encoder_options &options = DocEncoderOptions()) {
    create(encoder.get(), head.get(), options);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_doc_encoder *get() const { return h_.live("tl::DocEncoder"); }
  // Whether the object holds an encoder (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // tl_doc_encoder_encode: the outputs kept for pooling.
  Encoded encode(span<const std::int64_t> ids) {
    const float *out = nullptr;
    Encoded e;
    check(tl_doc_encoder_encode(&out, &e.len, &e.hidden, get(), ids.data(),
                                ids.size()));
    e.data = span<const float>(out, e.len * e.hidden);
    return e;
  }
  // tl_predict_ids: the n_classes probabilities of one document.
  std::vector<float> predict_ids(span<const std::int64_t> ids,
                                 std::size_t n_classes) {
    std::vector<float> p(n_classes);
    check(tl_predict_ids(p.data(), n_classes, get(), ids.data(), ids.size()));
    return p;
  }
  // tl_predict_texts: texts.size() * n_classes probabilities, text by text.
  std::vector<float> predict_texts(const std::vector<std::string> &texts,
                                   Tokenizer &tok, const Vocab &vocab,
                                   std::size_t n_classes) {
    detail::expect_nonempty("tl::DocEncoder::predict_texts", "texts",
                            texts.size());
    std::vector<const char *> p = detail::c_strs(texts);
    std::vector<std::size_t> lens(texts.size());
    for (std::size_t i = 0; i < texts.size(); i++)
      lens[i] = texts[i].size();
    if (n_classes != 0 && texts.size() > SIZE_MAX / n_classes)
      throw ShapeError(TL_E_SHAPE,
                       "tl::DocEncoder::predict_texts: output size overflows");
    std::vector<float> out(texts.size() * n_classes);
    check(tl_predict_texts(out.data(), n_classes, get(), tok.get(), vocab.get(),
                           p.data(), lens.data(), texts.size()));
    return out;
  }

private:
  void create(tl_model *encoder, tl_model *head,
              const tl_doc_encoder_options &options) {
    tl_doc_encoder *raw = nullptr;
    check(tl_doc_encoder_create(&raw, encoder, head, &options));
    h_.reset(raw);
  }
  Handle<tl_doc_encoder, tl_doc_encoder_free> h_;
};

} // namespace tl

#endif // TL_PREDICT_HPP
