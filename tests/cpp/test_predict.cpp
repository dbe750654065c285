// tl::DocEncoder against the C API: the same encoder and head (same seed,
// built through C and through the binding) give the same kept outputs and
// probabilities bit for bit, for ids and for texts through tl::Tokenizer
// and tl::Vocab; bad input throws the C status's class.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <string>
#include <vector>

enum { V = 40, E = 6, H = 5, K = 3 };

static tl_model *c_encoder() {
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = 17;
  tl_model *m = nullptr;
  C_OK(tl_model_create(&m, &mo));
  C_OK(tl_model_add_embedding(m, "emb", V, E, nullptr));
  tl_lstm_options lo = TL_LSTM_OPTIONS_INIT;
  lo.stateful = 1;
  C_OK(tl_model_add_lstm(m, "rnn", E, H, 2, &lo));
  return m;
}
static tl_model *c_head() {
  tl_model *m = nullptr;
  C_OK(tl_model_create(&m, nullptr));
  C_OK(tl_model_add_concat_pool(m, "pool"));
  C_OK(tl_model_add_linear(m, "fc", 3 * H, K, TL_ACTIVATION_NONE));
  return m;
}

int main() {
  // C
  tl_model *ce = c_encoder(), *ch = c_head();
  tl_doc_encoder_options co = TL_DOC_ENCODER_OPTIONS_INIT;
  co.bptt = 4;
  co.max_len = 8;
  tl_doc_encoder *cd = nullptr;
  C_OK(tl_doc_encoder_create(&cd, ce, ch, &co));
  // C++
  tl::Model enc = tl::Model::with_seed(17);
  tl::LstmOptions lo;
  lo.stateful = 1;
  enc.add_embedding("emb", V, E).add_lstm("rnn", E, H, 2, lo);
  tl::Model head;
  head.add_concat_pool("pool").add_linear("fc", 3 * H, K);
  tl::DocEncoderOptions o;
  EXPECT(o.bptt == 72 && o.max_len == 1440);
  o.bptt = 4;
  o.max_len = 8;
  tl::DocEncoder doc(enc, head, o);

  std::vector<std::int64_t> ids(19);
  for (size_t i = 0; i < ids.size(); i++)
    ids[i] = static_cast<std::int64_t>((i * 5 + 1) % V);
  const float *kept = nullptr;
  size_t t = 0, h = 0;
  C_OK(tl_doc_encoder_encode(&kept, &t, &h, cd, ids.data(), ids.size()));
  const std::vector<float> want_kept(kept, kept + t * h);
  const tl::Encoded e = doc.encode(ids);
  EXPECT(e.len == t && e.hidden == h && t == 7 && h == H);
  EXPECT(same_bits(e.data, want_kept));
  EXPECT(e.shape().numel("t") == 7 * H);
  float p[K];
  C_OK(tl_predict_ids(p, K, cd, ids.data(), ids.size()));
  const std::vector<float> probs = doc.predict_ids(ids, K);
  EXPECT(same_bits(probs, tl::span<const float>(p)));
  EXPECT(probs[0] > 0.0f && probs[0] < 1.0f);

  // texts through the tokenizer and a vocabulary
  const std::vector<std::string> words = {
      "xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep", "xxwrep",
      "xxup",  "xxmaj", "good",  "bad",   "movie", "!",     "."};
  const std::vector<std::string> texts = {"Good movie!",
                                          "bad bad movie. Unknown words"};
  std::vector<const char *> wp, tp;
  for (const auto &w : words)
    wp.push_back(w.c_str());
  std::vector<size_t> lens;
  for (const auto &s : texts) {
    tp.push_back(s.c_str());
    lens.push_back(s.size());
  }
  tl_vocab *cv = nullptr;
  C_OK(tl_vocab_create(&cv, wp.data(), wp.size()));
  tl_tokenizer *ct = nullptr;
  C_OK(tl_tokenizer_create(&ct, nullptr));
  float pt[2 * K];
  C_OK(tl_predict_texts(pt, K, cd, ct, cv, tp.data(), lens.data(), 2));
  tl::Vocab vocab(words);
  tl::Tokenizer tok;
  const std::vector<float> got = doc.predict_texts(texts, tok, vocab, K);
  EXPECT(same_bits(got, tl::span<const float>(pt)));
  // without a head: encoding only, and prediction is C's state error
  tl::DocEncoder enc_only(enc, o);
  EXPECT(same_bits(enc_only.encode(ids).data, want_kept));
  EXPECT_THROW(enc_only.predict_ids(ids, K), tl::StateError, "head");
  EXPECT_THROW(doc.predict_ids(ids, K + 1), tl::ShapeError, "(1, 4)");
  EXPECT_THROW(doc.encode(tl::span<const std::int64_t>()), tl::InvalidArgument,
               "empty");
  EXPECT_THROW(doc.predict_texts({"fine", "bro\xffken"}, tok, vocab, K),
               tl::FormatError, "text 1: tl_tokenizer_run");
  EXPECT_THROW(doc.predict_texts({}, tok, vocab, K), tl::InvalidArgument,
               "texts is 0");
  o.max_len = 3;
  EXPECT_THROW(tl::DocEncoder(enc, head, o), tl::InvalidArgument, "max_len 3");
  tl::DocEncoder moved = std::move(doc);
  EXPECT_THROW(doc.encode(ids), tl::StateError, "tl::DocEncoder");
  EXPECT(same_bits(moved.predict_ids(ids, K), probs));
  tl_tokenizer_free(ct);
  tl_vocab_free(cv);
  tl_doc_encoder_free(cd);
  tl_model_free(ce);
  tl_model_free(ch);
  return report();
}
