// tl::Tokenizer, tl::TextCorpus, tl::TokenCounts, tl::Vocab,
// tl::LabelVocab, the loaders, splits and text metrics against the C API:
// same inputs give the same tokens, ids, batches and numbers, bit for bit;
// bad input throws the tl::Error subclass of the C status.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <cmath>
#include <string>
#include <vector>

static const std::vector<std::string> TEXTS = {
    "Hello World! This movie wasn't GREAT, it's   fine...",
    "I loved this film, it's a GREAT story. <br /> Really really really!",
    "\xc3\x89t\xc3\xa9 \xce\xb5\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce"
    "\xba\xce\xac, don't stop!!!! &amp; go",
    "",
    "short one",
    "The End. The end. the END."};

// The C tokenizer's tokens of text.
static std::vector<std::string> c_tokens(tl_tokenizer *tok,
                                         const std::string &text) {
  size_t n = 0;
  C_OK(tl_tokenizer_run(&n, tok, text.data(), text.size()));
  std::vector<std::string> v;
  for (size_t i = 0; i < n; i++) {
    const char *s = nullptr;
    size_t len = 0;
    C_OK(tl_tokenizer_token(&s, &len, tok, i));
    v.emplace_back(s, len);
  }
  return v;
}

// Synthetic documents of ids in [0, V): lengths and values from a formula.
static std::vector<std::vector<std::int64_t>> make_docs(size_t n, size_t V) {
  std::vector<std::vector<std::int64_t>> docs(n);
  for (size_t d = 0; d < n; d++) {
    docs[d].resize(3 + (d * 7) % 11);
    for (size_t i = 0; i < docs[d].size(); i++)
      docs[d][i] = static_cast<std::int64_t>((d * 13 + i * 5 + 2) % V);
  }
  return docs;
}

static void tokenizer_and_corpus() {
  tl_tokenizer_options to = TL_TOKENIZER_OPTIONS_INIT;
  to.add_eos = 1;
  tl::TokenizerOptions o;
  EXPECT(o.version == TL_TOKENIZER_OPTIONS_VERSION && o.add_bos == 1 &&
         o.add_eos == 0 && o.replace_invalid == 0);
  o.add_eos = 1;
  tl_tokenizer *ct = nullptr;
  C_OK(tl_tokenizer_create(&ct, &to));
  tl::Tokenizer tok(o);
  for (const std::string &t : TEXTS) {
    const std::vector<std::string> want = c_tokens(ct, t);
    EXPECT(tok(t) == want);
    EXPECT(tok.count() == want.size());
    EXPECT(tok.token(0) == "xxbos");
    EXPECT(tok.tokens() == want);
  }
  // the corpus on 1 and 3 threads gives the C corpus's tokens
  std::vector<const char *> p;
  std::vector<size_t> lens;
  for (const std::string &t : TEXTS) {
    p.push_back(t.c_str());
    lens.push_back(t.size());
  }
  tl_text_corpus *cc = nullptr;
  C_OK(tl_text_corpus_tokenize(&cc, p.data(), lens.data(), p.size(), &to, 2));
  for (size_t threads : {size_t(1), size_t(3)}) {
    tl::TextCorpus corpus(TEXTS, threads, o);
    EXPECT(corpus.num_docs() == TEXTS.size());
    for (size_t d = 0; d < TEXTS.size(); d++) {
      size_t n = 0;
      C_OK(tl_text_corpus_doc_len(&n, cc, d));
      EXPECT(corpus.doc_len(d) == n);
      std::vector<std::string> want;
      for (size_t i = 0; i < n; i++) {
        const char *s = nullptr;
        size_t len = 0;
        C_OK(tl_text_corpus_token(&s, &len, cc, d, i));
        want.emplace_back(s, len);
      }
      EXPECT(corpus.doc(d) == want);
      EXPECT(want == c_tokens(ct, TEXTS[d]));
    }
  }
  // counts, vocabulary, encode and decode against C
  tl_token_counts *ck = nullptr;
  C_OK(tl_token_counts_create(&ck));
  C_OK(tl_token_counts_add_corpus(ck, cc));
  tl::TextCorpus corpus(TEXTS, 2, o);
  tl::TokenCounts counts;
  counts.add_corpus(corpus);
  size_t nk = 0;
  C_OK(tl_token_counts_size(&nk, ck));
  EXPECT(counts.size() == nk);
  std::uint64_t c_the = 0;
  C_OK(tl_token_counts_get(&c_the, ck, "the"));
  EXPECT(counts.count("the") == c_the && c_the == 3);
  EXPECT(counts.count("never seen") == 0);
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = 1;
  tl::VocabOptions cvo;
  EXPECT(cvo.min_freq == 3 && cvo.max_vocab == 60000 && cvo.pad_multiple == 8);
  cvo.min_freq = 1;
  tl_vocab *cv = nullptr;
  C_OK(tl_vocab_create_from_counts(&cv, ck, &vo));
  const tl::Vocab vocab = tl::Vocab::from_counts(counts, cvo);
  size_t vs = 0;
  C_OK(tl_vocab_size(&vs, cv));
  EXPECT(vocab.size() == vs && vs % 8 == 0);
  const char *const *ctoks = nullptr;
  C_OK(tl_vocab_tokens(&ctoks, cv));
  const std::vector<std::string> toks = vocab.tokens();
  EXPECT(toks == std::vector<std::string>(ctoks, ctoks + vs));
  EXPECT(vocab.token(2) == "xxbos" && vocab.id("xxmaj") == 8);
  EXPECT(vocab.id("zebra") == 0);
  for (size_t d = 0; d < TEXTS.size(); d++) {
    const std::vector<std::int64_t> ids = vocab.encode_doc(corpus, d);
    std::vector<std::int64_t> want(ids.size());
    C_OK(tl_vocab_encode_doc(want.data(), want.size(), cv, cc, d));
    EXPECT(ids == want);
    EXPECT(vocab.encode(corpus.doc(d)) == want);
    tok.run(TEXTS[d]);
    EXPECT(vocab.encode_run(tok) == want);
    size_t len = 0;
    C_OK(tl_vocab_decode(nullptr, 0, &len, cv, want.data(), want.size()));
    std::string text(len + 1, '\0');
    C_OK(tl_vocab_decode(&text[0], text.size(), nullptr, cv, want.data(),
                         want.size()));
    text.resize(len);
    EXPECT(vocab.decode(ids) == text);
  }
  // a vocabulary from its tokens; counts from a run and from a list
  const tl::Vocab again(toks);
  EXPECT(again.tokens() == toks);
  tl::TokenCounts c2;
  tok.run(TEXTS[0]);
  c2.add_run(tok).add({"extra", "xxbos"});
  EXPECT(c2.count("xxbos") == 2 && c2.count("extra") == 1);
  // errors carry C's status and message
  EXPECT_THROW(tok("ok \xff"), tl::FormatError, "byte offset 3");
  EXPECT_THROW(tok.token(1000), tl::InvalidArgument, "tl_tokenizer_token");
  EXPECT_THROW(tl::TextCorpus({"fine", "bad \xfe"}, 2), tl::FormatError,
               "document 1");
  EXPECT_THROW(tl::TextCorpus(TEXTS, 0), tl::InvalidArgument, "n_threads");
  EXPECT_THROW(tl::Vocab({"a", "b"}), tl::InvalidArgument, "xxunk");
  EXPECT_THROW(tl::Vocab(std::vector<std::string>{}), tl::InvalidArgument,
               "tl::Vocab: tokens is 0");
  const std::int64_t bad[2] = {1, 100000};
  EXPECT_THROW(vocab.decode(bad), tl::InvalidArgument, "ids[1]");
  EXPECT_THROW(vocab.token(-1), tl::InvalidArgument, "-1");
  EXPECT_THROW(tl::text_special(TL_TEXT_NUM_SPECIALS), tl::InvalidArgument,
               "tl::text_special");
  EXPECT(tl::text_special(0) == "xxunk");
  tl::Tokenizer moved = std::move(tok);
  EXPECT(!tok && moved);
  EXPECT_THROW(tok.run("x"), tl::StateError, "tl::Tokenizer: the object");
  EXPECT_THROW(counts.add_run(tok), tl::StateError, "tl::Tokenizer");
  tl_vocab_free(cv);
  tl_token_counts_free(ck);
  tl_text_corpus_free(cc);
  tl_tokenizer_free(ct);
}

static void label_vocab() {
  const std::vector<std::string> labels = {"pos", "neg",   "neu",
                                           "pos", "a:b;c", ""};
  const tl::LabelVocab lv(labels);
  std::vector<const char *> p;
  for (const auto &s : labels)
    p.push_back(s.c_str());
  tl_label_vocab *c = nullptr;
  C_OK(tl_label_vocab_create(&c, p.data(), p.size()));
  size_t n = 0;
  C_OK(tl_label_vocab_size(&n, c));
  EXPECT(lv.size() == n && n == 5);
  for (size_t i = 0; i < n; i++) {
    const char *s = nullptr;
    C_OK(tl_label_vocab_label(&s, c, static_cast<std::int64_t>(i)));
    EXPECT(lv.label(static_cast<std::int64_t>(i)) == s);
  }
  std::vector<std::int64_t> want(labels.size());
  C_OK(tl_label_vocab_encode(want.data(), c, p.data(), p.size()));
  EXPECT(lv.encode(labels) == want);
  size_t len = 0;
  C_OK(tl_label_vocab_to_string(nullptr, 0, &len, c));
  std::string text(len + 1, '\0');
  C_OK(tl_label_vocab_to_string(&text[0], text.size(), nullptr, c));
  text.resize(len);
  EXPECT(lv.to_string() == text && text == "v1;0:5:a:b;c3:neg3:neu3:pos");
  const tl::LabelVocab back = tl::LabelVocab::from_string(text);
  EXPECT(back.to_string() == text);
  EXPECT_THROW(lv.encode({"pos", "maybe"}), tl::InvalidArgument,
               "document 1: label 'maybe'");
  EXPECT_THROW(tl::LabelVocab::from_string("v2;"), tl::FormatError, "v1;");
  EXPECT_THROW(lv.label(5), tl::InvalidArgument, "5");
  tl_label_vocab_free(c);
}

static void lm_loader() {
  const size_t V = 30;
  const auto docs = make_docs(23, V);
  std::vector<const std::int64_t *> p;
  std::vector<size_t> lens;
  for (const auto &d : docs) {
    p.push_back(d.data());
    lens.push_back(d.size());
  }
  tl_lm_loader_options co = TL_LM_LOADER_OPTIONS_INIT;
  co.batch_size = 4;
  co.bptt = 7;
  co.seed = 5;
  co.bos_id = 2;
  tl::LMLoaderOptions o;
  EXPECT(o.batch_size == 64 && o.bptt == 70 && o.variable_length == 1 &&
         o.shuffle == 1 && o.backwards == 0 && o.bos_id == -1 && o.seed == 0);
  o.batch_size = 4;
  o.bptt = 7;
  o.seed = 5;
  o.bos_id = 2;
  tl_lm_loader *c = nullptr;
  C_OK(tl_lm_loader_create(&c, p.data(), lens.data(), p.size(), V, &co));
  tl::LMLoader loader(docs, V, o);
  size_t rl = 0;
  C_OK(tl_lm_loader_row_len(&rl, c));
  EXPECT(loader.row_len() == rl);
  // two epochs, then a restart repeats the first
  for (int round = 0; round < 3; round++) {
    if (round == 2) {
      C_OK(tl_lm_loader_restart(c));
      loader.restart();
      EXPECT(loader.epoch_index() == 0);
    }
    size_t batches = 0, tokens = 0;
    for (const tl::LMBatch &b : loader.epoch()) {
      const std::int64_t *x = nullptr, *y = nullptr;
      size_t len = 0;
      C_OK(tl_lm_loader_next(&x, &y, &len, c));
      EXPECT(b.len == len && b.batch_size == 4);
      EXPECT(b.x.size() == len * 4 && b.y.size() == len * 4);
      EXPECT(same_bits(b.x, tl::span<const std::int64_t>(x, len * 4)));
      EXPECT(same_bits(b.y, tl::span<const std::int64_t>(y, len * 4)));
      EXPECT(b.shape().numel("t") == len * 4);
      batches++;
      tokens += len;
    }
    const std::int64_t *x = nullptr, *y = nullptr;
    size_t len = 1;
    C_OK(tl_lm_loader_next(&x, &y, &len, c)); // C's end of epoch
    EXPECT(len == 0);
    EXPECT(batches > 2 && tokens == rl);
    std::uint64_t ce = 0;
    C_OK(tl_lm_loader_epoch(&ce, c));
    EXPECT(loader.epoch_index() == ce && ce == (round == 1 ? 2u : 1u));
  }
  tl_lm_loader_free(c);
  // bad input: C's checks, and the binding's own
  std::vector<std::vector<std::int64_t>> bad = docs;
  bad[3][1] = static_cast<std::int64_t>(V);
  EXPECT_THROW(tl::LMLoader(bad, V, o), tl::InvalidArgument, "document 3");
  EXPECT_THROW(tl::LMLoader({}, V, o), tl::InvalidArgument,
               "tl::LMLoader: docs is 0");
  o.batch_size = 0;
  EXPECT_THROW(tl::LMLoader(docs, V, o), tl::InvalidArgument, "batch_size");
  tl::LMLoader gone = std::move(loader);
  EXPECT_THROW(loader.row_len(), tl::StateError, "tl::LMLoader");
  tl::LMBatch b;
  EXPECT(gone.next(b) && b.len > 0);
}

static void clas_loader() {
  const size_t V = 25, K = 3;
  const auto docs = make_docs(31, V);
  std::vector<std::int64_t> labels(docs.size());
  for (size_t i = 0; i < labels.size(); i++)
    labels[i] = static_cast<std::int64_t>((i * 2) % K);
  std::vector<const std::int64_t *> p;
  std::vector<size_t> lens;
  for (const auto &d : docs) {
    p.push_back(d.data());
    lens.push_back(d.size());
  }
  tl_clas_loader_options co = TL_CLAS_LOADER_OPTIONS_INIT;
  co.batch_size = 4;
  co.seq_len = 3;
  co.max_len = 9;
  co.seed = 11;
  tl::ClasLoaderOptions o;
  EXPECT(o.batch_size == 64 && o.seq_len == 72 && o.max_len == 0 &&
         o.shuffle == 1 && o.pad_first == 1 && o.pad_id == 1 && o.seed == 0);
  o.batch_size = 4;
  o.seq_len = 3;
  o.max_len = 9;
  o.seed = 11;
  tl_clas_loader *c = nullptr;
  C_OK(tl_clas_loader_create(&c, p.data(), lens.data(), labels.data(), p.size(),
                             V, K, &co));
  tl::ClasLoader loader(docs, labels, V, K, o);
  for (int round = 0; round < 3; round++) {
    if (round == 2) {
      C_OK(tl_clas_loader_restart(c));
      loader.restart();
    }
    size_t seen = 0;
    for (const tl::ClasBatch &b : loader.epoch()) {
      const std::int64_t *x = nullptr, *y = nullptr;
      const size_t *d = nullptr;
      size_t len = 0, n = 0;
      C_OK(tl_clas_loader_next(&x, &y, &len, &n, &d, c));
      EXPECT(b.len == len && b.batch_size == n);
      EXPECT(same_bits(b.x, tl::span<const std::int64_t>(x, len * n)));
      EXPECT(same_bits(b.y, tl::span<const std::int64_t>(y, n)));
      EXPECT(same_bits(b.docs, tl::span<const size_t>(d, n)));
      for (size_t i = 0; i < n; i++)
        EXPECT(b.y[i] == labels[b.docs[i]]);
      seen += n;
    }
    EXPECT(seen == docs.size());
    const std::int64_t *x = nullptr, *y = nullptr;
    size_t len = 0, n = 1;
    C_OK(tl_clas_loader_next(&x, &y, &len, &n, nullptr, c));
    EXPECT(n == 0);
  }
  tl_clas_loader_free(c);
  EXPECT_THROW(tl::ClasLoader(docs,
                              tl::span<const std::int64_t>(labels.data(), 3), V,
                              K, o),
               tl::ShapeError, "tl::ClasLoader: labels has 3 elements");
  std::vector<std::int64_t> bad = labels;
  bad[4] = static_cast<std::int64_t>(K);
  EXPECT_THROW(tl::ClasLoader(docs, bad, V, K, o), tl::InvalidArgument,
               "document 4");
}

static void splits_and_metrics() {
  const size_t K = 3, n = 40;
  std::vector<std::int64_t> labels(n), pred(n);
  for (size_t i = 0; i < n; i++) {
    labels[i] = static_cast<std::int64_t>((i * 7) % K);
    pred[i] = static_cast<std::int64_t>((i * 7 + (i % 4 == 0)) % K);
  }
  std::vector<std::uint8_t> want(n);
  C_OK(tl_text_split_stratified(want.data(), labels.data(), n, K, 0.25, 9));
  EXPECT(tl::split_stratified(labels, K, 0.25, 9) == want);
  std::vector<size_t> sub(2 * K);
  C_OK(tl_text_subset_per_class(sub.data(), sub.size(), labels.data(), n, K, 2,
                                4));
  EXPECT(tl::subset_per_class(labels, K, 2, 4) == sub);
  std::vector<std::uint64_t> cm(K * K);
  C_OK(tl_confusion_matrix(cm.data(), K, pred.data(), labels.data(), n));
  EXPECT(tl::confusion_matrix(pred, labels, K) == cm);
  double acc = 0, mf1 = 0, pr[3], rc[3], f1[3];
  C_OK(tl_classification_metrics(&acc, &mf1, pr, rc, f1, K, pred.data(),
                                 labels.data(), n));
  const tl::ClassificationMetrics m =
      tl::classification_metrics(pred, labels, K);
  EXPECT(same_bits(std::vector<double>{m.accuracy, m.macro_f1},
                   std::vector<double>{acc, mf1}));
  EXPECT(same_bits(m.precision, tl::span<const double>(pr)));
  EXPECT(same_bits(m.recall, tl::span<const double>(rc)));
  EXPECT(same_bits(m.f1, tl::span<const double>(f1)));
  EXPECT(acc == 0.75);
  const size_t V = 5, rows = 6;
  std::vector<float> logits(rows * V);
  std::vector<std::int64_t> targets(rows);
  for (size_t i = 0; i < logits.size(); i++)
    logits[i] = std::sin(static_cast<float>(i) * 0.7f) * 3.0f;
  for (size_t r = 0; r < rows; r++)
    targets[r] = static_cast<std::int64_t>((r * 3) % V);
  double nll = 0;
  std::uint64_t correct = 0;
  C_OK(tl_lm_batch_metrics(&nll, &correct, logits.data(), targets.data(), rows,
                           V));
  const tl::LMBatchMetrics lm = tl::lm_batch_metrics(logits, targets, V);
  EXPECT(same_bits(std::vector<double>{lm.nll_sum}, std::vector<double>{nll}));
  EXPECT(lm.correct == correct);
  double ppl = 0;
  C_OK(tl_perplexity(&ppl, nll, rows));
  EXPECT(same_bits(std::vector<double>{tl::perplexity(lm.nll_sum, rows)},
                   std::vector<double>{ppl}));
  EXPECT_THROW(tl::confusion_matrix(
                   pred, tl::span<const std::int64_t>(labels.data(), 3), K),
               tl::ShapeError, "target has 3");
  EXPECT_THROW(tl::split_stratified(labels, K, 1.5), tl::InvalidArgument,
               "valid_frac");
  EXPECT_THROW(tl::lm_batch_metrics(logits, targets, V + 1), tl::ShapeError,
               "logits has 30");
  logits[7] = NAN;
  EXPECT_THROW(tl::lm_batch_metrics(logits, targets, V), tl::NumericError, "");
  EXPECT_THROW(tl::perplexity(1.0, 0), tl::InvalidArgument, "count");
}

int main() {
  tokenizer_and_corpus();
  label_vocab();
  lm_loader();
  clas_loader();
  splits_and_metrics();
  return report();
}
