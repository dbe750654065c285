/* Prediction and long-document encoding (include/tl/predict.h), on the
 * public model and text APIs only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "tl/predict.h"

struct tl_doc_encoder {
  tl_doc_encoder_options opts;
  tl_model *encoder, *head;
  float *kept; /* (max_len, 1, H) */
  size_t kept_cap, hidden;
  int64_t *ids; /* predict_texts: the ids of one text */
  size_t ids_cap;
};

TLI_VERSION_SIZES(tl_doc_encoder_options_sizes, TL_DOC_ENCODER_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_doc_encoder_options,
                                max_len)); /* version 1 */

tl_status tl_doc_encoder_options_init(tl_doc_encoder_options *out,
                                      unsigned int version) {
  static const tl_doc_encoder_options defaults = TL_DOC_ENCODER_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, tl_doc_encoder_options_sizes,
                          "tl_doc_encoder_options_init");
}

tl_status tl_doc_encoder_create(tl_doc_encoder **out, tl_model *encoder,
                                tl_model *head,
                                const tl_doc_encoder_options *options) {
  const char *fn = "tl_doc_encoder_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, encoder);
  tl_doc_encoder_options options_copy = TL_DOC_ENCODER_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options,
                             tl_doc_encoder_options_sizes, fn, "options"));
  options = &options_copy;
  TLI_CHECK(options->bptt > 0, TL_E_INVALID_ARG,
            "%s: options->bptt must be >= 1 (got 0)", fn);
  TLI_CHECK(options->max_len >= options->bptt, TL_E_INVALID_ARG,
            "%s: options->max_len %zu is below bptt %zu (the last chunk "
            "would not be kept)",
            fn, options->max_len, options->bptt);
  tl_doc_encoder *e = NULL;
  TLI_TRY(tli_alloc_checked((void **)&e, 1, sizeof *e, fn));
  memset(e, 0, sizeof *e);
  e->opts = options_copy;
  e->encoder = encoder;
  e->head = head;
  *out = e;
  return TL_OK;
}

void tl_doc_encoder_free(tl_doc_encoder *enc) {
  if (enc == NULL)
    return;
  tli_free(enc->kept);
  tli_free(enc->ids);
  tli_free(enc);
}

tl_status tl_doc_encoder_encode(const float **out, size_t *out_t, size_t *out_h,
                                tl_doc_encoder *enc, const int64_t *ids,
                                size_t n) {
  const char *fn = "tl_doc_encoder_encode";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, out_t);
  TLI_CHECK_PTR(fn, out_h);
  TLI_CHECK_PTR(fn, enc);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: the document is empty (n 0)", fn);
  TLI_CHECK_PTR(fn, ids);
  const size_t bptt = enc->opts.bptt, max_len = enc->opts.max_len;
  TLI_TRY(tl_model_eval(enc->encoder));
  TLI_TRY(tl_model_reset_state(enc->encoder));
  size_t kept = 0;
  for (size_t i = 0; i < n; i += bptt) {
    const size_t t = n - i < bptt ? n - i : bptt;
    const size_t dims[2] = {t, 1};
    const float *y;
    size_t odims[TL_MODEL_MAX_DIMS], ondim;
    TLI_TRY(tl_model_forward_ids(&y, odims, &ondim, enc->encoder, ids + i, dims,
                                 2));
    TLI_CHECK(ondim == 3 && odims[0] == t && odims[1] == 1, TL_E_SHAPE,
              "%s: the encoder's output is not (T, 1, H) for a (%zu, 1) "
              "chunk",
              fn, t);
    const size_t h = odims[2];
    /* fastai's SentenceEncoder keeps a chunk when sl - i <= max_len. */
    if (n - i > max_len)
      continue;
    if (enc->kept == NULL || enc->hidden != h) {
      size_t cells;
      TLI_CHECK(tli_mul_size(&cells, max_len, h), TL_E_NOMEM,
                "%s: max_len * H overflows size_t", fn);
      float *k = NULL;
      TLI_TRY(tli_alloc_checked((void **)&k, cells, sizeof *k, fn));
      tli_free(enc->kept);
      enc->kept = k;
      enc->hidden = h;
      kept = 0;
    }
    memcpy(enc->kept + kept * h, y, t * h * sizeof *y);
    kept += t;
  }
  TLI_TRY(tl_model_reset_state(enc->encoder));
  *out = enc->kept;
  *out_t = kept;
  *out_h = enc->hidden;
  return TL_OK;
}

tl_status tl_predict_ids(float *out, size_t n_classes, tl_doc_encoder *enc,
                         const int64_t *ids, size_t n) {
  const char *fn = "tl_predict_ids";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, enc);
  TLI_CHECK(enc->head != NULL, TL_E_STATE,
            "%s: the document encoder has no head model", fn);
  TLI_CHECK(n_classes > 0, TL_E_INVALID_ARG,
            "%s: n_classes must be >= 1 (got 0)", fn);
  const float *x;
  size_t t, h;
  TLI_TRY(tl_doc_encoder_encode(&x, &t, &h, enc, ids, n));
  TLI_TRY(tl_model_eval(enc->head));
  const size_t dims[3] = {t, 1, h};
  const float *logits;
  size_t odims[TL_MODEL_MAX_DIMS], ondim;
  TLI_TRY(tl_model_forward(&logits, odims, &ondim, enc->head, x, dims, 3));
  TLI_CHECK(ondim == 2 && odims[0] == 1 && odims[1] == n_classes, TL_E_SHAPE,
            "%s: the head's output is not (1, %zu)", fn, n_classes);
  double m = logits[0], s = 0.0;
  for (size_t k = 1; k < n_classes; k++)
    m = logits[k] > m ? logits[k] : m;
  for (size_t k = 0; k < n_classes; k++)
    s += exp((double)logits[k] - m);
  for (size_t k = 0; k < n_classes; k++)
    out[k] = (float)(exp((double)logits[k] - m) / s);
  return TL_OK;
}

tl_status tl_predict_texts(float *out, size_t n_classes, tl_doc_encoder *enc,
                           tl_tokenizer *tok, const tl_vocab *vocab,
                           const char *const *texts, const size_t *lens,
                           size_t n_texts) {
  const char *fn = "tl_predict_texts";
  TLI_CHECK(out != NULL || n_texts == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL", fn);
  TLI_CHECK_PTR(fn, enc);
  TLI_CHECK_PTR(fn, tok);
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK(texts != NULL || n_texts == 0, TL_E_INVALID_ARG,
            "%s: argument 'texts' is NULL", fn);
  TLI_CHECK(lens != NULL || n_texts == 0, TL_E_INVALID_ARG,
            "%s: argument 'lens' is NULL", fn);
  for (size_t i = 0; i < n_texts; i++) {
    size_t n = 0;
    tl_status s = tl_tokenizer_run(&n, tok, texts[i], lens[i]);
    if (s == TL_OK && n > enc->ids_cap) {
      int64_t *p = NULL;
      s = tli_alloc_checked((void **)&p, n, sizeof *p, fn);
      if (s == TL_OK) {
        tli_free(enc->ids);
        enc->ids = p;
        enc->ids_cap = n;
      }
    }
    if (s == TL_OK)
      s = tl_vocab_encode_run(enc->ids, n, vocab, tok);
    if (s == TL_OK)
      s = tl_predict_ids(out + i * n_classes, n_classes, enc, enc->ids, n);
    if (s != TL_OK) {
      char msg[512];
      snprintf(msg, sizeof msg, "%s", tl_last_error());
      return tli_fail(s, "%s: text %zu: %s", fn, i, msg);
    }
  }
  return TL_OK;
}
