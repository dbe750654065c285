// libtl for C++, text (tl/text.h): tl::Tokenizer, tl::TextCorpus (documents
// tokenized on threads), tl::TokenCounts, tl::Vocab, tl::LabelVocab,
// tl::SentencePiece, the batch loaders tl::LMLoader and tl::ClasLoader
// (range-for over an epoch's batches), the splits and the evaluation
// metrics of the text layer.
#ifndef TL_TEXT_HPP
#define TL_TEXT_HPP

#include <tl/core.hpp>

#include <tl/text.h>

#include <string>
#include <string_view>
#include <vector>

namespace tl {

// tl_tokenizer_options with the defaults (TL_TOKENIZER_OPTIONS_INIT).
struct TokenizerOptions : tl_tokenizer_options {
  TokenizerOptions() noexcept
      : tl_tokenizer_options TL_TOKENIZER_OPTIONS_INIT {}
};
// tl_vocab_options with fastai's defaults (TL_VOCAB_OPTIONS_INIT).
struct VocabOptions : tl_vocab_options {
  VocabOptions() noexcept : tl_vocab_options TL_VOCAB_OPTIONS_INIT {}
};
// tl_lm_loader_options with fastai's defaults (TL_LM_LOADER_OPTIONS_INIT).
struct LMLoaderOptions : tl_lm_loader_options {
  LMLoaderOptions() noexcept : tl_lm_loader_options TL_LM_LOADER_OPTIONS_INIT {}
};
// tl_clas_loader_options with fastai's defaults
// (TL_CLAS_LOADER_OPTIONS_INIT).
struct ClasLoaderOptions : tl_clas_loader_options {
  ClasLoaderOptions() noexcept
      : tl_clas_loader_options TL_CLAS_LOADER_OPTIONS_INIT {}
};

// The index-th special token (tl_text_special), e.g. special(0) ==
// "xxunk"; tl::InvalidArgument for index >= TL_TEXT_NUM_SPECIALS.
inline std::string text_special(std::size_t index) {
  const char *s = tl_text_special(index);
  if (s == nullptr)
    throw InvalidArgument(TL_E_INVALID_ARG,
                          "tl::text_special: index " + std::to_string(index) +
                              " >= " + std::to_string(TL_TEXT_NUM_SPECIALS));
  return s;
}

namespace detail {
// Pointers to the strings' characters, for C calls taking char**; the
// strings must outlive the result.
template <typename S>
std::vector<const char *> c_strs(const std::vector<S> &strings) {
  std::vector<const char *> p;
  p.reserve(strings.size());
  for (const auto &s : strings)
    p.push_back(s.c_str());
  return p;
}
// A string filled by a C call that measures first (out NULL, cap 0) and
// then writes: call(out, cap, out_len).
template <typename F> std::string measured_string(F &&call) {
  std::size_t len = 0;
  check(call(nullptr, 0, &len));
  std::string s(len + 1, '\0');
  check(call(&s[0], s.size(), &len));
  s.resize(len);
  return s;
}
} // namespace detail

// fastai's word tokenizer (tl_tokenizer). Move-only; one thread at a time.
class Tokenizer {
public:
  // A tokenizer with `options` (copied; tl_tokenizer_create).
  explicit Tokenizer(const tl_tokenizer_options &options = TokenizerOptions()) {
    tl_tokenizer *raw = nullptr;
    check(tl_tokenizer_create(&raw, &options));
    h_.reset(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_tokenizer *get() const { return h_.live("tl::Tokenizer"); }
  // Whether the object holds a tokenizer (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  // tl_tokenizer_run: tokenizes text and keeps the tokens (token(),
  // tokens(), TokenCounts::add_run, Vocab::encode_run read them); returns
  // their number.
  std::size_t run(std::string_view text) {
    std::size_t n = 0;
    check(tl_tokenizer_run(&n, get(), text.data(), text.size()));
    return n;
  }
  // The tokens of text, copied (run + tokens()).
  std::vector<std::string> operator()(std::string_view text) {
    run(text);
    return tokens();
  }
  // tl_tokenizer_count: the number of tokens of the last run.
  std::size_t count() const {
    std::size_t n = 0;
    check(tl_tokenizer_count(&n, get()));
    return n;
  }
  // tl_tokenizer_token: a view of the index-th token of the last run, valid
  // until the next run.
  std::string_view token(std::size_t index) const {
    const char *s = nullptr;
    std::size_t len = 0;
    check(tl_tokenizer_token(&s, &len, get(), index));
    return std::string_view(s, len);
  }
  // The tokens of the last run, copied.
  std::vector<std::string> tokens() const {
    std::vector<std::string> v(count());
    for (std::size_t i = 0; i < v.size(); i++)
      v[i] = std::string(token(i));
    return v;
  }

private:
  Handle<tl_tokenizer, tl_tokenizer_free> h_;
};

// Documents tokenized at once on threads (tl_text_corpus); read-only, so
// several threads may read one. Move-only.
class TextCorpus {
public:
  // tl_text_corpus_tokenize: texts tokenized on n_threads threads (1..256;
  // the tokens do not depend on it).
  explicit TextCorpus(
      const std::vector<std::string> &texts, std::size_t n_threads = 1,
      const tl_tokenizer_options &options = TokenizerOptions()) {
    std::vector<const char *> p = detail::c_strs(texts);
    std::vector<std::size_t> lens(texts.size());
    for (std::size_t i = 0; i < texts.size(); i++)
      lens[i] = texts[i].size();
    tl_text_corpus *raw = nullptr;
    // data() of an empty vector may be NULL, which C refuses as "texts
    // NULL": an empty corpus is still valid, so pass a real address
    const char *none = nullptr;
    std::size_t zero = 0;
    check(tl_text_corpus_tokenize(&raw, p.empty() ? &none : p.data(),
                                  lens.empty() ? &zero : lens.data(),
                                  texts.size(), &options, n_threads));
    h_.reset(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_text_corpus *get() const { return h_.live("tl::TextCorpus"); }
  // Whether the object holds a corpus (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // tl_text_corpus_num_docs.
  std::size_t num_docs() const {
    std::size_t n = 0;
    check(tl_text_corpus_num_docs(&n, get()));
    return n;
  }
  // tl_text_corpus_doc_len: the number of tokens of document doc.
  std::size_t doc_len(std::size_t doc) const {
    std::size_t n = 0;
    check(tl_text_corpus_doc_len(&n, get(), doc));
    return n;
  }
  // tl_text_corpus_token: a view, valid while the corpus lives.
  std::string_view token(std::size_t doc, std::size_t index) const {
    const char *s = nullptr;
    std::size_t len = 0;
    check(tl_text_corpus_token(&s, &len, get(), doc, index));
    return std::string_view(s, len);
  }
  // The tokens of document doc, copied.
  std::vector<std::string> doc(std::size_t doc) const {
    std::vector<std::string> v(doc_len(doc));
    for (std::size_t i = 0; i < v.size(); i++)
      v[i] = std::string(token(doc, i));
    return v;
  }

private:
  Handle<tl_text_corpus, tl_text_corpus_free> h_;
};

// Token counts in first-seen order (tl_token_counts). Move-only.
class TokenCounts {
public:
  // Empty counts (tl_token_counts_create).
  TokenCounts() {
    tl_token_counts *raw = nullptr;
    check(tl_token_counts_create(&raw));
    h_.reset(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_token_counts *get() const { return h_.live("tl::TokenCounts"); }
  // Whether the object holds counts (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // tl_token_counts_add: counts tokens (all or nothing).
  TokenCounts &add(const std::vector<std::string> &tokens) {
    std::vector<const char *> p = detail::c_strs(tokens);
    const char *none = nullptr;
    check(tl_token_counts_add(get(), p.empty() ? &none : p.data(), p.size()));
    return *this;
  }
  // tl_token_counts_add_run: counts the tokens of tok's last run.
  TokenCounts &add_run(const Tokenizer &tok) {
    check(tl_token_counts_add_run(get(), tok.get()));
    return *this;
  }
  // tl_token_counts_add_corpus: counts every token of corpus.
  TokenCounts &add_corpus(const TextCorpus &corpus) {
    check(tl_token_counts_add_corpus(get(), corpus.get()));
    return *this;
  }
  // tl_token_counts_size: the number of distinct tokens.
  std::size_t size() const {
    std::size_t n = 0;
    check(tl_token_counts_size(&n, get()));
    return n;
  }
  // tl_token_counts_get: the count of token (0 if never seen).
  std::uint64_t count(const std::string &token) const {
    std::uint64_t n = 0;
    check(tl_token_counts_get(&n, get(), token.c_str()));
    return n;
  }

private:
  Handle<tl_token_counts, tl_token_counts_free> h_;
};

// A vocabulary (tl_vocab): the token of each id. Move-only.
class Vocab {
public:
  // tl_vocab_create: exactly `tokens` (must hold "xxunk").
  explicit Vocab(const std::vector<std::string> &tokens) {
    std::vector<const char *> p = detail::c_strs(tokens);
    detail::expect_nonempty("tl::Vocab", "tokens", p.size());
    tl_vocab *raw = nullptr;
    check(tl_vocab_create(&raw, p.data(), p.size()));
    h_.reset(raw);
  }
  // tl_vocab_create_from_counts: fastai's make_vocab.
  static Vocab from_counts(const TokenCounts &counts,
                           const tl_vocab_options &options = VocabOptions()) {
    tl_vocab *raw = nullptr;
    check(tl_vocab_create_from_counts(&raw, counts.get(), &options));
    return Vocab(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_vocab *get() const { return h_.live("tl::Vocab"); }
  // Whether the object holds a vocabulary (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // tl_vocab_size: the number of ids, "xxfake" padding included.
  std::size_t size() const {
    std::size_t n = 0;
    check(tl_vocab_size(&n, get()));
    return n;
  }
  // tl_vocab_token: the token of id, copied.
  std::string token(std::int64_t id) const {
    const char *s = nullptr;
    check(tl_vocab_token(&s, get(), id));
    return s;
  }
  // tl_vocab_tokens: every token in id order, copied.
  std::vector<std::string> tokens() const {
    const char *const *p = nullptr;
    check(tl_vocab_tokens(&p, get()));
    return std::vector<std::string>(p, p + size());
  }
  // tl_vocab_id: the id of token (xxunk's when unknown).
  std::int64_t id(std::string_view token) const {
    std::int64_t id = 0;
    check(tl_vocab_id(&id, get(), token.data(), token.size()));
    return id;
  }
  // tl_vocab_encode: the ids of tokens.
  std::vector<std::int64_t>
  encode(const std::vector<std::string> &tokens) const {
    std::vector<const char *> p = detail::c_strs(tokens);
    std::vector<std::int64_t> ids(p.size());
    if (!p.empty())
      check(tl_vocab_encode(ids.data(), p.size(), get(), p.data()));
    return ids;
  }
  // tl_vocab_encode_run: the ids of tok's last run.
  std::vector<std::int64_t> encode_run(const Tokenizer &tok) const {
    std::vector<std::int64_t> ids(tok.count());
    check(tl_vocab_encode_run(ids.data(), ids.size(), get(), tok.get()));
    return ids;
  }
  // tl_vocab_encode_doc: the ids of document doc of corpus.
  std::vector<std::int64_t> encode_doc(const TextCorpus &corpus,
                                       std::size_t doc) const {
    std::vector<std::int64_t> ids(corpus.doc_len(doc));
    check(
        tl_vocab_encode_doc(ids.data(), ids.size(), get(), corpus.get(), doc));
    return ids;
  }
  // tl_vocab_decode: the tokens of ids joined by spaces.
  std::string decode(span<const std::int64_t> ids) const {
    tl_vocab *v = get();
    return detail::measured_string(
        [&](char *out, std::size_t cap, std::size_t *len) {
          return tl_vocab_decode(out, cap, len, v, ids.data(), ids.size());
        });
  }

private:
  explicit Vocab(tl_vocab *raw) noexcept : h_(raw) {}
  Handle<tl_vocab, tl_vocab_free> h_;
};

// A label vocabulary (tl_label_vocab): the sorted distinct class labels.
// Immutable; move-only.
class LabelVocab {
public:
  // tl_label_vocab_create: the classes of labels (one per document).
  explicit LabelVocab(const std::vector<std::string> &labels) {
    std::vector<const char *> p = detail::c_strs(labels);
    detail::expect_nonempty("tl::LabelVocab", "labels", p.size());
    tl_label_vocab *raw = nullptr;
    check(tl_label_vocab_create(&raw, p.data(), p.size()));
    h_.reset(raw);
  }
  // tl_label_vocab_from_string: rebuilt from to_string()'s text.
  static LabelVocab from_string(const std::string &text) {
    tl_label_vocab *raw = nullptr;
    check(tl_label_vocab_from_string(&raw, text.c_str()));
    return LabelVocab(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_label_vocab *get() const { return h_.live("tl::LabelVocab"); }
  // Whether the object holds a label vocabulary (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // tl_label_vocab_size: the number of classes.
  std::size_t size() const {
    std::size_t n = 0;
    check(tl_label_vocab_size(&n, get()));
    return n;
  }
  // tl_label_vocab_label: the label of id, copied.
  std::string label(std::int64_t id) const {
    const char *s = nullptr;
    check(tl_label_vocab_label(&s, get(), id));
    return s;
  }
  // tl_label_vocab_encode: the ids of labels (all or nothing).
  std::vector<std::int64_t>
  encode(const std::vector<std::string> &labels) const {
    std::vector<const char *> p = detail::c_strs(labels);
    std::vector<std::int64_t> ids(p.size());
    check(tl_label_vocab_encode(ids.data(), get(), p.data(), p.size()));
    return ids;
  }
  // tl_label_vocab_to_string: the checkpoint text form ("v1;3:neg...").
  std::string to_string() const {
    tl_label_vocab *lv = get();
    return detail::measured_string(
        [&](char *out, std::size_t cap, std::size_t *len) {
          return tl_label_vocab_to_string(out, cap, len, lv);
        });
  }

private:
  explicit LabelVocab(tl_label_vocab *raw) noexcept : h_(raw) {}
  Handle<tl_label_vocab, tl_label_vocab_free> h_;
};

// A SentencePiece model (tl_spm). Every call throws tl::Unsupported when
// libtl was built without SentencePiece. Move-only.
class SentencePiece {
public:
  // tl_spm_load: the model at path.
  explicit SentencePiece(const std::string &path) {
    tl_spm *raw = nullptr;
    check(tl_spm_load(&raw, path.c_str()));
    h_.reset(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_spm *get() const { return h_.live("tl::SentencePiece"); }
  // Whether the object holds a model (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // tl_spm_size: the number of pieces.
  std::size_t size() const {
    std::size_t n = 0;
    check(tl_spm_size(&n, get()));
    return n;
  }
  // tl_spm_piece: the piece of id, copied.
  std::string piece(std::int64_t id) const {
    const char *s = nullptr;
    check(tl_spm_piece(&s, get(), id));
    return s;
  }
  // tl_spm_encode: the ids of text.
  std::vector<std::int64_t> encode(std::string_view text) const {
    std::size_t n = 0;
    check(tl_spm_encode(nullptr, 0, &n, get(), text.data(), text.size()));
    std::vector<std::int64_t> ids(n);
    if (n > 0)
      check(tl_spm_encode(ids.data(), ids.size(), &n, get(), text.data(),
                          text.size()));
    return ids;
  }
  // tl_spm_decode: the text of ids.
  std::string decode(span<const std::int64_t> ids) const {
    tl_spm *m = get();
    return detail::measured_string(
        [&](char *out, std::size_t cap, std::size_t *len) {
          return tl_spm_decode(out, cap, len, m, ids.data(), ids.size());
        });
  }

private:
  Handle<tl_spm, tl_spm_free> h_;
};

namespace detail {
// The C loaders' documents: pointers to each vector and their lengths.
struct DocPtrs {
  std::vector<const std::int64_t *> ptrs;
  std::vector<std::size_t> lens;
  DocPtrs(const char *who, const std::vector<std::vector<std::int64_t>> &docs) {
    expect_nonempty(who, "docs", docs.size());
    for (const auto &d : docs) {
      ptrs.push_back(d.data());
      lens.push_back(d.size());
    }
  }
};
// Range-for over a loader's epoch: begin() takes the first batch, ++ the
// next, and the range ends at the batch that ends the epoch.
template <typename Loader, typename Batch> class EpochRange {
public:
  class iterator {
  public:
    using value_type = Batch;
    using reference = const Batch &;
    using pointer = const Batch *;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;
    iterator() noexcept = default;
    explicit iterator(Loader *l) : loader_(l) { advance(); }
    const Batch &operator*() const noexcept { return batch_; }
    const Batch *operator->() const noexcept { return &batch_; }
    iterator &operator++() {
      advance();
      return *this;
    }
    bool operator==(const iterator &o) const noexcept {
      return loader_ == o.loader_;
    }
    bool operator!=(const iterator &o) const noexcept { return !(*this == o); }

  private:
    void advance() {
      if (!loader_->next(batch_))
        loader_ = nullptr;
    }
    Loader *loader_ = nullptr;
    Batch batch_;
  };
  explicit EpochRange(Loader &l) noexcept : loader_(&l) {}
  iterator begin() { return iterator(loader_); }
  iterator end() noexcept { return iterator(); }

private:
  Loader *loader_;
};
} // namespace detail

// One language-model batch: views of the loader's buffers (valid until its
// next batch), (len, batch_size) int64 ids, time-major.
struct LMBatch {
  // Inputs x[t * batch_size + b].
  span<const std::int64_t> x;
  // Targets: the token after each input.
  span<const std::int64_t> y;
  // T, the window length.
  std::size_t len = 0;
  // B, the rows.
  std::size_t batch_size = 0;
  // The dims (T, B) to pass to Model::forward_ids.
  Shape shape() const { return Shape{len, batch_size}; }
};

// fastai's LMDataLoader (tl_lm_loader). Move-only. `for (const LMBatch &b :
// loader.epoch())` walks the batches of one epoch.
class LMLoader {
public:
  // tl_lm_loader_create over docs (copied), ids in [0, vocab_size).
  LMLoader(const std::vector<std::vector<std::int64_t>> &docs,
           std::size_t vocab_size,
           const tl_lm_loader_options &options = LMLoaderOptions())
      : batch_size_(options.batch_size) {
    detail::DocPtrs d("tl::LMLoader", docs);
    tl_lm_loader *raw = nullptr;
    check(tl_lm_loader_create(&raw, d.ptrs.data(), d.lens.data(), docs.size(),
                              vocab_size, &options));
    h_.reset(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_lm_loader *get() const { return h_.live("tl::LMLoader"); }
  // Whether the object holds a loader (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // tl_lm_loader_next into out: false (out emptied) at the end of an
  // epoch, after which the next call starts the next epoch.
  bool next(LMBatch &out) {
    const std::int64_t *x = nullptr, *y = nullptr;
    std::size_t len = 0;
    check(tl_lm_loader_next(&x, &y, &len, get()));
    out.len = len;
    out.batch_size = len == 0 ? 0 : batch_size_;
    out.x = span<const std::int64_t>(x, len * out.batch_size);
    out.y = span<const std::int64_t>(y, len * out.batch_size);
    return len != 0;
  }
  // The batches up to the end of the current epoch, for range-for.
  detail::EpochRange<LMLoader, LMBatch> epoch() {
    return detail::EpochRange<LMLoader, LMBatch>(*this);
  }
  // tl_lm_loader_restart: the next batches repeat the first epoch's.
  void restart() { check(tl_lm_loader_restart(get())); }
  // tl_lm_loader_row_len: tokens per row.
  std::size_t row_len() const {
    std::size_t n = 0;
    check(tl_lm_loader_row_len(&n, get()));
    return n;
  }
  // tl_lm_loader_epoch: the epochs started so far.
  std::uint64_t epoch_index() const {
    std::uint64_t n = 0;
    check(tl_lm_loader_epoch(&n, get()));
    return n;
  }

private:
  Handle<tl_lm_loader, tl_lm_loader_free> h_;
  std::size_t batch_size_;
};

// One classifier batch: views of the loader's buffers (valid until its next
// batch).
struct ClasBatch {
  // (len, batch_size) ids, time-major, padded.
  span<const std::int64_t> x;
  // batch_size labels.
  span<const std::int64_t> y;
  // The batch's documents (indices into the loader's docs).
  span<const std::size_t> docs;
  // T, the padded length.
  std::size_t len = 0;
  // b, the documents in the batch.
  std::size_t batch_size = 0;
  // The dims (T, b) to pass to Model::forward_ids.
  Shape shape() const { return Shape{len, batch_size}; }
};

// fastai's SortedDL (tl_clas_loader). Move-only. `for (const ClasBatch &b :
// loader.epoch())` walks the batches of one epoch.
class ClasLoader {
public:
  // tl_clas_loader_create over docs and labels (copied; one label per
  // document, else tl::ShapeError).
  ClasLoader(const std::vector<std::vector<std::int64_t>> &docs,
             span<const std::int64_t> labels, std::size_t vocab_size,
             std::size_t n_classes,
             const tl_clas_loader_options &options = ClasLoaderOptions()) {
    detail::DocPtrs d("tl::ClasLoader", docs);
    detail::expect_size("tl::ClasLoader", "labels", labels.size(), docs.size());
    tl_clas_loader *raw = nullptr;
    check(tl_clas_loader_create(&raw, d.ptrs.data(), d.lens.data(),
                                labels.data(), docs.size(), vocab_size,
                                n_classes, &options));
    h_.reset(raw);
  }
  // The C handle (still owned); throws tl::StateError when empty.
  tl_clas_loader *get() const { return h_.live("tl::ClasLoader"); }
  // Whether the object holds a loader (false after a move).
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // tl_clas_loader_next into out: false (out emptied) at the end of an
  // epoch, after which the next call starts the next epoch.
  bool next(ClasBatch &out) {
    const std::int64_t *x = nullptr, *y = nullptr;
    const std::size_t *docs = nullptr;
    std::size_t len = 0, b = 0;
    check(tl_clas_loader_next(&x, &y, &len, &b, &docs, get()));
    if (b == 0)
      len = 0;
    out.len = len;
    out.batch_size = b;
    out.x = span<const std::int64_t>(x, len * b);
    out.y = span<const std::int64_t>(y, b);
    out.docs = span<const std::size_t>(docs, b);
    return b != 0;
  }
  // The batches up to the end of the current epoch, for range-for.
  detail::EpochRange<ClasLoader, ClasBatch> epoch() {
    return detail::EpochRange<ClasLoader, ClasBatch>(*this);
  }
  // tl_clas_loader_restart: the next batches repeat the first epoch's.
  void restart() { check(tl_clas_loader_restart(get())); }

private:
  Handle<tl_clas_loader, tl_clas_loader_free> h_;
};

// tl_text_split_stratified: 1 for the documents that go to validation.
inline std::vector<std::uint8_t>
split_stratified(span<const std::int64_t> labels, std::size_t n_classes,
                 double valid_frac, std::uint64_t seed = 0) {
  std::vector<std::uint8_t> v(labels.size());
  check(tl_text_split_stratified(v.data(), labels.data(), labels.size(),
                                 n_classes, valid_frac, seed));
  return v;
}

// tl_text_subset_per_class: k documents of each class, class by class.
inline std::vector<std::size_t>
subset_per_class(span<const std::int64_t> labels, std::size_t n_classes,
                 std::size_t k, std::uint64_t seed = 0) {
  std::vector<std::size_t> v(k * n_classes);
  check(tl_text_subset_per_class(v.data(), v.size(), labels.data(),
                                 labels.size(), n_classes, k, seed));
  return v;
}

// tl_confusion_matrix: n_classes^2 counts, [true * n_classes + predicted];
// pred and target of one size (tl::ShapeError).
inline std::vector<std::uint64_t>
confusion_matrix(span<const std::int64_t> pred, span<const std::int64_t> target,
                 std::size_t n_classes) {
  detail::expect_size("tl::confusion_matrix", "target", target.size(),
                      pred.size());
  std::vector<std::uint64_t> m(n_classes * n_classes);
  check(tl_confusion_matrix(m.data(), n_classes, pred.data(), target.data(),
                            pred.size()));
  return m;
}

// What tl::classification_metrics returns (tl_classification_metrics).
struct ClassificationMetrics {
  // The fraction predicted right.
  double accuracy = 0.0;
  // The mean of the per-class F1 over all classes.
  double macro_f1 = 0.0;
  // Per class, zero_division = 0.
  std::vector<double> precision;
  // Per class, zero_division = 0.
  std::vector<double> recall;
  // Per class, zero_division = 0.
  std::vector<double> f1;
};

// tl_classification_metrics (scikit-learn's); pred and target of one size.
inline ClassificationMetrics
classification_metrics(span<const std::int64_t> pred,
                       span<const std::int64_t> target, std::size_t n_classes) {
  detail::expect_size("tl::classification_metrics", "target", target.size(),
                      pred.size());
  ClassificationMetrics r;
  r.precision.resize(n_classes);
  r.recall.resize(n_classes);
  r.f1.resize(n_classes);
  check(tl_classification_metrics(&r.accuracy, &r.macro_f1, r.precision.data(),
                                  r.recall.data(), r.f1.data(), n_classes,
                                  pred.data(), target.data(), pred.size()));
  return r;
}

// What tl::lm_batch_metrics returns: sum these over a stream.
struct LMBatchMetrics {
  // The sum of each row's -log softmax at its target.
  double nll_sum = 0.0;
  // Rows whose first maximum is the target.
  std::uint64_t correct = 0;
};

// tl_lm_batch_metrics: logits (targets.size(), vocab) row-major
// (tl::ShapeError when the sizes disagree).
inline LMBatchMetrics lm_batch_metrics(span<const float> logits,
                                       span<const std::int64_t> targets,
                                       std::size_t vocab) {
  if (vocab != 0 && targets.size() > SIZE_MAX / vocab)
    throw ShapeError(TL_E_SHAPE, "tl::lm_batch_metrics: n * vocab overflows");
  detail::expect_size("tl::lm_batch_metrics", "logits", logits.size(),
                      targets.size() * vocab);
  LMBatchMetrics r;
  check(tl_lm_batch_metrics(&r.nll_sum, &r.correct, logits.data(),
                            targets.data(), targets.size(), vocab));
  return r;
}

// tl_perplexity: exp(nll_sum / count).
inline double perplexity(double nll_sum, std::uint64_t count) {
  double v = 0.0;
  check(tl_perplexity(&v, nll_sum, count));
  return v;
}

} // namespace tl

#endif // TL_TEXT_HPP
